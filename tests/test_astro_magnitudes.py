"""Missing magnitudes from the spectral type (SearchCal's colour tables), checked on real photometry.

The answers carry catalogue B, V (Tycho / Hipparcos) and 2MASS J, H, K with spectral types:
hide some bands, estimate them, compare with the hidden catalogue values.
"""

from __future__ import annotations

import numpy as np
import pytest

from getstar.astro import Band, compute_stars
from getstar.astro.magnitudes import intrinsic_colours
from tests.searchcal_answers import ETA_TAU, HD_32617, answer


def _robust(x: np.ndarray) -> tuple[float, float]:
    x = x[np.isfinite(x)]
    med = float(np.median(x))
    return med, float(1.4826 * np.median(np.abs(x - med)))


def _predict(path, known: str, target: str):  # type: ignore[no-untyped-def]
    ans = answer(path)
    bands = {b: Band(ans.values(b), ans.values(f"e_{b}")) for b in known}
    res = compute_stars(ans.strings("SpType"), bands, plx=ans.values("plx"), e_plx=ans.values("e_Plx"))
    truth = ans.values(target)
    terr = ans.values(f"e_{target}")
    terr = np.where(np.isnan(terr), 0.03, terr)  # the 2011 answer has no errors: 2MASS at V 7-11
    good = ~np.isnan(truth) & (terr < 0.06)
    col = res[target]
    resid = col.value[good] - truth[good]
    z = resid / np.hypot(col.error[good], terr[good])
    return col, good, resid, z


@pytest.mark.parametrize("known, target", [("BV", "K"), ("V", "K"), ("V", "J"), ("K", "V"), ("VK", "H")])
def test_high_latitude_field(known: str, target: str) -> None:
    """HD 32617's field (b = -37 deg, V 7-11): small bias, errors that cover the residuals."""
    col, good, resid, z = _predict(HD_32617, known, target)
    assert good.sum() > 900
    bias, scatter = _robust(resid)
    zbias, zscatter = _robust(z)
    assert abs(bias) < 0.15 and scatter < 0.35, (bias, scatter)
    assert abs(zbias) < 0.6 and 0.2 < zscatter < 1.3, (zbias, zscatter)
    has = ~np.isnan(col.value[good])
    assert has.mean() > 0.95 and (col.confidence[good][has] == 1).all()


def test_reddened_k_selected_field() -> None:
    """ETA_TAU's field (Taurus, K-selected: reddened giants without a luminosity class): B and V
    constrain A_V, the errors cover the residuals; from V alone the bias is large and said by
    the errors (z scatter about 1)."""
    _, good, resid, z = _predict(ETA_TAU, "BV", "K")
    assert good.sum() > 200
    bias, _ = _robust(resid)
    zbias, zscatter = _robust(z)
    assert abs(bias) < 0.4 and zscatter < 1.3 and abs(zbias) < 1.0
    _, _, resid_v, z_v = _predict(ETA_TAU, "V", "K")
    assert _robust(z_v)[1] < 1.5


def test_estimates_only_fill_gaps_and_only_inside_the_tables() -> None:
    res = compute_stars(["K0III", "M8V", None, "C5,4", "K0III"],
                        {"V": Band([5.0, 12.0, 6.0, 7.0, np.nan]), "K": Band([np.nan, np.nan, 4.0, 4.0, 2.3])})
    k, b = res["K"], res["B"]
    assert not np.isnan(k.value[0]) and k.confidence[0] == 1 and k.origin == "computed"
    assert np.isnan(k.value[2]) and np.isnan(k.value[3])  # no (usable) spectral type: nothing
    assert np.isnan(k.value[4]) and k.confidence[4] == 0  # a catalogue K stays the caller's
    assert np.isnan(b.value[1])  # the dwarf table has no B-V beyond M7
    assert not np.isnan(res["V"].value[4])  # V from K
    assert not np.isnan(intrinsic_colours(0, np.array([268.0]))[0, 6])  # but V-K exists there


def test_av_prior_widens_the_errors() -> None:
    near = compute_stars(["K0III"], {"V": Band([5.0], [0.01])}, plx=[20.0], e_plx=[0.5])["K"]
    far = compute_stars(["K0III"], {"V": Band([5.0], [0.01])}, plx=[1.0], e_plx=[0.1])["K"]
    given = compute_stars(["K0III"], {"V": Band([5.0], [0.01])}, av=[1.0], e_av=[0.05])["K"]
    assert near.error[0] < far.error[0]
    assert given.value[0] < near.value[0] - 0.5  # A_V = 1 dims V by 1, K by 0.12: V-K grows

"""Diameters, flags and the interface of getstar.astro: rules, edge cases, invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from getstar.astro import AstroInputError, Band, compute_stars
from getstar.astro import diameters as diam
from getstar.astro.tables import UD_BANDS, extinction_coefficients
from getstar.properties import BY_NAME
from tests.searchcal_answers import ETA_TAU, HD_32617, answer

K0III = {"V": 5.0, "J": 3.0, "H": 2.5, "K": 2.35}  # a K0 giant's colours


def star(sptype: str | None = "K0III", n: int = 1, err: float = 0.02, **mags: float) -> tuple[list, dict]:
    values = {**K0III, **mags}
    bands = {b: Band(np.full(n, v), np.full(n, err)) for b, v in values.items()}
    return [sptype] * n, bands


def test_outputs_are_getstar_properties_with_origin_computed() -> None:
    res = compute_stars(*star())
    assert set(res.columns) <= set(BY_NAME), set(res.columns) - set(BY_NAME)
    for name, col in res.columns.items():
        assert col.origin == "computed"
        assert len(col.value) == 1 and col.confidence.dtype == np.int8, name
        assert (col.error is not None) == (BY_NAME[name].error is not None), name
    assert res["LDD"].value[0] > 0 and res["LDD"].confidence[0] == 3
    assert res["diam_count"].value[0] == 3 and res["diamFlag"].value[0]


def test_extinction_cancels_in_the_diameters() -> None:
    """SearchCal's pseudo-magnitudes: adding A_V x C_band to every band changes no diameter."""
    c = extinction_coefficients()
    base = compute_stars(*star(), estimate_magnitudes=False)
    for av in (0.5, 2.0, 4.0):
        red = compute_stars(*star(**{b: v + av * c[b] for b, v in K0III.items()}), estimate_magnitudes=False)
        for name in ("LDD", "diam_vj", "diam_vh", "diam_vk", "UD_K", "diam_chi2"):
            assert red[name].value[0] == pytest.approx(base[name].value[0], rel=1e-9), (name, av)


def test_a_missing_band_gives_colour_diameters_but_no_ldd() -> None:
    sp, bands = star()
    bands["H"] = Band([np.nan], [np.nan])
    res = compute_stars(sp, bands, estimate_magnitudes=False)
    assert res["diam_count"].value[0] == 2 and not res["diamFlag"].value[0]
    assert np.isnan(res["LDD"].value[0]) and res["LDD"].confidence[0] == 0
    assert not np.isnan(res["diam_vj"].value[0]) and np.isnan(res["diam_vh"].value[0])
    assert res["diamFlagInfo"].value[0] == "REQUIRED[3]: 2"
    assert np.isnan(res["UD_K"].value[0])


@pytest.mark.parametrize("sptype", ["O5V", "B0V", "M9III"])
def test_spectral_types_outside_the_polynomials_give_no_diameter(sptype: str) -> None:
    """The polynomials hold for indices 42..272 (B0.5..M8); SearchCal does not extrapolate."""
    res = compute_stars(*star(sptype), estimate_magnitudes=False)
    assert res["diam_count"].value[0] == 0 and np.isnan(res["LDD"].value[0]) and np.isnan(res["diam_vk"].value[0])


def test_no_spectral_type_uses_the_faint_approach() -> None:
    res = compute_stars(*star(None), estimate_magnitudes=False)
    assert res["diamFlag"].value[0]
    assert res["diamFlagInfo"].value[0].startswith("[FAINT] MIN_CHI2 at SP=")
    assert res["LDD"].confidence[0] <= 2  # MEDIUM at best
    assert res["CalFlag"].value[0] & 1  # bright mode: no spectral type
    assert res["color_table_index"].value[0] == -1 and res["color_table_index_fix"].value[0] >= 42
    assert "/" in res["SpType_JMMC"].value[0]


def test_uncertain_type_is_sampled() -> None:
    res = compute_stars(*star("K0/2III"), estimate_magnitudes=False)
    assert res["diamFlagInfo"].value[0].startswith("[VAR] MIN_CHI2 at SP=")
    assert 196 <= res["color_table_index_fix"].value[0] <= 212


def test_2017_rules_need_magnitude_errors() -> None:
    """SearchCal 2017 left a missing V error unknown (0.1 only for V <= 3): no valid diameter."""
    sp, bands = star()
    bands["V"] = Band([5.0], [np.nan])
    assert np.isnan(compute_stars(sp, bands, method="2017", estimate_magnitudes=False)["LDD"].value[0])
    assert not np.isnan(compute_stars(sp, bands, method="current", estimate_magnitudes=False)["LDD"].value[0])
    bright = {b: Band([v - 3.0], [np.nan if b == "V" else 0.02]) for b, v in K0III.items()}
    assert not np.isnan(compute_stars(sp, bright, method="2017", estimate_magnitudes=False)["LDD"].value[0])


def test_jhk_not_from_2mass() -> None:
    sp, bands = star()
    for b in "JHK":
        bands[b] = Band([K0III[b]], [0.02], is_2mass=[False])
    assert compute_stars(sp, bands, estimate_magnitudes=False)["LDD"].confidence[0] == 2  # MEDIUM
    assert np.isnan(compute_stars(sp, bands, method="2017", estimate_magnitudes=False)["LDD"].value[0])


def test_diameters_from_estimates_are_low_and_say_so() -> None:
    sp, bands = star()
    est = compute_stars(sp, {"V": bands["V"], "J": Band([3.0], [0.1], estimated=[True]),
                             "H": Band([2.5], [0.1], estimated=[True]), "K": Band([2.35], [0.1], estimated=[True])},
                        estimate_magnitudes=False)
    cat = compute_stars(sp, {"V": bands["V"], "J": Band([3.0], [0.1]), "H": Band([2.5], [0.1]),
                             "K": Band([2.35], [0.1])}, estimate_magnitudes=False)
    assert est["LDD"].value[0] == pytest.approx(cat["LDD"].value[0])
    assert est["LDD"].confidence[0] == 1 and cat["LDD"].confidence[0] == 3
    assert est["diamFlagInfo"].value[0].endswith("ESTIMATED[J,H,K]")
    # correlated estimates: the mean is not more precise than the best single colour
    best = min(est[f"diam_{c}"].error[0] / est[f"diam_{c}"].value[0] for c in ("vj", "vh", "vk"))
    assert est["LDD"].error[0] / est["LDD"].value[0] >= best
    assert est["LDD"].error[0] > cat["LDD"].error[0]


def test_magnitudes_are_estimated_where_missing_and_feed_the_diameter() -> None:
    res = compute_stars(["K0III"], {"V": Band([5.0], [0.02])})
    for b in ("J", "H", "K", "B"):
        assert res[b].confidence[0] == 1 and res[b].error[0] > 0.05, b
    assert res["LDD"].confidence[0] == 1 and "ESTIMATED[J,H,K]" in res["diamFlagInfo"].value[0]
    assert "V" not in res  # a catalogue value is never replaced


def test_ud_is_smaller_than_ld_and_teff_follows_the_type() -> None:
    res = compute_stars(["A0V", "K0III", "M2III"], {b: Band([v] * 3, [0.02] * 3) for b, v in K0III.items()},
                        estimate_magnitudes=False)
    for b in UD_BANDS:
        ud = res[f"UD_{b}"].value
        ok = ~np.isnan(ud)
        assert np.all(ud[ok] < res["LDD"].value[ok]) and np.all(ud[ok] > 0.8 * res["LDD"].value[ok]), b
    teff = res["Teff_SpType"].value
    assert teff[0] > teff[1] > teff[2]


def test_calflag_bits() -> None:
    sp, bands = star(n=4)
    res = compute_stars(sp, bands, estimate_magnitudes=False, sbc9=[True, False, False, False],
                        wds=[False, True, True, False], sep1=[np.nan, 1.5, 10.0, np.nan], sep2=[np.nan] * 4,
                        objtypes=[",*,", ",*,", ",*,", ",Mi*,V*,"], xmatch_flag=[0, 0, 1, 0])
    assert list(res["CalFlag"].value) == [2, 2, 8, 4]


def test_inconsistent_diameters_are_flagged() -> None:
    res = compute_stars(*star(J=4.0), estimate_magnitudes=False)  # J far off the K0III colours
    assert res["diam_chi2"].value[0] > 5
    assert res["LDD"].confidence[0] == 1 and res["CalFlag"].value[0] & 1
    assert "INCONSISTENT" in res["diamFlagInfo"].value[0]


def test_bad_input_is_a_named_error() -> None:
    with pytest.raises(AstroInputError):
        compute_stars(["K0III"], {"V": Band([1.0, 2.0])})
    with pytest.raises(AstroInputError):
        compute_stars(["K0III"], {"Q": Band([1.0])})
    with pytest.raises(AstroInputError):
        compute_stars(["K0III"], {"V": Band([1.0])}, method="1999")


def test_empty_input() -> None:
    res = compute_stars([], {"V": Band([])})
    assert res.n == 0 and len(res["LDD"].value) == 0


def _faint(path):  # type: ignore[no-untyped-def]
    ans = answer(path)
    value = np.stack([ans.values(b) for b in "VJHK"], axis=1)
    error = np.stack([ans.values(f"e_{b}") for b in "VJHK"], axis=1)
    n = len(value)
    faint = np.ones(n, dtype=bool)
    return diam.prepare_magnitudes(value, error, np.full(value.shape, 3), faint), np.full(n, -1), faint


@pytest.mark.parametrize("path", [ETA_TAU, HD_32617])
def test_faint_scan_in_float32_equals_float64(path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Real stars taken as faint: the float32 scan gives SearchCal's (float64) results."""
    mags, none, faint = _faint(path)
    monkeypatch.setattr(diam, "FAINT_DTYPE", np.float64)
    ref = diam.compute(mags, none, none, faint)
    monkeypatch.setattr(diam, "FAINT_DTYPE", np.float32)
    got = diam.compute(mags, none, none, faint)
    assert np.array_equal(ref.flag, got.flag) and ref.flag.sum() > 300
    assert np.allclose(got.ldd[ref.flag], ref.ldd[ref.flag], rtol=1e-5)
    assert np.array_equal(got.fixed_index, ref.fixed_index) and np.array_equal(got.ldd_conf, ref.ldd_conf)


@pytest.mark.parametrize("path", [ETA_TAU, HD_32617])
def test_coarse_faint_scan_stays_within_three_percent(path) -> None:  # type: ignore[no-untyped-def]
    """The coarse scan (every 4th index, used where magnitudes are estimates) on real stars."""
    mags, none, faint = _faint(path)
    ref = diam.compute(mags, none, none, faint)
    got = diam.compute(mags, none, none, faint, coarse=np.ones(len(faint), dtype=bool))
    rel = np.abs(got.ldd[ref.flag] / ref.ldd[ref.flag] - 1)
    assert np.array_equal(ref.flag, got.flag)
    assert np.median(rel) < 0.005 and rel.max() < 0.04


mag = st.one_of(st.just(float("nan")), st.floats(-12, 25))
err = st.one_of(st.just(float("nan")), st.floats(0, 1))


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(st.one_of(st.none(), st.text(max_size=12), st.sampled_from(
    ["K0III", "B9/A0V", "M", "G5", "A0V", "K0/1III", "M8III"])), mag, err, mag, err, mag, err, mag, err),
    min_size=1, max_size=8), st.sampled_from(["current", "2017"]))
def test_any_input_gives_finite_or_nan(rows, method: str) -> None:  # type: ignore[no-untyped-def]
    sp = [r[0] for r in rows]
    bands = {b: Band([r[1 + 2 * k] for r in rows], [r[2 + 2 * k] for r in rows]) for k, b in enumerate("VJHK")}
    res = compute_stars(sp, bands, method=method)
    for name, col in res.columns.items():
        assert np.all((col.confidence >= 0) & (col.confidence <= 3)), name
        if col.value.dtype.kind == "f":
            assert not np.any(np.isinf(col.value)), name
            has = col.confidence > 0
            assert not np.any(np.isnan(col.value[has])), name
    ldd = res["LDD"].value
    assert np.all(ldd[~np.isnan(ldd)] > 0)

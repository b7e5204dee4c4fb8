"""getstar.astro against real SearchCal answers, fed with SearchCal's own inputs.

* ETA_TAU (SearchCal server v5.1.0, 2017): the diameter method getstar implements.  With the
  2017 variant every LDD, e_LDD, UD, Teff, logg and CalFlag is SearchCal's; the current
  variant differs only where SearchCal changed since (chi2 over n, the faint approach).
* HD_32617, HIP 1234 (SearchCal v3.x, 2011): a former method (Bonneau et al. 2006 polynomials
  of de-reddened colours); compared as two methods, with looser bounds.
* JMDC as GetStar processed it in 2020: the spectral-type decoding keys.
"""

from __future__ import annotations

import numpy as np
import pytest

from getstar.astro import compute_stars, decode
from getstar.astro.tables import UD_BANDS
from getstar.astro.validate import agreement, inputs_of
from tests.searchcal_answers import ETA_TAU, HD_32617, HIP_1234, JMDC_FITS, answer
from tests.shared_paths import MISSING


def _run(path, method):  # type: ignore[no-untyped-def]
    ans = answer(path)
    return ans, compute_stars(**inputs_of(ans), method=method, estimate_magnitudes=False)


@pytest.mark.parametrize("method", ["2017", "current"])
def test_eta_tau_ldd_and_ud_within_issue_bounds(method: str) -> None:
    ans, res = _run(ETA_TAU, method)
    assert ans.nrows == 394
    for name in ["LDD"] + [f"UD_{b}" for b in UD_BANDS]:
        a = agreement(name, res[name].value, ans.values(name))
        assert a.n_both == a.n_reference == 394, a
        assert a.median <= 0.01 and a.p95 <= 0.03, a


def test_eta_tau_2017_reproduces_searchcal_exactly() -> None:
    """Same inputs, same rules: values agree to the digits SearchCal printed."""
    ans, res = _run(ETA_TAU, "2017")
    for name in ["LDD", "Teff_SpType", "logg_SpType"] + [f"UD_{b}" for b in UD_BANDS]:
        a = agreement(name, res[name].value, ans.values(name))
        assert a.max < 2e-6, a
    a = agreement("e_LDD", res["LDD"].error, ans.values("e_LDD"))
    assert a.n_both == 394 and a.max < 2e-6, a
    theirs = ans.values("diam_chi2")  # printed with 4 decimals
    assert np.all(np.abs(res["diam_chi2"].value - theirs) <= 5.01e-5 + 1e-6 * theirs)
    assert np.array_equal(res["CalFlag"].value, ans.values("CalFlag").astype(int))
    assert np.array_equal(res["diamFlag"].value, ans.values("diamFlag") == 1.0)
    # SearchCal 2017 kept the LDD's confidence HIGH unless chi2 > 5: so does the 2017 variant.
    assert np.array_equal(res["LDD"].confidence, ans.confidence("LDD"))


def test_eta_tau_current_method_chi2_is_over_n() -> None:
    """SearchCal divides chi2 by n (3) since 2024, by n - 1 (2) in 2017: the only change for sure types."""
    ans, old = _run(ETA_TAU, "2017")
    _, new = _run(ETA_TAU, "current")
    sure = (new["color_table_delta"].value == 0) & ~np.isnan(ans.values("diam_chi2"))
    assert sure.sum() > 300
    assert np.allclose(new["diam_chi2"].value[sure], old["diam_chi2"].value[sure] * 2.0 / 3.0, rtol=1e-9)
    assert np.allclose(new["LDD"].value[sure], ans.values("LDD")[sure], rtol=2e-6)


@pytest.mark.parametrize("path", [HD_32617, HIP_1234])
def test_old_searchcal_answers_compared_as_another_method(path) -> None:  # type: ignore[no-untyped-def]
    """SearchCal v3.x gave diam_vk from de-reddened V-K (Bonneau et al. 2006), no LDD and no errors.

    * with the 2017 rules, missing magnitude errors mean no diameter at all (as SearchCal 2017);
    * the current rules (0.35 mag when an error is missing) give an LDD whose median agrees
      with the old diam_vk within 5 % (3 % bias at most), as two calibrations should.
    """
    ans, res17 = _run(path, "2017")
    assert np.isnan(res17["LDD"].value).all()
    _, res = _run(path, "current")
    a = agreement("LDD vs diam_vk", res["LDD"].value, ans.values("diam_vk"))
    assert a.n_both == a.n_reference > 30, a
    assert a.median <= 0.05 and abs(a.bias) <= 0.03, a
    b = agreement("diam_vk vs diam_vk", res["diam_vk"].value, ans.values("diam_vk"))
    assert b.median <= 0.03 and abs(b.bias) <= 0.02, b


def test_jmdc_spectral_types_decode_to_getstar_2020_keys() -> None:
    """Every distinct JMDC spectral type gives SearchCal's colour-table index, delta, class and class delta."""
    if not JMDC_FITS.is_file():
        pytest.skip(f"JMDC file not here: {MISSING}")
    import warnings

    from astropy.io import fits

    with warnings.catch_warnings(), fits.open(JMDC_FITS) as hdul:
        warnings.simplefilter("ignore")
        data = hdul[1].data
        keys = {}
        for row in data:
            keys.setdefault(str(row["SPTYPE"]), tuple(int(row[c]) for c in (
                "COLOR_TABLE_INDEX", "COLOR_TABLE_DELTA", "LUM_CLASS", "LUM_CLASS_DELTA")))
    assert len(keys) > 500
    wrong = {sp: k for sp, k in keys.items() if (decode(sp).color_table_index, decode(sp).color_table_delta,
                                                  decode(sp).lum_class, decode(sp).lum_class_delta) != k}
    assert wrong == {}

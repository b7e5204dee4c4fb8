"""Where the real SearchCal answers are (read in place from ../shared, never copied), and their loaders.

One helper for every astro test: the reading itself is ``getstar.astro.validate.read_answer``
(astropy.io.votable), which ``bench/diameters.py`` uses too.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest

from getstar.astro.validate import SearchCalAnswer, read_answer
from tests.shared_paths import MISSING, SHARED

#: SearchCal server v5.1.0 (2017-06), current diameter method: LDD, e_LDD, chi2, UD_*, Teff/logg.
ETA_TAU = SHARED / "reference" / "getstar-samples" / "sclgui_SearchCal-ETA_TAU.scvot"
#: SearchCal v3.8.1 (2011): the former method (diam_bv / diam_vr / diam_vk on de-reddened colours).
HD_32617 = SHARED / "data" / "searchcal" / "SearchCal-HD_32617.scvot"
#: SearchCal v3.7.5 (2011): the former method.
HIP_1234 = SHARED / "reference" / "getstar-samples" / "aspro_SearchCal-hip1234.scvot"
#: GetStar's 2020 run on JMDC: the whole property set, decoding keys included.
JMDC_FITS = SHARED / "data" / "jmdc" / "JMDC_full_20200730_final_lddUpdated.fits"


@cache
def answer(path: Path) -> SearchCalAnswer:
    """The answer at ``path``, read once per test session; skips when ../shared lacks it."""
    if not path.is_file():
        pytest.skip(f"{path} is not here: {MISSING}")
    return read_answer(path)

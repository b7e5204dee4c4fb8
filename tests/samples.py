"""Sample answers shared by the format tests: the real GetStar Sirius answer mapped onto our
properties, a star of nulls, one of awkward values, and what each should render as."""

from __future__ import annotations

import functools
import math
import warnings
from datetime import UTC, datetime
from typing import Any

import numpy as np
import orjson
import pytest

from getstar.formats import Answer, Meta, render
from getstar.properties import ORIGIN_CODE, STORED
from tests.shared_paths import MISSING, REFERENCE

SAMPLE = REFERENCE / "getstar-samples" / "aspro_getstar-votable_Sirius.vot"

needs_sample = pytest.mark.skipif(not SAMPLE.exists(), reason=f"GetStar Sirius sample not here: {MISSING}")

META = Meta(
    service_version="0.1.0",
    snapshot_version="test-snapshot-1",
    query="name=Sirius",
    request_time=datetime(2025, 12, 1, 10, 11, 12, tzinfo=UTC),
)


# ---------------------------------------------------------------------------------------
# Real data: the GetStar Sirius answer in the resolver's input shape


@functools.cache
def sample_cells() -> tuple[dict[str, Any], dict[int, str], list[str]]:
    """(FIELD name -> cell (None when masked), origin index -> catalogue, FIELD names)."""
    from astropy.io.votable import parse

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = parse(str(SAMPLE)).get_first_table()
    opts = next(p for p in table.params if p.name == "OriginIndexes").values.options
    origins = {int(k): v for k, v in opts}
    arr = table.array
    cells = {f.name: (None if arr.mask[0][i] else arr.data[0][i]) for i, f in enumerate(table.fields)}
    return cells, origins, [f.name for f in table.fields]


def _sample_value(prop: Any, v: Any) -> Any:
    from astropy.coordinates import Angle

    if v is None:
        return None
    if prop.render:  # sexagesimal in the file, degrees in the database
        return float(Angle(str(v), unit="hourangle" if prop.render == "hms" else "deg").deg)
    if prop.datatype in ("int", "long"):  # typed char in the 2021 sample
        return int(v) if str(v).strip() else None
    if prop.datatype == "double":
        return None if math.isnan(v) else float(v)
    if prop.datatype == "boolean":
        return bool(v)
    return str(v) or None


def sirius_star() -> dict[str, Any]:
    """Every stored property the sample has: value, origin code (by catalogue name), confidence,
    error.  2021 convention: an unset int/bool was written ``0`` with ``[0, 0]``."""
    cells, origins, _ = sample_cells()
    star: dict[str, Any] = {"star_id": 1, "main_id": str(cells["SIMBAD"])}
    for p in STORED:
        if p.name not in cells or p.name == "TARGET_ID":
            continue
        o, c = int(cells[p.name + ".origin"]), int(cells[p.name + ".confidence"])
        v = None if (o == 0 and c == 0) else _sample_value(p, cells[p.name])
        star[p.column] = v
        star[p.column + "_o"] = None if v is None else ORIGIN_CODE.get(origins.get(o, ""), o)
        star[p.column + "_c"] = None if v is None else c
        if p.error is not None:
            e = cells.get(p.error.name)
            star[p.column + "_e"] = None if v is None or e is None or math.isnan(e) else float(e)
    return star


def sirius_answer() -> Answer:
    cells, _, _ = sample_cells()
    return Answer("Sirius", "ok", sirius_star(), identifiers=["* alf CMa", "HD 48915", "HIP 32349"])


def null_star() -> dict[str, Any]:
    """Every column present and None (nulls in every datatype)."""
    star: dict[str, Any] = {"star_id": 2, "main_id": "NULL STAR"}
    for p in STORED:
        star[p.column] = star[p.column + "_o"] = star[p.column + "_c"] = None
        if p.error is not None:
            star[p.column + "_e"] = None
    return star


def odd_star() -> dict[str, Any]:
    """One property per datatype with awkward values; everything else absent (missing keys)."""
    return {
        "star_id": 3,
        "main_id": "HD 1 <odd> & \"quoted\" 'single'",
        "p_hd": 1, "p_hd_o": 4, "p_hd_c": 3,                       # int
        "p_gaia": 2**62 + 5, "p_gaia_o": 25, "p_gaia_c": 3,          # long
        "p_diamflag": False, "p_diamflag_o": 2, "p_diamflag_c": 2,   # boolean False (set!)
        "p_sptype": "A0V <&> \"x\" 'y' é", "p_sptype_o": 23, "p_sptype_c": None,
        "p_v": np.float64(3.25), "p_v_o": None, "p_v_c": 1, "p_v_e": float("nan"),  # numpy value
        "p_b": float("nan"), "p_b_o": 4, "p_b_c": 3, "p_b_e": 0.1,   # NaN value = unset
        "p_j": 1e-9, "p_j_o": 99, "p_j_c": 3, "p_j_e": 1.5e20,       # unknown origin code
        "p_k": -0.0, "p_k_o": 14, "p_k_c": 0, "p_k_e": None,
        "ra": 359.99999999999, "ra_o": 25, "ra_c": 3, "ra_e": 0.02,  # rounds to 00 00 00
        "dec": -1e-12, "dec_o": 25, "dec_c": 3, "dec_e": 0.03,       # rounds to +00 00 00
        "p_diam_chi2": 0.08823, "p_diam_chi2_o": 2, "p_diam_chi2_c": 3,
        "p_objtypes": "", "p_objtypes_o": 23, "p_objtypes_c": 3,      # empty string = unset
    }


def several() -> list[Answer]:
    return [
        sirius_answer(),
        Answer("nobody", "not_found", suggestions=["nobodi", "nobody2"]),
        Answer("odd <name> & co", "ok", odd_star(), identifiers=["HD 1"], separation_arcsec=0.25),
        Answer("alf Cen", "ambiguous", candidates=["* alf Cen A", "* alf Cen B"]),
        Answer("null", "ok", null_star(), identifiers=[]),
    ]


# ---------------------------------------------------------------------------------------
# Helpers shared with test_formats_votable.py


def expected_properties(answer: Answer) -> dict[str, dict[str, Any]]:
    """The JSON writer's view of a star: what every other format must agree with."""
    body, _ = render("json", [answer], META)
    return orjson.loads(body)["results"][0]["properties"]


# ---------------------------------------------------------------------------------------
# Sample mapping sanity (the fixtures are what they claim)

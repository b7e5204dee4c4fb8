"""Reading SIMBAD TAP answers: recorded answers, errors, truncation, empty results."""

from __future__ import annotations

import pytest

from getstar.simbad.parse import RAW_COLUMNS, TapFormatError, TapQueryError, error_message, parse_votable, synthetic_oid
from tests.simbad_standin import recorded, sirius_votable


def test_recorded_m1() -> None:
    (m1,) = parse_votable(recorded("tap_query_object_M1.vot"))
    assert m1.main_id == "M   1"  # SIMBAD's spelling, padding kept
    assert m1.values["ra"] == pytest.approx(83.6287) and m1.values["dec"] == pytest.approx(22.0147)
    assert m1.values["coo_err_maj"] == 18500 and m1.values["coo_err_min"] == 18500
    assert m1.matched == ["M   1"] and m1.identifiers == ["M   1"]
    # the recorded query did not select oid: a stable negative one stands in
    assert m1.oid == synthetic_oid("M   1") < 0
    assert set(m1.values) == set(RAW_COLUMNS)
    assert m1.values["pmra"] is None and m1.values["sp_type"] is None


def test_recorded_empty_answer_is_not_found() -> None:
    assert parse_votable(recorded("tap_query_object_TEST_empty.vot")) == []


def test_recorded_cone_answer_with_a_quote_in_the_name() -> None:
    (obj,) = parse_votable(recorded("cone_barnards_star_mivot.vot"))
    assert obj.main_id == "NAME Barnard's Star c"
    assert obj.values["otype"] == "Planet"
    assert obj.values["plx"] == pytest.approx(546.9759)  # SIMBAD's plx_value
    assert obj.values["pmdec"] == pytest.approx(10362.394)


def test_sirius_in_our_layout() -> None:
    (sirius,) = parse_votable(sirius_votable())
    assert sirius.main_id == "* alf CMa"
    assert len(sirius.identifiers) == 63 and "HIP 32349" in sirius.identifiers and "NAME Sirius" in sirius.identifiers
    v = sirius.values
    assert (v["flux_v"], v["flux_v_err"], v["flux_v_qual"]) == (-1.46, None, "C")
    assert (v["plx"], v["plx_qual"], v["rv"], v["rv_qual"]) == (379.21, "A", -5.5, "A")
    assert (v["pmra"], v["pmdec"], v["pm_qual"], v["coo_qual"]) == (-546.01, -1223.07, "A", "A")


def test_query_status_error_raises() -> None:
    with pytest.raises(TapQueryError, match="Could not parse your query"):
        parse_votable(recorded("dachs_query_error.vot"))
    assert "Could not parse" in (error_message(recorded("dachs_query_error.vot")) or "")
    assert error_message(recorded("tap_query_object_M1.vot")) is None


@pytest.mark.parametrize("cut", [0.25, 0.5, 0.9, 0.99])
def test_truncated_votable_is_refused(cut: float) -> None:
    full = recorded("tap_query_object_M1.vot")
    with pytest.raises(TapFormatError):
        parse_votable(full[: int(len(full) * cut)])


@pytest.mark.parametrize("body", [b"", b"   ", b"<html><body>502 Bad Gateway</body></html>", b"\x00\x01garbage"])
def test_not_a_votable_is_refused(body: bytes) -> None:
    with pytest.raises(TapFormatError):
        parse_votable(body)


def test_one_object_per_oid_with_every_matched_identifier() -> None:
    # a batch query can match one object under two names: two rows, one object
    (sirius,) = parse_votable(sirius_votable("HIP 32349", "NAME Sirius"))
    assert sirius.matched == ["HIP 32349", "NAME Sirius"]

"""Output formats: JSON, CSV, negotiation and dispatch (VOTable specifics: test_formats_votable.py).

Stars come from REAL data: GetStar's 2021 answer for Sirius (the reference sample) mapped
into the resolver's input shape, plus hand-made stars with nulls in every datatype.
"""

from __future__ import annotations

import csv
import io

import orjson
import pytest

from getstar.errors import BadRequest, NotAcceptable, NotFound, ServiceUnavailable
from getstar.formats import FORMATS, Answer, choose_format, render, render_error
from getstar.formats.csvfmt import header as csv_header
from getstar.properties import BY_NAME, ORIGIN_CODE, ORIGINS, PROPERTIES, storage_column
from getstar.schema import star_columns as schema_star_columns
from tests.samples import (
    META,
    expected_properties,
    needs_sample,
    null_star,
    odd_star,
    several,
    sirius_answer,
    sirius_star,
)


@needs_sample
def test_sample_mapping_is_real_sirius() -> None:
    star = sirius_star()
    assert star["p_hd"] == 48915 and star["p_hip"] == 32349
    assert star["p_simbad"] == "* alf CMa" and star["p_simbad_o"] == ORIGIN_CODE["SIMBAD"]
    assert star["ra"] == pytest.approx(101.2871385, abs=1e-6)
    assert star["dec"] == pytest.approx(-16.7160753, abs=1e-6)
    assert star["p_plx"] == 379.21 and star["p_plx_e"] == 1.58
    assert star["p_plx_o"] == ORIGIN_CODE["I/311/hip2"]
    assert star["p_gaia"] is None  # unset in 2021 ([0,0])
    assert sum(v is not None for k, v in star.items() if not k.endswith(("_o", "_c", "_e"))) > 60


# ---------------------------------------------------------------------------------------
# JSON


@needs_sample
def test_json_single_star() -> None:
    body, mt = render("json", [sirius_answer()], META)
    assert mt == "application/json"
    doc = orjson.loads(body)
    assert doc["service"] == {"name": "getstar", "version": "0.1.0"}
    assert doc["snapshot"] == "test-snapshot-1"
    assert doc["request"] == {"query": "name=Sirius"}
    # when the document was computed (a cached answer keeps it): not labelled as the request's time
    assert doc["computed_at"] == "2025-12-01T10:11:12+00:00"
    (r,) = doc["results"]
    assert r["query"] == "Sirius" and r["status"] == "ok" and r["main_id"] == "* alf CMa"
    assert r["identifiers"] == ["* alf CMa", "HD 48915", "HIP 32349"]
    assert "separation_arcsec" not in r  # name query
    props = r["properties"]
    assert props["V"] == {"value": -1.121, "origin": "I/280", "confidence": "HIGH", "error": 0.002}
    assert props["HD"] == {"value": 48915, "origin": "I/280", "confidence": "HIGH"}
    assert props["RAJ2000"]["value"] == "06 45 08.913260"  # as GetStar wrote it
    assert props["DEJ2000"]["value"] == "-16 42 57.870999"
    assert props["RA"]["value"] == pytest.approx(101.2871385, abs=1e-6)  # degrees, derived
    assert props["RA"]["origin"] == props["RAJ2000"]["origin"]
    assert props["TARGET_ID"] == {"value": "Sirius", "origin": "USER", "confidence": "HIGH"}
    assert props["diamFlag"]["value"] is True
    assert props["R"]["confidence"] == "LOW"
    assert "GAIA" not in props  # null policy: unset properties are omitted
    assert set(props) <= {p.name for p in PROPERTIES}


def test_json_nulls_nan_and_odd_values() -> None:
    ans = Answer("odd", "ok", odd_star(), separation_arcsec=float("nan"))
    r = orjson.loads(render("json", [ans], META)[0])["results"][0]
    assert r["separation_arcsec"] is None  # NaN -> null
    p = r["properties"]
    assert "B" not in p  # NaN value = unset
    assert "ObjTypes" not in p  # empty string = unset
    assert p["V"] == {"value": 3.25, "origin": None, "confidence": "LOW"}  # NaN error dropped
    assert p["J"]["origin"] == "99" and p["J"]["error"] == 1.5e20
    assert p["GAIA"]["value"] == 2**62 + 5
    assert p["diamFlag"]["value"] is False
    assert p["SpType"]["confidence"] is None
    assert p["RAJ2000"]["value"] == "00 00 00.000000"
    assert p["DEJ2000"]["value"] == "+00 00 00.000000"
    assert p["K"] == {"value": -0.0, "origin": "II/246/out", "confidence": "NO"}
    null = orjson.loads(render("json", [Answer("n", "ok", null_star())], META)[0])["results"][0]
    assert set(null["properties"]) == {"TARGET_ID"}


@needs_sample
def test_json_not_found_ambiguous_and_several() -> None:
    doc = orjson.loads(render("json", several(), META)[0])
    rs = doc["results"]
    assert [r["query"] for r in rs] == ["Sirius", "nobody", "odd <name> & co", "alf Cen", "null"]
    assert [r["status"] for r in rs] == ["ok", "not_found", "ok", "ambiguous", "ok"]
    assert rs[1] == {"query": "nobody", "status": "not_found", "suggestions": ["nobodi", "nobody2"]}
    assert rs[3] == {"query": "alf Cen", "status": "ambiguous", "candidates": ["* alf Cen A", "* alf Cen B"]}
    assert rs[2]["separation_arcsec"] == 0.25
    assert rs[2]["properties"]["TARGET_ID"]["value"] == "odd <name> & co"


@needs_sample
def test_json_results_spliced_one_by_one_are_the_whole_documents_bytes() -> None:
    """write_json serialises each result apart (the lock is released between them): the bytes
    are those of one serialisation of the whole document, stars, misses and NaNs included."""
    for answers in (several(), several()[1:2], []):
        body = render("json", answers, META)[0]
        assert body == orjson.dumps(orjson.loads(body))
        assert len(orjson.loads(body)["results"]) == len(answers)


def _system_and_miss() -> list[Answer]:
    primary = Answer("alf Cen", "ok", sirius_star(), identifiers=["* alf Cen A"], system="* alf Cen",
                     candidates=["* alf Cen A", "* alf Cen B"])
    down = ServiceUnavailable("'Zork' is not in the local snapshot and SIMBAD could not be asked", retry_after=30)
    miss = Answer("Zork", "not_found", suggestions=["Zorx"], error=down)
    return [primary, miss]


@needs_sample
def test_json_flags_a_systems_primary_and_a_miss_simbad_could_not_check() -> None:
    doc = orjson.loads(render("json", _system_and_miss(), META)[0])
    primary, miss = doc["results"]
    assert primary["status"] == "ok" and primary["resolved_as"] == "primary_component"
    assert primary["system"] == "* alf Cen" and primary["candidates"] == ["* alf Cen A", "* alf Cen B"]
    assert miss == {"query": "Zork", "status": "not_found", "suggestions": ["Zorx"], "retry_after": 30,
                    "message": "'Zork' is not in the local snapshot and SIMBAD could not be asked"}
    plain = orjson.loads(render("json", [sirius_answer()], META)[0])["results"][0]
    assert "resolved_as" not in plain and "system" not in plain and "candidates" not in plain


@needs_sample
@pytest.mark.parametrize("dialect", ["votable11", "votable"])
def test_votable_says_primary_component_and_simbad_not_asked(dialect: str) -> None:
    body = render(dialect, _system_and_miss(), META)[0].decode()
    assert '<INFO name="PRIMARY_COMPONENT" value="alf Cen">alf Cen names the multiple system * alf Cen, ' \
           "answered by its primary component * alf CMa; components: * alf Cen A, * alf Cen B</INFO>" in body
    assert '<INFO name="NOT_FOUND" value="Zork">not found in the local snapshot; SIMBAD could not be asked now' \
        in body
    assert body.count("<TR>") == 1


@needs_sample
@pytest.mark.parametrize("dialect", ["votable11", "votable"])
def test_votable_at_an_epoch_says_so(dialect: str) -> None:
    answer = sirius_answer()
    answer.epoch = 2024.5
    body = render(dialect, [answer], META)[0].decode()
    assert '<INFO name="EPOCH" value="J2024.50">' in body and 'epoch="J2024.50"' in body
    plain = render(dialect, [sirius_answer()], META)[0].decode()
    assert 'name="EPOCH"' not in plain and 'epoch="J2000' in plain


def test_json_lone_surrogates_do_not_crash() -> None:
    ans = Answer("bad\ud800name", "ok", {"main_id": "x\udfff", "p_sptype": "A\ud83d", "p_sptype_o": 23})
    r = orjson.loads(render("json", [ans], META)[0])["results"][0]
    assert r["query"] == "bad\ufffdname" and r["properties"]["SpType"]["value"] == "A\ufffd"


@pytest.mark.parametrize(
    ("exc", "status"),
    [(NotFound("Star named 'foo' has not been found"), 404), (BadRequest("bad radius"), 400),
     (ServiceUnavailable("SIMBAD is down", retry_after=30), 503), (RuntimeError("boom"), 500)],
)
def test_json_problem_document(exc: Exception, status: int) -> None:
    body, mt = render_error("json", exc, META)
    assert mt == "application/problem+json"
    doc = orjson.loads(body)
    assert doc["status"] == status
    assert doc["title"] and doc["type"].startswith("urn:getstar:error:")
    assert doc["detail"] == str(exc)
    if status == 503:
        assert doc["retry_after"] == 30


# ---------------------------------------------------------------------------------------
# CSV


def _csv(answers: list[Answer]) -> list[dict[str, str]]:
    body, mt = render("csv", answers, META)
    assert mt.startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8"))))
    assert rows[0] == csv_header()
    assert all(len(r) == len(rows[0]) or len(r) == 2 for r in rows[1:])
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:]]


def test_csv_header() -> None:
    h = csv_header()
    assert h[:3] == ["query", "status", "main_id"]
    assert h[3:7] == ["HD", "HD.origin", "HD.confidence", "HIP"]
    i = h.index("V")
    assert h[i: i + 4] == ["V", "V.origin", "V.confidence", "e_V"]
    assert len(h) == 3 + 3 * len(PROPERTIES) + sum(p.error is not None for p in PROPERTIES)


@needs_sample
def test_csv_values_match_json() -> None:
    answers = several()
    rows = _csv(answers)
    assert len(rows) == len(answers)
    for ans, row in zip(answers, rows, strict=True):
        assert row["query"] == ans.query and row["status"] == ans.status
        if ans.status != "ok":
            assert "main_id" not in row
            continue
        assert row["main_id"] == ans.star["main_id"]  # type: ignore[index]
        props = expected_properties(ans)
        for p in PROPERTIES:
            exp = props.get(p.name)
            if exp is None:
                assert row[p.name] == row[p.name + ".origin"] == row[p.name + ".confidence"] == ""
                continue
            v = exp["value"]
            if isinstance(v, bool):
                assert row[p.name] == ("true" if v else "false")
            elif isinstance(v, float):
                assert float(row[p.name]) == v
            else:
                assert row[p.name] == str(v)
            assert row[p.name + ".origin"] == (exp["origin"] or "")
            assert row[p.name + ".confidence"] == (exp["confidence"] or "")
            if p.error is not None:
                assert row[p.error.name] == ("" if "error" not in exp else repr(exp["error"]))


def test_csv_quoting_and_error() -> None:
    rows = _csv([Answer('a,"b"\nc', "not_found")])
    assert rows[0]["query"] == 'a,"b"\nc'
    body, mt = render_error("csv", NotFound("Star named 'x' has not been found"), META)
    assert mt.startswith("text/csv")
    assert list(csv.reader(io.StringIO(body.decode()))) == [
        ["status", "title", "detail"], ["404", "Not found", "Star named 'x' has not been found"]]


# ---------------------------------------------------------------------------------------
# Negotiation


@pytest.mark.parametrize(
    ("fmt", "accept", "default", "expected"),
    [
        (None, None, "json", "json"),
        ("", "", "json", "json"),
        ("json", "application/x-votable+xml", "votable", "json"),  # explicit wins
        ("VOTABLE", None, "json", "votable"),
        ("votable14", None, "json", "votable"),
        ("xml", None, "json", "votable"),
        ("vot", None, "json", "votable11"),  # GetStar's format=vot
        ("votable11", None, "json", "votable11"),
        (" csv ", None, "json", "csv"),
        ("tsv", None, "json", "csv"),
        ("application/json", None, "votable", "json"),
        (None, "application/x-votable+xml", "json", "votable"),
        (None, "text/xml", "json", "votable"),
        (None, "text/csv", "json", "csv"),
        (None, "application/json", "votable", "json"),
        (None, "*/*", "csv", "csv"),
        (None, "*", "votable", "votable"),
        (None, "text/*", "json", "votable"),  # text/xml and text/csv tie: earlier format order
        (None, "text/*", "csv", "csv"),  # ... or the default when it is among them
        (None, "application/json;q=0.5, text/csv;q=0.8", "json", "csv"),
        (None, "application/json;q=0.5, */*", "json", "votable"),  # json demoted below */*
        (None, "application/json;q=0.5, */*", "votable", "votable"),
        (None, "text/csv, application/json", "votable", "csv"),  # same q: first listed
        (None, "application/json;q=0, */*;q=0.1", "json", "votable"),  # q=0 excludes
        (None, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", "json", "json"),  # browser
        (None, "application/x-votable+xml; version=1.4; q=1.0", "json", "votable"),
    ],
)
def test_choose_format(fmt: str | None, accept: str | None, default: str, expected: str) -> None:
    assert choose_format(fmt, accept, default) == expected


def test_choose_format_legacy_path() -> None:
    assert choose_format("vot", None, "votable11", legacy=True) == "votable11"
    assert choose_format("bogus", None, "votable11", legacy=True) == "votable11"  # GetStar: else vot
    assert choose_format(None, "text/xml", "votable11", legacy=True) == "votable11"
    assert choose_format(None, "application/x-votable+xml", "json", legacy=True) == "votable11"
    assert choose_format(None, "image/png", "votable11", legacy=True) == "votable11"
    java = "text/html, image/gif, image/jpeg, *; q=.2, */*; q=.2"  # HttpURLConnection default
    assert choose_format(None, java, "votable11", legacy=True) == "votable11"


def test_choose_format_errors() -> None:
    with pytest.raises(BadRequest) as e:
        choose_format("fits", None, "json")
    assert all(f in e.value.message for f in FORMATS)
    assert e.value.status_code == 400
    with pytest.raises(NotAcceptable) as e2:
        choose_format(None, "image/png, text/html", "json")
    assert e2.value.status_code == 406 and "application/json" in e2.value.message
    with pytest.raises(ValueError):
        choose_format(None, None, "fits")


#: The media types clients rely on (GetStar's VOTable 1.1 is text/xml: ASPRO2 and SearchCal read it so).
EXPECTED_MEDIA_TYPES = {"json": "application/json", "votable": "application/x-votable+xml",
                        "votable11": "text/xml; charset=UTF-8", "csv": "text/csv; charset=utf-8"}


def test_render_dispatch_and_media_types() -> None:
    answers = [Answer("n", "ok", null_star())]
    assert set(FORMATS) == set(EXPECTED_MEDIA_TYPES)
    for fmt in FORMATS:
        body, mt = render(fmt, answers, META)
        assert isinstance(body, bytes) and body
        assert mt == EXPECTED_MEDIA_TYPES[fmt]
        ebody, emt = render_error(fmt, NotFound("nope"), META)
        assert b"nope" in ebody and emt
    with pytest.raises(ValueError):
        render("fits", answers, META)


def test_properties_subset() -> None:
    subset = (BY_NAME["V"], BY_NAME["RAJ2000"], BY_NAME["TARGET_ID"])
    star = {"p_v": 1.5, "p_v_o": 4, "p_v_c": 3, "ra": 10.0, "ra_o": 25, "ra_c": 3}
    for fmt in FORMATS:
        body, _ = render(fmt, [Answer("q", "ok", star)], META, properties=subset)
        assert b"HD" not in body.replace(b"HD ", b"")
    doc = orjson.loads(render("json", [Answer("q", "ok", star)], META, properties=subset)[0])
    assert set(doc["results"][0]["properties"]) == {"V", "RAJ2000", "TARGET_ID"}


def test_storage_columns_are_database_columns() -> None:
    """Every property (derived ones included) reads a column of the snapshot's star table."""
    columns = {name for name, _type in schema_star_columns()}
    assert [p.name for p in PROPERTIES if p.name != "TARGET_ID" and storage_column(p) not in columns] == []


def test_origin_codes_are_stable() -> None:
    """Origins are stored as codes: USER keeps the code snapshots were written with."""
    assert ORIGINS.index("USER") == 28

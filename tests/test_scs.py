"""IVOA Simple Cone Search 1.03 at /scs: the shape the standard fixes, checked by reading the
answers, by ``stilts votlint`` and by a real VO client (pyvo's SCSService)."""

from __future__ import annotations

import io
import shutil
import subprocess
import warnings
from pathlib import Path

import httpx
import pytest
import pyvo
from astropy.io.votable import parse

SIRIUS = (101.2871553, -16.7161159)
VOTLINT = shutil.which("stilts")


def get(live_server, **params: object) -> httpx.Response:  # type: ignore[no-untyped-def]
    return httpx.get(f"{live_server.url}/scs", params=params, timeout=30)


def fields_by_ucd(body: bytes) -> dict[str, list[str]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = parse(io.BytesIO(body)).get_first_table()
    out: dict[str, list[str]] = {}
    for f in table.fields:
        out.setdefault(f.ucd or "", []).append(f.name)
    return out


def rows(body: bytes) -> list[dict[str, object]]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = parse(io.BytesIO(body)).get_first_table().to_table(use_names_over_ids=True)
    return [dict(zip(table.colnames, r, strict=True)) for r in table]


@pytest.mark.parametrize("verb", [1, 2, 3])
def test_one_field_each_for_id_ra_dec(live_server, verb: int) -> None:  # type: ignore[no-untyped-def]
    r = get(live_server, RA=SIRIUS[0], DEC=SIRIUS[1], SR=0.01, VERB=verb)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/xml")
    assert b'<VOTABLE version="1.1"' in r.content
    ucds = fields_by_ucd(r.content)
    assert ucds["ID_MAIN"] == ["ID"] and ucds["POS_EQ_RA_MAIN"] == ["RA"] and ucds["POS_EQ_DEC_MAIN"] == ["DEC"]
    found = rows(r.content)
    assert found[0]["ID"] == "* alf CMa"
    assert found[0]["RA"] == pytest.approx(SIRIUS[0], abs=1e-4)


def test_verbosity_selects_columns(live_server) -> None:  # type: ignore[no-untyped-def]
    counts = [sum(len(v) for v in fields_by_ucd(get(live_server, RA=SIRIUS[0], DEC=SIRIUS[1], SR=0.01,
                                                         VERB=v).content).values()) for v in (1, 2, 3)]
    assert counts[0] == 3 and counts[0] < counts[1] < counts[2]
    verb3 = rows(get(live_server, RA=SIRIUS[0], DEC=SIRIUS[1], SR=0.01, VERB=3).content)[0]
    assert verb3["V.confidence"] in ("LOW", "MEDIUM", "HIGH") and verb3["V.origin"]
    assert verb3["HD"] == 48915


def test_sr_zero_is_metadata(live_server) -> None:  # type: ignore[no-untyped-def]
    r = get(live_server, RA=SIRIUS[0], DEC=SIRIUS[1], SR=0)
    assert r.status_code == 200 and 'nrows="0"' in r.text and "<TR>" not in r.text
    assert fields_by_ucd(r.content)["ID_MAIN"] == ["ID"]


def test_parameter_names_are_case_insensitive_and_maxrec_caps(live_server) -> None:  # type: ignore[no-untyped-def]
    r = get(live_server, ra=SIRIUS[0], dec=SIRIUS[1], sr=0.5, MAXREC=3)
    assert r.text.count("<TR>") == 3 and '<INFO name="QUERY_STATUS" value="OVERFLOW"/>' in r.text


@pytest.mark.parametrize("params, words", [
    ({"DEC": 1, "SR": 0.1}, "RA is required"),
    ({"RA": "abc", "DEC": 1, "SR": 0.1}, "RA must be a decimal number"),
    ({"RA": 400, "DEC": 1, "SR": 0.1}, "RA must be within"),
    ({"RA": 1, "DEC": 95, "SR": 0.1}, "DEC must be within"),
    ({"RA": 1, "DEC": 5, "SR": -1}, "SR must not be negative"),
    ({"RA": 1, "DEC": 5, "SR": 30}, "SR must be at most"),
    ({"RA": 1, "DEC": 5, "SR": "nan"}, "finite"),
    ({"RA": 1, "DEC": 5, "SR": 0.1, "VERB": 7}, "VERB must be 1, 2 or 3"),
    ({"RA": "360.0000001", "DEC": 1, "SR": 0.1}, "got 360.0000001"),  # not rounded to 360
    ({"RA": 1, "DEC": 5, "SR": 0.1, "MAXREC": "inf"}, "MAXREC must be a finite number, got"),  # no degrees
    ({"RA": 1, "DEC": 5, "SR": 0.1, "MAXREC": "2.5"}, "MAXREC must be a whole number &gt;= 0, got 2.5"),
])
def test_errors_are_votables_with_an_error_info(live_server, params: dict[str, object],  # type: ignore[no-untyped-def]
                                                words: str) -> None:
    r = get(live_server, **params)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/xml")
    assert '<INFO name="Error" value="' in r.text and words in r.text


@pytest.mark.skipif(VOTLINT is None, reason="stilts is not installed (Debian package stilts)")
@pytest.mark.parametrize("query", [
    {"RA": SIRIUS[0], "DEC": SIRIUS[1], "SR": 0.05, "VERB": 1},
    {"RA": SIRIUS[0], "DEC": SIRIUS[1], "SR": 0.05, "VERB": 2},
    {"RA": SIRIUS[0], "DEC": SIRIUS[1], "SR": 0.05, "VERB": 3},
    {"RA": SIRIUS[0], "DEC": SIRIUS[1], "SR": 0},
    {"RA": "abc", "DEC": 1, "SR": 0.1},
])
def test_votlint_is_silent(live_server, tmp_path: Path, query: dict[str, object]) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "answer.xml"
    path.write_bytes(get(live_server, **query).content)
    assert VOTLINT is not None
    run = subprocess.run([VOTLINT, "votlint", f"votable={path}"], capture_output=True, text=True, timeout=120)
    report = (run.stdout + run.stderr).strip()
    assert run.returncode == 0 and report == "", report


def test_pyvo_scs_service(live_server) -> None:  # type: ignore[no-untyped-def]
    service = pyvo.dal.SCSService(f"{live_server.url}/scs")
    results = service.search(pos=SIRIUS, radius=0.01)
    record = results.getrecord(0)
    assert record.id == "* alf CMa"
    assert record.pos.ra.deg == pytest.approx(SIRIUS[0], abs=1e-4)
    assert "separation" in results.fieldnames
    assert service.search(pos=SIRIUS, radius=0.01, verbosity=1).fieldnames == ("ID", "RA", "DEC")
    with pytest.raises(pyvo.dal.DALQueryError, match="SR must be at most"):
        service.search(pos=SIRIUS, radius=30)


VEGA = (279.2347, 38.7837)


def ids(r: httpx.Response) -> list[object]:
    assert r.status_code == 200, r.text
    return [row["ID"] for row in rows(r.content)]


def test_answers_are_cached_by_the_parameters_as_read(live_server) -> None:  # type: ignore[no-untyped-def]
    """Parameters are read in any case, the first of each: two queries that read differently
    never share a cached answer (one requester's cone served to another), and an answer says
    the parameters it read, not another requester's query string."""
    sirius = f"RA={SIRIUS[0]}&DEC={SIRIUS[1]}&SR=0.02"
    # Vega's cone first (lower-case, first), then the upper-case names of Sirius's
    first = httpx.get(f"{live_server.url}/scs?ra={VEGA[0]}&dec={VEGA[1]}&{sirius}", timeout=30)
    assert ids(first)[0] == "* alf Lyr"
    second = httpx.get(f"{live_server.url}/scs?{sirius}", timeout=30)
    assert ids(second)[0] == "* alf CMa"
    assert second.headers["etag"] != first.headers["etag"]
    assert b"ra=" not in second.content and f"RA={SIRIUS[0]!r}".encode() in second.content
    # all lower-case: not one (empty) key for every cone
    low = [httpx.get(f"{live_server.url}/scs?ra={ra}&dec={dec}&sr=0.01", timeout=30) for ra, dec in (SIRIUS, VEGA)]
    assert [ids(r)[0] for r in low] == ["* alf CMa", "* alf Lyr"]
    # the same cone asked again in another spelling is the same answer (one entry, one ETag)
    again = httpx.get(f"{live_server.url}/scs?Ra={SIRIUS[0]}&dEc={SIRIUS[1]}&sr=0.02&verb=2", timeout=30)
    assert again.headers["etag"] == second.headers["etag"]


def test_small_cones_are_never_refused_as_big(snapshot_dsn: str, settings, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """A cone is big (``admitted``, a few at once) by the stars it may hold, not by its limit
    alone: an SCS client's parallel cones of 36" (MAXREC 10,000 by default) are all answered
    while no big request can get in; cones asking for many stars, or searching wide, wait (503,
    Retry-After)."""
    import asyncio

    from getstar import offload
    from tests.conftest import LiveServer

    monkeypatch.setattr(offload, "BIG_AT_ONCE", 0)  # the server's new loop gets no place for a big request
    monkeypatch.setattr(offload, "LANE_WAIT", 0.3)
    server = LiveServer(snapshot_dsn, settings)
    server.start()
    try:
        async def many() -> list[httpx.Response]:
            async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
                cones = [client.get("/scs", params={"RA": SIRIUS[0] + k / 3600, "DEC": SIRIUS[1], "SR": 0.01})
                         for k in range(3 * offload.LANE_PER_CLIENT)]  # more than one client's share
                return await asyncio.gather(*cones)

        answers = asyncio.run(many())
        assert [r.status_code for r in answers] == [200] * len(answers)
        assert all(ids(r)[0] == "* alf CMa" for r in answers)
        # /v1/stars: a cone of 10' asking for 20 stars goes straight in; asking for 100 (many stars),
        # or searching a degree (the database's cost) whatever its limit, waits for a place
        def cone(radius: str, limit: int) -> httpx.Response:
            return httpx.get(f"{server.url}/v1/stars", params={"ra": SIRIUS[0], "dec": SIRIUS[1], "radius": radius,
                                                                 "limit": limit}, timeout=30)

        assert cone("10arcmin", 20).status_code == 200
        for big in (cone("10arcmin", 100), cone("1deg", 5), cone("1deg", 100)):
            assert big.status_code == 503 and int(big.headers["retry-after"]) > 0
        assert httpx.get(f"{server.url}/scs", params={"RA": SIRIUS[0], "DEC": SIRIUS[1], "SR": 1},
                         timeout=30).status_code == 503
    finally:
        server.stop()

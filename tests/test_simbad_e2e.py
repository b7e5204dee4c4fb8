"""End to end, over real HTTP: a name the snapshot lacks is fetched from a SIMBAD stand-in
(recorded answers, replayed on a loopback port), stored, and served locally from then on.

Two databases: the shared real snapshot (the learned star is removed afterwards), and a
Hipparcos-only snapshot of this module's own, where learned objects must attach to existing
stars, survive ``getstar ingest rebuild``, and where the bulk ingest runs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from getstar.config import Settings
from getstar.ingest.pipeline import run_ingest
from getstar.properties import ORIGIN_CODE
from tests.conftest import LiveServer, fetch
from tests.simbad_standin import Replay, StandinServer, recorded, sirius_votable

SIMBAD = ORIGIN_CODE["SIMBAD"]


@pytest.fixture(scope="module")
def standin() -> Iterator[StandinServer]:
    replay = Replay({
        "M1": recorded("tap_query_object_M1.vot"),
        "NAME Sirius": lambda: sirius_votable("NAME Sirius"),
        "Renson 13090": sirius_votable,
        "TIC 322899250": sirius_votable,
        "NAME Barnard's Star c": recorded("cone_barnards_star_mivot.vot"),
    })
    server = StandinServer(replay)
    server.start()
    yield server
    server.stop()


def with_fallback(settings: Settings, standin: StandinServer, **changes: Any) -> Settings:
    return replace(settings, simbad_enabled=True, simbad_tap_url=standin.url, **changes)


def get(server: LiveServer, **params: str) -> httpx.Response:
    return httpx.get(server.url + "/v1/stars", params=params, timeout=30)


# -- the shared real snapshot ------------------------------------------------------------------

def test_unknown_name_is_fetched_stored_then_served_locally(snapshot_dsn: str, settings: Settings,
                                                            standin: StandinServer) -> None:
    assert not fetch(snapshot_dsn, "SELECT 1 FROM live.ident WHERE key = 'M 1'"), "M 1 must not be in the snapshot"
    had_raw = fetch(snapshot_dsn, "SELECT to_regclass('raw.simbad_learned') IS NOT NULL AS t")[0]["t"]
    started = datetime.now(UTC)
    server = LiveServer(snapshot_dsn, with_fallback(settings, standin))
    server.start()
    try:
        calls = standin.replay.calls
        cone = {"ra": "83.6287", "dec": "22.0145", "radius": "20arcsec"}
        before = get(server, **cone)  # cached: M1 is not there yet
        assert before.status_code == 200 and "M   1" not in [a["main_id"] for a in before.json()["results"]]
        r = get(server, name="M1")
        assert r.status_code == 200, r.text
        (answer,) = r.json()["results"]
        assert answer["status"] == "ok" and answer["main_id"] == "M   1"
        assert answer["properties"]["RAJ2000"]["origin"] == "SIMBAD"
        assert answer["properties"]["SIMBAD"]["value"] == "M   1"
        assert standin.replay.calls == calls + 1
        # from now on local: other spellings, other formats, no SIMBAD call
        for params in ({"name": "M1"}, {"name": "m 1"}, {"name": "M   1", "format": "votable11"}):
            again = get(server, **params)
            assert again.status_code == 200, again.text
        # learning changed the live snapshot in place: no cached answer may hide the new star
        deadline = time.monotonic() + 5
        while "M   1" not in [a["main_id"] for a in get(server, **cone).json()["results"]]:
            assert time.monotonic() < deadline, "a cached cone hides the learned star"
            time.sleep(0.05)
        assert get(server, **cone).json()["snapshot"] != before.json()["snapshot"]
        legacy = httpx.get(server.url + "/sclwsGetStarProxy.php", params={"star": "M1"}, timeout=30)
        assert legacy.status_code == 200 and "M   1" in legacy.text
        assert standin.replay.calls == calls + 1
        (row,) = fetch(snapshot_dsn,
                       "SELECT star_id, ra_o, ra_c, ra, fetched_at FROM live.star WHERE main_id = 'M   1'")
        assert row["ra_o"] == SIMBAD and row["fetched_at"] >= started and row["ra"] == pytest.approx(83.6287)
        assert row["ra_c"] == 2  # no coo_qual in the recorded answer: MEDIUM, as the build does
        learned = fetch(snapshot_dsn, "SELECT main_id, fetched_at FROM raw.simbad_learned WHERE main_id = 'M   1'")
        assert len(learned) == 1
        health = httpx.get(server.url + "/health", timeout=30).json()["simbad"]
        assert health["breaker"]["state"] == "closed" and health["last_error"] is None
        assert health["counters"]["calls"] == 1 and health["counters"]["hits"] == 1
        assert health["counters"]["learned"] == 1
    finally:
        server.stop()
        fetch(snapshot_dsn,
              "DELETE FROM live.ident WHERE star_id IN (SELECT star_id FROM live.star WHERE main_id = 'M   1')")
        fetch(snapshot_dsn, "DELETE FROM live.star WHERE main_id = 'M   1'")
        if had_raw:
            fetch(snapshot_dsn, "DELETE FROM raw.simbad_learned_ident WHERE fetched_at >= $1", started)
            fetch(snapshot_dsn, "DELETE FROM raw.simbad_learned WHERE fetched_at >= $1", started)
        else:
            fetch(snapshot_dsn, "DROP TABLE IF EXISTS raw.simbad_learned, raw.simbad_learned_ident")


def test_a_name_simbad_does_not_know_is_404_then_remembered(snapshot_dsn: str, settings: Settings,
                                                            standin: StandinServer) -> None:
    server = LiveServer(snapshot_dsn, with_fallback(settings, standin))
    server.start()
    try:
        calls = standin.replay.calls
        r = get(server, name="Betelgeuze")
        assert r.status_code == 404 and "NAME Betelgeuse" in r.json()["suggestions"]
        assert standin.replay.calls == calls + 1
        assert get(server, name="betelgeuze").status_code == 404
        assert standin.replay.calls == calls + 1  # the negative cache answered
        assert httpx.get(server.url + "/health").json()["simbad"]["counters"]["negative_cache_hits"] == 1
    finally:
        server.stop()


# -- a snapshot of our own: attach, single flight, rebuild, bulk -------------------------------

@pytest.fixture(scope="module")
def hip_dsn(make_database: Any, settings: Settings) -> str:
    dsn: str = make_database("simbad_learning")
    asyncio.run(run_ingest(dsn, settings, "hipparcos", [], progress=lambda _label: None))
    return dsn


def test_learned_objects_attach_to_existing_stars_and_survive_a_rebuild(
        hip_dsn: str, settings: Settings, standin: StandinServer) -> None:
    stars_before = fetch(hip_dsn, "SELECT count(*) AS n FROM live.star")[0]["n"]
    (sirius,) = fetch(hip_dsn, "SELECT star_id FROM live.star WHERE p_hip = 32349")
    server = LiveServer(hip_dsn, with_fallback(settings, standin))
    server.start()
    try:
        calls = standin.replay.calls
        m1 = get(server, name="M1").json()["results"][0]
        assert m1["main_id"] == "M   1"
        s = get(server, name="Sirius").json()["results"][0]  # SIMBAD knows it as NAME Sirius
        assert standin.replay.calls == calls + 2
        # Sirius is HIP 32349 of the snapshot: the star gets SIMBAD's identifiers and, as the
        # build's merge gives it, SIMBAD's main identifier; no duplicate
        assert s["main_id"] == "* alf CMa" and s["properties"]["HIP"]["value"] == 32349
        assert {"* alf CMa", "NAME Sirius", "HD  48915", "2MASS J06450887-1642566"} <= set(s["identifiers"])
        props = s["properties"]
        assert props["V_SIMBAD"] == {"value": -1.46, "origin": "SIMBAD", "confidence": "MEDIUM"}
        assert props["V"]["origin"] == "SIMBAD" and props["V"]["confidence"] == "MEDIUM"  # quality C
        assert props["plx"]["origin"] == "I/311/hip2"  # Hipparcos' own value is not overwritten
        assert fetch(hip_dsn, "SELECT count(*) AS n FROM live.star")[0]["n"] == stars_before + 1
        (row,) = fetch(hip_dsn, "SELECT star_id, fetched_at FROM live.star WHERE p_hip = 32349")
        assert row["star_id"] == sirius["star_id"] and row["fetched_at"] is not None
        assert get(server, name="HD 48915").json()["results"][0]["main_id"] == "* alf CMa"
        assert standin.replay.calls == calls + 2  # HD 48915 came with SIMBAD's identifiers
    finally:
        server.stop()

    asyncio.run(run_ingest(hip_dsn, settings, "rebuild", [], progress=lambda _label: None))
    server = LiveServer(hip_dsn, with_fallback(settings, standin))
    server.start()
    try:
        calls = standin.replay.calls
        m1 = get(server, name="M1").json()["results"][0]
        assert m1["main_id"] == "M   1" and m1["properties"]["RAJ2000"]["origin"] == "SIMBAD"
        s = get(server, name="Sirius").json()["results"][0]
        assert s["main_id"] == "* alf CMa"  # the rebuild merged SIMBAD's object into HIP 32349 (by HIP)
        assert s["properties"]["HIP"]["value"] == 32349
        assert standin.replay.calls == calls
        assert fetch(hip_dsn, "SELECT count(*) AS n FROM live.star WHERE p_hip = 32349")[0]["n"] == 1
        assert fetch(hip_dsn, "SELECT count(*) AS n FROM live.star")[0]["n"] == stars_before + 1
    finally:
        server.stop()


def test_concurrent_requests_for_one_missing_name_make_one_query_and_one_star(
        hip_dsn: str, settings: Settings, standin: StandinServer) -> None:
    server = LiveServer(hip_dsn, with_fallback(settings, standin))
    server.start()
    standin.mode, standin.delay = "slow", 0.5  # everyone arrives while the one query is out
    try:
        calls = standin.replay.calls

        async def burst() -> list[httpx.Response]:
            async with httpx.AsyncClient(timeout=30) as client:
                return await asyncio.gather(*(client.get(server.url + "/v1/stars",
                                                         params={"name": "NAME Barnard's Star c"})
                                              for _ in range(30)))

        stars_before = fetch(hip_dsn, "SELECT count(*) AS n FROM live.star")[0]["n"]
        answers = asyncio.run(burst())
        assert all(r.status_code == 200 for r in answers), answers[0].text
        assert standin.replay.calls == calls + 1
        # the recorded object (no HIP/Gaia identifier) sits within 1" of Barnard's star, which has
        # no SIMBAD identity in this snapshot: it attaches there, and names it, as the build's
        # position merge does (a rebuild gives the same star)
        assert {r.json()["results"][0]["main_id"] for r in answers} == {"NAME Barnard's Star c"}
        assert {r.json()["results"][0]["properties"]["HIP"]["value"] for r in answers} == {87937}
        assert "NAME Barnard's Star c" in answers[0].json()["results"][0]["identifiers"]
        assert fetch(hip_dsn, "SELECT count(*) AS n FROM live.star")[0]["n"] == stars_before
    finally:
        standin.mode = "ok"
        server.stop()


@pytest.fixture(scope="module")
def small_dsn(make_database: Any, settings: Settings) -> str:
    """100 synthetic stars ('SYN 1'...): a snapshot without any of the recorded objects."""
    dsn: str = make_database("simbad_bulk")
    asyncio.run(run_ingest(dsn, settings, "synthetic", [], progress=lambda _label: None, rows=100))
    return dsn


def test_bulk_ingest_of_names(small_dsn: str, settings: Settings, standin: StandinServer, tmp_path: Path) -> None:
    names = tmp_path / "names.txt"
    names.write_text("# targets\nSYN 1\n\nM1\nNAME Barnard's Star c\nZork Prime\nm1\n12 34 56 +12 34 56\n")
    calls = standin.replay.calls
    version, report = asyncio.run(run_ingest(small_dsn, with_fallback(settings, standin), "simbad-names", [names],
                                             progress=lambda _label: None))
    assert version
    # 'm1' is M1 again; the position is not a name; SYN 1 is in the snapshot already
    assert report.counts == {"names": 5, "known_locally": 2, "learned": 2, "unknown": 1, "failed": 0,
                             "simbad_calls": 1}
    assert standin.replay.calls == calls + 1  # one batch, one ADQL query with IN (...)
    assert "IN ('M1', 'NAME Barnard''s Star c', 'Zork Prime')" in standin.replay.queries[-1]
    rows = fetch(small_dsn, "SELECT main_id, ra_o, fetched_at FROM live.star WHERE fetched_at IS NOT NULL "
                            "ORDER BY main_id")
    assert [r["main_id"] for r in rows] == ["M   1", "NAME Barnard's Star c"]
    assert all(r["ra_o"] == SIMBAD for r in rows)
    learned = fetch(small_dsn, "SELECT count(*) AS n FROM raw.simbad_learned")[0]["n"]
    assert learned == 2
    # a second run asks nothing: everything is local or remembered in the raw store
    _, again = asyncio.run(run_ingest(small_dsn, with_fallback(settings, standin), "simbad-names", [names],
                                      progress=lambda _label: None))
    assert again.counts["known_locally"] == 4 and again.counts["simbad_calls"] == 1  # only Zork again


def test_bulk_needs_a_snapshot_and_a_file(make_database: Any, settings: Settings, tmp_path: Path) -> None:
    from getstar.errors import IngestError

    empty = make_database("simbad_bulk_empty")
    names = tmp_path / "names.txt"
    names.write_text("M1\n")
    with pytest.raises(IngestError, match="no snapshot"):
        asyncio.run(run_ingest(empty, settings, "simbad-names", [names], progress=lambda _label: None))
    with pytest.raises(IngestError, match="one name per line"):
        asyncio.run(run_ingest(empty, settings, "simbad-names", [], progress=lambda _label: None))

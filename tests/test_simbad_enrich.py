"""``getstar ingest simbad-enrich`` end to end against a REAL TAP server (GAVO DaCHS), uploads on.

The world (``tests/simbad_bulk.py``): a snapshot of ~3,000 stars of the default catalogues
(Hipparcos + Gaia subsets, Stellarium names), and DaCHS serving the SIMBAD-shaped resource
``tests/tap_server/simbadlike`` with one invented SIMBAD object per star (some stars unknown,
a few conflicts).  A proxy in front of DaCHS (``tests/tap_proxy.py``) counts and times every
request and spoils chosen ones (a dropped connection, a truncated answer, a 503, an answer
held while the client is killed).  Each test enriches its own copy of the snapshot.
"""

from __future__ import annotations

import asyncio
import io
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from getstar.config import Settings
from getstar.errors import IngestError, ServiceUnavailable
from getstar.ingest import stellarium
from getstar.ingest.pipeline import run_ingest
from getstar.names import ident_key
from getstar.properties import ORIGIN_CODE
from getstar.simbad import checkpoint
from getstar.simbad.client import TapClient
from getstar.simbad.conflicts import decide
from getstar.simbad.enrich import EnrichOptions, batch_size, enrich
from getstar.simbad.limits import SIMBAD_LIMITS, limits_from_capabilities, read_limits
from getstar.simbad.parse import SimbadObject as ParsedObject
from getstar.simbad.upload import UPLOAD_TABLE, StarIds, enrich_query, upload_rows, upload_votable
from tests.conftest import LiveServer, fetch
from tests.shared_paths import MISSING
from tests.simbad_bulk import Expected, SimbadObject, Star, make_simbad, subset_files, write_rows
from tests.tap_proxy import TapProxy
from tests.tap_server.dachs import missing, running_dachs

pytestmark = pytest.mark.tap_server

SCHEMA = "simbadlike"
BASE_DB = "simbad_enrich_base"


@dataclass
class World:
    dsn_of: Any  # name -> DSN of a fresh copy of the un-enriched snapshot
    stars: list[Star]
    objects: list[SimbadObject]
    expected: Expected
    dachs: str  # TAP base URL


@pytest.fixture(scope="module")
def world(make_database: Any, settings: Settings, cluster: Any) -> Iterator[World]:
    reason = missing()
    if reason:
        pytest.skip(reason)
    try:  # Debian's stellarium-data, else the shared data's copy
        stellarium.default_dir(settings.shared_data)
    except IngestError as exc:
        pytest.skip(f"{exc}; or {MISSING}")
    folder = Path(tempfile.mkdtemp(prefix="getstar-enrich-"))
    try:  # the subset files are removed afterwards (they were left in /tmp by every run)
        hip, gaia = subset_files(folder)
        base = make_database(BASE_DB)
        for source, paths in (("hipparcos", [hip]), ("gaia", [gaia]), ("stellarium", [])):
            asyncio.run(run_ingest(base, settings, source, paths, progress=lambda _label: None))
        rows = fetch(base, "SELECT star_id, ra, dec, p_gaia AS gaia, p_hip AS hip, p_hd AS hd FROM live.star "
                           "ORDER BY star_id")
        stars = [Star(r["star_id"], r["ra"], r["dec"], r["gaia"], r["hip"], r["hd"]) for r in rows]
        objects, expected = make_simbad(stars)

        def clone(name: str) -> str:
            async def go() -> None:
                conn = await asyncpg.connect(cluster.admin_dsn())
                try:
                    await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
                    await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{BASE_DB}"')
                finally:
                    await conn.close()

            asyncio.run(go())
            return str(make_database(name))

        with running_dachs([SCHEMA], prepare=lambda _name, target: write_rows(target, objects)) as dachs:
            yield World(clone, stars, objects, expected, dachs)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture()
def proxy(world: World) -> Iterator[TapProxy]:
    p = TapProxy(world.dachs)
    p.start()
    yield p
    p.stop()


def enrich_settings(settings: Settings, proxy: TapProxy, **changes: Any) -> Settings:
    return replace(settings, simbad_enabled=True, simbad_tap_url=proxy.sync_url, simbad_table_prefix=SCHEMA,
                   simbad_timeout=30.0, simbad_enrich_timeout=60.0, **changes)


def run_enrich(dsn: str, cfg: Settings, options: EnrichOptions) -> dict[str, int]:
    async def go() -> dict[str, int]:
        from getstar.db import _init_connection

        conn = await asyncpg.connect(dsn)
        await _init_connection(conn)
        try:
            _run, report = await enrich(conn, cfg, options)
            return report.counts
        finally:
            await conn.close()

    return asyncio.run(go())


def star_rows(dsn: str) -> dict[int, asyncpg.Record]:
    return {r["star_id"]: r for r in fetch(dsn, "SELECT * FROM live.star")}


def simbad_idents(dsn: str) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for r in fetch(dsn, "SELECT star_id, id FROM live.ident WHERE source = 3"):
        out.setdefault(r["star_id"], set()).add(r["id"])
    return out


def uploaded_star_ids(data: bytes) -> list[int]:
    from astropy.io.votable import parse_single_table

    return [int(s) for s in parse_single_table(io.BytesIO(data)).array["star"]]


CONFIDENCE = {"A": 3, "B": 3, "C": 2, "D": 1, "E": 1}
SIMBAD, COMPUTED, MIXED = ORIGIN_CODE["SIMBAD"], ORIGIN_CODE["computed"], ORIGIN_CODE["MIXED CATALOG"]
#: Photometry columns a star enriched in place must share with the same star rebuilt.
PHOTOMETRY = [f"p_{band}{x}" for band in ("u", "b", "v", "r", "i", "j", "h", "k", "rcous", "icous", "v_gaia")
              for x in ("", "_o", "_c", "_e")]


DIAMETERS = [f"p_{name}{x}" for name in ("ldd", "diam_chi2", "ud_k") for x in ("", "_o", "_c")] + [
    "p_diamflag", "p_calflag", "p_e_ldd_rel", "p_teff_sptype"]


def same(a: Any, b: Any) -> bool:
    """Equal, floats to 1e-9 relative (the two ways sum in another order)."""
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9)
    return bool(a == b)


def check_enriched(dsn: str, world: World) -> None:
    """Every star has exactly what its SIMBAD object says, with origin and confidence."""
    rows = star_rows(dsn)
    idents = simbad_idents(dsn)
    assert set(idents) == set(world.expected.enriched)  # conflicts and unknown stars got nothing
    for star_id, obj in world.expected.enriched.items():
        row = rows[star_id]
        assert idents[star_id] == set(obj.ids), star_id
        assert row["main_id"] == obj.main_id
        assert (row["p_objtypes"], row["p_objtypes_c"]) == ("," + ",".join(obj.otypes) + ",", 3)
        assert (row["p_sptype"], row["p_sptype_c"]) == (obj.sp_type, CONFIDENCE[obj.sp_qual])
        v, v_err, v_qual = obj.fluxes["V"]
        assert (row["p_v"], row["p_v_e"], row["p_v_c"], row["p_v_o"]) == (v, v_err, CONFIDENCE[v_qual], SIMBAD)
        k, _k_err, k_qual = obj.fluxes["K"]
        assert (row["p_k"], row["p_k_c"], row["p_k_o"]) == (k, CONFIDENCE[k_qual], SIMBAD)
        if obj.rv is not None:
            assert (row["p_radvel"], row["p_radvel_c"]) == (obj.rv, 3)
        tyc = next(i for i in obj.ids if i.startswith("TYC "))
        assert f"TYC {row['p_tyc1']}-{row['p_tyc2']}-{row['p_tyc3']}" == tyc  # properties from identifiers
        assert row["fetched_at"] is not None


def test_upload_query_is_constant_text_over_the_uploaded_table() -> None:
    query = enrich_query(SCHEMA)
    assert f"TAP_UPLOAD.{UPLOAD_TABLE} AS u" in query
    # its only literals are the escaped filter names: no star data is ever pasted into it
    assert sorted(set(re.findall(r"'((?:[^']|'')*)'", query))) == sorted("UBVRIJHKG")
    with pytest.raises(ValueError, match="prefix"):
        enrich_query("simbadlike; DROP TABLE x --")
    hostile = [StarIds(1, None, None, None)]
    assert upload_rows(hostile) == []  # a star without a catalogue number is not asked


def test_batch_size_stays_inside_the_services_limits() -> None:
    assert batch_size(10_000, SIMBAD_LIMITS) == 10_000
    assert batch_size(500_000, SIMBAD_LIMITS) == 200_000 // 3  # 3 identifiers per star at most
    assert batch_size(0, SIMBAD_LIMITS) == 1


def test_conflicts_are_decided_one_to_one_only() -> None:
    def obj(oid: int, *ids: str) -> ParsedObject:
        return ParsedObject({"oid": oid, "main_id": ids[0]}, list(ids))

    objects = {1: obj(1, "Gaia DR3 11", "HIP 5"), 2: obj(2, "Gaia DR3 22"), 3: obj(3, "HD 7"),
               4: obj(4, "Gaia DR3 44")}
    pairs = [(100, 1), (200, 2), (200, 3), (300, 4), (400, 4)]
    holders = {ident_key("HIP 5"): {500}}  # another star holds object 1's HIP
    d = decide([100, 200, 300, 400, 600], pairs, objects, holders)
    assert d.accepted == [] and d.unmatched == [600]
    assert {(c.kind, c.oids) for c in d.conflicts} == {
        ("object_several_stars", (1,)), ("star_several_objects", (2, 3)), ("object_several_stars", (4,))}
    assert decide([100], [(100, 2)], objects, {}).accepted == [(100, 2)]
    objects[2].values.update(ra=10.0, dec=20.0)
    near = decide([100], [(100, 2)], objects, {}, {100: (10.0, 20.0 + 4.9 / 3600)})
    far = decide([100], [(100, 2)], objects, {}, {100: (10.0, 20.0 + 5.1 / 3600)})
    assert near.conflicts == [] and far.accepted == [(100, 2)]  # far apart: merged all the same, and reported
    assert [(c.kind, c.merged) for c in far.conflicts] == [("position_disagrees", True)]


def test_limits_come_from_the_services_capabilities(world: World) -> None:
    limits = limits_from_capabilities(httpx.get(world.dachs + "/capabilities", timeout=10).content)
    # DaCHS states its upload limit in bytes (20 MB) and its output limit in rows
    assert (limits.upload_rows, limits.upload_bytes, limits.source) == (None, 20_000_000, "the service's capabilities")
    assert limits.output_rows >= 1_000_000

    async def unreadable() -> Any:
        client = TapClient(replace(Settings.from_env(), simbad_tap_url="http://127.0.0.1:9/sync", simbad_timeout=2))
        try:
            return await read_limits(client)
        finally:
            await client.close()

    assert asyncio.run(unreadable()) == SIMBAD_LIMITS  # SIMBAD's documented limits when unknown


def test_hostile_uploaded_values_cannot_change_the_query(world: World) -> None:
    async def go() -> tuple[Any, Any]:
        client = TapClient(replace(Settings.from_env(), simbad_tap_url=world.dachs + "/sync",
                                   simbad_table_prefix=SCHEMA, simbad_timeout=30))
        try:
            hostile = upload_votable([(1, "x' OR '1'='1"), (2, "'; DELETE FROM simbadlike.ident; --"),
                                      (3, "\\' OR 1=1 --")])
            bad = await client.query_upload(enrich_query(SCHEMA), {UPLOAD_TABLE: hostile}, maxrec=100)
            sirius = await client.query_upload(enrich_query(SCHEMA), {UPLOAD_TABLE: upload_votable([(7, "HIP 32349")])},
                                               maxrec=100)
            return bad, sirius
        finally:
            await client.close()

    (bad_objects, bad_pairs), (objects, pairs) = asyncio.run(go())
    assert bad_objects == [] and bad_pairs == []  # values in a table match nothing, change nothing
    assert pairs == [(7, 9001)] and objects[0].main_id == "* alf CMa" and len(objects[0].identifiers) == 63
    assert objects[0].values["otypes"] == "SB*|*|PM*|V*|UV|IR|**"


def test_enrichment_end_to_end(world: World, settings: Settings, proxy: TapProxy,
                               capsys: pytest.CaptureFixture[str]) -> None:
    dsn = world.dsn_of("simbad_enrich_e2e")
    expected = world.expected
    numbered = [s for s in world.stars if s.gaia or s.hip or s.hd]
    new_names = sorted(expected.new_names)
    assert not fetch(dsn, "SELECT 1 FROM live.ident WHERE key = ANY($1::text[])",
                     [ident_key(n) for n in new_names])  # GJ/BD/TYC/2MASS names: unknown locally before
    before = star_rows(dsn)
    # the build's photometry gave Gaia estimates (computed) that SIMBAD's catalogue values must replace
    estimated = [s for s in expected.enriched if before[s]["p_v_o"] == COMPUTED]
    assert len(estimated) > 100
    assert any(before[s]["p_k_o"] == COMPUTED for s in expected.enriched)
    rate, batch = 3.0, 250
    proxy.faults = {2: "drop", 4: "truncate", 6: "503"}
    cfg = enrich_settings(settings, proxy)
    started = time.monotonic()
    counts = run_enrich(dsn, cfg, EnrichOptions(batch=batch, rate=rate, backoff_base=0.2, show_bar=True))
    elapsed = time.monotonic() - started

    batches = math.ceil(len(numbered) / batch)
    assert counts["stars_asked"] == len(numbered) and counts["batches"] == batches
    assert counts["stars_enriched"] == len(expected.enriched)
    assert counts["stars_not_in_simbad"] == len(expected.unknown)
    assert counts["identifiers_added"] == sum(len(o.ids) for o in expected.enriched.values()) - sum(
        len([i for i in o.ids if i.startswith(("HIP ", "Gaia DR3 ", "HD "))]) for o in expected.enriched.values())
    assert counts["batch_retries"] == 3  # the dropped, the truncated and the refused (503) query, asked again
    check_enriched(dsn, world)

    # conflicts: reported with both sides, not merged
    reported = fetch(dsn, f"SELECT kind, oids, star_names, merged FROM {checkpoint.CONFLICTS}")
    several_stars = {r["oids"][0] for r in reported if r["kind"] == "object_several_stars"}
    assert several_stars == set(expected.object_several_stars)
    far = [r for r in reported if r["kind"] == "position_disagrees"]
    assert {r["oids"][0] for r in far} == set(expected.far) and all(r["merged"] for r in far)  # reported, merged
    assert {frozenset(r["oids"]) for r in reported if r["kind"] == "star_several_objects"} == {
        frozenset(v) for v in expected.star_several_objects.values()}
    assert all(len(r["star_names"]) >= 1 for r in reported)
    assert counts["conflicts"] == len([r for r in reported if not r["merged"]])
    learned = {r["oid"] for r in fetch(dsn, "SELECT oid FROM raw.simbad_learned")}
    assert learned == {o.oid for o in expected.enriched.values()}  # conflicting objects are not kept either

    # at the server: one upload per batch attempt, the same query text each time, within the rate
    syncs = proxy.sync_requests()
    assert len(syncs) == batches + 3
    assert all(s.uploads == [UPLOAD_TABLE] for s in syncs)
    assert {s.query for s in syncs} == {enrich_query(SCHEMA)}
    assert not any(n in (syncs[0].query or "") for n in ("Gaia DR3 ", "HIP ", "HD "))
    gaps = [b.at - a.at for a, b in zip(syncs, syncs[1:], strict=False)]
    assert min(gaps) >= 1 / rate - 0.05  # GCRA: queries at least 1/rate apart (slower is fine)
    assert max(sum(1 for s in syncs if t <= s.at < t + 1) for t in (s.at for s in syncs)) <= rate + 1
    assert [s.path for s in proxy.seen].count("capabilities") == 1
    err = capsys.readouterr().err
    assert "SIMBAD enrich" in err and "star/s" in err and "enriched=" in err  # tqdm: rate and ETA
    print(f"\nDaCHS: {len(numbered)} stars, {batches} batches of {batch}, {elapsed:.1f} s (rate {rate}/s): "
          f"{counts}", file=sys.stderr)

    # names of enriched stars resolve locally: no SIMBAD call
    server = LiveServer(dsn, cfg)
    server.start()
    try:
        sample = [n for n in new_names if n.startswith("GJ ")][:5] + [n for n in new_names if n.startswith("BD")][:5] \
            + [n for n in new_names if n.startswith("TYC ")][:5] + [n for n in new_names if n.startswith("2MASS ")][:5]
        before = proxy.syncs
        r = httpx.get(server.url + "/v1/stars", params={"names": "|".join(sample)}, timeout=60)
        assert r.status_code == 200, r.text
        results = r.json()["results"]
        assert [x["status"] for x in results] == ["ok"] * len(sample)
        rows = star_rows(dsn)
        assert [x["main_id"] for x in results] == [rows[expected.new_names[n]]["main_id"] for n in sample]
        star = results[0]["properties"]
        assert star["ObjTypes"]["origin"] == "SIMBAD" and star["ObjTypes"]["confidence"] == "HIGH"
        assert proxy.syncs == before
        assert httpx.get(server.url + "/health", timeout=10).json()["simbad"]["counters"]["calls"] == 0
    finally:
        server.stop()

    # B made from SIMBAD's V and the star's catalogue B-V where SIMBAD gives V but no B (as the build does)
    made_b = [s for s, o in expected.enriched.items() if "B" not in o.fluxes and rows[s]["p_b_v"] is not None]
    assert made_b and all(rows[s]["p_b_o"] == MIXED and rows[s]["p_b"] == pytest.approx(
        round(rows[s]["p_v"] + rows[s]["p_b_v"], 3)) for s in made_b)

    # kept by the next rebuild, which makes the same photometry of them (SIMBAD first, estimates last)
    asyncio.run(run_ingest(dsn, cfg, "rebuild", [], progress=lambda _label: None))
    rebuilt = star_rows(dsn)
    by_main = {r["main_id"]: r for r in rebuilt.values()}
    for obj in list(expected.enriched.values())[:200]:
        row = by_main[obj.main_id]
        assert row["p_objtypes"] == "," + ",".join(obj.otypes) + "," and row["fetched_at"] is not None
        assert row["p_sptype"] == obj.sp_type
    # the diameter step ran again for the enriched stars (getstar.ingest.diameters.refresh_diameters):
    # colour-table magnitudes from SIMBAD's types, and diameters from SIMBAD's J, H, K, as a rebuild
    differ = {(s, c) for s, o in expected.enriched.items() for c in PHOTOMETRY + DIAMETERS
              if not same(rows[s][c], by_main[o.main_id][c])}
    assert not differ, sorted(differ)[:10]
    assert sum(1 for s in expected.enriched if rows[s]["p_ldd"] is not None and rows[s]["p_ldd_o"] == COMPUTED) > 100
    names_after = fetch(dsn, "SELECT key FROM live.ident WHERE key = ANY($1::text[])",
                        [ident_key(n) for n in new_names])
    assert len({r["key"] for r in names_after}) == len(new_names)

    # --only-missing asks only the stars SIMBAD gave nothing: the unknown and the conflicting ones
    calls = proxy.syncs
    counts = run_enrich(dsn, cfg, EnrichOptions(only_missing=True, batch=batch, rate=20))
    conflicted = set().union(*expected.object_several_stars.values(), expected.star_several_objects)
    assert counts["stars_asked"] == len(expected.unknown) + len(conflicted)
    assert counts["stars_enriched"] == 0 and proxy.syncs == calls + 1


def test_a_batch_failing_every_attempt_writes_nothing_and_resume_finishes(
        world: World, settings: Settings, proxy: TapProxy) -> None:
    dsn = world.dsn_of("simbad_enrich_fail")
    proxy.faults = {2: "drop", 3: "truncate", 4: "drop"}  # batch 2 fails its 3 attempts
    cfg = enrich_settings(settings, proxy)
    options = EnrichOptions(batch=1000, rate=50, attempts=3, backoff_base=0.1)
    with pytest.raises(ServiceUnavailable):
        run_enrich(dsn, cfg, options)
    (run,) = fetch(dsn, f"SELECT * FROM {checkpoint.RUNS}")
    first = uploaded_star_ids(proxy.uploads[0])
    assert run["status"] == "failed" and run["last_star_id"] == max(first)
    learned_stars = set(simbad_idents(dsn))
    assert learned_stars == {s for s in first if s in world.expected.enriched}  # nothing of batch 2

    counts = run_enrich(dsn, cfg, replace(options, resume=True))
    resumed = uploaded_star_ids(proxy.uploads[4])
    assert min(resumed) > max(first)  # the resumed run starts after the checkpoint
    assert counts["stars_enriched"] == len(world.expected.enriched)
    check_enriched(dsn, world)


def test_kill_and_resume_from_the_command_line(world: World, settings: Settings, proxy: TapProxy,
                                               tmp_path: Path) -> None:
    dsn = world.dsn_of("simbad_enrich_kill")
    proxy.faults = {3: "hold"}  # batches 1 and 2 go in; the client is killed waiting for batch 3
    env = {**os.environ, "GETSTAR_DATABASE_URL": dsn, "GETSTAR_SIMBAD_TAP_URL": proxy.sync_url,
           "GETSTAR_SIMBAD_TABLE_PREFIX": SCHEMA, "GETSTAR_HOME": str(tmp_path), "GETSTAR_REDIS_URL": ""}
    cmd = [sys.executable, "-m", "getstar.cli", "ingest", "simbad-enrich", "--batch", "700", "--rate", "20"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        assert proxy.holding.wait(120), proc.stderr.read().decode() if proc.poll() is not None else "no batch 3"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    proxy.release.set()
    (run,) = fetch(dsn, f"SELECT * FROM {checkpoint.RUNS}")
    done = uploaded_star_ids(proxy.uploads[0]) + uploaded_star_ids(proxy.uploads[1])
    assert run["status"] == "running" and run["last_star_id"] == max(done)  # killed: the checkpoint of batch 2
    assert set(simbad_idents(dsn)) == {s for s in done if s in world.expected.enriched}

    res = subprocess.run([*cmd, "--resume"], env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert min(uploaded_star_ids(proxy.uploads[3])) > max(done)
    assert re.search(r"stars enriched\s+" + f"{len(world.expected.enriched):,}", res.stdout), res.stdout
    assert "conflicts (reported; not merged unless said" in res.stderr
    check_enriched(dsn, world)
    (run,) = fetch(dsn, f"SELECT * FROM {checkpoint.RUNS}")
    assert run["status"] == "finished" and json.loads(run["counts"])["stars_asked"] == len(
        [s for s in world.stars if s.gaia or s.hip or s.hd])


def test_the_fallback_learns_the_same_record_as_the_enrichment(world: World, settings: Settings,
                                                               proxy: TapProxy) -> None:
    dsn = world.dsn_of("simbad_enrich_fallback")
    star_id, obj = next((s, o) for s, o in world.expected.enriched.items() if any(i.startswith("GJ ") for i in o.ids))
    gj = next(i for i in obj.ids if i.startswith("GJ "))
    cfg = enrich_settings(settings, proxy)
    server = LiveServer(dsn, cfg)
    server.start()
    try:
        r = httpx.get(server.url + "/v1/stars", params={"name": gj}, timeout=60)
        assert r.status_code == 200, r.text
        assert r.json()["results"][0]["main_id"] == obj.main_id
    finally:
        server.stop()
    learned = star_rows(dsn)[star_id]
    enriched_dsn = world.dsn_of("simbad_enrich_compare")
    run_enrich(enriched_dsn, cfg, EnrichOptions(batch=5000, rate=50))
    enriched = star_rows(enriched_dsn)[star_id]
    skip = {"fetched_at"}
    assert {k: v for k, v in learned.items() if k not in skip} == {k: v for k, v in enriched.items() if k not in skip}
    assert simbad_idents(dsn)[star_id] == simbad_idents(enriched_dsn)[star_id]

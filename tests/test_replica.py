"""A real read replica: ``getstar db replica init`` makes a streaming standby, the service reads
from it and writes to the primary.

A primary of its own (the session cluster runs with ``wal_level = minimal`` and held
connections that a restart would break): a throw-away embedded cluster with 300 Hipparcos
stars, made a primary by the real command (which restarts it for WAL streaming), its standby
created by the same command.  The services run under uvicorn on loopback ports; SIMBAD is the
recorded stand-in of the fallback tests.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from getstar.cli import cmd_replica, prepare_serving
from getstar.config import Settings
from getstar.embedded import EmbeddedCluster
from getstar.ingest import hipparcos
from getstar.ingest.pipeline import run_ingest
from getstar.replica import Replica
from tests.conftest import LiveServer, fetch, free_port, snapshot_reload
from tests.simbad_standin import Replay, StandinServer, recorded

CONCURRENCY = 6
MAX_SECONDS = 240.0  # bounds on waiting (replay, switches), never performance assertions
WAIT_SECONDS = 60.0


@dataclass
class Pair:
    """The primary, its standby, and the settings naming them."""

    settings: Settings
    primary: EmbeddedCluster
    replica: Replica


def _wait(check: Callable[[], bool], what: str, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def _replayed(pair: Pair) -> bool:
    """The standby has replayed everything the primary has committed so far: the WAL insert
    position (with synchronous_commit off, the write position can still be short of the last
    commit, and the standby "caught up" before the snapshot's swap reached it)."""
    (lsn,) = fetch(pair.primary.dsn, "SELECT pg_current_wal_insert_lsn()::text AS l")
    return _replayed_up_to(pair, lsn["l"])


def _replayed_up_to(pair: Pair, lsn: str) -> bool:
    (row,) = fetch(pair.replica.dsn, "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn AS ok", lsn)
    return bool(row["ok"])


@pytest.fixture(scope="module")
def pair(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    home = Path(tempfile.mkdtemp(prefix="getstar-replica-test-", dir="/tmp"))
    os.chmod(home, 0o755)  # the postgres user must enter it when we run as root
    primary = EmbeddedCluster(home=home, port=free_port())
    primary.init()
    primary.start({"fsync": "off", "full_page_writes": "off"})
    cfg = replace(settings, home=home, embedded_port=primary.port, replica_port=free_port(), database_url=None,
                  write_database_url=None, shared_data=None, simbad_enabled=False)
    replica = Replica(primary=primary, port=cfg.replica_port)
    try:
        assert cmd_replica(cfg, "init") == 0  # the real command: a restart of the primary, a base backup
        hip = tmp_path_factory.mktemp("replica") / "hip2.dat"
        with open(hipparcos.default_path()) as fh:
            hip.write_text("".join(next(fh) for _ in range(300)))
        asyncio.run(run_ingest(primary.dsn, cfg, "hipparcos", [hip], progress=lambda _l: None))
        result = Pair(cfg, primary, replica)
        _wait(lambda: _replayed(result), "the standby to replay the first snapshot")
        yield result
    finally:
        asyncio.run(replica.drop())
        primary.destroy()


def _server(pair: Pair, *, read: str, write: str | None, **changes: Any) -> LiveServer:
    changes = {"snapshot_poll_seconds": 1.0, **changes}
    server = LiveServer(read, replace(pair.settings, write_database_url=write, **changes))
    server.start()
    return server


def _on_server(server: LiveServer, coro: Callable[[], Awaitable[Any]]) -> Any:
    """Run ``coro`` in the server's event loop (its pools belong to that loop)."""
    loop = server.app.state.getstar.pool._loop  # asyncpg's pool keeps its loop
    return asyncio.run_coroutine_threadsafe(coro(), loop).result(timeout=30)


async def _in_recovery(pool: asyncpg.Pool) -> bool:
    async with pool.acquire() as conn:
        return bool(await conn.fetchval("SELECT pg_is_in_recovery()"))


def test_replica_init_makes_a_streaming_hot_standby_with_feedback(pair: Pair,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    (standby,) = fetch(pair.replica.dsn, "SELECT pg_is_in_recovery() AS r, current_setting('hot_standby_feedback') "
                                         "AS feedback, current_setting('port') AS port")
    assert standby["r"] is True and standby["feedback"] == "on" and int(standby["port"]) == pair.replica.port
    (primary,) = fetch(pair.primary.dsn, "SELECT pg_is_in_recovery() AS r, current_setting('wal_level') AS wal")
    assert primary["r"] is False and primary["wal"] == "replica"  # the command restarted it for streaming
    slots = fetch(pair.primary.dsn, "SELECT slot_name, slot_type, active FROM pg_replication_slots")
    assert [(s["slot_name"], s["slot_type"], s["active"]) for s in slots] == [(pair.replica.slot, "physical", True)]
    (sender,) = fetch(pair.primary.dsn, "SELECT state FROM pg_stat_replication")
    assert sender["state"] == "streaming"
    # the snapshot loaded on the primary after the base backup is on the standby
    (n,) = fetch(pair.replica.dsn, "SELECT count(*) AS n FROM live.star")
    assert n["n"] == 300
    capsys.readouterr()
    assert cmd_replica(pair.settings, "status") == 0
    out = capsys.readouterr().out
    assert "running: True" in out and "in_recovery: True" in out and "hot_standby_feedback: on" in out
    assert cmd_replica(pair.settings, "init") == 0 and "exists:" in capsys.readouterr().out  # idempotent


def test_answers_come_from_the_standby_and_learning_goes_to_the_primary(pair: Pair) -> None:
    standin = StandinServer(Replay({"M1": recorded("tap_query_object_M1.vot")}))
    standin.start()
    server = _server(pair, read=pair.replica.read_dsn(), write=pair.primary.dsn, simbad_enabled=True,
                     simbad_tap_url=standin.url)
    try:
        state = server.app.state.getstar
        assert _on_server(server, lambda: _in_recovery(state.pool)) is True
        assert _on_server(server, lambda: _in_recovery(state.write_pool)) is False
        health = httpx.get(server.url + "/health", timeout=30).json()
        assert health["database"]["in_recovery"] is True and health["status"] == "ok"
        (hip,) = fetch(pair.replica.dsn, "SELECT id FROM live.ident WHERE id LIKE 'HIP %' ORDER BY id LIMIT 1")
        r = httpx.get(server.url + "/v1/stars", params={"name": hip["id"]}, timeout=30)
        assert r.status_code == 200 and r.json()["results"][0]["status"] == "ok"
        # a batch needs temporary tables, which a standby refuses: it runs on the primary
        batch = httpx.post(server.url + "/v1/xmatch?format=csv", content=f"name\n{hip['id']}\nZork Prime\n",
                           headers={"Content-Type": "text/csv"}, timeout=30)
        assert batch.status_code == 200, batch.text
        assert batch.text.count("\n") == 3 and ",name," in batch.text.splitlines()[1]

        assert not fetch(pair.primary.dsn, "SELECT 1 FROM live.ident WHERE key = 'M 1'")
        r = httpx.get(server.url + "/v1/stars", params={"name": "M1"}, timeout=30)
        assert r.status_code == 200, r.text  # stored on the primary, read back from there
        (answer,) = r.json()["results"]
        assert answer["main_id"] == "M   1" and answer["properties"]["RAJ2000"]["origin"] == "SIMBAD"
        assert standin.replay.calls == 1
        (row,) = fetch(pair.primary.dsn, "SELECT count(*) AS n FROM raw.simbad_learned WHERE main_id = 'M   1'")
        assert row["n"] == 1
        # replicated to the standby, and served from there without asking SIMBAD again
        _wait(lambda: bool(fetch(pair.replica.dsn, "SELECT 1 FROM live.star WHERE main_id = 'M   1'")),
              "the learned star on the standby")
        cone = {"ra": "83.6287", "dec": "22.0145", "radius": "20arcsec"}
        _wait(lambda: "M   1" in [a.get("main_id") for a in
                                   httpx.get(server.url + "/v1/stars", params=cone, timeout=30).json()["results"]],
              "a cone on the standby to find the learned star")
        assert httpx.get(server.url + "/v1/stars", params={"name": "m 1"}, timeout=30).status_code == 200
        assert standin.replay.calls == 1
    finally:
        server.stop()
        standin.stop()


def _conflicts(pair: Pair) -> dict[str, int]:
    (row,) = fetch(pair.replica.dsn, "SELECT confl_tablespace, confl_lock, confl_snapshot, confl_bufferpin, "
                                     "confl_deadlock FROM pg_stat_database_conflicts WHERE datname = 'getstar'")
    return dict(row)


def test_swaps_and_vacuum_on_the_primary_reach_standby_readers_without_a_failed_request(pair: Pair) -> None:
    """Two services read the standby: one also listening on the primary (write URL; its poll set
    to 10 minutes, so only the relayed NOTIFY can switch it within the test), one with the
    standby's DSN only (no NOTIFY there: its 1 s poll).  Under load, the primary swaps the
    snapshot twice and rewrites and vacuums rows the load reads; every request succeeds, both switch."""
    names = [r["id"] for r in fetch(pair.replica.dsn, "SELECT id FROM live.ident WHERE id LIKE 'HIP %' LIMIT 100")]
    positions = [(r["ra"], r["dec"]) for r in fetch(pair.replica.dsn, "SELECT ra, dec FROM live.star LIMIT 300")]
    conflicts_before = _conflicts(pair)
    relayed = _server(pair, read=pair.replica.read_dsn(), write=pair.primary.dsn, snapshot_poll_seconds=600.0)
    polled = _server(pair, read=pair.replica.dsn, write=None)
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    seen: dict[str, list[str]] = {relayed.url: [], polled.url: []}
    stop = asyncio.Event()
    rng = random.Random(19)
    deadline = time.monotonic() + MAX_SECONDS

    def request() -> tuple[str, dict[str, str]]:
        if rng.random() < 0.4:
            return "/v1/stars", {"name": rng.choice(names)}
        ra, dec = rng.choice(positions)
        jitter = rng.uniform(-2, 2) / 3600  # a new position each time: the database answers
        return "/v1/stars", {"ra": repr(ra + jitter), "dec": repr(dec), "radius": "30arcsec"}

    async def worker(client: httpx.AsyncClient, url: str) -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            path, params = request()
            try:
                r = await client.get(url + path, params=params)
            except httpx.HTTPError as exc:
                failures.append(f"{url}{path} {params}: {exc!r}")
                continue
            statuses[r.status_code] += 1
            if r.status_code != 200:
                failures.append(f"{url}{path} {params}: {r.status_code} {r.text[:300]}")
            else:
                seen[url].append(re.sub(r"\.\d+$", "", r.json()["snapshot"]))  # without the learned generation

    async def wait_for_version(version: str) -> None:
        end = time.monotonic() + WAIT_SECONDS
        while not all(v and v[-1] == version for v in seen.values()):
            assert time.monotonic() < end, f"not all readers switched to {version}: {[v[-1:] for v in seen.values()]}"
            await asyncio.sleep(0.1)

    async def churn() -> None:
        """Rows the load reads rewritten (same values) and vacuumed on the primary."""
        conn = await asyncpg.connect(pair.primary.dsn)
        try:
            for _ in range(3):
                await conn.execute("UPDATE live.star SET ra = ra WHERE star_id IN "
                                   "(SELECT star_id FROM live.star ORDER BY star_id LIMIT 100)")
                await conn.execute("VACUUM live.star")
                await asyncio.sleep(0.3)
        finally:
            await conn.close()

    versions: list[str] = []

    async def run() -> None:
        limits = httpx.Limits(max_connections=2 * CONCURRENCY, max_keepalive_connections=2 * CONCURRENCY)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            first = (await client.get(polled.url + "/health/ready")).json()["snapshot"]  # the version alone
            versions.append(first)
            load = [asyncio.create_task(worker(client, url)) for url in seen for _ in range(CONCURRENCY // 2)]
            try:
                await asyncio.sleep(1.0)
                await churn()
                for _ in range(2):
                    # reads configured on the standby: the rebuild and the swap go through the write URL
                    version = await snapshot_reload(GETSTAR_DATABASE_URL=pair.replica.dsn,
                                                    GETSTAR_WRITE_DATABASE_URL=pair.primary.dsn)
                    assert version not in versions
                    versions.append(version)
                    await wait_for_version(version)
                    await asyncio.sleep(0.5)  # the load keeps running on the new snapshot for a moment
            finally:
                stop.set()
                await asyncio.gather(*load, return_exceptions=True)

    try:
        asyncio.run(run())
    finally:
        relayed.stop()
        polled.stop()

    assert not failures, f"{len(failures)} failed requests, e.g. {failures[:3]}"
    assert set(statuses) == {200} and sum(statuses.values()) >= 100
    for order in seen.values():
        assert set(versions) <= set(order)
        assert [order.index(v) for v in versions] == sorted(order.index(v) for v in versions)
    assert _conflicts(pair) == conflicts_before  # no standby query was cancelled
    print(f"\nreplica under load: {sum(statuses.values())} requests, swaps {versions[1:]}, no failure")


def test_hot_standby_feedback_keeps_a_long_standby_query_alive_through_vacuum(pair: Pair) -> None:
    """A long read on the standby (a TAP query, a batch) keeps seeing its rows while the primary
    rewrites and vacuums them: with hot_standby_feedback the primary keeps them, so replay goes
    on at once and cancels nothing (without it, replay would wait max_standby_streaming_delay,
    then cancel the query: 'canceling statement due to conflict with recovery')."""

    async def go() -> None:
        reader = await asyncpg.connect(pair.replica.dsn)
        writer = await asyncpg.connect(pair.primary.dsn)
        try:
            tx = reader.transaction(isolation="repeatable_read", readonly=True)
            await tx.start()
            before = await reader.fetchval("SELECT sum(ra) FROM live.star")
            end = time.monotonic() + WAIT_SECONDS
            while await writer.fetchval("SELECT xmin FROM pg_replication_slots WHERE slot_name = $1",
                                        pair.replica.slot) is None:  # the standby's feedback reached the primary
                assert time.monotonic() < end, "no hot-standby feedback on the slot"
                await asyncio.sleep(0.1)
            await writer.execute("UPDATE live.star SET ra = ra")
            await writer.execute("VACUUM live.star")
            lsn = await writer.fetchval("SELECT pg_current_wal_insert_lsn()::text")  # see _replayed
            while not await writer.fetchval("SELECT replay_lsn >= $1::text::pg_lsn FROM pg_stat_replication", lsn):
                assert time.monotonic() < end, "the standby did not replay the vacuum"
                await asyncio.sleep(0.1)
            assert await reader.fetchval("SELECT sum(ra) FROM live.star") == before  # still alive, same rows
            await tx.commit()
        finally:
            await reader.close()
            await writer.close()

    before = _conflicts(pair)
    asyncio.run(go())
    assert _conflicts(pair) == before


def test_serving_prepares_on_the_primary_and_reads_the_standby(pair: Pair) -> None:
    """``getstar serve``'s preparation: migrations (writes) go to the write URL, so a read URL
    naming only the standby is served as it is (on it, a migration would fail: read-only)."""
    cfg = replace(pair.settings, database_url=pair.replica.dsn, write_database_url=pair.primary.dsn)
    assert asyncio.run(prepare_serving(cfg)) == pair.replica.dsn
    with pytest.raises(asyncpg.ReadOnlySQLTransactionError):  # what the write URL avoids
        asyncio.run(prepare_serving(replace(cfg, write_database_url=None)))


def test_replica_stop_start_and_drop(pair: Pair, capsys: pytest.CaptureFixture[str]) -> None:
    assert cmd_replica(pair.settings, "stop") == 0
    assert cmd_replica(pair.settings, "status") == 3 and "running: False" in capsys.readouterr().out
    # the read URL's host list falls back to the primary while the standby is down (prefer-standby)
    assert fetch(pair.replica.read_dsn(), "SELECT pg_is_in_recovery() AS r")[0]["r"] is False
    # the slot keeps the WAL written meanwhile: the standby catches up when started again
    fetch(pair.primary.dsn, "CREATE TABLE IF NOT EXISTS getstar_meta.replica_probe (x int)")
    assert cmd_replica(pair.settings, "start") == 0
    _wait(lambda: _replayed(pair), "the restarted standby to catch up")
    assert fetch(pair.replica.dsn, "SELECT to_regclass('getstar_meta.replica_probe') IS NOT NULL AS t")[0]["t"]
    fetch(pair.primary.dsn, "DROP TABLE getstar_meta.replica_probe")
    assert cmd_replica(pair.settings, "drop") == 0
    assert not pair.replica.cluster.pgdata.exists()
    assert fetch(pair.primary.dsn, "SELECT slot_name FROM pg_replication_slots") == []

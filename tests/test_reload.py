"""``getstar snapshot reload`` under load: zero failed requests, answers switch to the new version.

A small database of its own (300 Hipparcos stars, so a rebuild takes seconds) is served by
a real uvicorn; an asyncio httpx load (loopback only, bounded in count and time) runs names,
cones (random positions: cache misses, so the database is hit) and Simple Cone Searches
while the real command line rebuilds and swaps the snapshot twice.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from getstar.config import Settings
from getstar.db import connect
from getstar.ingest import hipparcos
from getstar.ingest.pipeline import run_ingest
from getstar.schema import migrate
from tests.conftest import LiveServer, snapshot_reload

CONCURRENCY = 8
MAX_REQUESTS = 40_000
MAX_SECONDS = 240.0
SWITCH_SECONDS = 60.0  # a bound on waiting for the NOTIFY to arrive, not a performance assertion


@pytest.fixture(scope="module")
def small_dsn(make_database, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> str:  # type: ignore[no-untyped-def]
    dsn: str = make_database("reload_small")
    hip = tmp_path_factory.mktemp("reload") / "hip2.dat"
    with open(hipparcos.default_path()) as fh:
        hip.write_text("".join(next(fh) for _ in range(300)))

    async def load() -> None:
        conn = await connect(dsn)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        await run_ingest(dsn, replace(settings, shared_data=None), "hipparcos", [hip], progress=lambda _l: None)

    asyncio.run(load())
    return dsn


async def _targets(dsn: str) -> tuple[list[str], list[tuple[float, float]]]:
    conn = await connect(dsn)
    try:
        names = [r["id"] for r in await conn.fetch("SELECT id FROM live.ident WHERE id LIKE 'HIP %' LIMIT 100")]
        positions = [(r["ra"], r["dec"]) for r in await conn.fetch("SELECT ra, dec FROM live.star LIMIT 300")]
    finally:
        await conn.close()
    return names, positions


async def test_snapshot_reload_under_load(small_dsn: str, settings: Settings) -> None:
    names, positions = await _targets(small_dsn)
    assert len(names) >= 50 and len(positions) == 300
    server = LiveServer(small_dsn, replace(settings, simbad_enabled=False))
    server.start()
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    seen: list[tuple[float, str]] = []  # (time, snapshot version) of each JSON answer
    stop = asyncio.Event()
    sent = 0
    rng = random.Random(8)
    deadline = time.monotonic() + MAX_SECONDS

    def request() -> tuple[str, dict[str, str]]:
        kind = rng.random()
        if kind < 0.4:
            return "/v1/stars", {"name": rng.choice(names)}
        ra, dec = rng.choice(positions)
        jitter = rng.uniform(-2, 2) / 3600  # a new position each time: the cache cannot answer it
        if kind < 0.85:
            return "/v1/stars", {"ra": repr(ra + jitter), "dec": repr(dec), "radius": "30arcsec"}
        return "/scs", {"RA": repr(ra + jitter), "DEC": repr(dec), "SR": "0.01", "VERB": "1"}

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal sent
        while not stop.is_set() and sent < MAX_REQUESTS and time.monotonic() < deadline:
            sent += 1
            path, params = request()
            try:
                r = await client.get(path, params=params)
            except httpx.HTTPError as exc:
                failures.append(f"{path} {params}: {exc!r}")
                continue
            statuses[r.status_code] += 1
            if r.status_code != 200:
                failures.append(f"{path} {params}: {r.status_code} {r.text[:300]}")
            elif path == "/v1/stars":
                seen.append((time.monotonic(), r.json()["snapshot"]))

    async def wait_for_version(version: str) -> None:
        end = time.monotonic() + SWITCH_SECONDS
        while time.monotonic() < end:
            if seen and seen[-1][1] == version:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"answers did not switch to {version} (last seen {seen[-1][1] if seen else None})")

    load: list[asyncio.Task[None]] = []
    during: list[int] = []  # requests answered while each reload ran
    try:
        limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
        async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as client:
            first = (await client.get("/health/ready")).json()["snapshot"]
            load = [asyncio.create_task(worker(client)) for _ in range(CONCURRENCY)]
            await asyncio.sleep(1.0)
            versions = [first]  # the snapshot before, then the two reloads
            try:
                for _ in range(2):
                    before = sum(statuses.values())
                    version = await snapshot_reload(GETSTAR_DATABASE_URL=small_dsn)
                    during.append(sum(statuses.values()) - before)
                    assert version not in versions
                    versions.append(version)
                    await wait_for_version(version)
                    await asyncio.sleep(0.5)  # load keeps running on the new snapshot for a moment
            finally:
                stop.set()
                await asyncio.gather(*load, return_exceptions=True)
            ready = (await client.get("/health/ready")).json()
    finally:
        server.stop()

    assert not failures, f"{len(failures)} failed requests, e.g. {failures[:3]}"
    assert set(statuses) == {200} and sum(statuses.values()) >= 200
    assert len(during) == 2 and min(during) > 0, during  # the swaps really happened under load
    print(f"\nreload under load: {sum(statuses.values())} requests, {during} during the reloads, no failure")
    order = [v for _, v in seen]
    assert set(versions) <= set(order)
    # answers moved from each snapshot to the next (concurrent answers may interleave at a switch)
    assert [order.index(v) for v in versions] == sorted(order.index(v) for v in versions)
    assert order[-1] == versions[-1] and ready["snapshot"] == versions[-1]


@pytest.mark.parametrize("argv", [["snapshot"], ["snapshot", "drop"]])
def test_snapshot_command_needs_an_action(argv: list[str]) -> None:
    from getstar.cli import main

    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2


def test_reload_rebuilds_from_the_raw_store(small_dsn: str, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from getstar.cli import main

    monkeypatch.setenv("GETSTAR_DATABASE_URL", small_dsn)
    monkeypatch.setenv("GETSTAR_SIMBAD_ENABLED", "false")

    async def count() -> int:
        conn = await connect(small_dsn)
        try:
            return int(await conn.fetchval("SELECT count(*) FROM live.star"))
        finally:
            await conn.close()

    before = asyncio.run(count())
    assert main(["snapshot", "reload"]) == 0
    assert re.search(r"^snapshot [0-9A-Za-z_.-]+", capsys.readouterr().out, re.M)
    assert asyncio.run(count()) == before == 300
    assert Path(hipparcos.default_path()).exists()


def test_serve_logs_json_and_stops_gracefully(small_dsn: str) -> None:
    """``getstar serve --workers 2`` for real: JSON log lines with the request id, and SIGTERM
    drains and closes (the lifespan's shutdown completes, exit status 0)."""
    import json
    import signal
    import subprocess

    from tests.conftest import free_port

    port = free_port()
    env = {**os.environ, "GETSTAR_DATABASE_URL": small_dsn, "GETSTAR_SIMBAD_ENABLED": "false",
           "GETSTAR_DRAIN_TIMEOUT": "5", "GETSTAR_LOG_FORMAT": "json"}
    proc = subprocess.Popen([sys.executable, "-m", "getstar.cli", "serve", "--port", str(port), "--workers", "2"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            assert proc.poll() is None, proc.communicate()[1]
            try:
                if httpx.get(url + "/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "getstar serve did not become ready"
            time.sleep(0.2)
        if os.geteuid() == 0:  # started by root, it serves as an unprivileged user: the workers too
            serving = [proc.pid, *_children(proc.pid)]
            assert len(serving) >= 3 and all(_uid(pid) != 0 for pid in serving), [(p, _uid(p)) for p in serving]
        answer = httpx.get(url + "/v1/stars", params={"name": "HIP 1"}, headers={"X-Request-ID": "e2e-1"})
        assert answer.status_code in (200, 404) and answer.headers["x-request-id"] == "e2e-1"
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    mine = [x for x in lines if x["logger"] == "getstar.access" and x.get("request_id") == "e2e-1"]
    assert len(mine) == 1 and mine[0]["path"] == "/v1/stars" and mine[0]["status"] == answer.status_code
    assert sum("Application shutdown complete" in x["message"] for x in lines) == 2  # both workers


def _uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[2])  # effective uid
    raise AssertionError(f"no Uid line for {pid}")


def _children(pid: int) -> list[int]:
    """Every descendant process of ``pid`` (uvicorn's workers and their helpers)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        kids = [child for child, parent in parents.items() if parent == current]
        found += kids
        frontier += kids
    return found

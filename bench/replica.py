"""A read replica's cost and lag, measured in one run (ratios, never absolute targets).

A throw-away embedded cluster gets the default snapshot, then ``getstar db replica init`` (timed:
the primary's restart for WAL streaming, the base backup).  Then, with wrk and the same mix of
real names and positions as ``bench/resolve.py``, 32 connections, one uvicorn worker, the
process cache off (every request reads the database):

- the bare starlette+orjson baseline;
- getstar reading the primary, and getstar reading the standby (writes to the primary),
  alternately ``--rounds`` times (a shared machine drifts: alternating spreads it over both).

And the replication lag a reader sees: a one-row commit on the primary (the learned generation
SIMBAD learning bumps), timed until the standby shows it, ``--commits`` times.

Everything runs on one machine: the figures say what a standby costs a reader and how late it
sees a write, not how much a second machine adds (that is the primary's CPU given back).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._cluster import free_port, throwaway_cluster  # noqa: E402
from bench.resolve import sample_paths, start_server, wrk  # noqa: E402
from getstar.replica import Replica  # noqa: E402


async def replay_lag(primary_dsn: str, standby_dsn: str, commits: int) -> list[float]:
    """Milliseconds from a commit on the primary to its row being visible on the standby."""
    writer = await asyncpg.connect(primary_dsn)
    reader = await asyncpg.connect(standby_dsn)
    lags = []
    try:
        for _ in range(commits):
            started = time.perf_counter()
            generation = await writer.fetchval(
                "UPDATE getstar_meta.learned SET generation = generation + 1 RETURNING generation")
            while await reader.fetchval("SELECT generation FROM getstar_meta.learned") < generation:
                await asyncio.sleep(0.001)
            lags.append((time.perf_counter() - started) * 1000)
            await asyncio.sleep(0.05)
    finally:
        await writer.close()
        await reader.close()
    return lags


PREWARM_SQL = """
SELECT sum(pg_prewarm(c.oid, 'read')) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'live' AND c.relkind IN ('r', 'i')
"""


async def prewarm(primary_dsn: str, standby_dsn: str) -> None:
    """The snapshot's tables and indexes into the operating system's cache, for both servers (the
    standby's files are copies: without this its first reads come from the disk, the primary's
    not, since the ingest has just written them)."""
    conn = await asyncpg.connect(primary_dsn)
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        lsn = await conn.fetchval("SELECT pg_current_wal_lsn()::text")
        await conn.fetchval(PREWARM_SQL)
    finally:
        await conn.close()
    conn = await asyncpg.connect(standby_dsn)
    try:
        while not await conn.fetchval("SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", lsn):
            await asyncio.sleep(0.1)
        await conn.fetchval(PREWARM_SQL)
    finally:
        await conn.close()


async def wal_lsn(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        return str(await conn.fetchval("SELECT pg_current_wal_lsn()::text"))
    finally:
        await conn.close()


async def reload_reaches_standby(env: dict[str, str], primary_dsn: str, standby_dsn: str) -> dict[str, float]:
    """``getstar snapshot reload`` on the primary: its time, the WAL it wrote (all of it streamed
    to the standby), and how long after it returned the standby shows the new version."""
    from getstar.schema import current_snapshot_key

    before = await wal_lsn(primary_dsn)
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "getstar.cli", "snapshot", "reload", env=env,
                                                stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate()
    assert proc.returncode == 0
    reloaded = time.perf_counter()
    version = out.decode().split("snapshot ", 1)[1].split()[0]
    conn = await asyncpg.connect(primary_dsn)
    try:
        wal_mb = float(await conn.fetchval("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), $1::text::pg_lsn)",
                                           before)) / 1e6
    finally:
        await conn.close()
    reader = await asyncpg.connect(standby_dsn)
    try:
        while not (await current_snapshot_key(reader)).startswith(version):
            await asyncio.sleep(0.01)
    finally:
        await reader.close()
    return {"reload_s": reloaded - started, "wal_mb": wal_mb, "standby_after_s": time.perf_counter() - reloaded}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--commits", type=int, default=50)
    parser.add_argument("--reload", action="store_true",
                        help="also time a snapshot reload on the primary and its arrival on the standby")
    opts = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    with ExitStack() as stack:
        cluster = stack.enter_context(throwaway_cluster())
        replica_port = free_port()
        env = dict(os.environ, GETSTAR_HOME=str(cluster.home), GETSTAR_EMBEDDED_PORT=str(cluster.port),
                   GETSTAR_REPLICA_PORT=str(replica_port))
        for name in ("GETSTAR_DATABASE_URL", "GETSTAR_WRITE_DATABASE_URL", "GETSTAR_REDIS_URL"):
            env.pop(name, None)
        print("loading the default snapshot ...", flush=True)
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "getstar.cli", "ingest", "build"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        ingest_s = time.perf_counter() - started
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "getstar.cli", "db", "replica", "init"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        init_s = time.perf_counter() - started
        replica = Replica(primary=cluster, port=replica_port)
        stack.callback(lambda: asyncio.run(replica.drop()))
        size = subprocess.run(["du", "-sm", str(replica.cluster.pgdata)], capture_output=True, text=True).stdout
        print(f"ingest build {ingest_s:.0f} s; db replica init {init_s:.1f} s (restart, base backup of "
              f"{size.split()[0]} MB)", flush=True)

        asyncio.run(prewarm(cluster.dsn, replica.dsn))
        paths = asyncio.run(sample_paths(cluster.dsn, opts.requests))
        paths_file = stack.enter_context(tempfile.NamedTemporaryFile("w", suffix=".txt"))
        paths_file.write("\n".join(paths) + "\n")
        paths_file.flush()
        cold = {"GETSTAR_CACHE_MAX_ENTRIES": "0", "GETSTAR_SIMBAD_ENABLED": "false"}
        runs = [("baseline (bare starlette+orjson)", ["bench.baseline_app:app"], {})]
        factory = ["getstar.app:create_app", "--factory"]
        on_primary = ("getstar cold, reads on the primary", factory, {**cold, "GETSTAR_DATABASE_URL": cluster.dsn})
        on_standby = ("getstar cold, reads on the standby", factory,
                      {**cold, "GETSTAR_DATABASE_URL": replica.dsn, "GETSTAR_WRITE_DATABASE_URL": cluster.dsn})
        for i in range(opts.rounds):  # alternately first: a drifting machine favours neither
            runs += [on_standby, on_primary] if i % 2 == 0 else [on_primary, on_standby]
        results: dict[str, list[dict[str, float]]] = {}
        for label, app_args, extra in runs:
            port = free_port()
            proc = start_server(app_args, {**env, **extra}, port)
            try:
                wrk(port, paths_file.name, 2, opts.connections)  # warm-up: pool, prepared statements
                results.setdefault(label, []).append(wrk(port, paths_file.name, opts.seconds, opts.connections))
            finally:
                proc.terminate()
                proc.wait(timeout=10)
        lags = asyncio.run(replay_lag(cluster.dsn, replica.dsn, opts.commits))
        report(results, len(paths), opts, lags)
        if opts.reload:
            swap = asyncio.run(reload_reaches_standby(env, cluster.dsn, replica.dsn))
            print(f"snapshot reload on the primary {swap['reload_s']:.0f} s, {swap['wal_mb']:.0f} MB of WAL "
                  f"streamed; the standby showed the new version {swap['standby_after_s']:.2f} s after the "
                  "command returned")


def report(results: dict[str, list[dict[str, float]]], n_paths: int, opts: argparse.Namespace,
           lags: list[float]) -> None:
    base = results["baseline (bare starlette+orjson)"][0]["rps"]
    print(f"{n_paths} distinct requests (names and positions), {opts.connections} connections, "
          f"{opts.seconds} s each, 1 uvicorn worker, process cache off, 2-core machine")
    for label, rs in results.items():
        for r in rs:
            print(f"{label:36s} {r['rps']:8.0f} req/s   p50 {r['p50']:6.2f} ms   p99 {r['p99']:6.2f} ms   "
                  f"ratio {r['rps'] / base:5.1%}   non-2xx {r['non2xx']:.0f}")
    primary = statistics.mean(r["rps"] for r in results["getstar cold, reads on the primary"])
    standby = statistics.mean(r["rps"] for r in results["getstar cold, reads on the standby"])
    print(f"standby / primary (mean of {opts.rounds} rounds each): {standby / primary:.1%}")
    lags.sort()
    print(f"replay lag of a one-row commit ({len(lags)}): median {statistics.median(lags):.1f} ms, "
          f"max {lags[-1]:.1f} ms (synchronous_commit=off: the WAL writer flushes within wal_writer_delay)",
          flush=True)


if __name__ == "__main__":
    main()

"""Requests/s and latency of `GET /v1/stars` vs a bare starlette+orjson endpoint (SPEC §5).

Both run under uvicorn[standard] (uvloop, httptools; getstar with its own protocol, as
``getstar serve`` runs it: ``GETSTAR_HTTP``), one worker, on loopback; wrk drives
each with 32 connections over the same mix of 1,000 real names and positions taken from
the snapshot (``--positions 0``: names only, as SPEC's row reads).  Prints requests/s, p50,
p99 and the ratio to the baseline measured in the same run.  The same for the database floor
(``bench/floor_app.py``: each request one look-up of a ready answer in PostgreSQL, through
getstar's pool and coalescer, and nothing else; its table is in a schema ``bench_floor`` of the
snapshot's database, dropped at the end): what the database round trip alone leaves of the
baseline on this machine.  And, less disturbed by the other load on a shared machine, the
CPU time per request of the service process and of its PostgreSQL backends (found by
``application_name``; shown when the server runs on this machine).  Set GETSTAR_BENCH_DSN to
reuse a loaded snapshot; otherwise a throw-away cluster is created and the default snapshot
loaded (about 40 s).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import ExitStack
from pathlib import Path

import asyncpg
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._cluster import backends_cpu, free_port, proc_cpu, throwaway_cluster  # noqa: E402


async def fill_floor(dsn: str, paths: list[str]) -> None:
    """The floor's table of ready answers: the baseline's document for every request of the mix."""
    from bench.baseline_app import DOC
    from bench.floor_app import SCHEMA

    body = orjson.dumps(DOC)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE; CREATE SCHEMA {SCHEMA}; "
                           f"CREATE TABLE {SCHEMA}.answer (key text PRIMARY KEY, body bytea NOT NULL)")
        await conn.copy_records_to_table("answer", schema_name=SCHEMA,
                                         records=[(path.partition("?")[2], body) for path in set(paths)])
        await conn.execute(f"ANALYZE {SCHEMA}.answer")
    finally:
        await conn.close()


async def drop_floor(dsn: str) -> None:
    from bench.floor_app import SCHEMA

    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    finally:
        await conn.close()


async def sample_paths(dsn: str, n: int, seed: int = 7, positions: float = 0.25) -> list[str]:
    """Real names (every identifier family) and positions of snapshot stars (``positions``: their share)."""
    conn = await asyncpg.connect(dsn)
    try:
        # the same mix in every run on the same snapshot (REPEATABLE: SYSTEM sampling ignores setseed),
        # so runs compare: the CPU per cold request varies by ~50 % between two random mixes
        names = [r["id"] for r in await conn.fetch(
            "SELECT id FROM live.ident TABLESAMPLE SYSTEM (2) REPEATABLE ($2) ORDER BY id LIMIT $1",
            n - round(n * positions), seed)]
        stars = await conn.fetch(
            "SELECT ra, dec FROM live.star TABLESAMPLE SYSTEM (1) REPEATABLE ($2) ORDER BY star_id LIMIT $1",
            n - len(names), seed)
    finally:
        await conn.close()
    paths = ["/v1/stars?" + urllib.parse.urlencode({"name": name}) for name in names]
    paths += [f"/v1/stars?ra={s['ra']:.6f}&dec={s['dec']:.6f}&radius=2arcsec" for s in stars]
    random.Random(seed).shuffle(paths)
    return paths


#: getstar is measured as ``getstar serve`` runs it: with its own HTTP protocol (uvicorn's httptools
#: with the request bounds and timeouts, and the head of an answer written with its body); the
#: baseline with uvicorn's plain httptools.
GETSTAR_HTTP = "getstar.server:GuardedHttpTools"

#: SPEC §5 (raised 2026-12-01): ratios to the baseline's requests/s, and the cold p99
WARM_TARGET, COLD_TARGET, COLD_P99_MS = 0.75, 0.50, 10.0
FLOOR = "database floor (ready answer)"


def start_server(args: list[str], env: dict[str, str], port: int, http: str = "httptools") -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", *args, "--port", str(port), "--log-level", "warning",
                             "--no-access-log", "--loop", "uvloop", "--http", http],
                            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/stars?name=Sirius", timeout=2).read()
            return proc
        except urllib.error.HTTPError:  # answering (the floor knows only the mix's requests)
            return proc
        except Exception:  # noqa: BLE001 - not up yet
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "server died") from None
            time.sleep(0.2)
    raise RuntimeError("server did not start")


LUA = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local i = 0
request = function()
  i = (i %% #paths) + 1
  return wrk.format("GET", paths[i])
end
"""


def wrk(port: int, paths_file: str, seconds: int, connections: int) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(LUA % paths_file)
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", fh.name,
                          f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True).stdout
    os.unlink(fh.name)

    def ms(label: str) -> float:
        m = re.search(rf"^\s*{label}%\s+([\d.]+)(us|ms|s)", out, re.M)
        if not m:
            return float("nan")
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": ms("50"), "p99": ms("99"), "non2xx": float(non2xx.group(1)) if non2xx else 0.0}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--positions", type=float, default=0.25,
                        help="share of positions in the mix (SPEC's row is names only: 0)")
    opts = parser.parse_args()
    if not 0.0 <= opts.positions <= 1.0:
        parser.error("--positions is a share, from 0 to 1")
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (apt-get install wrk)")
    with ExitStack() as stack:
        dsn = os.environ.get("GETSTAR_BENCH_DSN")
        if not dsn:
            cluster = stack.enter_context(throwaway_cluster())
            dsn = cluster.dsn
            env = dict(os.environ, GETSTAR_HOME=str(cluster.home), GETSTAR_EMBEDDED_PORT=str(cluster.port))
            env.pop("GETSTAR_DATABASE_URL", None)
            print("loading the default snapshot ...", flush=True)
            subprocess.run([sys.executable, "-m", "getstar.cli", "ingest", "build"], env=env, check=True,
                           stdout=subprocess.DEVNULL)
        paths = asyncio.run(sample_paths(dsn, opts.requests, positions=opts.positions))
        asyncio.run(fill_floor(dsn, paths))
        stack.callback(lambda: asyncio.run(drop_floor(dsn)))
        paths_file = stack.enter_context(tempfile.NamedTemporaryFile("w", suffix=".txt"))
        paths_file.write("\n".join(paths) + "\n")
        paths_file.flush()
        # wrk is one client with 32 connections: the CPU lane's per-client share (for big answers,
        # e.g. crowded cones) would refuse some of its requests with 503; off, as for a portal
        env = dict(os.environ, GETSTAR_DATABASE_URL=dsn, GETSTAR_LANE_PER_CLIENT="0")
        env.pop("GETSTAR_REDIS_URL", None)
        results: dict[str, dict[str, float]] = {}
        factory = ["getstar.app:create_app", "--factory"]
        for label, app_args, extra in (("baseline (bare starlette+orjson)", ["bench.baseline_app:app"], {}),
                                       (FLOOR, ["bench.floor_app:app"], {}),
                                       ("getstar, cache warm", factory, {}),
                                       # a zero-entry process cache: every request hits the database
                                       ("getstar, cache cold (database)", factory,
                                        {"GETSTAR_CACHE_MAX_ENTRIES": "0"})):
            port = free_port()
            application = f"getstar-bench-resolve-{port}"
            named = dsn + ("&" if "?" in dsn else "?") + f"application_name={application}"
            proc = start_server(app_args, {**env, **extra, "GETSTAR_DATABASE_URL": named}, port,
                                GETSTAR_HTTP if app_args is factory else "httptools")
            try:
                wrk(port, paths_file.name, 2, opts.connections)  # warm-up: pool, prepared statements
                service0, backends0 = proc_cpu(proc.pid), backends_cpu(dsn, application)
                result = wrk(port, paths_file.name, opts.seconds, opts.connections)
                service1, backends1 = proc_cpu(proc.pid), backends_cpu(dsn, application)
                served = result["rps"] * opts.seconds
                result["service_us"] = 1e6 * (service1 - service0) / served
                result["pg_us"] = (1e6 * (backends1 - backends0) / served
                                   if backends0 is not None and backends1 is not None else float("nan"))
                results[label] = result
            finally:
                proc.terminate()
                proc.wait(timeout=10)
    base = results["baseline (bare starlette+orjson)"]["rps"]
    print(f"{len(paths)} distinct requests ({opts.positions:.0%} positions), {opts.connections} connections, "
          f"{opts.seconds} s each, 1 uvicorn worker, 2-core machine")
    for label, r in results.items():
        print(f"{label:34s} {r['rps']:8.0f} req/s   p50 {r['p50']:6.2f} ms   p99 {r['p99']:6.2f} ms   "
              f"ratio {r['rps'] / base:5.1%}   non-2xx {r['non2xx']:.0f}   "
              f"CPU/request: service {r['service_us']:4.0f} us, PostgreSQL "
              + ("  -" if r["pg_us"] != r["pg_us"] else f"{r['pg_us']:4.0f}") + " us")
    warm, cold = results["getstar, cache warm"], results["getstar, cache cold (database)"]
    verdicts = [("cache warm >= 75 % of the baseline", warm["rps"] / base >= WARM_TARGET),
                ("cache cold (database hit) >= 50 % of the baseline", cold["rps"] / base >= COLD_TARGET),
                (f"cache cold p99 < {COLD_P99_MS:.0f} ms", cold["p99"] < COLD_P99_MS)]
    for what, met in verdicts:
        print(f"SPEC §5: {what}: {'OK' if met else 'MISSED'}")
    floor = results[FLOOR]
    print(f"cache cold / database floor: {cold['rps'] / floor['rps']:.1%} of its requests/s "
          f"(the floor: {floor['rps'] / base:.1%} of the baseline, p99 {floor['p99']:.2f} ms)")


if __name__ == "__main__":
    main()

"""Batch cross-identification: end-to-end ``POST /v1/xmatch`` vs astropy and STILTS, same run.

SPEC §5 targets (raised 2026-12-01): 100,000 positions at ≥ 2× the speed of astropy
``search_around_sky`` on the same data (building included) against 2.5 M stars, ≥ 1× against
the real snapshot; ingest of 2.5 M stars in < 60 s and < 2 GB.

What is measured, per snapshot (the real default snapshot, and a synthetic one of ``--rows``
stars built with ``getstar ingest synthetic`` in its own database):
  * getstar: the service started here (uvicorn, one worker); the time from sending a CSV
    body of N positions to having received the whole JSON answer (every row with its match
    and key properties), with curl as the client (httpx if curl is absent);
  * astropy: ``SkyCoord`` of the targets and of the catalogue, then
    ``search_around_sky(catalogue, 2 arcsec)`` (the KD-tree build included); the catalogue
    positions are read from the database into numpy first, untimed;
  * STILTS ``tmatch2`` (best match per target, 2 arcsec), when ``stilts`` is installed: the
    targets (CSV) and catalogue (FITS) are written first, untimed; JVM start-up included.
Targets are catalogue stars offset by ~0.5 arcsec (90 %) and random sky positions (10 %).
Also the CPU seconds each side spends (best of the repeats), a figure the other engineers'
load on the shared 2-core machine disturbs far less than wall time: getstar's is the
service's, its PostgreSQL backends' (with a throw-away or kept cluster: found by their
``application_name``) and curl's; astropy's its own process's.
Also: wall time and peak RSS of ``getstar ingest synthetic --rows N`` (a child process; the
PostgreSQL server's own memory is not in that figure: its settings bound it).

Two floors, the least each target's work costs here, whatever the code around it:
  * matching in the database (``database_floor``): for the largest size, the positions
    statement the service runs, on one connection, with no key property and then with
    getstar's (JSON), its rows counted where they are made (not sent); astropy's time beside it;
  * writing the stars (``write_floor``, on the synthetic snapshot): its stars written once
    into an empty table shaped like the star table, each row formed from the synthetic
    source's columns (as any build must form them), the same rows copied as they are, and
    one q3c index.

    .venv/bin/python bench/xmatch.py [--rows 2500000] [--sizes 10000,100000] [--repeat 3] [--home DIR]

Without ``--home`` a throw-away PostgreSQL cluster is created in a temporary directory and
destroyed at the end (as the tests do); with it the cluster is kept and a real snapshot
already there is reused.  ``GETSTAR_DATABASE_URL`` may point at a server instead (it needs
the right to create databases).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._cluster import backends_cpu, free_port, proc_cpu  # noqa: E402
from getstar.config import Settings  # noqa: E402
from getstar.embedded import EmbeddedCluster  # noqa: E402

RADIUS_ARCSEC = 2.0
#: SPEC §5: 100,000 positions, getstar's speed over astropy's, per snapshot; the ingest's seconds
SPEED_TARGET = {"synthetic": 2.0, "real": 1.0}
INGEST_TARGET_S = 60


# ---------------------------------------------------------------------------------------
# Databases


class Databases:
    """A cluster to create the two snapshot databases in: throw-away, kept, or given by URL."""

    def __init__(self, home: Path | None) -> None:
        self.url = os.environ.get("GETSTAR_DATABASE_URL")
        self.cluster: EmbeddedCluster | None = None
        self.throwaway = False
        if self.url:
            return
        if home is None:
            home = Path(tempfile.mkdtemp(prefix="getstar-bench-", dir="/tmp"))
            self.throwaway = True
        home.mkdir(parents=True, exist_ok=True)
        os.chmod(home, 0o755)
        port_file = home / "bench.port"
        port = int(port_file.read_text()) if port_file.exists() else free_port()
        port_file.write_text(str(port))
        self.cluster = EmbeddedCluster(home=home, port=port)
        self.cluster.init()
        self.cluster.start({"fsync": "off", "full_page_writes": "off", "synchronous_commit": "off"})

    def dsn(self, name: str) -> str:
        if self.url:
            parts = urlsplit(self.url)
            return urlunsplit(parts._replace(path="/" + name))
        assert self.cluster is not None
        return f"postgresql://getstar@/{name}?host={self.cluster.socket_dir}&port={self.cluster.port}"

    async def create(self, name: str) -> str:
        admin = self.dsn("postgres")
        conn = await asyncpg.connect(admin)
        try:
            if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        dsn = self.dsn(name)
        from getstar.schema import migrate

        conn = await asyncpg.connect(dsn)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        return dsn

    def cpu(self, application: str) -> float | None:
        """CPU seconds so far of the cluster's backends whose ``application_name`` is
        ``application`` (None for a server given by URL, whose processes are not ours to read)."""
        if self.cluster is None:
            return None
        return backends_cpu(self.dsn("postgres"), application) or 0.0

    def close(self) -> None:
        if self.cluster is not None and self.throwaway:
            self.cluster.destroy()


async def has_snapshot(dsn: str) -> bool:
    conn = await asyncpg.connect(dsn)
    try:
        return bool(await conn.fetchval("SELECT to_regclass('live.star') IS NOT NULL"))
    finally:
        await conn.close()


async def catalogue(dsn: str) -> tuple[np.ndarray, np.ndarray]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT ra, dec FROM live.star")
    finally:
        await conn.close()
    arr = np.array(rows, dtype=np.float64)
    return arr[:, 0], arr[:, 1]


_INGEST = """
import sys
from getstar.cli import main
code = main(["ingest", "synthetic", "--rows", sys.argv[1]])
hwm = next(line.split()[1] for line in open("/proc/self/status") if line.startswith("VmHWM:"))
sys.stderr.write(f"MAXRSS_KB {hwm}\\n")
sys.exit(code)
"""


def ingest_synthetic(dsn: str, rows: int) -> tuple[float, float]:
    """``getstar ingest synthetic --rows N`` in a child process: (seconds, its peak RSS in MB).

    The child reports its own peak (VmHWM): getrusage's maxrss would also count this process's
    image, carried over by fork until exec, and RUSAGE_CHILDREN the largest of all children
    (the JVM of STILTS, the service).
    """
    env = dict(os.environ, GETSTAR_DATABASE_URL=dsn)
    start = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", _INGEST, str(rows)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, check=True, text=True)
    seconds = time.perf_counter() - start
    peak = next(int(line.split()[1]) for line in res.stderr.splitlines() if line.startswith("MAXRSS_KB"))
    return seconds, peak / 1024.0


# ---------------------------------------------------------------------------------------
# Inputs


def targets(cat_ra: np.ndarray, cat_dec: np.ndarray, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(cat_ra), size=n, replace=len(cat_ra) < n)
    ra, dec = cat_ra[picked].copy(), cat_dec[picked].copy()
    angle = rng.uniform(0, 2 * np.pi, n)
    step = 0.5 / 3600.0
    dec = np.clip(dec + step * np.cos(angle), -90, 90)
    ra = (ra + step * np.sin(angle) / np.maximum(np.cos(np.radians(dec)), 1e-6)) % 360.0
    sky = rng.random(n) < 0.10
    ra[sky] = rng.uniform(0, 360, sky.sum())
    dec[sky] = np.degrees(np.arcsin(rng.uniform(-1, 1, sky.sum())))
    return ra, dec


def csv_body(ra: np.ndarray, dec: np.ndarray) -> bytes:
    buf = io.StringIO()
    buf.write("ra,dec\n")
    buf.writelines(f"{a!r},{d!r}\n" for a, d in zip(ra.tolist(), dec.tolist(), strict=True))
    return buf.getvalue().encode()


# ---------------------------------------------------------------------------------------
# Floors


async def database_floor(dsn: str, ra: np.ndarray, dec: np.ndarray) -> dict[str, tuple[float, float]]:
    """PostgreSQL's part of matching ``ra``, ``dec`` (no names, 2 arcsec), on one connection:
    {what: (least wall seconds, CPU seconds of the backend then)} of the positions statement
    with no key property, then with getstar's (JSON)."""
    from getstar.db import connect
    from getstar.xmatch.match import KEY_PROPERTIES, TargetSet, load_targets, match_sql
    from getstar.xmatch.render import params

    n = len(ra)
    targets = TargetSet(ra, dec, np.full(n, np.nan), np.full(n, RADIUS_ARCSEC / 3600.0), [None] * n, {})
    conn = await connect(dsn)
    cpu = partial(proc_cpu, await conn.fetchval("SELECT pg_backend_pid()"))
    out: dict[str, tuple[float, float]] = {}
    try:
        async with conn.transaction():
            await load_targets(conn, targets)
            for what, props in (("matching", ()), ("matching and rendering", KEY_PROPERTIES)):
                sql = f"SELECT count(*), sum(length(xm_text)) FROM ({match_sql('json', props)[0]}) x"
                args = params("json") if props else []
                runs = []
                for _ in range(2):
                    c0, t0 = cpu(), time.perf_counter()
                    await conn.fetchrow(sql, *args)
                    runs.append((time.perf_counter() - t0, cpu() - c0))
                out[what] = min(runs)
    finally:
        await conn.close()
    return out


async def write_floor(dsn: str) -> dict[str, float]:
    """Seconds to write the synthetic snapshot's stars once, three ways (the module's docstring),
    and the star table's number of columns."""
    from getstar.db import connect
    from getstar.ingest.synthetic import COLUMNS
    from getstar.properties import BY_NAME

    prop = {"ra": "RAJ2000", "dec": "DEJ2000", "pmra": "pmRa", "pmdec": "pmDec", "plx": "plx", "v": "V", "g": "G",
            "k": "K"}
    sources = [name for name, _ in COLUMNS[1:]]
    targets = ", ".join(BY_NAME[prop[name]].column for name in sources)
    steps = {
        "formed from the source": f"INSERT INTO bench_floor.star (star_id, main_id, {targets}) "
                                  f"SELECT n, 'SYN ' || n, {', '.join(sources)} FROM raw.synthetic",
        "copied as they are": "CREATE UNLOGGED TABLE bench_floor.copy AS SELECT * FROM live.star",
        "a q3c index": "CREATE INDEX ON bench_floor.copy (q3c_ang2ipix(ra, dec))",
    }
    conn = await connect(dsn)
    out: dict[str, float] = {}
    try:
        out["columns"] = await conn.fetchval("SELECT count(*) FROM pg_attribute WHERE attrelid = 'live.star'::regclass "
                                             "AND attnum > 0 AND NOT attisdropped")
        out["stars"] = await conn.fetchval("SELECT count(*) FROM raw.synthetic")
        await conn.execute("DROP SCHEMA IF EXISTS bench_floor CASCADE; CREATE SCHEMA bench_floor; "
                           "CREATE UNLOGGED TABLE bench_floor.star (LIKE live.star)")
        for what, sql in steps.items():
            start = time.perf_counter()
            await conn.execute(sql)
            out[what] = time.perf_counter() - start
    finally:
        await conn.execute("DROP SCHEMA IF EXISTS bench_floor CASCADE")
        await conn.close()
    return out


def print_write_floor(floor: dict[str, float]) -> None:
    stars = floor["stars"]
    print(f"  write floor ({floor['columns']:.0f} columns a star): "
          + ", ".join(f"{what} {floor[what]:.1f} s" for what in ("formed from the source", "copied as they are",
                                                                   "a q3c index"))
          + f" ({floor['formed from the source'] / stars * 1e6:.1f} us a star formed)", flush=True)


# ---------------------------------------------------------------------------------------
# The three contenders


class Service:
    """uvicorn serving getstar on a snapshot database, in a child process."""

    def __init__(self, dsn: str) -> None:
        self.port = free_port()
        #: what its connections call themselves, for counting their backends' CPU
        self.application = f"getstar-bench-{os.getpid()}-{self.port}"
        dsn += ("&" if "?" in dsn else "?") + f"application_name={self.application}"
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, GETSTAR_DATABASE_URL=dsn, GETSTAR_SIMBAD_ENABLED="0", GETSTAR_LOG_LEVEL="warning")
        env.pop("GETSTAR_REDIS_URL", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "getstar.app:create_app", "--factory", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning", "--no-access-log"],
            env=env, cwd=ROOT)
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/health/ready", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("the service did not start")
            time.sleep(0.2)

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
        return float("nan")

    def post(self, body: bytes) -> int:
        """POST, read the whole answer; returns its size in bytes.

        curl when installed: a Python client decoding 80 MB of chunked HTTP would spend more
        CPU than the service on this 2-core machine, measuring itself.
        """
        curl = shutil.which("curl")
        if curl:
            res = subprocess.run([curl, "-sS", "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                                  "-H", "Content-Type: text/csv", "--data-binary", "@-",
                                  f"{self.url}/v1/xmatch?format=json"], input=body, capture_output=True, check=True)
            status, size_text = res.stdout.decode().split()
            if status != "200":
                raise RuntimeError(f"xmatch answered {status}")
            return int(size_text)
        size = 0
        with httpx.stream("POST", f"{self.url}/v1/xmatch", content=body, params={"format": "json"},
                          headers={"Content-Type": "text/csv"}, timeout=600) as resp:
            if resp.status_code != 200:
                raise RuntimeError(f"xmatch answered {resp.status_code}: {resp.read()[:300]!r}")
            for chunk in resp.iter_raw():
                size += len(chunk)
        return size

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def astropy_match(ra: np.ndarray, dec: np.ndarray, cat_ra: np.ndarray, cat_dec: np.ndarray) -> int:
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    targets_c = SkyCoord(ra * u.deg, dec * u.deg)
    cat_c = SkyCoord(cat_ra * u.deg, cat_dec * u.deg)
    # the KD-tree is built on the catalogue (self), searched around the targets
    idx_targets, _idx_cat, _sep, _ = cat_c.search_around_sky(targets_c, RADIUS_ARCSEC * u.arcsec)
    return len(np.unique(idx_targets))


def stilts_match(stilts: str, targets_csv: Path, cat_fits: Path, out: Path) -> None:
    subprocess.run([stilts, "tmatch2", f"in1={targets_csv}", "ifmt1=csv", f"in2={cat_fits}", "ifmt2=fits",
                    "matcher=sky", f"params={RADIUS_ARCSEC}", "values1=ra dec", "values2=ra dec",
                    "find=best1", "join=all1", f"out={out}", "ofmt=csv"],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def best_of(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(repeat: int, fn: Callable[[], object], cpu: Callable[[], float | None]) -> tuple[float, float | None]:
    """The least wall time and the least CPU seconds (``cpu()`` across a call; None when it
    cannot be counted) of ``repeat`` calls of ``fn``."""
    times, spent = [], []
    for _ in range(repeat):
        before, start = cpu(), time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
        after = cpu()
        if before is not None and after is not None:
            spent.append(after - before)
    return min(times), (min(spent) if spent else None)


# ---------------------------------------------------------------------------------------


def bench_snapshot(label: str, dsn: str, sizes: list[int], repeat: int, work: Path,
                   db_cpu: Callable[[str], float | None]) -> list[dict[str, object]]:
    cat_ra, cat_dec = asyncio.run(catalogue(dsn))
    print(f"\n== {label}: {len(cat_ra):,} stars")
    stilts = shutil.which("stilts")
    cat_fits = work / f"{label}-catalogue.fits"
    if stilts:
        from astropy.table import Table

        Table({"ra": cat_ra, "dec": cat_dec}).write(cat_fits, overwrite=True)
    service = Service(dsn)
    results = []
    try:
        # warm-up, untimed: the pool, the plans, and PostgreSQL's cache (a fresh cluster's
        # snapshot is still in the OS's cache only); the timed runs see a service in its
        # steady state, as astropy sees its catalogue already in memory
        service.post(csv_body(*targets(cat_ra, cat_dec, max(sizes), seed=1)))
        for n in sizes:
            ra, dec = targets(cat_ra, cat_dec, n, seed=n)
            body = csv_body(ra, dec)
            reps = repeat
            def getstar_cpu() -> float | None:
                db = db_cpu(service.application)
                return None if db is None else db + proc_cpu(service.proc.pid) + proc_cpu(os.getpid(), True)

            t_getstar, c_getstar = measure(reps, partial(service.post, body), getstar_cpu)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t_astropy, c_astropy = measure(reps, partial(astropy_match, ra, dec, cat_ra, cat_dec),
                                               time.process_time)
            t_stilts = None
            if stilts:
                targets_csv = work / f"{label}-{n}.csv"
                targets_csv.write_bytes(body)
                t_stilts = best_of(1, partial(stilts_match, stilts, targets_csv, cat_fits, work / "stilts.csv"))
            results.append({"snapshot": label, "stars": len(cat_ra), "n": n, "getstar": t_getstar,
                            "astropy": t_astropy, "stilts": t_stilts})
            line = (f"  {n:>7,} positions: getstar {t_getstar:6.2f} s ({n / t_getstar:9,.0f} rows/s) | "
                    f"astropy {t_astropy:6.2f} s ({n / t_astropy:9,.0f} rows/s, getstar {t_astropy / t_getstar:4.1f}x)")
            if t_stilts is not None:
                line += f" | stilts {t_stilts:6.2f} s (getstar {t_stilts / t_getstar:4.1f}x)"
            print(line, flush=True)
            if c_getstar is not None and c_astropy is not None:
                print(f"  {n:>7,} positions, CPU seconds: getstar {c_getstar:6.2f} (service, PostgreSQL, curl) | "
                      f"astropy {c_astropy:6.2f} (getstar {c_astropy / c_getstar:4.1f}x)", flush=True)
            if n == max(sizes):
                floor = asyncio.run(database_floor(dsn, ra, dec))
                print(f"  {n:>7,} positions, PostgreSQL alone on one connection: "
                      + ", ".join(f"{what} {wall:.2f} s ({spent:.2f} CPU s)" for what, (wall, spent) in floor.items())
                      + f" | astropy whole {t_astropy:.2f} s", flush=True)
        print(f"  service peak RSS: {service.peak_rss_mb():.0f} MB")
    finally:
        service.stop()
    return results


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=2_500_000, help="synthetic snapshot size")
    ap.add_argument("--sizes", default="10000,100000", help="target list sizes")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--home", type=Path, default=None, help="keep the benchmark cluster here")
    ap.add_argument("--skip-real", action="store_true")
    ap.add_argument("--skip-ingest", action="store_true",
                    help="reuse the synthetic snapshot of a kept cluster (--home) instead of ingesting again")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    dbs = Databases(args.home)
    work = Path(tempfile.mkdtemp(prefix="getstar-bench-files-", dir="/tmp"))
    results: list[dict[str, object]] = []
    try:
        if not args.skip_real:
            real = asyncio.run(dbs.create("bench_real"))
            if not asyncio.run(has_snapshot(real)):
                from getstar.ingest.pipeline import run_ingest

                print("building the real default snapshot (about a minute)", flush=True)
                settings = replace(Settings.from_env(), database_url=real, redis_url=None)
                asyncio.run(run_ingest(real, settings, "build", [], progress=lambda _label: None))
            results += bench_snapshot("real", real, sizes, args.repeat, work, dbs.cpu)

        synth = asyncio.run(dbs.create("bench_synthetic"))
        if not (args.skip_ingest and asyncio.run(has_snapshot(synth))):
            print(f"\ningesting {args.rows:,} synthetic stars (getstar ingest synthetic, child process)", flush=True)
            seconds, rss = ingest_synthetic(synth, args.rows)
            print(f"  ingest: {seconds:.1f} s ({args.rows / seconds:,.0f} stars/s), peak RSS {rss:.0f} MB "
                  f"(SPEC: < {INGEST_TARGET_S} s, < 2048 MB: "
                  f"{'OK' if seconds < INGEST_TARGET_S and rss < 2048 else 'MISSED'})")
        print_write_floor(asyncio.run(write_floor(synth)))
        results += bench_snapshot("synthetic", synth, sizes, args.repeat, work, dbs.cpu)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        dbs.close()

    for r in results:
        if r["n"] != max(sizes) or r["snapshot"] not in SPEED_TARGET:
            continue
        t, a = float(r["getstar"]), float(r["astropy"])  # type: ignore[arg-type]
        target = SPEED_TARGET[str(r["snapshot"])]
        print(f"SPEC §5: {r['n']:,} positions vs {r['stars']:,} {r['snapshot']} stars: {t:.2f} s end to end, "
              f"{a / t:.1f}x astropy (target ≥ {target:g}x: {'OK' if a / t >= target else 'MISSED'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

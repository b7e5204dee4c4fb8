"""``getstar ingest simbad-enrich`` against a real TAP server: time per batch, and what it means at SIMBAD.

Builds the test world of ``tests/simbad_bulk.py`` at a larger scale (Hipparcos every
``--hip-step``-th star, Gaia every ``--gaia-step``-th source besides their matches: ~17,000
stars by default) in a throw-away cluster, serves its invented SIMBAD objects with GAVO DaCHS
(``tests/tap_server/dachs.py``), and enriches a fresh copy of the snapshot once per batch
size, at SIMBAD's rate policy (5 queries/s).  Per batch size: batches, mean time per batch
(the query: rate wait + upload + answer; the store: the one transaction), stars/s.

Then the projection for the 490 k-star default snapshot and a 2.5 M-star JSDC-sized one:
queries = stars / batch; the rate bound (queries / 5 per s: SIMBAD's policy alone) and the
measured bound (DaCHS's time per batch, scaled by the number of batches).  SIMBAD's own
server time per upload is not measurable here (no network): DaCHS on this machine stands in.

    .venv/bin/python bench/simbad_enrich.py [--sizes 500,2000,5000,10000] [--hip-step 10] [--gaia-step 100]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._cluster import throwaway_cluster  # noqa: E402
from getstar.config import Settings  # noqa: E402
from getstar.db import _init_connection  # noqa: E402
from getstar.ingest.pipeline import run_ingest  # noqa: E402
from getstar.schema import migrate  # noqa: E402
from getstar.simbad.enrich import EnrichOptions, enrich  # noqa: E402
from tests.simbad_bulk import Star, make_simbad, subset_files, write_rows  # noqa: E402
from tests.tap_server.dachs import missing, running_dachs  # noqa: E402

SIMBAD_RATE = 5.0
TARGETS = {"default snapshot (490 k)": 490_000, "JSDC-sized (2.5 M)": 2_500_000}


async def _admin(cluster: object, sql: str) -> None:
    conn = await asyncpg.connect(cluster.admin_dsn())  # type: ignore[attr-defined]
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="500,2000,5000,10000")
    parser.add_argument("--hip-step", type=int, default=10)
    parser.add_argument("--gaia-step", type=int, default=100)
    args = parser.parse_args()
    reason = missing()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    sizes = [int(s) for s in args.sizes.split(",")]
    with throwaway_cluster() as cluster:
        base_name = "enrich_base"
        asyncio.run(_admin(cluster, f'CREATE DATABASE "{base_name}"'))
        dsn_of = lambda name: f"postgresql://getstar@/{name}?host={cluster.socket_dir}&port={cluster.port}"  # noqa: E731
        settings = replace(Settings.from_env(), home=cluster.home, embedded_port=cluster.port, redis_url=None)
        base = dsn_of(base_name)

        async def build() -> list[Star]:
            conn = await asyncpg.connect(base)
            await migrate(conn)
            await conn.close()
            hip, gaia = subset_files(Path(tempfile.mkdtemp(prefix="getstar-bench-")), args.hip_step, args.gaia_step)
            for source, paths in (("hipparcos", [hip]), ("gaia", [gaia]), ("stellarium", [])):
                await run_ingest(base, settings, source, paths, progress=lambda _label: None)
            conn = await asyncpg.connect(base)
            rows = await conn.fetch("SELECT star_id, ra, dec, p_gaia, p_hip, p_hd FROM live.star ORDER BY star_id")
            await conn.close()
            return [Star(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]

        t0 = time.monotonic()
        stars = asyncio.run(build())
        objects, _expected = make_simbad(stars)
        print(f"snapshot of {len(stars):,} stars, {len(objects):,} SIMBAD objects ({time.monotonic() - t0:.0f} s)")
        with running_dachs(["simbadlike"], prepare=lambda _n, target: write_rows(target, objects)) as tap:
            cfg = replace(settings, simbad_enabled=True, simbad_tap_url=tap + "/sync",
                          simbad_table_prefix="simbadlike", simbad_enrich_timeout=600.0)
            results = []
            for size in sizes:
                name = f"enrich_{size}"
                asyncio.run(_admin(cluster, f'CREATE DATABASE "{name}" TEMPLATE "{base_name}"'))

                async def once(dsn: str, batch: int) -> dict[str, int]:
                    conn = await asyncpg.connect(dsn)
                    await _init_connection(conn)
                    try:
                        _run, report = await enrich(conn, cfg, EnrichOptions(batch=batch, rate=SIMBAD_RATE,
                                                                             show_bar=False))
                        return report.counts
                    finally:
                        await conn.close()

                started = time.monotonic()
                counts = asyncio.run(once(dsn_of(name), size))
                wall = time.monotonic() - started
                results.append((size, counts, wall))
                shrunk = (f" (shrunk to {counts['batch_size']:,} by the server's upload limit: "
                          f"{counts['upload_shrinks']} HTTP 413)") if counts.get("upload_shrinks") else ""
                print(f"batch {size:>6,}{shrunk}: {counts['batches']:>3} batches, {counts['batch_ms_mean']:>6,} ms "
                      f"per batch (query {counts['query_ms_mean']:,} + store {counts['store_ms_mean']:,}), "
                      f"{counts['stars_asked'] / wall:,.0f} stars/s, {counts['stars_enriched']:,} enriched")
        print(f"\nprojection at SIMBAD's rate policy ({SIMBAD_RATE:g} queries/s, uploads <= 200,000 rows):")
        for _size, counts, wall in results:
            size = counts["batch_size"]
            per_star = wall / max(1, counts["stars_asked"])
            for label, n in TARGETS.items():
                queries = math.ceil(n / size)
                print(f"  batch {size:>6,}, {label}: {queries:,} queries; rate bound {queries / SIMBAD_RATE:,.0f} s; "
                      f"at DaCHS' measured {per_star * 1000:.1f} ms per star ({counts['batch_ms_mean'] / 1000:.2f} s "
                      f"per batch): {n * per_star / 60:,.1f} min")
    return 0


if __name__ == "__main__":
    sys.exit(main())

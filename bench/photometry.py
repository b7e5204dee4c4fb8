"""Photometry of a built snapshot: coverage of V, B, J, H, K, SpType, and the Gaia DR3
relations against real measurements (SIMBAD's V, J, H, K of the bright stars; the 2MASS
J, H, Ks of JMDC's file), bias and robust scatter per band next to the published scatter, and
getstar's own Ks fit for the red stars past the published relations (cross-validated).

    GETSTAR_BENCH_DSN=postgresql://... .venv/bin/python bench/photometry.py   # an existing snapshot
    .venv/bin/python bench/photometry.py                                      # builds one first (~2 min)
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import asyncpg

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench._cluster import throwaway_cluster  # noqa: E402
from getstar.ingest.photometry import coverage_table  # noqa: E402
from getstar.photometry.validate import (  # noqa: E402
    BRIGHT_HEADER,
    HEADER,
    fit_bright_2mass,
    fit_red_ks,
    gaia_relation_residuals,
)

SHARED = Path(__file__).resolve().parents[2] / "shared"


async def report(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        counts = json.loads(await conn.fetchval("SELECT row_counts::text FROM live.snapshot_info"))
        print(f"coverage of {counts['coverage_stars']:,} stars ({counts['coverage_hip_stars']:,} Hipparcos stars)")
        print("  property   stars   catalogue   Hipparcos stars")
        for name, all_, cat, hip in coverage_table(counts):
            print(f"  {name:8s} {all_:6.2f} %  {cat:6.2f} %     {hip:6.2f} %")
        for src in ("stellarium", "kstars"):
            if f"{src}_records" in counts:
                print(f"{src}: {counts[f'{src}_records']:,} records, matched by HIP "
                      f"{counts[f'{src}_matched_by_hip']:,}, by position {counts[f'{src}_matched_by_position']:,}, "
                      f"ambiguous {counts[f'{src}_ambiguous']:,}, unmatched {counts[f'{src}_unmatched']:,}")
        print("\nGaia DR3 relations (estimate - measurement), stars with G, BP, RP inside each relation's range")
        print("  " + HEADER)
        for r in await gaia_relation_residuals(conn):
            print("  " + r.row())
        fit = await fit_red_ks(conn)
        print(f"\ngetstar's Ks for red stars (BP - RP >= 2.5; getstar_red_ks.tsv): G - Ks = {fit.c0:.4f} + "
              f"{fit.c1:.4f} (BP - RP), fitted on {fit.n} catalogue Ks; 10-fold cross-validated on the "
              f"{fit.n_used_range} with BP - RP >= 2.5: bias {fit.cv_bias:+.3f}, robust scatter "
              f"{fit.cv_scatter:.3f}, rms {fit.cv_rms:.3f} mag")
        print("\ngetstar's 2MASS relations for Gaia's bright stars (getstar_bright_2mass.tsv), 2MASS - estimate:")
        print("  " + BRIGHT_HEADER)
        for bright in await fit_bright_2mass(conn, SHARED):
            print("  " + bright.row())
    finally:
        await conn.close()


def main() -> None:
    dsn = os.environ.get("GETSTAR_BENCH_DSN")
    if dsn:
        asyncio.run(report(dsn))
        return
    with throwaway_cluster() as cluster:
        env = dict(os.environ, GETSTAR_HOME=str(cluster.home), GETSTAR_EMBEDDED_PORT=str(cluster.port))
        env.pop("GETSTAR_DATABASE_URL", None)
        subprocess.run([sys.executable, "-m", "getstar.cli", "ingest", "build"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        asyncio.run(report(cluster.dsn))


if __name__ == "__main__":
    main()

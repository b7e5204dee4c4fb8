"""Full ingest + build of the default snapshot: wall time, rows/s, peak memory.

Runs `getstar ingest build` as a child process against a throw-away embedded cluster,
so the figures are those a user sees; peak RSS is the getstar process's (PostgreSQL's
own memory is bounded by its settings: shared_buffers 256 MB, maintenance_work_mem 512 MB).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import asyncpg

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from bench._cluster import peak_rss_mb_children, throwaway_cluster  # noqa: E402


async def counts(dsn: str) -> dict[str, int]:
    conn = await asyncpg.connect(dsn)
    try:
        row = await conn.fetchval("SELECT row_counts::text FROM live.snapshot_info")
        return dict(json.loads(row))
    finally:
        await conn.close()


def main() -> None:
    import asyncio

    with throwaway_cluster() as cluster:
        env = dict(os.environ, GETSTAR_HOME=str(cluster.home), GETSTAR_EMBEDDED_PORT=str(cluster.port))
        env.pop("GETSTAR_DATABASE_URL", None)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "getstar.cli", "ingest", "build"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        first = time.perf_counter() - start
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "getstar.cli", "ingest", "rebuild"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        rebuild = time.perf_counter() - start
        c = asyncio.run(counts(cluster.dsn))
    stars, idents = c["stars"], c["identifiers"]
    print(f"ingest build (read every source + build + index + swap): {first:6.1f} s   "
          f"{stars / first:8.0f} stars/s   {idents / first:8.0f} identifiers/s")
    print(f"ingest rebuild (from the raw store):                    {rebuild:6.1f} s   "
          f"{stars / rebuild:8.0f} stars/s")
    print(f"snapshot: {stars} stars, {idents} identifiers")
    print(f"peak RSS of the getstar process: {peak_rss_mb_children():.0f} MB (SPEC target for 2.5 M stars: < 2 GB)")


if __name__ == "__main__":
    main()

"""What /health and /health/ready report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from getstar import __version__
from getstar.schema import current_schema_version


async def snapshot_info(pool: asyncpg.Pool) -> dict[str, Any] | None:
    async with pool.acquire() as conn:
        if not await conn.fetchval("SELECT to_regclass('live.snapshot_info') IS NOT NULL"):
            return None
        row = await conn.fetchrow(
            "SELECT version, sources, row_counts, load_started, load_finished FROM live.snapshot_info LIMIT 1")
    if row is None:
        return None
    return {
        "version": row["version"],
        "load_started": row["load_started"].isoformat(),
        "load_finished": row["load_finished"].isoformat() if row["load_finished"] else None,
        "row_counts": row["row_counts"],
        "coverage": coverage(row["row_counts"]),
        "sources": row["sources"],
    }


def coverage(counts: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Percent of stars with each key property (any origin / catalogue values / among Hipparcos stars)."""
    from getstar.ingest.photometry import coverage_table

    return {name: {"stars_pct": round(all_, 2), "catalogue_pct": round(cat, 2), "hipparcos_pct": round(hip, 2)}
            for name, all_, cat, hip in coverage_table(counts or {})}


async def health(pool: asyncpg.Pool | None, started: datetime, fallback: Any = None) -> dict[str, Any]:
    """``fallback``: the SIMBAD fallback (``status()``: breaker state, last error, counters), if enabled."""
    report: dict[str, Any] = {
        "status": "ok",
        "service": "getstar",
        "version": __version__,
        "started": started.isoformat(),
        "database": {"reachable": False},
        "snapshot": None,
        "simbad": fallback.status() if fallback is not None else {"enabled": False},
    }
    if pool is None:
        report["status"] = "degraded"
        return report
    try:
        async with pool.acquire(timeout=2) as conn:
            report["database"] = {
                "reachable": True,
                "schema_version": await current_schema_version(conn),
                "pool_size": pool.get_size(),
                "pool_in_use": pool.get_size() - pool.get_idle_size(),
                "pool_max": pool.get_max_size(),
            }
        report["snapshot"] = await snapshot_info(pool)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        report["status"] = "degraded"
        report["database"] = {"reachable": False, "error": str(exc)}
    if report["snapshot"] is None:
        report["status"] = "degraded"
    return report

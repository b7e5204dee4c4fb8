"""What /health and /health/ready report.

Both ask the database on the state's own probe connection (``State.probe``), never through the
request pool: when slow clients hold every pooled connection the service is busy, not dead,
and readiness must keep saying so.  Source files are shown by name and checksum: the
server's directory layout is nobody's business.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime
from pathlib import PurePath
from typing import Any

import asyncpg

from getstar import __version__
from getstar.schema import current_schema_version

#: ``State.probe``: an async context manager yielding the probe connection.
Probe = Callable[[], contextlib.AbstractAsyncContextManager[asyncpg.Connection]]
PROBE_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError)


def public_sources(sources: dict[str, Any]) -> dict[str, Any]:
    """Each source's file name, checksum and counts, without the server's paths."""
    out: dict[str, Any] = {}
    for name, info in (sources or {}).items():
        if isinstance(info, dict):
            info = dict(info)
            if info.get("path"):
                info["file"] = PurePath(str(info.pop("path"))).name
            out[name] = info
        else:
            out[name] = info
    return out


async def snapshot_info(conn: asyncpg.Connection) -> dict[str, Any] | None:
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
        "sources": public_sources(row["sources"]),
    }


def coverage(counts: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Percent of stars with each key property (any origin / catalogue values / among Hipparcos stars)."""
    from getstar.ingest.photometry import coverage_table

    return {name: {"stars_pct": round(all_, 2), "catalogue_pct": round(cat, 2), "hipparcos_pct": round(hip, 2)}
            for name, all_, cat, hip in coverage_table(counts or {})}


async def readiness(probe: Probe) -> str | None:
    """The live snapshot's version when the database answers and holds one, else None."""
    try:
        async with probe() as conn:
            if not await conn.fetchval("SELECT to_regclass('live.snapshot_info') IS NOT NULL"):
                return None
            version = await conn.fetchval("SELECT version FROM live.snapshot_info LIMIT 1")
    except PROBE_ERRORS:
        return None
    return str(version) if version else None


async def health(probe: Probe | None, pool: asyncpg.Pool | None, started: datetime,
                 fallback: Any = None) -> dict[str, Any]:
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
    if probe is None or pool is None:
        report["status"] = "degraded"
        return report
    try:
        async with probe() as conn:
            report["database"] = {
                "reachable": True,
                "schema_version": await current_schema_version(conn),
                # true on a read replica (a standby): this worker reads there, writes elsewhere
                "in_recovery": await conn.fetchval("SELECT pg_is_in_recovery()"),
                "pool_size": pool.get_size(),
                "pool_in_use": pool.get_size() - pool.get_idle_size(),
                "pool_max": pool.get_max_size(),
            }
            report["snapshot"] = await snapshot_info(conn)
    except PROBE_ERRORS as exc:
        report["status"] = "degraded"
        report["database"] = {"reachable": False, "error": _in_our_words(exc)}
    if report["snapshot"] is None:
        report["status"] = "degraded"
    return report


def _in_our_words(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "the database did not answer in time"
    if isinstance(exc, asyncpg.PostgresError):
        return f"the database refused the health query ({type(exc).__name__})"
    return "the database is not reachable"

"""The enrichment's runs, checkpoints and conflicts, kept in the raw store (they survive rebuilds).

``raw.simbad_enrich_run``: one row per run (its options, the live snapshot version it
walks, ``last_star_id``: the checkpoint, and the running counts).  A batch's writes and the
checkpoint commit in one transaction, so after a crash or a kill the checkpoint names the
last batch whose data is in, and ``--resume`` goes on after it.  Star ids are only
meaningful within one snapshot version: a run cannot resume across a rebuild (what it
enriched is kept; ``--only-missing`` does the rest).

``raw.simbad_enrich_conflict``: the conflicts a run reported (``getstar.simbad.conflicts``),
with the stars' main identifiers (star ids change at every rebuild).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import asyncpg

from getstar.schema import LIVE
from getstar.simbad.conflicts import Conflict

RUNS = "raw.simbad_enrich_run"
CONFLICTS = "raw.simbad_enrich_conflict"
#: Session lock: one enrichment at a time per database.
RUN_LOCK = 5005_0002

DDL = [
    "CREATE SCHEMA IF NOT EXISTS raw",
    f"""CREATE TABLE IF NOT EXISTS {RUNS} (
          run_id bigserial PRIMARY KEY, status text NOT NULL, snapshot_version text NOT NULL,
          only_missing boolean NOT NULL, last_star_id bigint NOT NULL DEFAULT 0,
          counts jsonb NOT NULL DEFAULT '{{}}', error text,
          started_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, finished_at timestamptz)""",
    f"""CREATE TABLE IF NOT EXISTS {CONFLICTS} (
          run_id bigint NOT NULL, kind text NOT NULL, oids bigint[] NOT NULL, main_ids text[] NOT NULL,
          star_names text[] NOT NULL, detail text NOT NULL, merged boolean NOT NULL,
          fetched_at timestamptz NOT NULL)""",
    f"CREATE INDEX IF NOT EXISTS simbad_enrich_conflict_run ON {CONFLICTS} (run_id)",
]

RUNNING, FINISHED, FAILED, ABANDONED = "running", "finished", "failed", "abandoned"


@dataclass
class Run:
    run_id: int
    snapshot_version: str
    only_missing: bool
    last_star_id: int
    counts: dict[str, int] = field(default_factory=dict)
    resumed: bool = False


async def ensure_tables(conn: asyncpg.Connection) -> None:
    for stmt in DDL:
        await conn.execute(stmt)


async def live_version(conn: asyncpg.Connection) -> str:
    return str(await conn.fetchval(f"SELECT version FROM {LIVE}.snapshot_info LIMIT 1"))


def _run(row: Any, resumed: bool = False) -> Run:
    return Run(int(row["run_id"]), row["snapshot_version"], row["only_missing"], int(row["last_star_id"]),
               {k: int(v) for k, v in (row["counts"] or {}).items()}, resumed)


async def unfinished(conn: asyncpg.Connection) -> Run | None:
    """The newest run that did not finish (killed, failed), if any."""
    row = await conn.fetchrow(f"SELECT * FROM {RUNS} WHERE status IN ($1, $2) ORDER BY run_id DESC LIMIT 1",
                              RUNNING, FAILED)
    return _run(row, resumed=True) if row else None


async def start(conn: asyncpg.Connection, version: str, only_missing: bool, now: datetime) -> Run:
    """A new run from the first star; older unfinished runs are marked abandoned."""
    await conn.execute(f"UPDATE {RUNS} SET status = $1, updated_at = $2 WHERE status IN ($3, $4)",
                       ABANDONED, now, RUNNING, FAILED)
    row = await conn.fetchrow(
        f"INSERT INTO {RUNS} (status, snapshot_version, only_missing, started_at, updated_at) "
        "VALUES ($1, $2, $3, $4, $4) RETURNING *", RUNNING, version, only_missing, now)
    return _run(row)


async def reopen(conn: asyncpg.Connection, run: Run, now: datetime) -> None:
    await conn.execute(f"UPDATE {RUNS} SET status = $1, error = NULL, updated_at = $2 WHERE run_id = $3",
                       RUNNING, now, run.run_id)


async def advance(conn: asyncpg.Connection, run: Run, last_star_id: int, counts: dict[str, int],
                  now: datetime) -> None:
    """The checkpoint: every star up to ``last_star_id`` is done (call in the batch's transaction)."""
    await conn.execute(f"UPDATE {RUNS} SET last_star_id = $1, counts = $2, updated_at = $3 WHERE run_id = $4",
                       last_star_id, counts, now, run.run_id)


async def close(conn: asyncpg.Connection, run: Run, status: str, now: datetime, error: str | None = None) -> None:
    await conn.execute(
        f"UPDATE {RUNS} SET status = $1, counts = $2, error = $3, updated_at = $4, "
        f"finished_at = CASE WHEN $1 = '{FINISHED}' THEN $4::timestamptz END WHERE run_id = $5",
        status, run.counts, error, now, run.run_id)


async def record_conflicts(conn: asyncpg.Connection, run: Run, conflicts: Sequence[Conflict],
                           fetched_at: datetime) -> None:
    if not conflicts:
        return
    star_ids = sorted({s for c in conflicts for s in c.star_ids})
    names = {int(r["star_id"]): r["main_id"] for r in await conn.fetch(
        f"SELECT star_id, main_id FROM {LIVE}.star WHERE star_id = ANY($1::bigint[])", star_ids)}
    await conn.executemany(
        f"INSERT INTO {CONFLICTS} (run_id, kind, oids, main_ids, star_names, detail, merged, fetched_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        [(run.run_id, c.kind, list(c.oids), list(c.main_ids), [names.get(s, f"star {s}") for s in c.star_ids],
          c.detail, c.merged, fetched_at) for c in conflicts])


async def conflicts_of(conn: asyncpg.Connection, run_id: int, limit: int = 10) -> list[asyncpg.Record]:
    return list(await conn.fetch(
        f"SELECT kind, oids, main_ids, star_names, detail, merged FROM {CONFLICTS} WHERE run_id = $1 "
        "ORDER BY fetched_at, kind LIMIT $2", run_id, limit))

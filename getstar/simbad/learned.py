"""What SIMBAD taught us, kept in the raw store so it survives snapshot rebuilds.

``raw.simbad_learned`` has the columns of ``raw.simbad`` (the SIMBAD dump) plus ``fetched_at``;
``raw.simbad_learned_ident`` those of ``raw.simbad_ident`` plus ``fetched_at``.  Both are
append-only (every fetch is kept; the newest fetch of an object wins).  ``stage_sources``
gives the snapshot build one SIMBAD source: the dump's objects, with the learned ones
replacing or adding to them, and the union of both identifier lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from getstar.ingest.simbad_dump import COLUMNS
from getstar.simbad.parse import SimbadObject

LEARNED = "raw.simbad_learned"
LEARNED_IDENT = "raw.simbad_learned_ident"
#: Serialises the creation of the tables (several workers may start at once).
DDL_LOCK = 5005_0001

_COLS = [name for name, _, _ in COLUMNS]

DDL = [
    "CREATE SCHEMA IF NOT EXISTS raw",
    f"CREATE TABLE IF NOT EXISTS {LEARNED} ("
    + ", ".join(f"{name} {sqltype}" for name, sqltype, _ in COLUMNS)
    + ", fetched_at timestamptz NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS simbad_learned_oid ON {LEARNED} (oid, fetched_at)",
    f"CREATE TABLE IF NOT EXISTS {LEARNED_IDENT} (oid bigint NOT NULL, id text NOT NULL, key text NOT NULL, "
    "fetched_at timestamptz NOT NULL)",
    f"CREATE INDEX IF NOT EXISTS simbad_learned_ident_oid ON {LEARNED_IDENT} (oid)",
]


async def ensure_tables(conn: asyncpg.Connection) -> None:
    """Create the tables if missing (inside the caller's transaction, if any)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", DDL_LOCK)
        for stmt in DDL:
            await conn.execute(stmt)


async def append(conn: asyncpg.Connection, objects: Sequence[SimbadObject],
                 idents: dict[int, list[tuple[str, str]]], fetched_at: datetime) -> None:
    """Add one fetch: the objects' values and their (id, key) identifiers."""
    await conn.copy_records_to_table(
        "simbad_learned", schema_name="raw", columns=[*_COLS, "fetched_at"],
        records=[(*(o.values.get(c) for c in _COLS), fetched_at) for o in objects])
    await conn.copy_records_to_table(
        "simbad_learned_ident", schema_name="raw", columns=["oid", "id", "key", "fetched_at"],
        records=[(oid, ident, key, fetched_at) for oid, pairs in idents.items() for ident, key in pairs])


async def _exists(conn: asyncpg.Connection, name: str) -> bool:
    return bool(await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", name))


async def stage_sources(conn: asyncpg.Connection, schema: str) -> tuple[str, str]:
    """(objects table, identifiers table) the build should merge as SIMBAD.

    Without learned objects these are the dump's own tables (nothing copied); otherwise
    ``<schema>.simbad_src`` / ``<schema>.simbad_ident_src``: dump objects not learned since,
    plus the newest fetch of each learned object; every identifier of either source.
    """
    have_dump = await _exists(conn, "raw.simbad")
    if not await _exists(conn, LEARNED):
        return "raw.simbad", "raw.simbad_ident"
    cols = ", ".join(_COLS)
    parts = [f"(SELECT DISTINCT ON (oid) {cols} FROM {LEARNED} ORDER BY oid, fetched_at DESC)"]
    id_parts = [f"SELECT oid, id, key FROM {LEARNED_IDENT}"]
    if have_dump:
        parts.insert(0, f"SELECT {cols} FROM raw.simbad d WHERE NOT EXISTS "
                        f"(SELECT 1 FROM {LEARNED} l WHERE l.oid = d.oid)")
        id_parts.insert(0, "SELECT oid, id, key FROM raw.simbad_ident")
    basic, ident = f"{schema}.simbad_src", f"{schema}.simbad_ident_src"
    await conn.execute(f"DROP TABLE IF EXISTS {basic}")
    await conn.execute(f"DROP TABLE IF EXISTS {ident}")
    await conn.execute(f"CREATE TABLE {basic} AS {' UNION ALL '.join(parts)}")
    await conn.execute(f"CREATE UNIQUE INDEX ON {basic} (oid)")
    await conn.execute(f"CREATE TABLE {ident} AS SELECT DISTINCT oid, id, key FROM ({' UNION ALL '.join(id_parts)}) u")
    await conn.execute(f"CREATE INDEX ON {ident} (oid)")
    await conn.execute(f"ANALYZE {basic}")
    await conn.execute(f"ANALYZE {ident}")
    return basic, ident

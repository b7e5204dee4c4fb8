"""What SIMBAD taught us, kept in the raw store so it survives snapshot rebuilds.

``raw.simbad_learned`` has the columns of ``raw.simbad`` (the SIMBAD dump) plus the TAP-only
``simbad_columns.EXTRA_COLUMNS`` (``otypes``: every object type) and ``fetched_at``;
``raw.simbad_learned_ident`` those of ``raw.simbad_ident`` plus ``fetched_at``.  A fetch
replaces the object's older values (the newest fetch of an object wins) and adds the
identifiers not stored yet (an identifier once learned stays, as do the aliases the
fallback keeps).  ``stage_sources`` gives the snapshot build one SIMBAD source: the dump's
objects, with the learned ones replacing or adding to them, and the union of both
identifier lists.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import asyncpg

from getstar.ingest.simbad_dump import COLUMNS
from getstar.simbad.parse import SimbadObject
from getstar.simbad_columns import EXTRA_COLUMNS

LEARNED = "raw.simbad_learned"
LEARNED_IDENT = "raw.simbad_learned_ident"
#: Serialises the creation of the tables (several workers may start at once).
DDL_LOCK = 5005_0001

_DUMP_COLS = [name for name, _, _ in COLUMNS]
_COLS = [*_DUMP_COLS, *(name for name, _ in EXTRA_COLUMNS)]

DDL = [
    "CREATE SCHEMA IF NOT EXISTS raw",
    f"CREATE TABLE IF NOT EXISTS {LEARNED} ("
    + ", ".join(f"{name} {sqltype}" for name, sqltype, _ in COLUMNS)
    + ", fetched_at timestamptz NOT NULL)",
    # tables made before the TAP-only columns existed get them (NULL: not asked then)
    *(f"ALTER TABLE {LEARNED} ADD COLUMN IF NOT EXISTS {name} {sqltype}" for name, sqltype in EXTRA_COLUMNS),
    f"CREATE INDEX IF NOT EXISTS simbad_learned_oid ON {LEARNED} (oid, fetched_at)",
    f"CREATE TABLE IF NOT EXISTS {LEARNED_IDENT} (oid bigint NOT NULL, id text NOT NULL, key text NOT NULL, "
    "fetched_at timestamptz NOT NULL)",
    # (oid, key): a fetch adds only the identifiers not stored yet
    f"CREATE INDEX IF NOT EXISTS simbad_learned_ident_oid_key ON {LEARNED_IDENT} (oid, key)",
    "DROP INDEX IF EXISTS raw.simbad_learned_ident_oid",
]


async def ensure_tables(conn: asyncpg.Connection) -> None:
    """Create the tables if missing (inside the caller's transaction, if any)."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", DDL_LOCK)
        for stmt in DDL:
            await conn.execute(stmt)


async def append(conn: asyncpg.Connection, objects: Sequence[SimbadObject],
                 idents: dict[int, list[tuple[str, str]]], fetched_at: datetime) -> None:
    """Store one fetch (call inside a transaction): the objects' values replace their older ones,
    their (id, key) identifiers are added where new."""
    oids = [o.oid for o in objects]
    await conn.execute(f"DELETE FROM {LEARNED} WHERE oid = ANY($1::bigint[])", oids)
    await conn.copy_records_to_table(
        "simbad_learned", schema_name="raw", columns=[*_COLS, "fetched_at"],
        records=[(*(o.values.get(c) for c in _COLS), fetched_at) for o in objects])
    await conn.execute("CREATE TEMP TABLE IF NOT EXISTS fetched_ident "
                       "(oid bigint, id text, key text) ON COMMIT DELETE ROWS")
    await conn.copy_records_to_table(
        "fetched_ident", records=[(oid, ident, key) for oid, pairs in idents.items() for ident, key in pairs])
    await conn.execute(f"""
        INSERT INTO {LEARNED_IDENT} (oid, id, key, fetched_at)
        SELECT DISTINCT ON (f.oid, f.key) f.oid, f.id, f.key, $1::timestamptz FROM fetched_ident f
        WHERE NOT EXISTS (SELECT 1 FROM {LEARNED_IDENT} l WHERE l.oid = f.oid AND l.key = f.key)""", fetched_at)
    await conn.execute("DELETE FROM fetched_ident")


async def _exists(conn: asyncpg.Connection, name: str) -> bool:
    return bool(await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", name))


async def stage_sources(conn: asyncpg.Connection, schema: str) -> tuple[str, str]:
    """(objects table, identifiers table) the build should merge as SIMBAD.

    ``<schema>.simbad_src``: dump objects not learned since, plus the newest fetch of each
    learned object, all with the TAP-only columns and ``fetched_at`` (NULL for the dump's);
    ``<schema>.simbad_ident_src``: every identifier of either source.
    """
    have_dump = await _exists(conn, "raw.simbad")
    have_learned = await _exists(conn, LEARNED)
    if have_learned:
        await ensure_tables(conn)  # a learned table from before the TAP-only columns
    extra = ", ".join(f"NULL::{sqltype} AS {name}" for name, sqltype in EXTRA_COLUMNS)
    dump_cols = ", ".join(_DUMP_COLS)
    parts: list[str] = []
    id_parts: list[str] = []
    if have_learned:
        parts.append(f"(SELECT DISTINCT ON (oid) {', '.join(_COLS)}, fetched_at FROM {LEARNED} "
                     "ORDER BY oid, fetched_at DESC)")
        id_parts.append(f"SELECT oid, id, key FROM {LEARNED_IDENT}")
    if have_dump:
        learned_since = (f" WHERE NOT EXISTS (SELECT 1 FROM {LEARNED} l WHERE l.oid = d.oid)"
                         if have_learned else "")
        parts.insert(0, f"SELECT {dump_cols}, {extra}, NULL::timestamptz AS fetched_at "
                        f"FROM raw.simbad d{learned_since}")
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

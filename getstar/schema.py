"""Database schema derived from the property catalogue, and its migrations.

Layout:
- ``getstar_meta``: schema version and the history of loaded snapshots.
- ``live``: the snapshot being served (``star``, ``ident``, ``snapshot_info``, ``system_name``:
  the names of multiple systems the resolver answers by their primary, ``ident_conflict``: the
  identifiers whose ownership the build settled; both filled by ``ingest.identity``).
- ``staging``: where ``getstar ingest`` builds the next snapshot; validated, then swapped
  with ``live`` in one transaction (readers see the old snapshot or the new one).
"""

from __future__ import annotations

import asyncpg

from getstar.properties import BY_NAME, STORED, Property
from getstar.skycells import CELL_SQL, FAST_SQL

#: Bumped whenever the DDL below changes; readable by /health.
SCHEMA_VERSION = "2026.12.4"  # photometry, diameters (14), GetStar groups (16), system names (15)

LIVE = "live"
STAGING = "staging"
#: Old snapshots are renamed ``retired_<n>`` at a swap and dropped once no reader holds them.
RETIRED_PREFIX = "retired"
#: The published tables of a snapshot: what the TAP service's roles may read.
PUBLISHED_TABLES = ("star", "ident")
#: NOLOGIN role that the TAP service's database roles are members of (``getstar tap init``).
READER_ROLE = "getstar_reader"


def property_columns(prop: Property) -> list[tuple[str, str]]:
    """(column, SQL type) pairs stored for one property: value, error, origin, confidence."""
    cols = [(prop.column, prop.sql_type)]
    if prop.error:
        cols.append((prop.column + "_e", "double precision"))
    cols += [(prop.column + "_o", "smallint"), (prop.column + "_c", "smallint")]
    return cols


def star_columns() -> list[tuple[str, str]]:
    cols = [("star_id", "bigint NOT NULL"), ("main_id", "text NOT NULL")]
    for prop in STORED:
        cols += property_columns(prop)
    cols.append(("fetched_at", "timestamptz"))
    return cols


def star_table_ddl(schema: str) -> str:
    body = ",\n  ".join(f"{name} {sqltype}" for name, sqltype in star_columns())
    return f"CREATE TABLE {schema}.star (\n  {body}\n)"


def data_tables_ddl(schema: str) -> list[str]:
    """The tables of one snapshot (indexes are built after the bulk load)."""
    return [
        f"CREATE SCHEMA {schema}",
        star_table_ddl(schema),
        f"""CREATE TABLE {schema}.ident (
              star_id bigint NOT NULL,
              id text NOT NULL,
              key text NOT NULL,
              source smallint NOT NULL DEFAULT 0
            )""",
        # names of multiple systems, answered by their primary component (``ingest.identity``)
        f"""CREATE TABLE {schema}.system_name (
              key text NOT NULL,
              id text NOT NULL,
              star_id bigint NOT NULL,
              system text NOT NULL,
              components bigint[] NOT NULL,
              kind text NOT NULL
            )""",
        # identifiers whose ownership the build settled, and how (``ingest.identity``)
        f"""CREATE TABLE {schema}.ident_conflict (
              key text,
              id text,
              star_id bigint,
              source smallint,
              authority smallint,
              outcome text,
              kept_on bigint[]
            )""",
        f"""CREATE TABLE {schema}.snapshot_info (
              version text NOT NULL,
              sources jsonb NOT NULL,
              row_counts jsonb NOT NULL,
              load_started timestamptz NOT NULL,
              load_finished timestamptz
            )""",
    ]


def data_index_groups(schema: str, in_q3c_order: bool = False) -> tuple[list[str], list[str]]:
    """Indexes of one snapshot, in two groups that may be built at once on two connections:
    the star table's, then the identifiers' and system names'.  The star table is clustered on
    its q3c index.

    ``star_cell`` and ``star_fast_q3c`` serve the batch cross-identification's probes
    (``skycells``).  ``in_q3c_order``: the stars were written in the order of the q3c index
    (the build does): the table is only marked as clustered on it, not rewritten.
    """
    return [
        f"ALTER TABLE {schema}.star ADD PRIMARY KEY (star_id)",
        f"CREATE INDEX star_q3c ON {schema}.star (q3c_ang2ipix(ra, dec))",
        f"ALTER TABLE {schema}.star CLUSTER ON star_q3c" if in_q3c_order else f"CLUSTER {schema}.star USING star_q3c",
        f"CREATE INDEX star_cell ON {schema}.star ({CELL_SQL})",
        f"CREATE INDEX star_fast_q3c ON {schema}.star (q3c_ang2ipix(ra, dec)) WHERE {FAST_SQL}",
        unanalysed_columns_ddl(schema),
        f"ANALYZE {schema}.star",
    ], [
        # the build makes it early, for its own lookups
        f"CREATE INDEX IF NOT EXISTS ident_key ON {schema}.ident (key)",
        f"CREATE INDEX ident_star ON {schema}.ident (star_id)",
        f"CREATE INDEX ident_trgm ON {schema}.ident USING gin (key gin_trgm_ops)",
        f"CREATE INDEX system_name_key ON {schema}.system_name (key)",
        f"ANALYZE {schema}.ident",
        f"ANALYZE {schema}.system_name",
    ]


#: The star columns with statistics: those the service selects stars by (ids, positions, the
#: fast stars' proper motion, the catalogue numbers SIMBAD's learning joins on), and those TAP
#: users filter the published ``star`` view by most (magnitudes, parallax, diameter, type).
ANALYSED_STAR_COLUMNS = ("star_id", "main_id", "ra", "dec", *(BY_NAME[name].column for name in (
    "pmRa", "pmDec", "HIP", "GAIA", "HD", "plx", "B", "V", "G", "J", "H", "K", "LDD", "SpType")))


def unanalysed_columns_ddl(schema: str) -> str:
    """No statistics for the ~450 other columns of the star table: ANALYZE spent 8.7 s of the
    default build on all of them (under 1 s without these); a query filtering by one of them is
    planned with default selectivities.  The setting stays with the table, so autovacuum skips
    them too."""
    unanalysed = [name for name, _ in star_columns() if name not in ANALYSED_STAR_COLUMNS]
    return f"ALTER TABLE {schema}.star " + ", ".join(f"ALTER COLUMN {name} SET STATISTICS 0" for name in unanalysed)


def data_indexes_ddl(schema: str, in_q3c_order: bool = False) -> list[str]:
    """``data_index_groups``, one after the other."""
    stars, idents = data_index_groups(schema, in_q3c_order)
    return stars + idents


META_DDL = [
    "CREATE EXTENSION IF NOT EXISTS q3c",
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE SCHEMA IF NOT EXISTS getstar_meta",
    "CREATE TABLE IF NOT EXISTS getstar_meta.schema_version (tag text NOT NULL, applied timestamptz NOT NULL)",
    """CREATE TABLE IF NOT EXISTS getstar_meta.snapshot_history (
         version text NOT NULL, sources jsonb NOT NULL, row_counts jsonb NOT NULL,
         load_started timestamptz NOT NULL, load_finished timestamptz NOT NULL)""",
    "CREATE SEQUENCE IF NOT EXISTS getstar_meta.star_id_seq",
    # bumped when the live snapshot changes without a swap (stars learned from SIMBAD)
    "CREATE TABLE IF NOT EXISTS getstar_meta.learned (generation bigint NOT NULL)",
    "INSERT INTO getstar_meta.learned SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM getstar_meta.learned)",
]

#: Channel services LISTEN on; the payload is the snapshot key (see ``snapshot_key``).
SNAPSHOT_CHANNEL = "getstar_snapshot"

SNAPSHOT_KEY_SQL = """
SELECT (SELECT version FROM live.snapshot_info LIMIT 1) AS version,
       (SELECT generation FROM getstar_meta.learned LIMIT 1) AS generation
"""


def snapshot_key(version: str | None, generation: int | None) -> str:
    """What answers are cached under: the snapshot version, plus the learned generation."""
    if not version:
        return ""
    return f"{version}.{generation}" if generation else version


async def current_snapshot_key(conn: asyncpg.Connection) -> str:
    if not await conn.fetchval("SELECT to_regclass('live.snapshot_info') IS NOT NULL"):
        return ""
    row = await conn.fetchrow(SNAPSHOT_KEY_SQL)
    return snapshot_key(row["version"], row["generation"])


async def announce_learned(conn: asyncpg.Connection) -> str:
    """The live snapshot changed in place: a new key for every cache (call inside the change's transaction)."""
    await conn.execute("UPDATE getstar_meta.learned SET generation = generation + 1")
    key = await current_snapshot_key(conn)
    await conn.execute("SELECT pg_notify($1, $2)", SNAPSHOT_CHANNEL, key)
    return key


async def current_schema_version(conn: asyncpg.Connection) -> str | None:
    exists = await conn.fetchval("SELECT to_regclass('getstar_meta.schema_version') IS NOT NULL")
    if not exists:
        return None
    return await conn.fetchval("SELECT tag FROM getstar_meta.schema_version ORDER BY applied DESC LIMIT 1")


async def migrate(conn: asyncpg.Connection) -> str:
    """Bring the database to ``SCHEMA_VERSION``.

    Snapshots are rebuilt from the catalogues, so a schema change drops the data
    schemas of an older version (the next ingest recreates them) rather than
    altering hundreds of columns in place.
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(4242)")
        for stmt in META_DDL:
            await conn.execute(stmt)
        found = await current_schema_version(conn)
        if found != SCHEMA_VERSION:
            await conn.execute(f"DROP SCHEMA IF EXISTS {LIVE} CASCADE")
            await conn.execute(f"DROP SCHEMA IF EXISTS {STAGING} CASCADE")
            await conn.execute(
                "INSERT INTO getstar_meta.schema_version (tag, applied) VALUES ($1, now())", SCHEMA_VERSION
            )
    return SCHEMA_VERSION


async def grant_readers(conn: asyncpg.Connection, schema: str) -> None:
    """Let ``READER_ROLE`` (when it exists) read a snapshot's published tables, and nothing else."""
    if await conn.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", READER_ROLE):
        await conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {READER_ROLE}")
        tables = ", ".join(f"{schema}.{t}" for t in PUBLISHED_TABLES)
        await conn.execute(f"GRANT SELECT ON {tables} TO {READER_ROLE}")


async def has_live_snapshot(conn: asyncpg.Connection) -> bool:
    return bool(await conn.fetchval("SELECT to_regclass('live.snapshot_info') IS NOT NULL"))

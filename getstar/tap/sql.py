"""The SQL getstar owns for TAP: late-binding functions over the live snapshot, and the grants.

DaCHS publishes views that select from ``getstar_tap.star()`` and ``getstar_tap.ident()``.
Their bodies name ``live.star`` and ``live.ident`` as text, resolved at each query, so the
views survive the snapshot swap (a plain view would follow the old table into ``retired``
and die with it).  They are plain SQL functions (STABLE, not STRICT, not SECURITY
DEFINER): PostgreSQL inlines them into the query, so ``q3c_join`` on the view uses the
snapshot's q3c index.  Inlined code runs with the caller's rights, so the query roles read
``live.star`` and ``live.ident`` themselves (through ``READER_ROLE``), and nothing else of
getstar's: not the raw store, not ``getstar_meta``, not the staging snapshot before its swap.
"""

from __future__ import annotations

import asyncpg

from getstar.properties import ORIGINS
from getstar.schema import LIVE, READER_ROLE, grant_readers
from getstar.tap.columns import (
    CONFIDENCE_FN,
    CONFIDENCES,
    FUNCTION_SCHEMA,
    IDENT_SOURCE_FN,
    IDENT_SOURCES,
    ORIGIN_FN,
    TapColumn,
    ident_columns,
    star_columns,
)

STAR_FN = f"{FUNCTION_SCHEMA}.star"
IDENT_FN = f"{FUNCTION_SCHEMA}.ident"


def _text_array(values: tuple[str, ...]) -> str:
    return "ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]::text[]"


def decoder_ddl() -> list[str]:
    """Code -> text functions (IMMUTABLE SQL: inlined, so they cost nothing per row)."""
    return [
        f"CREATE OR REPLACE FUNCTION {fn}(code smallint) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE "
        f"AS $$ SELECT ({_text_array(values)})[code + 1] $$"
        for fn, values in ((ORIGIN_FN, ORIGINS), (CONFIDENCE_FN, CONFIDENCES), (IDENT_SOURCE_FN, IDENT_SOURCES))
    ]


def table_function_ddl(fn: str, cols: list[TapColumn], source: str) -> str:
    """A late-binding set-returning function: ``source`` is only a name in its body."""
    outs = ", ".join(f'"{c.name}" {c.type}' for c in cols)
    body = ", ".join(c.sql for c in cols)
    return (f"CREATE OR REPLACE FUNCTION {fn}() RETURNS TABLE ({outs}) LANGUAGE sql STABLE PARALLEL SAFE "
            f"AS $$ SELECT {body} FROM {source} $$")


def function_ddl() -> list[tuple[str, str]]:
    """(function, DDL) of the two table functions."""
    return [(STAR_FN, table_function_ddl(STAR_FN, star_columns(), f"{LIVE}.star s")),
            (IDENT_FN, table_function_ddl(IDENT_FN, ident_columns(), f"{LIVE}.ident i"))]


async def install(conn: asyncpg.Connection, query_roles: list[str]) -> None:
    """Create (or update) the functions, the reader role and its grants; idempotent.

    A function whose columns changed (a property added to the declaration) cannot be
    replaced in place: it is dropped with the DaCHS view over it, which ``dachs imp``
    then recreates.
    """
    async with conn.transaction():
        # the snapshot may not exist yet: the bodies are checked at the first query
        await conn.execute("SET LOCAL check_function_bodies = off")
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {FUNCTION_SCHEMA}")
        for stmt in decoder_ddl():
            await conn.execute(stmt)
        for fn, ddl in function_ddl():
            try:
                async with conn.transaction():
                    await conn.execute(ddl)
            except asyncpg.InvalidFunctionDefinitionError:  # "cannot change return type"
                await conn.execute(f"DROP FUNCTION {fn}() CASCADE")
                await conn.execute(ddl)
        await conn.execute(f"""
            DO $$ BEGIN
              IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{READER_ROLE}') THEN
                CREATE ROLE {READER_ROLE} NOLOGIN;
              END IF;
            END $$""")
        await conn.execute(f"REVOKE ALL ON ALL FUNCTIONS IN SCHEMA {FUNCTION_SCHEMA} FROM PUBLIC")
        await conn.execute(f"GRANT USAGE ON SCHEMA {FUNCTION_SCHEMA} TO {READER_ROLE}")
        await conn.execute(f"GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA {FUNCTION_SCHEMA} TO {READER_ROLE}")
        if await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", LIVE):
            await grant_readers(conn, LIVE)
        for role in query_roles:
            await conn.execute(f'GRANT {READER_ROLE} TO "{role}"')


def job_cap_ddl(seconds: int) -> list[str]:
    """A trigger on DaCHS's job table holding every TAP job to ``seconds`` of run time.

    DaCHS 2.7 lets a client set any EXECUTIONDURATION (0 meaning none); its queries run with
    that as ``statement_timeout``.  Run as DaCHS's admin role, which owns the table.
    """
    return [
        f"""CREATE OR REPLACE FUNCTION tap_schema.getstar_cap_execution() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              IF NEW.executionduration IS NULL OR NEW.executionduration <= 0
                 OR NEW.executionduration > {int(seconds)} THEN
                NEW.executionduration := {int(seconds)};
              END IF;
              RETURN NEW;
            END $$""",
        "DROP TRIGGER IF EXISTS getstar_cap_execution ON tap_schema.tapjobs",
        "CREATE TRIGGER getstar_cap_execution BEFORE INSERT OR UPDATE ON tap_schema.tapjobs "
        "FOR EACH ROW EXECUTE FUNCTION tap_schema.getstar_cap_execution()",
    ]


async def cap_job_durations(admin: asyncpg.Connection, seconds: int) -> None:
    async with admin.transaction():
        for stmt in job_cap_ddl(seconds):
            await admin.execute(stmt)

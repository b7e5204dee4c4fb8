"""Content fingerprint of the live snapshot: did a change to the build change what it builds?

Per table of the ``live`` schema: its row count and an md5 over its rows (each row as text,
sorted), with what legitimately differs from one build to the next normalised:

- star ids come from a sequence that keeps counting across builds: every ``star_id``,
  ``components`` and ``kept_on`` is written as its offset from the snapshot's first star id
  (so the order in which the build hands ids out is compared too);
- ``snapshot_info``: its version and load times are dropped, ``sources`` loses ``loaded_at``.

Also listed: each table's persistence (an UNLOGGED table must never go live: the standby
needs its WAL), its column definitions and the index definitions.

    python bench/snapshot_fingerprint.py [--schema live] [DSN] > before.txt   # then diff two outputs
"""

from __future__ import annotations

import asyncio
import os
import sys

import asyncpg

SCHEMA = "live"
ID_COLUMNS = {"star_id"}
ID_ARRAYS = {"components", "kept_on"}
DROPPED = {("snapshot_info", "version"), ("snapshot_info", "load_started"), ("snapshot_info", "load_finished")}


def column_expr(table: str, name: str, base: int) -> str | None:
    if (table, name) in DROPPED:
        return None
    if name in ID_COLUMNS:
        return f"(t.{name} - {base})"
    if name in ID_ARRAYS:
        return f"(SELECT array_agg(x - {base} ORDER BY o) FROM unnest(t.{name}) WITH ORDINALITY u(x, o))"
    if (table, name) == ("snapshot_info", "sources"):
        return ("(SELECT jsonb_object_agg(k, v - 'loaded_at') FROM jsonb_each(t.sources) e(k, v))")
    return f"t.{name}"


async def fingerprint(dsn: str) -> list[str]:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET work_mem = '256MB'")
        base = await conn.fetchval(f"SELECT min(star_id) FROM {SCHEMA}.star")
        lines = [f"# star ids as offsets from {base} (not compared)"]
        tables = await conn.fetch(
            "SELECT c.relname, c.relpersistence FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY c.relname", SCHEMA)
        for table, persistence in tables:
            cols = await conn.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 "
                "ORDER BY ordinal_position", SCHEMA, table)
            exprs = [e for c in cols if (e := column_expr(table, c[0], base)) is not None]
            row = await conn.fetchrow(
                f"SELECT count(*) AS n, md5(string_agg(h, '' ORDER BY h)) AS digest "
                f"FROM (SELECT md5(ROW({', '.join(exprs)})::text) AS h FROM {SCHEMA}.{table} t) r")
            lines.append(f"{table:20s} {persistence} {len(exprs):4d} cols {row['n']:10d} rows {row['digest']}")
            columns = await conn.fetchval(
                "SELECT md5(string_agg(concat_ws(':', a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
                "pg_get_expr(d.adbin, d.adrelid), c.collname), ',' ORDER BY a.attnum)) "
                "FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
                "LEFT JOIN pg_collation c ON c.oid = a.attcollation "
                "WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped", f"{SCHEMA}.{table}")
            lines.append(f"{table:20s} columns (names, types, not null, defaults, collations) {columns}")
        for index in await conn.fetch("SELECT indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY indexdef",
                                      SCHEMA):
            lines.append(index[0])
        return lines
    finally:
        await conn.close()


def main() -> int:
    global SCHEMA
    args = sys.argv[1:]
    if args[:1] == ["--schema"]:
        SCHEMA, args = args[1], args[2:]
    dsn = args[0] if args else os.environ.get("GETSTAR_DATABASE_URL", "")
    if not dsn:
        print("give the DSN (or GETSTAR_DATABASE_URL)", file=sys.stderr)
        return 2
    for line in asyncio.run(fingerprint(dsn)):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())

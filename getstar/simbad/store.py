"""Write what SIMBAD returned into the live snapshot, so the next lookup of the name is local.

One transaction per fetch: the fetch is appended to the raw store (``raw.simbad_learned*``,
so a snapshot rebuild keeps it), then each object either becomes a new ``live.star`` row
(origin SIMBAD, ``fetched_at`` set) or, when the snapshot already has it under another star,
updates that star: attaches the new identifiers and fills its empty properties.  "Already
has it" means, in this order: the star holding its Gaia DR3 identifier, its HIP identifier,
its SIMBAD main identifier (as a SIMBAD identifier), else the nearest star within 1″ that has
no SIMBAD identity yet (as the build merges the dump).  The column -> property mapping
(origins, confidences from the quality letters) is the build's own
(``getstar.ingest.build.simbad_star_values``), run as SQL over the ``raw.simbad_learned`` row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from functools import cache

import asyncpg

from getstar import derived
from getstar.ingest.build import SIMBAD_POSITION_RADIUS, insert_stars, set_property, simbad_star_values
from getstar.names import ident_key
from getstar.schema import LIVE, STAGING, announce_learned
from getstar.simbad.learned import LEARNED, append
from getstar.simbad.parse import SimbadObject

#: Identifier source code of SIMBAD in ``ident.source`` (as the build writes it).
SIMBAD_SOURCE = 3
LOCK_CLASS = 5005
_GAIA = re.compile(r"^Gaia DR3\s+\d+$")
_HIP = re.compile(r"^HIP\s+\d+$")

FIND_BY_IDENT = f"""
SELECT i.star_id FROM {LIVE}.ident i
WHERE i.key = ANY($1::text[]) OR (i.key = $2 AND i.source = {SIMBAD_SOURCE})
ORDER BY coalesce(array_position($1::text[], i.key), 2147483647), i.star_id
LIMIT 1"""

FIND_BY_POSITION = f"""
SELECT s.star_id FROM {LIVE}.star s
WHERE q3c_radial_query(s.ra, s.dec, $1::float8, $2::float8, {SIMBAD_POSITION_RADIUS / 3600.0})
  AND NOT EXISTS (SELECT 1 FROM {LIVE}.ident i WHERE i.star_id = s.star_id AND i.source = {SIMBAD_SOURCE})
ORDER BY q3c_dist(s.ra, s.dec, $1::float8, $2::float8)
LIMIT 1"""

INSERT_IDENTS = f"""
INSERT INTO {LIVE}.ident (star_id, id, key, source)
SELECT $1::bigint, x.id, x.key, {SIMBAD_SOURCE} FROM unnest($2::text[], $3::text[]) AS x(id, key)
WHERE NOT EXISTS (SELECT 1 FROM {LIVE}.ident i WHERE i.star_id = $1::bigint AND i.key = x.key)"""

# SIMBAD is the authority on identifiers (as in the build): lesser sources lose a key it gives
TAKE_KEYS = f"""
DELETE FROM {LIVE}.ident WHERE key = ANY($2::text[]) AND star_id <> $1::bigint AND source < {SIMBAD_SOURCE}"""


@cache
def insert_sql() -> str:
    """INSERT of a new live star from one ``raw.simbad_learned`` row ($1 oid, $2 fetched_at)."""
    sql = insert_stars(f"FROM {LEARNED} b WHERE b.oid = $1 AND b.fetched_at = $2", "b.main_id",
                       simbad_star_values("b"))
    head = f"INSERT INTO {STAGING}.star (star_id,"
    if not sql.startswith(head) or "SELECT nextval" not in sql:
        raise RuntimeError("getstar.ingest.build.insert_stars changed shape; adapt getstar.simbad.store")
    sql = sql.replace(head, f"INSERT INTO {LIVE}.star (fetched_at, star_id,", 1)
    return sql.replace("SELECT nextval", "SELECT b.fetched_at, nextval", 1) + " RETURNING star_id"


@cache
def update_sql() -> str:
    """Fill the empty properties of star $3 from one ``raw.simbad_learned`` row."""
    sets: list[str] = []
    for name, src in simbad_star_values("b").items():
        sets += set_property(name, src, overwrite=False)
    return (f"UPDATE {LIVE}.star t SET {', '.join(sets)}, fetched_at = b.fetched_at "
            f"FROM {LEARNED} b WHERE t.star_id = $3 AND b.oid = $1 AND b.fetched_at = $2")


def identifier_pairs(obj: SimbadObject, aliases: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(id, key) of every identifier, one per key; ``aliases`` (names SIMBAD resolved to this
    object but spelled unlike any of its identifiers) are kept too, so they resolve locally."""
    pairs: dict[str, str] = {}
    for ident in [*obj.identifiers, *aliases]:
        key = ident_key(ident)
        if key and key not in pairs:
            pairs[key] = ident.strip()
    return [(ident, key) for key, ident in pairs.items()]


def _link_keys(obj: SimbadObject) -> list[str]:
    gaia = [ident_key(i) for i in obj.identifiers if _GAIA.match(i)]
    hip = [ident_key(i) for i in obj.identifiers if _HIP.match(i)]
    return list(dict.fromkeys([*gaia, *hip]))


async def _existing_star(conn: asyncpg.Connection, obj: SimbadObject) -> int | None:
    star_id = await conn.fetchval(FIND_BY_IDENT, _link_keys(obj), ident_key(obj.main_id))
    if star_id is None:
        star_id = await conn.fetchval(FIND_BY_POSITION, obj.values["ra"], obj.values["dec"])
    return int(star_id) if star_id is not None else None


async def learn(conn: asyncpg.Connection, objects: Sequence[SimbadObject], fetched_at: datetime,
                aliases: dict[int, list[str]] | None = None) -> dict[int, int]:
    """Store one fetch; return oid -> star_id of the objects now in the snapshot.

    Objects without a position are kept in the raw store only (a star needs a position).
    """
    aliases = aliases or {}
    unique = list({o.oid: o for o in objects}.values())
    idents = {o.oid: identifier_pairs(o, aliases.get(o.oid, ())) for o in unique}
    stored: dict[int, int] = {}
    async with conn.transaction():
        await append(conn, unique, idents, fetched_at)
        # two fetches of one object (different names, same moment) must not make two stars
        for lock in sorted({o.oid % 2_147_483_647 for o in unique}):
            await conn.execute("SELECT pg_advisory_xact_lock($1, $2)", LOCK_CLASS, lock)
        for obj in unique:
            if obj.values.get("ra") is None or obj.values.get("dec") is None:
                continue
            star_id = await _existing_star(conn, obj)
            if star_id is None:
                star_id = int(await conn.fetchval(insert_sql(), obj.oid, fetched_at))
            else:
                await conn.execute(update_sql(), obj.oid, fetched_at, star_id)
            ids = [i for i, _ in idents[obj.oid]]
            keys = [k for _, k in idents[obj.oid]]
            await conn.execute(TAKE_KEYS, star_id, keys)
            await conn.execute(INSERT_IDENTS, star_id, ids, keys)
            stored[obj.oid] = star_id
        if stored:  # cached answers (cones near the new star, names) must not outlive this
            await conn.execute(derived.update_sql(LIVE, only_ids=True), sorted(set(stored.values())))
            await announce_learned(conn)
    return stored

"""Write what SIMBAD returned into the live snapshot, so the next lookup of the name is local.

Two writers share ``attach``: the fallback's ``learn`` (a few objects, found by name) and the
bulk enrichment (thousands of objects, each already paired with its star).  Both store the
fetch in the raw store first (``learned.append``: ``raw.simbad_learned*``, so a rebuild keeps
it), then ``attach`` merges each object into its star with the build's own SQL
(``getstar.simbad_columns.merge_sets``: SIMBAD's main identifier, spectral type, object
types and V replace the star's, the rest fills what is empty), gives the star SIMBAD's
identifiers (SIMBAD is the authority: a lesser source loses a key SIMBAD gives to another
star) and the identifier-valued properties (HD, TYC, 2MASS, ...).  So a star enriched in
place reads like the same star after ``getstar ingest rebuild``.

``learn`` finds an object's star itself: the star holding its Gaia DR3 identifier, its HIP
identifier, its SIMBAD main identifier (as a SIMBAD identifier), else the nearest star within
1″ that has no SIMBAD identity yet (as the build merges the dump); none: a new star.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from functools import cache

import asyncpg

from getstar import derived
from getstar.ingest.diameters import refresh_diameters
from getstar.names import ident_key
from getstar.schema import LIVE, STAGING, announce_learned
from getstar.simbad.learned import LEARNED, LEARNED_IDENT, append
from getstar.simbad.parse import SimbadObject
from getstar.simbad_columns import SIMBAD_POSITION_RADIUS, merge_sets, simbad_star_values
from getstar.star_sql import IDENT_PROPERTIES, ident_properties_sql, insert_stars

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

#: The (star, object) pairs of one attach, with the fetch's time ($1).
PAIRS_DDL = "CREATE TEMP TABLE IF NOT EXISTS attach_pair (star_id bigint, oid bigint) ON COMMIT DELETE ROWS"

MERGE_SQL = f"""
UPDATE {LIVE}.star t SET {{sets}}
FROM attach_pair p JOIN {LEARNED} b ON b.oid = p.oid AND b.fetched_at = $1
WHERE t.star_id = p.star_id"""

# the identifiers the stars get: every identifier ever learned of their objects
PAIR_IDENTS = f"""
CREATE TEMP TABLE attach_ident ON COMMIT DROP AS
SELECT DISTINCT ON (p.star_id, l.key) p.star_id, l.id, l.key
FROM attach_pair p JOIN {LEARNED_IDENT} l ON l.oid = p.oid
ORDER BY p.star_id, l.key, l.fetched_at DESC"""

# every identifier of the stars, once merged (the identifier-valued properties are read from it)
STAR_IDENTS = f"""
CREATE TEMP TABLE attach_star_ident ON COMMIT DROP AS
SELECT i.star_id, i.id, i.source FROM (SELECT DISTINCT star_id FROM attach_pair) p
JOIN {LIVE}.ident i ON i.star_id = p.star_id"""

# SIMBAD is the authority on identifiers (as in the build): lesser sources lose a key it gives
TAKE_KEYS = f"""
DELETE FROM {LIVE}.ident i USING attach_ident a
WHERE i.key = a.key AND i.star_id <> a.star_id AND i.source < {SIMBAD_SOURCE}"""

INSERT_IDENTS = f"""
INSERT INTO {LIVE}.ident (star_id, id, key, source)
SELECT a.star_id, a.id, a.key, {SIMBAD_SOURCE} FROM attach_ident a
WHERE NOT EXISTS (SELECT 1 FROM {LIVE}.ident i WHERE i.star_id = a.star_id AND i.key = a.key)"""

# a key the star held from a lesser source now comes from SIMBAD
PROMOTE_IDENTS = f"""
UPDATE {LIVE}.ident i SET source = {SIMBAD_SOURCE}, id = a.id FROM attach_ident a
WHERE i.star_id = a.star_id AND i.key = a.key AND i.source < {SIMBAD_SOURCE}"""


@contextlib.asynccontextmanager
async def btree_lookups(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """Inside a transaction: joins of many keys to ``live.ident`` use its btree index.

    Why: PostgreSQL takes the trigram GIN index (``ident_trgm``) for ``key = …`` in a nested
    loop or an ``= ANY``, and a key like ``GAIA DR3 n`` shares its trigrams with 480,000 others:
    4,800 keys took over 7 minutes on the 490 k-star snapshot, against milliseconds on the btree.
    A GIN index is only reachable through bitmap scans, so those are off in between (on error
    the transaction's rollback restores the setting).
    """
    await conn.execute("SET LOCAL enable_bitmapscan = off")
    yield
    await conn.execute("SET LOCAL enable_bitmapscan TO DEFAULT")


@cache
def insert_sql() -> str:
    """INSERT of a new live star from one ``raw.simbad_learned`` row ($1 oid, $2 fetched_at)."""
    sql = insert_stars(f"FROM {LEARNED} b WHERE b.oid = $1 AND b.fetched_at = $2", "b.main_id",
                       simbad_star_values("b"))
    head = f"INSERT INTO {STAGING}.star (star_id,"
    if not sql.startswith(head) or "SELECT nextval" not in sql:
        raise RuntimeError("getstar.star_sql.insert_stars changed shape; adapt getstar.simbad.store")
    sql = sql.replace(head, f"INSERT INTO {LIVE}.star (fetched_at, star_id,", 1)
    return sql.replace("SELECT nextval", "SELECT b.fetched_at, nextval", 1) + " RETURNING star_id"


@cache
def merge_sql() -> str:
    """Merge each paired object's newest fetch ($1) into its star."""
    return MERGE_SQL.format(sets=", ".join(merge_sets("b", live=True)))


def identifier_pairs(obj: SimbadObject, aliases: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(id, key) of every identifier, one per key; ``aliases`` (names SIMBAD resolved to this
    object but spelled unlike any of its identifiers) are kept too, so they resolve locally."""
    pairs: dict[str, str] = {}
    for ident in [*obj.identifiers, *aliases]:
        key = ident_key(ident)
        if key and key not in pairs:
            pairs[key] = ident.strip()
    return [(ident, key) for key, ident in pairs.items()]


def link_keys(obj: SimbadObject) -> list[str]:
    """Keys of the identifiers that tie an object to a catalogue star: Gaia DR3 first, then HIP."""
    gaia = [ident_key(i) for i in obj.identifiers if _GAIA.match(i)]
    hip = [ident_key(i) for i in obj.identifiers if _HIP.match(i)]
    return list(dict.fromkeys([*gaia, *hip]))


async def _existing_star(conn: asyncpg.Connection, obj: SimbadObject) -> int | None:
    star_id = await conn.fetchval(FIND_BY_IDENT, link_keys(obj), ident_key(obj.main_id))
    if star_id is None:
        star_id = await conn.fetchval(FIND_BY_POSITION, obj.values["ra"], obj.values["dec"])
    return int(star_id) if star_id is not None else None


async def lock_objects(conn: asyncpg.Connection, oids: Sequence[int]) -> None:
    """Serialise writers of the same objects (inside the transaction): two fetches of one
    object at the same moment must not make two stars.  In a fixed order: no deadlock."""
    locks = sorted({oid % 2_147_483_647 for oid in oids})
    await conn.execute("SELECT count(pg_advisory_xact_lock($1, k)) FROM (SELECT unnest($2::int[]) AS k ORDER BY 1) o",
                       LOCK_CLASS, locks)


async def attach(conn: asyncpg.Connection, pairs: Sequence[tuple[int, int]], fetched_at: datetime) -> int:
    """Merge each (star_id, oid) pair's object, fetched at ``fetched_at``, into its live star.

    Call inside a transaction, after ``learned.append`` of the fetch.  Returns the number of
    identifiers the stars gained.
    """
    if not pairs:
        return 0
    await conn.execute(PAIRS_DDL)
    await conn.copy_records_to_table("attach_pair", records=list(pairs))
    await conn.execute("ANALYZE attach_pair")  # temporary tables have no statistics otherwise
    await conn.execute(merge_sql(), fetched_at)
    await conn.execute(PAIR_IDENTS)
    await conn.execute("ANALYZE attach_ident")
    async with btree_lookups(conn):
        await conn.execute(TAKE_KEYS)
        await conn.execute(PROMOTE_IDENTS)
        added = int((await conn.execute(INSERT_IDENTS)).split()[-1])
        await conn.execute(STAR_IDENTS)
    await conn.execute(ident_properties_sql(LIVE, "attach_star_ident"), *(p for _, p, _ in IDENT_PROPERTIES))
    await conn.execute("DROP TABLE attach_ident, attach_star_ident")
    await conn.execute("DELETE FROM attach_pair")
    # SIMBAD's spectral type and J, H, K change the diameters: the build's diameter step again
    await refresh_diameters(conn, LIVE, [star for star, _ in pairs])
    return added


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
        await lock_objects(conn, [o.oid for o in unique])
        await append(conn, unique, idents, fetched_at)
        for obj in unique:
            if obj.values.get("ra") is None or obj.values.get("dec") is None:
                continue
            star_id = await _existing_star(conn, obj)
            if star_id is None:
                star_id = int(await conn.fetchval(insert_sql(), obj.oid, fetched_at))
            # one at a time: the next object's search must see this one's identity
            await attach(conn, [(star_id, obj.oid)], fetched_at)
            stored[obj.oid] = star_id
        if stored:  # cached answers (cones near the new star, names) must not outlive this
            await conn.execute(derived.update_sql(LIVE, only_ids=True), sorted(set(stored.values())))
            await announce_learned(conn)
    return stored

"""The matching itself: targets into a temporary table, then ONE set-based query.

Why set-based: 100,000 positions answered by 100,000 separate cone queries would spend
their time in round trips; one statement lets PostgreSQL run the q3c index probes back to
back.  The targets are COPYed (binary) into a temporary table that lives for the
transaction, the names are looked up in one ``unnest`` join on ``live.ident.key``, and one
query computes, per target and in input order: the nearest star within the radius, its
separation, the number of candidates within the radius, the separation of the second, the
name's star(s) and their separation, the match flag, and the row's output cells rendered
from the chosen star's properties (``render``).

Epochs: catalogue positions are J2000; a target with an epoch is compared with the
catalogue moved by proper motion to that epoch.  The q3c probe radius is widened by the
fastest proper motion times |epoch - 2000| so no moving star is missed, then the exact
separation is taken on the moved position (same spherical formula as
``coords.propagate``); stars without a proper motion stay put.

Flags (SQL below, one place):
  ``name``                   a name alone, resolving to one star;
  ``position``               a position alone, exactly one star within the radius;
  ``ambiguous``              a position alone with two or more stars within the radius (the
                             nearest is still reported, with ``n_candidates`` and
                             ``sep2_arcsec``), or a name alone resolving to several stars;
  ``name+position``          the name's star is within the radius of the position (the name
                             picks it even when it is not the nearest);
  ``name_position_disagree`` the name resolves, but its star is outside the radius; the
                             reported star is the position's nearest (if any) and
                             ``name_main_id``/``name_separation_arcsec`` say what the name gave;
  ``none``                   nothing found (an unknown name with no position, no star
                             within the radius, or a malformed row).
An unknown name with a position is matched on the position alone.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from getstar.names import query_keys
from getstar.properties import BY_NAME, Property, storage_column
from getstar.resolver import MAX_PM_ARCSEC_PER_YEAR
from getstar.xmatch.render import params, render_sql

__all__ = ["FLAGS", "KEY_PROPERTIES", "Batch", "Target", "load_targets", "lookup_names", "materialize", "open_batch",
           "read_materialized"]

FLAGS = ("name", "position", "name+position", "ambiguous", "none", "name_position_disagree")

#: The JSDC/SIMBAD properties given for the matched star (positions in degrees).
KEY_PROPERTIES: tuple[Property, ...] = tuple(BY_NAME[n] for n in (
    "RA", "DEC", "pmRa", "pmDec", "plx", "SpType", "V", "G", "K", "LDD", "UD_H", "UD_K",
))

_MAS_TO_RAD = math.pi / (180.0 * 3_600_000.0)
_TEMP = "xm_target"
_OUT = "xm_answer"


@dataclass(slots=True)
class Target:
    """One input row as the matcher sees it (``error`` set: the row is not matched)."""

    name: str | None
    ra: float | None
    dec: float | None
    epoch: float | None
    radius_deg: float
    error: str | None = None


def _distance(s: str) -> str:
    """SQL: separation (degrees) between star ``s`` moved to the target's epoch and target ``t``.

    The move is ``coords.propagate``'s: a straight line in the tangent plane, applied to the
    unit vector, so it stays exact across RA 0/360 and near the poles.
    """
    moved = f"""(SELECT q3c_dist(degrees(atan2(y, x)), degrees(atan2(z, sqrt(x * x + y * y))), t.ra, t.dec)
              FROM (SELECT cd * ca - e * sa - n * sd * ca AS x, cd * sa + e * ca - n * sd * sa AS y,
                           sd + n * cd AS z
                    FROM (SELECT cos(radians({s}.dec)) AS cd, sin(radians({s}.dec)) AS sd,
                                 cos(radians({s}.ra)) AS ca, sin(radians({s}.ra)) AS sa,
                                 {s}.p_pmra * t.dt * {_MAS_TO_RAD!r} AS e,
                                 {s}.p_pmdec * t.dt * {_MAS_TO_RAD!r} AS n) v) w)"""
    return (f"CASE WHEN t.dt = 0 OR {s}.p_pmra IS NULL OR {s}.p_pmdec IS NULL "
            f"THEN q3c_dist({s}.ra, {s}.dec, t.ra, t.dec) ELSE {moved} END")


def _star_columns(props: Sequence[Property]) -> list[str]:
    cols: list[str] = []
    for p in props:
        c = storage_column(p)
        cols += [c, c + "_o", c + "_c"]
        if p.error is not None and not p.derived_from:
            cols.append(c + "_e")
    return list(dict.fromkeys(cols))


def match_sql(fmt: str, props: Sequence[Property] = KEY_PROPERTIES) -> str:
    """The one statement: per target, in input order, the flag, the star and the row's output
    cells rendered in ``fmt`` (``xm_text``, see ``render``); $1 is ``render.params(fmt)``."""
    return f"""
SELECT m.xm_i, m.xm_flag, m.xm_star, {render_sql(fmt, props, "m")} AS xm_text
FROM ({_inner_sql(props)}
      ORDER BY t.i OFFSET 0) m  -- OFFSET 0: each chosen column is computed once, not per use
ORDER BY m.xm_i
"""


def _inner_sql(props: Sequence[Property]) -> str:
    # the chosen star's columns: the positional candidate's row fetched by its ctid (q, no index
    # descent) when it is the one chosen, else by id (p; a NULL key makes that lookup free)
    names = ["main_id", *_star_columns(props)]
    star_cols = ", ".join(f"CASE WHEN f.star_id = b.star_id THEN q.{c} ELSE p.{c} END AS {c}" for c in names)
    return f"""
SELECT t.i AS xm_i, f.flag AS xm_flag, f.star_id AS xm_star,
       CASE WHEN f.flag = 'name+position' THEN ns.sep ELSE b.sep END * 3600.0 AS xm_sep,
       CASE WHEN t.ra IS NULL THEN NULL ELSE coalesce(b.n, 0) END AS xm_n,
       b.sep2 * 3600.0 AS xm_sep2, ns.main_ids AS xm_name_main_id, ns.sep * 3600.0 AS xm_name_sep,
       {star_cols}
FROM {_TEMP} t
LEFT JOIN LATERAL (
    SELECT c.star_id, c.tid, c.d AS sep, count(*) OVER () AS n, lead(c.d) OVER (ORDER BY c.d, c.star_id) AS sep2
    FROM (SELECT s.star_id, s.ctid AS tid, {_distance("s")} AS d
          FROM live.star s
          WHERE q3c_join(t.ra, t.dec, s.ra, s.dec, t.r + t.margin)) c
    WHERE c.d <= t.r
    ORDER BY c.d, c.star_id
    LIMIT 1
) b ON true
LEFT JOIN LATERAL (
    SELECT (array_agg(x.star_id ORDER BY x.d NULLS LAST, x.star_id))[1] AS star_id, min(x.d) AS sep,
           string_agg(x.main_id, '|' ORDER BY x.main_id) AS main_ids, count(*) AS n
    FROM (SELECT s.star_id, s.main_id, CASE WHEN t.ra IS NOT NULL THEN {_distance("s")} END AS d
          FROM live.star s WHERE s.star_id = ANY(t.name_stars)) x
) ns ON t.name_stars IS NOT NULL
CROSS JOIN LATERAL (
    SELECT CASE
             WHEN t.ra IS NULL THEN CASE WHEN ns.n = 1 THEN 'name' WHEN ns.n > 1 THEN 'ambiguous' ELSE 'none' END
             WHEN ns.n > 0 AND ns.sep <= t.r THEN 'name+position'
             WHEN ns.n > 0 THEN 'name_position_disagree'
             WHEN b.star_id IS NULL THEN 'none'
             WHEN b.n > 1 THEN 'ambiguous'
             ELSE 'position'
           END AS flag,
           CASE
             WHEN t.ra IS NULL THEN CASE WHEN ns.n = 1 THEN ns.star_id END
             WHEN ns.n > 0 AND ns.sep <= t.r THEN ns.star_id
             ELSE b.star_id
           END AS star_id
) f
LEFT JOIN live.star q ON q.ctid = CASE WHEN f.star_id = b.star_id THEN b.tid END
LEFT JOIN live.star p ON p.star_id = CASE WHEN f.star_id IS DISTINCT FROM b.star_id THEN f.star_id END
"""


NAMES_SQL = """
SELECT q.qi, q.rank, i.star_id
FROM unnest($1::int[], $2::text[], $3::int[]) AS q(qi, key, rank)
JOIN live.ident i ON i.key = q.key
"""


def _keys(names: Sequence[str]) -> tuple[list[int], list[str], list[int]]:
    idx: list[int] = []
    keys: list[str] = []
    ranks: list[int] = []
    for qi, name in enumerate(names):
        for rank, key in enumerate(query_keys(name)):
            idx.append(qi)
            keys.append(key)
            ranks.append(rank)
    return idx, keys, ranks


async def lookup_names(conn: asyncpg.Connection, names: Sequence[str]) -> list[list[int]]:
    """Star ids per name (best-ranked key that hits; several = ambiguous), in one statement."""
    # ~3 us per name: a big list is normalised off the event loop
    idx, keys, ranks = await asyncio.to_thread(_keys, names) if len(names) > 1000 else _keys(names)
    found: list[dict[int, set[int]]] = [{} for _ in names]
    if keys:
        for qi, rank, star_id in await conn.fetch(NAMES_SQL, idx, keys, ranks):
            found[qi].setdefault(rank, set()).add(star_id)
    return [sorted(hits[min(hits)]) if hits else [] for hits in found]


async def _name_stars(conn: asyncpg.Connection, targets: Sequence[Target]) -> dict[str, list[int]]:
    """Each distinct name of the batch -> its star ids (batches repeat names: look each up once)."""
    names = list(dict.fromkeys(t.name for t in targets if t.name is not None and t.error is None))
    return dict(zip(names, await lookup_names(conn, names), strict=True))


def _records(targets: Sequence[Target], stars: dict[str, list[int]], offset: int):  # type: ignore[no-untyped-def]
    for i, t in enumerate(targets, offset):
        if t.error is not None:
            yield (i, None, None, None, 0.0, 0.0, None)
            continue
        dt = (t.epoch - 2000.0) if t.epoch is not None else 0.0
        margin = MAX_PM_ARCSEC_PER_YEAR * abs(dt) / 3600.0
        ids = stars.get(t.name) if t.name is not None else None
        yield (i, t.ra, t.dec, t.radius_deg, dt, margin, ids or None)


class Batch:
    """The running match query of one batch: fetch its rows in input order, chunk by chunk."""

    def __init__(self, cursor: asyncpg.cursor.Cursor) -> None:  # type: ignore[name-defined]
        self._cursor = cursor

    async def fetch(self, n: int) -> list[asyncpg.Record]:
        return list(await self._cursor.fetch(n))


async def load_targets(conn: asyncpg.Connection, targets: Sequence[Target], offset: int = 0) -> None:
    """Look the names up and COPY the targets (numbered from ``offset``) into the temporary table."""
    stars = await _name_stars(conn, targets)
    await conn.execute(f"DROP TABLE IF EXISTS pg_temp.{_TEMP}")
    await conn.execute(f"""CREATE TEMPORARY TABLE {_TEMP} (
        i integer PRIMARY KEY, ra float8, dec float8, r float8, dt float8, margin float8,
        name_stars bigint[]) ON COMMIT DROP""")
    await conn.copy_records_to_table(_TEMP, records=_records(targets, stars, offset))
    await conn.execute(f"ANALYZE {_TEMP}")


async def open_batch(conn: asyncpg.Connection, targets: Sequence[Target], fmt: str, offset: int = 0,
                     props: Sequence[Property] = KEY_PROPERTIES) -> Batch:
    """Load ``targets`` and start the match query; ``conn`` must be inside a transaction.

    Rows come back numbered from ``offset`` (``xm_i``), one per target, in order, each with
    ``xm_flag``, ``xm_star`` and ``xm_text`` (its output cells in ``fmt``).
    """
    await load_targets(conn, targets, offset)
    return Batch(await conn.cursor(match_sql(fmt, props), *params(fmt)))


async def materialize(conn: asyncpg.Connection, targets: Sequence[Target], fmt: str, offset: int = 0,
                      props: Sequence[Property] = KEY_PROPERTIES) -> None:
    """Match ``targets`` now, into a temporary table of answer rows, to be read by ``read_materialized``.

    Why: a batch split in two runs its second half on a second connection (a second core)
    while the first half streams; its rows wait in the database, not in this process.
    """
    await load_targets(conn, targets, offset)
    await conn.execute(f"DROP TABLE IF EXISTS pg_temp.{_OUT}")
    await conn.execute(f"CREATE TEMPORARY TABLE {_OUT} (xm_i integer, xm_flag text, xm_star bigint, xm_text text) "
                       "ON COMMIT DROP")
    await conn.execute(f"INSERT INTO {_OUT} {match_sql(fmt, props)}", *params(fmt))
    await conn.execute(f"CREATE INDEX ON {_OUT} (xm_i)")


async def read_materialized(conn: asyncpg.Connection) -> Batch:
    """The rows ``materialize`` stored, in input order."""
    return Batch(await conn.cursor(f"SELECT xm_i, xm_flag, xm_star, xm_text FROM {_OUT} ORDER BY xm_i"))

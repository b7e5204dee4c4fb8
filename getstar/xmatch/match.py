"""The matching itself: targets into temporary tables, then set-based queries.

Why set-based: 100,000 positions answered by 100,000 separate cone queries would spend
their time in round trips; one statement lets PostgreSQL run the index probes back to back.
The names are looked up in one ``unnest`` join on ``live.ident.key``; the targets are
COPYed (binary, built by numpy) into temporary tables that live for the transaction:

* positions without a resolved name, as the sky cells their circle touches
  (``skycells``): one equality probe of the ``star_cell`` index each, sorted by cell so
  that neighbouring probes read neighbouring pages; at an epoch the circle is widened for
  the motion of ordinary stars only, and the fast movers (``skycells.FAST_PM_MAS_PER_YEAR``)
  are looked for apart in their own q3c index; the few circles touching too many cells
  (wide radii, very long epochs, the poles) are probed with ``q3c_join`` instead, widened
  alike (a cone widened for the fastest star, 0.46 degree at 2150, made 100,000 targets take
  12 s).  One window over all (target, candidate) pairs then gives each target its nearest
  star, the number of candidates and the separation of the second;
* targets whose name resolves, with their position if they have one: the name's star(s),
  and the position's nearest, searched as above from tables of their own (a q3c cone per
  row cost ten times as much).

Each statement gives its rows in input order, with the flag and the row's output cells
already rendered (``render``: a candidate's cells are rendered where its row is read, once);
``Batch`` merges the two and makes the rows that matched nothing.

Epochs: catalogue positions are J2000; a target with an epoch is compared with the
catalogue moved by proper motion to that epoch.  The probe radius is widened by the
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
An unknown name with a position is matched on the position alone.  A name of a multiple
system stands for its primary component (``name_system`` gives the system).
"""

from __future__ import annotations

import collections
import itertools
import math
import operator
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import numpy as np

from getstar.names import query_keys
from getstar.offload import off_loop
from getstar.properties import BY_NAME, Property
from getstar.resolver import MAX_PM_ARCSEC_PER_YEAR
from getstar.skycells import FAST_PM_MAS_PER_YEAR, cell_sql, fast_sql, probe_cells
from getstar.xmatch.render import match_text_sql, params, star_text_sql

#: Rows fetched and written per chunk: big enough to amortise round trips, small enough to
#: keep the event loop responsive (~20 ms of formatting).
CHUNK = 2000

__all__ = ["FLAGS", "KEY_PROPERTIES", "Batch", "Target", "TargetSet", "load_targets", "lookup_names", "materialize",
           "open_batch", "read_materialized", "ROW", "FLAG", "STAR", "TEXT"]

FLAGS = ("name", "position", "name+position", "ambiguous", "none", "name_position_disagree")

#: The JSDC/SIMBAD properties given for the matched star (positions in degrees).
KEY_PROPERTIES: tuple[Property, ...] = tuple(BY_NAME[n] for n in (
    "RA", "DEC", "pmRa", "pmDec", "plx", "SpType", "V", "G", "K", "LDD", "UD_H", "UD_K",
))

_MAS_TO_RAD = math.pi / (180.0 * 3_600_000.0)
_NAMES = "xm_name"
_OUT = "xm_answer"
#: The columns of a batch's rows (``Batch.fetch``): row number, flag, star id, output cells.
ROW, FLAG, STAR, TEXT = range(4)


@dataclass(frozen=True)
class _Probes:
    """The temporary tables a group of positions is searched from: its cell probes, its
    circles too wide for cells (q3c), and its targets with an epoch (their fast movers)."""

    cells: str
    wide: str
    moving: str

    def tables(self) -> tuple[str, str, str]:
        return self.cells, self.wide, self.moving


#: Positions without a resolved name (their answer is the position's), and the positions of
#: targets whose name resolves (the name's star is checked against them): searched alike,
#: kept apart so that each statement reads only its own.
_ALONE = _Probes("xm_probe", "xm_wide", "xm_moving")
_NAMED = _Probes("xm_name_probe", "xm_name_wide", "xm_name_moving")


@dataclass(slots=True)
class Target:
    """One input row as the matcher sees it (``error`` set: the row is not matched)."""

    name: str | None
    ra: float | None
    dec: float | None
    epoch: float | None
    radius_deg: float
    error: str | None = None


@dataclass
class TargetSet:
    """A batch's targets as columns: what the load into the database reads, without a
    Python object per row.  NaN marks a missing position or epoch; ``errors`` holds the
    rows that are not matched (row index -> problem)."""

    ra: np.ndarray
    dec: np.ndarray
    epoch: np.ndarray
    radius: np.ndarray
    names: list[str | None]
    errors: dict[int, str]

    @classmethod
    def of(cls, targets: Sequence[Target]) -> TargetSet:
        """From per-row targets (small batches, tests)."""
        nan = math.nan
        return cls(np.array([t.ra if t.ra is not None else nan for t in targets], np.float64),
                   np.array([t.dec if t.dec is not None else nan for t in targets], np.float64),
                   np.array([t.epoch if t.epoch is not None else nan for t in targets], np.float64),
                   np.array([t.radius_deg for t in targets], np.float64),
                   [t.name for t in targets], {k: t.error for k, t in enumerate(targets) if t.error is not None})

    def __len__(self) -> int:
        return len(self.ra)

    def __getitem__(self, k: int) -> Target:
        ra, dec, epoch = float(self.ra[k]), float(self.dec[k]), float(self.epoch[k])
        error = self.errors.get(k)
        if error is not None:
            return Target(None, None, None, None, float(self.radius[k]), error)
        return Target(self.names[k], None if math.isnan(ra) else ra, None if math.isnan(dec) else dec,
                      None if math.isnan(epoch) else epoch, float(self.radius[k]))

    def part(self, lo: int, hi: int) -> TargetSet:
        """Rows ``lo`` to ``hi`` (numbered from 0 again)."""
        return TargetSet(self.ra[lo:hi], self.dec[lo:hi], self.epoch[lo:hi], self.radius[lo:hi], self.names[lo:hi],
                         {k - lo: e for k, e in self.errors.items() if lo <= k < hi})


def _distance(s: str, t: str = "t") -> str:
    """SQL: separation (degrees) between star ``s`` moved to the target's epoch and target ``t``.

    The move is ``coords.propagate``'s: a straight line in the tangent plane, applied to the
    unit vector, so it stays exact across RA 0/360 and near the poles.
    """
    moved = f"""(SELECT q3c_dist(degrees(atan2(y, x)), degrees(atan2(z, sqrt(x * x + y * y))), {t}.ra, {t}.dec)
              FROM (SELECT cd * ca - e * sa - n * sd * ca AS x, cd * sa + e * ca - n * sd * sa AS y,
                           sd + n * cd AS z
                    FROM (SELECT cos(radians({s}.dec)) AS cd, sin(radians({s}.dec)) AS sd,
                                 cos(radians({s}.ra)) AS ca, sin(radians({s}.ra)) AS sa,
                                 {s}.p_pmra * {t}.dt * {_MAS_TO_RAD!r} AS e,
                                 {s}.p_pmdec * {t}.dt * {_MAS_TO_RAD!r} AS n) v) w)"""
    return (f"CASE WHEN {t}.dt = 0 OR {s}.p_pmra IS NULL OR {s}.p_pmdec IS NULL "
            f"THEN q3c_dist({s}.ra, {s}.dec, {t}.ra, {t}.dec) ELSE {moved} END")


def match_sql(fmt: str, props: Sequence[Property] = KEY_PROPERTIES) -> tuple[str, str]:
    """The two statements of a batch, positions (targets without a resolved name) and names:
    each gives, in input order, the targets that matched something (or whose name resolves)
    with their flag, star and output cells rendered in ``fmt`` (``xm_text``, see ``render``);
    $1 and $2 are ``render.params(fmt)``.  ``Batch`` merges the two and fills in the rows
    that are in neither (nothing matched).

    Each candidate star's cells are rendered where its row is read, by the probe (``frag``):
    the row is read once, and no second lookup fetches the chosen star again.  Two
    statements rather than a UNION: each comes out of its own work already in order, where
    their union would be sorted again, whole, before its first row.
    """
    star, unset = star_text_sql(fmt, props, "s")
    return tuple(f"""
SELECT m.xm_i, m.xm_flag, m.xm_star,
       {match_text_sql(fmt, "m")} || coalesce(m.xm_frag, {_literal(unset)}) AS xm_text
FROM ({part}) m
ORDER BY m.xm_i
""" for part in (_positions_sql(star), _names_sql(star)))  # type: ignore[return-value]


def none_sql(fmt: str, props: Sequence[Property] = KEY_PROPERTIES) -> str:
    """The output cells of a row that matched nothing, in two rows: without a position (a
    name that does not resolve), then with one (0 candidates)."""
    _, unset = star_text_sql(fmt, props, "s")
    return f"""
SELECT {match_text_sql(fmt, "m")} || {_literal(unset)}
FROM (SELECT v.pos, 'none'::text AS xm_flag, NULL::text AS xm_main_id, NULL::text AS xm_name_main_id,
             NULL::float8 AS xm_sep, CASE WHEN v.pos THEN 0 END AS xm_n, NULL::float8 AS xm_sep2,
             NULL::float8 AS xm_name_sep, NULL::text AS xm_name_system
      FROM (VALUES (false), (true)) AS v(pos)) m
ORDER BY m.pos"""


def _literal(text: str) -> str:
    """A SQL literal of our own constant text (never of input)."""
    return "'" + text.replace("'", "''") + "'"


def _positions_sql(star: str) -> str:
    """Targets with a position and no name: each one's nearest star within its radius, their
    number and the second's separation (``_nearest_sql``); its rows come out in target order."""
    return f"""
SELECT x.i AS xm_i, CASE WHEN x.n > 1 THEN 'ambiguous' ELSE 'position' END AS xm_flag, x.star_id AS xm_star,
       x.main_id AS xm_main_id, x.frag AS xm_frag, x.d * 3600.0 AS xm_sep, x.n AS xm_n, x.sep2 * 3600.0 AS xm_sep2,
       NULL::text AS xm_name_main_id, NULL::float8 AS xm_name_sep, NULL::text AS xm_name_system
FROM ({_nearest_sql(star, _ALONE)}) x"""


def _nearest_sql(star: str, probes: _Probes) -> str:
    """Per target of ``probes`` with a star within its radius: the nearest (``star_id``,
    ``main_id``, ``frag``, ``d``), the number of them (``n``) and the second's separation
    (``sep2``), from one window over all (target, candidate) pairs, in target order."""
    return f"""
SELECT x.i, x.star_id, x.main_id, x.frag, x.d, x.n, x.sep2
FROM (SELECT x.*, row_number() OVER w AS rank, count(*) OVER w AS n, lead(x.d) OVER w AS sep2
      FROM ({_pairs_sql(star, probes)}) x
      -- one window (one pass, one copy of the rows) for the rank, the count and the next
      WINDOW w AS (PARTITION BY x.i ORDER BY x.d, x.star_id ROWS BETWEEN UNBOUNDED PRECEDING
                   AND UNBOUNDED FOLLOWING)) x
WHERE x.rank = 1"""


def _pairs_sql(star: str, probes: _Probes) -> str:
    """Every (target, star within its radius, separation, the star's rendered cells): cell
    probes and q3c cones for wide targets (at an epoch: of the stars that are not fast
    movers, whose margin is ``FAST_PM_MAS_PER_YEAR``'s), and the fast movers of targets with
    an epoch (a cone per target in their own small index, with the whole margin)."""
    return f"""
    SELECT p.i, c.star_id, c.main_id, c.d, c.frag
    FROM {probes.cells} p
    CROSS JOIN LATERAL (
        SELECT s.star_id, s.main_id, sep.d, {star} AS frag
        FROM live.star s CROSS JOIN LATERAL (SELECT {_distance("s", "p")} AS d) sep
        WHERE {cell_sql("s.ra", "s.dec")} = p.cell AND sep.d <= p.r
          AND (p.dt = 0 OR NOT coalesce({fast_sql("s")}, false))
        OFFSET 0) c  -- OFFSET 0: one index probe per cell, never a join over the whole table
    UNION ALL
    SELECT mv.i, c.star_id, c.main_id, c.d, c.frag
    FROM {probes.moving} mv
    CROSS JOIN LATERAL (  -- a cone per target in the small index of the fast movers
        SELECT s.star_id, s.main_id, sep.d, {star} AS frag
        FROM live.star s CROSS JOIN LATERAL (SELECT {_distance("s", "mv")} AS d) sep
        WHERE q3c_join(mv.ra, mv.dec, s.ra, s.dec, mv.r + mv.margin) AND {fast_sql("s")} AND sep.d <= mv.r
        OFFSET 0) c
    UNION ALL
    SELECT wt.i, c.star_id, c.main_id, c.d, c.frag
    FROM {probes.wide} wt
    CROSS JOIN LATERAL (
        SELECT s.star_id, s.main_id, sep.d, {star} AS frag
        FROM live.star s CROSS JOIN LATERAL (SELECT {_distance("s", "wt")} AS d) sep
        WHERE q3c_join(wt.ra, wt.dec, s.ra, s.dec, wt.r + wt.margin) AND sep.d <= wt.r
          AND (wt.dt = 0 OR NOT coalesce({fast_sql("s")}, false))
        OFFSET 0) c"""


def _names_sql(star: str) -> str:
    # ns: the name's star(s), nearest to the position first; b: the position's nearest star (searched
    # as the positions alone are, from the _NAMED tables: a q3c cone per row cost ten times as much)
    return f"""
SELECT nm.i AS xm_i, f.flag AS xm_flag, f.star_id AS xm_star, f.main_id AS xm_main_id, f.frag AS xm_frag,
       CASE WHEN f.flag = 'name+position' THEN ns.sep ELSE b.d END * 3600.0 AS xm_sep,
       CASE WHEN nm.pos THEN coalesce(b.n, 0) END AS xm_n,
       b.sep2 * 3600.0 AS xm_sep2, ns.main_ids AS xm_name_main_id, ns.sep * 3600.0 AS xm_name_sep,
       nm.system AS xm_name_system
FROM {_NAMES} nm
CROSS JOIN LATERAL (
    SELECT (array_agg(x.star_id ORDER BY x.d NULLS LAST, x.star_id))[1] AS star_id,
           (array_agg(x.main_id ORDER BY x.d NULLS LAST, x.star_id))[1] AS main_id,
           (array_agg(x.frag ORDER BY x.d NULLS LAST, x.star_id))[1] AS frag, min(x.d) AS sep,
           string_agg(x.main_id, '|' ORDER BY x.main_id) AS main_ids, count(*) AS n
    FROM (SELECT s.star_id, s.main_id, {star} AS frag, CASE WHEN nm.pos THEN {_distance("s", "nm")} END AS d
          FROM live.star s WHERE s.star_id = ANY(nm.stars)) x) ns
LEFT JOIN ({_nearest_sql(star, _NAMED)}) b ON b.i = nm.i AND nm.pos
CROSS JOIN LATERAL (
    SELECT CASE
             WHEN NOT nm.pos THEN CASE WHEN ns.n = 1 THEN 'name' WHEN ns.n > 1 THEN 'ambiguous' ELSE 'none' END
             WHEN ns.n > 0 AND ns.sep <= nm.r THEN 'name+position'
             WHEN ns.n > 0 THEN 'name_position_disagree'
             WHEN b.star_id IS NULL THEN 'none'
             WHEN b.n > 1 THEN 'ambiguous'
             ELSE 'position'
           END AS flag,
           -- which star the row reports: the name's (alone and unique, or within the radius), else the position's
           CASE WHEN NOT nm.pos THEN ns.n = 1 ELSE ns.n > 0 AND ns.sep <= nm.r END AS by_name) f0
CROSS JOIN LATERAL (
    SELECT f0.flag,
           CASE WHEN f0.by_name THEN ns.star_id WHEN nm.pos THEN b.star_id END AS star_id,
           CASE WHEN f0.by_name THEN ns.main_id WHEN nm.pos THEN b.main_id END AS main_id,
           CASE WHEN f0.by_name THEN ns.frag WHEN nm.pos THEN b.frag END AS frag
) f"""


# as the resolver's: stars (live.ident) or a multiple system's name (live.system_name)
NAMES_SQL = """
WITH q AS MATERIALIZED (SELECT * FROM unnest($1::int[], $2::text[], $3::int[]) AS q(qi, key, rank))
SELECT q.qi, q.rank, i.star_id, NULL::text AS system FROM q JOIN live.ident i ON i.key = q.key
UNION ALL
SELECT q.qi, q.rank, y.star_id, y.system FROM q JOIN live.system_name y ON y.key = q.key
ORDER BY 1, 2
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
    return [ids for ids, _ in await lookup_names_and_systems(conn, names)]


async def lookup_names_and_systems(conn: asyncpg.Connection,
                                   names: Sequence[str]) -> list[tuple[list[int], str | None]]:
    """Per name: its star ids, and the multiple system it names when it resolves to that
    system's primary component (else None)."""
    # ~3 us per name: a big list is normalised off the event loop
    big = len(names) > OFF_LOOP_MIN
    idx, keys, ranks = await off_loop(_keys, names) if big else _keys(names)
    rows = await conn.fetch(NAMES_SQL, idx, keys, ranks) if keys else []
    return await off_loop(_best_hits, len(names), rows) if big else _best_hits(len(names), rows)


#: Batches with more targets than this have their Python steps (name keys, hits, COPY data) run
#: in the CPU lane (``getstar.offload``): thousands of rows are tens of milliseconds the event
#: loop would otherwise not serve cached names for.
OFF_LOOP_MIN = 200


def _best_hits(n: int, rows: Sequence[Sequence[Any]]) -> list[tuple[list[int], str | None]]:
    """Per name (``rows``: NAMES_SQL's, by name then rank), the star ids of its best-ranked key that
    hits, and its system; a name at a time (a dict per name for all of a 100,000-name batch at once
    was 30 MB more of the worker's peak)."""
    found: list[tuple[list[int], str | None] | None] = [None] * n
    for qi, hits in itertools.groupby(rows, key=operator.itemgetter(0)):
        stars: dict[int, str | None] = {}
        best = None
        for _, rank, star_id, system in hits:
            if best is not None and rank != best:
                break  # the best rank's rows come first
            best = rank
            stars[star_id] = None if star_id in stars and stars[star_id] is None else system
        ids = sorted(stars)
        found[qi] = (ids, stars[ids[0]] if len(ids) == 1 else None)
    return [([], None) if hit is None else hit for hit in found]


async def _name_stars(conn: asyncpg.Connection, targets: TargetSet) -> dict[str, tuple[list[int], str | None]]:
    """Each distinct name of the batch -> its star ids and system (batches repeat names: look each up once)."""
    errors = targets.errors
    names = list(dict.fromkeys(n for k, n in enumerate(targets.names) if n is not None and k not in errors))
    return dict(zip(names, await lookup_names_and_systems(conn, names), strict=True))


async def _chunks(data: bytes, size: int = 1 << 20) -> AsyncIterator[bytes]:
    """``data`` for asyncpg's COPY (bytes alone would be taken for a file name)."""
    for start in range(0, len(data), size):
        yield data[start:start + size]


def _binary_copy(columns: Sequence[np.ndarray]) -> bytes:
    """PostgreSQL's binary COPY of fixed-width, NULL-free columns, built by numpy in one go
    (asyncpg's per-record encoding costs ~1 us a row; this, a few ns)."""
    n = len(columns[0])
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for k, col in enumerate(columns):
        fields += [(f"len{k}", ">i4"), (f"v{k}", col.dtype.newbyteorder(">").str)]
    rows = np.empty(n, dtype=np.dtype(fields))
    rows["count"] = len(columns)
    for k, col in enumerate(columns):
        rows[f"len{k}"] = col.dtype.itemsize
        rows[f"v{k}"] = col
    return _COPY_HEADER + rows.tobytes() + _COPY_TRAILER


_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
_COPY_TRAILER = b"\xff\xff"


def _columns(targets: TargetSet, offset: int) -> dict[str, np.ndarray]:
    """What the temporary tables hold: row number, position (0 where none), radius, years
    since J2000, proper-motion margin of the search (degrees), and whether the row has a
    position to match."""
    pos = ~np.isnan(targets.ra)
    if targets.errors:
        pos[list(targets.errors)] = False
    dt = np.nan_to_num(targets.epoch - 2000.0, nan=0.0)
    return {"i": np.arange(offset, offset + len(targets), dtype=np.int32),
            "ra": np.where(pos, targets.ra, 0.0), "dec": np.where(pos, targets.dec, 0.0), "r": targets.radius,
            "dt": dt, "margin": MAX_PM_ARCSEC_PER_YEAR * np.abs(dt) / 3600.0, "pos": pos}


class Batch:
    """The rows of one batch, in input order, chunk by chunk: those of the two statements
    (``match_sql``) merged, and between them the rows that matched nothing, made here (the
    database need not carry 'none' rows through its joins)."""

    def __init__(self, cursors: Sequence[asyncpg.cursor.Cursor], offset: int,  # type: ignore[name-defined]
                 targets: TargetSet, none_texts: tuple[str, str]) -> None:
        self._sources = [_Source(c) for c in cursors]
        self._next = offset
        self._end = offset + len(targets)
        self._offset = offset
        self._positioned = ~np.isnan(targets.ra)
        self._none_texts = none_texts  # (without a position, with one)

    async def fetch(self, n: int) -> list[Sequence[Any]]:
        """Up to ``n`` rows (``ROW``, ``FLAG``, ``STAR``, ``TEXT``), the next ones in order."""
        out: list[Sequence[Any]] = []
        while len(out) < n and self._next < self._end:
            for source in self._sources:
                if await source.head(n) == self._next:
                    out.append(source.pop())
                    break
            else:
                positioned = bool(self._positioned[self._next - self._offset])
                out.append((self._next, "none", None, self._none_texts[positioned]))
            self._next += 1
        return out


async def _none_texts(conn: asyncpg.Connection, fmt: str, props: Sequence[Property]) -> tuple[str, str]:
    without, with_position = (r[0] for r in await conn.fetch(none_sql(fmt, props)))  # one round trip
    return without, with_position


class _Source:
    """One statement's rows, read ahead chunk by chunk."""

    def __init__(self, cursor: asyncpg.cursor.Cursor) -> None:  # type: ignore[name-defined]
        self.cursor = cursor
        self.rows: collections.deque[asyncpg.Record] = collections.deque()
        self.exhausted = False

    async def head(self, n: int) -> int | None:
        """The row number of the next row (None when there is none left)."""
        if not self.rows and not self.exhausted:
            recs = await self.cursor.fetch(n)
            self.exhausted = len(recs) < n
            self.rows.extend(recs)
        return self.rows[0][ROW] if self.rows else None

    def pop(self) -> asyncpg.Record:
        return self.rows.popleft()


async def load_targets(conn: asyncpg.Connection, targets: TargetSet, offset: int = 0) -> int:
    """Look the names up, COPY the targets (numbered from ``offset``) into temporary tables
    that live for the transaction: the targets whose name resolves (their number is
    returned), and the positions' cell probes, circles too wide for cells and targets with
    an epoch, those of the named targets apart (``_ALONE``, ``_NAMED``)."""
    stars = await _name_stars(conn, targets)
    plan = await off_loop(_plan, targets, stars, offset) if len(targets) > OFF_LOOP_MIN else \
        _plan(targets, stars, offset)
    tables = [*_ALONE.tables(), *_NAMED.tables(), _NAMES]
    await conn.execute("DROP TABLE IF EXISTS " + ", ".join(f"pg_temp.{t}" for t in tables))
    # no indexes and no ANALYZE: each table is read once, whole (writing an index and
    # sampling 100,000 rows would cost more than the query saves)
    circles = "(i integer, ra float8, dec float8, r float8, dt float8, margin float8)"
    await conn.execute(";".join(
        [f"CREATE TEMPORARY TABLE {table} {columns} ON COMMIT DROP" for p in (_ALONE, _NAMED)
         for table, columns in ((p.cells, "(cell bigint, i integer, ra float8, dec float8, r float8, dt float8)"),
                                (p.wide, circles), (p.moving, circles))]
        + [f"CREATE TEMPORARY TABLE {_NAMES} (i integer, stars bigint[], pos boolean, ra float8, dec float8, "
           "r float8, dt float8, system text) ON COMMIT DROP"]))
    for table, data in plan.copies.items():
        if data:
            await conn.copy_to_table(table, source=_chunks(data), format="binary")
    if plan.named:
        await conn.copy_to_table(_NAMES, source=_chunks(plan.names), format="text")
    return plan.named


@dataclass
class _Plan:
    """What ``load_targets`` COPYs, ready to send (built in one synchronous step: see OFF_LOOP_MIN)."""

    copies: dict[str, bytes]  # table -> binary COPY (b"" when none) of the positions' probes
    names: bytes  # text COPY of the targets whose name resolves
    named: int


def _plan(targets: TargetSet, stars: dict[str, tuple[list[int], str | None]], offset: int) -> _Plan:
    c = _columns(targets, offset)
    named, lines = _named(targets, stars, c, offset)
    return _Plan(_position_copies(c, named), "".join(lines).encode(), len(lines))


def _named(targets: TargetSet, stars: dict[str, tuple[list[int], str | None]], c: dict[str, np.ndarray],
           offset: int) -> tuple[np.ndarray, list[str]]:
    """Which targets' names resolve, and their rows of the names table (text COPY)."""
    named = np.zeros(len(targets), bool)
    lines = []
    for k, name in enumerate(targets.names):
        if name is not None and k not in targets.errors and (hit := stars.get(name)) and hit[0]:
            named[k] = True
            ids = ",".join(map(str, hit[0]))
            lines.append(f"{offset + k}\t{{{ids}}}\t{'t' if c['pos'][k] else 'f'}\t{float(c['ra'][k])!r}\t"
                         f"{float(c['dec'][k])!r}\t{float(c['r'][k])!r}\t{float(c['dt'][k])!r}\t"
                         f"{_copy_text(hit[1])}\n")
    return named, lines


def _position_copies(c: dict[str, np.ndarray], named: np.ndarray) -> dict[str, bytes]:
    """The positions' search tables (binary COPY, b"" when empty), the named targets' apart:
    cell probes, circles too wide for cells, and targets with an epoch (their fast movers).

    Cells and wide circles hold the stars that are not fast movers: their margin is the fast
    movers' bound (``FAST_PM_MAS_PER_YEAR``); the fast movers' own search has the whole one."""
    positioned = np.flatnonzero(c["pos"])
    slow_margin = FAST_PM_MAS_PER_YEAR / 3_600_000.0 * np.abs(c["dt"])
    probe_of, cells, wide_of = probe_cells(c["ra"][positioned], c["dec"][positioned],
                                           c["r"][positioned] + slow_margin[positioned])
    wide = positioned[wide_of]
    moving = positioned[c["dt"][positioned] != 0]
    rows = positioned[probe_of]

    def circles(which: np.ndarray, margin: np.ndarray) -> bytes:
        return _binary_copy([*(c[k][which] for k in ("i", "ra", "dec", "r", "dt")), margin[which]]) \
            if len(which) else b""

    copies: dict[str, bytes] = {}
    for probes, mine in ((_ALONE, ~named), (_NAMED, named)):
        own = mine[rows]
        copies[probes.cells] = _binary_copy([cells[own], *(c[k][rows[own]] for k in ("i", "ra", "dec", "r", "dt"))]) \
            if own.any() else b""
        copies[probes.wide] = circles(wide[mine[wide]], slow_margin)
        copies[probes.moving] = circles(moving[mine[moving]], c["margin"])
    return copies


def _copy_text(value: str | None) -> str:
    """A text cell of COPY's text format (``\\N`` for NULL, backslash escapes)."""
    if value is None:
        return "\\N"
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


async def open_batch(conn: asyncpg.Connection, targets: TargetSet, fmt: str, offset: int = 0,
                     props: Sequence[Property] = KEY_PROPERTIES) -> Batch:
    """Load ``targets`` and start the match query; ``conn`` must be inside a transaction.

    Rows come back numbered from ``offset`` (``xm_i``), one per target, in order, each with
    ``xm_flag``, ``xm_star`` and ``xm_text`` (its output cells in ``fmt``).
    """
    named = await load_targets(conn, targets, offset)
    positions, names = match_sql(fmt, props)
    cursors = [await conn.cursor(positions, *params(fmt))]
    if named:
        cursors.append(await conn.cursor(names, *params(fmt)))
    return Batch(cursors, offset, targets, await _none_texts(conn, fmt, props))


async def materialize(conn: asyncpg.Connection, targets: TargetSet, fmt: str, offset: int = 0,
                      props: Sequence[Property] = KEY_PROPERTIES) -> None:
    """Match ``targets`` now, into a temporary table of answer rows, to be read by ``read_materialized``.

    Why: a batch split in two runs its second half on a second connection (a second core)
    while the first half streams; its rows wait in the database, not in this process, and
    everything but reading them is done by then (a cursor left open would still have to
    join, flag and render every row when read).
    """
    await load_targets(conn, targets, offset)
    await conn.execute(f"DROP TABLE IF EXISTS pg_temp.{_OUT}")
    await conn.execute(f"CREATE TEMPORARY TABLE {_OUT} (xm_i integer, xm_flag text, xm_star bigint, xm_text text) "
                       "ON COMMIT DROP")
    for sql in match_sql(fmt, props):
        await conn.execute(f"INSERT INTO {_OUT} {sql}", *params(fmt))
    await conn.execute(f"CREATE INDEX ON {_OUT} (xm_i)")


async def read_materialized(conn: asyncpg.Connection, targets: TargetSet, fmt: str, offset: int = 0,
                            props: Sequence[Property] = KEY_PROPERTIES) -> Batch:
    """The rows ``materialize`` stored for ``targets``, in input order."""
    return Batch([await conn.cursor(f"SELECT xm_i, xm_flag, xm_star, xm_text FROM {_OUT} ORDER BY xm_i")], offset,
                 targets, await _none_texts(conn, fmt, props))

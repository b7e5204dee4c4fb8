"""Resolving names and positions against the live snapshot.

Names: every queried name is normalised into its candidate keys (``names.query_keys``)
and all names of a request are looked up in ONE statement (``unnest`` of arrays, index
hits on ``ident.key``), which also returns the star rows and their identifiers; with a
coalescer (``getstar.coalesce``), the same statement carries the names of other requests made
meanwhile.  Names without a hit get trigram suggestions.  Positions: small cones without an epoch
probe the sky cells their circle touches (``CELL_CONE_SQL``, the ``star_cell`` index); the others
use ``q3c_join`` with the table's columns last, so the q3c index serves it; any number of cones
a statement.

Multiple systems: a name of ``live.system_name`` (built by ``ingest.identity``) answers the
system's primary component, flagged (``Answer.system``, the components as candidates), or
is ambiguous between the stars it may mean.

Fallback: with a ``SimbadFallback``, names found neither in the snapshot nor as positions
are asked of SIMBAD after the local lookup has released its connection, so local answers
never wait on SIMBAD; what SIMBAD returns is stored and read back from the snapshot.  A name
the fallback cannot answer now (SIMBAD down, timeout) is answered with what is known:
``not_found``, its suggestions, and the error saying SIMBAD could not be asked (with its
``retry_after``); the other names of the request are answered.

Epoch: ``resolve_names(..., epoch=)`` moves each found star's position there (``at_epoch``).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import asyncpg
import numpy as np

from getstar import coords
from getstar.coalesce import LookupCoalescer, RowsByName
from getstar.formats.model import Answer
from getstar.metrics import DB_QUERIES
from getstar.names import query_keys
from getstar.properties import BY_NAME, ORIGIN_CODE
from getstar.skycells import SLACK, cell_sql, probe_cells

if TYPE_CHECKING:
    from getstar.simbad.fallback import SimbadFallback

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Fastest proper motion we allow for when a query gives an epoch (Barnard's star: 10.4"/yr).
MAX_PM_ARCSEC_PER_YEAR = 11.0
SUGGESTIONS = 5
_PMRA, _PMDEC = BY_NAME["pmRa"].column, BY_NAME["pmDec"].column
COMPUTED = ORIGIN_CODE["computed"]
#: Positions typed in place of a name are searched within this radius (arcsec).
NAME_POSITION_RADIUS_ARCSEC = 5.0

#: A star's identifiers as every answer lists them (SIMBAD's first, then by spelling), for a
#: star row ``s``: one expression for the name, star and cone statements below.
_IDENTIFIERS = ("ARRAY(SELECT i.id FROM live.ident i WHERE i.star_id = s.star_id ORDER BY i.source DESC, i.id)"
                " AS identifiers")

# A key hits stars (live.ident) or the name of a multiple system (live.system_name: the
# system's primary component, or each candidate when the name is ambiguous); per query the
# best-ranked key that hits wins, a star reached both ways counts once (as itself).
# The best rank and the candidates' count are windows over the few hit rows, before the wide
# star rows are joined (a correlated min() and a window over the joined rows cost PostgreSQL
# ~16 % more per name: 573 -> 480 us of backend CPU over 750 real names, same rows).
NAMES_SQL = f"""
WITH q AS MATERIALIZED (
    SELECT * FROM unnest($1::int[], $2::text[], $3::int[]) AS q(qi, key, rank)
), hits AS MATERIALIZED (
    SELECT q.qi, q.rank, i.star_id, NULL::text AS system, NULL::bigint[] AS components
    FROM q JOIN live.ident i ON i.key = q.key
    UNION ALL
    SELECT q.qi, q.rank, y.star_id, y.system, y.components
    FROM q JOIN live.system_name y ON y.key = q.key
), best AS (
    SELECT h.*, min(h.rank) OVER (PARTITION BY h.qi) AS best_rank FROM hits h
), chosen AS (
    SELECT DISTINCT ON (b.qi, b.star_id) b.qi, b.star_id, b.system, b.components
    FROM best b WHERE b.rank = b.best_rank
    ORDER BY b.qi, b.star_id, b.system NULLS FIRST
), counted AS (
    SELECT c.*, count(*) OVER (PARTITION BY c.qi) AS n_candidates FROM chosen c
)
SELECT c.qi, c.n_candidates, c.system AS system_name,
       ARRAY(SELECT m.main_id FROM unnest(c.components) WITH ORDINALITY AS u(sid, ord)
             JOIN live.star m ON m.star_id = u.sid ORDER BY u.ord) AS system_components,
       {_IDENTIFIERS},
       s.*
FROM counted c JOIN live.star s ON s.star_id = c.star_id
ORDER BY c.qi, s.star_id
"""

#: Star rows (and identifiers) by id: the fallback reads back what it stored.
STARS_SQL = f"""
SELECT {_IDENTIFIERS},
       s.*
FROM live.star s WHERE s.star_id = any($1::bigint[])
"""

#: The closest identifier of each star, the 50 closest stars at most (ranked again in Python).
SUGGEST_SQL = """
SELECT id, star_id, distance, sim FROM (
    SELECT DISTINCT ON (star_id) id, star_id, $1 <<-> key AS distance, similarity($1, key) AS sim
    FROM live.ident
    WHERE $1 <% key
    ORDER BY star_id, distance
) d
ORDER BY distance, sim DESC
LIMIT 50
"""

# Cones, any number in one statement ($1: the query index of each; getstar.coalesce): star
# positions are J2000, with an epoch they are moved by their proper motion first.  q3c_join (4
# index ranges a cone, then the exact distance), not q3c_radial_query (100 ranges: planning and
# probing them was most of a small cone's cost): 320 real cones, 16 a statement, PostgreSQL CPU
# a cone 2": 250-344 -> 31-94 us, 30': 1,000 -> 687 us; the same rows.  Its own test of the
# distance is strict (a star exactly at the radius was left out), so it is widened by
# ``skycells.SLACK`` and the distance test below decides, as ``CELL_CONE_SQL``'s does.
# A star's position moved by its proper motion over ``p.dt`` years: ``coords.propagate`` (a straight
# line in the tangent plane, on the unit vector), written in SQL, so a cone at an epoch selects
# and measures the positions ``at_epoch`` then answers.  It was ra + pmra dt / cos(dec): 4.7"
# off for Kapteyn's star at J2150, so a cone of a few arcseconds at the position a name gave
# missed it.  A star lacking either component stays where it is, as in ``propagate``.
_MAS = f"{math.pi / (180.0 * 3_600_000.0)!r}"
_EAST = f"CASE WHEN s.p_pmra IS NULL OR s.p_pmdec IS NULL THEN 0 ELSE s.p_pmra * p.dt * {_MAS} END"
_NORTH = f"CASE WHEN s.p_pmra IS NULL OR s.p_pmdec IS NULL THEN 0 ELSE s.p_pmdec * p.dt * {_MAS} END"
_X = "(cos(r.d) * cos(r.a) - m.e * sin(r.a) - m.n * sin(r.d) * cos(r.a))"
_Y = "(cos(r.d) * sin(r.a) + m.e * cos(r.a) - m.n * sin(r.d) * sin(r.a))"
_Z = "(sin(r.d) + m.n * cos(r.d))"
_MOVED_RA = f"CASE WHEN m.e = 0 AND m.n = 0 THEN s.ra ELSE degrees(atan2({_Y}, {_X})) END"
_MOVED_DEC = f"CASE WHEN m.e = 0 AND m.n = 0 THEN s.dec ELSE degrees(atan2({_Z}, sqrt({_X} ^ 2 + {_Y} ^ 2))) END"

CONE_SQL = f"""
WITH p AS (
    SELECT * FROM unnest($1::int[], $2::float8[], $3::float8[], $4::float8[], $5::int[], $6::float8[],
                         $7::float8[]) AS p(qi, ra0, dec0, radius, lim, dt, margin)
), near AS (
    SELECT p.qi, n.star_id, n.dist
    FROM p CROSS JOIN LATERAL (
        SELECT c.star_id, q3c_dist(c.ra_at_epoch, c.dec_at_epoch, p.ra0, p.dec0) AS dist
        FROM (
            SELECT s.star_id, {_MOVED_RA} AS ra_at_epoch, {_MOVED_DEC} AS dec_at_epoch
            FROM live.star s
            CROSS JOIN LATERAL (SELECT radians(s.ra) AS a, radians(s.dec) AS d) r
            CROSS JOIN LATERAL (SELECT {_EAST} AS e, {_NORTH} AS n) m
            WHERE q3c_join(p.ra0, p.dec0, s.ra, s.dec, p.radius + p.margin + {SLACK!r})
        ) c
        WHERE q3c_dist(c.ra_at_epoch, c.dec_at_epoch, p.ra0, p.dec0) <= p.radius
        ORDER BY dist
        LIMIT p.lim
    ) n
)
SELECT n.qi, n.dist * 3600 AS separation_arcsec,
       {_IDENTIFIERS},
       s.*
FROM near n JOIN live.star s ON s.star_id = n.star_id
ORDER BY n.qi, n.dist
"""

# Small cones without an epoch (most: a position typed, a cone search of a few arcseconds), any
# number in one statement: one equality probe of the ``star_cell`` index per sky cell the circle
# touches (``getstar.skycells``; $2: the cells, one parameter row each).  Same rows and
# separations as ``CONE_SQL`` (the same ``q3c_dist`` of the same columns); ties at equal
# separation are broken by star_id.  320 real cones of 2" and 30", PostgreSQL CPU a cone, three
# alternating runs: alone 281-438 us against q3c_join's 406-594 (q3c_radial_query's
# 1,375-1,531); 16 a statement 31-94 against 31-125 (250-344).
CELL_CONE_SQL = f"""
WITH p AS (
    SELECT * FROM unnest($1::int[], $2::bigint[], $3::float8[], $4::float8[], $5::float8[], $6::int[])
                  AS p(qi, cell, ra0, dec0, radius, lim)
), near AS (
    SELECT c.qi, c.star_id, c.dist, c.lim,
           row_number() OVER (PARTITION BY c.qi ORDER BY c.dist, c.star_id) AS k
    FROM p CROSS JOIN LATERAL (
        SELECT p.qi, p.lim, s.star_id, q3c_dist(s.ra, s.dec, p.ra0, p.dec0) AS dist
        FROM live.star s
        WHERE {cell_sql("s.ra", "s.dec")} = p.cell AND q3c_dist(s.ra, s.dec, p.ra0, p.dec0) <= p.radius
        OFFSET 0) c  -- OFFSET 0: one index probe per cell
)
SELECT n.qi, n.dist * 3600 AS separation_arcsec,
       {_IDENTIFIERS},
       s.*
FROM near n JOIN live.star s ON s.star_id = n.star_id
WHERE n.k <= n.lim
ORDER BY n.qi, n.dist, n.star_id
"""

#: Cones searching up to this radius (degrees; an epoch's proper-motion margin included) and
#: number of stars go with other requests' (``coalesce``); a bigger one has a statement of its
#: own, rather than hold up (or time out) the small ones.
COALESCED_CONE_RADIUS = 60 / 3600
COALESCED_CONE_LIMIT = 100


@dataclass(frozen=True)
class ConeQuery:
    ra: float
    dec: float
    radius_deg: float
    limit: int
    epoch: float | None

    @property
    def margin_deg(self) -> float:
        """What an epoch adds to the search (degrees): the fastest proper motion over the years
        from J2000 (11"/yr: 3 degrees for 1,000 years)."""
        return 0.0 if self.epoch is None else MAX_PM_ARCSEC_PER_YEAR * abs(self.epoch - 2000.0) / 3600.0


#: Suggestions for one request take at most this many times the per-name budget in all.
SUGGEST_BUDGET_NAMES = 4


class Resolver:
    """Name and position lookups on a pool of connections to the snapshot (one per request).

    Suggestions are the one expensive step a cheap request can ask for (a trigram search over
    a million identifiers: seconds for a short, common prefix such as 'Gaia DR3 55'), so each
    runs under a statement timeout of ``suggest_timeout`` and a request gets at most
    ``SUGGEST_BUDGET_NAMES`` times that in all; past it, names get no suggestions.
    """

    def __init__(self, pool: asyncpg.Pool, fallback: SimbadFallback | None = None, *,
                 acquire_timeout: float | None = None, suggest_timeout: float = 0.25,
                 coalescer: LookupCoalescer | None = None, cone_coalescer: LookupCoalescer | None = None,
                 cell_coalescer: LookupCoalescer | None = None) -> None:
        self.pool = pool
        self.fallback = fallback
        #: send the name lookups, and the small cones, of concurrent requests as one statement
        #: (``getstar.coalesce``)
        self.coalescer = coalescer
        self.cone_coalescer = cone_coalescer  # CONE_SQL
        self.cell_coalescer = cell_coalescer  # CELL_CONE_SQL
        self.acquire_timeout = acquire_timeout
        self.suggest_timeout = suggest_timeout
        self.suggest_budget = suggest_timeout * SUGGEST_BUDGET_NAMES

    async def resolve_names(self, names: Sequence[str], epoch: float | None = None, *,
                            suggest: bool = True) -> list[Answer]:
        """One answer per name, in order; positions typed as names are cone-searched.

        ``epoch``: move each found star's position there with its proper motion.
        ``suggest=False``: not-found names get no suggestions (the legacy path shows none)."""
        if not suggest:
            self.suggest_budget = 0.0
        names = [_CONTROL.sub("", n) for n in names]  # PostgreSQL text cannot hold NUL
        answers: list[Answer | None] = [None] * len(names)
        idx: list[int] = []
        keys: list[str] = []
        ranks: list[int] = []
        positions: list[tuple[int, float, float]] = []
        for qi, name in enumerate(names):
            if coords.looks_like_position(name):
                try:
                    ra, dec = coords.parse_position(name)
                except Exception:  # noqa: BLE001 - an unreadable position is then a name
                    pass
                else:
                    positions.append((qi, ra, dec))
                    continue
            for rank, key in enumerate(query_keys(name)):
                idx.append(qi)
                keys.append(key)
                ranks.append(rank)
        by_query = await self._lookup(self.coalescer, NAMES_SQL, "names", True, idx, keys, ranks) if keys else {}
        for qi, found in by_query.items():
            if len(found) == 1:
                row = found[0]
                system = row["system_name"]
                answers[qi] = Answer(query=names[qi], status="ok", star=row,
                                     identifiers=list(row["identifiers"]), system=system,
                                     candidates=list(row["system_components"]) if system else [])
            else:
                answers[qi] = Answer(query=names[qi], status="ambiguous",
                                     candidates=[r["main_id"] for r in found])
        cones = {qi for qi, _, _ in positions}
        asked = [qi for qi, a in enumerate(answers) if a is None and qi not in cones] if self.fallback else []
        if positions:
            near = await self._cones([ConeQuery(ra, dec, NAME_POSITION_RADIUS_ARCSEC / 3600, 1, None)
                                      for _, ra, dec in positions])
            for (qi, _, _), found_near in zip(positions, near, strict=True):
                if found_near:
                    found_near[0].query = names[qi]
                    answers[qi] = found_near[0]
        for qi in cones:  # no star near a position: identifiers spelled like it are no suggestion
            if answers[qi] is None:
                answers[qi] = Answer(query=names[qi], status="not_found")
        if any(a is None and qi not in asked for qi, a in enumerate(answers)):
            async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
                for qi, name in enumerate(names):
                    if answers[qi] is None and qi not in asked:
                        answers[qi] = Answer(query=name, status="not_found",
                                             suggestions=await self._suggest(conn, name))
        if asked:
            await self._ask_fallback(names, answers, asked)
        done = [a for a in answers if a is not None]
        if epoch is not None:
            for a in done:
                if a.star is not None:
                    a.star = at_epoch(a.star, epoch)
                    a.epoch = epoch
        return done

    async def _lookup(self, coalescer: LookupCoalescer | None, sql: str, label: str, shareable: bool,
                      idx: list[int], *columns: Sequence[Any]) -> RowsByName:
        """The rows of ``sql`` (``NAMES_SQL``, ``CONE_SQL``, ``CELL_CONE_SQL``) by query index: with the coalescer when
        there is one and the lookup is ``shareable`` and small (a big one goes alone rather than
        hold the others' statement)."""
        if coalescer is not None and shareable and len(idx) <= coalescer.max_rows // 4:
            return await coalescer.lookup(idx, *columns)
        async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
            rows = await conn.fetch(sql, idx, *columns)
        DB_QUERIES.labels(label).inc()
        by_query: RowsByName = {}
        for row in rows:
            by_query.setdefault(row["qi"], []).append(row)
        return by_query

    async def _ask_fallback(self, names: Sequence[str], answers: list[Answer | None], asked: list[int]) -> None:
        """SIMBAD for the names the snapshot lacks; answers are read back from the stored rows."""
        assert self.fallback is not None
        outcomes = await self.fallback.lookup([names[qi] for qi in asked])
        learned = sorted({sid for o in outcomes for sid in o.star_ids})
        # read back where the fallback stored (the primary): a standby may not have replayed it yet
        async with self.fallback.pool.acquire(timeout=self.acquire_timeout) as conn:
            rows = {r["star_id"]: r for r in await conn.fetch(STARS_SQL, learned)} if learned else {}
            for qi, outcome in zip(asked, outcomes, strict=True):
                found = [rows[sid] for sid in outcome.star_ids if sid in rows]
                if len(found) == 1:
                    answers[qi] = Answer(query=names[qi], status="ok", star=found[0],
                                         identifiers=list(found[0]["identifiers"]))
                elif found:
                    answers[qi] = Answer(query=names[qi], status="ambiguous", candidates=[r["main_id"] for r in found])
                else:
                    suggestions = await self._suggest(conn, names[qi])
                    error = outcome.error
                    if error is not None:  # what is known now: not found here, SIMBAD not asked
                        error = type(error)(f"{names[qi]!r} is not in the local snapshot and SIMBAD could not be "
                                            f"asked ({error.message}): ask again later", retry_after=error.retry_after)
                    answers[qi] = Answer(query=names[qi], status="not_found", suggestions=suggestions, error=error)

    async def _suggest(self, conn: asyncpg.Connection, name: str) -> list[str]:
        """Close identifiers (trigram word similarity), best first, one per star; none when the
        request's suggestion budget is spent or the search runs out of its time."""
        keys = query_keys(name)
        if not keys or len(keys[0]) < 3 or self.suggest_budget <= 0:
            return []
        timeout = min(self.suggest_timeout, self.suggest_budget)
        started = time.monotonic()
        try:
            async with conn.transaction():
                await conn.execute(f"SET LOCAL statement_timeout = {max(1, round(timeout * 1000))}")
                rows = await conn.fetch(SUGGEST_SQL, keys[0])
        except asyncpg.QueryCanceledError:
            rows = []
        finally:
            self.suggest_budget -= time.monotonic() - started
        DB_QUERIES.labels("suggest").inc()
        rows = sorted(rows, key=lambda r: (r["distance"], -r["sim"], len(r["id"])))
        return [r["id"] for r in rows[:SUGGESTIONS]]

    async def cone(self, query: ConeQuery) -> list[Answer]:
        return (await self._cones([query]))[0]

    async def _cones(self, queries: Sequence[ConeQuery]) -> list[list[Answer]]:
        """The stars of each cone, closest first: in one statement, with other requests' when all
        are small (``COALESCED_CONE_*``, or ``CELL_CONE_SQL``'s) and a coalescer is there."""
        by_query = await self._cell_cones(queries)
        if by_query is None:
            by_query = await self._q3c_cones(queries)
        out = []
        for qi, q in enumerate(queries):
            label = f"{q.ra:.6f} {q.dec:+.6f}"
            epoch = q.epoch
            out.append([
                Answer(query=label, status="ok", identifiers=list(r["identifiers"]),
                       # at an epoch: the position the cone was searched at, as a name's is
                       star=r if epoch is None else at_epoch(r, epoch), epoch=epoch,
                       separation_arcsec=(float(r["separation_arcsec"]) if math.isfinite(r["separation_arcsec"])
                                          else None))
                for r in by_query.get(qi, [])])
        return out

    async def _q3c_cones(self, queries: Sequence[ConeQuery]) -> RowsByName:
        """The rows of ``queries`` by ``CONE_SQL``: with others' when all are ``COALESCED_CONE_*``."""
        idx = list(range(len(queries)))
        dts = [(q.epoch - 2000.0) if q.epoch is not None else 0.0 for q in queries]
        columns = ([q.ra for q in queries], [q.dec for q in queries], [q.radius_deg for q in queries],
                   [q.limit for q in queries], dts, [q.margin_deg for q in queries])
        # what is searched is the radius and the margin an epoch adds
        small = all(q.radius_deg + q.margin_deg <= COALESCED_CONE_RADIUS and q.limit <= COALESCED_CONE_LIMIT
                    for q in queries)
        return await self._lookup(self.cone_coalescer, CONE_SQL, "cone", small, idx, *columns)

    async def _cell_cones(self, queries: Sequence[ConeQuery]) -> RowsByName | None:
        """The rows of ``queries`` by ``CELL_CONE_SQL`` when every one is without an epoch and
        touches at most ``skycells.MAX_PROBES`` cells (else None: they go to q3c)."""
        if any(q.epoch is not None for q in queries):
            return None
        ra = np.array([q.ra for q in queries], dtype=np.float64)
        dec = np.array([q.dec for q in queries], dtype=np.float64)
        radius = np.array([q.radius_deg for q in queries], dtype=np.float64)
        if not (np.isfinite(ra).all() and np.isfinite(dec).all() and np.isfinite(radius).all()):
            return None
        of_query, cells, wide = probe_cells(ra, dec, radius)
        if wide.any():
            return None
        return await self._lookup(self.cell_coalescer, CELL_CONE_SQL, "cone", True, of_query.tolist(),
                                  cells.tolist(), ra[of_query].tolist(), dec[of_query].tolist(),
                                  radius[of_query].tolist(), [queries[i].limit for i in of_query.tolist()])


def at_epoch(star: Mapping[str, Any], epoch: float) -> Mapping[str, Any]:
    """``star`` with its position moved from J2000 to ``epoch`` by its proper motion.

    The moved position is an estimate: origin ``computed``, confidence no better than the
    position's and the proper motion's, and an error grown by the proper motion's error over
    the interval.  A star without a proper motion keeps its catalogue position and origin.
    """
    pmra, pmdec = star.get(_PMRA), star.get(_PMDEC)
    ra, dec = star.get("ra"), star.get("dec")
    if pmra is None or pmdec is None or ra is None or dec is None:
        return star
    moved = dict(star)
    dt = epoch - 2000.0
    moved["ra"], moved["dec"] = coords.propagate(float(ra), float(dec), float(pmra), float(pmdec), 2000.0, epoch)
    pm_conf = min(int(star.get(_PMRA + "_c") or 0), int(star.get(_PMDEC + "_c") or 0))
    for axis, pm in (("ra", _PMRA), ("dec", _PMDEC)):
        moved[axis + "_o"] = COMPUTED
        conf = star.get(axis + "_c")
        moved[axis + "_c"] = min(int(conf), pm_conf) if conf is not None else pm_conf
        position_error, pm_error = star.get(axis + "_e"), star.get(pm + "_e")
        if position_error is not None and pm_error is not None:
            moved[axis + "_e"] = math.hypot(float(position_error), float(pm_error) * dt)
        else:
            moved[axis + "_e"] = None
    return moved

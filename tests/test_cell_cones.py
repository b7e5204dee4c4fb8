"""Small cones without an epoch probe the sky cells their circle touches (``CELL_CONE_SQL``);
the others go to q3c (``CONE_SQL``).  On the real snapshot: the two give the same stars and the
same separations, across radii, limits, the 0h/24h seam and the poles."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from getstar.coalesce import LookupCoalescer
from getstar.config import Settings
from getstar.db import create_pool
from getstar.resolver import CELL_CONE_SQL, CONE_SQL, MAX_PM_ARCSEC_PER_YEAR, ConeQuery, Resolver

REFUSING_SQL = "SELECT no_such_column"  # a coalescer that fails if it is used


@pytest_asyncio.fixture()
async def pool(snapshot_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(snapshot_dsn, Settings.from_env())
    yield p
    await p.close()


def _found(answers):  # type: ignore[no-untyped-def]
    return [(a.star["star_id"], a.separation_arcsec) for a in answers]


async def _cones(pool: asyncpg.Pool) -> list[ConeQuery]:
    stars = await pool.fetch("SELECT ra, dec FROM live.star TABLESAMPLE SYSTEM (3) REPEATABLE (11) "
                             "WHERE ra IS NOT NULL LIMIT 150")
    rng = random.Random(5)
    cones = []
    for s in stars:  # around real stars, off by up to 20"
        ra = (s["ra"] + rng.uniform(-20, 20) / 3600) % 360.0
        dec = max(-90.0, min(90.0, s["dec"] + rng.uniform(-20, 20) / 3600))
        cones.append(ConeQuery(ra, dec, rng.choice([0.5, 2, 5, 30, 60, 90]) / 3600, 10_000, None))
    # the seam of right ascension, the poles, a radius too wide for cells
    cones += [ConeQuery(ra, dec, 90 / 3600, 10_000, None) for ra in (0.0, 0.0004, 359.9996) for dec in (0.0, 45.0)]
    cones += [ConeQuery(10.0, dec, 60 / 3600, 10_000, None) for dec in (89.99, -89.99, 90.0, -90.0)]
    cones.append(ConeQuery(stars[0]["ra"], stars[0]["dec"], 0.5, 10_000, None))
    return cones


@pytest.mark.parametrize("n", [1, 40])
async def test_cell_cones_use_the_cell_index(pool: asyncpg.Pool, n: int) -> None:
    """One cone or many in a statement: each cell is a probe of ``star_cell``, never a scan."""
    plan = "\n".join(r[0] for r in await pool.fetch(
        "EXPLAIN " + CELL_CONE_SQL, list(range(n)), [5_000_000 + i for i in range(n)], [101.287] * n, [-16.716] * n,
        [0.001] * n, [10] * n))
    assert "star_cell" in plan and "Seq Scan on star" not in plan


async def test_cell_cones_find_what_q3c_finds(pool: asyncpg.Pool) -> None:
    """Every cone gives, through the cells, the stars and separations q3c gives (an epoch of
    J2000.0 moves nothing, but sends the cone to q3c), closest first."""
    resolver = Resolver(pool)
    cones = await _cones(pool)
    by_cells = [await resolver.cone(q) for q in cones]  # one at a time: a wide one sends all to q3c
    by_q3c = await resolver._cones([ConeQuery(q.ra, q.dec, q.radius_deg, q.limit, 2000.0) for q in cones])
    for cone, cells, q3c in zip(cones, by_cells, by_q3c, strict=True):
        assert _found(cells) == sorted(_found(q3c), key=lambda f: (f[1], f[0])), cone
    assert sum(len(found) for found in by_cells) >= 80  # 102 stars, 8 cones of several (test snapshot)
    assert sum(len(found) > 1 for found in by_cells) >= 5


async def test_cell_cones_keep_the_limit(pool: asyncpg.Pool) -> None:
    """A limit keeps the closest stars: the separations q3c's first k have."""
    resolver = Resolver(pool)
    cones = [ConeQuery(q.ra, q.dec, q.radius_deg, k, None) for q in await _cones(pool) for k in (1, 2)]
    by_cells = [await resolver.cone(q) for q in cones]
    by_q3c = await resolver._cones([ConeQuery(q.ra, q.dec, q.radius_deg, q.limit, 2000.0) for q in cones])
    for cone, cells, q3c in zip(cones, by_cells, by_q3c, strict=True):
        assert len(cells) == min(cone.limit, len(cells) if len(q3c) == 0 else len(q3c)), cone
        assert [f[1] for f in _found(cells)] == [f[1] for f in _found(q3c)], cone


async def test_which_cones_go_to_the_cells(pool: asyncpg.Pool) -> None:
    """Small cones without an epoch go to the cell coalescer; with an epoch, past the poles or
    too wide for cells, to q3c."""
    star = await pool.fetchrow("SELECT ra, dec FROM live.star WHERE ra IS NOT NULL AND abs(dec) < 80 LIMIT 1")
    refusing = LookupCoalescer(pool, REFUSING_SQL, "test")
    cells = LookupCoalescer(pool, CELL_CONE_SQL, "cone")
    to_q3c = Resolver(pool, cone_coalescer=refusing, cell_coalescer=cells)
    assert await to_q3c.cone(ConeQuery(star["ra"], star["dec"], 5 / 3600, 5, None))  # by the cells
    with pytest.raises(asyncpg.UndefinedColumnError):  # an epoch: q3c
        await to_q3c.cone(ConeQuery(star["ra"], star["dec"], 5 / 3600, 5, 2001.0))
    with pytest.raises(asyncpg.UndefinedColumnError):  # a pole in the circle: q3c
        await to_q3c.cone(ConeQuery(0.0, 89.999, 5 / 3600, 5, None))
    to_cells = Resolver(pool, cone_coalescer=LookupCoalescer(pool, REFUSING_SQL, "test"),
                        cell_coalescer=LookupCoalescer(pool, REFUSING_SQL, "test"))
    assert await to_cells.cone(ConeQuery(star["ra"], star["dec"], 0.5, 5, None)) is not None  # wide: alone, q3c
    with pytest.raises(asyncpg.UndefinedColumnError):
        await to_cells.cone(ConeQuery(star["ra"], star["dec"], 5 / 3600, 5, None))


async def test_q3c_join_finds_what_q3c_radial_query_found(pool: asyncpg.Pool) -> None:
    """``CONE_SQL``'s prefilter (``q3c_join``) gives the rows the ``q3c_radial_query`` it replaced
    gave: wide cones, the poles, and epochs whose margin widens the search."""
    radial = CONE_SQL.replace("q3c_join(p.ra0, p.dec0, s.ra, s.dec, ", "q3c_radial_query(s.ra, s.dec, p.ra0, p.dec0, ")
    assert radial != CONE_SQL
    cones = await _cones(pool)
    cones += [ConeQuery(q.ra, q.dec, q.radius_deg, 50, epoch) for q in cones[:40] for epoch in (1900.0, 2016.0)]
    cones += [ConeQuery(q.ra, q.dec, 0.4, 50, None) for q in cones[:5]]
    dts = [(q.epoch - 2000.0) if q.epoch is not None else 0.0 for q in cones]
    args = (list(range(len(cones))), [q.ra for q in cones], [q.dec for q in cones], [q.radius_deg for q in cones],
            [q.limit for q in cones], dts, [MAX_PM_ARCSEC_PER_YEAR * abs(dt) / 3600.0 for dt in dts])
    by_join = await pool.fetch(CONE_SQL, *args)
    by_radial = await pool.fetch(radial, *args)
    assert sorted((r["qi"], r["star_id"], r["separation_arcsec"]) for r in by_join) == \
        sorted((r["qi"], r["star_id"], r["separation_arcsec"]) for r in by_radial)
    assert len(by_join) >= 150  # 208 (test snapshot)


async def test_a_star_exactly_at_the_radius_is_in_the_cone(pool: asyncpg.Pool) -> None:
    """A cone whose radius is a star's very separation holds the star, by the cells and by q3c
    (whose own test of the distance is strict: it is widened, and ``q3c_dist <= radius`` decides);
    and a star at the centre is found with the tiniest radius."""
    stars = await pool.fetch("SELECT star_id, ra, dec FROM live.star TABLESAMPLE SYSTEM (3) REPEATABLE (4) "
                             "WHERE ra IS NOT NULL AND abs(dec) < 85 LIMIT 40")
    resolver = Resolver(pool)
    rng = random.Random(9)
    for s in stars:
        ra0, dec0 = s["ra"] + rng.uniform(-10, 10) / 3600, s["dec"] + rng.uniform(-10, 10) / 3600
        radius = await pool.fetchval("SELECT q3c_dist($1::float8, $2::float8, $3::float8, $4::float8)",
                                     s["ra"], s["dec"], ra0, dec0)
        for epoch in (None, 2000.0):  # by the cells, by q3c
            found = await resolver.cone(ConeQuery(ra0, dec0, radius, 50, epoch))
            assert s["star_id"] in [a.star["star_id"] for a in found], (s["star_id"], ra0, dec0, radius, epoch)
            at_centre = await resolver.cone(ConeQuery(s["ra"], s["dec"], 1e-12, 50, epoch))
            assert s["star_id"] in [a.star["star_id"] for a in at_centre], (s["star_id"], epoch)

"""Sky cells (``getstar.skycells``): PostgreSQL and numpy agree on a star's cell, and a
target's probes hold every cell where a star within its radius can be."""

from __future__ import annotations

import asyncpg
import numpy as np
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from getstar.skycells import MAX_PROBES, PER_DEGREE, cell_sql, probe_cells, star_cells


def _edges() -> tuple[np.ndarray, np.ndarray]:
    """Positions on and next to cell borders, the poles and RA 0/360."""
    k = np.arange(-3, 4)
    ra = np.concatenate([np.array([0.0, 5e-324, 1e-12, 359.99999999999994, 359.9999999999, 180.0]),
                         (k + 360 * PER_DEGREE // 2) / PER_DEGREE, np.nextafter(k / PER_DEGREE + 1.0, 2.0)])
    dec = np.concatenate([np.array([-90.0, 90.0, -89.99999999999999, 89.99999999999999, 0.0, -0.0]),
                          (k + 30 * PER_DEGREE) / PER_DEGREE, np.nextafter(k / PER_DEGREE - 45.0, -90.0)])
    grid_ra, grid_dec = np.meshgrid(ra, dec)
    return grid_ra.ravel(), grid_dec.ravel()


async def test_sql_and_numpy_put_stars_in_the_same_cell(snapshot_conn: asyncpg.Connection) -> None:
    rng = np.random.default_rng(3)
    edge_ra, edge_dec = _edges()
    ra = np.concatenate([edge_ra, rng.uniform(0, 360, 20_000)])
    dec = np.concatenate([edge_dec, np.degrees(np.arcsin(rng.uniform(-1, 1, 20_000)))])
    rows = await snapshot_conn.fetch(
        f"SELECT {cell_sql('t.ra', 't.dec')} AS cell FROM unnest($1::float8[], $2::float8[]) "
        "WITH ORDINALITY AS t(ra, dec, n) ORDER BY t.n", ra.tolist(), dec.tolist())
    assert np.array_equal(np.array([r["cell"] for r in rows], np.int64), star_cells(ra, dec))


async def test_the_star_table_is_indexed_on_the_cell_expression(snapshot_conn: asyncpg.Connection) -> None:
    plan = "\n".join(r[0] for r in await snapshot_conn.fetch(
        f"EXPLAIN SELECT star_id FROM live.star s WHERE {cell_sql('s.ra', 's.dec')} = 42"))
    assert "star_cell" in plan


def _points_around(ra: float, dec: float, radius: float, rng: np.random.Generator, n: int) -> tuple[np.ndarray,
                                                                                                  np.ndarray]:
    """``n`` points at most ``radius`` degrees from (ra, dec), many of them on the circle itself."""
    sep = np.radians(radius) * np.where(rng.random(n) < 0.5, 1.0, np.sqrt(rng.random(n)))
    angle = rng.uniform(0, 2 * np.pi, n)
    d0, r0 = np.radians(dec), np.radians(ra)
    d = np.arcsin(np.sin(d0) * np.cos(sep) + np.cos(d0) * np.sin(sep) * np.cos(angle))
    r = r0 + np.arctan2(np.sin(angle) * np.sin(sep) * np.cos(d0), np.cos(sep) - np.sin(d0) * np.sin(d))
    return np.degrees(r) % 360.0, np.clip(np.degrees(d), -90.0, 90.0)


@hsettings(max_examples=300, deadline=None)
@given(ra=st.one_of(st.floats(0, 360, exclude_max=True), st.sampled_from([0.0, 359.9999, 0.0001, 180.0])),
       dec=st.one_of(st.floats(-90, 90), st.sampled_from([89.999, -89.9995, 0.0, 60.0])),
       radius_arcsec=st.one_of(st.floats(0.01, 120.0), st.sampled_from([2.0, 30.0, 0.5])))
def test_probes_cover_every_point_within_the_radius(ra: float, dec: float, radius_arcsec: float) -> None:
    radius = radius_arcsec / 3600.0
    target, cells, wide = probe_cells(np.array([ra]), np.array([dec]), np.array([radius]))
    if wide[0]:  # left to q3c: the pole, or too many cells
        assert abs(dec) + radius >= 90.0 or len(cells) == 0
        return
    assert 1 <= len(cells) <= MAX_PROBES and set(target.tolist()) == {0}
    assert len(set(cells.tolist())) == len(cells) and np.all(np.diff(cells) >= 0)  # distinct, sorted
    pra, pdec = _points_around(ra, dec, radius * (1 - 1e-9), np.random.default_rng(abs(hash((ra, dec)))),
                               500)
    assert set(star_cells(pra, pdec).tolist()) <= set(cells.tolist())


def test_probes_of_a_batch_are_sorted_by_cell_and_small_circles_need_few() -> None:
    rng = np.random.default_rng(5)
    n = 50_000
    ra = rng.uniform(0, 360, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    target, cells, wide = probe_cells(ra, dec, np.full(n, 2.0 / 3600))
    assert np.all(np.diff(cells) >= 0)
    assert wide.sum() < n * 1e-3  # only circles around the poles
    per_target = np.bincount(target, minlength=n)
    assert per_target[~wide].min() >= 1
    assert per_target.sum() < 1.5 * n  # a 2" circle touches one 1' cell, seldom two or four

"""Sky cells for batch matching and small cones: every star in one cell, every target probing
the few cells its circle touches.

Why not q3c for the batch: ``q3c_join`` probes each target with four index range scans
OR-ed into a bitmap (about 5 us a target); a target whose circle fits in one or two cells
costs one equality probe each (about 1.5 us), three to four times less on the hot path of
``POST /v1/xmatch``; small cone searches without an epoch probe them too
(``resolver.CELL_CONE_SQL``, ~25 % less PostgreSQL CPU than its ``q3c_join`` cone alone).  q3c
still serves the cones and targets whose circle covers too many cells (wide radii, long
proper-motion margins, the poles), see ``xmatch.match``, and the cone searches with an epoch.

A cell is a 1-arcminute strip of declination (a zone) cut into 1-arcminute steps of right
ascension: ``zone * 360 * PER_DEGREE + bucket``.  Its SQL expression (``CELL_SQL``, indexed as
``star_cell``) and ``star_cells`` below do the same IEEE double operations, so PostgreSQL
and numpy put a star in the same cell; ``probe_cells`` enumerates, per target, every cell
holding a point within its search radius (a little wider, so rounding never loses one).
"""

from __future__ import annotations

import numpy as np

__all__ = ["CELL_SQL", "FAST_PM_MAS_PER_YEAR", "FAST_SQL", "MAX_PROBES", "PER_DEGREE", "SLACK", "cell_sql", "fast_sql",
           "probe_cells", "star_cells"]

#: Cells per degree, in declination and in right ascension (1 arcmin: a 2" circle touches one
#: cell 87 % of the time at the equator; cells four times smaller made 16 % more probes and no faster batch;
#: with an epoch, larger cells hold the widened circles in fewer probes).
PER_DEGREE = 60
_BUCKETS = 360 * PER_DEGREE
#: A target touching more cells than this is matched with q3c instead.
MAX_PROBES = 16
#: Widening of every search radius (degrees, 0.36 mas): covers float rounding of the bounds.
SLACK = 1e-7


def cell_sql(ra: str, dec: str) -> str:
    """SQL: the cell of the position (``ra``, ``dec``) in degrees."""
    return (f"(floor(({dec} + 90.0) * {PER_DEGREE}.0)::bigint * {_BUCKETS} "
            f"+ least(floor({ra} * {PER_DEGREE}.0), {_BUCKETS - 1})::bigint)")


#: The indexed expression of ``live.star`` (``star_cell``): queries must spell it the same.
CELL_SQL = cell_sql("ra", "dec")

#: Stars moving faster than this (a thousand in the default snapshot) are found apart when a
#: target has an epoch: the cells are probed with a margin for slower stars only, which keeps
#: a circle to a few cells for decades, and the fast movers through their own small q3c index
#: (``star_fast_q3c``) with the margin of the fastest star.
FAST_PM_MAS_PER_YEAR = 500.0


def fast_sql(s: str) -> str:
    """SQL: star ``s`` moves faster than ``FAST_PM_MAS_PER_YEAR`` (NULL without a proper motion)."""
    return f"({s}.p_pmra * {s}.p_pmra + {s}.p_pmdec * {s}.p_pmdec > {FAST_PM_MAS_PER_YEAR ** 2!r})"


#: The predicate of the partial index ``star_fast_q3c``: queries must spell it the same.
FAST_SQL = fast_sql("star")[1:-1].replace("star.", "")


def star_cells(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    """``CELL_SQL`` in numpy (tests hold the two equal)."""
    zone = np.floor((dec + 90.0) * float(PER_DEGREE)).astype(np.int64)
    bucket = np.minimum(np.floor(ra * float(PER_DEGREE)), _BUCKETS - 1).astype(np.int64)
    return zone * _BUCKETS + bucket


def probe_cells(ra: np.ndarray, dec: np.ndarray, radius: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cells to probe: (target index, cell) sorted by cell, and the mask of the targets
    left to q3c because they touch more than ``MAX_PROBES`` cells.

    ``radius`` (degrees) is the whole search radius, proper-motion margin included.  The
    right-ascension half-width of a circle of radius R centred at declination d is
    asin(sin R / cos d) (all of it when the circle reaches a pole).
    """
    n = len(ra)
    r = radius + SLACK
    zone_lo = np.floor((np.maximum(dec - r, -90.0) + 90.0) * PER_DEGREE).astype(np.int64)
    zone_hi = np.floor((np.minimum(dec + r, 90.0) + 90.0) * PER_DEGREE).astype(np.int64)
    polar = np.abs(dec) + r >= 90.0
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.sin(np.radians(r)) / np.cos(np.radians(dec))
        half = np.where(polar | (ratio >= 1.0), 180.0, np.degrees(np.arcsin(np.minimum(ratio, 1.0))) + SLACK)
    bucket_lo = np.floor((ra - half) * PER_DEGREE).astype(np.int64)
    bucket_hi = np.floor((ra + half) * PER_DEGREE).astype(np.int64)
    zones = zone_hi - zone_lo + 1
    buckets = bucket_hi - bucket_lo + 1
    wide = polar | (zones * buckets > MAX_PROBES)
    index = np.arange(n, dtype=np.int64)
    parts_i: list[np.ndarray] = []
    parts_c: list[np.ndarray] = []
    for dz in range(MAX_PROBES):
        in_zone = ~wide & (dz < zones)
        if not in_zone.any():
            break
        for db in range(MAX_PROBES):
            take = in_zone & (db < buckets)
            if not take.any():
                break
            parts_i.append(index[take])
            parts_c.append((zone_lo[take] + dz) * _BUCKETS + (bucket_lo[take] + db) % _BUCKETS)
    if not parts_i:
        return np.empty(0, np.int64), np.empty(0, np.int64), wide
    targets = np.concatenate(parts_i)
    cells = np.concatenate(parts_c)
    order = np.argsort(cells, kind="stable")
    return targets[order], cells[order], wide

"""The live snapshot's star positions held in this worker, sorted by sky cell, to match plain
positions (no epoch, no name) without asking PostgreSQL to probe a cell per target.

Why: a batch of 100,000 positions spent most of its database time probing the ``star_cell``
index (a quarter of the probes find nothing), computing separations, and sorting every
(target, candidate) pair with its rendered cells through a window; here the same cells are
found with one ``searchsorted`` over a sorted array, the separations computed by numpy, and
the database is left with what only it has: the matched star's row, rendered once.

Same answers: the cells are ``skycells``' (same enumeration per target, same cell per star),
and ``q3c_dist`` below is q3c's C function operation for operation (same IEEE doubles, same
libm: ``tests/test_xmatch.py`` holds them bit-identical on the snapshot), so the stars within
the radius, their order, the nearest and the second's separation are those the SQL finds.

Memory: 24 bytes a star (positions, id, cell): 12 MB for the default snapshot, 60 MB for
2.5 M stars.  The arrays are built once per snapshot key (``schema.snapshot_key``: a swap or a
learned star makes a new one), by the first batch that sees the new key, from a binary COPY
written straight into arrays allocated for the count.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass

import asyncpg
import numpy as np

from getstar.schema import SNAPSHOT_KEY_SQL, snapshot_key
from getstar.skycells import CELL_SQL, probe_cells

__all__ = ["Found", "SkyIndex", "live_index", "q3c_dist"]

#: q3c's degree/radian constants as its C source spells them (``Q3C_DEGRA``, ``Q3C_RADEG``).
_DEGRA = 0.017453292519943295769236907684886
_RADEG = 57.295779513082320876798154814105


def q3c_dist(ra1: np.ndarray, dec1: np.ndarray, ra2: np.ndarray, dec2: np.ndarray) -> np.ndarray:
    """q3c's ``q3c_dist`` (degrees in, degrees out), the same operations in the same order."""
    x = np.sin((ra1 - ra2) / 2 * _DEGRA)
    x *= x
    y = np.sin((dec1 - dec2) / 2 * _DEGRA)
    y *= y
    z = np.cos((dec1 + dec2) / 2 * _DEGRA)
    z *= z
    return 2 * np.arcsin(np.sqrt(x * (z - y) + y)) * _RADEG


@dataclass(frozen=True)
class Found:
    """Per target with a star within its radius: its index in the input, the nearest star
    (ties: lowest id), its separation (degrees), the number of stars within the radius and the
    second's separation (NaN when alone)."""

    target: np.ndarray
    star_id: np.ndarray
    sep: np.ndarray
    n: np.ndarray
    sep2: np.ndarray


# binary COPY of (star_id bigint, ra float8, dec float8): a field count, then length + value each
_ROW = np.dtype([("count", ">i2"), ("l0", ">i4"), ("star_id", ">i8"), ("l1", ">i4"), ("ra", ">f8"),
                 ("l2", ">i4"), ("dec", ">f8")])
_HEADER = 19  # PGCOPY signature, flags, header extension length
_COPY_SQL = f"SELECT star_id, ra, dec FROM live.star WHERE ra IS NOT NULL AND dec IS NOT NULL ORDER BY {CELL_SQL}"


class _CopyReader:
    """The binary COPY's chunks into arrays of ``n`` stars, as they come."""

    def __init__(self, n: int) -> None:
        self.star_id, self.ra, self.dec = np.empty(n, np.int64), np.empty(n, np.float64), np.empty(n, np.float64)
        self.rest = b""
        self.at = 0
        self.header = True

    async def take(self, data: bytes) -> None:
        buf = self.rest + data if self.rest else data
        if self.header:
            if len(buf) < _HEADER:
                self.rest = buf
                return
            buf, self.header = buf[_HEADER:], False
        rows = np.frombuffer(buf, _ROW, count=len(buf) // _ROW.itemsize)
        at = self.at
        if at + len(rows) > len(self.ra):
            raise RuntimeError("sky index: the snapshot changed while it was read")
        self.star_id[at:at + len(rows)] = rows["star_id"]
        self.ra[at:at + len(rows)] = rows["ra"]
        self.dec[at:at + len(rows)] = rows["dec"]
        self.at, self.rest = at + len(rows), buf[len(rows) * _ROW.itemsize:]


class SkyIndex:
    """Star positions sorted by cell: ``cells`` (int32, sorted), ``ra``, ``dec``, ``star_id``."""

    def __init__(self, key: str, star_id: np.ndarray, ra: np.ndarray, dec: np.ndarray) -> None:
        self.key = key
        # ids in 4 bytes when they fit (they do, but for learned stars beyond 2**31)
        fits = len(star_id) == 0 or (int(star_id.min()) >= 0 and int(star_id.max()) < 2**31)
        self.star_id = star_id.astype(np.int32) if fits else star_id
        self.ra, self.dec = ra, dec
        # the cells as CELL_SQL computes them (skycells.star_cells, narrowed: < 2**31)
        zone = np.floor((dec + 90.0) * 60.0).astype(np.int32)
        self.cells = zone * np.int32(360 * 60) + np.minimum(np.floor(ra * 60.0), 360 * 60 - 1).astype(np.int32)
        if len(self.cells) > 1 and not bool((self.cells[1:] >= self.cells[:-1]).all()):
            raise RuntimeError("sky index: the database's cell order differs from numpy's")

    def __len__(self) -> int:
        return len(self.ra)

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.star_id, self.ra, self.dec, self.cells))

    @classmethod
    async def load(cls, conn: asyncpg.Connection, key: str) -> SkyIndex:
        """From the live snapshot, in one binary COPY parsed chunk by chunk into arrays
        allocated for the count (the whole COPY is never held: 38 bytes a star)."""
        n = await conn.fetchval("SELECT count(*) FROM live.star WHERE ra IS NOT NULL AND dec IS NOT NULL")
        reader = _CopyReader(n)
        await conn.copy_from_query(_COPY_SQL, output=reader.take, format="binary")
        if reader.at != n or reader.rest != b"\xff\xff":
            raise RuntimeError("sky index: the snapshot changed while it was read")
        return cls(key, reader.star_id, reader.ra, reader.dec)

    def match(self, ra: np.ndarray, dec: np.ndarray, radius: np.ndarray) -> tuple[np.ndarray, Found]:
        """The targets (degrees; no epoch) touching too many cells (``skycells.MAX_PROBES``,
        the poles: left to q3c, as the SQL does) and, for the others, what is within their radius."""
        probe_of, cells, wide = probe_cells(ra, dec, radius)
        cells = cells.astype(np.int32)
        lo = np.searchsorted(self.cells, cells, "left")
        counts = np.searchsorted(self.cells, cells, "right") - lo
        total = int(counts.sum())
        target = np.repeat(probe_of, counts)
        star = np.repeat(lo - (np.cumsum(counts) - counts), counts) + np.arange(total)
        sep = q3c_dist(self.ra[star], self.dec[star], ra[target], dec[target])
        within = sep <= radius[target]
        target, sep, star_id = target[within], sep[within], self.star_id[star[within]].astype(np.int64)
        order = np.lexsort((star_id, sep, target))  # per target, nearest first, ties by id (as the SQL window)
        target, sep, star_id = target[order], sep[order], star_id[order]
        first = np.flatnonzero(np.r_[True, target[1:] != target[:-1]]) if len(target) else np.empty(0, np.int64)
        n = np.diff(np.r_[first, len(target)])
        sep2 = np.full(len(first), np.nan)
        sep2[n > 1] = sep[first[n > 1] + 1]
        return wide, Found(target[first], star_id[first], sep[first], n, sep2)


_index: SkyIndex | None = None
#: One lock per event loop (tests run several): two batches seeing a new key build it once.
_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


async def live_index(conn: asyncpg.Connection, *, build: bool = True) -> SkyIndex | None:
    """The index of the snapshot ``conn`` sees, (re)built when its key changed; None when it
    is not current and ``build`` is false (a small batch is not made to wait for it)."""
    global _index
    row = await conn.fetchrow(SNAPSHOT_KEY_SQL)
    key = snapshot_key(row["version"], row["generation"])
    index = _index
    if index is not None and index.key == key:
        return index
    if not build:
        return None
    async with _locks.setdefault(asyncio.get_running_loop(), asyncio.Lock()):
        if _index is None or _index.key != key:
            _index = None  # the old arrays go before the new ones are read
            _index = await SkyIndex.load(conn, key)
        return _index

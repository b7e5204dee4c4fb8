"""A synthetic star source for scale tests (``getstar ingest synthetic --rows N``).

Why: the real default snapshot has ~0.5 M stars; the service must be measured at 2.5 M
(SPEC §5) without shipping a big catalogue.  N stars are drawn uniform on the sphere, with
magnitudes following bright-star counts (N(<V) ~ 10^(0.45 V)), parallaxes from an absolute
magnitude spread, proper motions from a tangential-velocity spread (so near stars move
fast, as real ones do, capped below the matcher's fastest allowed motion), and V-K colours
giving G and K.  numpy, seeded: the same N and seed give the same stars.

Memory: stars are drawn and streamed to COPY one chunk at a time, so 2.5 M rows never exist
as Python tuples all at once.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from typing import Any

import asyncpg
import numpy as np

from getstar.ingest import raw

__all__ = ["COLUMNS", "DEFAULT_SEED", "generate", "load_synthetic", "records"]

DEFAULT_SEED = 20_251_201
CHUNK = 100_000
#: Fastest synthetic proper motion (mas/yr); below ``resolver.MAX_PM_ARCSEC_PER_YEAR``.
MAX_PM = 10_000.0
COLUMNS = [("n", "bigint"), ("ra", "double precision"), ("dec", "double precision"),
           ("pmra", "double precision"), ("pmdec", "double precision"), ("plx", "double precision"),
           ("v", "double precision"), ("g", "double precision"), ("k", "double precision")]

_V_MIN, _V_MAX, _SLOPE = -1.5, 13.0, 0.45


def generate(rng: np.random.Generator, size: int) -> dict[str, np.ndarray]:
    """``size`` random stars as numpy columns (degrees, mas, mas/yr, magnitudes)."""
    ra = rng.uniform(0.0, 360.0, size)
    dec = np.degrees(np.arcsin(rng.uniform(-1.0, 1.0, size)))
    span = 10.0 ** (_SLOPE * (_V_MAX - _V_MIN)) - 1.0
    v = _V_MIN + np.log10(1.0 + rng.uniform(0.0, 1.0, size) * span) / _SLOPE
    absolute = rng.normal(1.5, 2.5, size)
    plx = np.clip(1000.0 / 10.0 ** ((v - absolute + 5.0) / 5.0), 0.02, 800.0)
    v_tan = rng.lognormal(math.log(30.0), 0.6, size)  # km/s
    pm = np.minimum(v_tan * plx / 4.74047, MAX_PM)
    angle = rng.uniform(0.0, 2.0 * math.pi, size)
    v_k = rng.gamma(2.0, 0.9, size)
    return {
        "ra": ra, "dec": dec, "pmra": pm * np.sin(angle), "pmdec": pm * np.cos(angle), "plx": plx,
        "v": v, "g": v - 0.05 - 0.25 * v_k + rng.normal(0.0, 0.02, size), "k": v - v_k,
    }


def records(rows: int, seed: int = DEFAULT_SEED, chunk: int = CHUNK) -> Iterator[tuple[Any, ...]]:
    """The stars as COPY records (``n`` from 1), drawn chunk by chunk."""
    rng = np.random.default_rng(seed)
    for start in range(0, rows, chunk):
        size = min(chunk, rows - start)
        cols = generate(rng, size)
        yield from zip(range(start + 1, start + size + 1),
                       *(np.round(cols[c], 9 if c in ("ra", "dec") else 4).tolist() for c, _ in COLUMNS[1:]),
                       strict=True)


async def load_synthetic(conn: asyncpg.Connection, rows: int, seed: int = DEFAULT_SEED) -> int:
    """Replace ``raw.synthetic`` with ``rows`` stars; the source is recorded as its recipe."""
    if rows < 1:
        from getstar.errors import IngestError

        raise IngestError("synthetic", None, f"--rows must be at least 1, got {rows}")
    async with conn.transaction():
        count = await raw.replace_table(conn, "synthetic", COLUMNS, records(rows, seed), source_paths=[])
        recipe = f"synthetic:rows={rows},seed={seed}"
        await conn.execute(f"UPDATE {raw.RAW}.source SET path = $1, sha256 = $2 WHERE name = 'synthetic'",
                           recipe, hashlib.sha256(recipe.encode()).hexdigest())
    return count

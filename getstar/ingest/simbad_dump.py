"""SIMBAD object pages parsed into two TSV files (``simbad_bsc_basic.tsv``, ``simbad_bsc_ids.tsv``).

The bright-sky SIMBAD snapshot (2023-09-29) in ``shared/data/simbad_bsc``: one row per
object with basic data and fluxes (quality letters A..E), and every identifier in
SIMBAD's own spelling.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from getstar.errors import IngestError

BASIC = "simbad_bsc_basic.tsv"
IDS = "simbad_bsc_ids.tsv"
FLUX_BANDS = ("U", "B", "V", "R", "I", "J", "H", "K", "G")

#: raw.simbad columns: (name, SQL type, TSV column).
COLUMNS: list[tuple[str, str, str]] = [
    ("oid", "bigint", "oid"), ("main_id", "text", "main_id"), ("otype", "text", "otype"),
    ("ra", "double precision", "ra"), ("dec", "double precision", "dec"), ("coo_qual", "text", "coo_qual"),
    ("coo_err_maj", "double precision", "coo_err_maj"), ("coo_err_min", "double precision", "coo_err_min"),
    ("pmra", "double precision", "pmra"), ("pmdec", "double precision", "pmdec"),
    ("pm_err_maj", "double precision", "pm_err_maj"), ("pm_err_min", "double precision", "pm_err_min"),
    ("pm_qual", "text", "pm_qual"), ("plx", "double precision", "plx"), ("plx_err", "double precision", "plx_err"),
    ("plx_qual", "text", "plx_qual"), ("rv", "double precision", "rvz_radvel"),
    ("rv_err", "double precision", "rvz_err"), ("rv_qual", "text", "rvz_qual"),
    ("sp_type", "text", "sp_type"), ("sp_qual", "text", "sp_qual"),
]
for _band in FLUX_BANDS:
    COLUMNS += [
        (f"flux_{_band.lower()}", "double precision", f"flux_{_band}"),
        (f"flux_{_band.lower()}_err", "double precision", f"flux_{_band}_err"),
        (f"flux_{_band.lower()}_qual", "text", f"flux_{_band}_qual"),
    ]


def default_dir(shared_data: Path | None) -> Path | None:
    if shared_data and (shared_data / "simbad_bsc" / BASIC).exists():
        return shared_data / "simbad_bsc"
    return None


def _convert(value: str, sqltype: str, path: Path, lineno: int, column: str) -> object:
    value = value.strip()
    if value in ("", "~") or set(value) <= {"~", " "}:  # SIMBAD writes "~" (or "~ ~") for unknown
        return None
    if sqltype == "text":
        return value
    try:
        return int(value) if sqltype == "bigint" else float(value)
    except ValueError:
        raise IngestError(str(path), lineno, f"column {column}: not a number: {value!r}") from None


def read_basic(folder: Path) -> Iterator[tuple[object, ...]]:
    path = folder / BASIC
    if not path.exists():
        raise IngestError(str(path), None, "file not found")
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = [c for _, _, c in COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise IngestError(str(path), 1, f"missing columns: {', '.join(missing)}")
        for lineno, row in enumerate(reader, 2):
            rec = tuple(_convert(row[src] or "", sqltype, path, lineno, src) for _, sqltype, src in COLUMNS)
            if rec[0] is None or rec[1] is None:
                raise IngestError(str(path), lineno, "oid and main_id are required")
            ra, dec = rec[3], rec[4]
            if ra is not None and dec is not None and not (0 <= ra <= 360 and -90 <= dec <= 90):  # type: ignore[operator]
                raise IngestError(str(path), lineno, f"position out of range: {ra} {dec}")
            yield rec


def read_ids(folder: Path) -> Iterator[tuple[int, str]]:
    path = folder / IDS
    if not path.exists():
        raise IngestError(str(path), None, "file not found")
    with open(path, encoding="utf-8") as fh:
        header = fh.readline().rstrip("\n").split("\t")
        if header[:3] != ["oid", "main_id", "id"]:
            raise IngestError(str(path), 1, f"expected header oid, main_id, id; found {header}")
        for lineno, line in enumerate(fh, 2):
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 3 or not parts[2].strip():
                raise IngestError(str(path), lineno, "expected oid, main_id, id")
            try:
                oid = int(parts[0])
            except ValueError:
                raise IngestError(str(path), lineno, f"oid is not an integer: {parts[0]!r}") from None
            yield oid, parts[2].strip()


def confidence(quality: str | None) -> int:
    """SIMBAD quality letter -> GetStar confidence (A/B HIGH, C MEDIUM, D/E LOW)."""
    return {"A": 3, "B": 3, "C": 2, "D": 1, "E": 1}.get((quality or "").strip().upper(), 2)

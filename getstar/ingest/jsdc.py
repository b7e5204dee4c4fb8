"""JSDC v2, the JMMC Stellar Diameters Catalogue (VizieR II/346, ``jsdc_v2``, 465,877 stars).

Three spellings of the same table are read:

* FITS (``.fits``, ``.fit``, ``.fits.gz``) as JMMC and VizieR distribute it;
* VOTable (``.vot``, ``.xml``, ``.votable``) as VizieR serves it;
* the CDS fixed-width text (``.dat``, ``.dat.gz``) with its ``ReadMe``.

Positions come either as the ReadMe's ``RAh RAm RAs DE- DEd DEm DEs`` parts or, in
VizieR exports, as ``RAJ2000``/``DEJ2000`` in degrees or sexagesimal strings.

Every column is converted once as a numpy array (validated there, so a bad row is
reported by number), then one dict per star is built chunk by chunk: the whole file
is never held as Python objects.  ``read`` loads and checks the file when called and
returns an iterator over the stars.

Nulls: magnitudes are ``-`` (text) or NaN (FITS); diameters, their error and the
chi-square are ``-1`` (any negative value is taken as null: none is physical).
``e_LDD`` is also the error of every UDD, but the UD properties carry no error
column in the catalogue, so it is stored with LDD only.
"""

from __future__ import annotations

import gc
import gzip
import itertools
import math
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from getstar.errors import IngestError
from getstar.properties import BY_NAME, ORIGIN_CODE, Confidence

ORIGIN = ORIGIN_CODE["II/346/jsdc_v2"]
CONFIDENCE = int(Confidence.HIGH)
BANDS = ("B", "V", "R", "I", "J", "H", "K", "L", "M", "N")
#: Stars turned into dicts at a time (bounds the Python objects alive at once).
CHUNK = 20_000
#: CDS text lines handed to astropy at a time.
CDS_CHUNK = 25_000

FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz")
VOT_SUFFIXES = (".vot", ".xml", ".votable", ".vot.gz", ".xml.gz")
CDS_SUFFIXES = (".dat", ".dat.gz", ".txt")

_HMS_COLS = ("RAh", "RAm", "RAs", "DEd", "DEm", "DEs")
_RA_COLS = ("RAJ2000", "_RAJ2000", "RAdeg")
_DE_COLS = ("DEJ2000", "_DEJ2000", "DEdeg")
#: Text meaning "no value" in a numeric cell.
_NULL_TEXT = ("", "-", "--", "---", "----", "nan", "NaN", "NAN")
_SEXA_SPLIT = re.compile(r"[\s:hdmsHDMS°'\"]+")


class _Field:
    """One JSDC column mapped to one catalogue column (``key``)."""

    __slots__ = ("source", "key", "kind", "error")

    def __init__(self, source: str, key: str, kind: str, error: str | None = None) -> None:
        self.source = source  # JSDC column name
        self.key = key  # SQL column of the property
        self.kind = kind  # "mag", "diam" (negative = null), "int", "text"
        self.error = error  # JSDC column holding the error (stored as key + "_e")


def _fields() -> tuple[_Field, ...]:
    out = [_Field("SpType", BY_NAME["SpType"].column, "text")]
    for band in BANDS:
        out.append(_Field(f"{band}mag", BY_NAME[band].column, "mag", f"e_{band}mag"))
    out.append(_Field("LDD", BY_NAME["LDD"].column, "diam", "e_LDD"))
    out.append(_Field("LDDCHI", BY_NAME["diam_chi2"].column, "diam"))
    out.append(_Field("CalFlag", BY_NAME["CalFlag"].column, "int"))
    for band in BANDS:
        out.append(_Field(f"UDD{band}", BY_NAME[f"UD_{band}"].column, "diam"))
    return tuple(out)


FIELDS = _fields()

Table = dict[str, Any]  # column name -> numpy array (masked or not)
#: (output key, values, valid mask, whether origin and confidence go with the value)
Columns = list[tuple[str, np.ndarray, np.ndarray, bool]]


# ----------------------------------------------------------------------------- loaders


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in FITS_SUFFIXES + VOT_SUFFIXES + CDS_SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return path.suffix.lower()


def _load_fits(path: Path) -> Table:
    from astropy.io import fits

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with fits.open(path, memmap=not path.name.lower().endswith(".gz")) as hdul:
            hdu = next((h for h in hdul[1:] if isinstance(h, fits.BinTableHDU | fits.TableHDU)), None)
            if hdu is None:
                raise IngestError(str(path), None, "no table extension in the FITS file")
            data = hdu.data
            table: Table = {}
            for col in hdu.columns:
                if data is None:
                    break
                arr = np.array(data[col.name])  # a native copy: the file is closed below
                if arr.ndim != 1:
                    continue
                if arr.dtype.kind in "iu" and isinstance(col.null, int | np.integer):
                    arr = np.ma.MaskedArray(arr, mask=arr == int(col.null))
                table[col.name] = arr
    for warning in caught:
        # astropy reads a short file (zeros or garbage past the end) and only warns.
        if "truncated" in str(warning.message):
            raise IngestError(str(path), None, f"truncated FITS file: {warning.message}")
    return table


def _load_votable(path: Path) -> Table:
    from astropy.io.votable import parse

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vot = parse(str(path), verify="ignore")
        tab = vot.get_first_table().to_table(use_names_over_ids=True)
    return {name: tab[name] for name in tab.colnames if tab[name].ndim == 1}


def _load_cds(path: Path, readme: Path) -> Table:
    """The CDS text through astropy's CDS reader, fed ``CDS_CHUNK`` lines at a time.

    Reading the 465,877 lines in one ``Table.read`` peaks near 2 GB (astropy keeps every
    line and every split field as Python strings); chunks (and collecting the cycles each
    reader leaves) bound that to about 0.5 GB.
    """
    from astropy.io import ascii as asc

    if not readme.exists():
        raise IngestError(str(path), None, f"CDS ReadMe not found: {readme}")
    parts: list[Any] = []
    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    with warnings.catch_warnings(), opener(path, "rt", encoding="latin-1") as fh:
        warnings.simplefilter("ignore")
        while lines := [line.rstrip("\r\n") for line in itertools.islice(fh, CDS_CHUNK)]:
            reader = asc.get_reader(asc.Cds, readme=str(readme))
            # The ReadMe section to use is the one describing this file (what Table.read does).
            reader.data.table_name = path.name
            try:
                parts.append(reader.read(lines))
                del reader, lines
                gc.collect()  # astropy's reader holds cycles: without this, every chunk stays alive
            except ValueError as exc:
                # A cell astropy cannot convert (it does not say which): find it to name the row.
                m = re.search(r"Column (\S+) failed to convert", str(exc))
                if m:
                    _find_bad_cell(path, readme, m.group(1))
                raise
    if not parts:
        raise IngestError(str(path), None, "no data lines")
    names = parts[0].colnames
    if len(parts) == 1:
        return {name: parts[0][name] for name in names}
    table: Table = {}
    for name in names:
        table[name] = np.ma.concatenate([part[name] for part in parts])
        for part in parts:
            del part[name]
    return table


def _find_bad_cell(path: Path, readme: Path, label: str) -> None:
    """Raise IngestError on the first line whose ``label`` cell is not a number of its ReadMe format."""
    spec = re.compile(rf"^\s*(\d+)(?:\s*-\s*(\d+))?\s+([AIFE])\d*(?:\.\d+)?\s+\S+\s+{re.escape(label)}\s")
    found = None
    for line in readme.read_text(encoding="latin-1").splitlines():
        found = spec.match(line + " ")
        if found:
            break
    if not found or found.group(3) == "A":
        return
    start, end = int(found.group(1)) - 1, int(found.group(2) or found.group(1))
    parse = int if found.group(3) == "I" else float
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="latin-1") as fh:
        for lineno, line in enumerate(fh, 1):
            cell = line.rstrip("\r\n")[start:end].strip()
            if cell in _NULL_TEXT:
                continue
            try:
                parse(cell)
            except ValueError:
                raise IngestError(str(path), lineno, f"{label}: not a number: {cell!r}") from None


# ----------------------------------------------------------------------------- cells


def _lookup(table: Table, name: str) -> Any:
    """Column ``name`` (case-insensitive: FITS names are), or None."""
    if name in table:
        return table[name]
    low = name.lower()
    for key, col in table.items():
        if key.lower() == low:
            return col
    return None


def _texts(col: Any) -> np.ndarray:
    """A column as a stripped ``str`` array; masked cells become ''."""
    mask = np.ma.getmaskarray(col)
    data = np.asarray(np.ma.getdata(col))
    if data.dtype.kind == "S":
        data = np.char.decode(data, "utf-8", errors="replace")
    elif data.dtype.kind != "U":
        data = data.astype(str)
    data = np.char.strip(data)
    if mask.any():
        data = data.copy()
        data[mask] = ""
    return data


def _floats(col: Any, name: str, path: Path) -> np.ndarray:
    """A column as float64 with NaN for nulls; a non-numeric cell raises, naming its row."""
    mask = np.ma.getmaskarray(col)
    data = np.asarray(np.ma.getdata(col))
    if data.dtype.kind in "fiub":
        out = data.astype(np.float64)
    else:
        text = _texts(col)
        text = np.where(np.isin(text, _NULL_TEXT), "nan", text)
        try:
            out = text.astype(np.float64)
        except ValueError:
            for i, cell in enumerate(text.tolist()):
                try:
                    float(cell)
                except ValueError:
                    raise IngestError(str(path), i + 1, f"{name}: not a number: {cell!r}") from None
            raise IngestError(str(path), None, f"{name}: not numeric") from None
    if mask.any():
        out[mask] = np.nan
    return out


def _sexagesimal(text: str, hours: bool) -> float:
    """``06 45 08.91`` (hours) or ``-00 42 58.4`` (degrees) as degrees; a plain number is degrees.

    The sign is read from the text, never from the first field, so ``-00 30`` is south.
    Raises ValueError on anything else.
    """
    s = text.strip()
    sign = 1.0
    if s.startswith(("+", "-")):
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:].strip()
    parts = [p for p in _SEXA_SPLIT.split(s) if p]
    if not parts or len(parts) > 3:
        raise ValueError(text)
    values = [float(p) for p in parts]
    if not all(math.isfinite(v) for v in values):
        raise ValueError(text)
    if len(values) == 1:
        return sign * values[0]  # decimal degrees spelled as text
    if any(v < 0 for v in values) or any(v >= 60 for v in values[1:]):
        raise ValueError(text)
    if len(values) == 3 and not values[1].is_integer():
        raise ValueError(text)
    deg = values[0] + values[1] / 60 + (values[2] / 3600 if len(values) == 3 else 0.0)
    return sign * deg * (15.0 if hours else 1.0)


def _angles(col: Any, name: str, hours: bool, path: Path) -> np.ndarray:
    """RAJ2000/DEJ2000 in degrees, whether stored as numbers or as sexagesimal text."""
    data = np.asarray(np.ma.getdata(col))
    if data.dtype.kind in "fiu":
        return _floats(col, name, path)
    out = np.empty(len(data), dtype=np.float64)
    for i, cell in enumerate(_texts(col).tolist()):
        if not cell:
            raise IngestError(str(path), i + 1, f"{name} is empty")
        try:
            out[i] = _sexagesimal(cell, hours)
        except ValueError:
            raise IngestError(str(path), i + 1, f"{name} is not an angle: {cell!r}") from None
    return out


def _first_bad(bad: np.ndarray) -> int | None:
    return int(np.argmax(bad)) + 1 if bad.any() else None


def _positions(table: Table, path: Path) -> tuple[np.ndarray, np.ndarray]:
    parts = {c: _lookup(table, c) for c in _HMS_COLS}
    if all(v is not None for v in parts.values()):
        h, m, s, d, dm, ds = (_floats(parts[c], c, path) for c in _HMS_COLS)
        sign_col = _lookup(table, "DE-")
        # Without DE- a '-00' cannot be told from '+00': the sign of DEd is all there is.
        south = _texts(sign_col) == "-" if sign_col is not None else np.signbit(d)
        checks = (
            ("RAh", h, (h < 0) | (h >= 24)),
            ("RAm", m, (m < 0) | (m >= 60)),
            ("RAs", s, (s < 0) | (s >= 60)),
            ("DEd", d, np.abs(d) > 90),
            ("DEm", dm, (dm < 0) | (dm >= 60)),
            ("DEs", ds, (ds < 0) | (ds >= 60)),
        )
        for name, values, out_of_range in checks:
            row = _first_bad(~np.isfinite(values))
            if row is not None:
                raise IngestError(str(path), row, f"position missing: {name} is empty")
            row = _first_bad(out_of_range)
            if row is not None:
                raise IngestError(str(path), row, f"position out of range: {name} = {values[row - 1]:g}")
        ra = 15.0 * (h + m / 60.0 + s / 3600.0)
        dec = np.abs(d) + dm / 60.0 + ds / 3600.0
        dec = np.where(south, -dec, dec)
    else:
        ra_name = next((c for c in _RA_COLS if _lookup(table, c) is not None), None)
        de_name = next((c for c in _DE_COLS if _lookup(table, c) is not None), None)
        if ra_name is None or de_name is None:
            missing = "RAJ2000" if ra_name is None else "DEJ2000"
            raise IngestError(
                str(path),
                None,
                f"missing position column {missing} (need RAh, RAm, RAs, DE-, DEd, DEm, DEs "
                "or RAJ2000 and DEJ2000)",
            )
        ra = _angles(_lookup(table, ra_name), ra_name, True, path)
        dec = _angles(_lookup(table, de_name), de_name, False, path)
    for name, values, low, high in (("RA", ra, 0.0, 360.0), ("Dec", dec, -90.0, 90.0)):
        row = _first_bad(~np.isfinite(values))
        if row is not None:
            raise IngestError(str(path), row, f"position missing: {name} is empty or NaN")
        row = _first_bad((values < low) | (values > high))
        if row is not None:
            raise IngestError(str(path), row, f"position out of range: {name} = {values[row - 1]:g} deg")
    return np.mod(ra, 360.0), dec


# ----------------------------------------------------------------------------- reading


def _columns(table: Table, path: Path) -> Columns:
    """Every value and error column of the file, converted and with its null mask."""
    out: Columns = []
    for f in FIELDS:
        col = _lookup(table, f.source)
        if col is None:
            continue
        if f.kind == "text":
            values = _texts(col)
            valid = values != ""
        else:
            values = _floats(col, f.source, path)
            valid = np.isfinite(values)
            if f.kind == "diam":
                valid &= values >= 0
            if f.kind == "int":
                values = np.where(valid, values, 0).astype(np.int64)
        out.append((f.key, values, valid, True))
        err_col = _lookup(table, f.error) if f.error else None
        if err_col is not None and f.error:
            err = _floats(err_col, f.error, path)
            out.append((f.key + "_e", err, valid & np.isfinite(err) & (err >= 0), False))
    return out


def _stars(names: np.ndarray, ra: np.ndarray, dec: np.ndarray, columns: Columns) -> Iterator[dict[str, Any]]:
    """One dict per star, converting ``CHUNK`` rows of every column to Python objects at a time."""
    for start in range(0, len(names), CHUNK):
        stop = min(start + CHUNK, len(names))
        chunk = [
            (key, key + "_o", key + "_c", values[start:stop].tolist(), valid[start:stop].tolist(), meta)
            for key, values, valid, meta in columns
        ]
        rows = zip(names[start:stop].tolist(), ra[start:stop].tolist(), dec[start:stop].tolist(), strict=True)
        for i, (name, r, d) in enumerate(rows):
            star: dict[str, Any] = {
                "name": name, "ra": r, "dec": d,
                "ra_o": ORIGIN, "ra_c": CONFIDENCE, "dec_o": ORIGIN, "dec_c": CONFIDENCE,
            }
            for key, key_o, key_c, values, valid, meta in chunk:
                if valid[i]:
                    star[key] = values[i]
                    if meta:
                        star[key_o] = ORIGIN
                        star[key_c] = CONFIDENCE
            yield star


def read(path: Path, readme: Path | None = None) -> Iterator[dict[str, Any]]:
    """The stars of a JSDC v2 file: ``name``, ``ra``/``dec`` (degrees, J2000) and values.

    Values are keyed by the catalogue's SQL column (``p_b``, ``p_b_e``, ``p_ldd``, ...)
    with ``<column>_o`` (origin II/346/jsdc_v2) and ``<column>_c`` (3, high); nulls are
    left out.  The file is read and checked now; stars are built as they are consumed.
    ``readme`` (CDS text only) defaults to ``ReadMe`` next to the data file.
    """
    path = Path(path)
    if not path.exists():
        raise IngestError(str(path), None, "file not found")
    if not path.is_file():
        raise IngestError(str(path), None, "not a file")
    suffix = _suffix(path)
    try:
        if suffix in FITS_SUFFIXES:
            table = _load_fits(path)
        elif suffix in VOT_SUFFIXES:
            table = _load_votable(path)
        elif suffix in CDS_SUFFIXES:
            table = _load_cds(path, Path(readme) if readme else path.parent / "ReadMe")
        else:
            raise IngestError(
                str(path), None, f"unknown format {suffix!r} (expected .fits, .vot/.xml or .dat + ReadMe)"
            )
    except IngestError:
        raise
    except Exception as exc:  # whatever astropy, numpy or the OS raise on a bad file
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise IngestError(str(path), None, f"unreadable {suffix.lstrip('.')} file: {reason}") from None

    name_col = _lookup(table, "Name")
    if name_col is None:
        raise IngestError(str(path), None, "missing column Name")
    names = _texts(name_col)
    row = _first_bad(names == "")
    if row is not None:
        raise IngestError(str(path), row, "empty Name")
    ra, dec = _positions(table, path)
    columns = _columns(table, path)
    del table
    return _stars(names, ra, dec, columns)

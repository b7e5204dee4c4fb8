"""JMDC (VizieR II/345, measured angular diameters) as JMMC prepared it through GetStar.

The FITS file carries, per measurement, the whole GetStar property set with integer
``*_ORIGIN`` codes.  We keep one row per star: the GetStar properties (origins decoded
into our vocabulary) and the weighted mean of the measured limb-darkened diameters.
"""

from __future__ import annotations

import math
import re
import warnings
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from getstar.errors import IngestError
from getstar.properties import ORIGIN_CODE, ORIGINS, PROPERTIES, Property

FITS_NAME = "JMDC_full_20200730_final_lddUpdated.fits"
#: Properties never taken from JMDC: identity and astrometry come from fresher catalogues.
SKIP = {"TARGET_ID", "SIMBAD", "RAJ2000", "DEJ2000", "RA", "DEC", "Name"}
#: The 2020 file predates Gaia DR3: its Gaia codes meant DR2 then.
ORIGIN_OVERRIDES = {25: "I/345/gaia2", 26: "I/347/gaia2dis"}


def default_path(shared_data: Path | None) -> Path | None:
    if shared_data and (shared_data / "jmdc" / FITS_NAME).exists():
        return shared_data / "jmdc" / FITS_NAME
    return None


def fits_key(name: str) -> str:
    """FITS column spelling of a GetStar property name (``B-V`` -> ``B_V``, ``2MASS`` -> ``_2MASS``)."""
    key = re.sub(r"[^A-Z0-9]", "_", name.upper())
    return "_" + key if key[0].isdigit() else key


def origin_labels(tsv: Path | None) -> dict[int, str]:
    """Decode GetStar origin indexes through ``searchcal_origin_index.tsv`` when present."""
    labels = dict(enumerate(ORIGINS[:30]))
    if tsv and tsv.exists():
        for line in tsv.read_text().splitlines()[1:]:
            parts = line.split("\t")
            if len(parts) >= 2 and parts[0].isdigit():
                labels[int(parts[0])] = parts[1]
    labels.update(ORIGIN_OVERRIDES)
    return labels


def mapped_properties(colnames: list[str]) -> list[Property]:
    names = set(colnames)
    return [p for p in PROPERTIES if not p.derived_from and p.name not in SKIP and fits_key(p.name) in names]


def _cell(value: Any, prop: Property) -> Any:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, str):
        value = value.strip()
        if value == "":
            return None
        if prop.datatype in ("int", "long"):
            try:
                return int(value)  # not via float: Gaia ids have 19 digits
            except ValueError:
                try:
                    return int(float(value))
                except ValueError:
                    return None
        if prop.datatype == "boolean":
            return value.upper() in ("T", "TRUE", "1", "Y")
        if prop.datatype == "double":
            try:
                return float(value)
            except ValueError:
                return None
        return value
    if isinstance(value, (np.floating, float)):
        f = float(value)
        if not math.isfinite(f):
            return None
        if prop.datatype in ("int", "long"):
            return int(f)
        if prop.datatype == "boolean":
            return bool(f)
        return f
    if isinstance(value, (np.integer, int, np.bool_)):
        if prop.datatype == "boolean":
            return bool(value)
        if prop.datatype == "double":
            return float(value)
        if prop.datatype == "char":
            return str(value)
        return int(value)
    return value


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = str(value).strip()
    return text or None


def _number(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


class _Row:
    """Row ``index`` of a FITS table read as columns: ``row[name]`` is what astropy's
    ``FITS_record`` gives (``table.field(name)[index]``), without its per-access overhead."""

    __slots__ = ("fields", "index")

    def __init__(self, fields: dict[str, Any], index: int) -> None:
        self.fields, self.index = fields, index

    def __getitem__(self, name: str) -> Any:
        return self.fields[name][self.index]


def read(path: Path, origin_tsv: Path | None = None) -> tuple[list[Property], list[dict[str, Any]]]:
    """Per star: {'keys': [identifiers], property column: value, ...}."""
    from astropy.io import fits

    if not Path(path).exists():
        raise IngestError(str(path), None, "file not found")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with fits.open(path) as hdul:
                table = hdul[1].data
                colnames = list(hdul[1].columns.names)
                # columns read once: astropy's per-row records cost ~5 ms a row here (9 s for the file)
                fields = {name: table.field(name) for name in colnames}
                rows = [_Row(fields, i) for i in range(len(table))]
    except (OSError, IndexError, ValueError) as exc:
        raise IngestError(str(path), None, f"not a readable FITS table: {exc}") from None
    for needed in ("SIMBAD", "LD_DIAM", "E_LD_DIAM", "BAND"):
        if needed not in colnames:
            raise IngestError(str(path), None, f"missing column {needed}")
    labels = origin_labels(origin_tsv)
    props = mapped_properties(colnames)
    stars: dict[str, dict[str, Any]] = {}
    measures: dict[str, list[tuple[float, float, str]]] = defaultdict(list)
    for rowno, row in enumerate(rows, 1):
        name = _text(row["SIMBAD"])
        if not name:
            raise IngestError(str(path), rowno, "empty SIMBAD identifier")
        ldd, e_ldd = row["LD_DIAM"], row["E_LD_DIAM"]
        if np.isfinite(ldd) and np.isfinite(e_ldd) and e_ldd > 0:
            band = row["BAND"].decode() if isinstance(row["BAND"], bytes) else str(row["BAND"])
            measures[name].append((float(ldd), float(e_ldd), band.strip()))
        if name in stars:
            continue
        rec: dict[str, Any] = {"simbad": name}
        keys = [name]
        for prop in props:
            value = _cell(row[fits_key(prop.name)], prop)
            if value is None:
                continue
            code_col = fits_key(prop.name) + "_ORIGIN"
            code = int(row[code_col]) if code_col in colnames else prop.origin_code
            if code == 0:  # "NO CATALOG": GetStar wrote 0 for unset cells
                continue
            label = labels.get(code, prop.origin)
            rec[prop.column] = value
            rec[prop.column + "_o"] = ORIGIN_CODE.get(label, prop.origin_code)
            rec[prop.column + "_c"] = 3
            if prop.error and fits_key(prop.error.name) in colnames:
                err = _number(row[fits_key(prop.error.name)])
                if err is not None:
                    rec[prop.column + "_e"] = err
            if prop.name in ("HD", "HIP"):
                keys.append(f"{prop.name} {value}")
        rec["keys"] = keys
        stars[name] = rec
    for name, meas in measures.items():
        weights = [1.0 / (e * e) for _, e, _ in meas]
        total = sum(weights)
        stars[name]["p_ldd_meas"] = sum(w * v for w, (v, _, _) in zip(weights, meas, strict=True)) / total
        stars[name]["p_ldd_meas_e"] = 1.0 / math.sqrt(total)
        stars[name]["p_ldd_meas_n"] = len(meas)
        stars[name]["p_ldd_meas_band"] = ",".join(sorted({b for _, _, b in meas if b}))
        for col in ("p_ldd_meas", "p_ldd_meas_n", "p_ldd_meas_band"):
            stars[name][col + "_o"] = ORIGIN_CODE["II/345/jmdc"]
            stars[name][col + "_c"] = 3
    return props, list(stars.values())

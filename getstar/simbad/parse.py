"""A SIMBAD TAP answer (VOTable) -> one ``SimbadObject`` per SIMBAD object.

Columns are read by name and may be missing (recorded answers of other query shapes, other
TAP servers); values land in ``SimbadObject.values`` under the ``raw.simbad`` column names,
so the raw store and the snapshot build read them like the SIMBAD dump.  A document with
``QUERY_STATUS=ERROR`` raises ``TapQueryError``; an unreadable or truncated document raises
``TapFormatError``; no TABLE or no rows is an empty answer (SIMBAD's "not found").
"""

from __future__ import annotations

import hashlib
import io
import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from getstar.ingest.simbad_dump import COLUMNS
from getstar.names import ident_key

#: SIMBAD's column name -> raw.simbad column name, where they differ.
RENAMED = {"plx_value": "plx", "rvz_radvel": "rv", "rvz_err": "rv_err", "rvz_qual": "rv_qual"}
RAW_COLUMNS: tuple[str, ...] = tuple(name for name, _, _ in COLUMNS)
_TEXT = {name for name, sqltype, _ in COLUMNS if sqltype == "text"}


class TapAnswerError(Exception):
    """The TAP answer cannot be used (base of the two below)."""


class TapQueryError(TapAnswerError):
    """The service refused the query (``QUERY_STATUS=ERROR``): retrying will not help."""


class TapFormatError(TapAnswerError):
    """The answer is not a readable VOTable (truncated, HTML error page, ...)."""


@dataclass
class SimbadObject:
    """One SIMBAD object: ``raw.simbad`` values, all its identifiers, and which ones matched."""

    values: dict[str, Any]
    identifiers: list[str] = field(default_factory=list)
    matched: list[str] = field(default_factory=list)

    @property
    def oid(self) -> int:
        return int(self.values["oid"])

    @property
    def main_id(self) -> str:
        return str(self.values["main_id"])

    def ident_keys(self) -> set[str]:
        return {ident_key(i) for i in self.identifiers} - {""}


def synthetic_oid(main_id: str) -> int:
    """A stable negative oid for answers without ``oid`` (never collides with SIMBAD's)."""
    return -int.from_bytes(hashlib.sha256(main_id.encode()).digest()[:7], "big") - 1


def _scalar(value: Any) -> Any:
    if value is None or value is np.ma.masked:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if isinstance(value, np.float32):  # -1.46 stays -1.46, not -1.4600000381469727
        value = float(np.format_float_positional(value)) if np.isfinite(value) else None
    elif isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, str):
        value = value.strip() if value.strip() else None
    return value


def query_status(votable: Any) -> tuple[str, str]:
    """(status, message) of the DALI ``QUERY_STATUS`` INFO, wherever the service put it."""
    infos = list(getattr(votable, "infos", []))
    for resource in getattr(votable, "resources", []):
        infos += list(resource.infos)
    for info in infos:
        if (info.name or "").upper() == "QUERY_STATUS":
            return str(info.value or "").upper(), str(info.content or "").strip()
    return "", ""


def _read(content: bytes) -> Any:
    from astropy.io.votable import parse

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return parse(io.BytesIO(content), verify="ignore")
    except Exception as exc:  # noqa: BLE001 - expat, ValueError, astropy's own: all mean unreadable
        raise TapFormatError(f"unreadable VOTable: {exc}") from None


def error_message(content: bytes) -> str | None:
    """The message of a ``QUERY_STATUS=ERROR`` document (e.g. a 400 answer), else None."""
    try:
        status, message = query_status(_read(content))
    except TapFormatError:
        return None
    return (message or "error") if status == "ERROR" else None


def parse_votable(content: bytes) -> list[SimbadObject]:
    """Objects of a TAP answer, in answer order; one per oid with every matched identifier."""
    if not content.strip():
        raise TapFormatError("empty answer")
    votable = _read(content)
    status, message = query_status(votable)
    if status == "ERROR":
        raise TapQueryError(message or "the TAP service refused the query")
    tables = [t for r in votable.resources for t in r.tables]
    if not tables:
        return []
    return _objects(tables[0].array)


def _objects(arr: Any) -> list[SimbadObject]:
    names = set(arr.dtype.names or ())
    by_oid: dict[int, SimbadObject] = {}
    for row in arr:
        got = {RENAMED.get(n, n): _scalar(row[n]) for n in names}
        main_id = got.get("main_id")
        if main_id is None:  # an outer-joined row without an object
            continue
        values = {c: got.get(c) for c in RAW_COLUMNS}
        for c in _TEXT:
            if values[c] is not None:
                values[c] = str(values[c])
        oid = int(values["oid"]) if values["oid"] is not None else synthetic_oid(str(main_id))
        values["oid"] = oid
        obj = by_oid.get(oid)
        if obj is None:
            ids = [str(main_id)]
            if got.get("ids"):
                ids += [i.strip() for i in str(got["ids"]).split("|") if i.strip()]
            obj = by_oid[oid] = SimbadObject(values, list(dict.fromkeys(ids)))
        matched = got.get("matched_id")
        if matched is not None and str(matched) not in obj.matched:
            obj.matched.append(str(matched))
            if str(matched) not in obj.identifiers:
                obj.identifiers.append(str(matched))
    return list(by_oid.values())

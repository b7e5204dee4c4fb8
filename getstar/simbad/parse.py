"""A SIMBAD TAP answer (VOTable) -> one ``SimbadObject`` per SIMBAD object.

Columns are read by name and may be missing (recorded answers of other query shapes, other
TAP servers); values land in ``SimbadObject.values`` under the ``raw.simbad`` column names,
so the raw store and the snapshot build read them like the SIMBAD dump.  A document with
``QUERY_STATUS=ERROR`` raises ``TapQueryError``; an answer cut at MAXREC
(``QUERY_STATUS=OVERFLOW``, after the table) raises ``TapOverflowError`` where completeness
matters (the bulk enrichment); an unreadable or truncated document raises ``TapFormatError``;
no TABLE or no rows is an empty answer (SIMBAD's "not found").  ``parse_matches`` reads an
upload answer: the objects and which uploaded star each one answers (column ``star``).

Before astropy reads an answer, ``check_safe`` refuses what would make it open a file or a
URL, or build more than it should (``TapUnsafeError``): the TAP URL is configuration, and
whoever answers there must not reach the server's files or network through us.
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from getstar.errors import GetStarError
from getstar.ingest.simbad_dump import COLUMNS
from getstar.names import ident_key
from getstar.simbad_columns import EXTRA_COLUMNS
from getstar.xmatch.votable_guard import check_votable

#: SIMBAD's column name -> raw.simbad column name, where they differ.
RENAMED = {"plx_value": "plx", "rvz_radvel": "rv", "rvz_err": "rv_err", "rvz_qual": "rv_qual"}
#: The columns of a learned object (``raw.simbad_learned``): the dump's and the TAP-only ones.
RAW_COLUMNS: tuple[str, ...] = (*(name for name, _, _ in COLUMNS), *(name for name, _ in EXTRA_COLUMNS))
_TEXT = {name for name, sqltype, _ in COLUMNS if sqltype == "text"} | {
    name for name, sqltype in EXTRA_COLUMNS if sqltype == "text"}


class TapAnswerError(Exception):
    """The TAP answer cannot be used (base of the two below)."""


class TapQueryError(TapAnswerError):
    """The service refused the query (``QUERY_STATUS=ERROR``): retrying will not help."""


class TapFormatError(TapAnswerError):
    """The answer is not a readable VOTable (truncated, HTML error page, ...)."""


class TapOverflowError(TapAnswerError):
    """The service cut the answer at MAXREC (``QUERY_STATUS=OVERFLOW``): it is incomplete."""


class TapUnsafeError(TapFormatError):
    """The answer is refused unread: it refers to a file or URL, has a DTD or entities, FITS
    data, or declares a table too large to build (``check_safe``)."""


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


def _statuses(votable: Any) -> list[tuple[str, str]]:
    infos = list(getattr(votable, "infos", []))
    for resource in getattr(votable, "resources", []):
        infos += list(resource.infos)
    return [(str(info.value or "").upper(), str(info.content or "").strip())
            for info in infos if (info.name or "").upper() == "QUERY_STATUS"]


def query_status(votable: Any) -> tuple[str, str]:
    """(status, message) of the DALI ``QUERY_STATUS`` INFO, wherever the service put it.

    An ERROR or OVERFLOW anywhere wins over an OK (DaCHS writes OK before the table and
    OVERFLOW after it).
    """
    found = _statuses(votable)
    for wanted in ("ERROR", "OVERFLOW"):
        for status, message in found:
            if status == wanted:
                return status, message
    return found[0] if found else ("", "")


#: An XInclude element, under any prefix (astropy ignores them; nothing in a TAP answer needs one).
_XINCLUDE = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?include[\s/>]")


def check_safe(content: bytes) -> None:
    """Raise ``TapUnsafeError`` unless astropy may read ``content`` without opening anything.

    The uploads' guard (``xmatch.votable_guard``): data inline only (TABLEDATA, or BINARY/BINARY2
    as base64: SIMBAD's TAP service answers ``FORMAT=votable`` in BINARY), no ``STREAM href``, no
    FITS, no DOCTYPE or entities, declared sizes bounded; and no XInclude.
    """
    if _XINCLUDE.search(content):
        raise TapUnsafeError("the answer holds an XInclude element")
    try:
        check_votable(content, max_rows=None)
    except GetStarError as exc:
        raise TapUnsafeError(exc.message) from None


def _read(content: bytes) -> Any:
    from astropy.io.votable import parse

    check_safe(content)
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


def _first_table(content: bytes, *, complete: bool) -> Any:
    """The answer's first table (None without one); ``complete``: an OVERFLOW is an error."""
    if not content.strip():
        raise TapFormatError("empty answer")
    votable = _read(content)
    status, message = query_status(votable)
    if status == "ERROR":
        raise TapQueryError(message or "the TAP service refused the query")
    if status == "OVERFLOW" and complete:
        raise TapOverflowError("the answer was cut at the row limit (QUERY_STATUS=OVERFLOW)")
    tables = [t for r in votable.resources for t in r.tables]
    return tables[0].array if tables else None


def parse_votable(content: bytes) -> list[SimbadObject]:
    """Objects of a TAP answer, in answer order; one per oid with every matched identifier."""
    arr = _first_table(content, complete=False)
    return [] if arr is None else _objects(arr)[0]


def parse_matches(content: bytes) -> tuple[list[SimbadObject], list[tuple[int, int]]]:
    """An upload answer: its objects (one per oid) and the (uploaded star, oid) pairs, each once.

    The answer must be complete: an OVERFLOW raises ``TapOverflowError``.
    """
    arr = _first_table(content, complete=True)
    if arr is None:
        return [], []
    if "star" not in (arr.dtype.names or ()):
        raise TapFormatError("the upload answer has no 'star' column")
    return _objects(arr)


def _column(col: Any) -> list[Any]:
    """One answer column as Python values (``_scalar``'s rules), converted column-wise.

    Why: reading a masked record array row by row costs ~5 ms a row in numpy (a masked void
    per row); a column at a time, a 10,000-row answer reads in a fraction of a second.
    """
    mask = np.ma.getmaskarray(col)
    data = np.asarray(np.ma.getdata(col))
    if data.dtype.kind == "f":
        if data.dtype == np.float32:  # -1.46 stays -1.46, not -1.4600000381469727
            data = data.astype(str).astype(np.float64)
        mask = mask | ~np.isfinite(data)
    elif data.dtype.kind not in "biu":
        return [None if m else _scalar(v) for v, m in zip(data.tolist(), mask.tolist(), strict=True)]
    values = data.tolist()
    for i in np.flatnonzero(mask).tolist():
        values[i] = None
    return values


def _objects(arr: Any) -> tuple[list[SimbadObject], list[tuple[int, int]]]:
    columns = {RENAMED.get(n, n): _column(arr[n]) for n in arr.dtype.names or ()}
    by_oid: dict[int, SimbadObject] = {}
    pairs: dict[tuple[int, int], None] = {}
    for i in range(len(arr)):
        got = {name: values[i] for name, values in columns.items()}
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
        if got.get("star") is not None:
            pairs[(int(got["star"]), oid)] = None
    return list(by_oid.values()), list(pairs)

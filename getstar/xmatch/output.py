"""Batch answers written chunk by chunk: JSON, CSV, VOTable 1.4 and 1.1.

Every answer is the input rows in order, each followed by its outcome.  Flat formats (CSV,
VOTable) have the input columns first (a name that clashes with an output column gets an
``input_`` prefix), then ``status`` (``ok`` or the row's problem), ``match`` (the flag),
``main_id``, ``name_main_id``, ``separation_arcsec``, ``n_candidates``, ``sep2_arcsec``,
``name_separation_arcsec``, then per key property ``P``, ``P.origin``, ``P.confidence`` and
its error column when it has one (as ``formats.csvfmt`` does).  JSON nests instead:
``{"input": {...}, "status": ..., ..., "properties": {"V": {"value", "origin",
"confidence"[, "error"]}}}`` with unset properties omitted, as ``formats.jsonfmt`` does.

Writers return bytes per chunk so the endpoint can stream 100,000 rows without holding the
document.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import orjson

from getstar.formats._common import PropertyReader, confidence_name, no_surrogates, origin_name, readers, utc_iso
from getstar.formats.model import Meta
from getstar.formats.negotiate import MEDIA_TYPES
from getstar.formats.table import Column, VOTableStream
from getstar.properties import Property
from getstar.xmatch.match import KEY_PROPERTIES, Target

__all__ = ["MATCH_COLUMNS", "Item", "Writer", "make_writer"]

#: (input row, target, database record) of one answered row.
Item = tuple[Sequence[Any], Target, Mapping[str, Any]]

MATCH_COLUMNS = (
    Column("status", "char", "", "meta.code.error", "ok, or why the row could not be read"),
    Column("match", "char", "", "meta.code", "name, position, name+position, ambiguous, none, "
           "name_position_disagree"),
    Column("main_id", "char", "", "meta.id;meta.main", "Main identifier of the matched star"),
    Column("name_main_id", "char", "", "meta.id", "Star(s) the row's name resolves to ('|'-separated)"),
    Column("separation_arcsec", "double", "arcsec", "pos.angDistance",
           "Separation between the row's position and the matched star (at the row's epoch)"),
    Column("n_candidates", "int", "", "meta.number", "Number of stars within the radius of the position"),
    Column("sep2_arcsec", "double", "arcsec", "pos.angDistance", "Separation of the second star within the radius"),
    Column("name_separation_arcsec", "double", "arcsec", "pos.angDistance",
           "Separation between the row's position and the star its name resolves to"),
)
_MATCH_KEYS = tuple(c.name for c in MATCH_COLUMNS)
_VOT_TYPES = {"double": "double", "int": "long", "long": "long", "char": "char", "boolean": "boolean"}


def _finite(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v


def _property_columns(props: Sequence[Property]) -> list[Column]:
    cols: list[Column] = []
    for p in props:
        datatype = "double" if p.render or p.derived_from else p.datatype
        unit = "deg" if p.derived_from else p.unit
        unit = "arcsec" if unit == "as" else unit
        cols += [Column(p.name, _VOT_TYPES[datatype], unit, p.ucd1p, p.description),
                 Column(f"{p.name}.origin", "char", "", "meta.ref", f"Origin of {p.name}"),
                 Column(f"{p.name}.confidence", "char", "", "meta.code.qual", f"Confidence of {p.name}")]
        if p.error is not None and not p.derived_from:
            cols.append(Column(p.error.name, "double", p.error.unit, p.error.ucd1p, p.error.description))
    return cols


def _input_type(values: list[Any]) -> str:
    """VOTable type for echoing an input column: its Python values' common type."""
    kinds = {type(v) for v in values if v is not None}
    if kinds and kinds <= {int} and all(-(2**63) < v < 2**63 for v in values if v is not None):
        return "long"
    if kinds and kinds <= {int, float} and all(abs(v) < 1e300 for v in values if isinstance(v, int)):
        return "double"
    if kinds == {bool}:
        return "boolean"
    return "char"


class Layout:
    """The columns of one answer and how each item becomes their values."""

    def __init__(self, input_columns: Sequence[str], rows: Sequence[Sequence[Any]],
                 props: Sequence[Property] = KEY_PROPERTIES) -> None:
        self.props = list(props)
        self.readers: list[PropertyReader] = readers(self.props)
        self.output_columns = [*MATCH_COLUMNS, *_property_columns(self.props)]
        taken = {c.name for c in self.output_columns}
        self.input_names = list(input_columns)
        self.input_columns = []
        for i, name in enumerate(input_columns):
            echo = f"input_{name}" if name in taken else name
            taken.add(echo)
            self.input_columns.append(Column(echo, _input_type([r[i] for r in rows])))
        self.columns = [*self.input_columns, *self.output_columns]
        self.width = len(self.output_columns)

    def match_values(self, target: Target, rec: Mapping[str, Any]) -> list[Any]:
        if target.error is not None:
            return [target.error, "none", None, None, None, None, None, None]
        return ["ok", rec["xm_flag"], rec["main_id"], rec["xm_name_main_id"], _finite(rec["xm_sep"]),
                rec["xm_n"], _finite(rec["xm_sep2"]), _finite(rec["xm_name_sep"])]

    def flat(self, item: Item) -> list[Any]:
        """One output row in column order."""
        row, target, rec = item
        out = [*row, *self.match_values(target, rec)]
        if target.error is not None or rec["xm_star"] is None:
            out += [None] * (self.width - len(MATCH_COLUMNS))
            return out
        for r in self.readers:
            v, o, c, e = r.read(rec, "")
            if v is None:
                out += [None, None, None]
            else:
                out += [v, origin_name(o), confidence_name(c)]
            if r.ecol is not None:
                out.append(e if v is not None else None)
        return out

    def nested(self, item: Item) -> dict[str, Any]:
        """One JSON result."""
        row, target, rec = item
        d: dict[str, Any] = {"input": dict(zip(self.input_names, row, strict=True))}
        d.update(zip(_MATCH_KEYS, self.match_values(target, rec), strict=True))
        props: dict[str, Any] = {}
        if target.error is None and rec["xm_star"] is not None:
            for r in self.readers:
                v, o, c, e = r.read(rec, "")
                if v is None:
                    continue
                p = {"value": v, "origin": origin_name(o), "confidence": confidence_name(c)}
                if e is not None:
                    p["error"] = e
                props[r.name] = p
        d["properties"] = props
        return d


class Writer(Protocol):
    media_type: str

    def head(self) -> bytes: ...

    def chunk(self, items: Sequence[Item]) -> bytes: ...

    def tail(self) -> bytes: ...


def _json_default(obj: Any) -> Any:
    item = getattr(obj, "item", None)
    return item() if item is not None else str(obj)


class JSONWriter:
    media_type = MEDIA_TYPES["json"]

    def __init__(self, layout: Layout, meta: Meta, nrows: int) -> None:
        self.layout, self.meta, self.nrows = layout, meta, nrows
        self._first = True

    def head(self) -> bytes:
        head = orjson.dumps({
            "service": {"name": "getstar", "version": self.meta.service_version},
            "snapshot": self.meta.snapshot_version,
            "request": {"query": no_surrogates(self.meta.query), "time": utc_iso(self.meta.request_time)},
            "count": self.nrows,
            "columns": self.layout.input_names,
        }, default=_json_default)
        return head[:-1] + b',"results":['

    def chunk(self, items: Sequence[Item]) -> bytes:
        if not items:
            return b""
        docs = [self.layout.nested(item) for item in items]
        try:
            body = orjson.dumps(docs, default=_json_default)
        except orjson.JSONEncodeError:  # lone surrogates in an echoed cell
            body = orjson.dumps(_scrub(docs), default=_json_default)
        body = body[1:-1]
        if self._first:
            self._first = False
            return body
        return b"," + body

    def tail(self) -> bytes:
        return b"]}"


def _scrub(obj: Any) -> Any:
    if isinstance(obj, str):
        return no_surrogates(obj)
    if isinstance(obj, dict):
        return {_scrub(k): _scrub(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_scrub(v) for v in obj]
    return obj


def _csv_cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ""
    if isinstance(v, str):
        return no_surrogates(v)
    if isinstance(v, dict | list):
        return orjson.dumps(v, default=_json_default).decode()
    return v


class CSVWriter:
    media_type = MEDIA_TYPES["csv"]

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    def _lines(self, rows: Sequence[Sequence[Any]]) -> bytes:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerows([[_csv_cell(v) for v in row] for row in rows])
        return buf.getvalue().encode("utf-8")

    def head(self) -> bytes:
        return self._lines([[c.name for c in self.layout.columns]])

    def chunk(self, items: Sequence[Item]) -> bytes:
        return self._lines([self.layout.flat(item) for item in items])

    def tail(self) -> bytes:
        return b""


class VOTableWriter:
    def __init__(self, layout: Layout, meta: Meta, nrows: int, version: str) -> None:
        self.layout = layout
        self.media_type = MEDIA_TYPES["votable11" if version == "1.1" else "votable"]
        self.stream = VOTableStream(
            layout.columns, version=version, table_name="xmatch", nrows=nrows,
            description=f"getstar {meta.service_version}: batch cross-identification, one row per input row",
            infos=[("service_version", meta.service_version), ("snapshot_version", meta.snapshot_version),
                   ("query", meta.query), ("request_date", utc_iso(meta.request_time))],
        )

    def head(self) -> bytes:
        return self.stream.head().encode("utf-8")

    def chunk(self, items: Sequence[Item]) -> bytes:
        return self.stream.rows([self.layout.flat(item) for item in items]).encode("utf-8", "replace")

    def tail(self) -> bytes:
        return self.stream.tail().encode("utf-8")


def make_writer(fmt: str, layout: Layout, meta: Meta, nrows: int) -> Writer:
    """The writer for ``fmt`` (json, csv, votable, votable11)."""
    if fmt == "json":
        return JSONWriter(layout, meta, nrows)
    if fmt == "csv":
        return CSVWriter(layout)
    if fmt in ("votable", "votable11"):
        return VOTableWriter(layout, meta, nrows, "1.1" if fmt == "votable11" else "1.4")
    raise ValueError(f"unknown format {fmt!r}")

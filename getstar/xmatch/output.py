"""Batch answers written chunk by chunk: JSON, CSV, VOTable 1.4 and 1.1.

Every answer is the input rows in order, each followed by its outcome.  Flat formats (CSV,
VOTable) have the input columns first (a name that clashes with an output column gets an
``input_`` prefix), then ``status`` (``ok`` or the row's problem), ``match`` (the flag),
``main_id``, ``name_main_id``, ``separation_arcsec``, ``n_candidates``, ``sep2_arcsec``,
``name_separation_arcsec``, ``name_system``, then per key property ``P``, ``P.origin``, ``P.confidence`` and
its error column when it has one (as ``formats.csvfmt`` does).  JSON nests instead:
``{"input": {...}, "status": ..., ..., "properties": {"V": {"value", "origin",
"confidence"[, "error"]}}}`` with unset properties omitted, as ``formats.jsonfmt`` does.

The cells after the input columns come from the database already rendered in the format
(``render``): writers add the echoed input cells and return bytes per chunk, so the endpoint
streams 100,000 rows without holding the document or formatting 7 million cells here.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

import orjson

from getstar.formats._common import no_surrogates, utc_iso
from getstar.formats.jsonfmt import scrub
from getstar.formats.model import Meta
from getstar.formats.negotiate import MEDIA_TYPES
from getstar.formats.table import Column, VOTableStream
from getstar.properties import Property
from getstar.xmatch.match import KEY_PROPERTIES
from getstar.xmatch.reader import InputTable

__all__ = ["MATCH_COLUMNS", "Item", "Writer", "make_writer"]

#: (input row, its problem if it could not be read, its output cells from the database) of one answered row.
Item = tuple[Sequence[Any], str | None, str]

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
    Column("name_system", "char", "", "meta.id",
           "The multiple system the row's name designates, when the name stands for its primary component"),
)
_MATCH_KEYS = tuple(c.name for c in MATCH_COLUMNS)


def _finite(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v


def _property_columns(props: Sequence[Property]) -> list[Column]:
    cols: list[Column] = []
    for p in props:
        datatype = "double" if p.render or p.derived_from else p.datatype
        unit = "deg" if p.derived_from else p.unit
        unit = "arcsec" if unit == "as" else unit
        cols += [Column(p.name, datatype, unit, p.ucd1p, p.description),
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
    """The columns of one answer: the echoed input columns, then the match and property cells."""

    @classmethod
    def of(cls, table: InputTable, props: Sequence[Property] = KEY_PROPERTIES) -> Layout:
        return cls(table.columns, None if table.plain else table.column, props, plain=table.plain)

    def __init__(self, input_columns: Sequence[str],
                 rows: Sequence[Sequence[Any]] | Callable[[int], Sequence[Any]] | None,
                 props: Sequence[Property] = KEY_PROPERTIES, *, plain: bool = False) -> None:
        """``rows``: the input rows, or a function giving a column's cells (their types are
        echoed); None for plain tables (all text)."""
        #: The input cells need no escaping (``InputTable.plain``): writers echo them as they are.
        self.plain = plain
        self.props = list(props)
        self.output_columns = [*MATCH_COLUMNS, *_property_columns(self.props)]
        taken = {c.name for c in self.output_columns}
        self.input_names = list(input_columns)
        self.input_columns = []
        for i, name in enumerate(input_columns):
            echo = f"input_{name}" if name in taken else name
            taken.add(echo)
            values = None if rows is None else list(rows(i)) if callable(rows) else [r[i] for r in rows]
            kind = "char" if values is None else _input_type(values)  # plain (no values): all text
            self.input_columns.append(Column(echo, kind))
        self.columns = [*self.input_columns, *self.output_columns]

    def error_cells(self, error: str) -> list[Any]:
        """The output cells of a row that could not be read: its problem, flag none, nothing else."""
        return [error, "none"] + [None] * (len(self.output_columns) - 2)


class Writer(Protocol):
    media_type: str

    def head(self) -> bytes: ...

    def chunk(self, rows: Sequence[tuple[Any, ...]], errors: Sequence[str | None] | None,
              texts: Sequence[str]) -> bytes:
        """The bytes of consecutive rows: input cells, problems (None: none in the chunk) and
        the database's output cells."""
        ...

    def tail(self) -> bytes: ...


def _items(rows: Sequence[tuple[Any, ...]], errors: Sequence[str | None] | None, texts: Sequence[str]) -> list[Item]:
    return list(zip(rows, errors if errors is not None else [None] * len(rows), texts, strict=True))


def _json_default(obj: Any) -> Any:
    item = getattr(obj, "item", None)
    return item() if item is not None else str(obj)


def _dumps(obj: Any) -> bytes:
    try:
        return orjson.dumps(obj, default=_json_default)
    except orjson.JSONEncodeError:  # lone surrogates in an echoed cell
        return orjson.dumps(scrub(obj), default=_json_default)


class JSONWriter:
    """``{"service", "snapshot", "request", "count", "columns", "results": [...]}``, results streamed."""

    media_type = MEDIA_TYPES["json"]

    def __init__(self, layout: Layout, meta: Meta, nrows: int) -> None:
        self.layout, self.meta, self.nrows = layout, meta, nrows
        self._first = True
        self._error_keys = [c.name for c in MATCH_COLUMNS]
        # plain input: one %-format per row instead of a dict and an orjson call per row
        keys = [_dumps(name).decode().replace("%", "%%") for name in layout.input_names]
        self._template = ('{"input":{' + ",".join(f'{k}:"%s"' for k in keys) + "},%s}") if layout.plain else None

    def head(self) -> bytes:
        head = _dumps({
            "service": {"name": "getstar", "version": self.meta.service_version},
            "snapshot": self.meta.snapshot_version,
            "request": {"query": self.meta.query, "time": utc_iso(self.meta.request_time)},
            "count": self.nrows,
            "columns": self.layout.input_names,
        })
        return head[:-1] + b',"results":['

    def _one(self, item: Item) -> bytes:
        row, error, text = item
        echo = _dumps(dict(zip(self.layout.input_names, row, strict=True)))
        if error is not None:
            rest = dict(zip(self._error_keys, self.layout.error_cells(error), strict=False))
            rest["properties"] = {}
            return b'{"input":' + echo + b"," + _dumps(rest)[1:]
        return b'{"input":' + echo + b"," + text.encode() + b"}"

    def chunk(self, rows: Sequence[tuple[Any, ...]], errors: Sequence[str | None] | None,
              texts: Sequence[str]) -> bytes:
        if not rows:
            return b""
        template = self._template
        if template is not None and errors is None:  # no Python code runs per row: map over C functions
            body = ",".join(map(template.__mod__, map(operator.add, rows, zip(texts)))).encode()
        else:
            body = b",".join([self._one(item) for item in _items(rows, errors, texts)])
        if self._first:
            self._first = False
            return body
        return b"," + body

    def tail(self) -> bytes:
        return b"]}"


def _csv_cell(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else ""
    if isinstance(v, dict | list):
        return _dumps(v).decode()
    s = no_surrogates(v if isinstance(v, str) else str(v))
    if any(ch in s for ch in _CSV_SPECIAL):
        return '"' + s.replace('"', '""') + '"'
    return s


_CSV_SPECIAL = (",", '"', "\r", "\n")


class CSVWriter:
    """A header line, then one line per row (minimal quoting, CRLF, as ``formats.csvfmt``)."""

    media_type = MEDIA_TYPES["csv"]

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    def head(self) -> bytes:
        return (",".join(_csv_cell(c.name) for c in self.layout.columns) + "\r\n").encode("utf-8")

    def _one(self, item: Item) -> str:
        row, error, text = item
        cells = [_csv_cell(v) for v in row]
        if error is not None:
            cells += [_csv_cell(v) for v in self.layout.error_cells(error)]
        else:
            cells.append(text)
        return ",".join(cells)

    def chunk(self, rows: Sequence[tuple[Any, ...]], errors: Sequence[str | None] | None,
              texts: Sequence[str]) -> bytes:
        if not rows:
            return b""
        if self.layout.plain and errors is None:  # cells without commas, quotes nor line breaks: as they are
            lines: Iterable[str] = map(",".join, map(operator.add, rows, zip(texts)))
        else:
            lines = [self._one(item) for item in _items(rows, errors, texts)]
        return ("\r\n".join(lines) + "\r\n").encode("utf-8")

    def tail(self) -> bytes:
        return b""


class VOTableWriter:
    """A VOTable (1.4 or 1.1) through ``formats.table.VOTableStream``."""

    def __init__(self, layout: Layout, meta: Meta, nrows: int, version: str) -> None:
        self.layout = layout
        self.media_type = MEDIA_TYPES["votable11" if version == "1.1" else "votable"]
        self.stream = VOTableStream(
            layout.columns, version=version, table_name="xmatch", nrows=nrows,
            description=f"getstar {meta.service_version}: batch cross-identification, one row per input row",
            infos=[("service_version", meta.service_version), ("snapshot_version", meta.snapshot_version),
                   ("query", meta.query), ("request_date", utc_iso(meta.request_time))],
        )
        self._outputs = len(layout.input_columns)

    def head(self) -> bytes:
        return self.stream.head().encode("utf-8")

    def _one(self, item: Item) -> str:
        row, error, text = item
        cells = self.stream.tds(row)
        if error is not None:
            return "<TR>" + cells + self.stream.tds(self.layout.error_cells(error), self._outputs) + "</TR>\n"
        return "<TR>" + cells + text + "</TR>\n"

    def chunk(self, rows: Sequence[tuple[Any, ...]], errors: Sequence[str | None] | None,
              texts: Sequence[str]) -> bytes:
        return "".join([self._one(item) for item in _items(rows, errors, texts)]).encode("utf-8", "replace")

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

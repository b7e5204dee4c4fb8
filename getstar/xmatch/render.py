"""SQL that renders each matched row's output cells as text, inside PostgreSQL.

Why in SQL: with ~70 cells per row (18 key properties with origin, confidence and error),
decoding 100,000 rows into Python objects and formatting them again costs this process
several seconds of its one core, while the database has a core of its own.  So the database
writes, per row, the text of everything after the echoed input columns (``status`` 'ok'
through the last property) in the requested format: a JSON fragment, a CSV fragment or
VOTable ``<TD>`` cells.  Python only adds the echoed input cells and sends the bytes.

The cells follow ``output.MATCH_COLUMNS`` then, per property, value, origin, confidence
and error (when it has one), with the null rules of ``formats.jsonfmt`` / ``formats.csvfmt``:
a property is unset when its value is NULL, NaN or infinite, or an empty string; an unset
property has no origin, confidence nor error.  Origins and confidences are written as
names (``ORIGINS`` / ``Confidence``), from an array parameter ($1, see ``params``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from getstar.formats._common import esc_text
from getstar.properties import ORIGINS, Confidence, Property, storage_column

__all__ = ["FORMATS", "cell_kinds", "params", "render_sql"]

FORMATS = ("json", "csv", "votable", "votable11")
_INT_NULL_11 = {"int": "-2147483648", "long": "-9223372036854775808"}


def params(fmt: str) -> list[list[str]]:
    """The query parameters: $1, the text of a set property's origin and confidence cells in
    ``fmt``, indexed by ``origin_code * 5 + confidence_code + 1`` (code len(ORIGINS) / 4: unknown).

    One array lookup per property replaces two lookups and their quoting in every row.
    """
    origins: list[str | None] = [*ORIGINS, None]
    confidences: list[str | None] = [*(c.name for c in sorted(Confidence)), None]
    out = []
    for o in origins:
        for c in confidences:
            if fmt == "json":
                out.append(f',"origin":{_json_text(o)},"confidence":{_json_text(c)}}}')
            elif fmt == "csv":
                out.append(f"{_csv_text(o)},{_csv_text(c)}")
            else:
                out.append(_td_text(o) + _td_text(c))
    return [out]


def _json_text(v: str | None) -> str:
    return orjson.dumps(v).decode()


def _csv_text(v: str | None) -> str:
    if v is None:
        return ""
    return '"' + v.replace('"', '""') + '"' if any(ch in v for ch in ',"\r\n') else v


def _td_text(v: str | None) -> str:
    return f"<TD>{esc_text(v)}</TD>" if v else "<TD/>"


_UNKNOWN_ORIGIN = len(ORIGINS)
_UNKNOWN_CONFIDENCE = len(Confidence)


@dataclass(frozen=True)
class Cell:
    """One output cell: its SQL value (NULL = unset) and kind (text, double, int, long, boolean)."""

    sql: str
    kind: str
    #: Text from our own vocabulary (origins, confidences, flags): nothing to escape or quote.
    safe: bool = False


def _finite(x: str) -> str:
    """``x`` unless NaN or infinite (then NULL): x - x is 0 only for finite numbers."""
    return f"(CASE WHEN {x} - {x} = 0 THEN {x} END)"


def _value(prop: Property, m: str) -> Cell:
    col = f"{m}.{storage_column(prop)}"
    if prop.render:
        raise ValueError(f"{prop.name}: sexagesimal properties are not batch output (use RA/DEC)")
    if prop.derived_from or prop.datatype == "double":
        return Cell(_finite(col), "double")
    if prop.datatype == "char":
        return Cell(f"nullif({col}, '')", "text")
    return Cell(col, prop.datatype)


@dataclass(frozen=True)
class _Prop:
    """A property's cells: value, origin and confidence (one pre-rendered fragment, see
    ``params``) and error; valid where ``present`` holds, all unset where it does not."""

    present: str
    value: Cell
    provenance: str
    error: Cell | None


def _property(prop: Property, m: str) -> _Prop:
    value = _value(prop, m)
    col = f"{m}.{storage_column(prop)}"
    provenance = (f"($1::text[])[coalesce({col}_o, {_UNKNOWN_ORIGIN}) * 5 "
                  f"+ coalesce({col}_c, {_UNKNOWN_CONFIDENCE}) + 1]")
    error = Cell(_finite(col + "_e"), "double") if prop.error is not None and not prop.derived_from else None
    return _Prop(f"({value.sql}) IS NOT NULL", value, provenance, error)


def _unknown_provenance(fmt: str) -> str:
    return params(fmt)[0][-1]


def _match_cells(m: str) -> list[tuple[str, Cell]]:
    return [
        ("status", Cell("'ok'", "text", True)),
        ("match", Cell(f"{m}.xm_flag", "text", True)),
        ("main_id", Cell(f"{m}.main_id", "text")),
        ("name_main_id", Cell(f"{m}.xm_name_main_id", "text")),
        ("separation_arcsec", Cell(_finite(f"{m}.xm_sep"), "double")),
        ("n_candidates", Cell(f"{m}.xm_n", "int")),
        ("sep2_arcsec", Cell(_finite(f"{m}.xm_sep2"), "double")),
        ("name_separation_arcsec", Cell(_finite(f"{m}.xm_name_sep"), "double")),
    ]


def _json(cell: Cell) -> str:
    if cell.kind == "text" and cell.safe:
        return f"('\"' || {cell.sql} || '\"')"
    if cell.kind == "text":
        return f"to_json(({cell.sql})::text)::text"
    if cell.kind == "boolean":
        return f"CASE WHEN {cell.sql} THEN 'true' ELSE 'false' END"
    return f"({cell.sql})::text"


def _render_json(props: Sequence[Property], m: str) -> str:
    pieces = []
    for i, (name, cell) in enumerate(_match_cells(m)):
        pieces += [f"'{',' if i else ''}\"{name}\":'", f"coalesce({_json(cell)}, 'null')"]
    unknown = _unknown_provenance("json")
    parts = []
    for prop in props:
        p = _property(prop, m)
        inner = [f"'\"{prop.name}\":{{\"value\":'", _json(p.value)]
        if p.error is not None:  # written only when set, as formats.jsonfmt does
            inner.append(f"coalesce(',\"error\":' || {_json(p.error)}, '')")
        inner.append(f"coalesce({p.provenance}, '{unknown}')")
        parts.append(f"CASE WHEN {p.present} THEN concat({', '.join(inner)}) END")
    pieces += ["',\"properties\":{'", f"concat_ws(',', {', '.join(parts)})" if parts else "''", "'}'"]
    return f"concat({', '.join(pieces)})"


def _csv(cell: Cell) -> str:
    if cell.kind == "text" and cell.safe:
        return f"coalesce({cell.sql}, '')"
    if cell.kind == "text":
        x = cell.sql
        return (f"coalesce(CASE WHEN {x} ~ '[\",\\r\\n]' THEN '\"' || replace({x}, '\"', '\"\"') || '\"' "
                f"ELSE {x} END, '')")
    if cell.kind == "boolean":
        return f"coalesce(CASE WHEN {cell.sql} THEN 'true' ELSE 'false' END, '')"
    return f"coalesce(({cell.sql})::text, '')"


def _render_csv(props: Sequence[Property], m: str) -> str:
    pieces = [_csv(cell) for _, cell in _match_cells(m)]
    unknown = _unknown_provenance("csv")
    for prop in props:
        p = _property(prop, m)
        cells = [_csv(p.value), f"coalesce({p.provenance}, '{unknown}')"]
        if p.error is not None:
            cells.append(_csv(p.error))
        pieces.append(f"CASE WHEN {p.present} THEN concat_ws(',', {', '.join(cells)}) ELSE '{',' * len(cells)}' END")
    return f"concat_ws(',', {', '.join(pieces)})"


def _empty_td(cell: Cell, v11: bool) -> str:
    return f"<TD>{_INT_NULL_11[cell.kind]}</TD>" if v11 and cell.kind in _INT_NULL_11 else "<TD/>"


def _td(cell: Cell, v11: bool) -> str:
    empty = f"'{_empty_td(cell, v11)}'"
    if cell.kind == "text" and cell.safe:
        return f"coalesce('<TD>' || {cell.sql} || '</TD>', {empty})"
    if cell.kind == "text":
        x = cell.sql
        escaped = (f"CASE WHEN {x} ~ '[&<>\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\r]' THEN "
                   f"replace(replace(replace(replace(regexp_replace({x}, '[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f]', "
                   f"'\ufffd', 'g'), '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), E'\\r', '&#13;') ELSE {x} END")
        return f"coalesce('<TD>' || nullif({escaped}, '') || '</TD>', {empty})"
    if cell.kind == "boolean":
        return f"coalesce(CASE WHEN {cell.sql} THEN '<TD>T</TD>' ELSE '<TD>F</TD>' END, {empty})"
    return f"coalesce('<TD>' || ({cell.sql})::text || '</TD>', {empty})"


def _render_votable(props: Sequence[Property], m: str, v11: bool) -> str:
    pieces = [_td(cell, v11) for _, cell in _match_cells(m)]
    unknown = _unknown_provenance("votable")
    for prop in props:
        p = _property(prop, m)
        cells = [_td(p.value, v11), f"coalesce({p.provenance}, '{unknown}')"]
        unset = _empty_td(p.value, v11) + "<TD/><TD/>"
        if p.error is not None:
            cells.append(_td(p.error, v11))
            unset += "<TD/>"
        pieces.append(f"CASE WHEN {p.present} THEN concat({', '.join(cells)}) ELSE '{unset}' END")
    return f"concat({', '.join(pieces)})"


def cell_kinds(props: Sequence[Property]) -> list[str]:
    """The VOTable datatype of each rendered cell (must equal the output columns' datatypes)."""
    cells = [c.kind for _, c in _match_cells("m")]
    for prop in props:
        p = _property(prop, "m")
        cells += [p.value.kind, "text", "text"] + ([p.error.kind] if p.error is not None else [])
    return ["char" if k == "text" else k for k in cells]


def render_sql(fmt: str, props: Sequence[Property], m: str = "m") -> str:
    """SQL text expression of one row's output cells in ``fmt``, over the columns of alias ``m``."""
    if fmt == "json":
        return _render_json(props, m)
    if fmt == "csv":
        return _render_csv(props, m)
    if fmt in ("votable", "votable11"):
        return _render_votable(props, m, fmt == "votable11")
    raise ValueError(f"unknown format {fmt!r}")

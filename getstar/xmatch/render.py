"""SQL that renders each matched row's output cells as text, inside PostgreSQL.

Why in SQL: with ~70 cells per row (18 key properties with origin, confidence and error),
decoding 100,000 rows into Python objects and formatting them again costs this process
several seconds of its one core, while the database has a core of its own.  So the database
writes, per row, the text of everything after the echoed input columns (``status`` 'ok'
through the last property) in the requested format: a JSON fragment, a CSV fragment or
VOTable ``<TD>`` cells, in two pieces: the match cells (``match_text_sql``) and the star's
key properties (``star_text_sql``, rendered where the candidate star's row is read, with
the text of "no star" for rows without one).  Python only adds the echoed input cells and
sends the bytes.

The cells follow ``output.MATCH_COLUMNS`` then, per property, value, origin, confidence
and error (when it has one), with the null rules of ``formats.jsonfmt`` / ``formats.csvfmt``:
a property is unset when its value is NULL, NaN or infinite, or an empty string; an unset
property has no origin, confidence nor error.  Origins and confidences are written as
names (``ORIGINS`` / ``Confidence``), from two array parameters ($1, $2, see ``params``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import orjson

from getstar.formats._common import esc_text
from getstar.formats.vobase import INT_NULL
from getstar.properties import ORIGINS, Confidence, Property, storage_column

__all__ = ["FORMATS", "cell_kinds", "match_text_sql", "params", "star_text_sql"]

FORMATS = ("json", "csv", "votable", "votable11")


def params(fmt: str) -> list[list[str]]:
    """The query parameters: the text of a set property's origin cell ($1, indexed by
    ``origin_code + 1``) and confidence cell ($2, by ``confidence_code + 1``) in ``fmt``, with
    a last entry for an unknown code.

    Two short arrays: PostgreSQL finds an array element by walking the ones before it, so a
    lookup in a short array is cheap, and there are two of them per property and row.
    """
    origins: list[str | None] = [*ORIGINS, None]
    confidences: list[str | None] = [*(c.name for c in sorted(Confidence)), None]
    if fmt == "json":
        return [[f',"origin":{_json_text(o)}' for o in origins],
                [f',"confidence":{_json_text(c)}}}' for c in confidences]]
    if fmt == "csv":
        return [[_csv_text(o) for o in origins], [_csv_text(c) for c in confidences]]
    return [[_td_text(o) for o in origins], [_td_text(c) for c in confidences]]


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


def _value(prop: Property, m: str) -> tuple[Cell, str, str]:
    """A property's value cell, the condition under which it is set, and the plain column
    (the value where the condition holds: no NaN test nor NULLIF left to evaluate)."""
    col = f"{m}.{storage_column(prop)}"
    if prop.render:
        raise ValueError(f"{prop.name}: sexagesimal properties are not batch output (use RA/DEC)")
    if prop.derived_from or prop.datatype == "double":
        return Cell(_finite(col), "double"), f"{col} - {col} = 0", col
    if prop.datatype == "char":
        return Cell(f"nullif({col}, '')", "text"), f"{col} <> ''", col
    return Cell(col, prop.datatype), f"{col} IS NOT NULL", col


@dataclass(frozen=True)
class _Prop:
    """A property's cells: value, origin and confidence (pre-rendered fragments, see
    ``params``) and error; valid where ``present`` holds, all unset where it does not."""

    present: str
    value: Cell
    #: ``value`` where ``present`` holds.
    plain: Cell
    provenance: str
    error: Cell | None


def _property(prop: Property, m: str, sep: str = "") -> _Prop:
    """``sep``: the text between the origin and confidence cells (CSV's comma)."""
    value, present, plain = _value(prop, m)
    col = f"{m}.{storage_column(prop)}"
    between = f" || '{sep}'" if sep else ""
    provenance = (f"coalesce(($1::text[])[{col}_o + 1], ($1::text[])[{_UNKNOWN_ORIGIN + 1}]){between} || "
                  f"coalesce(($2::text[])[{col}_c + 1], ($2::text[])[{_UNKNOWN_CONFIDENCE + 1}])")
    error = Cell(_finite(col + "_e"), "double") if prop.error is not None and not prop.derived_from else None
    return _Prop(present, value, Cell(plain, value.kind, value.safe), provenance, error)


def _match_cells(m: str) -> list[tuple[str, Cell]]:
    return [
        ("status", Cell("'ok'", "text", True)),
        ("match", Cell(f"{m}.xm_flag", "text", True)),
        ("main_id", Cell(f"{m}.xm_main_id", "text")),
        ("name_main_id", Cell(f"{m}.xm_name_main_id", "text")),
        ("separation_arcsec", Cell(_finite(f"{m}.xm_sep"), "double")),
        ("n_candidates", Cell(f"{m}.xm_n", "int")),
        ("sep2_arcsec", Cell(_finite(f"{m}.xm_sep2"), "double")),
        ("name_separation_arcsec", Cell(_finite(f"{m}.xm_name_sep"), "double")),
        ("name_system", Cell(f"{m}.xm_name_system", "text")),
    ]


def _json(cell: Cell) -> str:
    if cell.kind == "text" and cell.safe:
        return f"('\"' || {cell.sql} || '\"')"
    if cell.kind == "text":
        return f"to_json(({cell.sql})::text)::text"
    if cell.kind == "boolean":
        return f"CASE WHEN {cell.sql} THEN 'true' ELSE 'false' END"
    return f"({cell.sql})::text"


def _match_json(m: str) -> str:
    pieces = []
    for i, (name, cell) in enumerate(_match_cells(m)):
        pieces.append(f"'{',' if i else ''}\"{name}\":' || coalesce({_json(cell)}, 'null')")
    return " || ".join(f"({x})" for x in pieces)


def _star_json(props: Sequence[Property], s: str) -> tuple[str, str]:
    parts = []
    for prop in props:
        p = _property(prop, s)
        inner = f"'\"{prop.name}\":{{\"value\":' || {_json(p.plain)}"
        if p.error is not None:  # written only when set, as formats.jsonfmt does
            inner += f" || coalesce(',\"error\":' || {_json(p.error)}, '')"
        parts.append(f"CASE WHEN {p.present} THEN {inner} || {p.provenance} END")
    joined = f"concat_ws(',', {', '.join(parts)})" if parts else "''"
    return f"',\"properties\":{{' || {joined} || '}}'", ',"properties":{}'


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


_CSV_JOIN = " || ',' || "


def _match_csv(m: str) -> str:
    return _CSV_JOIN.join(f"({_csv(cell)})" for _, cell in _match_cells(m))


def _star_csv(props: Sequence[Property], s: str) -> tuple[str, str]:
    pieces = []
    unset = ""
    for prop in props:
        p = _property(prop, s, ",")
        cells = [_csv(p.plain), p.provenance]
        if p.error is not None:
            cells.append(_csv(p.error))
        pieces.append(f"CASE WHEN {p.present} THEN {_CSV_JOIN.join(cells)} ELSE '{',' * len(cells)}' END")
        unset += "," + "," * len(cells)
    return "".join(f" || ',' || ({x})" for x in pieces)[4:] if pieces else "''", unset


def _empty_td(cell: Cell, v11: bool) -> str:
    return f"<TD>{INT_NULL[cell.kind]}</TD>" if v11 and cell.kind in INT_NULL else "<TD/>"


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


def _match_votable(m: str, v11: bool) -> str:
    return " || ".join(f"({_td(cell, v11)})" for _, cell in _match_cells(m))


def _star_votable(props: Sequence[Property], s: str, v11: bool) -> tuple[str, str]:
    pieces = []
    unset_all = ""
    for prop in props:
        p = _property(prop, s)
        cells = [_td(p.plain, v11), p.provenance]
        unset = _empty_td(p.value, v11) + "<TD/><TD/>"
        if p.error is not None:
            cells.append(_td(p.error, v11))
            unset += "<TD/>"
        pieces.append(f"CASE WHEN {p.present} THEN {' || '.join(cells)} ELSE '{unset}' END")
        unset_all += unset
    return (" || ".join(f"({x})" for x in pieces) if pieces else "''"), unset_all


def cell_kinds(props: Sequence[Property]) -> list[str]:
    """The VOTable datatype of each rendered cell (must equal the output columns' datatypes)."""
    cells = [c.kind for _, c in _match_cells("m")]
    for prop in props:
        p = _property(prop, "m")
        cells += [p.value.kind, "text", "text"] + ([p.error.kind] if p.error is not None else [])
    return ["char" if k == "text" else k for k in cells]


def match_text_sql(fmt: str, m: str = "m") -> str:
    """SQL text of a row's match cells (``status`` to ``name_separation_arcsec``) in ``fmt``,
    over the ``xm_*`` columns of alias ``m``."""
    _check(fmt)
    if fmt == "json":
        return _match_json(m)
    if fmt == "csv":
        return _match_csv(m)
    return _match_votable(m, fmt == "votable11")


def star_text_sql(fmt: str, props: Sequence[Property], s: str = "s") -> tuple[str, str]:
    """(SQL text of the key-property cells of star ``s`` in ``fmt``, the same text for no star).

    The first follows ``match_text_sql``'s (JSON: ``,"properties":{...}``; CSV: a comma and
    the cells; VOTable: the cells), so a row's cells are the two joined.
    """
    _check(fmt)
    if fmt == "json":
        return _star_json(props, s)
    if fmt == "csv":
        return _star_csv(props, s)
    return _star_votable(props, s, fmt == "votable11")


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")

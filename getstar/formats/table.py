"""Streaming VOTable writer for flat tables (batch cross-identification answers).

Why not ``formats.votable``: that writer serves star answers (FIELD + ``.origin`` +
``.confidence`` GROUPs, GetStar's PARAMs and null rules) and builds one document in
memory.  Batch answers are a plain table of any columns, 100,000 rows long, sent while the
database is still computing: this writer gives the header, any number of row chunks and the
footer as separate strings, each cell formatted by a per-column function chosen once.

VOTable 1.4 (namespace v1.3): an empty ``<TD/>`` is null for every datatype.
VOTable 1.1: empty integer cells are not valid, so integer FIELDs declare
``<VALUES null="..."/>`` and null cells hold that value (astropy reads them as masked).
Floats are written at full precision (shortest round-trip ``repr``), NaN as empty.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from getstar.formats._common import esc_attr, esc_text
from getstar.formats.vobase import INT_NULL, prolog

__all__ = ["Column", "VOTableStream"]

DATATYPES = ("char", "double", "int", "long", "boolean")
_PROLOG = {version: prolog(version) for version in ("1.4", "1.1")}
_COOSYS = {
    "1.4": '  <COOSYS ID="icrs" system="ICRS" epoch="J2000"/>\n',
    "1.1": '  <COOSYS ID="J2000" equinox="J2000." epoch="J2000." system="eq_FK5"/>\n',
}
_SPECIAL = {"nan": "", "inf": "+Inf", "-inf": "-Inf"}
_NOT_ID = re.compile(r"[^A-Za-z0-9_.-]")


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a flat table."""

    name: str
    datatype: str = "char"
    unit: str = ""
    ucd: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        if self.datatype not in DATATYPES:
            raise ValueError(f"{self.name}: unknown datatype {self.datatype}")


def _double(v: Any) -> str:
    if v is None:
        return "<TD/>"
    try:
        s = repr(float(v))
    except (TypeError, ValueError, OverflowError):
        return "<TD/>"
    if s[-1] > "9":
        s = _SPECIAL[s]
        if not s:
            return "<TD/>"
    return f"<TD>{s}</TD>"


def _integer(null: str) -> Callable[[Any], str]:
    empty = f"<TD>{null}</TD>" if null else "<TD/>"

    def fmt(v: Any) -> str:
        if v is None or isinstance(v, bool):
            return empty
        try:
            return f"<TD>{int(v)}</TD>"
        except (TypeError, ValueError, OverflowError):
            return empty

    return fmt


def _boolean(v: Any) -> str:
    if v is None:
        return "<TD/>"
    return "<TD>T</TD>" if v else "<TD>F</TD>"


def _char(v: Any) -> str:
    if v is None:
        return "<TD/>"
    s = v if v.__class__ is str else str(v)
    return f"<TD>{esc_text(s)}</TD>" if s else "<TD/>"


def _ids(names: Sequence[str]) -> list[str]:
    """XML IDs from column names (readers such as astropy name columns by ID): unique NCNames."""
    out: list[str] = []
    seen = {"icrs", "J2000"}  # the COOSYS IDs
    for name in names:
        base = _NOT_ID.sub("_", name) or "col"
        if not (base[0].isalpha() or base[0] == "_"):
            base = "_" + base
        ident, n = base, 1
        while ident in seen:
            n += 1
            ident = f"{base}_{n}"
        seen.add(ident)
        out.append(ident)
    return out


class VOTableStream:
    """A VOTable document in pieces: ``head()``, ``rows(chunk)`` as often as needed, ``tail()``."""

    def __init__(self, columns: Sequence[Column], *, version: str = "1.4", table_name: str = "results",
                 description: str = "", infos: Sequence[tuple[str, str]] = (), nrows: int | None = None) -> None:
        if version not in _PROLOG:
            raise ValueError(f"unknown VOTable version {version!r}")
        self.columns = list(columns)
        self.version = version
        self.table_name = table_name
        self.description = description
        self.infos = list(infos)
        self.nrows = nrows
        self._formatters = [self._formatter(c) for c in self.columns]
        self._ids = _ids([c.name for c in self.columns])

    def _formatter(self, c: Column) -> Callable[[Any], str]:
        if c.datatype == "double":
            return _double
        if c.datatype in INT_NULL:
            return _integer(str(INT_NULL[c.datatype]) if self.version == "1.1" else "")
        if c.datatype == "boolean":
            return _boolean
        return _char

    def _field(self, i: int, c: Column) -> str:
        attrs = [f'name="{esc_attr(c.name)}"', f'ID="{self._ids[i]}"', f'datatype="{c.datatype}"']
        if c.datatype == "char":
            attrs.append('arraysize="*"')
        if c.unit:
            attrs.append(f'unit="{esc_attr(c.unit)}"')
        if c.ucd:
            attrs.append(f'ucd="{esc_attr(c.ucd)}"')
        inner = ""
        if c.description:
            inner += f"<DESCRIPTION>{esc_text(c.description)}</DESCRIPTION>"
        if self.version == "1.1" and c.datatype in INT_NULL:
            inner += f'<VALUES null="{INT_NULL[c.datatype]}"/>'
        return f"   <FIELD {' '.join(attrs)}" + (f">{inner}</FIELD>\n" if inner else "/>\n")

    def head(self) -> str:
        parts = [_PROLOG[self.version]]
        if self.description:
            parts.append(f" <DESCRIPTION>{esc_text(self.description)}</DESCRIPTION>\n")
        parts.append(' <RESOURCE type="results">\n')
        parts.append('  <INFO name="QUERY_STATUS" value="OK"/>\n')
        parts += [f'  <INFO name="{esc_attr(k)}" value="{esc_attr(v)}"/>\n' for k, v in self.infos]
        parts.append(_COOSYS[self.version])
        nrows = f' nrows="{self.nrows}"' if self.nrows is not None else ""
        parts.append(f'  <TABLE name="{esc_attr(self.table_name)}"{nrows}>\n')
        parts += [self._field(i, c) for i, c in enumerate(self.columns)]
        parts.append("   <DATA>\n    <TABLEDATA>\n")
        return "".join(parts)

    def tds(self, values: Sequence[Any], start: int = 0) -> str:
        """The TD cells of ``values`` for the columns from ``start`` on (rows assembled by the caller)."""
        return "".join([f(v) for f, v in zip(self._formatters[start:start + len(values)], values, strict=True)])

    def rows(self, rows: Iterable[Sequence[Any]]) -> str:
        """TRs of ``rows`` (each a sequence of values in column order; None = null)."""
        fmts = self._formatters
        return "".join(
            "<TR>" + "".join([f(v) for f, v in zip(fmts, row, strict=True)]) + "</TR>\n" for row in rows
        )

    def tail(self) -> str:
        return "    </TABLEDATA>\n   </DATA>\n  </TABLE>\n </RESOURCE>\n</VOTABLE>\n"

"""CSV answers: one line per queried name, every property with its origin and confidence.

Header: ``query,status,main_id``, then per property ``NAME,NAME.origin,NAME.confidence``
and its error column name when it has one (``V,V.origin,V.confidence,e_V``).  Unset cells
are empty; origins are catalogue strings and confidences names, as in JSON; RAJ2000/DEJ2000
are sexagesimal strings, as declared.  Not-found and ambiguous names get a line with only
``query``, ``status`` (and nothing else).  Quoting is the ``csv`` module's minimal quoting.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from getstar.errors import GetStarError
from getstar.formats._common import PropertyReader, confidence_name, no_surrogates, origin_name, readers
from getstar.formats.model import Answer, Meta
from getstar.properties import PROPERTIES, Property

__all__ = ["MEDIA_TYPE", "header", "write_csv", "write_csv_error"]

MEDIA_TYPE = "text/csv; charset=utf-8"

_CACHE: dict[Any, tuple[list[str], list[PropertyReader]]] = {}


def _layout(props: Sequence[Property]) -> tuple[list[str], list[PropertyReader]]:
    key: Any = id(props) if props is PROPERTIES else tuple(p.name for p in props)
    hit = _CACHE.get(key)
    if hit is None:
        head = ["query", "status", "main_id"]
        for p in props:
            head += [p.name, f"{p.name}.origin", f"{p.name}.confidence"]
            if p.error is not None:
                head.append(p.error.name)
        hit = _CACHE[key] = (head, readers(props))
    return hit


def header(props: Sequence[Property] = PROPERTIES) -> list[str]:
    return list(_layout(props)[0])


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v) if v == v else ""
    if isinstance(v, str):
        return no_surrogates(v)
    return v


def write_csv(answers: Sequence[Answer], meta: Meta, *, properties: Sequence[Property] = PROPERTIES) -> bytes:
    head, rds = _layout(properties)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(head)
    for a in answers:
        row: list[Any] = [_cell(a.query), a.status]
        if a.status == "ok" and a.star is not None:
            row.append(_cell(a.star.get("main_id")))
            for r in rds:
                v, o, c, e = r.read(a.star, a.query)
                if v is None:
                    row += ["", "", ""]
                else:
                    row += [_cell(v), origin_name(o) or "", confidence_name(c) or ""]
                if r.prop.error is not None:
                    row.append(_cell(e) if v is not None else "")
        w.writerow(row)
    return buf.getvalue().encode("utf-8")


def write_csv_error(exc: GetStarError | Exception, meta: Meta | None = None) -> bytes:
    """``status,title,detail`` and one line (the problem-document fields, as CSV)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["status", "title", "detail"])
    w.writerow([
        getattr(exc, "status_code", 500),
        getattr(exc, "title", "Internal error"),
        no_surrogates(getattr(exc, "message", None) or str(exc)),
    ])
    return buf.getvalue().encode("utf-8")

"""GetStar's tab-separated answer (``format=tsv`` on the legacy path), laid out as SearchCal's
server writes it (``sclsvrCALIBRATOR_LIST::GetTSV`` and ``vobsCDATA::Store`` with "simple" on and
column trimming off, read in JMMC-OpenDev/SearchCal):

* seven ``#`` header lines: ``# JMMC - Calibrator group``, ``#``, ``#  {header}``,
  ``#  Request parameters: …``, ``#  Server version    : …``, ``#  Generated on (UTC): …``, ``#``;
* one line of column names: per property its name, then its error column's name when it has one,
  each followed by a TAB (so the line ends with a TAB);
* one line per star found, the cells in the same order, each followed by a TAB; values in
  GetStar's spelling (``%.7lg`` numbers, ``1``/``0`` booleans, sexagesimal RAJ2000/DEJ2000);
  unset cells empty; no origin or confidence (GetStar's TSV has none);
* lines end with LF and the last star's line has no LF after it, as GetStar writes it.

Names not found are skipped, as in the VOTable.  TAB, CR and LF inside a text value would break
the layout: they are written as spaces.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from getstar.formats._common import PropertyReader, no_surrogates, utc_seconds
from getstar.formats.model import Answer, Meta
from getstar.formats.votable import getstar_text, server_version
from getstar.properties import PROPERTIES, Property

__all__ = ["MEDIA_TYPE", "write_tsv"]

#: GetStar's PHP proxy answers TSV as ``text/plain``.
MEDIA_TYPE = "text/plain; charset=UTF-8"
HEADER = "getstar software, GetStar compatible (GetStar's TSV layout)"

_LAYOUTS: dict[Any, tuple[str, list[tuple[PropertyReader, Callable[[Any], str], bool]]]] = {}
_BREAKS = str.maketrans({"\t": " ", "\r": " ", "\n": " "})


def _layout(props: Sequence[Property]) -> tuple[str, list[tuple[PropertyReader, Callable[[Any], str], bool]]]:
    key: Any = id(props) if props is PROPERTIES else tuple(p.name for p in props)
    hit = _LAYOUTS.get(key)
    if hit is None:
        names = []
        cells = []
        for p in props:
            names.append(p.name + "\t")
            if p.error is not None:
                names.append(p.error.name + "\t")
            # the reader already renders RAJ2000/DEJ2000 as sexagesimal text
            cells.append((PropertyReader(p), str if p.render else getstar_text(p), p.error is not None))
        hit = _LAYOUTS[key] = ("".join(names), cells)
    return hit


def _text(s: str) -> str:
    return no_surrogates(s.translate(_BREAKS))


def write_tsv(answers: Sequence[Answer], meta: Meta, *, properties: Sequence[Property] = PROPERTIES) -> bytes:
    head, cells = _layout(properties)
    lines = [
        "# JMMC - Calibrator group\n#\n",
        f"#  {HEADER}\n",
        f"#  Request parameters: {_text(meta.query)}\n",
        f"#  Server version    : {_text(server_version(meta))}\n",
        f"#  Generated on (UTC): {utc_seconds(meta.request_time)}\n",
        "#\n",
        head,
    ]
    rows = []
    for a in answers:
        if a.status != "ok" or a.star is None:
            continue
        out = []
        for reader, text, has_error in cells:
            v, _o, _c, e = reader.read(a.star, a.query)
            out.append((_text(text(v)) if v is not None else "") + "\t")
            if has_error:
                out.append(("%.7g" % e if e is not None else "") + "\t")  # noqa: UP031 - GetStar's %.7lg
        rows.append("".join(out))
    if rows:
        lines.append("\n")
        lines.append("\n".join(rows))
    return "".join(lines).encode("utf-8")

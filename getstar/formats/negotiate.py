"""Pick the output format from ``format=`` and the ``Accept`` header.

Formats: ``json``, ``votable`` (VOTable 1.4), ``votable11`` (GetStar's VOTable 1.1), ``csv``.

* An explicit ``format`` wins.  Aliases (case-insensitive): ``vot``/``votable1.1`` -> votable11
  (GetStar's ``format=vot``), ``votable14``/``votable1.4``/``vot14``/``xml`` -> votable,
  ``tsv`` (GetStar's other format) -> csv, and the media types themselves.  An unknown value
  is a 400 listing the valid ones; on the legacy GetStar path (``legacy=True``) it falls back
  to the default, as GetStar does ("anything else -> vot").
* Otherwise ``Accept`` (RFC 9110): each format gets the q of the most specific range that
  matches one of its media types; the highest q wins; ties go to the more specific range,
  then the earlier one in the header, then the default.  ``q=0`` excludes.  ``*/*`` or no
  header gives the default.  Nothing acceptable: 406 (legacy path: the default).
  ``text/xml`` and ``application/x-votable+xml`` mean VOTable 1.4, or 1.1 on the legacy path.
  ``application/xml`` is deliberately not mapped: browsers send it with q=0.9 and should get
  the default (JSON on ``/v1``), not XML.
"""

from __future__ import annotations

from getstar.errors import BadRequest, NotAcceptable

__all__ = ["FORMATS", "MEDIA_TYPES", "choose_format", "media_type"]

FORMATS = ("json", "votable", "votable11", "csv")

#: Content-Type of each format's success body.
MEDIA_TYPES = {
    "json": "application/json",
    "votable": "application/x-votable+xml",
    "votable11": "text/xml; charset=UTF-8",
    "csv": "text/csv; charset=utf-8",
}

_ALIASES = {
    "json": "json",
    "application/json": "json",
    "votable": "votable",
    "votable14": "votable",
    "votable1.4": "votable",
    "vot14": "votable",
    "xml": "votable",
    "application/x-votable+xml": "votable",
    "votable11": "votable11",
    "votable1.1": "votable11",
    "vot11": "votable11",
    "vot": "votable11",
    "csv": "csv",
    "text/csv": "csv",
    "tsv": "csv",
}

_ACCEPT = {
    "application/json": "json",
    "application/x-votable+xml": "votable",
    "text/xml": "votable",
    "text/csv": "csv",
}
_ACCEPT_LEGACY = {**_ACCEPT, "application/x-votable+xml": "votable11", "text/xml": "votable11"}


def media_type(fmt: str) -> str:
    return MEDIA_TYPES[fmt]


def _parse_accept(header: str) -> list[tuple[str, str, float, int]]:
    """``[(type, subtype, q, position)]``; malformed ranges are skipped."""
    out = []
    for pos, item in enumerate(header.split(",")):
        parts = item.split(";")
        mt = parts[0].strip().lower()
        if "/" not in mt:
            if mt == "*":  # old Java clients send a bare "*"
                mt = "*/*"
            else:
                continue
        typ, _, sub = mt.partition("/")
        q = 1.0
        for param in parts[1:]:
            k, _, v = param.partition("=")
            if k.strip().lower() == "q":
                try:
                    q = float(v.strip())
                except ValueError:
                    q = 0.0
                q = min(max(q, 0.0), 1.0)
        out.append((typ.strip(), sub.strip(), q, pos))
    return out


def _valid() -> str:
    return ", ".join(FORMATS)


def choose_format(
    format_param: str | None, accept_header: str | None, default: str, *, legacy: bool = False
) -> str:
    """The format to answer in (one of ``FORMATS``)."""
    if default not in FORMATS:
        raise ValueError(f"default format {default!r} is not one of {_valid()}")
    if format_param is not None and format_param.strip():
        fmt = _ALIASES.get(format_param.strip().lower())
        if fmt is not None:
            return fmt
        if legacy:
            return default
        raise BadRequest(f"unknown format {format_param.strip()[:40]!r}; valid formats: {_valid()}")
    if not accept_header or not accept_header.strip():
        return default
    ranges = _parse_accept(accept_header)
    if not ranges:
        return default
    table = _ACCEPT_LEGACY if legacy else _ACCEPT
    best: tuple[float, int, int, int] | None = None
    chosen = default
    order = [default] + [f for f in FORMATS if f != default]
    for rank, fmt in enumerate(order):
        types = [mt for mt, f in table.items() if f == fmt]
        # Most specific matching range for this format (its q applies, RFC 9110 §12.5.1).
        match: tuple[int, float, int] | None = None
        for mt in types:
            typ, sub = mt.split("/")
            for rt, rs, q, pos in ranges:
                if rt == typ and rs == sub:
                    spec = 2
                elif rt == typ and rs == "*":
                    spec = 1
                elif rt == "*" and rs == "*":
                    spec = 0
                else:
                    continue
                if match is None or spec > match[0] or (spec == match[0] and pos < match[2]):
                    match = (spec, q, pos)
        if match is None or match[1] <= 0.0:
            continue
        key = (match[1], match[0], -match[2], -rank)
        if best is None or key > best:
            best, chosen = key, fmt
    if best is None:
        if legacy:
            return default
        raise NotAcceptable(
            f"none of the accepted media types can be produced; available: "
            f"{', '.join(sorted(set(_ACCEPT)))} (or format={_valid().replace(', ', '|')})"
        )
    return chosen

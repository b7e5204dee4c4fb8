"""Output formats: JSON, VOTable 1.4, GetStar's VOTable 1.1, CSV, and GetStar's TSV (legacy path).

``render(fmt, answers, meta)`` and ``render_error(fmt, exc, meta)`` return ``(body, media
type)``; ``choose_format`` picks ``fmt`` from ``format=`` and ``Accept``.
"""

from __future__ import annotations

from collections.abc import Sequence

from getstar.errors import GetStarError
from getstar.formats import csvfmt, jsonfmt, tsv, votable
from getstar.formats.model import Answer, Meta
from getstar.formats.negotiate import FORMATS, MEDIA_TYPES, choose_format, media_type
from getstar.properties import PROPERTIES, Property

__all__ = [
    "FORMATS",
    "MEDIA_TYPES",
    "Answer",
    "Meta",
    "choose_format",
    "media_type",
    "render",
    "render_error",
]


def render(
    fmt: str, answers: Sequence[Answer], meta: Meta, *, properties: Sequence[Property] = PROPERTIES
) -> tuple[bytes, str]:
    """The answer document in ``fmt`` and its media type."""
    if fmt == "json":
        return jsonfmt.write_json(answers, meta, properties=properties), MEDIA_TYPES["json"]
    if fmt in ("votable", "votable11"):
        return votable.write_votable(answers, meta, dialect=fmt, properties=properties), MEDIA_TYPES[fmt]
    if fmt == "csv":
        return csvfmt.write_csv(answers, meta, properties=properties), MEDIA_TYPES["csv"]
    if fmt == "tsv":  # GetStar's TSV: the legacy path's format=tsv only
        return tsv.write_tsv(answers, meta, properties=properties), tsv.MEDIA_TYPE
    raise ValueError(f"unknown format {fmt!r}")


def render_error(fmt: str, exc: GetStarError | Exception, meta: Meta) -> tuple[bytes, str]:
    """An error document in ``fmt``: RFC 7807 JSON, VOTable with ``QUERY_STATUS=ERROR``, or a
    ``status,title,detail`` CSV.  (GetStar's legacy HTML 500 page is the web layer's job.)"""
    if fmt in ("votable", "votable11"):
        return votable.write_votable_error(exc, meta, dialect=fmt), MEDIA_TYPES[fmt]
    if fmt == "csv":
        return csvfmt.write_csv_error(exc, meta), MEDIA_TYPES["csv"]
    return jsonfmt.write_problem(exc, meta), jsonfmt.PROBLEM_MEDIA_TYPE

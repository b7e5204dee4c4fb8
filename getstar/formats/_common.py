"""Small helpers shared by the writers: XML escaping, dates, value extraction."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from getstar.coords import format_dec_dms, format_ra_hms
from getstar.properties import ORIGINS, Confidence, Property, storage_column

CONFIDENCE_NAMES: tuple[str, ...] = tuple(c.name for c in sorted(Confidence))
USER_ORIGIN = ORIGINS.index("USER")
HIGH = int(Confidence.HIGH)

# Characters XML 1.0 forbids (C0 controls except TAB/LF/CR, lone surrogates, U+FFFE/U+FFFF).
# They cannot be escaped either (&#1; is still illegal), so they are replaced by U+FFFD.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TEXT_SPECIAL = re.compile("[&<>\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ATTR_SPECIAL = re.compile('[&<>"\t\n\r\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]')
_SURROGATES = re.compile("[\ud800-\udfff]")


def clean_text(s: str) -> str:
    """``s`` without the characters XML 1.0 and UTF-8 cannot carry (replaced by U+FFFD)."""
    return _XML_ILLEGAL.sub("\ufffd", s)


def esc_text(s: str) -> str:
    """Escape for XML character data (clean strings are returned as they are, fast path)."""
    if _TEXT_SPECIAL.search(s) is None:
        return s
    s = _XML_ILLEGAL.sub("\ufffd", s)
    # CR would be normalised to LF by XML parsers: keep it as a character reference.
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def esc_attr(s: str) -> str:
    """Escape for a double-quoted XML attribute value (whitespace kept as references)."""
    if _ATTR_SPECIAL.search(s) is None:
        return s
    s = _XML_ILLEGAL.sub("\ufffd", s)
    return (
        s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\t", "&#9;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
    )


def no_surrogates(s: str) -> str:
    """``s`` encodable as UTF-8 (lone surrogates replaced by U+FFFD)."""
    return _SURROGATES.sub("\ufffd", s)


def utc_seconds(dt: datetime) -> str:
    """``YYYY-MM-DDThh:mm:ss`` in UTC (naive datetimes are taken as UTC), as GetStar writes."""
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S")


def utc_iso(dt: datetime) -> str:
    """ISO 8601 with an explicit UTC offset, for JSON."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC).isoformat()


def object_names(queries: Sequence[str]) -> str:
    """The names as GetStar's ``objectName``: joined by ``,``, or ``|`` if a name holds a comma
    (GetStar splits on ``|`` when present, else on ``,``)."""
    sep = "|" if any("," in q for q in queries) else ","
    return sep.join(queries)


def sexagesimal(render: str) -> Callable[[float], str | None]:
    """Formatter for degrees stored, sexagesimal written (``None`` when not representable)."""
    fmt = format_ra_hms if render == "hms" else format_dec_dms

    def f(v: Any) -> str | None:
        try:
            return fmt(float(v))
        except (TypeError, ValueError, OverflowError):
            return None

    return f


def origin_name(code: Any) -> str | None:
    """Origin code -> catalogue string (unknown codes are returned as their number)."""
    if code is None:
        return None
    try:
        return ORIGINS[code] if 0 <= code < len(ORIGINS) else str(code)
    except TypeError:
        return str(code)


def confidence_name(code: Any) -> str | None:
    if code is None:
        return None
    try:
        return CONFIDENCE_NAMES[code] if 0 <= code < len(CONFIDENCE_NAMES) else str(code)
    except TypeError:
        return str(code)


class PropertyReader:
    """Reads one property of a star as Python values: (value, origin, confidence, error).

    ``value`` is the rendered value (sexagesimal string for RAJ2000/DEJ2000, degrees for
    RA/DEC) or ``None`` when unset; ``error`` is ``None`` when unset or NaN.
    """

    __slots__ = ("prop", "name", "vcol", "ocol", "ccol", "ecol", "render", "kind")

    def __init__(self, prop: Property) -> None:
        self.prop = prop
        self.name = prop.name
        self.vcol = storage_column(prop)
        self.ocol = self.vcol + "_o"
        self.ccol = self.vcol + "_c"
        self.ecol = self.vcol + "_e" if prop.error is not None and not prop.derived_from else None
        self.render = sexagesimal(prop.render) if prop.render else None
        self.kind = prop.datatype

    def read(self, star: Mapping[str, Any], query: str) -> tuple[Any, Any, Any, Any]:
        if self.name == "TARGET_ID":
            return (query or None), USER_ORIGIN, HIGH, None
        get = star.get
        v = get(self.vcol)
        if v is None:
            return None, None, None, None
        kind = self.kind
        if self.render is not None:
            v = self.render(v)
            if v is None:
                return None, None, None, None
        elif kind == "double":
            v = float(v)
            if v != v:
                return None, None, None, None
        elif kind == "int" or kind == "long":
            v = int(v)
        elif kind == "boolean":
            v = bool(v)
        else:
            v = v if isinstance(v, str) else str(v)
            if not v:
                return None, None, None, None
        e = get(self.ecol) if self.ecol is not None else None
        if e is not None:
            e = float(e)
            if e != e:
                e = None
        o = get(self.ocol)
        c = get(self.ccol)
        return v, (None if o is None else int(o)), (None if c is None else int(c)), e


def readers(props: Sequence[Property]) -> list[PropertyReader]:
    return [PropertyReader(p) for p in props]

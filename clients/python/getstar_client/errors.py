"""Errors the client raises, read from the service's error documents.

The service answers errors as RFC 7807 JSON (``detail``, ``suggestions``, ``candidates``,
``retry_after``) or, when a VOTable was asked for, a VOTable whose ``INFO QUERY_STATUS``
holds the message; both become the same exception here.
"""

from __future__ import annotations

import json
import re
from typing import Any


class GetStarError(Exception):
    """The service answered an error (``status`` is the HTTP status; 0: no answer at all)."""

    def __init__(self, status: int, detail: str, *, title: str = "", suggestions: list[str] | None = None,
                 candidates: list[str] | None = None, retry_after: float | None = None) -> None:
        super().__init__(f"{status} {title}: {detail}" if title else f"{status}: {detail}")
        self.status = status
        self.title = title
        self.detail = detail
        self.suggestions = suggestions or []
        self.candidates = candidates or []
        self.retry_after = retry_after


class BadRequest(GetStarError):
    """400: the service could not read the query (a bad coordinate, radius, column...)."""


class NotFound(GetStarError):
    """404: the star is unknown (``suggestions`` holds close names)."""


class Ambiguous(GetStarError):
    """409: the name matches several stars (``candidates``)."""


class Unavailable(GetStarError):
    """429/503/504 after the retries: the service or SIMBAD cannot answer now."""


class Unreachable(GetStarError):
    """No answer at all: the service could not be connected to (after the retries)."""


_BY_STATUS = {400: BadRequest, 404: NotFound, 409: Ambiguous, 429: Unavailable, 503: Unavailable,
              504: Unavailable}
_INFO_ERROR = re.compile(rb'<INFO[^>]*name="(?:QUERY_STATUS|Error)"[^>]*value="(?:ERROR|([^"]*))"[^>]*?'
                         rb'(?:/>|>([^<]*)</INFO>)')


def _votable_message(body: bytes) -> str:
    m = _INFO_ERROR.search(body)
    if m is None:
        return ""
    raw = (m.group(2) or m.group(1) or b"").decode("utf-8", "replace").strip()
    return raw.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")


def error_for(status: int, content_type: str, body: bytes) -> GetStarError:
    """The exception for an error answer."""
    cls = _BY_STATUS.get(status, GetStarError)
    ctype = content_type.split(";")[0].strip().lower()
    if ctype.endswith("json"):
        try:
            doc: Any = json.loads(body)
        except ValueError:
            doc = None
        if isinstance(doc, dict):
            return cls(status, str(doc.get("detail") or doc.get("title") or ""), title=str(doc.get("title", "")),
                       suggestions=list(doc.get("suggestions") or []), candidates=list(doc.get("candidates") or []),
                       retry_after=doc.get("retry_after"))
    if "xml" in ctype:
        message = _votable_message(body)
        if message:
            return cls(status, message)
    text = body.decode("utf-8", "replace").strip()
    return cls(status, text[:500] or "no detail given")

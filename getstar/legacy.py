"""``GET /sclwsGetStarProxy.php``: JMMC GetStar's URL, answered the way GetStar answers.

VOTable 1.1 by default (``format=vot``); several names separated by ``|`` (if present)
or ``,``; unknown or ambiguous names skipped silently; ``TARGET_ID`` echoes each queried
name; when nothing is found, GetStar's HTTP 500 XHTML page whose text contains
"has not been found" (clients such as the MIRC-X pipeline test for that substring).
"""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import Response

from getstar.api import make_meta
from getstar.errors import GetStarError
from getstar.formats import render

MAX_OBJECT_IDS = 2000


def split_names(star: str) -> list[str]:
    """GetStar splits on '|' when the string has one, else on ','; tokens trimmed."""
    sep = "|" if "|" in star else ","
    return [n.strip() for n in star.split(sep) if n.strip()]


def error_page(message: str) -> Response:
    """GetStar's PHP proxy error page (HTTP 500, XHTML)."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>GetStar error</title></head><body>\n'
        f"The SearchCal Server returned the error:<hr/>{escape(message)}<hr/>"
        "If the problem still occurs, please send a feedback report.\n</body></html>\n"
    )
    return Response(body, status_code=500, media_type="text/html")


async def getstar_proxy(request: Request) -> Response:
    from getstar.app import get_state

    stars = request.query_params.getlist("star")
    star = "|".join(stars)
    names = [name for value in stars for name in split_names(value)]
    if not names or names[0].upper() in ("INTERNAL", "UNKNOWN", "NO_NAME") or len(names) > MAX_OBJECT_IDS:
        return error_page(f"The given star parameter is missing or invalid: '{star[:80]}'")
    names = [n.replace("_", " ") for n in names]
    answers = await get_state(request).resolver.resolve_names(names)
    found = [a for a in answers if a.status == "ok"]
    unavailable = [a.error for a in answers if a.status == "unavailable" and isinstance(a.error, GetStarError)]
    if not found and unavailable:
        raise unavailable[0]  # SIMBAD cannot be asked now: 503/504 with Retry-After, not "not found"
    if not found:
        if len(names) == 1:
            return error_page(f"Star named '{names[0][:80]}' has not been found in CDS SIMBAD")
        return error_page(f"None of the {len(names)} stars named '{star[:80]}' has been found in CDS SIMBAD "
                          "(each has not been found)")
    fmt = "csv" if request.query_params.get("format") == "tsv" else "votable11"
    body, _media = render(fmt, found, await make_meta(request))
    return Response(body, media_type="text/plain" if fmt == "csv" else "text/xml")

"""``GET /sclwsGetStarProxy.php``: JMMC GetStar's URL, answered the way GetStar answers.

VOTable 1.1 by default (``format=vot``); several names separated by ``|`` (if present)
or ``,``; unknown or ambiguous names skipped silently; ``TARGET_ID`` echoes each queried
name; when nothing is found, GetStar's HTTP 500 XHTML page whose text contains
"has not been found" (clients such as the MIRC-X pipeline test for that substring), also
when a name is missing from the snapshot and SIMBAD cannot be asked now (then with
``Retry-After``).  A multiple system's name gives its primary component's row (the VOTable's
``INFO name="PRIMARY_COMPONENT"`` says so).
"""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import Response

from getstar.api import make_meta
from getstar.formats import render

MAX_OBJECT_IDS = 2000


def split_names(star: str) -> list[str]:
    """GetStar splits on '|' when the string has one, else on ','; tokens trimmed."""
    sep = "|" if "|" in star else ","
    return [n.strip() for n in star.split(sep) if n.strip()]


def error_page(message: str, retry_after: float | None = None) -> Response:
    """GetStar's PHP proxy error page (HTTP 500, XHTML)."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>GetStar error</title></head><body>\n'
        f"The SearchCal Server returned the error:<hr/>{escape(message)}<hr/>"
        "If the problem still occurs, please send a feedback report.\n</body></html>\n"
    )
    headers = {"Retry-After": str(max(1, round(retry_after)))} if retry_after else None
    return Response(body, status_code=500, media_type="text/html", headers=headers)


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
    if not found:
        # as GetStar answers, also when SIMBAD could not be asked (then said, with Retry-After)
        waits = [getattr(a.error, "retry_after", None) or 1.0 for a in answers if a.error is not None]
        note = " (SIMBAD could not be asked now: try again later)" if waits else ""
        if len(names) == 1:
            return error_page(f"Star named '{names[0][:80]}' has not been found in CDS SIMBAD{note}",
                              max(waits) if waits else None)
        return error_page(f"None of the {len(names)} stars named '{star[:80]}' has been found in CDS SIMBAD "
                          f"(each has not been found){note}", max(waits) if waits else None)
    fmt = "csv" if request.query_params.get("format") == "tsv" else "votable11"
    body, _media = render(fmt, found, await make_meta(request))
    return Response(body, media_type="text/plain" if fmt == "csv" else "text/xml")

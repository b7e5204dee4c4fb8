"""``GET /sclwsGetStarProxy.php``: JMMC GetStar's URL, answered the way GetStar answers.

VOTable 1.1 by default (``format=vot``); several names separated by ``|`` (if present)
or ``,``; unknown or ambiguous names skipped silently; ``TARGET_ID`` echoes each queried
name; when nothing is found, GetStar's HTTP 500 XHTML page whose text contains
"has not been found" (clients such as the MIRC-X pipeline test for that substring), also
when a name is missing from the snapshot and SIMBAD cannot be asked now (then with
``Retry-After``, not cached).  A multiple system's name gives its primary component's row
(the VOTable's ``INFO name="PRIMARY_COMPONENT"`` says so).

Same caps as ``/v1/stars`` (names per request, characters per name: over them, a 400 page),
no suggestions (GetStar shows none), and found answers cached like ``/v1/stars``'.
"""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import Response

from cache import CachedAnswer
from getstar.api import UncachedAnswer, make_meta, render_off_loop, seconds_until_retry
from getstar.httpcache import cache_key, etag_for, respond

#: Characters per name at most (as ``/v1/stars``).
MAX_NAME_CHARS = 200


def split_names(star: str) -> list[str]:
    """GetStar splits on '|' when the string has one, else on ','; tokens trimmed."""
    sep = "|" if "|" in star else ","
    return [n.strip() for n in star.split(sep) if n.strip()]


def error_page(message: str, status: int = 500, retry_after: int | None = None) -> Response:
    """GetStar's PHP proxy error page (HTTP 500, XHTML); 400 for a request over our caps;
    ``retry_after`` when SIMBAD could not be asked (not found for now)."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>GetStar error</title></head><body>\n'
        f"The SearchCal Server returned the error:<hr/>{escape(message)}<hr/>"
        "If the problem still occurs, please send a feedback report.\n</body></html>\n"
    )
    headers = {"Retry-After": str(retry_after), "Cache-Control": f"max-age={retry_after}"} if retry_after else None
    return Response(body, status_code=status, media_type="text/html", headers=headers)


class NothingFound(Exception):  # noqa: N818 - not an error of ours: GetStar's answer for unknown names
    """No name found; ``retry_after`` when SIMBAD could not be asked about some (never cached then)."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


async def getstar_proxy(request: Request) -> Response:
    from getstar.app import get_state

    state = get_state(request)
    stars = request.query_params.getlist("star")
    star = "|".join(stars)
    names = [name for value in stars for name in split_names(value)]
    if not names or names[0].upper() in ("INTERNAL", "UNKNOWN", "NO_NAME"):
        return error_page(f"The given star parameter is missing or invalid: '{star[:80]}'")
    if len(names) > state.settings.max_names:
        return error_page(f"At most {state.settings.max_names} stars per request, got {len(names)}", 400)
    if any(len(n) > MAX_NAME_CHARS for n in names):
        return error_page(f"A star name is longer than {MAX_NAME_CHARS} characters", 400)
    names = [n.replace("_", " ") for n in names]
    fmt = "csv" if request.query_params.get("format") == "tsv" else "votable11"
    key = cache_key(state.snapshot, fmt, request)
    answer = state.cache.get_memory(key)
    if answer is None:
        try:
            answer = await state.cache.fill(key, lambda: _answer(request, names, star, fmt, key))
        except UncachedAnswer as partial:
            headers = {"Cache-Control": f"max-age={partial.retry_after}", "Retry-After": str(partial.retry_after)}
            return Response(partial.body, media_type=partial.media_type, headers=headers)
        except NothingFound as nothing:
            return error_page(nothing.message, retry_after=nothing.retry_after)
    return respond(request, answer, state.settings.http_max_age)


async def _answer(request: Request, names: list[str], star: str, fmt: str, key: str) -> CachedAnswer:
    from getstar.app import get_state

    answers = await get_state(request).resolver.resolve_names(names, suggest=False)
    found = [a for a in answers if a.status == "ok"]
    wait = seconds_until_retry(answers)  # SIMBAD could not be asked about some names now
    if not found:
        # as GetStar answers, also when SIMBAD could not be asked (then said, with Retry-After)
        note = " (SIMBAD could not be asked now: try again later)" if wait else ""
        if len(names) == 1:
            raise NothingFound(f"Star named '{names[0][:80]}' has not been found in CDS SIMBAD{note}", wait)
        raise NothingFound(f"None of the {len(names)} stars named '{star[:80]}' has been found in CDS SIMBAD "
                           f"(each has not been found){note}", wait)
    body, _media = await render_off_loop(fmt, found, await make_meta(request))
    media_type = "text/plain" if fmt == "csv" else "text/xml"
    if wait is not None:
        raise UncachedAnswer(body, media_type, wait)  # SIMBAD could not be asked about a name: ask again later
    return CachedAnswer(body, media_type, 200, etag_for(key))

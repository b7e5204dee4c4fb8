"""``GET /sclwsGetStarProxy.php``: JMMC GetStar's URL, answered the way GetStar answers.

VOTable 1.1 by default (``format=vot``); several names separated by ``|`` (if present)
or ``,``; unknown or ambiguous names skipped silently; ``TARGET_ID`` echoes each queried
name; when nothing is found, GetStar's HTTP 500 XHTML page whose text contains
"has not been found" (clients such as the MIRC-X pipeline test for that substring).

Same caps as ``/v1/stars`` (names per request, characters per name: over them, a 400 page),
no suggestions (GetStar shows none), and found answers cached like ``/v1/stars``'.
"""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import Response

from cache import CachedAnswer
from getstar.api import UncachedAnswer, make_meta, render_off_loop
from getstar.errors import GetStarError
from getstar.httpcache import cache_key, etag_for, respond

#: Characters per name at most (as ``/v1/stars``).
MAX_NAME_CHARS = 200


def split_names(star: str) -> list[str]:
    """GetStar splits on '|' when the string has one, else on ','; tokens trimmed."""
    sep = "|" if "|" in star else ","
    return [n.strip() for n in star.split(sep) if n.strip()]


def error_page(message: str, status: int = 500) -> Response:
    """GetStar's PHP proxy error page (HTTP 500, XHTML); 400 for a request over our caps."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<html xmlns="http://www.w3.org/1999/xhtml"><head><title>GetStar error</title></head><body>\n'
        f"The SearchCal Server returned the error:<hr/>{escape(message)}<hr/>"
        "If the problem still occurs, please send a feedback report.\n</body></html>\n"
    )
    return Response(body, status_code=status, media_type="text/html")


class NothingFound(Exception):  # noqa: N818 - not an error of ours: GetStar's answer for unknown names
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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
            return Response(partial.body, media_type=partial.media_type, headers={"Cache-Control": "no-store"})
        except NothingFound as nothing:
            return error_page(nothing.message)
    return respond(request, answer, state.settings.http_max_age)


async def _answer(request: Request, names: list[str], star: str, fmt: str, key: str) -> CachedAnswer:
    from getstar.app import get_state

    answers = await get_state(request).resolver.resolve_names(names, suggest=False)
    found = [a for a in answers if a.status == "ok"]
    unavailable = [a.error for a in answers if a.status == "unavailable" and isinstance(a.error, GetStarError)]
    if not found and unavailable:
        raise unavailable[0]  # SIMBAD cannot be asked now: 503/504 with Retry-After, not "not found"
    if not found:
        if len(names) == 1:
            raise NothingFound(f"Star named '{names[0][:80]}' has not been found in CDS SIMBAD")
        raise NothingFound(f"None of the {len(names)} stars named '{star[:80]}' has been found in CDS SIMBAD "
                           "(each has not been found)")
    body, _media = await render_off_loop(fmt, found, await make_meta(request))
    media_type = "text/plain" if fmt == "csv" else "text/xml"
    if unavailable:
        raise UncachedAnswer(body, media_type)  # SIMBAD was down for one of the names: ask again later
    return CachedAnswer(body, media_type, 200, etag_for(key))

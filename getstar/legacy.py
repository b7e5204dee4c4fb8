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

``format=tsv`` answers GetStar's tab-separated layout (``formats.tsv``); any other ``format`` is the
VOTable.  For one name, GetStar's user values (``V``, ``e_V`` … ``SP_TYPE``, ``getstar.usermags``)
replace the catalogue's with origin ``USER`` and are echoed as PARAMs, and the answer carries
GetStar's ``INFO name="LOG"`` (unless ``diagnose=false``).  ``scenario`` and ``forceUpdate`` are
read and echoed: getstar has no VizieR scenario to run (a name the snapshot lacks is asked of
SIMBAD whatever they say).
"""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import Response

from cache import CachedAnswer
from getstar import usermags
from getstar.answers import RENDER_INLINE_MAX, make_meta, render_off_loop, seconds_until_retry, until
from getstar.coords import format_dec_dms, format_ra_hms
from getstar.errors import BadRequest, GetStarError
from getstar.formats import Answer
from getstar.formats._common import utc_iso
from getstar.formats.model import GetStarParams
from getstar.httpcache import cache_key, etag_for, respond
from getstar.logs import OUTCOME_KEY
from getstar.offload import admitted, off_loop
from getstar.properties import BY_NAME
from getstar.state import get_state

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


async def error_document(request: Request, exc: GetStarError, headers: dict[str, str] | None) -> Response:
    """The legacy path's error document (``getstar.handlers``): GetStar's page, with our status."""
    page = error_page(exc.message, exc.status_code)
    page.headers.update(headers or {})
    return page


def mark_outcome(request: Request, outcome: str) -> None:
    """GetStar answers "no such star" and a missing ``star`` with an HTTP 500 page (kept for its
    clients); tell the request log and /metrics what this 500 stands for (``getstar.logs``:
    status labels ``500-not-found``, ``500-bad-request``, ``500-simbad-unavailable``)."""
    request.scope.setdefault("state", {})[OUTCOME_KEY] = outcome


class NothingFound(Exception):  # noqa: N818 - not an error of ours: GetStar's answer for unknown names
    """No name found; ``retry_after`` when SIMBAD could not be asked about some (never cached then)."""

    def __init__(self, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


async def getstar_proxy(request: Request) -> Response:
    state = get_state(request)
    stars = request.query_params.getlist("star")
    star = "|".join(stars)
    names = [name for value in stars for name in split_names(value)]
    if not names or names[0].upper() in ("INTERNAL", "UNKNOWN", "NO_NAME"):
        mark_outcome(request, "bad-request")
        return error_page(f"The given star parameter is missing or invalid: '{star[:80]}'")
    if len(names) > state.settings.max_names:
        return error_page(f"At most {state.settings.max_names} stars per request, got {len(names)}", 400)
    if any(len(n) > MAX_NAME_CHARS for n in names):
        return error_page(f"A star name is longer than {MAX_NAME_CHARS} characters", 400)
    names = [n.replace("_", " ") for n in names]
    fmt = "tsv" if request.query_params.get("format") == "tsv" else "votable11"
    try:
        options = _options(request, fmt)
        user = usermags.parse(request.query_params)
    except BadRequest as bad:
        return error_page(bad.message, 400)
    key = cache_key(state.snapshot, fmt, request)
    answer = state.cache.get_memory(key)
    if answer is None:
        try:
            answer = await state.cache.fill(key, lambda: _answer(request, names, star, fmt, key, options, user))
        except NothingFound as nothing:
            # SIMBAD could not be asked: a failing dependency, which alerts must still see
            mark_outcome(request, "simbad-unavailable" if nothing.retry_after else "not-found")
            return error_page(nothing.message, retry_after=nothing.retry_after)
    return await respond(request, answer, state.settings.http_max_age)


def _flag(request: Request, name: str, default: bool) -> bool:
    text = (request.query_params.get(name) or "").strip().lower()
    if not text:
        return default
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise BadRequest(f"{name} must be true or false, got {text[:40]!r}")


def _options(request: Request, fmt: str) -> GetStarParams:
    """GetStar's command options as the request gives them (PHP proxy: ``scenario`` false by default)."""
    return GetStarParams(format="tsv" if fmt == "tsv" else "vot", diagnose=_flag(request, "diagnose", True),
                         force_update=_flag(request, "forceUpdate", False), scenario=_flag(request, "scenario", False))


def _log_line(meta_time: str, text: str) -> str:
    return f"Info  - {meta_time} - getstar - {text}"


def _found_line(a: Answer, snapshot: str) -> str:
    """What GetStar logs for the star found: position, motion, parallax, V, types, main identifier."""
    s = a.star or {}

    def num(name: str, fmt: str = "%.1f", suffix: str = "") -> str:
        v = s.get(BY_NAME[name].column + suffix)
        return "nan" if v is None else fmt % v

    def text(name: str) -> str:
        return str(s.get(BY_NAME[name].column) or "")

    ra, dec = s.get(BY_NAME["RAJ2000"].column), s.get(BY_NAME["DEJ2000"].column)
    pos = f"{format_ra_hms(ra)} {format_dec_dms(dec)}" if ra is not None and dec is not None else "?"
    return (f"GetStar[{a.query}]: found in snapshot {snapshot}: RA/DEC='{pos}' "
            f"pmRA/pmDEC=({num('pmRa')} {num('pmDec')}) plx={num('plx', '%.2f')}({num('plx', '%.2f', '_e')}) "
            f"V={num('V', '%.3f')} spType='{text('SpType')}' objTypes='{text('ObjTypes')}' "
            f"mainID='{s.get('main_id') or ''}'")


async def _answer(request: Request, names: list[str], star: str, fmt: str, key: str,
                  options: GetStarParams, user: usermags.UserValues) -> CachedAnswer:
    async with admitted(len(names) > RENDER_INLINE_MAX):  # many stars: their rows, a few at once
        return await _document(request, names, star, fmt, key, options, user)


async def _document(request: Request, names: list[str], star: str, fmt: str, key: str,
                    options: GetStarParams, user: usermags.UserValues) -> CachedAnswer:
    answers = await get_state(request).resolver.resolve_names(names, suggest=False)
    found = [a for a in answers if a.status == "ok"]
    wait = seconds_until_retry(answers)  # SIMBAD could not be asked about some names now
    if not found:
        # GetStar's answer even when SIMBAD cannot be asked (jmal and the MIRC-X pipeline read "has not been
        # found"; a 503 would make them retry a typo): what we know, that SIMBAD was not asked, and when to retry
        note = " (SIMBAD could not be asked now: try again later)" if wait else ""
        if len(names) == 1:
            raise NothingFound(f"Star named '{names[0][:80]}' has not been found in CDS SIMBAD{note}", wait)
        raise NothingFound(f"None of the {len(names)} stars named '{star[:80]}' has been found in CDS SIMBAD "
                           f"(each has not been found){note}", wait)
    meta = await make_meta(request)
    meta.getstar = options
    options.object_name = star  # GetStar's objectName: the star parameter as sent
    if len(names) == 1:  # GetStar: user values and the log for one star asked only
        when = utc_iso(meta.request_time)
        star_row, options.user, changes = usermags.apply(found[0].star or {}, user)
        if changes:  # as GetStar: the diameters follow the user's values
            star_row = await off_loop(usermags.recompute_diameters, star_row)
            changes.append(usermags.recomputed_line(star_row))
        found = [Answer(found[0].query, "ok", star_row, identifiers=found[0].identifiers,
                        separation_arcsec=found[0].separation_arcsec)]
        if options.diagnose:
            options.log = [_log_line(when, line) for line in [_found_line(found[0], meta.snapshot_version), *changes]]
    body, media_type = await render_off_loop(fmt, found, meta)
    # with names SIMBAD could not be asked about, kept only until it may be asked again
    return CachedAnswer(body, media_type, 200, "" if wait else etag_for(key), retry_at=until(wait))

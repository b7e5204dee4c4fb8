"""``GET /v1/stars``: names or a position in, answers in the negotiated format out."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from cache import CachedAnswer
from getstar import coords
from getstar.answers import RENDER_INLINE_MAX, cone_admitted, make_meta, render_off_loop, seconds_until_retry, until
from getstar.errors import AmbiguousName, BadRequest, GetStarError, StarNotFound
from getstar.formats import choose_format, render_error
from getstar.httpcache import cache_key, etag_for, header, not_modified, respond
from getstar.metrics import NOT_MODIFIED
from getstar.offload import admitted
from getstar.resolver import Answer, ConeQuery
from getstar.state import State, get_state

DEFAULT_LIMIT = 10
MAX_LIMIT = 10_000


def format_param(request: Request) -> str | None:
    """``format=``; without parsing the query when no key can be 'format' (a cached answer's
    request parses no query at all: starlette's parsing is ~5 % of its time, and most names
    are %-encoded in their values, where they do not matter)."""
    raw: bytes = request.scope["query_string"]
    if b"format" not in raw and b"%" not in raw:  # no key spells or %-encodes 'format'
        return None
    for part in raw.split(b"&"):
        key = part.partition(b"=")[0]
        if key == b"format" or b"%" in key or b"+" in key:  # it is, or may decode to, 'format'
            return request.query_params.get("format")
    return None


def requested_names(request: Request) -> list[str]:
    """``name=`` (repeatable) and ``names=A|B|C``, trimmed, empty ones dropped."""
    names = list(request.query_params.getlist("name"))
    for packed in request.query_params.getlist("names"):
        names += packed.split("|")
    return [n.strip() for n in names if n.strip()]


def _limit(text: str | None) -> int:
    if text is None or not text.strip():
        return DEFAULT_LIMIT
    try:
        value = int(text)
    except ValueError:
        raise BadRequest(f"limit must be a whole number, got {text[:40]!r}") from None
    if not 1 <= value <= MAX_LIMIT:
        raise BadRequest(f"limit must be between 1 and {MAX_LIMIT}, got {value}")
    return value


#: Set in the scope by ``cached_stars`` on a miss, as (format, cache key): the handler goes on to
#: compute the answer without negotiating, keying and looking in the memory cache again.
MISSED = "getstar.cache_missed"


async def stars(request: Request) -> Response:
    """Answers are cached whole, keyed by snapshot version, path, query and format."""
    state = get_state(request)
    missed: tuple[str, str] | None = request.scope.get(MISSED)
    if missed is None:
        fmt, key = _format_and_key(request, state)
        held = await _held(request, state, key)
        if held is not None:
            return held
    else:
        fmt, key = missed
    answer = await state.cache.fill(key, lambda: _answer(request, fmt, key))
    return await respond(request, answer, state.settings.http_max_age)


async def cached_stars(request: Request) -> Response | None:
    """The answer when the memory cache holds it (or a 304), else None, the request marked
    ``MISSED``: ``getstar.cached_lane`` answers with it before starlette's router."""
    state = get_state(request)
    try:
        fmt, key = _format_and_key(request, state)
    except GetStarError:
        return None  # the handler answers the error, in the request's format
    held = await _held(request, state, key)
    if held is None:
        request.scope[MISSED] = (fmt, key)
    return held


def _format_and_key(request: Request, state: State) -> tuple[str, str]:
    """The negotiated format and the answer's cache key."""
    fmt = choose_format(format_param(request), header(request, b"accept"), "json")
    return fmt, cache_key(state.snapshot, fmt, request)


async def _held(request: Request, state: State, key: str) -> Response | None:
    """A 304 when the client holds the answer, the answer when the memory cache does, else None."""
    etag = not_modified(request, key)
    if etag is not None:
        NOT_MODIFIED.inc()
        return Response(status_code=304, headers={"ETag": etag,
                                                  "Cache-Control": f"public, max-age={state.settings.http_max_age}"})
    answer = state.cache.get_memory(key)
    if answer is None:
        return None
    return await respond(request, answer, state.settings.http_max_age)


async def _answer(request: Request, fmt: str, key: str) -> CachedAnswer:
    """The answer to cache: the document, or the 4xx error document (a fact of the snapshot too)."""
    try:
        body, media_type, wait = await _compute(request, fmt)
        return CachedAnswer(body, media_type, 200, "" if wait else etag_for(key), retry_at=until(wait))
    except GetStarError as exc:
        if exc.status_code >= 500:
            raise
        body, media_type = render_error(fmt, exc, await make_meta(request))
        if exc.retry_after:  # a not-found only for now (SIMBAD could not be asked): kept until it may be
            return CachedAnswer(body, media_type, exc.status_code, retry_at=until(max(1, round(exc.retry_after))))
        return CachedAnswer(body, media_type, exc.status_code, etag_for(key))


async def _compute(request: Request, fmt: str) -> tuple[bytes, str, int | None]:
    state = get_state(request)
    params = request.query_params
    names = requested_names(request)
    has_position = "ra" in params or "dec" in params
    if names and has_position:
        raise BadRequest("give either name(s) or ra/dec, not both")
    if has_position:
        if "ra" not in params or "dec" not in params:
            raise BadRequest("a position needs both ra and dec")
        query = ConeQuery(
            ra=coords.parse_ra(params["ra"]),
            dec=coords.parse_dec(params["dec"]),
            radius_deg=coords.parse_radius(params.get("radius"), state.settings.default_cone_radius_deg,
                                           maximum=state.settings.max_cone_radius_deg),
            limit=_limit(params.get("limit")),
            epoch=coords.parse_epoch(params.get("epoch")),
        )
        async with cone_admitted(state.resolver, query) as answers:
            return await _rendered(request, fmt, answers)
    elif names:
        if len(names) > state.settings.max_names:
            raise BadRequest(f"at most {state.settings.max_names} names per request, got {len(names)}")
        if any(len(n) > 200 for n in names):
            raise BadRequest("a name is longer than 200 characters")
        epoch = coords.parse_epoch(params.get("epoch"))
        async with admitted(len(names) > RENDER_INLINE_MAX):
            answers = await state.resolver.resolve_names(names, epoch=epoch)
            if len(answers) == 1 and answers[0].status == "not_found":
                # 404 with what is known; when SIMBAD could not be asked, the note and Retry-After
                miss = answers[0]
                raise StarNotFound(miss.query, miss.suggestions, note=getattr(miss.error, "message", None),
                                   retry_after=seconds_until_retry(answers))
            if len(answers) == 1 and answers[0].status == "ambiguous":
                raise AmbiguousName(answers[0].query, answers[0].candidates)
            return await _rendered(request, fmt, answers)
    raise BadRequest("give name=NAME (repeatable), names=A|B|C, or ra=…&dec=…")


async def _rendered(request: Request, fmt: str, answers: list[Answer]) -> tuple[bytes, str, int | None]:
    """The document, and the wait when SIMBAD could not be asked about a name."""
    body, media_type = await render_off_loop(fmt, answers, await make_meta(request))
    return body, media_type, seconds_until_retry(answers)

"""HTTP-level caching: ETags from the snapshot version and the query, 304s, pre-compressed bodies.

An answer is a pure function of (snapshot version, path, query, format), so its ETag is
known before any database work: ``If-None-Match`` is answered 304 from memory.  Bodies
are compressed once per cached answer and coding (brotli when the package is installed,
else gzip), on the first request that accepts it, not per request.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import math
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import Response

from cache import CachedAnswer
from getstar.offload import lane_within, run_in_lane

COMPRESS_MIN_BYTES = 1024
#: Bodies larger than this are compressed in the CPU lane, not on the event loop (a 2,000-star
#: answer is megabytes: tens of milliseconds of brotli that cached names must not wait for; a
#: one-star VOTable, ~130 kB, is a millisecond or two, inline).
COMPRESS_OFF_LOOP_BYTES = 256 * 1024
#: Seconds a big body waits for the lane to be compressed; then it is sent as it is (identity
#: is always an acceptable coding), rather than queue behind other big requests.
COMPRESS_WAIT = 1.0

try:  # brotli is optional: gzip always works
    import brotli as _brotli
except ImportError:  # pragma: no cover - depends on the environment
    _brotli = None


#: Per path, the query parameters that change the answer (the format is keyed apart): any other
#: parameter is ignored, so ``?name=Vega&x=1``, ``&x=2``... are one cache entry, not one each.
ANSWER_PARAMS: dict[str, tuple[str, ...]] = {
    "/v1/stars": ("name", "names", "ra", "dec", "radius", "epoch", "limit"),
    # GetStar's options and user values change the answer (format is keyed apart)
    "/sclwsGetStarProxy.php": ("star", "diagnose", "scenario", "forceUpdate", "V", "e_V", "J", "e_J", "H", "e_H",
                               "K", "e_K", "SP_TYPE"),
    # /scs keys its answers by its parameters as read (``scs.canonical``): they are read in any case
}


_WANTED = {path: frozenset(k.encode() for k in keys) for path, keys in ANSWER_PARAMS.items()}


def canonical_query(request: Request) -> str:
    """The answer-defining parameters of the request, as sent, in their order (a few
    microseconds: it keys every cached answer, so no full query parsing on the hot path)."""
    scope = request.scope
    raw: bytes = scope["query_string"]
    wanted = _WANTED.get(scope["path"])
    if wanted is None or (b"&" not in raw and raw.partition(b"=")[0] in wanted):
        return raw.decode("latin-1")  # the usual one-parameter query is kept as it is
    kept = []
    for part in raw.split(b"&"):
        key = part.partition(b"=")[0]
        if b"%" in key or b"+" in key:  # an encoded key: let starlette decode the whole query
            params = request.query_params
            return urlencode([(k, v) for k in ANSWER_PARAMS[scope["path"]] for v in params.getlist(k)],
                             quote_via=quote)
        if key in wanted:
            kept.append(part)
    return b"&".join(kept).decode("latin-1")


def header(request: Request, name: bytes) -> str | None:
    """The first ``name`` header (lower-case, as ASGI gives them) as text, or None.  Why not
    ``request.headers.get``: for an absent header it raises and catches a KeyError, ~1 µs, and a
    cached answer asks for three headers that are usually absent."""
    for key, value in request.scope["headers"]:
        if key == name:
            return value.decode("latin-1")  # type: ignore[no-any-return]
    return None


def cache_key(snapshot: str, fmt: str, request: Request) -> str:
    return answer_key(snapshot, fmt, request.scope["path"], canonical_query(request))


def answer_key(snapshot: str, fmt: str, path: str, query: str) -> str:
    """The key of a cached answer (and of its ETag), from its answer-defining query."""
    return f"{snapshot}|{fmt}|{path}|{query}"


def etag_for(key: str) -> str:
    return '"' + hashlib.blake2b(key.encode(), digest_size=12).hexdigest() + '"'


def not_modified(request: Request, key: str) -> str | None:
    """The ETag to answer 304 with, when the client already holds this answer."""
    held = header(request, b"if-none-match")
    if not held:
        return None
    etag = etag_for(key)
    tags = {t.strip().removeprefix("W/") for t in held.split(",")}
    # '*' is not honoured: whether a representation exists (a star or a 404) is only known
    # after the database is asked, and a 304 must never stand for a 404
    return etag if etag in tags else None


def _compress_once(answer: CachedAnswer, coding: str) -> bytes:
    """The answer's body in ``coding``, compressed on first use and kept (in the lane, one at a
    time: requests that queued for the same answer find it compressed)."""
    body = answer.encoded.get(coding)
    if body is None:
        body = answer.encoded[coding] = _compress(answer.body, coding)
    return body


def _compress(body: bytes, coding: str) -> bytes:
    if coding == "br" and _brotli is not None:
        return bytes(_brotli.compress(body, quality=5))
    return gzip.compress(body, compresslevel=6)


def _accepted_coding(request: Request, size: int) -> str:
    if size < COMPRESS_MIN_BYTES:
        return ""
    accepted = header(request, b"accept-encoding")
    if not accepted:
        return ""
    codings = accepted_codings(accepted)
    if _brotli is not None and codings.get("br", 0) > 0:
        return "br"
    return "gzip" if codings.get("gzip", 0) > 0 else ""


@functools.lru_cache(maxsize=256)
def accepted_codings(header: str) -> dict[str, float]:
    """``Accept-Encoding`` as coding -> q (``br;q=0`` refuses brotli; ``*`` stands for the rest)."""
    codings: dict[str, float] = {}
    for item in header[:1000].split(","):
        name, *params = (p.strip() for p in item.split(";"))
        q = 1.0
        for param in params:
            k, _, v = param.partition("=")
            if k.strip().lower() == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        if name:
            codings[name.lower()] = q
    star = codings.pop("*", None)
    if star is not None:
        for coding in ("br", "gzip"):
            codings.setdefault(coding, star)
    return codings


async def respond(request: Request, answer: CachedAnswer, max_age: int) -> Response:
    """The cached answer as a response; header lines are encoded once per answer and coding."""
    coding = _accepted_coding(request, len(answer.body))
    if coding:
        body = answer.encoded.get(coding)
        if body is None:  # compressed once, on the first request that accepts the coding
            if len(answer.body) <= COMPRESS_OFF_LOOP_BYTES:
                body = _compress_once(answer, coding)
            elif (lane := await lane_within(COMPRESS_WAIT)) is not None:
                body = await run_in_lane(lane, _compress_once, answer, coding)
            else:
                coding, body = "", answer.body
    else:
        body = answer.body
    response = Response.__new__(Response)
    response.status_code = answer.status
    response.background = None
    response.body = body
    if answer.retry_at:
        response.raw_headers = _until_retry_headers(answer, coding, len(body))
    else:
        response.raw_headers = _raw_headers(answer.media_type, answer.etag, max_age, coding, len(body))
    return response


def _until_retry_headers(answer: CachedAnswer, coding: str, length: int) -> list[tuple[bytes, bytes]]:
    """An answer naming stars SIMBAD could not be asked about: kept by no one longer than until
    SIMBAD may be asked again, said by ``Retry-After``; no ETag (a 304 must not stand for it later)."""
    wait = str(max(1, math.ceil(answer.seconds_left()))).encode()
    headers = [
        (b"content-type", answer.media_type.encode("latin-1")),
        (b"content-length", str(length).encode()),
        (b"cache-control", b"max-age=" + wait),
        (b"retry-after", wait),
        (b"vary", b"Accept, Accept-Encoding, Origin"),
    ]
    if coding:
        headers.append((b"content-encoding", coding.encode()))
    return headers


@functools.lru_cache(maxsize=4096)
def _raw_headers(media_type: str, etag: str, max_age: int, coding: str, length: int) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-type", media_type.encode("latin-1")),
        (b"content-length", str(length).encode()),
        (b"etag", etag.encode("latin-1")),
        (b"cache-control", f"public, max-age={max_age}".encode()),
        # Origin: cross-origin requests get CORS headers (getstar.cors), so a shared cache must key on it
        (b"vary", b"Accept, Accept-Encoding, Origin"),
    ]
    if coding:
        headers.append((b"content-encoding", coding.encode()))
    return headers

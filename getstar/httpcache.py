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

from starlette.requests import Request
from starlette.responses import Response

from cache import CachedAnswer

COMPRESS_MIN_BYTES = 1024

try:  # brotli is optional: gzip always works
    import brotli as _brotli
except ImportError:  # pragma: no cover - depends on the environment
    _brotli = None


def cache_key(snapshot: str, fmt: str, request: Request) -> str:
    scope = request.scope  # not request.url: building a URL object costs more than the lookup
    return f"{snapshot}|{fmt}|{scope['path']}|{scope['query_string'].decode('latin-1')}"


def etag_for(key: str) -> str:
    return '"' + hashlib.blake2b(key.encode(), digest_size=12).hexdigest() + '"'


def not_modified(request: Request, key: str) -> str | None:
    """The ETag to answer 304 with, when the client already holds this answer."""
    header = request.headers.get("if-none-match")
    if not header:
        return None
    etag = etag_for(key)
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return etag if etag in tags or "*" in tags else None


def _compress(body: bytes, coding: str) -> bytes:
    if coding == "br" and _brotli is not None:
        return bytes(_brotli.compress(body, quality=5))
    return gzip.compress(body, compresslevel=6)


def _accepted_coding(request: Request, size: int) -> str:
    if size < COMPRESS_MIN_BYTES:
        return ""
    accepted = request.headers.get("accept-encoding", "")
    if _brotli is not None and "br" in accepted:
        return "br"
    return "gzip" if "gzip" in accepted else ""


def respond(request: Request, answer: CachedAnswer, max_age: int) -> Response:
    """The cached answer as a response; header lines are encoded once per answer and coding."""
    coding = _accepted_coding(request, len(answer.body))
    if coding:
        body = answer.encoded.get(coding)
        if body is None:  # compressed once, on the first request that accepts the coding
            body = answer.encoded[coding] = _compress(answer.body, coding)
    else:
        body = answer.body
    response = Response.__new__(Response)
    response.status_code = answer.status
    response.background = None
    response.body = body
    response.raw_headers = _raw_headers(answer.media_type, answer.etag, max_age, coding, len(body))
    return response


@functools.lru_cache(maxsize=4096)
def _raw_headers(media_type: str, etag: str, max_age: int, coding: str, length: int) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-type", media_type.encode("latin-1")),
        (b"content-length", str(length).encode()),
        (b"etag", etag.encode("latin-1")),
        (b"cache-control", f"public, max-age={max_age}".encode()),
        (b"vary", b"Accept, Accept-Encoding"),
    ]
    if coding:
        headers.append((b"content-encoding", coding.encode()))
    return headers

"""CORS for the read-only API, so browser VO tools (and pages on other sites) can call it.

The data is public and read-only and the service holds no cookies or credentials, so any origin
may read it: ``Access-Control-Allow-Origin: *`` (never with credentials).  Applies to GET and HEAD
on ``READ_ONLY_PATHS`` and to their preflight (OPTIONS with ``Access-Control-Request-Method``),
answered here with 204 without touching the app.

Not for ``POST /v1/xmatch``: a batch costs up to seconds of CPU and database time; with CORS any
web page could make its visitors' browsers run batches and read the results, load that comes from
everywhere at once and cannot be told apart or turned away by address.  Scripts and servers call
it directly (CORS does not apply to them); a browser tool can send a cone or names to the
read-only API.  Its preflight gets no CORS headers, so browsers do not send the POST.

Hot path: a request without an ``Origin`` header costs nothing here: the request-log middleware
notices ``Origin`` in the pass over the headers it makes anyway for ``X-Request-ID`` (a separate
ASGI layer cost 3–4 µs per request on the 2-core machine, a few per cent of a cached answer).
"""

from __future__ import annotations

from typing import Any

#: Paths that answer any origin (GET, HEAD and their preflight).
READ_ONLY_PATHS = frozenset({
    "/v1/stars", "/sclwsGetStarProxy.php", "/scs", "/health", "/health/ready",
    "/getstarVOTableToHTML.xsl", "/v1/getstarVOTableToHTML.xsl",
})
READ_METHODS = frozenset({"GET", "HEAD"})
#: Request headers a cross-origin reader may send beyond the CORS-safelisted ones.
ALLOWED_HEADERS = "Accept, Accept-Language, Content-Language, If-None-Match, X-Request-ID"
#: Response headers a cross-origin reader may see beyond the CORS-safelisted ones.
EXPOSED_HEADERS = b"ETag, Retry-After, X-Request-ID"
#: Preflight answers are cached this long by browsers (seconds).
MAX_AGE = b"86400"

_ANY = (b"access-control-allow-origin", b"*")


async def cross_origin(app: Any, scope: Any, receive: Any, send: Any) -> None:
    """Serve a request that has an ``Origin`` header (``logs.RequestLogMiddleware`` finds it while it
    reads the request id): preflights of read-only paths answered here, their GET/HEAD answers with
    the CORS headers added, anything else untouched."""
    if scope["path"] not in READ_ONLY_PATHS:
        await app(scope, receive, send)
        return
    method = scope["method"]
    if method == "OPTIONS" and any(n == b"access-control-request-method" for n, _ in scope["headers"]):
        await send({"type": "http.response.start", "status": 204, "headers": [
            _ANY,
            (b"access-control-allow-methods", b"GET, HEAD, OPTIONS"),
            (b"access-control-allow-headers", ALLOWED_HEADERS.encode()),
            (b"access-control-max-age", MAX_AGE),
            (b"content-length", b"0"),
        ]})
        await send({"type": "http.response.body", "body": b""})
        return
    if method not in READ_METHODS:
        await app(scope, receive, send)
        return

    async def with_cors(message: Any) -> None:
        if message["type"] == "http.response.start":
            headers = [h for h in message.get("headers", ()) if h[0].lower() != b"access-control-allow-origin"]
            message = {**message, "headers": [*headers, _ANY, (b"access-control-expose-headers", EXPOSED_HEADERS)]}
        await send(message)

    await app(scope, receive, with_cors)

"""The cached answers' lane: a ``GET /v1/stars`` whose answer the memory cache holds is answered
before starlette's exception middleware, router and request/response wrappers.

Why: a cached answer is the most frequent request and the cheapest one; profiled at 32
connections, the frames it crossed on the way to ``api.stars`` and back (routing, the exception
middleware's and the route's send wrappers) were ~10 % of its CPU.  Everything that defines the
answer is ``api.stars``'s own code (``api.cached_stars``); a miss, an error or anything unusual
goes on to the application as before, and the request id, metrics, access log and CORS
(``RequestLogMiddleware``, outside this one) apply to both.  Nothing may sit between this lane
and the router: the handler reuses the format and key the lane computed on a miss.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from getstar.api import cached_stars

#: The path answered here: the one a cached answer is asked on (``app.create_app`` routes it to
#: ``api.stars``)
PATH = "/v1/stars"


class CachedAnswerLane:
    """ASGI middleware: a memory-cached ``GET /v1/stars`` answered at once, anything else passed on."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and route_path(scope) == PATH and scope["method"] == "GET":
            response = await cached_stars(Request(scope, receive))
            if response is not None:
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def route_path(scope: Any) -> str:
    """The path the router matches: without the ``root_path`` a proxy mounts the service under
    (``--root-path /getstar``: ``/getstar/v1/stars`` is ``/v1/stars``), as starlette strips it."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root):len(root) + 1] == "/":
        return path[len(root):]
    return path

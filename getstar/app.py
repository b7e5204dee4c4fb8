"""The starlette application: routes, lifespan, and the one place errors become responses."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from getstar import db
from getstar.config import Settings
from getstar.errors import GetStarError
from getstar.health import health
from getstar.resolver import Resolver


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


SNAPSHOT_VERSION_TTL = 2.0


class State:
    """What the routes share: settings, the pool, the resolver, the start time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool: asyncpg.Pool | None = None
        self.started = datetime.now(UTC)
        self._snapshot: tuple[float, str] = (0.0, "")

    @property
    def resolver(self) -> Resolver:
        if self.pool is None:
            from getstar.errors import ServiceUnavailable

            raise ServiceUnavailable("the database is not connected", retry_after=5)
        return Resolver(self.pool)

    async def snapshot_version(self) -> str:
        """The live snapshot's version, re-read at most every couple of seconds."""
        now = time.monotonic()
        if now - self._snapshot[0] > SNAPSHOT_VERSION_TTL and self.pool is not None:
            async with self.pool.acquire() as conn:
                version = await conn.fetchval(
                    "SELECT version FROM live.snapshot_info LIMIT 1"
                ) if await conn.fetchval("SELECT to_regclass('live.snapshot_info') IS NOT NULL") else ""
            self._snapshot = (now, version or "")
        return self._snapshot[1]


def get_state(request: Request) -> State:
    state: State = request.app.state.getstar
    return state


async def health_endpoint(request: Request) -> Response:
    state = get_state(request)
    return JSONResponse(await health(state.pool, state.started))


async def ready_endpoint(request: Request) -> Response:
    state = get_state(request)
    report = await health(state.pool, state.started)
    ready = report["database"].get("reachable") and report["snapshot"] is not None
    return JSONResponse({"ready": bool(ready), "snapshot": (report["snapshot"] or {}).get("version")},
                        status_code=200 if ready else 503)


def _error_format(request: Request) -> str:
    """The format the client asked for, or JSON when that itself is what was wrong."""
    from getstar.formats import choose_format

    try:
        return choose_format(request.query_params.get("format"), request.headers.get("accept"), "json")
    except GetStarError:
        return "json"


async def getstar_error_handler(request: Request, exc: Exception) -> Response:
    """The one mapping from named errors to HTTP responses, in the requested format."""
    from getstar.api import make_meta
    from getstar.formats import render_error

    assert isinstance(exc, GetStarError)
    headers = {"Retry-After": str(max(1, round(exc.retry_after)))} if exc.retry_after else None
    try:
        meta = await make_meta(request)
    except Exception:  # noqa: BLE001 - the error page must not fail because the database did
        from getstar.api import Meta, __version__

        meta = Meta(__version__, "", request.url.query, datetime.now(UTC))
    body, media_type = render_error(_error_format(request), exc, meta)
    return Response(body, status_code=exc.status_code, headers=headers, media_type=media_type)


def create_app(settings: Settings | None = None, dsn: str | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    state = State(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        target = dsn or await db.ensure_database(settings)
        state.pool = await db.create_pool(target, settings)
        try:
            yield
        finally:
            await state.pool.close()

    from getstar import api, legacy

    routes = [
        Route("/v1/stars", api.stars),
        Route("/sclwsGetStarProxy.php", legacy.getstar_proxy),
        Route("/health", health_endpoint),
        Route("/health/ready", ready_endpoint),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={GetStarError: getstar_error_handler})
    app.state.getstar = state
    return app

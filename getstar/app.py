"""The starlette application: routes, lifespan, and the one place errors become responses."""

from __future__ import annotations

import contextlib
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


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


class State:
    """What the routes share: settings, the pool, the start time."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool: asyncpg.Pool | None = None
        self.started = datetime.now(UTC)


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


async def getstar_error_handler(request: Request, exc: Exception) -> Response:
    """The one mapping from named errors to HTTP responses."""
    assert isinstance(exc, GetStarError)
    headers = {"Retry-After": str(int(exc.retry_after))} if exc.retry_after else None
    body = {"type": "about:blank", "title": exc.title, "status": exc.status_code, "detail": exc.message}
    return Response(orjson.dumps(body), status_code=exc.status_code, headers=headers,
                    media_type="application/problem+json")


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

    routes = [
        Route("/health", health_endpoint),
        Route("/health/ready", ready_endpoint),
    ]
    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={GetStarError: getstar_error_handler})
    app.state.getstar = state
    return app

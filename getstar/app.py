"""The starlette application: routes, lifespan, middleware and the error handler table."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from getstar import api, db, legacy, scs, web
from getstar.cached_lane import CachedAnswerLane
from getstar.config import Settings
from getstar.handlers import exception_handlers
from getstar.health import health, readiness
from getstar.logs import RequestLogMiddleware
from getstar.metrics import exposition, track
from getstar.offload import use_lane_share, use_short_switch_interval
from getstar.simbad.factory import make_fallback
from getstar.state import State, get_state
from getstar.xmatch.endpoint import xmatch_endpoint


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


async def health_endpoint(request: Request) -> Response:
    state = get_state(request)
    report = await health(state.probe if state.pool is not None else None, state.pool, state.started,
                          state.fallback)
    report["cache"] = {**state.cache.stats.snapshot(), "memory_entries": len(state.cache.memory),
                       "memory_bytes": state.cache.memory.bytes, "memory_max_bytes": state.cache.memory.max_bytes,
                       "single_flight_shared": state.cache.flight.shared,
                       "redis": "configured" if state.settings.redis_url else "off"}
    return JSONResponse(report)


async def ready_endpoint(request: Request) -> Response:
    state = get_state(request)
    version = await readiness(state.probe) if state.pool is not None else None
    return JSONResponse({"ready": version is not None, "snapshot": version}, status_code=200 if version else 503)


async def metrics_endpoint(request: Request) -> Response:
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)


def freeze_startup_heap() -> None:
    """Collect, then move every object alive after startup (modules, the pool, the state) out of the
    collector's sight: each full collection walked them all, in the event loop, stopping every
    request.  ``bench/hostile.py`` with the collector's pauses logged: the service's full
    collections took 55-70 ms each under the hostile mix, 15-35 ms with this (the rest is the
    big requests' own rows); known-name p99 17.0, 19.8 ms before and 15.2, 15.0 ms after (two runs
    each).  Objects frozen are never freed: only what lives as long as the worker is there then."""
    gc.collect()
    gc.freeze()


def cone_search_app() -> Starlette:
    """/scs as an application of its own: Simple Cone Search 1.03 has its own error document
    (client errors are 200 with an INFO), so its handler table writes that one."""
    return Starlette(routes=[Route("/scs", scs.cone_search)], exception_handlers=exception_handlers(scs.error_response))


def getstar_proxy_app() -> Starlette:
    """GetStar's legacy path as an application of its own: its clients read GetStar's XHTML error page."""
    return Starlette(routes=[Route("/sclwsGetStarProxy.php", legacy.getstar_proxy)],
                     exception_handlers=exception_handlers(legacy.error_document))


def create_app(settings: Settings | None = None, dsn: str | None = None) -> Starlette:
    """``dsn``: where to read (default GETSTAR_DATABASE_URL or the embedded cluster); writes go
    to ``settings.write_database_url`` when set (a primary behind standbys), else there too."""
    settings = settings or Settings.from_env()
    use_short_switch_interval()  # the loop must not wait 5 ms for the big requests' threads
    use_lane_share(settings.lane_per_client)
    state = State(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        target = dsn or await db.ensure_database(settings)
        write_target = settings.write_database_url
        state.pool = await db.create_pool(target, settings, statement_timeout=settings.db_statement_timeout)
        if write_target and write_target != target:
            state.write_pool = await db.create_pool(write_target, replace(settings, pool_min=min(1, settings.pool_min)),
                                                    statement_timeout=settings.db_statement_timeout)
        else:
            state.write_pool = state.pool
        if settings.simbad_enabled:
            state.fallback, state.shared_redis = make_fallback(settings, state.write_pool)
        await state.watch_snapshot(target, write_target)
        if settings.gc_freeze:
            freeze_startup_heap()
        try:
            yield {"getstar": state}  # starlette copies it into every request's state
        finally:
            await state.close()

    routes = [
        Route("/v1/stars", api.stars),
        Route("/metrics", metrics_endpoint),
        Route("/v1/xmatch", xmatch_endpoint, methods=["POST"]),
        Route("/sclwsGetStarProxy.php", getstar_proxy_app()),
        Route("/health", health_endpoint),
        Route("/health/ready", ready_endpoint),
        Route("/scs", cone_search_app()),
        Route("/", web.index),
        *(Route(path, web.stylesheet) for path in web.STYLESHEET_PATHS),
        Route("/tap", web.tap_service),
        Mount("/static", app=web.static_files(), name="static"),
    ]
    track(state)
    # no global GZipMiddleware: it costs ~15 % of a cached answer's time; cached answers
    # carry pre-compressed bodies (getstar.httpcache), streamed batches compress themselves
    # request id, metrics, access log and CORS (getstar.cors) in one pass; then cached answers,
    # before the router
    middleware = [Middleware(RequestLogMiddleware), Middleware(CachedAnswerLane)]
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware, exception_handlers=exception_handlers())
    # no "/static" -> "http://<Host header>/static/" redirects: a redirect must not echo the Host header
    app.router.redirect_slashes = False
    app.state.getstar = state  # for tests and tools holding the application object
    return app

"""The starlette application: routes, lifespan, and the one place errors become responses."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import asyncpg
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from getstar import db
from getstar.config import Settings
from getstar.errors import ClientGone, GetStarError, ServiceUnavailable
from getstar.health import health, readiness
from getstar.resolver import Resolver
from getstar.schema import SNAPSHOT_CHANNEL

if TYPE_CHECKING:
    from getstar.simbad.fallback import SimbadFallback

log = logging.getLogger("getstar.app")


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, option=orjson.OPT_SERIALIZE_NUMPY)


#: Re-read the snapshot version this often even without a NOTIFY (a lost listener, an
#: external database swapped by other means).
SNAPSHOT_POLL_SECONDS = 30.0


class State:
    """What the routes share: settings, the pool, the resolver, the cache, the snapshot version."""

    def __init__(self, settings: Settings) -> None:
        from cache import LayeredCache

        self.settings = settings
        self.pool: asyncpg.Pool | None = None
        self.started = datetime.now(UTC)
        self.snapshot = ""
        self.cache = LayeredCache(max_entries=settings.cache_max_entries, ttl=settings.cache_ttl,
                                  redis_url=settings.redis_url, max_bytes=settings.cache_max_bytes)
        self._listener: asyncpg.Connection | None = None
        #: /health and /health/ready ask on a connection of their own (``probe``): a pool held by
        #: slow requests must not make an orchestrator think a healthy pod is dead
        self._probe: asyncpg.Connection | None = None
        self._probe_lock = asyncio.Lock()
        self._dsn = ""
        self._poller: asyncio.Task[None] | None = None
        self.fallback: SimbadFallback | None = None  # names the snapshot lacks are asked of SIMBAD
        #: batches (POST /v1/xmatch) this worker runs at once; the others wait their turn
        self.batch_slots = asyncio.Semaphore(max(1, settings.xmatch_concurrency))
        self.shared_redis: Any = None  # the fallback's shared rate limit and negative cache

    @property
    def resolver(self) -> Resolver:
        if self.pool is None:
            from getstar.errors import ServiceUnavailable

            raise ServiceUnavailable("the database is not connected", retry_after=5)
        return Resolver(self.pool, self.fallback, acquire_timeout=self.settings.db_acquire_timeout,
                        suggest_timeout=self.settings.suggest_timeout)

    async def snapshot_version(self) -> str:
        """The live snapshot's version, kept in memory (NOTIFY on swap, polled as a backstop)."""
        return self.snapshot

    def set_snapshot(self, version: str) -> None:
        if version != self.snapshot:
            self.snapshot = version
            self.cache.clear_memory()  # old entries are unreachable (keys hold the version): free them

    async def refresh_snapshot(self) -> None:
        if self.pool is None:
            return
        from getstar.schema import current_snapshot_key

        async with self.pool.acquire() as conn:
            key = await current_snapshot_key(conn)
        self.set_snapshot(key)

    @contextlib.asynccontextmanager
    async def probe(self, timeout: float = 2.0) -> AsyncIterator[asyncpg.Connection]:
        """The health checks' own connection, one check at a time, reconnected when it broke."""
        async with asyncio.timeout(timeout):
            async with self._probe_lock:
                if self._probe is None or self._probe.is_closed():
                    self._probe = await db.connect(self._dsn, timeout=timeout)
                try:
                    yield self._probe
                except BaseException:
                    conn, self._probe = self._probe, None
                    if conn is not None:
                        conn.terminate()  # half-way through a query: never reuse it
                    raise

    async def watch_snapshot(self, dsn: str) -> None:
        """Follow snapshot swaps: LISTEN for the swap's NOTIFY, and poll as a backstop."""
        self._dsn = dsn
        await self.refresh_snapshot()
        try:
            self._listener = await db.connect(dsn)
            await self._listener.add_listener(
                SNAPSHOT_CHANNEL, lambda _conn, _pid, _channel, payload: self.set_snapshot(payload))
        except (OSError, asyncpg.PostgresError):
            self._listener = None

        async def poll() -> None:
            while True:
                await asyncio.sleep(SNAPSHOT_POLL_SECONDS)
                with contextlib.suppress(OSError, asyncpg.PostgresError):
                    await self.refresh_snapshot()

        self._poller = asyncio.create_task(poll())

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
        if self._listener is not None:
            await self._listener.close()
        if self._probe is not None:
            self._probe.terminate()
        await self.cache.close()
        if self.fallback is not None:
            await self.fallback.close()
        if self.shared_redis is not None:
            with contextlib.suppress(Exception):  # closing a dead connection
                await self.shared_redis.aclose()
        if self.pool is not None:
            try:  # uvicorn gave requests in flight drain_timeout to finish; a stuck one must not block the exit
                await asyncio.wait_for(self.pool.close(), self.settings.drain_timeout)
            except TimeoutError:
                self.pool.terminate()


def get_state(request: Request) -> State:
    state: State = request.app.state.getstar
    return state


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


def _error_format(request: Request) -> str:
    """The format the client asked for, or JSON when that itself is what was wrong."""
    from getstar.formats import choose_format

    try:
        return choose_format(request.query_params.get("format"), request.headers.get("accept"), "json")
    except GetStarError:
        return "json"


#: What a failing database raises under a request: each becomes a 503 with Retry-After.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    OSError, TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.QueryCanceledError,
    asyncpg.CannotConnectNowError, asyncpg.UndefinedTableError, asyncpg.AdminShutdownError,
)


def service_error(exc: BaseException) -> GetStarError:
    """A database failure in our words (the driver's text goes to the log, not to the client)."""
    if isinstance(exc, asyncpg.QueryCanceledError):
        return ServiceUnavailable("the database took too long to answer this request", retry_after=5)
    if isinstance(exc, asyncpg.UndefinedTableError):
        return ServiceUnavailable("no snapshot is loaded yet", retry_after=30)
    if isinstance(exc, TimeoutError):
        return ServiceUnavailable("the service is busy: no database connection was free in time", retry_after=2)
    return ServiceUnavailable("the database is not reachable", retry_after=5)


async def database_error_handler(request: Request, exc: Exception) -> Response:
    log.warning("database failure under %s: %s: %s", request.url.path, type(exc).__name__, str(exc)[:300])
    return await getstar_error_handler(request, service_error(exc))


async def getstar_error_handler(request: Request, exc: Exception) -> Response:
    """The one mapping from named errors to HTTP responses, in the requested format."""
    from getstar.api import make_meta
    from getstar.formats import render_error

    assert isinstance(exc, GetStarError)
    if isinstance(exc, ClientGone):
        return Response(status_code=exc.status_code)  # nobody reads it: the status is for logs and metrics
    headers = {"Retry-After": str(max(1, round(exc.retry_after)))} if exc.retry_after else None
    try:
        meta = await make_meta(request)
    except Exception:  # noqa: BLE001 - the error page must not fail because the database did
        from getstar.api import Meta, __version__

        meta = Meta(__version__, "", request.url.query, datetime.now(UTC))
    if request.url.path == "/scs":  # Simple Cone Search 1.03 has its own error document
        from getstar.scs import error_response

        return error_response(request, exc, headers)
    body, media_type = render_error(_error_format(request), exc, meta)
    return Response(body, status_code=exc.status_code, headers=headers, media_type=media_type)


def create_app(settings: Settings | None = None, dsn: str | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    state = State(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        target = dsn or await db.ensure_database(settings)
        state.pool = await db.create_pool(target, settings, statement_timeout=settings.db_statement_timeout)
        if settings.simbad_enabled:
            from getstar.simbad.factory import make_fallback

            state.fallback, state.shared_redis = make_fallback(settings, state.pool)
        await state.watch_snapshot(target)
        try:
            yield
        finally:
            await state.close()

    from getstar import api, legacy, scs, web
    from getstar.xmatch import xmatch_endpoint

    async def metrics_endpoint(request: Request) -> Response:
        from prometheus_client import CONTENT_TYPE_LATEST

        from getstar.metrics import exposition

        return Response(exposition(), media_type=CONTENT_TYPE_LATEST)

    routes = [
        Route("/v1/stars", api.stars),
        Route("/metrics", metrics_endpoint),
        Route("/v1/xmatch", xmatch_endpoint, methods=["POST"]),
        Route("/sclwsGetStarProxy.php", legacy.getstar_proxy),
        Route("/health", health_endpoint),
        Route("/health/ready", ready_endpoint),
        Route("/scs", scs.cone_search),
        Route("/", web.index),
        Route("/tap", web.tap_service),
        Mount("/static", app=web.static_files(), name="static"),
    ]
    from starlette.middleware import Middleware

    from getstar.logs import RequestLogMiddleware
    from getstar.metrics import track

    track(state)
    # no global GZipMiddleware: it costs ~15 % of a cached answer's time; cached answers
    # carry pre-compressed bodies (getstar.httpcache), streamed batches compress themselves
    middleware = [Middleware(RequestLogMiddleware)]  # request id, metrics and access log, in one pass
    handlers: dict[Any, Any] = {GetStarError: getstar_error_handler}
    handlers.update(dict.fromkeys(DATABASE_ERRORS, database_error_handler))
    app = Starlette(routes=routes, lifespan=lifespan, middleware=middleware, exception_handlers=handlers)
    # no "/static" -> "http://<Host header>/static/" redirects: a redirect must not echo the Host header
    app.router.redirect_slashes = False
    app.state.getstar = state
    return app

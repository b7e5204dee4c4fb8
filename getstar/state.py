"""What the routes share (settings, pool, resolver, cache, snapshot version), in a leaf module:
endpoints read it from the request without importing the application."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import asyncpg
from starlette.requests import Request

from cache import LayeredCache
from getstar import db
from getstar.coalesce import LookupCoalescer
from getstar.config import Settings
from getstar.errors import ServiceUnavailable
from getstar.resolver import CELL_CONE_SQL, CONE_SQL, NAMES_SQL, Resolver
from getstar.schema import SNAPSHOT_CHANNEL, current_snapshot_key
from getstar.xmatch.uploads import UploadBudget

if TYPE_CHECKING:
    from getstar.simbad.fallback import SimbadFallback


#: After a swap's NOTIFY from the primary, a worker reading a standby re-reads the version
#: this often, for at most ``CATCH_UP_SECONDS``, until the standby has replayed the swap.
CATCH_UP_INTERVAL = 0.1
CATCH_UP_SECONDS = 30.0


class State:
    """What the routes share: settings, the pool, the resolver, the cache, the snapshot version."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.pool: asyncpg.Pool | None = None  # reads (a standby when GETSTAR_DATABASE_URL names one)
        #: writes (GETSTAR_WRITE_DATABASE_URL): SIMBAD learning, batch matching's temporary tables;
        #: the read pool itself when no write URL is set
        self.write_pool: asyncpg.Pool | None = None
        self.started = datetime.now(UTC)
        self.snapshot = ""  # the live snapshot's version (NOTIFY on swap, polled as a backstop)
        self.cache = LayeredCache(max_entries=settings.cache_max_entries, ttl=settings.cache_ttl,
                                  redis_url=settings.redis_url, max_bytes=settings.cache_max_bytes)
        self._listener: asyncpg.Connection | None = None
        #: /health and /health/ready ask on a connection of their own (``probe``): a pool held by
        #: slow requests must not make an orchestrator think a healthy pod is dead
        self._probe: asyncpg.Connection | None = None
        self._probe_lock = asyncio.Lock()
        self._dsn = ""
        self._listen_dsn = ""
        self._poller: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()  # a NOTIFY from the primary: re-read the version now
        self._announced = ""  # the version the primary announced, until the reads see it
        self._relayed = False  # the listener is on the primary, the reads on a standby
        self.fallback: SimbadFallback | None = None  # names the snapshot lacks are asked of SIMBAD
        #: batches (POST /v1/xmatch) this worker runs at once; the others wait their turn
        self.batch_slots = asyncio.Semaphore(max(1, settings.xmatch_concurrency))
        #: bytes of upload bodies received and not yet parsed (read before a slot is taken)
        total = max(settings.xmatch_upload_bytes, settings.xmatch_max_bytes)
        # one client: the largest body, or a quarter of all, whichever is more
        self.upload_budget = UploadBudget(total, per_client=max(settings.xmatch_max_bytes, total // 4))
        self.shared_redis: Any = None  # the fallback's shared rate limit and negative cache
        #: of ``pool``, names' and cones' (made with the first resolver)
        self._coalescers: tuple[LookupCoalescer, LookupCoalescer, LookupCoalescer] | None = None

    @property
    def resolver(self) -> Resolver:
        if self.pool is None:
            raise ServiceUnavailable("the database is not connected", retry_after=5)
        names, cones, cells = self._lookups(self.pool) or (None, None, None)
        return Resolver(self.pool, self.fallback, acquire_timeout=self.settings.db_acquire_timeout,
                        suggest_timeout=self.settings.suggest_timeout, coalescer=names, cone_coalescer=cones,
                        cell_coalescer=cells)

    def _lookups(self, pool: asyncpg.Pool) -> tuple[LookupCoalescer, LookupCoalescer, LookupCoalescer] | None:
        """The coalescers of the name lookups, of the small cones and of the cell cones of this
        pool (one set per worker: it is what the requests share); none when
        GETSTAR_LOOKUP_INFLIGHT is 0."""
        if self.settings.lookup_inflight <= 0:
            return None
        if self._coalescers is None or self._coalescers[0].pool is not pool:
            timeout, inflight = self.settings.db_acquire_timeout, self.settings.lookup_inflight
            self._coalescers = (
                LookupCoalescer(pool, NAMES_SQL, "names", acquire_timeout=timeout, max_inflight=inflight),
                LookupCoalescer(pool, CONE_SQL, "cone", acquire_timeout=timeout, max_inflight=inflight),
                LookupCoalescer(pool, CELL_CONE_SQL, "cone", acquire_timeout=timeout, max_inflight=inflight))
        return self._coalescers

    def set_snapshot(self, version: str) -> None:
        if version != self.snapshot:
            self.snapshot = version
            self.cache.clear_memory()  # old entries are unreachable (keys hold the version): free them

    async def refresh_snapshot(self) -> None:
        if self.pool is None:
            return
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

    async def watch_snapshot(self, dsn: str, write_dsn: str | None = None) -> None:
        """Follow snapshot swaps: LISTEN for the swap's NOTIFY, and poll as a backstop.

        A standby never gets a NOTIFY (it is not replicated), and refuses LISTEN: with a write
        DSN, the listener is on the primary, and a NOTIFY makes the worker re-read the version
        from the standby until the standby has replayed the swap (taking the payload as it is
        would cache the standby's older answers under the new version).  Without one, the
        listener is on the read DSN, as before; on a standby it fails and the poll follows."""
        self._dsn = dsn
        self._listen_dsn = write_dsn or dsn
        self._relayed = bool(write_dsn and write_dsn != dsn)
        await self.refresh_snapshot()
        await self._listen()
        self._poller = asyncio.create_task(self._follow())

    def _notified(self, payload: str) -> None:
        if self._relayed:
            self._announced = payload
            self._wake.set()
        else:
            self.set_snapshot(payload)

    async def _listen(self) -> None:
        """(Re)open the listener; a failure leaves it to the next poll."""
        if self._listener is not None and not self._listener.is_closed():
            return
        self._listener = None
        conn = None
        try:
            conn = await db.connect(self._listen_dsn, timeout=10)
            await conn.add_listener(SNAPSHOT_CHANNEL, lambda _conn, _pid, _channel, payload: self._notified(payload))
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
            if conn is not None:  # e.g. LISTEN on a standby ("cannot execute LISTEN during recovery")
                conn.terminate()
            return
        self._listener = conn

    async def _follow(self) -> None:
        """The poll: every ``snapshot_poll_seconds``, or at once after a relayed NOTIFY."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), max(0.05, self.settings.snapshot_poll_seconds))
            self._wake.clear()
            with contextlib.suppress(OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await self.refresh_snapshot()
                if self._announced:
                    await self._catch_up()
            with contextlib.suppress(Exception):  # a database down now is retried at the next poll
                await self._listen()

    async def _catch_up(self) -> None:
        """Re-read the version until the reads see the announced one (replication lag), bounded."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CATCH_UP_SECONDS
        while self._announced and loop.time() < deadline:
            target = self._announced
            if self.snapshot == target:
                if self._announced == target:
                    self._announced = ""
                return
            await asyncio.sleep(CATCH_UP_INTERVAL)
            await self.refresh_snapshot()
        self._announced = ""

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
        if self.write_pool is not None and self.write_pool is not self.pool:
            try:
                await asyncio.wait_for(self.write_pool.close(), self.settings.drain_timeout)
            except TimeoutError:
                self.write_pool.terminate()
        if self.pool is not None:
            try:  # uvicorn gave requests in flight drain_timeout to finish; a stuck one must not block the exit
                await asyncio.wait_for(self.pool.close(), self.settings.drain_timeout)
            except TimeoutError:
                self.pool.terminate()


def get_state(request: Request) -> State:
    """The service's state, from the lifespan state starlette copies into every request (mounted
    sub-applications see it too)."""
    try:  # the lifespan state's dict itself: no ``request.state`` wrapper built on the hot path
        state: State = request.scope["state"]["getstar"]
    except KeyError:
        state = request.state.getstar
    return state

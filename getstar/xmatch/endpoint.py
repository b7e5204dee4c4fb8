"""``POST /v1/xmatch``: a target list in, the same rows with their matches out, streamed.

Everything that can fail for the whole request happens before the first byte is sent, so
it is answered with the right status in the requested format: parameters (400), content
type (415), size and row count (413), an unreadable body (400 naming the line), the
database (503).  Then the answer streams, rendered by the database (``render``): the next
chunk is requested before the current one is sent, and a large batch is split in two, its
second half matched on a second connection (the machine's other core) while the first half
streams.  Connections go back to the pool when the response ends, also when the client goes
away mid-stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

import anyio
import asyncpg
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from getstar import coords
from getstar.answers import make_meta
from getstar.errors import ServiceUnavailable
from getstar.formats import choose_format
from getstar.offload import off_loop, off_loop_or_busy
from getstar.state import get_state
from getstar.xmatch.match import CHUNK, ROW, TEXT, Batch, TargetSet, materialize, open_batch, read_materialized
from getstar.xmatch.output import Layout, Writer, make_writer
from getstar.xmatch.reader import InputTable, kind_of, read_body
from getstar.xmatch.targets import DEFAULT_RADIUS_ARCSEC, Reading, check_epoch
from getstar.xmatch.uploads import read_limited

__all__ = ["xmatch_endpoint"]

log = logging.getLogger("getstar.xmatch")

#: Batches this large are matched in parts on several connections.
PARALLEL_MIN = 20_000
#: A batch's transaction may stay idle this long (ms): past the HTTP write timeout, the lane's wait.
IDLE_IN_TRANSACTION_MS = 120_000
#: Chunks of more rows than this are formatted in the CPU lane (``getstar.offload``).
CHUNK_INLINE_MAX = 100
#: Parts a large batch is split into, each on its own connection (a database core each).
PARTS = 2


class _Run:
    """One batch's connections, transactions and running queries, released exactly once.

    The first part of the targets streams from the first connection; a second part (large
    batches, when the pool has a connection to spare) is matched meanwhile on a second one
    and read when the first is done.
    """

    def __init__(self, pool: asyncpg.Pool, fmt: str, *, statement_timeout: float | None = None,
                 acquire_timeout: float | None = None) -> None:
        self.pool = pool
        self.fmt = fmt
        #: A batch's statements may run longer than a name lookup's (the pool's default), not forever.
        self.statement_timeout = statement_timeout
        self.acquire_timeout = acquire_timeout
        self.held: list[tuple[asyncpg.Connection, Any]] = []
        self.batch: Batch | None = None
        self.pending: asyncio.Future[list[Sequence[Any]]] | None = None
        self.later: list[tuple[asyncpg.Connection, asyncio.Future[None], TargetSet, int]] = []
        self.closed = False

    async def connect(self, timeout: float | None = None) -> asyncpg.Connection:
        conn = await self.pool.acquire(timeout=self.acquire_timeout if timeout is None else timeout)
        tr = conn.transaction()
        self.held.append((conn, tr))
        await tr.start()
        if self.statement_timeout:
            await conn.execute(f"SET LOCAL statement_timeout = {max(1, round(self.statement_timeout * 1000))}")
        # a batch waiting (for the CPU lane, for a slow reader) holds a transaction: not forever
        await conn.execute(f"SET LOCAL idle_in_transaction_session_timeout = {IDLE_IN_TRANSACTION_MS}")
        return conn

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        with anyio.CancelScope(shield=True):
            futures = [f for f in [self.pending, *(part[1] for part in self.later)] if f is not None]
            for f in futures:
                if not f.done():
                    f.cancel()
            for f in futures:
                with contextlib.suppress(BaseException):
                    await f
            for conn, tr in self.held:
                with contextlib.suppress(Exception):
                    await tr.rollback()
                await self.pool.release(conn)

    async def records(self, first: list[Sequence[Any]], n: int) -> AsyncIterator[list[Sequence[Any]]]:
        """Chunks in order; the next chunk is requested before the current one is handed out."""
        batch, recs = self.batch, first
        parts = iter(self.later)
        while batch is not None:
            while recs:
                if len(recs) < n:
                    yield recs
                    break
                self.pending = asyncio.ensure_future(batch.fetch(n))
                await asyncio.sleep(0)  # let the fetch go out before the caller formats
                yield recs
                recs = await self.pending
                self.pending = None
            part = next(parts, None)
            if part is None:
                return
            conn, matched, part_targets, lo = part
            await matched
            batch = await read_materialized(conn, part_targets, self.fmt, lo)
            recs = await batch.fetch(n)


class _BatchResponse(StreamingResponse):
    """A streaming response that always gives its connection and its batch slot back, even if
    never iterated."""

    def __init__(self, run: _Run, content: AsyncIterator[bytes], media_type: str, slot: asyncio.Semaphore) -> None:
        super().__init__(content, media_type=media_type)
        self.run = run
        self.slot = slot

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.run.close()
            self.slot.release()
            release_memory()


def release_memory() -> None:
    """Give the heap a batch freed back to the system (glibc keeps it otherwise, and the worker's
    resident memory would stay at its largest batch's)."""
    if _malloc_trim is not None:
        _malloc_trim(0)


def _find_malloc_trim() -> Any:
    try:
        return ctypes.CDLL(None).malloc_trim  # glibc; absent on musl and other systems
    except (OSError, AttributeError):
        return None


_malloc_trim = _find_malloc_trim()


async def take_turn(slot: asyncio.Semaphore, wait: float) -> None:
    """A batch slot of this worker (a batch takes a core and memory in proportion to its size);
    503 with Retry-After when none frees up in ``wait`` seconds."""
    try:
        async with asyncio.timeout(wait):
            await slot.acquire()
    except TimeoutError:
        raise ServiceUnavailable("the service is busy with other batches: try again shortly", retry_after=10) from None


async def _body(run: _Run, first: list[Sequence[Any]], writer: Writer, table: InputTable,
                errors: dict[int, str]) -> AsyncIterator[bytes]:
    yield writer.head()
    done = 0
    async for recs in run.records(first, CHUNK):
        n = len(recs)
        # Batch hands out consecutive rows; anything else is a bug, not data
        if recs[0][ROW] != done or recs[-1][ROW] != done + n - 1:
            raise RuntimeError(f"xmatch rows out of order: {recs[0][ROW]}..{recs[-1][ROW]} at {done}")
        chunk_errors = [errors.get(k) for k in range(done, done + n)] if errors else None
        args = (table.row_slice(done, done + n), chunk_errors, [r[TEXT] for r in recs])
        # a chunk of thousands of rows is milliseconds of formatting: in the CPU lane, off the loop
        yield await off_loop(writer.chunk, *args) if n > CHUNK_INLINE_MAX else writer.chunk(*args)
        done += n
    yield writer.tail()


async def start(pool: asyncpg.Pool, reading: Reading, fmt: str, *, statement_timeout: float | None = None,
                acquire_timeout: float | None = None) -> tuple[_Run, list[Sequence[Any]], dict[int, str]]:
    """Acquire, read the targets, load them and run the query up to its first chunk (503 if
    the database cannot); returns the rows that could not be read too (row -> problem).

    A large batch's second part is read and started first, on its own connection, so that
    it is being matched while the first part is still being read.
    """
    n = reading.table.nrows
    run = _Run(pool, fmt, statement_timeout=statement_timeout, acquire_timeout=acquire_timeout)
    try:
        try:
            conn = await run.connect()
        except TimeoutError:
            raise ServiceUnavailable("the service is busy: no database connection was free in time",
                                     retry_after=2) from None
        except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as exc:
            log.warning("xmatch: the database is not reachable: %s", exc)
            raise ServiceUnavailable("the database is not reachable", retry_after=5) from None
        others = []
        if n >= PARALLEL_MIN:
            for _ in range(PARTS - 1):
                try:
                    others.append(await run.connect(timeout=0.2))
                except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    break  # none to spare: the connections we have do it all
        bounds = [n * k // (1 + len(others)) for k in range(len(others) + 2)]
        errors: dict[int, str] = {}
        for other, lo, hi in zip(others, bounds[1:-1], bounds[2:], strict=True):
            part = await _read(reading, lo, hi, errors)
            run.later.append((other, asyncio.ensure_future(materialize(other, part, fmt, lo)), part, lo))
        run.batch = await open_batch(conn, await _read(reading, 0, bounds[1], errors), fmt)
        first = await run.batch.fetch(CHUNK)
    except asyncpg.UndefinedTableError:
        await run.close()
        raise ServiceUnavailable("no snapshot is loaded yet", retry_after=30) from None
    except asyncpg.QueryCanceledError:
        await run.close()
        raise ServiceUnavailable("the batch took longer than the service allows: split it into smaller requests",
                                 retry_after=5) from None
    except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError) as exc:
        await run.close()
        log.warning("xmatch: the database connection failed: %s", exc)
        raise ServiceUnavailable("the database connection failed", retry_after=5) from None
    except BaseException:
        await run.close()
        raise
    return run, first, errors


async def _read(reading: Reading, lo: int, hi: int, errors: dict[int, str]) -> TargetSet:
    """Rows ``lo`` to ``hi`` as targets, off the event loop when there are many."""
    part = await off_loop(reading.targets, lo, hi) if hi - lo > 1000 else reading.targets(lo, hi)
    errors.update((lo + k, e) for k, e in part.errors.items())
    return part


async def xmatch_endpoint(request: Request) -> Response:
    state = get_state(request)
    settings = state.settings
    params = request.query_params
    fmt = choose_format(params.get("format"), request.headers.get("accept"), "json")
    radius_deg = coords.parse_radius(params.get("radius"), DEFAULT_RADIUS_ARCSEC / 3600.0,
                                     maximum=settings.xmatch_max_radius_deg)
    epoch = check_epoch(coords.parse_epoch(params.get("epoch")))
    kind, charset = kind_of(request.headers.get("content-type"))
    if state.pool is None:
        raise ServiceUnavailable("the database is not connected", retry_after=5)
    body = await read_limited(request, settings.xmatch_max_bytes, state.upload_budget, settings.xmatch_body_deadline)
    held = len(body)
    release_memory()  # the pieces the body arrived in, joined and freed: not kept while the batch runs
    try:
        await take_turn(state.batch_slots, settings.xmatch_queue_timeout)
    except BaseException:
        state.upload_budget.give(held)
        raise
    try:
        try:
            table = await off_loop_or_busy(read_body, body, kind, charset, max_rows=settings.xmatch_max_rows,
                                            max_cells=settings.xmatch_max_cells)
        finally:
            del body
            state.upload_budget.give(held)
            release_memory()  # the body and its decoded text: the table read from them is what stays
        reading = Reading(table, radius_deg=radius_deg, max_radius_deg=settings.xmatch_max_radius_deg, epoch=epoch)
        writer = make_writer(fmt, Layout.of(table), await make_meta(request), table.nrows)
        # batches match through temporary tables, which a standby cannot create: the write pool
        # (the primary when GETSTAR_WRITE_DATABASE_URL is set; the one pool otherwise)
        run, first, errors = await start(state.write_pool or state.pool, reading, fmt,
                                         statement_timeout=settings.xmatch_statement_timeout,
                                         acquire_timeout=settings.db_acquire_timeout)
        release_memory()  # what loading the targets took: not held while the answer streams
    except BaseException:
        state.batch_slots.release()
        release_memory()
        raise
    return _BatchResponse(run, _body(run, first, writer, table, errors), writer.media_type, state.batch_slots)

"""The lookups of concurrent requests (names, small cones), sent to PostgreSQL as one statement.

Why: a statement costs far more than the names in it.  ``resolver.NAMES_SQL`` for one name
costs PostgreSQL ~600 us of CPU and the client ~270 us; for 16 names in one statement,
133 us and 65 us a name (the real snapshot, 750 real names, 2-core machine); a cone is alike.
Under load the lookups that arrive while statements are running go out together in the next.

Nothing waits on purpose: a lookup is sent at once while fewer than ``max_inflight``
statements run (a lone request is as fast as before); past that it queues, and each ending
statement sends everything queued (up to ``max_rows`` parameter rows).  A queued lookup not sent
within ``acquire_timeout`` fails with ``TimeoutError`` (a 503, as a request that waited that long
for a connection of its own); once sent, its statement is bounded by the pool's statement
timeout and its connection by ``acquire_timeout``.
A request's parameter rows are never split between statements, a request cancelled while
queued is left out, and a statement failing on a value (``asyncpg.DataError``) is sent again in
halves, so only the request that sent the value fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from getstar.metrics import DB_QUERIES

#: Rows of one request's lookups, by the request's own query index.
RowsByName = dict[int, list[asyncpg.Record]]


@dataclass
class _Lookup:
    idx: Sequence[int]
    columns: tuple[Sequence[Any], ...]
    future: asyncio.Future[RowsByName] = field(repr=False)
    #: in a statement (no longer waiting in the queue)
    sent: bool = False


class LookupCoalescer:
    """Runs ``sql`` for many requests at once, on connections of ``pool``.

    ``sql`` takes parallel arrays: $1 the query index of each parameter row, then the
    ``lookup``'s columns; it returns rows with a ``qi`` column (the query index they answer).
    """

    def __init__(self, pool: asyncpg.Pool, sql: str, label: str, *, acquire_timeout: float | None = None,
                 max_inflight: int = 2, max_rows: int = 512) -> None:
        self.pool = pool
        self.sql = sql
        self.label = label  # of the statements in getstar_db_queries_total
        self.acquire_timeout = acquire_timeout
        self.max_inflight = max(1, max_inflight)
        self.max_rows = max(1, max_rows)
        self._queue: list[_Lookup] = []
        self._inflight = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def lookup(self, idx: Sequence[int], *columns: Sequence[Any]) -> RowsByName:
        """The rows of these parameter rows, grouped by ``idx`` (as a statement of their own would give)."""
        loop = asyncio.get_running_loop()
        item = _Lookup(idx, columns, loop.create_future())
        self._queue.append(item)
        if self._inflight < self.max_inflight:
            self._send()
        if item.sent or self.acquire_timeout is None:
            return await item.future
        # queued behind running statements: as long as a request may wait for a connection
        deadline = loop.call_later(self.acquire_timeout, _expire, item)
        try:
            return await item.future
        finally:
            deadline.cancel()

    def _send(self) -> None:
        batch: list[_Lookup] = []
        n_rows = 0
        while self._queue:
            item = self._queue[0]
            if item.future.done():  # its request was cancelled while it waited
                self._queue.pop(0)
                continue
            if batch and n_rows + len(item.idx) > self.max_rows:
                break
            batch.append(self._queue.pop(0))
            item.sent = True
            n_rows += len(item.idx)
        if not batch:
            return
        self._inflight += 1
        task = asyncio.get_running_loop().create_task(self._run(batch))
        self._tasks.add(task)
        # the slot is given back and the batch settled when the task ends, however it ends (even
        # cancelled before it started, when no code of ``_run`` runs)
        task.add_done_callback(lambda done: self._ended(done, batch))

    def _ended(self, task: asyncio.Task[None], batch: list[_Lookup]) -> None:
        self._tasks.discard(task)
        self._inflight -= 1
        error = None if task.cancelled() else task.exception()
        for item in batch:  # what ``_run`` did not settle (it ended early): its error, or cancelled
            _settle(item.future, error=error, cancel=error is None)
        if self._queue and self._inflight < self.max_inflight:
            self._send()

    async def _run(self, batch: list[_Lookup]) -> None:
        async with self.pool.acquire(timeout=self.acquire_timeout) as conn:
            await self._fetch_isolating(conn, batch)

    async def _fetch_isolating(self, conn: asyncpg.Connection, batch: list[_Lookup]) -> None:
        """Settle ``batch`` with one statement.  When it fails on a value (``asyncpg.DataError``:
        refused by PostgreSQL or by the encoder), each half goes again, down to the request that
        sent the value, which alone fails: ~2 log2(n) statements for one bad value in n requests."""
        batch = [item for item in batch if not item.future.done()]  # requests gone meanwhile
        if not batch:
            return
        try:
            results = await self._fetch(conn, batch)
        except asyncpg.DataError as exc:
            if len(batch) == 1:
                _settle(batch[0].future, error=exc)
                return
            half = len(batch) // 2
            await self._fetch_isolating(conn, batch[:half])
            await self._fetch_isolating(conn, batch[half:])
            return
        for item, result in zip(batch, results, strict=True):
            _settle(item.future, result=result)

    async def _fetch(self, conn: asyncpg.Connection, batch: list[_Lookup]) -> list[RowsByName]:
        """One statement for the lookups of ``batch``; the rows of each, by its own query index."""
        idx: list[int] = []
        columns: list[list[Any]] = [[] for _ in batch[0].columns]
        spans = [max(item.idx, default=-1) + 1 for item in batch]  # the query indexes each request uses
        offsets: list[int] = []
        offset = 0
        for item, span in zip(batch, spans, strict=True):  # made distinct: request k's start at offsets[k]
            offsets.append(offset)
            idx.extend(offset + i for i in item.idx)
            for column, values in zip(columns, item.columns, strict=True):
                column.extend(values)
            offset += span
        rows = await conn.fetch(self.sql, idx, *columns)
        DB_QUERIES.labels(self.label).inc()
        owner = [k for k, span in enumerate(spans) for _ in range(span)]
        results: list[RowsByName] = [{} for _ in batch]
        for row in rows:
            qi = row["qi"]
            k = owner[qi]
            results[k].setdefault(qi - offsets[k], []).append(row)
        return results


def _expire(item: _Lookup) -> None:
    """A lookup still queued at its deadline fails (``_send`` drops it, its future being done)."""
    if not item.sent:
        _settle(item.future, error=TimeoutError("no statement could take the lookup in time"))


def _settle(future: asyncio.Future[RowsByName], *, result: RowsByName | None = None,
            error: BaseException | None = None, cancel: bool = False) -> None:
    """Give ``future`` its outcome, unless it has one (its request was cancelled meanwhile)."""
    if future.done():
        return
    if cancel:
        future.cancel()
    elif error is not None:
        future.set_exception(error)
    else:
        future.set_result(result if result is not None else {})

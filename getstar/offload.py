"""The CPU-heavy steps of big requests (rendering thousands of stars, compressing megabytes,
parsing uploads), run in a worker thread, one at a time per worker process.

Why one lane, and why a short switch interval: the event loop serving cached names shares
the interpreter lock with those threads.  Each time the loop blocks (every socket read and
write does) a runnable worker thread takes the lock, and the loop waits for the interpreter
to hand it back: up to ``sys.getswitchinterval()`` (5 ms by default) per wait, several waits
per request.  Under a stream of big requests that made a cached name's p99 ten times its
usual figure (``bench/hostile.py``).  With at most one such thread per worker and a 1 ms
interval, a loop wait costs at most about a millisecond; the big requests queue for the lane
(asynchronously: queuing costs the loop nothing).  zlib and brotli release the lock while
they compress, so compression in the lane costs the loop nearly nothing.

A fair share: one client may have at most ``LANE_PER_CLIENT`` big requests waiting for or in
the lane; past that, its next one is answered 503 (Retry-After) at once instead of queuing, so
a client sending big requests in a loop cannot fill the queue ahead of everyone else's (the
client is the connection's peer, or the address a trusted proxy gives, named per request by
``getstar.logs.RequestLogMiddleware`` through ``serving``; ``GETSTAR_LANE_PER_CLIENT``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import ipaddress
import sys
import weakref
from collections.abc import AsyncIterator, Callable
from typing import Any, ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

from getstar.errors import ServiceUnavailable

__all__ = ["BIG_AT_ONCE", "LANE_PER_CLIENT", "LANE_WAIT", "SWITCH_INTERVAL", "Lane", "LaneShareExceeded",
           "admitted", "current_client", "off_loop", "off_loop_or_busy", "served", "serving", "use_lane_share",
           "use_short_switch_interval"]

P = ParamSpec("P")
T = TypeVar("T")

#: Seconds a big request waits for its turn (``admitted``) or for the lane before it is answered
#: 503 (busy, Retry-After): SPEC, no request over 10 s; a 2,000-name request's own work is 1-3 s
#: (it was 30 s: twelve such requests at once were answered in up to 13 s).
LANE_WAIT = 5.0

#: Seconds a thread may hold the interpreter lock while another waits for it (CPython's default
#: is 0.005).  Shorter costs a little throughput of the threads, which are the big requests.
SWITCH_INTERVAL = 0.001

#: Big requests one client may have waiting for or in the lane at once (more: 503 at once; 0: no
#: limit).  ``GETSTAR_LANE_PER_CLIENT``, set for the process by ``use_settings``.
LANE_PER_CLIENT = 4

#: The client of the request being served (``serving``); None outside a request.
_client: contextvars.ContextVar[str | None] = contextvars.ContextVar("getstar_lane_client", default=None)


def serving(client: str | None) -> contextvars.Token[str | None]:
    """Name the client of the request about to be served (``RequestLogMiddleware``, once per
    request; ``client_share``); give the token back to ``served``."""
    return _client.set(client_share(client) if client else None)


@functools.lru_cache(maxsize=4096)
def client_share(address: str) -> str:
    """Whose share of the lane a client address counts against: an IPv6 address its /64 (one
    host or network holds a whole /64 and can take a new address from it for every request),
    an IPv4-mapped one its IPv4 address; anything else (a unix socket path) itself."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def served(token: contextvars.Token[str | None]) -> None:
    _client.reset(token)


def current_client() -> str | None:
    """The client (``client_share``) of the request being served; None outside a request."""
    return _client.get()


class _LaneState:
    """One worker's lane (or admission, ``admitted``): the semaphore, and each client's big
    requests waiting or running."""

    def __init__(self, width: int = 1) -> None:
        self.semaphore = asyncio.Semaphore(width)
        self.clients: dict[str, int] = {}

    def enter(self, client: str | None) -> None:
        if client is not None:
            self.clients[client] = self.clients.get(client, 0) + 1

    def leave(self, client: str | None) -> None:
        if client is not None:
            left = self.clients.pop(client) - 1
            if left:
                self.clients[client] = left


class Lane:
    """The lane, taken by one request (give it to ``run_in_lane``, which releases it)."""

    __slots__ = ("_state", "_client")

    def __init__(self, state: _LaneState, client: str | None) -> None:
        self._state = state
        self._client = client

    def release(self) -> None:
        self._state.semaphore.release()
        self._state.leave(self._client)


# One lane per event loop (tests run several service instances, each on its own loop).
_lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LaneState] = weakref.WeakKeyDictionary()


def use_lane_share(per_client: int) -> None:
    """Called when a worker's application is created: the settings' fair share of the lane."""
    global LANE_PER_CLIENT
    LANE_PER_CLIENT = per_client


def use_short_switch_interval() -> None:
    """Called when a worker's application is created (process-wide: it is the interpreter's)."""
    if sys.getswitchinterval() > SWITCH_INTERVAL:
        sys.setswitchinterval(SWITCH_INTERVAL)


def _lane() -> _LaneState:
    loop = asyncio.get_running_loop()
    lane = _lanes.get(loop)
    if lane is None:
        lane = _lanes[loop] = _LaneState()
    return lane


async def off_loop(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``func(*args, **kwargs)`` in a worker thread, after the big requests before it (for a step
    of an answer already being sent: it waits as long as it takes, counted in its client's share
    but never refused)."""
    state, client = _lane(), _client.get()
    state.enter(client)
    try:
        await state.semaphore.acquire()
    except BaseException:
        state.leave(client)
        raise
    return await run_in_lane(Lane(state, client), func, *args, **kwargs)


async def off_loop_or_busy(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``off_loop``, before an answer starts: 503 with Retry-After when the lane stays taken
    ``LANE_WAIT`` seconds, or at once (``LaneShareExceeded``) when the client has its share."""
    if _over_share(_lane(), _client.get()):
        raise LaneShareExceeded("you already have as many large requests as one client may have running: "
                                "try again shortly", retry_after=5)
    lane = await lane_within(LANE_WAIT)
    if lane is None:
        raise ServiceUnavailable("the service is busy with other large requests: try again shortly", retry_after=5)
    return await run_in_lane(lane, func, *args, **kwargs)


class LaneShareExceeded(ServiceUnavailable):
    """503 for this request's client only (it has its share of the lane): a request computing an
    answer others wait for (``cache.SingleFlight``) must not hand them this refusal."""

    caller_only = True


def _over_share(state: _LaneState, client: str | None) -> bool:
    return client is not None and 0 < LANE_PER_CLIENT <= state.clients.get(client, 0)


async def lane_within(seconds: float) -> Lane | None:
    """The lane, taken (give it to ``run_in_lane``), or None when it stays busy ``seconds`` or
    the request's client already has its share waiting or running."""
    state, client = _lane(), _client.get()
    if _over_share(state, client):
        return None
    state.enter(client)
    try:
        async with asyncio.timeout(seconds):
            await state.semaphore.acquire()
    except TimeoutError:
        state.leave(client)
        return None
    except BaseException:  # the request cancelled (its client left)
        state.leave(client)
        raise
    return Lane(state, client)


async def run_in_lane(lane: Lane, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``func`` in a worker thread, in the lane already taken (``lane``); releases it.  A request
    cancelled meanwhile (its client left) does not stop the thread: the lane stays taken until
    the thread is done, so it is never two wide."""
    try:
        work = asyncio.ensure_future(run_in_threadpool(func, *args, **kwargs))
    except BaseException:
        lane.release()
        raise
    # released when the thread ends, by the loop itself: not in a ``finally`` that awaits the
    # thread, which a second cancellation (anyio's cancel scopes cancel again at every turn of
    # the loop: a streamed answer whose client left) would cut short, leaking the lane for good
    work.add_done_callback(functools.partial(_release_when_done, lane))
    return await asyncio.shield(work)


def _release_when_done(lane: Lane, work: asyncio.Future[Any]) -> None:
    lane.release()
    if not work.cancelled():
        work.exception()  # retrieved: a caller cancelled meanwhile does not log it as never retrieved


#: Big requests (``admitted``) a worker fetches and renders at once.  Each holds its stars' wide
#: rows, their answers and the document made of them (a 2,000-name VOTable request: ~40 MB at
#: its peak): twelve at once took a worker from 63 to 490 MB, where SPEC allows 250.
BIG_AT_ONCE = 2

# One admission per event loop, as the lane.
_admissions: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LaneState] = weakref.WeakKeyDictionary()


def _admission() -> _LaneState:
    loop = asyncio.get_running_loop()
    state = _admissions.get(loop)
    if state is None:
        state = _admissions[loop] = _LaneState(BIG_AT_ONCE)
    return state


@contextlib.asynccontextmanager
async def admitted(big: bool) -> AsyncIterator[None]:
    """Around everything a big request does (``big``; else nothing): from before it fetches a row
    to its rendered answer, at most ``BIG_AT_ONCE`` at once per worker.  The lane alone bounds
    the rendering, but requests waiting for it already hold their rows: the memory bound has to
    come before the database.  503 with Retry-After after ``LANE_WAIT`` seconds of waiting, or at
    once (``LaneShareExceeded``) for a client that already has its share waiting or running."""
    if not big:
        yield
        return
    state, client = _admission(), _client.get()
    if _over_share(state, client):
        raise LaneShareExceeded("you already have as many large requests as one client may have running: "
                                "try again shortly", retry_after=5)
    state.enter(client)
    try:
        try:
            async with asyncio.timeout(LANE_WAIT):
                await state.semaphore.acquire()
        except TimeoutError:
            raise ServiceUnavailable("the service is busy with other large requests: try again shortly",
                                     retry_after=5) from None
        try:
            yield
        finally:
            state.semaphore.release()
    finally:
        state.leave(client)

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
"""

from __future__ import annotations

import asyncio
import sys
import weakref
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

from getstar.errors import ServiceUnavailable

__all__ = ["LANE_WAIT", "SWITCH_INTERVAL", "off_loop", "off_loop_or_busy", "use_short_switch_interval"]

P = ParamSpec("P")
T = TypeVar("T")

#: Seconds a request waits for the lane before it is answered 503 (busy, Retry-After): a flood of
#: big requests queues for the lane, and each waiting one holds its database rows meanwhile.
LANE_WAIT = 30.0

#: Seconds a thread may hold the interpreter lock while another waits for it (CPython's default
#: is 0.005).  Shorter costs a little throughput of the threads, which are the big requests.
SWITCH_INTERVAL = 0.001

# One lane per event loop (tests run several service instances, each on its own loop).
_lanes: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def use_short_switch_interval() -> None:
    """Called when a worker's application is created (process-wide: it is the interpreter's)."""
    if sys.getswitchinterval() > SWITCH_INTERVAL:
        sys.setswitchinterval(SWITCH_INTERVAL)


def _lane() -> asyncio.Semaphore:
    loop = asyncio.get_running_loop()
    lane = _lanes.get(loop)
    if lane is None:
        lane = _lanes[loop] = asyncio.Semaphore(1)
    return lane


async def off_loop(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``func(*args, **kwargs)`` in a worker thread, after the big requests before it (for a step
    of an answer already being sent: it waits as long as it takes)."""
    lane = _lane()
    await lane.acquire()
    return await run_in_lane(lane, func, *args, **kwargs)


async def off_loop_or_busy(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``off_loop``, before an answer starts: 503 with Retry-After when the lane stays taken
    ``LANE_WAIT`` seconds."""
    lane = await lane_within(LANE_WAIT)
    if lane is None:
        raise ServiceUnavailable("the service is busy with other large requests: try again shortly",
                                 retry_after=5)
    return await run_in_lane(lane, func, *args, **kwargs)


async def lane_within(seconds: float) -> asyncio.Semaphore | None:
    """The lane, taken (give it to ``run_in_lane``), or None when it stays busy ``seconds``."""
    lane = _lane()
    try:
        async with asyncio.timeout(seconds):
            await lane.acquire()
    except TimeoutError:
        return None
    return lane


async def run_in_lane(lane: asyncio.Semaphore, func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``func`` in a worker thread, in the lane already taken (``lane``); releases it.  A request
    cancelled meanwhile (its client left) does not stop the thread: the lane stays taken until
    the thread is done, so it is never two wide."""
    work = asyncio.ensure_future(run_in_threadpool(func, *args, **kwargs))
    try:
        return await asyncio.shield(work)
    finally:
        if not work.done():
            await asyncio.wait([work])
        lane.release()

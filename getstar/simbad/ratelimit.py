"""Rate limiting of SIMBAD queries (SIMBAD blocks clients above ~6 queries/s).

``RateLimiter`` is the interface (a Redis-backed limiter shared by all workers can implement
it); ``TokenBucket`` is the in-process one.  It schedules rather than rejects: a caller waits
for its slot, unless the wait would exceed ``max_wait`` — then it is refused at once, so a
flood of lookups fails fast instead of queueing forever.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

_EPSILON = 1e-9


class RateLimiter(Protocol):
    async def acquire(self, max_wait: float) -> bool:
        """Wait for a slot; False (without waiting) when none is free within ``max_wait`` s."""
        ...

    def next_free_in(self) -> float:
        """Seconds until a slot is free (for Retry-After)."""
        ...


class TokenBucket:
    """``rate`` slots per second, at most ``burst`` at once (GCRA / virtual scheduling).

    The default burst of 1 spaces queries 1/rate apart, so no one-second window ever holds
    more than rate + 1 queries.
    """

    def __init__(self, rate: float, burst: float = 1.0, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self.tolerance = max(0.0, burst - 1.0) * self.interval
        self.clock = clock
        self.sleep = sleep
        self._tat = 0.0  # theoretical arrival time of the next slot

    def reserve(self, max_wait: float) -> float | None:
        """Book the next slot; return how long to wait for it, or None (nothing booked)."""
        now = self.clock()
        tat = max(self._tat, now)
        wait = tat - self.tolerance - now
        wait = 0.0 if wait < _EPSILON else wait  # 0.2 + 0.2 + 0.2 is not quite 0.6
        if wait > max_wait + _EPSILON:
            return None
        self._tat = tat + self.interval
        return wait

    async def acquire(self, max_wait: float) -> bool:
        wait = self.reserve(max_wait)
        if wait is None:
            return False
        if wait > 0:
            await self.sleep(wait)
        return True

    def next_free_in(self) -> float:
        return max(0.0, self._tat - self.tolerance - self.clock())

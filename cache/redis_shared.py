"""Redis-backed pieces shared by every worker and pod: the SIMBAD rate limit and negative cache.

SIMBAD's limit (about 6 queries/s) is per client address, so all workers behind one
address must share one budget: the token bucket's state (GCRA's theoretical arrival
time) lives in Redis and is updated atomically by a Lua script using Redis' own clock.
If Redis fails, each falls back to its in-process twin (logged), never to an error.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger("getstar.cache")

# KEYS[1]: the bucket; ARGV: interval_us, tolerance_us, max_wait_us.  Returns the wait in
# microseconds, or -1 when the slot is further than max_wait (nothing is booked then).
_GCRA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
if wait > tonumber(ARGV[3]) then return -1 end
redis.call('SET', KEYS[1], tat + interval, 'PX', math.ceil((tat + interval - now) / 1000) + 1000)
return wait
"""
_NEXT_FREE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
local wait = tat - tonumber(ARGV[1]) - now
if wait < 0 then wait = 0 end
return wait
"""


def redis_client(url: str, timeout: float = 0.2) -> Any:
    import redis.asyncio as redis_asyncio

    return redis_asyncio.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout)


class RedisTokenBucket:
    """``rate`` queries per second shared by everyone using ``key`` (a ``RateLimiter``)."""

    def __init__(self, client: Any, key: str, rate: float, burst: float = 1.0, *, local: Any) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.client = client
        self.key = key
        self.interval_us = int(1_000_000 / rate)
        self.tolerance_us = int(max(0.0, burst - 1.0) * self.interval_us)
        self.local = local  # the in-process TokenBucket used while Redis is unreachable
        self._gcra = client.register_script(_GCRA)
        self._next = client.register_script(_NEXT_FREE)
        self.errors = 0

    async def reserve(self, max_wait: float) -> float | None:
        """Book the next shared slot; seconds to wait for it, or None when too far."""
        wait_us = await self._gcra(keys=[self.key], args=[self.interval_us, self.tolerance_us,
                                                          int(max_wait * 1_000_000)])
        return None if int(wait_us) < 0 else int(wait_us) / 1_000_000

    async def acquire(self, max_wait: float) -> bool:
        try:
            wait = await self.reserve(max_wait)
        except Exception as exc:  # noqa: BLE001 - Redis down: keep limiting, per process
            self.errors += 1
            log.warning("shared rate limit unavailable, limiting per process: %s", exc)
            return bool(await self.local.acquire(max_wait))
        if wait is None:
            return False
        if wait > 0:
            await asyncio.sleep(wait)
        return True

    def next_free_in(self) -> float:
        # synchronous in the interface (used for Retry-After): the local estimate is a
        # lower bound good enough for a hint
        return float(self.local.next_free_in())

    async def shared_next_free_in(self) -> float:
        return int(await self._next(keys=[self.key], args=[self.tolerance_us])) / 1_000_000


class RedisNegativeCache:
    """Unknown names shared by every worker (a ``NegativeCache``), with a TTL."""

    def __init__(self, client: Any, ttl: float, *, local: Any, prefix: str = "getstar:simbad:unknown:") -> None:
        self.client = client
        self.ttl = ttl
        self.local = local
        self.prefix = prefix
        self.errors = 0

    async def contains(self, key: str) -> bool:
        try:
            return bool(await self.client.exists(self.prefix + key))
        except Exception as exc:  # noqa: BLE001
            self.errors += 1
            log.warning("shared negative cache unavailable: %s", exc)
            return bool(await self.local.contains(key))

    async def add(self, key: str) -> None:
        await self.local.add(key)
        if self.ttl <= 0:
            return
        try:
            await self.client.set(self.prefix + key, b"1", ex=max(1, int(self.ttl)))
        except Exception as exc:  # noqa: BLE001
            self.errors += 1
            log.warning("shared negative cache unavailable: %s", exc)

    async def discard(self, key: str) -> None:
        await self.local.discard(key)
        try:
            await self.client.delete(self.prefix + key)
        except Exception as exc:  # noqa: BLE001
            self.errors += 1
            log.warning("shared negative cache unavailable: %s", exc)

    def __len__(self) -> int:
        return len(self.local)

"""Process memory in front of Redis (aiocache), never failing because of the cache.

A Redis error is logged and counted, and the answer comes from the lower level (the
database): the cache may make answers faster, never make them fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from cache.memory import BoundedTTLCache
from cache.singleflight import SingleFlight
from cache.stats import CacheStats

log = logging.getLogger("getstar.cache")


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    """A rendered HTTP answer: enough to serve it again without the database."""

    body: bytes
    media_type: str
    status: int = 200
    etag: str = ""
    #: Compressed bodies by content coding, filled on first use (getstar.httpcache.respond).
    encoded: dict[str, bytes] = field(default_factory=dict)
    #: 0 for a fact of the snapshot; else the wall-clock time (epoch seconds) until which this answer
    #: holds: it names stars SIMBAD could not be asked about, to be asked again from then on.
    retry_at: float = 0.0

    def seconds_left(self, now: float | None = None) -> float:
        """How long this answer may still be kept (``inf`` for a fact of the snapshot)."""
        if not self.retry_at:
            return math.inf
        return self.retry_at - (time.time() if now is None else now)


#: One entry may take at most this share of the process cache's bytes.
MAX_ITEM_SHARE = 32


def weight(answer: CachedAnswer) -> int:
    """Bytes an answer holds in memory: its body, and room for its compressed copies (each
    compressed once, later, and smaller than the body), plus a fixed overhead."""
    return 2 * len(answer.body) + 512


def _encode(answer: CachedAnswer) -> bytes:
    # a fact of the snapshot keeps the head an older service reads (blue and green share Redis);
    # only an answer until retry carries the fourth field
    fields = [answer.media_type, answer.status, answer.etag]
    head = orjson.dumps([*fields, answer.retry_at] if answer.retry_at else fields)
    return len(head).to_bytes(4, "big") + head + answer.body


def _decode(raw: bytes) -> CachedAnswer:
    size = int.from_bytes(raw[:4], "big")
    media_type, status, etag, *rest = orjson.loads(raw[4:4 + size])  # entries of an older service have no retry_at
    return CachedAnswer(raw[4 + size:], media_type, status, etag, retry_at=rest[0] if rest else 0.0)


class LayeredCache:
    """Memory (``get_memory``, no await), then ``fill``: Redis, else compute, with single flight per key.

    Answers below 500 are cached (a 404 is as much a fact of the snapshot as a 200);
    server errors never are.  An answer naming stars SIMBAD could not be asked about is kept
    only until SIMBAD may be asked again (``CachedAnswer.retry_at``).
    """

    def __init__(self, *, max_entries: int = 20_000, ttl: float = 3600, redis_url: str | None = None,
                 redis_timeout: float = 0.05, max_bytes: int = 64 * 1024 * 1024) -> None:
        #: An answer heavier than this is served but kept at no level (a 2,000-star document of
        #: 14 MB would evict thousands of one-star answers and cost Redis as much).
        self.max_item_bytes = max(1, max_bytes // MAX_ITEM_SHARE)
        self.memory: BoundedTTLCache[CachedAnswer] = BoundedTTLCache(
            max_entries, ttl, max_bytes=max_bytes, weigh=weight, max_item_bytes=self.max_item_bytes)
        self.ttl = ttl
        self.stats = CacheStats()
        self.flight: SingleFlight[CachedAnswer] = SingleFlight()
        self.redis: Any = None
        self.redis_timeout = redis_timeout
        if redis_url:
            self.redis = _redis_cache(redis_url, redis_timeout)

    def get_memory(self, key: str) -> CachedAnswer | None:
        """The hot path: a dict lookup, no await."""
        value = self.memory.get(key)
        if value is None:
            self.stats.miss("memory")
        else:
            self.stats.hit("memory")
        return value

    async def fill(self, key: str, compute: Callable[[], Awaitable[CachedAnswer]]) -> CachedAnswer:
        """After a memory miss: Redis, else compute once however many callers wait (single flight)."""
        return await self.flight.run(key, lambda: self._from_redis_or_compute(key, compute))

    async def _from_redis_or_compute(self, key: str,
                                     compute: Callable[[], Awaitable[CachedAnswer]]) -> CachedAnswer:
        value = await self._redis_get(key)
        if value is None:
            value = await compute()
            if value.status < 500 and len(value.body) <= self.max_item_bytes:
                await self._redis_set(key, value, min(self.ttl, value.seconds_left()))
        left = min(self.ttl, value.seconds_left())
        if value.status < 500 and left > 0:
            self.memory.set(key, value, left)
        return value

    async def _redis_get(self, key: str) -> CachedAnswer | None:
        if self.redis is None:
            return None
        try:
            raw = await asyncio.wait_for(self.redis.get(key), self.redis_timeout * 4)
        except Exception as exc:  # noqa: BLE001 - any Redis failure falls through to the database
            self.stats.error("redis")
            log.warning("redis get failed: %s", exc)
            return None
        if raw is None:
            self.stats.miss("redis")
            return None
        try:
            value = _decode(raw)
        except Exception as exc:  # noqa: BLE001 - an entry this service cannot read (another version's): a miss
            self.stats.error("redis")
            log.warning("redis entry unreadable: %s", exc)
            return None
        self.stats.hit("redis")
        return value

    async def _redis_set(self, key: str, value: CachedAnswer, ttl: float) -> None:
        if self.redis is None or ttl < 1:
            return
        try:
            await asyncio.wait_for(self.redis.set(key, _encode(value), ttl=int(ttl)), self.redis_timeout * 4)
        except Exception as exc:  # noqa: BLE001
            self.stats.error("redis")
            log.warning("redis set failed: %s", exc)

    def clear_memory(self) -> None:
        self.memory.clear()

    async def close(self) -> None:
        if self.redis is not None:
            with contextlib.suppress(Exception):  # closing a dead connection
                await self.redis.close()


def _redis_cache(url: str, timeout: float) -> Any:
    """aiocache's Redis backend with short timeouts, so a dead Redis fails fast."""
    from urllib.parse import urlparse

    from aiocache import RedisCache
    from aiocache.serializers import BaseSerializer

    class BytesSerializer(BaseSerializer):  # type: ignore[misc]
        """Values are our own framed bytes: no encoding, no pickling."""

        DEFAULT_ENCODING = None

        def dumps(self, value: bytes) -> bytes:
            return value

        def loads(self, value: bytes | None) -> bytes | None:
            return value

    parts = urlparse(url)
    db = int(parts.path.lstrip("/") or 0)
    return RedisCache(
        endpoint=parts.hostname or "127.0.0.1", port=parts.port or 6379, db=db, password=parts.password,
        create_connection_timeout=timeout, timeout=timeout * 4, serializer=BytesSerializer(), namespace="getstar",
        connection_pool_kwargs={"socket_timeout": timeout},
    )

"""Build the SIMBAD fallback for the service: shared through Redis when one is configured.

With ``GETSTAR_REDIS_URL``, every worker and pod shares one SIMBAD rate budget and one
negative cache (``cache.redis_shared``); without it, each process has its own.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from getstar.config import Settings
from getstar.simbad.client import TapClient
from getstar.simbad.fallback import SimbadFallback
from getstar.simbad.negcache import MemoryNegativeCache
from getstar.simbad.ratelimit import RateLimiter, TokenBucket

RATE_KEY = "getstar:simbad:rate"


def make_limiter(settings: Settings, rate: float | None = None) -> tuple[RateLimiter, Any]:
    """SIMBAD's rate limiter (``rate`` queries/s, default ``GETSTAR_SIMBAD_RATE``): shared by every
    worker, pod and bulk tool through Redis when configured; and the Redis client to close."""
    rate = settings.simbad_rate if rate is None else rate
    if not settings.redis_url:
        return TokenBucket(rate), None
    from cache.redis_shared import RedisTokenBucket, redis_client

    client = redis_client(settings.redis_url)
    return RedisTokenBucket(client, RATE_KEY, rate, local=TokenBucket(rate)), client


def make_fallback(settings: Settings, pool: asyncpg.Pool) -> tuple[SimbadFallback, Any]:
    """The fallback, and the Redis client to close on shutdown (None without Redis)."""
    if not settings.redis_url:
        return SimbadFallback(settings, pool), None
    from cache.redis_shared import RedisNegativeCache

    limiter, client = make_limiter(settings)
    negative = RedisNegativeCache(client, settings.simbad_negative_ttl,
                                  local=MemoryNegativeCache(settings.simbad_negative_ttl))
    fallback = SimbadFallback(settings, pool, client=TapClient(settings, limiter=limiter), negative=negative)
    return fallback, client

"""The SIMBAD rate budget and negative cache shared through a real Redis (issue 6)."""

from __future__ import annotations

import asyncio

from cache.redis_shared import RedisNegativeCache, RedisTokenBucket, redis_client
from getstar.simbad.negcache import MemoryNegativeCache
from getstar.simbad.ratelimit import TokenBucket
from tests.conftest import free_port
from tests.test_cache import RedisServer, needs_redis, redis_server  # noqa: F401 - fixture

pytestmark = needs_redis


async def test_two_workers_share_one_rate_budget(redis_server: RedisServer) -> None:  # noqa: F811
    a_client, b_client = redis_client(redis_server.url), redis_client(redis_server.url)
    rate = 5.0
    a = RedisTokenBucket(a_client, "test:rate", rate, local=TokenBucket(rate))
    b = RedisTokenBucket(b_client, "test:rate", rate, local=TokenBucket(rate))
    try:
        # with no waiting allowed, the two "workers" together get one slot, not one each
        granted = [await a.reserve(0.0), await b.reserve(0.0), await a.reserve(0.0), await b.reserve(0.0)]
        assert sum(w is not None for w in granted) == 1
        # queued reservations book consecutive slots 1/rate apart across both workers: the shared
        # theoretical arrival time moves by exactly one interval per booking (no clock in this check)
        before = int(await a_client.get("test:rate"))
        waits = await asyncio.gather(*(x.reserve(10.0) for x in (a, b) * 5))
        assert all(w is not None and 0 < w <= 11 / rate for w in waits), waits
        assert int(await a_client.get("test:rate")) - before == 10 * a.interval_us
        assert 0 < await a.shared_next_free_in() <= 11 / rate
    finally:
        await a_client.aclose()
        await b_client.aclose()


async def test_rate_limit_falls_back_to_the_process_when_redis_is_down() -> None:
    client = redis_client(f"redis://127.0.0.1:{free_port()}/0")
    bucket = RedisTokenBucket(client, "test:rate", 5.0, local=TokenBucket(5.0))
    try:
        assert await bucket.acquire(0.0) is True  # the local bucket's first slot
        assert await bucket.acquire(0.0) is False  # and it still limits
        assert bucket.errors == 2
    finally:
        await client.aclose()


async def test_negative_cache_is_shared_and_expires(redis_server: RedisServer) -> None:  # noqa: F811
    a_client, b_client = redis_client(redis_server.url), redis_client(redis_server.url)
    a = RedisNegativeCache(a_client, 1, local=MemoryNegativeCache(1))
    b = RedisNegativeCache(b_client, 1, local=MemoryNegativeCache(1))
    try:
        await a.add("XYZZY")
        assert await b.contains("XYZZY")  # learned by a, known to b
        await b.discard("XYZZY")
        assert not await a.contains("XYZZY")
        await a.add("PLUGH")
        await asyncio.sleep(2.1)
        assert not await b.contains("PLUGH")
    finally:
        await a_client.aclose()
        await b_client.aclose()


async def test_negative_cache_survives_redis_dying(redis_server: RedisServer) -> None:  # noqa: F811
    client = redis_client(redis_server.url)
    cache = RedisNegativeCache(client, 60, local=MemoryNegativeCache(60))
    try:
        await cache.add("FOO")
        redis_server.stop()
        assert await cache.contains("FOO")  # from the process copy
        await cache.add("BAR")
        assert await cache.contains("BAR") and cache.errors >= 2
    finally:
        await client.aclose()


def test_service_shares_the_fallback_budget_through_redis(snapshot_dsn, settings, redis_server) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from dataclasses import replace

    from tests.conftest import LiveServer

    server = LiveServer(snapshot_dsn, replace(settings, redis_url=redis_server.url, simbad_enabled=True,
                                              simbad_tap_url=f"http://127.0.0.1:{free_port()}/tap/sync"))
    server.start()
    try:
        fallback = server.app.state.getstar.fallback
        assert isinstance(fallback.negative, RedisNegativeCache)
        assert isinstance(fallback.client.limiter, RedisTokenBucket)
    finally:
        server.stop()

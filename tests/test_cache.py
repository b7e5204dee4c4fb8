"""Caching at every level, with a real Redis and real HTTP (issue 6)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from datetime import UTC, datetime

import httpx

from cache import BoundedTTLCache, CachedAnswer, LayeredCache, SingleFlight
from getstar.config import Settings
from getstar.metrics import DB_QUERIES
from tests.conftest import LiveServer, RedisServer, free_port, needs_redis


def db_queries() -> float:
    return sum(m.value for m in DB_QUERIES.collect()[0].samples if m.name.endswith("_total"))


# --- the pieces ------------------------------------------------------------------------------

def test_bounded_ttl_cache_evicts_least_recently_used_and_expires() -> None:
    c: BoundedTTLCache[int] = BoundedTTLCache(max_entries=3, ttl=60)
    for i in range(3):
        c.set(str(i), i)
    assert c.get("0") == 0  # 0 is now the most recent
    c.set("3", 3)
    assert c.get("1") is None and c.get("0") == 0 and len(c) == 3
    c.set("short", 9, ttl=-1)
    assert c.get("short") is None


async def test_single_flight_computes_once_for_concurrent_callers() -> None:
    flight: SingleFlight[int] = SingleFlight()
    calls = 0

    async def compute() -> int:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return 42

    results = await asyncio.gather(*(flight.run("k", compute) for _ in range(50)))
    assert results == [42] * 50 and calls == 1 and flight.shared == 49


async def test_single_flight_shares_errors_and_forgets_them() -> None:
    flight: SingleFlight[int] = SingleFlight()

    async def boom() -> int:
        await asyncio.sleep(0.01)
        raise ValueError("nope")

    results = await asyncio.gather(*(flight.run("k", boom) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(r, ValueError) for r in results)

    async def ok() -> int:
        return 1

    assert await flight.run("k", ok) == 1


@needs_redis
async def test_two_caches_share_through_redis(redis_server: RedisServer) -> None:
    a, b = LayeredCache(redis_url=redis_server.url), LayeredCache(redis_url=redis_server.url)
    computed = 0

    async def compute() -> CachedAnswer:
        nonlocal computed
        computed += 1
        return CachedAnswer(b"body" * 400, "application/json", 200, '"e"')

    try:
        first = await a.fill("k", compute)
        assert b.get_memory("k") is None  # b's own memory has not seen it: Redis has
        second = await b.fill("k", compute)
        assert computed == 1 and second.body == first.body and second.etag == '"e"'
        assert b.stats.counts["redis_hits"] == 1
    finally:
        await a.close()
        await b.close()


async def test_an_answer_until_retry_is_kept_only_until_then() -> None:
    """An answer naming stars SIMBAD could not be asked about: kept for the seconds left, then asked again."""
    cache = LayeredCache(ttl=3600)
    computed = 0

    def answer(retry_in: float) -> CachedAnswer:
        return CachedAnswer(b"partial", "application/json", 200, retry_at=time.time() + retry_in)

    async def soon() -> CachedAnswer:
        nonlocal computed
        computed += 1
        return answer(0.3)

    await cache.fill("k", soon)
    assert cache.get_memory("k") is not None and computed == 1  # kept meanwhile: SIMBAD is not asked again
    await asyncio.sleep(0.35)
    assert cache.get_memory("k") is None  # past Retry-After: gone
    await cache.fill("k", soon)
    assert computed == 2

    async def passed() -> CachedAnswer:  # its time already over when computed (a slow render): not kept
        return answer(-1)

    await cache.fill("late", passed)
    assert cache.get_memory("late") is None
    assert CachedAnswer(b"x", "text/plain").seconds_left() == float("inf")


@needs_redis
async def test_redis_keeps_an_answer_until_retry_no_longer(redis_server: RedisServer) -> None:
    a, b = LayeredCache(redis_url=redis_server.url), LayeredCache(redis_url=redis_server.url)
    retry_at = time.time() + 1.5

    async def compute() -> CachedAnswer:
        return CachedAnswer(b"partial", "application/json", 200, retry_at=retry_at)

    try:
        await a.fill("until", compute)
        assert (await b._redis_get("until")) == CachedAnswer(b"partial", "application/json", 200, retry_at=retry_at)
        assert 0 < await b.redis.raw("ttl", b.redis.build_key("until")) <= 1  # whole seconds, never past Retry-After
    finally:
        await a.close()
        await b.close()


async def test_redis_down_falls_through_to_compute() -> None:
    cache = LayeredCache(redis_url=f"redis://127.0.0.1:{free_port()}/0")

    async def compute() -> CachedAnswer:
        return CachedAnswer(b"x", "text/plain")

    try:
        assert (await cache.fill("k", compute)).body == b"x"
        assert cache.stats.counts["redis_errors"] >= 1
    finally:
        await cache.close()


# --- the service ---------------------------------------------------------------------------------

def with_redis(settings: Settings, url: str | None) -> Settings:
    return replace(settings, redis_url=url)


@needs_redis
def test_two_instances_share_answers_and_survive_redis_dying(snapshot_dsn, settings, redis_server) -> None:  # type: ignore[no-untyped-def]
    a = LiveServer(snapshot_dsn, with_redis(settings, redis_server.url))
    b = LiveServer(snapshot_dsn, with_redis(settings, redis_server.url))
    a.start()
    b.start()
    try:
        before = db_queries()
        ra = httpx.get(a.url + "/v1/stars", params={"name": "HD 87901"})
        assert ra.status_code == 200 and db_queries() == before + 1
        rb = httpx.get(b.url + "/v1/stars", params={"name": "HD 87901"})
        assert rb.status_code == 200 and rb.content == ra.content
        assert db_queries() == before + 1  # B answered from Redis
        assert b.app.state.getstar.cache.stats.counts["redis_hits"] == 1
        redis_server.stop()
        rc = httpx.get(b.url + "/v1/stars", params={"name": "Vega"})
        assert rc.status_code == 200 and rc.json()["results"][0]["main_id"] == "* alf Lyr"
        assert b.app.state.getstar.cache.stats.counts["redis_errors"] >= 1
        health = httpx.get(b.url + "/health").json()
        assert health["cache"]["redis_errors"] >= 1
    finally:
        a.stop()
        b.stop()


def test_etag_and_304_do_no_database_work(live_server) -> None:  # type: ignore[no-untyped-def]
    r = httpx.get(live_server.url + "/v1/stars", params={"name": "Arcturus"})
    etag = r.headers["etag"]
    assert r.status_code == 200 and "max-age" in r.headers["cache-control"]
    before = db_queries()
    for _ in range(20):
        again = httpx.get(live_server.url + "/v1/stars", params={"name": "Arcturus"},
                          headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.headers["etag"] == etag and again.content == b""
    cached = httpx.get(live_server.url + "/v1/stars", params={"name": "Arcturus"})
    assert cached.status_code == 200 and cached.content == r.content
    assert db_queries() == before
    other = httpx.get(live_server.url + "/v1/stars", params={"name": "Arcturus", "format": "votable"})
    assert other.headers["etag"] != etag


def test_large_answers_are_compressed(live_server) -> None:  # type: ignore[no-untyped-def]
    params = {"name": "Sirius", "format": "votable11"}
    plain = httpx.get(live_server.url + "/v1/stars", params=params, headers={"Accept-Encoding": "identity"})
    for coding in ("gzip", "br"):
        r = httpx.get(live_server.url + "/v1/stars", params=params, headers={"Accept-Encoding": coding})
        assert r.headers.get("content-encoding") == coding
        assert r.content == plain.content  # httpx decodes
        assert int(r.headers["content-length"]) < len(plain.content) / 4


def test_concurrent_cold_requests_compute_once(live_server) -> None:  # type: ignore[no-untyped-def]
    async def burst() -> list[int]:
        async with httpx.AsyncClient() as client:
            rs = await asyncio.gather(*(client.get(live_server.url + "/v1/stars", params={"name": "Procyon"})
                                        for _ in range(40)))
        return [r.status_code for r in rs]

    before = db_queries()
    assert asyncio.run(burst()) == [200] * 40
    assert db_queries() == before + 1


def test_not_found_answers_are_cached_too(live_server) -> None:  # type: ignore[no-untyped-def]
    first = httpx.get(live_server.url + "/v1/stars", params={"name": "Xyzzy Nonexistent"})
    assert first.status_code == 404
    before = db_queries()
    again = httpx.get(live_server.url + "/v1/stars", params={"name": "Xyzzy Nonexistent"})
    assert again.status_code == 404 and again.content == first.content and db_queries() == before


def test_metrics_expose_requests_cache_and_pool(live_server) -> None:  # type: ignore[no-untyped-def]
    httpx.get(live_server.url + "/v1/stars", params={"name": "Sirius"})
    text = httpx.get(live_server.url + "/metrics").text
    assert 'getstar_requests_total{route="/v1/stars",status="200"}' in text
    assert "getstar_request_duration_seconds_bucket" in text
    assert 'getstar_cache_events{event="hits",level="memory"}' in text
    assert 'getstar_db_pool_connections{state="open"}' in text
    assert "getstar_database_queries_total" in text


# --- snapshot swaps ------------------------------------------------------------------------------

async def _tiny_snapshot(dsn: str, main_id: str) -> None:
    from getstar.db import connect
    from getstar.ingest import build
    from getstar.names import ident_key
    from getstar.schema import STAGING, data_indexes_ddl, data_tables_ddl, migrate

    conn = await connect(dsn)
    try:
        await migrate(conn)
        await conn.execute(f"DROP SCHEMA IF EXISTS {STAGING} CASCADE")
        for stmt in data_tables_ddl(STAGING):
            await conn.execute(stmt)
        await conn.execute(f"INSERT INTO {STAGING}.star (star_id, main_id, ra, dec, ra_o, ra_c, dec_o, dec_c) "
                           "VALUES (1, $1, 10, 20, 23, 3, 23, 3)", main_id)
        await conn.execute(f"INSERT INTO {STAGING}.ident (star_id, id, key, source) VALUES (1, 'TEST 1', $1, 3)",
                           ident_key("TEST 1"))
        for stmt in data_indexes_ddl(STAGING):
            await conn.execute(stmt)
        await build.swap(conn, {"test": {"sha256": main_id * 8}}, {"stars": 1}, datetime.now(UTC))
    finally:
        await conn.close()


def test_snapshot_swap_leaves_no_stale_answer(make_database, settings) -> None:  # type: ignore[no-untyped-def]
    dsn = make_database("cache_swap")
    asyncio.run(_tiny_snapshot(dsn, "OLD star"))
    servers = [LiveServer(dsn, settings), LiveServer(dsn, settings)]
    for s in servers:
        s.start()
    try:
        old = [httpx.get(s.url + "/v1/stars", params={"name": "TEST 1"}) for s in servers]
        assert all(r.json()["results"][0]["main_id"] == "OLD star" for r in old)
        asyncio.run(_tiny_snapshot(dsn, "NEW star"))
        for s, r_old in zip(servers, old, strict=True):
            deadline = time.monotonic() + 5
            while True:
                r = httpx.get(s.url + "/v1/stars", params={"name": "TEST 1"},
                              headers={"If-None-Match": r_old.headers["etag"]})
                if r.status_code == 200 and r.json()["results"][0]["main_id"] == "NEW star":
                    break
                assert time.monotonic() < deadline, "a stale answer survived the swap"
                time.sleep(0.05)
            assert r.headers["etag"] != r_old.headers["etag"]
            assert r.json()["snapshot"] != r_old.json()["snapshot"]
    finally:
        for s in servers:
            s.stop()


def test_redis_entries_stay_readable_across_versions() -> None:
    """Blue and green share Redis: a fact of the snapshot is written as an older service reads it
    (three head fields), and an entry this service cannot read is a miss, not a 500."""
    import orjson

    from cache.layered import _decode, _encode

    full = CachedAnswer(b"body", "application/json", 200, '"e"')
    raw = _encode(full)
    size = int.from_bytes(raw[:4], "big")
    assert len(orjson.loads(raw[4:4 + size])) == 3 and _decode(raw) == full
    partial = CachedAnswer(b"body", "application/json", 200, retry_at=123.5)
    assert _decode(_encode(partial)) == partial

    class Raw:
        async def get(self, key: str) -> bytes:
            return b"\x00\x00\x00\x02{}garbage"

    cache = LayeredCache()
    cache.redis = Raw()
    assert asyncio.run(cache._redis_get("k")) is None

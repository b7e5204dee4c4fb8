"""Circuit breaker, token bucket, negative cache, single flight: behaviour on a fake clock."""

from __future__ import annotations

import asyncio

import pytest

from getstar.simbad.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from getstar.simbad.negcache import MemoryNegativeCache
from getstar.simbad.ratelimit import TokenBucket
from getstar.simbad.singleflight import SingleFlight
from tests.simbad_standin import FakeClock

# -- circuit breaker --------------------------------------------------------------------------


def test_breaker_opens_after_n_consecutive_failures() -> None:
    clock = FakeClock()
    b = CircuitBreaker(threshold=3, reset_after=10, clock=clock)
    for _ in range(2):
        assert b.allow()
        b.record_failure()
    assert b.state == CLOSED
    b.record_success()  # a success resets the count: failures must be consecutive
    for _ in range(3):
        assert b.allow()
        b.record_failure()
    assert b.state == OPEN and not b.allow()
    assert b.retry_in() == pytest.approx(10)


def test_breaker_half_open_lets_one_probe_through_and_closes_on_success() -> None:
    clock = FakeClock()
    b = CircuitBreaker(threshold=1, reset_after=10, clock=clock)
    b.record_failure()
    assert b.state == OPEN
    clock.now += 9.9
    assert not b.allow()
    clock.now += 0.2
    assert b.state == HALF_OPEN
    assert b.allow()  # the probe
    assert not b.allow()  # everyone else waits for its verdict
    b.record_success()
    assert b.state == CLOSED and b.allow() and b.failures == 0


def test_breaker_half_open_failure_reopens() -> None:
    clock = FakeClock()
    b = CircuitBreaker(threshold=5, reset_after=10, clock=clock)
    for _ in range(5):
        b.record_failure()
    clock.now += 10
    assert b.allow()
    b.record_failure()  # one failed probe is enough
    assert b.state == OPEN and b.retry_in() == pytest.approx(10)


def test_breaker_probe_without_verdict_is_released() -> None:
    clock = FakeClock()
    b = CircuitBreaker(threshold=1, reset_after=1, clock=clock)
    b.record_failure()
    clock.now += 1
    assert b.allow() and not b.allow()
    b.release_probe()  # e.g. the probing request was cancelled
    assert b.allow()


# -- token bucket -----------------------------------------------------------------------------


async def test_token_bucket_spaces_calls_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(5.0, clock=clock, sleep=clock.sleep)
    sent: list[float] = []
    for _ in range(11):
        assert await bucket.acquire(max_wait=10)
        sent.append(clock.now)
    gaps = [b - a for a, b in zip(sent, sent[1:], strict=False)]
    assert all(g == pytest.approx(0.2) for g in gaps)
    # never more than rate + 1 calls in any one-second window
    assert max(sum(1 for t in sent if s <= t <= s + 1.0) for s in sent) <= 6


async def test_token_bucket_refuses_beyond_max_wait_without_booking() -> None:
    clock = FakeClock()
    bucket = TokenBucket(5.0, clock=clock, sleep=clock.sleep)
    waits = [bucket.reserve(max_wait=0.5) for _ in range(5)]
    assert waits[:3] == pytest.approx([0.0, 0.2, 0.4]) and waits[3:] == [None, None]
    assert bucket.next_free_in() == pytest.approx(0.6)
    assert not await bucket.acquire(max_wait=0.1)
    clock.now += 0.6
    assert bucket.reserve(max_wait=0.0) == 0.0


def test_token_bucket_burst() -> None:
    clock = FakeClock()
    bucket = TokenBucket(5.0, burst=3, clock=clock)
    assert [bucket.reserve(0.0) for _ in range(4)] == [0.0, 0.0, 0.0, None]


def test_token_bucket_rejects_a_zero_rate() -> None:
    with pytest.raises(ValueError):
        TokenBucket(0)


# -- negative cache ---------------------------------------------------------------------------


async def test_negative_cache_expires() -> None:
    clock = FakeClock()
    cache = MemoryNegativeCache(ttl=60, clock=clock)
    await cache.add("ZZ TOP")
    assert await cache.contains("ZZ TOP") and not await cache.contains("OTHER")
    clock.now += 59
    assert await cache.contains("ZZ TOP")
    clock.now += 2
    assert not await cache.contains("ZZ TOP") and len(cache) == 0


async def test_negative_cache_is_bounded_and_can_forget() -> None:
    cache = MemoryNegativeCache(ttl=60, max_entries=3)
    for key in "ABCD":
        await cache.add(key)
    assert [await cache.contains(k) for k in "ABCD"] == [False, True, True, True]
    await cache.discard("C")
    assert not await cache.contains("C")


async def test_negative_cache_with_zero_ttl_remembers_nothing() -> None:
    cache = MemoryNegativeCache(ttl=0)
    await cache.add("X")
    assert not await cache.contains("X")


# -- single flight ----------------------------------------------------------------------------


async def test_single_flight_shares_one_result() -> None:
    flights: SingleFlight[int] = SingleFlight()
    first, leader = flights.join("k")
    second, leader2 = flights.join("k")
    assert leader and not leader2 and first is second
    waiters = [asyncio.create_task(flights.wait(first)) for _ in range(10)]
    await asyncio.sleep(0)
    flights.settle("k", 42)
    assert await asyncio.gather(*waiters) == [42] * 10
    assert len(flights) == 0
    _third, leader3 = flights.join("k")  # settled: the next caller leads a new flight
    assert leader3


async def test_single_flight_waiter_cancelled_does_not_cancel_the_flight() -> None:
    flights: SingleFlight[int] = SingleFlight()
    fut, _ = flights.join("k")
    quitter = asyncio.create_task(flights.wait(fut))
    stayer = asyncio.create_task(flights.wait(fut))
    await asyncio.sleep(0)
    quitter.cancel()
    await asyncio.sleep(0)
    assert not fut.cancelled()
    flights.settle("k", 7)
    assert await stayer == 7


async def test_single_flight_error_reaches_every_waiter() -> None:
    flights: SingleFlight[int] = SingleFlight()
    fut, _ = flights.join("k")
    waiters = [asyncio.create_task(flights.wait(fut)) for _ in range(3)]
    await asyncio.sleep(0)
    flights.settle("k", error=RuntimeError("down"))
    results = await asyncio.gather(*waiters, return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)

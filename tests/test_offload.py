"""The CPU lane (getstar.offload): one big step at a time per worker, a bounded wait before an
answer starts, and the interpreter's switch interval short enough for the event loop."""

from __future__ import annotations

import asyncio
import sys
import threading
import time

import pytest

from getstar import offload
from getstar.errors import ServiceUnavailable


def test_one_step_at_a_time_and_a_bounded_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(offload, "LANE_WAIT", 0.2)
    running: list[int] = []
    most = [0]
    lock = threading.Lock()

    def step(seconds: float) -> str:
        with lock:
            running.append(1)
            most[0] = max(most[0], len(running))
        time.sleep(seconds)
        with lock:
            running.pop()
        return "done"

    async def scenario() -> None:
        long = asyncio.ensure_future(offload.off_loop(step, 3.0))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable) as busy:  # the lane stays taken past LANE_WAIT: 503
            await offload.off_loop_or_busy(step, 0.0)
        assert 0.15 < time.monotonic() - started < 2.5  # from the wait's bound, not the step's end
        assert busy.value.retry_after == 5 and busy.value.status_code == 503
        # queued steps of answers already being sent wait their turn, one at a time
        results = await asyncio.gather(long, offload.off_loop(step, 0.05), offload.off_loop(step, 0.05))
        assert results == ["done"] * 3
        assert await offload.off_loop_or_busy(step, 0.0) == "done"  # free again: no 503

    asyncio.run(scenario())
    assert most[0] == 1


def test_the_loop_keeps_turning_while_the_lane_computes() -> None:
    """The lane runs pure Python in a thread; the event loop keeps turning meanwhile, at the
    short switch interval (what that buys is measured by bench/hostile.py, not here)."""
    offload.use_short_switch_interval()
    assert sys.getswitchinterval() <= offload.SWITCH_INTERVAL

    def spin() -> int:
        total, deadline = 0, time.monotonic() + 0.5
        while time.monotonic() < deadline:
            total += 1
        return total

    async def scenario() -> list[float]:
        task = asyncio.ensure_future(offload.off_loop(spin))
        lags = []
        while not task.done():
            started = time.monotonic()
            await asyncio.sleep(0)
            lags.append(time.monotonic() - started)
        await task
        return lags

    assert len(asyncio.run(scenario())) > 20


def test_a_cancelled_step_keeps_the_lane_until_its_thread_ends() -> None:
    running: list[int] = []
    most = [0]
    lock = threading.Lock()

    def step() -> None:
        with lock:
            running.append(1)
            most[0] = max(most[0], len(running))
        time.sleep(0.3)
        with lock:
            running.pop()

    async def scenario() -> None:
        first = asyncio.ensure_future(offload.off_loop(step))
        await asyncio.sleep(0.05)
        first.cancel()  # the client went away: the thread runs on
        second = asyncio.ensure_future(offload.off_loop(step))
        with pytest.raises(asyncio.CancelledError):
            await first
        await second

    asyncio.run(scenario())
    assert most[0] == 1


def test_a_big_answer_is_compressed_once_however_many_ask_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from starlette.requests import Request

    from cache import CachedAnswer
    from getstar import httpcache

    calls: list[str] = []
    real = httpcache._compress

    def counted(body: bytes, coding: str) -> bytes:
        calls.append(coding)
        return real(body, coding)

    monkeypatch.setattr(httpcache, "_compress", counted)
    answer = CachedAnswer(b"x" * (httpcache.COMPRESS_OFF_LOOP_BYTES + 1), "application/json", 200, '"e"')
    request = Request({"type": "http", "method": "GET", "path": "/v1/stars", "query_string": b"",
                       "headers": [(b"accept-encoding", b"gzip")]})

    async def scenario() -> list[bytes]:
        return [r.body for r in await asyncio.gather(*(httpcache.respond(request, answer, 60) for _ in range(10)))]

    bodies = asyncio.run(scenario())
    assert calls == ["gzip"] and len(set(bodies)) == 1 and len(bodies[0]) < len(answer.body)


def test_one_client_cannot_fill_the_lane_queue(monkeypatch: pytest.MonkeyPatch) -> None:
    """A client with LANE_PER_CLIENT big requests waiting or running gets 503 at once for the
    next; another client still queues (and is served in turn); the count goes back down."""
    monkeypatch.setattr(offload, "LANE_WAIT", 5.0)
    monkeypatch.setattr(offload, "LANE_PER_CLIENT", 2)
    gate = threading.Event()

    def held() -> str:
        gate.wait(5)
        return "held"

    def quick() -> str:
        return "quick"

    async def as_client(client: str, func: object) -> str:
        token = offload.serving(client)
        try:
            return await offload.off_loop_or_busy(func)  # type: ignore[arg-type]
        finally:
            offload.served(token)

    async def scenario() -> None:
        first = asyncio.ensure_future(as_client("10.0.0.1", held))
        second = asyncio.ensure_future(as_client("10.0.0.1", quick))  # waits behind the first
        await asyncio.sleep(0.05)
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable) as busy:  # a third from the same client: at once
            await as_client("10.0.0.1", quick)
        assert time.monotonic() - started < 0.5 and busy.value.retry_after == 5
        other = asyncio.ensure_future(as_client("10.0.0.2", quick))  # another client queues
        await asyncio.sleep(0.05)
        assert not other.done()
        gate.set()
        assert await asyncio.gather(first, second, other) == ["held", "quick", "quick"]
        assert await as_client("10.0.0.1", quick) == "quick"  # its share is free again
        assert offload._lane().clients == {}
        assert await offload.lane_within(0.1) is not None  # outside a request: no client, no share

    asyncio.run(scenario())


@pytest.mark.parametrize(("one", "other", "same"), [
    ("2001:db8:1:2::1", "2001:db8:1:2:ffff:1:2:3", True),  # one /64: one share
    ("2001:db8:1:2::1", "2001:db8:1:3::1", False),
    ("::ffff:10.0.0.1", "10.0.0.1", True),  # IPv4-mapped: the IPv4 client
    ("10.0.0.1", "10.0.0.2", False),
])
def test_a_client_is_its_ipv6_64_or_its_ipv4_address(one: str, other: str, same: bool) -> None:
    """Rotating addresses inside one's /64 does not give a client more of the lane."""
    assert (offload.client_share(one) == offload.client_share(other)) is same
    token = offload.serving(one)
    try:
        assert offload._client.get() == offload.client_share(one)
    finally:
        offload.served(token)


def test_a_step_cancelled_by_a_cancel_scope_gives_the_lane_back() -> None:
    """A streamed answer's client leaving cancels its step through anyio's cancel scope
    (starlette's StreamingResponse), which cancels again at every turn of the loop: the lane
    and the client's share must come back when the thread ends all the same."""
    import anyio

    def step() -> None:
        time.sleep(0.3)

    async def streamed() -> None:
        token = offload.serving("10.0.0.9")
        try:
            await offload.off_loop(step)
        finally:
            offload.served(token)

    async def scenario() -> None:
        async with anyio.create_task_group() as group:
            group.start_soon(streamed)
            await asyncio.sleep(0.05)
            group.cancel_scope.cancel()  # the client left mid-answer
        await asyncio.sleep(0.5)  # the thread is done
        assert offload._lane().clients == {}
        lane = await offload.lane_within(0.5)
        assert lane is not None  # the lane is free again
        lane.release()

    asyncio.run(scenario())


def test_a_client_over_its_share_does_not_refuse_others_waiting_for_the_same_answer(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Client A has its share of the lane; it asks first for an answer client B asks for too
    (one computation, cache.SingleFlight): A's 503 is A's alone, B gets the answer."""
    from cache import CachedAnswer, LayeredCache

    monkeypatch.setattr(offload, "LANE_PER_CLIENT", 1)
    gate = threading.Event()
    cache = LayeredCache()

    async def as_client(client: str, coro_fn: object) -> object:
        token = offload.serving(client)
        try:
            return await coro_fn()  # type: ignore[operator]
        finally:
            offload.served(token)

    async def compute() -> CachedAnswer:
        await asyncio.sleep(0.1)  # the database part of the answer: B joins meanwhile
        body = await offload.off_loop_or_busy(lambda: b"rendered")
        return CachedAnswer(body, "text/plain")

    async def scenario() -> None:
        held = asyncio.ensure_future(as_client("10.0.0.1", lambda: offload.off_loop(gate.wait, 5)))
        await asyncio.sleep(0.05)  # A's share: one big request in the lane
        a = asyncio.ensure_future(as_client("10.0.0.1", lambda: cache.fill("k", compute)))
        await asyncio.sleep(0.02)
        b = asyncio.ensure_future(as_client("10.0.0.2", lambda: cache.fill("k", compute)))
        with pytest.raises(ServiceUnavailable):
            await a
        gate.set()
        assert (await b).body == b"rendered"  # type: ignore[attr-defined]
        await held

    asyncio.run(scenario())


def test_big_requests_are_admitted_a_few_at_once_before_they_fetch(monkeypatch: pytest.MonkeyPatch) -> None:
    """``admitted``: at most BIG_AT_ONCE big requests inside at once (each holds its rows), small
    ones never wait, a client past its share is refused at once, a long wait is a 503."""
    monkeypatch.setattr(offload, "LANE_WAIT", 0.3)
    monkeypatch.setattr(offload, "LANE_PER_CLIENT", 3)
    inside = [0]
    most = [0]

    async def request(big: bool, client: str | None, hold: float) -> str:
        token = offload.serving(client)
        try:
            async with offload.admitted(big):
                inside[0] += 1
                most[0] = max(most[0], inside[0])
                await asyncio.sleep(hold)
                inside[0] -= 1
                return "done"
        except ServiceUnavailable as exc:
            return type(exc).__name__
        finally:
            offload.served(token)

    async def scenario() -> None:
        # five big requests of five clients, each shorter than the wait: all served, two at a time
        got = await asyncio.gather(*(request(True, f"10.0.0.{k}", 0.05) for k in range(5)))
        assert got == ["done"] * 5 and most[0] == offload.BIG_AT_ONCE
        # small requests pass beside big ones holding every place
        holders = [asyncio.ensure_future(request(True, f"10.0.1.{k}", 1.0)) for k in range(offload.BIG_AT_ONCE)]
        await asyncio.sleep(0.05)
        assert await asyncio.wait_for(request(False, "10.0.2.1", 0.0), 0.2) == "done"
        # a big one waits past LANE_WAIT: 503 (Retry-After), its place given back
        assert await request(True, "10.0.2.2", 0.0) == "ServiceUnavailable"
        # one client with its share waiting is refused at once (the lane's fair share)
        mine = [asyncio.ensure_future(request(True, "10.0.3.1", 0.0)) for _ in range(3)]
        await asyncio.sleep(0.01)
        assert await asyncio.wait_for(request(True, "10.0.3.1", 0.0), 0.1) == "LaneShareExceeded"
        await asyncio.gather(*holders, *mine)
        # everything given back: a big request goes straight in
        assert await asyncio.wait_for(request(True, "10.0.4.1", 0.0), 0.1) == "done"

    asyncio.run(scenario())

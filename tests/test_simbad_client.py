"""The TAP client against recorded SIMBAD answers and injected failures (httpx.MockTransport).

A fake clock drives backoff, breaker and rate limit: nothing here really waits, except the
one test of the wall-clock per-request timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from getstar.errors import ServiceUnavailable, UpstreamTimeout
from getstar.simbad.adql import lookup_query
from getstar.simbad.breaker import CLOSED, HALF_OPEN, OPEN
from getstar.simbad.client import TapClient, parse_retry_after
from tests.simbad_standin import VOTABLE, FakeClock, Replay, form_query, recorded, simbad_settings

M1 = lookup_query(["M1", "M 1"])


def client_with(handler: Callable[[httpx.Request], Any], clock: FakeClock | None = None, **settings: Any
                ) -> tuple[TapClient, FakeClock]:
    clock = clock or FakeClock()
    client = TapClient(simbad_settings(**settings), transport=httpx.MockTransport(handler), clock=clock,
                       sleep=clock.sleep, jitter=lambda: 0.5)
    return client, clock


class Script:
    """A handler answering from a list of steps (a response, or an exception to raise)."""

    def __init__(self, *steps: httpx.Response | Exception) -> None:
        self.steps = list(steps)
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        form_query(request)
        step = self.steps[min(self.calls, len(self.steps)) - 1]
        if isinstance(step, Exception):
            raise step
        return step


def ok(body: bytes = b"") -> httpx.Response:
    return httpx.Response(200, content=body or recorded("tap_query_object_M1.vot"), headers={"content-type": VOTABLE})


async def test_replays_recorded_m1_through_a_tap_sync_post() -> None:
    replay = Replay({"M1": recorded("tap_query_object_M1.vot")})
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=replay.answer(form_query(request)))

    client, _ = client_with(handler)
    (m1,) = await client.query(M1)
    assert m1.main_id == "M   1"
    (request,) = seen
    assert request.method == "POST" and str(request.url) == "http://simbad.stand-in/sync"
    assert form_query(request) == M1
    assert client.counters["calls"] == 1 and client.breaker.state == CLOSED
    await client.close()


async def test_empty_answer_is_no_objects() -> None:
    client, _ = client_with(Script(ok(recorded("tap_query_object_TEST_empty.vot"))))
    assert await client.query(lookup_query(["TEST"])) == []


@pytest.mark.parametrize(("response", "message", "logged"), [
    (httpx.Response(500, content=b"Internal Server Error"), "HTTP 500", "HTTP 500"),
    (httpx.Response(400, content=recorded("dachs_query_error.vot")), "SIMBAD answered HTTP 400$",
     "Could not parse your query"),
    (ok(recorded("dachs_query_error.vot")), "SIMBAD refused the query$", "Field query: Could not parse"),
    (ok(recorded("tap_query_object_M1.vot")[:1500]), "could not be used$", "cannot read"),
    (httpx.Response(404, content=b"<html>not here</html>"), "HTTP 404", "HTTP 404"),
])
async def test_non_transient_failures_are_not_retried(response: httpx.Response, message: str, logged: str,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    script = Script(response)
    client, clock = client_with(script)
    with pytest.raises(ServiceUnavailable, match=message) as info:
        await client.query(M1)
    assert logged in caplog.text  # SIMBAD's own words: in the log, never in the error clients see
    assert script.calls == 1 and clock.sleeps == []
    assert info.value.retry_after and info.value.retry_after >= 1
    assert client.counters["errors"] == 1 and client.last_error is not None


@pytest.mark.parametrize("failure", [
    httpx.Response(502), httpx.Response(503), httpx.Response(504),
    httpx.ConnectError("connection refused"), httpx.RemoteProtocolError("peer closed connection"),
])
async def test_transient_failures_are_retried_with_backoff(failure: httpx.Response | Exception) -> None:
    script = Script(failure, failure, ok())
    client, clock = client_with(script, simbad_retries=2)
    (m1,) = await client.query(M1)
    assert m1.main_id == "M   1" and script.calls == 3
    # exponential: 0.25 s then 0.5 s steps, "equal jitter" (half fixed, half random; here 0.5)
    assert 0.1875 in clock.sleeps and 0.375 in clock.sleeps  # (the rate limiter's short waits aside)
    assert client.counters["retries"] == 2 and client.breaker.state == CLOSED


async def test_backoff_has_jitter() -> None:
    delays = []
    for draw in (lambda: 0.0, lambda: 1.0):
        clock = FakeClock()
        client = TapClient(simbad_settings(simbad_retries=1), clock=clock, sleep=clock.sleep, jitter=draw,
                           transport=httpx.MockTransport(Script(httpx.Response(503), ok())))
        await client.query(M1)
        delays.append([s for s in clock.sleeps if s >= 0.125])  # the backoff (the rate limiter's aside)
    assert delays[0] != delays[1]


async def test_retries_run_out_then_503() -> None:
    script = Script(httpx.ConnectError("refused"))
    client, _ = client_with(script, simbad_retries=2)
    with pytest.raises(ServiceUnavailable, match="cannot be reached") as info:
        await client.query(M1)
    assert script.calls == 3 and info.value.retry_after


async def test_timeout_is_504_after_retries() -> None:
    script = Script(httpx.ReadTimeout("read timed out"))
    client, _ = client_with(script, simbad_retries=1)
    with pytest.raises(UpstreamTimeout, match="did not answer within") as info:
        await client.query(M1)
    assert script.calls == 2 and info.value.retry_after
    assert client.last_error is not None and client.last_error["timeout"] is True


async def test_per_request_timeout_is_wall_clock() -> None:
    """A server that accepts but never answers is cut at simbad_timeout (the one real wait here)."""
    release = asyncio.Event()

    async def never(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return ok()

    clock = FakeClock()
    client = TapClient(simbad_settings(simbad_timeout=0.05, simbad_retries=0), transport=httpx.MockTransport(never),
                       clock=clock, sleep=clock.sleep)
    with pytest.raises(UpstreamTimeout):
        await client.query(M1)
    release.set()


async def test_retry_after_is_honoured() -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "2"}), ok())
    client, clock = client_with(script)
    await client.query(M1)
    assert script.calls == 2 and 2.0 in clock.sleeps


async def test_long_retry_after_fails_fast_and_holds_later_calls() -> None:
    script = Script(httpx.Response(503, headers={"Retry-After": "3600"}), ok())
    client, clock = client_with(script)
    with pytest.raises(ServiceUnavailable) as info:
        await client.query(M1)
    assert script.calls == 1 and info.value.retry_after == pytest.approx(3600)
    with pytest.raises(ServiceUnavailable, match="Retry-After"):
        await client.query(M1)
    assert script.calls == 1  # nothing sent while SIMBAD asked us to wait
    clock.now += 3601
    await client.query(M1)
    assert script.calls == 2


def test_parse_retry_after() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == pytest.approx(30)
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    assert parse_retry_after("²") is None and parse_retry_after("٣") is None  # digits int() and float() refuse


async def test_breaker_opens_fails_fast_then_probes_and_closes() -> None:
    script = Script(httpx.Response(500), httpx.Response(500), httpx.Response(500), ok())
    client, clock = client_with(script, simbad_breaker_threshold=3, simbad_breaker_reset=30)
    for _ in range(3):
        with pytest.raises(ServiceUnavailable):
            await client.query(M1)
    assert client.breaker.state == OPEN
    with pytest.raises(ServiceUnavailable, match="circuit open") as info:
        await client.query(M1)
    assert script.calls == 3  # open: SIMBAD is not called
    assert 1 <= (info.value.retry_after or 0) <= 30
    clock.now += 30
    assert client.breaker.state == HALF_OPEN
    (m1,) = await client.query(M1)  # the probe succeeds
    assert client.breaker.state == CLOSED and script.calls == 4


async def test_open_breaker_stops_retries() -> None:
    script = Script(httpx.Response(503))
    client, _ = client_with(script, simbad_breaker_threshold=2, simbad_retries=5)
    with pytest.raises(ServiceUnavailable):
        await client.query(M1)
    assert script.calls == 2 and client.breaker.state == OPEN


async def test_rate_limit_spaces_queries_and_refuses_a_flood() -> None:
    sent: list[float] = []
    clock = FakeClock()

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(clock.now)
        return ok()

    client = TapClient(simbad_settings(simbad_rate=5.0, simbad_timeout=1.0), transport=httpx.MockTransport(handler),
                       clock=clock, sleep=clock.sleep)
    for _ in range(6):
        await client.query(M1)
    assert [round(b - a, 6) for a, b in zip(sent, sent[1:], strict=False)] == [0.2] * 5
    # a flood: slots further away than the timeout are refused at once, SIMBAD never sees them
    bucket = client.limiter
    for _ in range(5):
        bucket.reserve(10)  # type: ignore[attr-defined]
    with pytest.raises(ServiceUnavailable, match="rate limit") as info:
        await client.query(M1)
    assert len(sent) == 6 and info.value.retry_after and client.counters["rejected"] == 1


async def test_status_for_health() -> None:
    client, _ = client_with(Script(httpx.Response(500)))
    with pytest.raises(ServiceUnavailable):
        await client.query(M1)
    status = client.status()
    assert status["breaker"]["state"] == CLOSED and status["breaker"]["consecutive_failures"] == 1
    assert status["calls"] == 1 and status["errors"] == 1 and "HTTP 500" in status["last_error"]["message"]

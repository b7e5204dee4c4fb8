"""The async TAP client for SIMBAD: one ADQL query in, ``SimbadObject`` rows out.

TAP sync POST (``REQUEST=doQuery&LANG=ADQL&FORMAT=votable&QUERY=…``) on ``httpx.AsyncClient``.
Around each query: the circuit breaker (fail fast while SIMBAD is down), the rate limiter
(SIMBAD's ~6 queries/s policy), a per-request timeout, and retries with exponential backoff
and jitter on transient failures only (connect errors, dropped connections, timeouts, HTTP
429/502/503/504).  HTTP 4xx/500, ``QUERY_STATUS=ERROR`` and unreadable answers are not retried.
A ``Retry-After`` from SIMBAD (429/503) is honoured: no query goes out before it expires.

Failures leave as the service's named errors: ``UpstreamTimeout`` (504) for timeouts,
``ServiceUnavailable`` (503) otherwise, both with ``retry_after``.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from getstar import __version__
from getstar.config import Settings
from getstar.errors import GetStarError, ServiceUnavailable, UpstreamTimeout
from getstar.simbad.breaker import OPEN, CircuitBreaker
from getstar.simbad.parse import SimbadObject, TapFormatError, TapQueryError, error_message, parse_votable
from getstar.simbad.ratelimit import RateLimiter, TokenBucket

TRANSIENT_STATUS = frozenset({429, 502, 503, 504})
BACKOFF_BASE = 0.25
#: Seconds suggested to clients when nothing better is known.
DEFAULT_RETRY_AFTER = 5.0

log = logging.getLogger("getstar.simbad")


class _Failure(Exception):
    """One failed attempt, classified."""

    def __init__(self, message: str, *, transient: bool, timeout: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.timeout = timeout
        self.retry_after = retry_after


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class TapClient:
    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None,
                 breaker: CircuitBreaker | None = None, limiter: RateLimiter | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
                 jitter: Callable[[], float] = random.random) -> None:
        self.url = settings.simbad_tap_url
        self.timeout = settings.simbad_timeout
        self.retries = max(0, settings.simbad_retries)
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter
        self.breaker = breaker if breaker is not None else CircuitBreaker(
            settings.simbad_breaker_threshold, settings.simbad_breaker_reset, clock)
        self.limiter: RateLimiter = (limiter if limiter is not None
                                     else TokenBucket(settings.simbad_rate, clock=clock, sleep=sleep))
        self.http = httpx.AsyncClient(
            transport=transport, timeout=httpx.Timeout(self.timeout),
            headers={"User-Agent": f"getstar/{__version__} (SIMBAD fallback)"}, follow_redirects=True)
        self.counters = {"calls": 0, "errors": 0, "retries": 0, "rejected": 0}
        self.last_error: dict[str, Any] | None = None
        self._hold_until = 0.0

    async def close(self) -> None:
        await self.http.aclose()

    # -- the one public call --------------------------------------------------------------
    async def query(self, adql: str, *, max_wait: float | None = None) -> list[SimbadObject]:
        """Objects SIMBAD returns for ``adql``; ``max_wait``: how long to queue for a rate slot."""
        attempt = 0
        while True:
            self._refuse_if_closed_for_now()
            if not await self.limiter.acquire(self.timeout if max_wait is None else max_wait):
                self.counters["rejected"] += 1
                raise ServiceUnavailable("too many SIMBAD lookups queued (rate limit); try again shortly",
                                         retry_after=max(1.0, self.limiter.next_free_in()))
            self._refuse_if_closed_for_now()
            if not self.breaker.allow():  # half-open: another caller holds the probe
                self.counters["rejected"] += 1
                raise ServiceUnavailable("SIMBAD is being probed after failures; try again shortly",
                                         retry_after=DEFAULT_RETRY_AFTER)
            try:
                objects = await self._once(adql)
            except _Failure as failure:
                self._record(failure)
                delay = self._retry_delay(failure, attempt)
                if delay is None:
                    raise self._public(failure) from None
                self.counters["retries"] += 1
                await self.sleep(delay)
                attempt += 1
                continue
            except BaseException:
                self.breaker.release_probe()  # cancelled mid-call: no verdict on SIMBAD's health
                raise
            self.breaker.record_success()
            return objects

    # -- pieces -----------------------------------------------------------------------------
    async def _once(self, adql: str) -> list[SimbadObject]:
        form = {"REQUEST": "doQuery", "LANG": "ADQL", "FORMAT": "votable", "QUERY": adql}
        self.counters["calls"] += 1
        try:
            async with asyncio.timeout(self.timeout):
                response = await self.http.post(self.url, data=form)
        except (TimeoutError, httpx.TimeoutException):
            raise _Failure(f"SIMBAD did not answer within {self.timeout:g} s", transient=True, timeout=True) from None
        except httpx.TransportError as exc:
            # the OS's words ("[Errno -2] Name or service not known") go to the log, ours to the client
            log.warning("SIMBAD request failed: %s: %s", type(exc).__name__, exc)
            what = "could not connect" if isinstance(exc, httpx.ConnectError) else "the connection failed"
            raise _Failure(f"SIMBAD cannot be reached ({what})", transient=True) from None
        status = response.status_code
        if status in TRANSIENT_STATUS:
            wait = parse_retry_after(response.headers.get("retry-after"))
            if wait is not None:
                self._hold_until = max(self._hold_until, self.clock() + wait)
            raise _Failure(f"SIMBAD answered HTTP {status}", transient=True, retry_after=wait)
        if status >= 400:
            raise _Failure(f"SIMBAD answered HTTP {status}{_error_detail(response.content)}", transient=False)
        try:
            return parse_votable(response.content)
        except TapQueryError as exc:
            raise _Failure(f"SIMBAD refused the query: {exc}", transient=False) from None
        except TapFormatError as exc:
            raise _Failure(f"SIMBAD's answer is unreadable: {exc}", transient=False) from None

    def _refuse_if_closed_for_now(self) -> None:
        hold = self._hold_until - self.clock()
        if hold > 0:
            self.counters["rejected"] += 1
            raise ServiceUnavailable(f"SIMBAD asked us to wait {hold:.0f} s (Retry-After)", retry_after=hold)
        if self.breaker.state == OPEN:
            self.counters["rejected"] += 1
            last = f": {self.last_error['message']}" if self.last_error else ""
            raise ServiceUnavailable(f"SIMBAD is unavailable (circuit open after repeated failures{last})",
                                     retry_after=max(1.0, self.breaker.retry_in()))

    def _retry_delay(self, failure: _Failure, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when this failure is final."""
        if not failure.transient or attempt >= self.retries or self.breaker.state == OPEN:
            return None
        if failure.retry_after is not None:
            return failure.retry_after if failure.retry_after <= self.timeout else None
        step = BACKOFF_BASE * (2 ** attempt)
        return step / 2 + self.jitter() * step / 2  # exponential backoff, "equal jitter"

    def _record(self, failure: _Failure) -> None:
        self.counters["errors"] += 1
        self.breaker.record_failure()
        self.last_error = {"message": failure.message, "at": datetime.now(UTC).isoformat(),
                           "timeout": failure.timeout}

    def _public(self, failure: _Failure) -> GetStarError:
        retry = max(1.0, self._hold_until - self.clock(), self.breaker.retry_in(),
                    failure.retry_after or 0.0)
        if failure.retry_after is None and self.breaker.state != OPEN:
            retry = max(retry, DEFAULT_RETRY_AFTER)
        if failure.timeout:
            return UpstreamTimeout(failure.message, retry_after=retry)
        return ServiceUnavailable(failure.message, retry_after=retry)

    def status(self) -> dict[str, Any]:
        hold = self._hold_until - self.clock()
        return {"url": self.url, "breaker": self.breaker.snapshot(), "last_error": self.last_error,
                "retry_after_hold_s": round(hold, 3) if hold > 0 else None, **self.counters}



def _error_detail(content: bytes) -> str:
    message = error_message(content)
    return f": {message[:300]}" if message else ""

"""The async TAP client for SIMBAD: one ADQL query in, ``SimbadObject`` rows out.

TAP sync POST (``REQUEST=doQuery&LANG=ADQL&FORMAT=votable&QUERY=…``) on ``httpx.AsyncClient``;
``query_upload`` adds tables as TAP_UPLOAD (multipart POST, ``UPLOAD=name,param:name`` and
the VOTable as the part ``name``; TAP 1.1 §3.3.2 / DALI).  Why not pyvo's ``run_sync``: it
is synchronous (requests) and has none of what follows; pyvo reads the capabilities
(``getstar.simbad.limits``) and astropy writes the uploaded VOTable.
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
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import httpx

from getstar import __version__
from getstar.config import Settings
from getstar.errors import GetStarError, ServiceUnavailable, UploadTooLarge, UpstreamRefused, UpstreamTimeout
from getstar.simbad.breaker import OPEN, CircuitBreaker
from getstar.simbad.parse import (
    SimbadObject,
    TapFormatError,
    TapOverflowError,
    TapQueryError,
    error_message,
    parse_matches,
    parse_votable,
)
from getstar.simbad.ratelimit import RateLimiter, TokenBucket

TRANSIENT_STATUS = frozenset({429, 502, 503, 504})
BACKOFF_BASE = 0.25
#: Seconds suggested to clients when nothing better is known.
DEFAULT_RETRY_AFTER = 5.0
VOTABLE_TYPE = "application/x-votable+xml"

T = TypeVar("T")
Files = Mapping[str, tuple[str, bytes, str]]

log = logging.getLogger("getstar.simbad")


class _Failure(Exception):
    """One failed attempt, classified."""

    def __init__(self, message: str, *, transient: bool, timeout: bool = False,
                 retry_after: float | None = None, refused: bool = False, too_large: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.timeout = timeout
        self.retry_after = retry_after
        self.refused = refused  # the service answered, and said no: the same query will fail again
        self.too_large = too_large  # ... because the upload is too large (413): a smaller one may pass


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
                 jitter: Callable[[], float] = random.random, purpose: str = "SIMBAD fallback") -> None:
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
            headers={"User-Agent": f"getstar/{__version__} ({purpose})"}, follow_redirects=True)
        self.counters = {"calls": 0, "errors": 0, "retries": 0, "rejected": 0}
        self.last_error: dict[str, Any] | None = None
        self._hold_until = 0.0

    async def close(self) -> None:
        await self.http.aclose()

    # -- the public calls ------------------------------------------------------------------
    async def query(self, adql: str, *, max_wait: float | None = None) -> list[SimbadObject]:
        """Objects SIMBAD returns for ``adql``; ``max_wait``: how long to queue for a rate slot."""
        form = {"REQUEST": "doQuery", "LANG": "ADQL", "FORMAT": "votable", "QUERY": adql}
        return await self._request(form, None, parse_votable, max_wait)

    async def query_upload(self, adql: str, uploads: Mapping[str, bytes], *, maxrec: int,
                           max_wait: float | None = None) -> tuple[list[SimbadObject], list[tuple[int, int]]]:
        """``adql`` over the uploaded VOTables (``TAP_UPLOAD.<name>``): objects and (star, oid) pairs.

        ``maxrec``: rows asked for at most; an answer cut there (OVERFLOW) is a failure, never
        a silently shorter answer.
        """
        form = {"REQUEST": "doQuery", "LANG": "ADQL", "FORMAT": "votable", "QUERY": adql, "MAXREC": str(maxrec),
                "UPLOAD": ";".join(f"{name},param:{name}" for name in uploads)}
        files = {name: (f"{name}.xml", data, VOTABLE_TYPE) for name, data in uploads.items()}
        return await self._request(form, files, parse_matches, max_wait)

    async def _request(self, form: dict[str, str], files: Files | None, read: Callable[[bytes], T],
                       max_wait: float | None) -> T:
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
                answer = await self._once(form, files, read)
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
            return answer

    # -- pieces -----------------------------------------------------------------------------
    async def _once(self, form: dict[str, str], files: Files | None, read: Callable[[bytes], T]) -> T:
        self.counters["calls"] += 1
        try:
            async with asyncio.timeout(self.timeout):
                response = await self.http.post(self.url, data=form, files=files)
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
        if status == 413:
            raise _Failure(f"SIMBAD refuses an upload this large (HTTP 413){_error_detail(response.content)}",
                           transient=False, refused=True, too_large=True)
        if status >= 400:
            detail = _error_detail(response.content)
            raise _Failure(f"SIMBAD answered HTTP {status}{detail}", transient=False,
                           refused=bool(detail) and status < 500)
        try:
            return read(response.content)
        except TapOverflowError as exc:
            raise _Failure(f"SIMBAD's answer is incomplete: {exc}", transient=False, refused=True) from None
        except TapQueryError as exc:
            raise _Failure(f"SIMBAD refused the query: {exc}", transient=False, refused=True) from None
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
        if failure.too_large:
            return UploadTooLarge(failure.message, retry_after=retry)
        if failure.refused:
            return UpstreamRefused(failure.message, retry_after=retry)
        return ServiceUnavailable(failure.message, retry_after=retry)

    async def get(self, url: str) -> bytes:
        """A plain GET of a service document (VOSI capabilities), inside the rate limit."""
        if not await self.limiter.acquire(self.timeout):
            raise ServiceUnavailable("no SIMBAD rate slot free (rate limit)", retry_after=self.limiter.next_free_in())
        self.counters["calls"] += 1
        try:
            async with asyncio.timeout(self.timeout):
                response = await self.http.get(url)
        except (TimeoutError, httpx.HTTPError) as exc:
            raise ServiceUnavailable(f"{url}: {type(exc).__name__}: {exc}", retry_after=DEFAULT_RETRY_AFTER) from None
        if response.status_code != 200:
            raise ServiceUnavailable(f"{url}: HTTP {response.status_code}", retry_after=DEFAULT_RETRY_AFTER)
        return response.content

    def status(self) -> dict[str, Any]:
        hold = self._hold_until - self.clock()
        return {"url": self.url, "breaker": self.breaker.snapshot(), "last_error": self.last_error,
                "retry_after_hold_s": round(hold, 3) if hold > 0 else None, **self.counters}



def _error_detail(content: bytes) -> str:
    message = error_message(content)
    return f": {message[:300]}" if message else ""

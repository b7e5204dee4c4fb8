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
``ServiceUnavailable`` (503) otherwise, both with ``retry_after``.  Their message is ours, short
and fixed ("SIMBAD answered HTTP 400", "SIMBAD did not answer within 5 s"): it reaches clients
and ``/health``.  What SIMBAD or the OS said (an error document quoting the query, an exception
text) goes to the log only.

An answer is read up to ``simbad_max_answer_bytes`` (announced or as it arrives), then parsed in
the worker's CPU lane (``getstar.offload``), never on the event loop, after ``parse.check_safe``.
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
from urllib.parse import urlsplit, urlunsplit

import httpx

from getstar import __version__
from getstar.config import Settings
from getstar.errors import GetStarError, ServiceUnavailable, UploadTooLarge, UpstreamRefused, UpstreamTimeout
from getstar.offload import off_loop
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
from getstar.wholenumbers import whole_number

TRANSIENT_STATUS = frozenset({429, 502, 503, 504})
BACKOFF_BASE = 0.25
#: Seconds suggested to clients when nothing better is known.
DEFAULT_RETRY_AFTER = 5.0
VOTABLE_TYPE = "application/x-votable+xml"
#: Characters of SIMBAD's or the OS's words kept in a log line.
LOG_DETAIL = 300
_CONTROL = str.maketrans({c: " " for c in range(32)})

T = TypeVar("T")
Files = Mapping[str, tuple[str, bytes, str]]

log = logging.getLogger("getstar.simbad")


class _Failure(Exception):
    """One failed attempt, classified: ``message`` in our words (for clients), ``detail`` with
    what SIMBAD or the OS said (for the log only)."""

    def __init__(self, message: str, detail: str = "", *, transient: bool, timeout: bool = False,
                 retry_after: float | None = None, refused: bool = False, too_large: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.transient = transient
        self.timeout = timeout
        self.retry_after = retry_after
        self.refused = refused  # the service answered, and said no: the same query will fail again
        self.too_large = too_large  # ... because the upload is too large (413): a smaller one may pass


class _AnswerTooLarge(Exception):
    """The answer is longer than ``max_answer_bytes``."""


def public_url(url: str) -> str:
    """``url`` without credentials, query or fragment: what ``/health`` may show of it."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        return "(unreadable URL)"
    if ":" in host:  # IPv6
        host = f"[{host}]"
    return urlunsplit((parts.scheme, host + port, parts.path, "", ""))


def _for_log(text: str) -> str:
    """Someone else's words, on one line and short, for a log line."""
    return text.translate(_CONTROL)[:LOG_DETAIL]


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date); None if absent/bad."""
    if not value:
        return None
    seconds = whole_number(value)
    if seconds is not None:
        return float(seconds)
    value = value.strip()
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
        self.max_answer_bytes = settings.simbad_max_answer_bytes
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
            headers={"User-Agent": f"getstar/{__version__} ({purpose})"},
            # never followed: a redirect would send our query (and a GET) wherever the answer says
            follow_redirects=False)
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
        status, headers, content = await self._post(form, files)
        if status in TRANSIENT_STATUS:
            wait = parse_retry_after(headers.get("retry-after"))
            if wait is not None:
                self._hold_until = max(self._hold_until, self.clock() + wait)
            raise _Failure(f"SIMBAD answered HTTP {status}", transient=True, retry_after=wait)
        if 300 <= status < 400:
            raise _Failure(f"SIMBAD answered HTTP {status} (a redirect: not followed)", transient=False)
        if status >= 400:
            raise await self._refusal(status, content)
        return await self._parse(read, content)

    async def _post(self, form: dict[str, str], files: Files | None) -> tuple[int, httpx.Headers, bytes]:
        """Status, headers and body of one query, within ``timeout`` and ``max_answer_bytes``."""
        try:
            async with asyncio.timeout(self.timeout):
                async with self.http.stream("POST", self.url, data=form, files=files) as response:
                    return response.status_code, response.headers, await self._body(response)
        except (TimeoutError, httpx.TimeoutException):
            raise _Failure(f"SIMBAD did not answer within {self.timeout:g} s", transient=True, timeout=True) from None
        except _AnswerTooLarge:
            raise _Failure(f"SIMBAD's answer is larger than {self.max_answer_bytes} bytes", transient=False) from None
        except httpx.TransportError as exc:
            what = "could not connect" if isinstance(exc, httpx.ConnectError) else "the connection failed"
            raise _Failure(f"SIMBAD cannot be reached ({what})", f"{type(exc).__name__}: {exc}",
                           transient=True) from None
        except httpx.HTTPError as exc:  # a body that does not decode, a redirect loop
            raise _Failure("SIMBAD's answer could not be used", f"{type(exc).__name__}: {exc}",
                           transient=False) from None

    async def _body(self, response: httpx.Response) -> bytes:
        """The answer's bytes; ``_AnswerTooLarge`` past ``max_answer_bytes``, announced or as they arrive."""
        declared = whole_number(response.headers.get("content-length", ""))
        if declared is not None and declared > self.max_answer_bytes:
            raise _AnswerTooLarge
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self.max_answer_bytes:
                raise _AnswerTooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    async def _refusal(self, status: int, content: bytes) -> _Failure:
        """An HTTP error answer (4xx, 500): SIMBAD's message, if it sent one, goes to the log only."""
        message = await off_loop(error_message, content)
        detail = f"SIMBAD answered HTTP {status}: {message}" if message else ""
        if status == 413:
            return _Failure("SIMBAD refuses an upload this large (HTTP 413)", detail, transient=False,
                            refused=True, too_large=True)
        return _Failure(f"SIMBAD answered HTTP {status}", detail, transient=False,
                        refused=bool(message) and status < 500)

    async def _parse(self, read: Callable[[bytes], T], content: bytes) -> T:
        """``read(content)`` in the CPU lane; an answer that cannot be used is a failure."""
        try:
            return await off_loop(read, content)
        except TapOverflowError as exc:
            raise _Failure("SIMBAD's answer is incomplete (cut at the row limit)", str(exc), transient=False,
                           refused=True) from None
        except TapQueryError as exc:
            raise _Failure("SIMBAD refused the query", f"SIMBAD refused the query: {exc}", transient=False,
                           refused=True) from None
        except TapFormatError as exc:  # unreadable, or refused unread (parse.check_safe)
            raise _Failure("SIMBAD's answer could not be used", f"{type(exc).__name__}: {exc}",
                           transient=False) from None

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
        if failure.detail:
            log.warning("%s (%s)", failure.message, _for_log(failure.detail))
        else:
            log.warning("%s", failure.message)
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
        shown = public_url(url)
        try:
            async with asyncio.timeout(self.timeout):
                async with self.http.stream("GET", url) as response:
                    status, content = response.status_code, await self._body(response)
        except _AnswerTooLarge:
            raise ServiceUnavailable(f"{shown}: more than {self.max_answer_bytes} bytes",
                                     retry_after=DEFAULT_RETRY_AFTER) from None
        except (TimeoutError, httpx.HTTPError) as exc:
            log.warning("GET %s failed: %s", shown, _for_log(f"{type(exc).__name__}: {exc}"))
            raise ServiceUnavailable(f"{shown}: {type(exc).__name__}", retry_after=DEFAULT_RETRY_AFTER) from None
        if status != 200:
            raise ServiceUnavailable(f"{shown}: HTTP {status}", retry_after=DEFAULT_RETRY_AFTER)
        return content

    def status(self) -> dict[str, Any]:
        hold = self._hold_until - self.clock()
        return {"url": public_url(self.url), "breaker": self.breaker.snapshot(), "last_error": self.last_error,
                "retry_after_hold_s": round(hold, 3) if hold > 0 else None, **self.counters}


"""``Client`` (blocking) and ``AsyncClient`` (asyncio), both on httpx, with the same methods.

Every method returns plain dicts (the service's JSON ``results`` entries) by default, or an
``astropy.table.Table`` with ``table=True`` (units, UCDs and the ``.origin`` /
``.confidence`` columns, read from the service's VOTable 1.4).  Answers 429/503/504 are
asked again after the pause the service gives in ``Retry-After`` (bounded: ``retries``
attempts, each pause at most ``max_retry_wait`` seconds); so are connections refused.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import httpx

from getstar_client import _core
from getstar_client._core import Call, RetryPolicy
from getstar_client.errors import Unreachable

DEFAULT_URL = "http://127.0.0.1:8000"
_RETRY_TRANSPORT = (httpx.ConnectError, httpx.ConnectTimeout)


def _user_agent() -> dict[str, str]:
    from getstar_client import __version__

    return {"User-Agent": f"getstar-client/{__version__}"}


class Client:
    """A blocking client; use it as a context manager or call ``close()``."""

    def __init__(self, url: str = DEFAULT_URL, *, timeout: float = 30.0, retries: int = 3,
                 max_retry_wait: float = 30.0, headers: dict[str, str] | None = None,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.url = url.rstrip("/")
        self.policy = RetryPolicy(retries, max_retry_wait)
        self._sleep = sleep
        self._http = httpx.Client(base_url=self.url, timeout=timeout, transport=transport,
                                  headers={**_user_agent(), **(headers or {})})

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def send(self, call: Call) -> httpx.Response:
        """One request, asked again while the answer says 'later' (bounded)."""
        attempt = 0
        while True:
            try:
                response = self._http.request(call.method, call.path, params=call.params, content=call.content,
                                              headers=call.headers)
            except _RETRY_TRANSPORT as exc:
                wait = self.policy.delay(attempt, None)
                if wait is None:
                    raise Unreachable(0, f"cannot connect to {self.url}: {exc}") from exc
            else:
                wait = self.policy.delay(attempt, response)
                if wait is None:
                    return response
            self._sleep(wait)
            attempt += 1

    def resolve(self, names: str | Iterable[str], *, table: bool = False) -> Any:
        """Star names (or 'RA DEC' strings) -> one result per name, in order (``table``: found stars)."""
        fmt = "votable" if table else "json"
        parts = []
        for chunk, call in _core.name_calls(_core.names_list(names), fmt):
            response = self.send(call)
            if table and _core.single_name_miss(chunk, response, parse=False):
                response = self.send(_core.name_calls(chunk, "json")[0][1])  # suggestions are in the JSON problem
            parts.append(_core.names_answer(chunk, response, table))
        return _core.join(parts, table)

    def cone(self, ra: Any, dec: Any, radius: Any = 5.0, *, limit: int = 10, epoch: Any = None,
             table: bool = False) -> Any:
        """Stars within ``radius`` (arcsec, or a string/Quantity with its unit) of (ra, dec), nearest first."""
        fmt = "votable" if table else "json"
        return _core.rows_answer(self.send(_core.cone_call(ra, dec, radius, limit, epoch, fmt)), table)

    def xmatch(self, targets: Any, *, radius: Any = 2.0, epoch: Any = None, table: bool = False) -> Any:
        """Cross-identify a target list (dicts, an astropy Table, CSV text or a CSV path): one row per
        target, in order, with the match flag, separation, candidates and key properties."""
        fmt = "votable" if table else "json"
        return _core.rows_answer(self.send(_core.xmatch_call(targets, radius, epoch, fmt)), table)

    def document(self, names: str | Iterable[str], fmt: str = "votable11") -> bytes:
        """The service's document for ``names`` as it is (``votable11``: GetStar's VOTable 1.1)."""
        chunks = _core.name_calls(_core.names_list(names), fmt)
        if len(chunks) != 1:
            raise ValueError(f"at most {_core.NAMES_PER_REQUEST} names per document")
        response = self.send(chunks[0][1])
        if not response.is_success:
            raise _core.final_error(response)
        return response.content


class AsyncClient:
    """The asyncio twin of ``Client``: ``async with AsyncClient(url) as c: await c.resolve(...)``."""

    def __init__(self, url: str = DEFAULT_URL, *, timeout: float = 30.0, retries: int = 3,
                 max_retry_wait: float = 30.0, headers: dict[str, str] | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        self.url = url.rstrip("/")
        self.policy = RetryPolicy(retries, max_retry_wait)
        self._sleep = sleep
        self._http = httpx.AsyncClient(base_url=self.url, timeout=timeout, transport=transport,
                                       headers={**_user_agent(), **(headers or {})})

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, call: Call) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = await self._http.request(call.method, call.path, params=call.params,
                                                    content=call.content, headers=call.headers)
            except _RETRY_TRANSPORT as exc:
                wait = self.policy.delay(attempt, None)
                if wait is None:
                    raise Unreachable(0, f"cannot connect to {self.url}: {exc}") from exc
            else:
                wait = self.policy.delay(attempt, response)
                if wait is None:
                    return response
            await self._sleep(wait)
            attempt += 1

    async def resolve(self, names: str | Iterable[str], *, table: bool = False) -> Any:
        fmt = "votable" if table else "json"
        parts = []
        for chunk, call in _core.name_calls(_core.names_list(names), fmt):
            response = await self.send(call)
            if table and _core.single_name_miss(chunk, response, parse=False):
                response = await self.send(_core.name_calls(chunk, "json")[0][1])
            parts.append(_core.names_answer(chunk, response, table))
        return _core.join(parts, table)

    async def cone(self, ra: Any, dec: Any, radius: Any = 5.0, *, limit: int = 10, epoch: Any = None,
                   table: bool = False) -> Any:
        fmt = "votable" if table else "json"
        return _core.rows_answer(await self.send(_core.cone_call(ra, dec, radius, limit, epoch, fmt)), table)

    async def xmatch(self, targets: Any, *, radius: Any = 2.0, epoch: Any = None, table: bool = False) -> Any:
        fmt = "votable" if table else "json"
        return _core.rows_answer(await self.send(_core.xmatch_call(targets, radius, epoch, fmt)), table)

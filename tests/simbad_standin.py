"""SIMBAD stand-ins for the fallback tests: recorded SIMBAD answers, replayed.

- ``recorded(name)``: a recorded answer from ``tests/data/simbad`` (see its README).
- ``sirius_votable()``: the recorded Sirius TAP row laid out as getstar's own query returns it.
- ``Replay``: which answer for which ADQL query (by the names in its ``q.id`` condition).
- ``mock_transport``: ``httpx.MockTransport`` around a ``Replay``, counting calls.
- ``Gate``: a MockTransport handler holding every answer until released; ``fallback_with``: a
  ``SimbadFallback`` without a database on such a handler and a fake clock.
- ``StandinServer``: a starlette app under uvicorn on a loopback port, same replay, with
  fault modes: ``slow`` (answers after ``delay`` s), ``hold`` (answers once ``release`` is set),
  ``error`` (HTTP ``status``), ``drop``
  (closes the connection in the middle of the answer), ``answer`` (answers ``body`` with HTTP
  ``status``, whatever was asked: a hostile TAP service); ``/probe`` counts who fetched it
  (``probed``: an answer's reference the service must never follow).
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from getstar.simbad.client import TapClient
from getstar.simbad.fallback import SimbadFallback
from getstar.simbad.negcache import MemoryNegativeCache
from tests.conftest import free_port

DATA = Path(__file__).parent / "data" / "simbad"
VOTABLE = "application/x-votable+xml"
_LITERAL = re.compile(r"'((?:[^']|'')*)'")


def recorded(name: str) -> bytes:
    return (DATA / name).read_bytes()


def names_in(query: str) -> list[str]:
    """The string literals of the query's WHERE clause (the names asked), unescaped."""
    where = query[query.index("\nWHERE q.id"):]
    return [m.replace("''", "'") for m in _LITERAL.findall(where)]


def loose(name: str) -> str:
    s = re.sub(r"\s+", "", name).upper()
    return s[4:] if s.startswith("NAME") and len(s) > 4 else s


def sirius_votable(*matched_ids: str) -> bytes:
    """The recorded SIMBAD TAP row of Sirius (tap_json_row_sirius.json) in getstar's query layout.

    The values are SIMBAD's; the VOTable around them is written here (no oid was recorded:
    the parser derives a stable one from main_id).  One row per matched identifier.
    """
    from astropy.table import MaskedColumn, Table

    row = json.loads(recorded("tap_json_row_sirius.json"))["data"][0]
    (main_id, ra, dec, coo_qual, pmra, pmdec, pm_qual, plx, plx_qual, rv, rv_qual, v, v_err, v_qual, ids) = row
    matched = list(matched_ids) or ["* alf CMa"]
    n = len(matched)
    table = Table()
    for name, value in (("main_id", main_id), ("ra", ra), ("dec", dec), ("coo_qual", coo_qual),
                        ("pmra", pmra), ("pmdec", pmdec), ("pm_qual", pm_qual), ("plx_value", plx),
                        ("plx_qual", plx_qual), ("rvz_radvel", rv), ("rvz_qual", rv_qual), ("flux_v", v),
                        ("flux_v_err", v_err), ("flux_v_qual", v_qual), ("ids", ids)):
        table[name] = MaskedColumn([0.0] * n, mask=[True] * n) if value is None else [value] * n
    table["matched_id"] = matched
    return _results_votable(table)


class Replay:
    """Answers by name (SIMBAD's loose matching); names nobody recorded get the empty answer."""

    def __init__(self, answers: dict[str, bytes | Callable[[], bytes]] | None = None) -> None:
        self.answers = {loose(k): v for k, v in (answers or {}).items()}
        self.calls = 0
        self.queries: list[str] = []

    def answer(self, query: str) -> bytes:
        """The recorded answer of the name asked; for a batch, their rows in one table."""
        self.calls += 1
        self.queries.append(query)
        found: dict[int, bytes] = {}
        for name in names_in(query):
            answer = self.answers.get(loose(name))
            if answer is not None:
                found.setdefault(id(answer), answer() if callable(answer) else answer)
        if not found:
            return recorded("tap_query_object_TEST_empty.vot")
        if len(found) == 1:
            return next(iter(found.values()))
        return merged(list(found.values()))


def merged(answers: list[bytes]) -> bytes:
    """Several answers' rows as one VOTable (columns one answer lacks are empty)."""
    import warnings

    from astropy.io.votable import parse_single_table
    from astropy.table import vstack

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tables = [parse_single_table(io.BytesIO(a)).to_table() for a in answers]
        for t in tables:  # the recorded answers disagree on string types (object / fixed width)
            for name in t.colnames:
                if t[name].dtype.kind in "OUS":
                    t[name] = t[name].astype(str)
        table = vstack(tables, join_type="outer", metadata_conflicts="silent")
    return _results_votable(table)


def form_query(request: httpx.Request) -> str:
    from urllib.parse import parse_qs

    form = parse_qs(request.content.decode())
    assert form["REQUEST"] == ["doQuery"] and form["LANG"] == ["ADQL"] and form["FORMAT"] == ["votable"]
    return form["QUERY"][0]


def mock_transport(replay: Replay) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(200, content=replay.answer(form_query(request)),
                                                              headers={"content-type": VOTABLE}))


class _Dropped(Response):
    """Starts a 200 answer, sends a few bytes of it, then the connection goes away."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", VOTABLE.encode()), (b"content-length", b"4000")]})
        await send({"type": "http.response.body", "body": b"<?xml version='1.0'?><VOTABLE", "more_body": True})
        raise ConnectionResetError("stand-in drops the connection")


class StandinServer:
    """The stand-in TAP service (``/sync``) on a loopback port, in a thread of its own."""

    def __init__(self, replay: Replay) -> None:
        import uvicorn

        self.replay = replay
        self.mode = "ok"
        self.delay = 2.0
        self.status = 503
        self.retry_after: str | None = None
        self.received = 0
        self.body = b""
        self.queries: list[str] = []
        self.probed = 0
        #: mode "hold": every query waits until this is set (then answers as "ok")
        self.release = threading.Event()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/sync"
        self.probe_url = f"http://127.0.0.1:{self.port}/probe"
        app = Starlette(routes=[Route("/sync", self._sync, methods=["POST"]),
                                Route("/probe", self._probe, methods=["GET", "POST"])])
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="critical", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    async def _sync(self, request: Request) -> Response:
        self.received += 1
        from urllib.parse import parse_qs

        query = parse_qs((await request.body()).decode())["QUERY"][0]
        self.queries.append(query)
        if self.mode == "slow":
            await asyncio.sleep(self.delay)
        elif self.mode == "hold":
            while not self.release.is_set():
                await asyncio.sleep(0.01)
        elif self.mode == "error":
            headers = {"Retry-After": self.retry_after} if self.retry_after else None
            return Response("stand-in failure", status_code=self.status, headers=headers)
        elif self.mode == "drop":
            return _Dropped()
        elif self.mode == "answer":
            return Response(self.body, status_code=self.status, media_type=VOTABLE)
        return Response(self.replay.answer(query), media_type=VOTABLE)

    async def _probe(self, request: Request) -> Response:
        self.probed += 1
        return Response(b"")

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("stand-in TAP server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class FakeClock:
    """A monotonic clock that only moves when something sleeps on it (no real waiting)."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


class Gate:
    """A SIMBAD stand-in that holds every answer until released (so requests surely overlap)."""

    def __init__(self, replay: Replay, fail: bool = False) -> None:
        self.replay = replay
        self.fail = fail
        self.open = asyncio.Event()
        self.arrived = asyncio.Event()

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        query = form_query(request)
        self.arrived.set()
        await self.open.wait()
        if self.fail:
            self.replay.calls += 1
            return httpx.Response(500)
        return httpx.Response(200, content=self.replay.answer(query))


def fallback_with(handler: Any, clock: FakeClock | None = None, **settings: Any) -> SimbadFallback:
    clock = clock or FakeClock()
    cfg = simbad_settings(**settings)
    client = TapClient(cfg, transport=httpx.MockTransport(handler), clock=clock, sleep=clock.sleep)
    negative = MemoryNegativeCache(cfg.simbad_negative_ttl, clock=clock)
    return SimbadFallback(cfg, pool=None, client=client, negative=negative)  # type: ignore[arg-type]


def simbad_settings(**changes: Any) -> Any:
    """Settings for a fallback pointed at a stand-in (no internet here)."""
    from dataclasses import replace

    from getstar.config import Settings

    base: dict[str, Any] = dict(simbad_enabled=True, simbad_tap_url="http://simbad.stand-in/sync", simbad_timeout=5.0,
                simbad_retries=2, simbad_breaker_threshold=5, simbad_breaker_reset=30.0, simbad_rate=5.0,
                simbad_negative_ttl=3600.0, simbad_table_prefix="", simbad_batch_size=100)
    base.update(changes)
    return replace(Settings.from_env(), **base)


def _results_votable(table: Any) -> bytes:
    """A TAP-style answer: the table in a RESOURCE of type results with QUERY_STATUS=OK."""
    from astropy.io.votable import from_table
    from astropy.io.votable.tree import Info

    vot = from_table(table)
    vot.resources[0].type = "results"
    vot.resources[0].infos.append(Info(name="QUERY_STATUS", value="OK"))
    out = io.BytesIO()
    vot.to_xml(out)
    return out.getvalue()

"""The cached answers' lane (``getstar.cached_lane``): a memory-cached ``GET /v1/stars`` is answered
before the router, byte for byte as the handler answers it; anything else goes on to the handler.

In process: the lane with a real ``State`` and a recording inner application (what reaches the
router).  Over HTTP: the live server's first answer to a query (computed by the handler) and its
second (from the lane) are the same answer, for every format, coding, 304 and CORS."""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import pytest

from cache import CachedAnswer
from getstar.api import MISSED
from getstar.cached_lane import CachedAnswerLane
from getstar.config import Settings
from getstar.httpcache import etag_for
from getstar.state import State

SNAPSHOT = "lane-test"


class Inner:
    """The application behind the lane: records the scopes that reach it, answers 299."""

    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.scopes.append(scope)
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"inner"})


async def call(lane: CachedAnswerLane, state: State, query: bytes, method: str = "GET", path: str = "/v1/stars",
               headers: list[tuple[bytes, bytes]] | None = None,
               root_path: str = "") -> tuple[dict[str, Any], list[dict[str, Any]]]:
    scope = {"type": "http", "method": method, "path": path, "query_string": query, "headers": headers or [],
             "state": {"getstar": state}, "root_path": root_path, "scheme": "http", "http_version": "1.1"}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await lane(scope, receive, send)
    return scope, sent


@pytest.fixture()
def lane_state(settings: Settings) -> tuple[CachedAnswerLane, Inner, State]:
    state = State(settings)
    state.snapshot = SNAPSHOT
    inner = Inner()
    return CachedAnswerLane(inner), inner, state


def held(state: State, key: str, body: bytes = b'{"results":[]}') -> CachedAnswer:
    answer = CachedAnswer(body, "application/json", 200, etag_for(key))
    state.cache.memory.set(key, answer)
    return answer


async def test_a_cached_answer_is_served_without_the_router(lane_state) -> None:  # type: ignore[no-untyped-def]
    lane, inner, state = lane_state
    key = f"{SNAPSHOT}|json|/v1/stars|name=Vega"
    answer = held(state, key, b'{"star":"Vega"}')
    scope, sent = await call(lane, state, b"name=Vega")
    assert inner.scopes == []
    assert sent[0]["status"] == 200 and sent[1]["body"] == answer.body
    headers = dict(sent[0]["headers"])
    assert headers[b"etag"] == answer.etag.encode() and headers[b"content-type"] == b"application/json"
    assert MISSED not in scope
    assert state.cache.stats.counts["memory_hits"] == 1 and state.cache.stats.counts["memory_misses"] == 0


async def test_a_miss_goes_on_with_its_format_and_key(lane_state) -> None:  # type: ignore[no-untyped-def]
    lane, inner, state = lane_state
    scope, sent = await call(lane, state, b"name=Deneb&format=votable")
    assert len(inner.scopes) == 1 and sent[0]["status"] == 299
    assert scope[MISSED] == ("votable", f"{SNAPSHOT}|votable|/v1/stars|name=Deneb")
    assert state.cache.stats.counts["memory_misses"] == 1


async def test_the_client_holding_the_answer_gets_304(lane_state) -> None:  # type: ignore[no-untyped-def]
    lane, inner, state = lane_state
    etag = etag_for(f"{SNAPSHOT}|json|/v1/stars|name=Rigel")
    _, sent = await call(lane, state, b"name=Rigel", headers=[(b"if-none-match", etag.encode())])
    assert inner.scopes == [] and sent[0]["status"] == 304
    assert dict(sent[0]["headers"])[b"etag"] == etag.encode()


@pytest.mark.parametrize(("method", "path", "query"), [
    ("HEAD", "/v1/stars", b"name=Vega"),          # HEAD: the handler's route answers it
    ("POST", "/v1/stars", b"name=Vega"),          # the router answers 405
    ("GET", "/v1/stars/", b"name=Vega"),          # not the path
    ("GET", "/v1/xmatch", b"name=Vega"),
    ("GET", "/v1/stars", b"name=Vega&format=nonsense"),  # the handler answers the 4xx in its format
])
async def test_anything_else_reaches_the_application(lane_state, method, path, query) -> None:  # type: ignore[no-untyped-def]
    lane, inner, state = lane_state
    held(state, f"{SNAPSHOT}|json|/v1/stars|name=Vega")
    scope, sent = await call(lane, state, query, method=method, path=path)
    assert len(inner.scopes) == 1 and sent[0]["status"] == 299
    assert MISSED not in scope


async def test_the_lane_matches_the_path_the_router_matches(lane_state) -> None:  # type: ignore[no-untyped-def]
    """Under a root path (a proxy's prefix) the router matches the path without it: so does the lane."""
    lane, inner, state = lane_state
    held(state, f"{SNAPSHOT}|json|/getstar/v1/stars|name=Vega")  # keys hold the full path, as the handler's
    _, sent = await call(lane, state, b"name=Vega", path="/getstar/v1/stars", root_path="/getstar")
    assert inner.scopes == [] and sent[0]["status"] == 200
    for path in ("/getstar/stars", "/getstarx/v1/stars"):  # the router's 404s: not asked of the cache
        await call(lane, state, b"name=Vega", path=path, root_path="/getstar")
    assert len(inner.scopes) == 2 and state.cache.stats.counts["memory_misses"] == 0


# -- over HTTP: the lane's answer is the handler's -------------------------------------------------

_fresh = itertools.count(3)


def fresh_name(name: str) -> str:
    """``name`` with trailing spaces never sent before in this session: a query no answer is
    cached for yet (names are trimmed, so the answer is ``name``'s)."""
    return name + " " * next(_fresh)


def comparable(r: httpx.Response) -> tuple[int, bytes, dict[str, str]]:
    headers = {k: v for k, v in r.headers.items() if k not in ("x-request-id", "date")}
    return r.status_code, r.content, headers


@pytest.mark.parametrize(("name", "params", "headers"), [
    ("Sirius", {}, {}),
    ("Sirius", {"format": "votable"}, {}),
    ("Sirius", {"format": "csv"}, {}),
    ("Sirius", {}, {"Accept": "application/x-votable+xml"}),
    ("Betelgeuse", {}, {"Accept-Encoding": "gzip"}),
    ("Betelgeuse", {}, {"Accept-Encoding": "br"}),
    ("Betelgeuse", {}, {"Origin": "https://example.org"}),
    ("No Such Star Anywhere", {}, {}),           # a cached 404
    ("Sirius", {"format": "nonsense"}, {}),      # never cached: the handler answers both
])
def test_the_lanes_answer_is_the_handlers(live_server, name, params, headers) -> None:  # type: ignore[no-untyped-def]
    state: State = live_server.app.state.getstar
    assert [m.cls for m in live_server.app.user_middleware][-1] is CachedAnswerLane  # innermost: before the router
    query = {"name": fresh_name(name), **params}
    with httpx.Client(base_url=live_server.url, headers=headers) as client:
        counts = dict(state.cache.stats.counts)
        first = client.get("/v1/stars", params=query)
        after_first = dict(state.cache.stats.counts)
        second = client.get("/v1/stars", params=query)
        after_second = dict(state.cache.stats.counts)
    assert comparable(second) == comparable(first)
    assert first.headers["x-request-id"] != second.headers["x-request-id"]
    misses = after_first.get("memory_misses", 0) - counts.get("memory_misses", 0)
    hits = after_second.get("memory_hits", 0) - after_first.get("memory_hits", 0)
    if params.get("format") == "nonsense":
        assert first.status_code in (400, 406) and (misses, hits) == (0, 0)  # refused before any cache
    else:
        # the first looked in memory once (not by the lane and again by the handler), the second found it
        assert (misses, hits) == (1, 1)
    etag = first.headers.get("etag")
    if etag:
        with httpx.Client(base_url=live_server.url, headers=headers) as client:
            again = client.get("/v1/stars", params=query, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.headers["etag"] == etag

"""Fault injection: SIMBAD answers slowly, errs or drops connections while 200 local lookups
run concurrently against the real snapshot.  Every local lookup succeeds and none waits on
the fallback (each returns before the slow stand-in's delay elapses: a correctness bound —
a local lookup that waited on SIMBAD could not beat it — not a performance target); the
names SIMBAD is asked about are answered at once with what is known (404, suggestions, a note
that SIMBAD could not be asked, Retry-After); the circuit breaker
opens, then recovers once SIMBAD is back.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import replace

import asyncpg
import httpx
import pytest

from getstar.config import Settings
from tests.conftest import LiveServer
from tests.simbad_standin import Replay, StandinServer

# The slow stand-in answers after DELAY s; the fallback gives up after TIMEOUT s.  200 concurrent
# local lookups take ~1.5 s in all on 2 cores (client and server in one process): DELAY leaves room.
DELAY = 5.0
TIMEOUT = 3.0
LOCAL_LOOKUPS = 200


@pytest.fixture(scope="module")
def standin() -> Iterator[StandinServer]:
    server = StandinServer(Replay())  # knows no name: nothing is ever stored in the shared snapshot
    server.delay = DELAY
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server(snapshot_dsn: str, settings: Settings, standin: StandinServer) -> Iterator[LiveServer]:
    cfg = replace(settings, simbad_enabled=True, simbad_tap_url=standin.url, simbad_timeout=TIMEOUT, simbad_retries=0,
                  simbad_breaker_threshold=3, simbad_breaker_reset=1.0, simbad_negative_ttl=0)
    live = LiveServer(snapshot_dsn, cfg)
    live.start()
    yield live
    live.stop()


@pytest.fixture(scope="module")
def local_names(snapshot_dsn: str) -> list[str]:
    """Identifiers of 200 different stars of the snapshot (each resolves to exactly one star)."""
    async def pick() -> list[str]:
        conn = await asyncpg.connect(snapshot_dsn)
        try:
            rows = await conn.fetch("SELECT p_hip FROM live.star WHERE p_hip IS NOT NULL ORDER BY p_hip LIMIT $1",
                                    LOCAL_LOOKUPS)
        finally:
            await conn.close()
        return [f"HIP {r['p_hip']}" for r in rows]

    return asyncio.run(pick())


def breaker_state(server: LiveServer) -> str:
    return str(httpx.get(server.url + "/health", timeout=10).json()["simbad"]["breaker"]["state"])


async def _timed(client: httpx.AsyncClient, url: str, name: str) -> tuple[httpx.Response, float]:
    t0 = time.monotonic()
    response = await client.get(url, params={"name": name})
    return response, time.monotonic() - t0


@pytest.mark.parametrize("mode", ["slow", "error", "drop"])
def test_local_lookups_never_wait_on_a_failing_simbad(mode: str, server: LiveServer, standin: StandinServer,
                                                      local_names: list[str]) -> None:
    standin.mode = mode
    url = server.url + "/v1/stars"

    async def run() -> tuple[list[tuple[httpx.Response, float]], list[tuple[httpx.Response, float]]]:
        limits = httpx.Limits(max_connections=LOCAL_LOOKUPS + 20, max_keepalive_connections=LOCAL_LOOKUPS + 20)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            received = standin.received
            asked = [asyncio.create_task(_timed(client, url, f"Zork {mode} {i}")) for i in range(6)]
            while standin.received == received:  # SIMBAD is being asked (and, if slow, is stalling)
                await asyncio.sleep(0.005)
            local = await asyncio.gather(*(_timed(client, url, name) for name in local_names))
            return local, await asyncio.gather(*asked)

    local, asked = asyncio.run(run())
    assert [r.status_code for r, _ in local] == [200] * LOCAL_LOOKUPS
    assert all(r.json()["results"][0]["status"] == "ok" for r, _ in local)
    slowest = max(t for _, t in local)
    assert slowest < DELAY, f"a local lookup took {slowest:.2f} s: it waited on the fallback"
    for response, _ in asked:
        assert response.status_code == 404, response.text  # not a 503 a client would retry forever
        wait = int(response.headers["retry-after"])
        assert wait >= 1 and response.headers["cache-control"] == f"max-age={wait}"
        problem = response.json()
        assert "SIMBAD could not be asked" in problem["detail"] and isinstance(problem.get("suggestions", []), list)
        assert problem["retry_after"] >= 1
    assert breaker_state(server) in ("open", "half_open")  # 3 consecutive failures open it

    # SIMBAD comes back: after the reset delay one probe goes through and closes the circuit
    standin.mode = "ok"
    deadline = time.monotonic() + 10
    while breaker_state(server) == "open" and time.monotonic() < deadline:
        time.sleep(0.1)
    probe = httpx.get(url, params={"name": f"Zork back {mode}"}, timeout=30)
    assert probe.status_code == 404  # SIMBAD answered: it does not know the name
    assert breaker_state(server) == "closed"


def test_one_missing_name_among_several_while_simbad_is_down(server: LiveServer, standin: StandinServer) -> None:
    standin.mode = "error"
    try:
        r = httpx.get(server.url + "/v1/stars", params={"names": "Vega|Zork among others|HD 48915"}, timeout=30)
        assert r.status_code == 200
        results = r.json()["results"]
        assert [a["status"] for a in results] == ["ok", "not_found", "ok"]
        assert "SIMBAD could not be asked" in results[1]["message"] and results[1]["retry_after"] >= 1
        assert isinstance(results[1]["suggestions"], list)
        votable = httpx.get(server.url + "/v1/stars", params={"names": "Vega|Zork among others", "format": "votable"},
                            timeout=30)
        assert votable.status_code == 200
        assert '<INFO name="NOT_FOUND" value="Zork among others">not found in the local snapshot; SIMBAD could not ' \
               "be asked now" in votable.text
        legacy = httpx.get(server.url + "/sclwsGetStarProxy.php", params={"star": "Zork legacy"}, timeout=30)
        assert legacy.status_code == 500 and legacy.headers["content-type"].startswith("text/html")
        assert "has not been found" in legacy.text and legacy.headers["retry-after"]
        # a partial answer is cached no longer than until SIMBAD may be asked again...
        assert r.headers["cache-control"] == f"max-age={r.headers['retry-after']}"
    finally:
        standin.mode = "ok"
    deadline = time.monotonic() + 10
    while True:  # ...so once SIMBAD is back, the same request gets SIMBAD's word
        again = httpx.get(server.url + "/v1/stars", params={"names": "Vega|Zork among others|HD 48915"}, timeout=30)
        results = again.json()["results"]
        statuses = [a["status"] for a in results]
        if "message" not in results[1] or time.monotonic() > deadline:
            break
        time.sleep(0.2)  # the circuit is still open: the answer must not be the stale one either
    assert statuses == ["ok", "not_found", "ok"] and "message" not in results[1]  # SIMBAD's word


def test_health_shows_the_fallback(server: LiveServer) -> None:
    simbad = httpx.get(server.url + "/health", timeout=10).json()["simbad"]
    assert simbad["enabled"] is True and simbad["breaker"]["state"] in ("closed", "open", "half_open")
    assert set(simbad["counters"]) >= {"calls", "hits", "misses", "errors"}
    assert simbad["counters"]["errors"] >= 1 and simbad["last_error"]["message"]

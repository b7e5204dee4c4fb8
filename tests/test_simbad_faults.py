"""Fault injection: SIMBAD stalls, answers slowly, errs or drops connections while 200 local
lookups run concurrently against the real snapshot.  Every local lookup succeeds and none waits
on the fallback: with SIMBAD holding its answers (and the fallback willing to wait a minute),
all 200 are answered while every SIMBAD request is still pending — an ordering, not a timing.
The names SIMBAD is asked about are answered at once with what is known (404, suggestions, a
note that SIMBAD could not be asked, Retry-After, cached no longer than that); the circuit breaker
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

# The slow stand-in answers after DELAY s; the fallback gives up after TIMEOUT s.
DELAY = 5.0
TIMEOUT = 3.0
LOCAL_LOOKUPS = 200
#: How long the fallback waits for a held SIMBAD: far longer than 200 local lookups take.
PATIENT = 120.0


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


@pytest.fixture(scope="module")
def patient_server(snapshot_dsn: str, settings: Settings, standin: StandinServer) -> Iterator[LiveServer]:
    cfg = replace(settings, simbad_enabled=True, simbad_tap_url=standin.url, simbad_timeout=PATIENT,
                  simbad_request_budget=PATIENT, simbad_retries=0, simbad_negative_ttl=0,
                  db_acquire_timeout=PATIENT)  # about SIMBAD not holding local lookups, not the pool's wait
    live = LiveServer(snapshot_dsn, cfg)
    live.start()
    yield live
    live.stop()


def test_local_lookups_are_answered_while_simbad_holds_its_answers(patient_server: LiveServer,
                                                                    standin: StandinServer,
                                                                    local_names: list[str]) -> None:
    standin.mode = "hold"
    standin.release.clear()
    url = patient_server.url + "/v1/stars"

    async def run() -> None:
        limits = httpx.Limits(max_connections=LOCAL_LOOKUPS + 20, max_keepalive_connections=LOCAL_LOOKUPS + 20)
        async with httpx.AsyncClient(timeout=PATIENT + 30, limits=limits) as client:
            received = standin.received
            asked = [asyncio.create_task(client.get(url, params={"name": f"Zork held {i}"})) for i in range(6)]
            while standin.received == received:  # SIMBAD is being asked, and holds its answer
                await asyncio.sleep(0.005)
            local = await asyncio.wait_for(
                asyncio.gather(*(client.get(url, params={"name": name}) for name in local_names)), PATIENT)
            assert not any(task.done() for task in asked), "a SIMBAD request ended before SIMBAD answered"
            assert [r.status_code for r in local] == [200] * LOCAL_LOOKUPS
            assert all(r.json()["results"][0]["status"] == "ok" for r in local)
            standin.release.set()  # SIMBAD answers (it knows none of these names)
            assert [r.status_code for r in await asyncio.gather(*asked)] == [404] * 6

    try:
        asyncio.run(run())
    finally:
        standin.release.set()
        standin.mode = "ok"


def breaker_state(server: LiveServer) -> str:
    return str(httpx.get(server.url + "/health", timeout=10).json()["simbad"]["breaker"]["state"])


@pytest.mark.parametrize("mode", ["slow", "error", "drop"])
def test_local_lookups_never_wait_on_a_failing_simbad(mode: str, server: LiveServer, standin: StandinServer,
                                                      local_names: list[str]) -> None:
    standin.mode = mode
    url = server.url + "/v1/stars"

    async def run() -> tuple[list[httpx.Response], list[httpx.Response]]:
        limits = httpx.Limits(max_connections=LOCAL_LOOKUPS + 20, max_keepalive_connections=LOCAL_LOOKUPS + 20)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            received = standin.received
            asked = [asyncio.create_task(client.get(url, params={"name": f"Zork {mode} {i}"})) for i in range(6)]
            while standin.received == received:  # SIMBAD is being asked (and, if slow, is stalling)
                await asyncio.sleep(0.005)
            local = await asyncio.gather(*(client.get(url, params={"name": name}) for name in local_names))
            return local, await asyncio.gather(*asked)

    local, asked = asyncio.run(run())
    assert [r.status_code for r in local] == [200] * LOCAL_LOOKUPS
    assert all(r.json()["results"][0]["status"] == "ok" for r in local)
    for response in asked:
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
        assert "has not been found" in legacy.text and "could not be asked" in legacy.text
        assert legacy.headers["retry-after"]
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

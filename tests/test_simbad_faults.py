"""Fault injection: SIMBAD stalls, answers slowly, errs or drops connections while 200 local
lookups run concurrently against the real snapshot.  Every local lookup succeeds and none waits
on the fallback: with SIMBAD holding its answers (and the fallback willing to wait a minute),
all 200 are answered while every SIMBAD request is still pending — an ordering, not a timing.
The names SIMBAD is asked about fail fast with 503/504 and Retry-After; the circuit breaker
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
                  simbad_retries=0, simbad_negative_ttl=0)
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
        assert response.status_code in (503, 504), response.text
        assert int(response.headers["retry-after"]) >= 1
        assert "SIMBAD" in response.json()["detail"]
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
        assert [a["status"] for a in results] == ["ok", "unavailable", "ok"]
        assert "SIMBAD" in results[1]["message"] and results[1]["retry_after"] >= 1
        votable = httpx.get(server.url + "/v1/stars", params={"names": "Vega|Zork among others", "format": "votable"},
                            timeout=30)
        assert votable.status_code == 200 and 'INFO name="UNAVAILABLE" value="Zork among others"' in votable.text
        legacy = httpx.get(server.url + "/sclwsGetStarProxy.php", params={"star": "Zork legacy"}, timeout=30)
        assert legacy.status_code == 503 and legacy.headers["retry-after"]
        assert r.headers["cache-control"] == "no-store"  # a partial answer is never cached...
    finally:
        standin.mode = "ok"
    deadline = time.monotonic() + 10
    while True:  # ...so once SIMBAD is back, the same request gets SIMBAD's word
        again = httpx.get(server.url + "/v1/stars", params={"names": "Vega|Zork among others|HD 48915"}, timeout=30)
        statuses = [a["status"] for a in again.json()["results"]]
        if statuses[1] != "unavailable" or time.monotonic() > deadline:
            break
        time.sleep(0.2)  # the circuit is still open: the answer must not be the stale one either
    assert statuses == ["ok", "not_found", "ok"]


def test_health_shows_the_fallback(server: LiveServer) -> None:
    simbad = httpx.get(server.url + "/health", timeout=10).json()["simbad"]
    assert simbad["enabled"] is True and simbad["breaker"]["state"] in ("closed", "open", "half_open")
    assert set(simbad["counters"]) >= {"calls", "hits", "misses", "errors"}
    assert simbad["counters"]["errors"] >= 1 and simbad["last_error"]["message"]

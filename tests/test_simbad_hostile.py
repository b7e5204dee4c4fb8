"""A hostile or failing SIMBAD (whoever answers at ``GETSTAR_SIMBAD_TAP_URL``) gets no more than a
failure counted against it.

- Nothing in an answer makes the service open a file or a URL: a ``STREAM href`` (a temporary
  file of ours, the stand-in's ``/probe``), a DTD's entity, FITS, XInclude are refused unread,
  and a refused answer is a SIMBAD failure (breaker, no negative cache; 404 "could not be
  asked" to clients, never a 5xx).  SIMBAD's own serialization, inline base64 BINARY, is read.
- Answers are bounded in bytes and parsed off the event loop.
- A slow SIMBAD costs a request its budget (``simbad_request_budget``) at most; the query goes
  on and its answer serves the next request.
- SIMBAD's words (an error document quoting the query, the OS's exception text) reach the log,
  not clients; ``/health`` shows the TAP URL without credentials or query.

Unit tests run on ``httpx.MockTransport``; the rest against the stand-in TAP server on a
loopback port and the real service.
"""

from __future__ import annotations

import asyncio
import io
import struct
import threading
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from getstar.config import Settings
from getstar.errors import ServiceUnavailable, UpstreamTimeout
from getstar.simbad.client import TapClient, public_url
from getstar.simbad.fallback import Outcome
from getstar.simbad.parse import TapUnsafeError, check_safe, parse_votable
from tests.conftest import LiveServer
from tests.simbad_standin import (
    VOTABLE,
    FakeClock,
    Gate,
    Replay,
    StandinServer,
    fallback_with,
    simbad_settings,
    sirius_votable,
)

SECRET = b"SECRET-12345"
HEAD = ('<?xml version="1.0"?><VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3">'
        '<RESOURCE type="results"><INFO name="QUERY_STATUS" value="OK"/><TABLE>'
        '<FIELD name="oid" datatype="long"/><FIELD name="main_id" datatype="char" arraysize="12"/>')
TAIL = "</TABLE></RESOURCE></VOTABLE>"


@pytest.fixture()
def secret(tmp_path: Path) -> Path:
    """A file astropy would read as one row (oid 4242, main_id SECRET-12345) if it followed a reference."""
    path = tmp_path / "secret.bin"
    path.write_bytes(struct.pack(">q", 4242) + SECRET)
    return path


def stream(href: str, container: str = "BINARY") -> bytes:
    return (HEAD + f'<DATA><{container}><STREAM href="{href}"/></{container}></DATA>' + TAIL).encode()


def hostile(kind: str, target: str) -> bytes:
    """An answer that, read naively, opens ``target`` (a file:// or http:// URL)."""
    if kind in ("BINARY", "BINARY2"):
        return stream(target, kind)
    if kind == "FITS":
        return stream(target, "FITS")
    if kind == "entity":
        return (f'<?xml version="1.0"?><!DOCTYPE VOTABLE [<!ENTITY x SYSTEM "{target}">]>'
                + HEAD.split("?>", 1)[1] + "<DATA><TABLEDATA><TR><TD>1</TD><TD>&x;</TD></TR></TABLEDATA></DATA>"
                + TAIL).encode()
    assert kind == "xinclude"
    return (HEAD + '<DESCRIPTION><xi:include xmlns:xi="http://www.w3.org/2001/XInclude" '
            f'href="{target}" parse="text"/></DESCRIPTION>' + TAIL).encode()


def as_served(answer: bytes, serialization: str) -> bytes:
    """``answer`` re-serialized as a TAP service writes it (SIMBAD's default: BINARY, base64 inline)."""
    from astropy.io.votable import parse

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        votable = parse(io.BytesIO(answer))
    for table in votable.iter_tables():
        table.format = serialization
    out = io.BytesIO()
    votable.to_xml(out)
    return out.getvalue()


# -- what an answer may make the service do -------------------------------------------------------

@pytest.mark.parametrize("kind", ["BINARY", "BINARY2", "FITS", "entity", "xinclude"])
def test_an_answer_referring_to_a_file_is_refused_unread(kind: str, secret: Path) -> None:
    answer = hostile(kind, secret.as_uri())
    with pytest.raises(TapUnsafeError) as info:
        check_safe(answer)
    with pytest.raises(TapUnsafeError):
        parse_votable(answer)  # astropy never sees it
    assert SECRET.decode() not in str(info.value)


def test_a_table_declared_too_large_to_build_is_refused() -> None:
    answer = HEAD.replace("<TABLE>", '<TABLE nrows="100000000">') + "<DATA><TABLEDATA></TABLEDATA></DATA>" + TAIL
    with pytest.raises(TapUnsafeError, match="declared size"):
        parse_votable(answer.encode())


@pytest.mark.parametrize("serialization", ["binary", "binary2", "tabledata"])
def test_answers_serialized_as_tap_services_write_them_are_read(serialization: str) -> None:
    (sirius,) = parse_votable(as_served(sirius_votable(), serialization))
    assert sirius.main_id == "* alf CMa" and "HIP 32349" in sirius.identifiers
    assert sirius.values["flux_v"] == -1.46


async def test_a_refused_answer_is_a_simbad_failure(secret: Path) -> None:
    answer = httpx.Response(200, content=stream(secret.as_uri()), headers={"content-type": VOTABLE})
    fb = fallback_with(lambda _r: answer, simbad_retries=2)
    (outcome,) = await fb.lookup(["Zork Stream"])
    assert isinstance(outcome.error, ServiceUnavailable) and outcome.star_ids == ()
    assert outcome.error.message == "SIMBAD's answer could not be used"
    assert fb.client.counters["calls"] == 1  # not retried: the same answer would come back
    assert fb.client.counters["errors"] == 1 and fb.client.breaker.failures == 1
    assert not await fb.negative.contains("ZORK STREAM")  # a bad answer is not "unknown"
    await fb.close()


@pytest.mark.parametrize("status", [302, 307])
async def test_a_redirect_is_not_followed(status: int) -> None:
    """A TAP answer redirecting elsewhere (an internal address) is a SIMBAD failure: nothing is
    sent there, neither a GET nor our query (httpx followed them: a helper's probe)."""
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(status, headers={"location": "http://127.0.0.1:9/internal-admin?x=1"})

    fb = fallback_with(answer, simbad_retries=2)
    (outcome,) = await fb.lookup(["Zork Redirect"])
    assert isinstance(outcome.error, ServiceUnavailable) and "not followed" in outcome.error.message
    assert all("internal-admin" not in url for url in asked) and len(asked) == 1
    await fb.close()


async def test_answers_are_parsed_off_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    import getstar.simbad.client as client_module

    threads: list[int] = []

    def spy(content: bytes) -> list[object]:
        threads.append(threading.get_ident())
        return []

    monkeypatch.setattr(client_module, "parse_votable", spy)
    client = TapClient(simbad_settings(), transport=httpx.MockTransport(lambda _r: httpx.Response(200, content=b"x")))
    assert await client.query("SELECT 1") == []
    assert threads and threads[0] != threading.get_ident()
    await client.close()


async def _chunks(total: int) -> AsyncIterator[bytes]:
    for _ in range(total // 1000):
        yield b" " * 1000


@pytest.mark.parametrize("announced", [True, False])
async def test_an_answer_over_the_byte_bound_is_a_failure(announced: bool) -> None:
    def handler(_request: httpx.Request) -> httpx.Response:
        if announced:
            return httpx.Response(200, content=b" " * 50_000)
        return httpx.Response(200, content=_chunks(50_000))  # chunked: no length announced

    clock = FakeClock()
    client = TapClient(simbad_settings(simbad_max_answer_bytes=10_000), transport=httpx.MockTransport(handler),
                       clock=clock, sleep=clock.sleep)
    with pytest.raises(ServiceUnavailable, match="larger than 10000 bytes"):
        await client.query("SELECT 1")
    assert client.counters["calls"] == 1 and client.breaker.failures == 1
    await client.close()


async def test_an_answer_that_does_not_decode_is_a_simbad_failure() -> None:
    def garbled(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=httpx.ByteStream(b"not gzip at all"), headers={"content-encoding": "gzip"})

    fb = fallback_with(garbled)
    (outcome,) = await fb.lookup(["Zork Garbled"])
    assert isinstance(outcome.error, ServiceUnavailable)
    assert outcome.error.message == "SIMBAD's answer could not be used"
    assert fb.client.breaker.failures == 1 and fb.counters["unavailable"] == 1
    await fb.close()


# -- a slow SIMBAD costs a request its budget at most ----------------------------------------------

async def test_a_request_waits_its_budget_at_most_and_the_query_goes_on() -> None:
    gate = Gate(Replay())  # SIMBAD holds its answer until the gate opens
    fb = fallback_with(gate, simbad_request_budget=0.05)
    (first,) = await fb.lookup(["Zork Slow"])
    assert isinstance(first.error, UpstreamTimeout) and "did not answer within" in first.error.message
    assert (first.error.retry_after or 0) >= 1
    assert fb.counters["budget_exceeded"] == 1 and len(fb.flights) == 1  # still asking
    gate.open.set()
    for _ in range(500):
        if not fb.flights:
            break
        await asyncio.sleep(0.01)
    (second,) = await fb.lookup(["Zork Slow"])
    assert second == Outcome() and gate.replay.calls == 1  # SIMBAD's late "unknown" was kept
    await fb.close()


async def test_the_bulk_tools_wait_for_the_whole_query() -> None:
    gate = Gate(Replay())
    fb = fallback_with(gate, simbad_request_budget=0.01)
    task = asyncio.create_task(fb.lookup(["Zork Bulk"], patient=True))
    await gate.arrived.wait()
    await asyncio.sleep(0.1)
    assert not task.done()
    gate.open.set()
    assert await task == [Outcome()]
    await fb.close()


# -- against the real service ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def standin() -> Iterator[StandinServer]:
    server = StandinServer(Replay())  # knows no name: nothing is stored in the shared snapshot
    server.start()
    yield server
    server.stop()


#: The request budget of the service under test, and how slow its SIMBAD is.
BUDGET = 1.0
DELAY = 6.0


@pytest.fixture(scope="module")
def server(snapshot_dsn: str, settings: Settings, standin: StandinServer) -> Iterator[LiveServer]:
    url = standin.url.replace("http://", "http://getstar:s3cret@") + "?token=t0ken#frag"
    cfg = replace(settings, simbad_enabled=True, simbad_tap_url=url, simbad_timeout=5.0, simbad_retries=2,
                  simbad_request_budget=BUDGET, simbad_breaker_threshold=1000, simbad_negative_ttl=3600)
    live = LiveServer(snapshot_dsn, cfg)
    live.start()
    yield live
    live.stop()


def ask(server: LiveServer, name: str) -> httpx.Response:
    return httpx.get(server.url + "/v1/stars", params={"name": name}, timeout=60)


def asked_about(standin: StandinServer, name: str) -> int:
    return sum(1 for q in standin.queries if f"'{name}'" in q)


def assert_not_asked_now(response: httpx.Response) -> dict[str, object]:
    """The answer for a name SIMBAD could not be asked about: 404, the note, Retry-After."""
    assert response.status_code == 404, response.text
    assert int(response.headers["retry-after"]) >= 1
    problem: dict[str, object] = response.json()
    assert "SIMBAD could not be asked" in str(problem["detail"])
    return problem


@pytest.mark.parametrize("kind", ["BINARY", "FITS", "entity"])
def test_the_service_opens_no_file_an_answer_names(kind: str, server: LiveServer, standin: StandinServer,
                                                   secret: Path) -> None:
    standin.mode, standin.status, standin.body = "answer", 200, hostile(kind, secret.as_uri())
    errors = httpx.get(server.url + "/health", timeout=10).json()["simbad"]["counters"]["errors"]
    try:
        response = ask(server, f"Zork file {kind}")
    finally:
        standin.mode = "ok"
    assert_not_asked_now(response)
    assert SECRET.decode() not in response.text
    health = httpx.get(server.url + "/health", timeout=10)
    assert health.json()["simbad"]["counters"]["errors"] > errors and SECRET.decode() not in health.text


@pytest.mark.parametrize("kind", ["BINARY", "BINARY2", "FITS", "entity", "xinclude"])
def test_the_service_fetches_no_url_an_answer_names(kind: str, server: LiveServer, standin: StandinServer) -> None:
    standin.mode, standin.status, standin.body = "answer", 200, hostile(kind, standin.probe_url)
    try:
        assert_not_asked_now(ask(server, f"Zork url {kind}"))
    finally:
        standin.mode = "ok"
    assert standin.probed == 0


def test_simbads_error_text_stays_in_the_log(server: LiveServer, standin: StandinServer) -> None:
    quoted = "Could not parse: SELECT b.oid, b.main_id FROM basic AS b at /srv/tap/adql.py line 12"
    standin.mode, standin.status = "answer", 400
    standin.body = ('<?xml version="1.0"?><VOTABLE version="1.4"><RESOURCE type="results">'
                    f'<INFO name="QUERY_STATUS" value="ERROR">{quoted}</INFO></RESOURCE></VOTABLE>').encode()
    try:
        problem = assert_not_asked_now(ask(server, "Zork error text"))
    finally:
        standin.mode = "ok"
    assert "SIMBAD answered HTTP 400" in str(problem["detail"])
    assert "SELECT" not in str(problem["detail"]) and "/srv/tap" not in str(problem["detail"])
    health = httpx.get(server.url + "/health", timeout=10)
    assert "SELECT" not in health.text and "/srv/tap" not in health.text


def test_the_connections_failure_text_stays_in_the_log(server: LiveServer, standin: StandinServer) -> None:
    standin.mode = "drop"
    try:
        problem = assert_not_asked_now(ask(server, "Zork dropped"))
    finally:
        standin.mode = "ok"
    # retried (a dropped connection is transient) until the budget: either note, in our words
    assert any(note in str(problem["detail"]) for note in ("cannot be reached (the connection failed)",
                                                           f"did not answer within {BUDGET:g} s"))
    for words in ("peer closed", "Remote end", "RemoteProtocolError", "incomplete"):
        assert words not in str(problem["detail"])


def test_health_shows_the_tap_url_without_credentials_or_query(server: LiveServer, standin: StandinServer) -> None:
    health = httpx.get(server.url + "/health", timeout=10)
    assert health.json()["simbad"]["url"] == standin.url
    for secret_part in ("s3cret", "getstar:", "t0ken", "frag"):
        assert secret_part not in health.text


def test_a_slow_simbad_costs_a_request_its_budget_at_most(server: LiveServer, standin: StandinServer) -> None:
    standin.mode, standin.delay = "slow", DELAY  # slower than the 5 s timeout: 3 attempts would take 15 s
    try:
        started = time.monotonic()
        problem = assert_not_asked_now(ask(server, "Zork slow"))
        elapsed = time.monotonic() - started
    finally:
        standin.mode = "ok"
    assert "did not answer within" in str(problem["detail"])
    assert elapsed < 4 * BUDGET  # the budget, not timeout x attempts (the SPEC's bound is 10 s)


def test_simbads_late_answer_serves_the_next_request(server: LiveServer, standin: StandinServer) -> None:
    standin.mode, standin.delay = "slow", 3 * BUDGET  # answers, but after the request's budget
    try:
        assert_not_asked_now(ask(server, "Zork later"))
        deadline = time.monotonic() + 30
        while True:  # the query goes on: once SIMBAD has answered, its "unknown" is the answer
            again = ask(server, "Zork later")
            if again.status_code == 404 and "retry-after" not in again.headers or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    finally:
        standin.mode = "ok"
    assert again.status_code == 404 and "retry-after" not in again.headers
    assert "SIMBAD could not be asked" not in again.text
    assert asked_about(standin, "Zork later") == 1  # asked once, answered late, kept


def test_public_url() -> None:
    assert public_url("https://u:p@simbad.example:8443/tap/sync?x=1#y") == "https://simbad.example:8443/tap/sync"
    assert public_url("http://[::1]:8080/sync") == "http://[::1]:8080/sync"
    assert public_url("http://host:99999/sync") == "(unreadable URL)"

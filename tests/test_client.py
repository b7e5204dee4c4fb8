"""The Python client (clients/python, package ``getstar_client``) and ``getstar resolve``:
against the real service on a real port, and retries against a real HTTP stand-in that
answers 503/429 with ``Retry-After``."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import astropy.units as u
import pytest
from astropy.table import Table
from getstar_client import AsyncClient, BadRequest, Client, Unavailable, Unreachable
from getstar_client._core import RetryPolicy, retry_after, targets_csv
from getstar_client.errors import error_for

from getstar.cli import main
from tests.conftest import free_port

# ---------------------------------------------------------------------------------------
# Pure parts


def test_retry_after_reads_seconds_and_http_dates() -> None:
    assert retry_after("3") == 3.0
    assert retry_after(" 0.5 ") == 0.5
    assert retry_after(None) is None and retry_after("soon") is None
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert retry_after(format_datetime(now + timedelta(seconds=7), usegmt=True), now=now) == pytest.approx(7)
    assert retry_after(format_datetime(now - timedelta(seconds=7), usegmt=True), now=now) == 0.0


def test_retry_policy_is_bounded() -> None:
    policy = RetryPolicy(retries=2, max_wait=5.0)
    assert policy.delay(0, None) == pytest.approx(0.5)  # connection refused: backoff
    assert policy.delay(1, None) == pytest.approx(1.0)
    assert policy.delay(2, None) is None  # no third retry


def test_targets_csv_from_dicts_and_tables() -> None:
    text = targets_csv([{"name": "Vega"}, {"ra": 1.5, "dec": -2.25, "note": "a,b"}]).decode()
    assert text.splitlines() == ["name,ra,dec,note", "Vega,,,", ',1.5,-2.25,"a,b"']
    table = Table({"target": ["x", "y"], "ra": [10.0, 20.0] * u.deg, "dec": [1.0, 2.0] * u.deg}, masked=True)
    table["target"].mask = [False, True]
    assert targets_csv(table).decode().splitlines() == ["target,ra,dec", "x,10.0,1.0", ",20.0,2.0"]
    with pytest.raises(ValueError):
        targets_csv([])


def test_errors_are_read_from_problem_json_and_votable() -> None:
    problem = json.dumps({"title": "Not found", "status": 404, "detail": "star 'x' not found",
                          "suggestions": ["y"]}).encode()
    err = error_for(404, "application/problem+json", problem)
    assert err.status == 404 and err.detail == "star 'x' not found" and err.suggestions == ["y"]
    vot = b'<VOTABLE><RESOURCE><INFO name="QUERY_STATUS" value="ERROR">RA &amp; Dec</INFO></RESOURCE></VOTABLE>'
    assert error_for(400, "application/x-votable+xml", vot).detail == "RA & Dec"
    assert isinstance(error_for(400, "text/plain", b"bad"), BadRequest)


# ---------------------------------------------------------------------------------------
# Retries, against a real HTTP server that says "later" a few times


class _Later(BaseHTTPRequestHandler):
    """Answers ``busy`` times 503/429 with Retry-After, then 200 with a JSON result."""

    busy = 2
    status = 503
    retry = "2"
    seen = 0

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        cls = type(self)
        cls.seen += 1
        if cls.seen <= cls.busy:
            body = json.dumps({"title": "Service unavailable", "detail": "SIMBAD is down"}).encode()
            self.send_response(cls.status)
            self.send_header("Retry-After", cls.retry)
            self.send_header("Content-Type", "application/problem+json")
        else:
            body = json.dumps({"results": [{"query": "Vega", "status": "ok", "main_id": "* alf Lyr"}]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def later() -> Iterator[tuple[str, type[_Later]]]:
    handler = type("Later", (_Later,), {"seen": 0})
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def test_client_waits_retry_after_then_succeeds(later: tuple[str, type[_Later]]) -> None:
    url, handler = later
    waits: list[float] = []
    with Client(url, retries=3, max_retry_wait=30, sleep=waits.append) as client:
        assert client.resolve("Vega")[0]["main_id"] == "* alf Lyr"
    assert waits == [2.0, 2.0] and handler.seen == 3


def test_client_caps_the_wait_and_gives_up(later: tuple[str, type[_Later]]) -> None:
    url, handler = later
    handler.busy, handler.status, handler.retry = 10, 429, "3600"
    waits: list[float] = []
    with Client(url, retries=2, max_retry_wait=1.5, sleep=waits.append) as client, \
            pytest.raises(Unavailable) as info:
        client.resolve("Vega")
    assert waits == [1.5, 1.5] and handler.seen == 3
    assert info.value.status == 429 and "SIMBAD is down" in info.value.detail


async def test_async_client_retries_too(later: tuple[str, type[_Later]]) -> None:
    url, handler = later
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    async with AsyncClient(url, retries=3, sleep=sleep) as client:
        assert (await client.resolve(["Vega"]))[0]["status"] == "ok"
    assert waits == [2.0, 2.0]


def test_connection_refused_is_retried_then_reported() -> None:
    waits: list[float] = []
    with Client(f"http://127.0.0.1:{free_port()}", retries=2, sleep=waits.append) as client, \
            pytest.raises(Unreachable):
        client.resolve("Vega")
    assert len(waits) == 2


# ---------------------------------------------------------------------------------------
# Against the real service


def test_resolve_dicts(live_server) -> None:  # type: ignore[no-untyped-def]
    with Client(live_server.url) as client:
        sirius, unknown, vega = client.resolve(["Sirius", "Nosuchstarzz 123", "Vega"])
        single = client.resolve("Siriuss")
    assert sirius["status"] == "ok" and "HD 48915" in sirius["identifiers"]
    assert sirius["properties"]["V"]["confidence"] in ("LOW", "MEDIUM", "HIGH")
    assert sirius["properties"]["V"]["origin"]
    assert unknown["status"] == "not_found" and vega["main_id"] == "* alf Lyr"
    assert len(single) == 1 and set(single[0]) == {"query", "status", "suggestions"}
    assert single[0]["query"] == "Siriuss" and single[0]["status"] == "not_found"
    assert "NAME Sirius" in single[0]["suggestions"] and len(single[0]["suggestions"]) <= 5


def test_resolve_table_has_units_origins_and_confidences(live_server) -> None:  # type: ignore[no-untyped-def]
    with Client(live_server.url) as client:
        table = client.resolve(["Sirius", "Vega", "Nosuchstarzz 123"], table=True)
        missing = client.resolve("Siriuss", table=True)
    assert list(table["TARGET_ID"]) == ["Sirius", "Vega"]
    assert table["pmRa"].unit == u.mas / u.yr and table["V"].unit == u.mag
    assert set(table["V.confidence"]) <= {"LOW", "MEDIUM", "HIGH"} and all(table["V.origin"])
    assert "HD 48915" in table["identifiers"][0].split("|")
    assert "Nosuchstarzz 123" in table.meta["not_found"]
    assert len(missing) == 0 and "NAME Sirius" in missing.meta["not_found"]["Siriuss"]


def test_cone_nearest_first(live_server) -> None:  # type: ignore[no-untyped-def]
    with Client(live_server.url) as client:
        stars = client.cone(101.2871, -16.7161, 60, limit=5)
        table = client.cone("06 45 08.917", "-16 42 58.02", 1 * u.arcmin, table=True)
        with pytest.raises(BadRequest) as info:
            client.cone(400, 10, 5)
    assert stars[0]["main_id"] == "* alf CMa"
    seps = [s["separation_arcsec"] for s in stars]
    assert seps == sorted(seps)
    assert table["separation"].unit == u.arcsec and table["TARGET_ID"][0]
    assert "RA" in info.value.detail and info.value.status == 400


def test_xmatch_dicts_and_tables(live_server) -> None:  # type: ignore[no-untyped-def]
    targets = [{"name": "Vega", "obs": 1}, {"ra": 101.2871, "dec": -16.7161, "obs": 2}, {"name": "Nosuchstarzz"}]
    with Client(live_server.url) as client:
        rows = client.xmatch(targets)
        table = client.xmatch(Table({"target": ["a", "b"], "ra": [101.2871, 279.2347] * u.deg,
                                     "dec": [-16.7161, 38.7837] * u.deg}), table=True)
    assert [r["match"] for r in rows] == ["name", "position", "none"]
    assert rows[0]["main_id"] == "* alf Lyr" and rows[1]["input"]["obs"] in (2, "2")
    assert list(table["main_id"]) == ["* alf CMa", "* alf Lyr"] and list(table["target"]) == ["a", "b"]
    assert table["separation_arcsec"].unit == u.arcsec
    assert "V.origin" in table.colnames and "V.confidence" in table.colnames


async def test_async_client_against_the_service(live_server) -> None:  # type: ignore[no-untyped-def]
    async with AsyncClient(live_server.url) as client:
        [sirius] = await client.resolve("Sirius")
        near = await client.cone(279.2347, 38.7837, 10)
        rows = await client.xmatch([{"name": "Sirius"}])
    assert sirius["main_id"] == "* alf CMa" and near[0]["main_id"] == "* alf Lyr"
    assert rows[0]["match"] == "name"


# ---------------------------------------------------------------------------------------
# getstar resolve


def test_cli_resolve_table(live_server, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["resolve", "Sirius", "--url", live_server.url]) == 0
    out = capsys.readouterr().out
    assert "* alf CMa" in out and "HD 48915" in out and "Photometry:" in out and "HIGH" in out
    assert main(["resolve", "Sirius", "Vega", "Nosuchstarzz 123", "--url", live_server.url]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:2] == ["query", "main_id"]
    assert any(line.startswith("Vega") and "* alf Lyr" in line for line in lines)
    assert any(line.startswith("Nosuchstarzz 123") and "not found" in line for line in lines)


def test_cli_resolve_json_and_votable(live_server, capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["resolve", "101.28715 -16.71612", "--json", "--url", live_server.url]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert result["main_id"] == "* alf CMa"
    assert main(["resolve", "Sirius", "--votable", "--url", live_server.url]) == 0
    out = capsys.readouterr().out
    assert out.startswith("<?xml") and 'version="1.1"' in out and out.count("<TR>") == 1
    assert main(["resolve", "Siriuss", "--votable", "--url", live_server.url]) == 1
    assert "not found" in capsys.readouterr().err


def test_cli_resolve_without_service(capsys) -> None:  # type: ignore[no-untyped-def]
    assert main(["resolve", "Sirius", "--url", f"http://127.0.0.1:{free_port()}"]) == 1
    assert "cannot connect" in capsys.readouterr().err


def test_client_package_is_its_own_distribution() -> None:
    root = Path(__file__).resolve().parents[1] / "clients" / "python"
    text = (root / "pyproject.toml").read_text()
    assert 'name = "getstar-client"' in text and "httpx" in text


def test_votable_info_texts_give_the_names_they_list() -> None:
    """NOT_FOUND / AMBIGUOUS texts, also when SIMBAD could not be asked (then no stray words)."""
    from getstar_client.tables import _info_list

    assert _info_list("not found; close names: NAME Sirius, HD 1") == ["NAME Sirius", "HD 1"]
    assert _info_list("not found in the local snapshot; SIMBAD could not be asked now, ask again later; "
                      "close names: NAME Sirius") == ["NAME Sirius"]
    assert _info_list("not found in the local snapshot; SIMBAD could not be asked now, ask again later") == []
    assert _info_list("ambiguous; candidates: * alf Cen A, * alf Cen B") == ["* alf Cen A", "* alf Cen B"]
    assert _info_list("not found") == []

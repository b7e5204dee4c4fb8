"""/health and /health/ready over real HTTP against the real snapshot."""

from __future__ import annotations

import httpx

from getstar import __version__
from getstar.schema import SCHEMA_VERSION


def test_health_reports_database_and_snapshot(live_server) -> None:  # type: ignore[no-untyped-def]
    r = httpx.get(live_server.url + "/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["version"] == __version__
    assert body["database"]["reachable"] is True
    assert body["database"]["schema_version"] == SCHEMA_VERSION
    assert body["database"]["pool_size"] >= 1
    snap = body["snapshot"]
    assert snap["version"] and snap["load_finished"] >= snap["load_started"]
    assert snap["row_counts"]["stars"] >= 490_000
    assert "gaia" in snap["sources"]


def test_ready(live_server) -> None:  # type: ignore[no-untyped-def]
    r = httpx.get(live_server.url + "/health/ready")
    assert r.status_code == 200 and r.json()["ready"] is True


def test_ready_is_503_without_a_snapshot(make_database, settings) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import LiveServer

    server = LiveServer(make_database("empty"), settings)
    server.start()
    try:
        r = httpx.get(server.url + "/health/ready")
        assert r.status_code == 503 and r.json()["ready"] is False
        h = httpx.get(server.url + "/health").json()
        assert h["status"] == "degraded" and h["database"]["reachable"] is True
    finally:
        server.stop()

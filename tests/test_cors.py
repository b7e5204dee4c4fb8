"""CORS: the read-only API answers any origin (GET, HEAD, preflight); the batch POST does not."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import LiveServer

ORIGIN = {"Origin": "https://vo-tool.example.org"}


def test_cross_origin_get_is_readable(live_server: LiveServer) -> None:
    r = httpx.get(live_server.url + "/v1/stars", params={"name": "Sirius"}, headers=ORIGIN, timeout=30)
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in r.headers  # '*' never goes with credentials
    assert "ETag" in r.headers["access-control-expose-headers"] and "Retry-After" in r.headers[
        "access-control-expose-headers"]
    assert "Origin" in r.headers["vary"]  # a shared cache keeps the two versions apart
    assert r.headers["x-content-type-options"] == "nosniff" and r.headers["x-request-id"]


def test_same_origin_requests_get_no_cors_headers(live_server: LiveServer) -> None:
    r = httpx.get(live_server.url + "/v1/stars", params={"name": "Sirius"}, timeout=30)
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


@pytest.mark.parametrize("path", ["/v1/stars?name=Vega", "/v1/stars?name=Betelgeuze",
                                  "/sclwsGetStarProxy.php?star=Vega", "/scs?RA=101.287&DEC=-16.716&SR=0.01",
                                  "/health", "/getstarVOTableToHTML.xsl"])
def test_every_read_only_answer_and_error_is_readable(live_server: LiveServer, path: str) -> None:
    r = httpx.get(live_server.url + path, headers=ORIGIN, timeout=30)
    assert r.headers.get("access-control-allow-origin") == "*", (path, r.status_code)


def test_304_carries_cors_too(live_server: LiveServer) -> None:
    first = httpx.get(live_server.url + "/v1/stars", params={"name": "Vega"}, headers=ORIGIN, timeout=30)
    again = httpx.get(live_server.url + "/v1/stars", params={"name": "Vega"},
                      headers={**ORIGIN, "If-None-Match": first.headers["etag"]}, timeout=30)
    assert again.status_code == 304 and again.headers["access-control-allow-origin"] == "*"


def test_preflight(live_server: LiveServer) -> None:
    r = httpx.options(live_server.url + "/v1/stars?name=Sirius", headers={
        **ORIGIN, "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-request-id, accept"},
        timeout=30)
    assert r.status_code == 204 and r.content == b""
    assert r.headers["access-control-allow-origin"] == "*"
    assert "GET" in r.headers["access-control-allow-methods"]
    allowed = r.headers["access-control-allow-headers"].lower()
    assert "x-request-id" in allowed and "accept" in allowed and int(r.headers["access-control-max-age"]) > 0


def test_batch_post_is_not_open_to_other_origins(live_server: LiveServer) -> None:
    pre = httpx.options(live_server.url + "/v1/xmatch", headers={
        **ORIGIN, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type"},
        timeout=30)
    assert "access-control-allow-origin" not in pre.headers and pre.status_code == 405
    post = httpx.post(live_server.url + "/v1/xmatch", content=b"name\nVega\n",
                      headers={**ORIGIN, "Content-Type": "text/csv"}, timeout=60)
    assert post.status_code == 200 and "access-control-allow-origin" not in post.headers
    # nor are writes to the read-only paths
    assert "access-control-allow-origin" not in httpx.post(live_server.url + "/v1/stars", headers=ORIGIN,
                                                           timeout=30).headers

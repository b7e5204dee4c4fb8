"""PostgreSQL stops under a running service: every endpoint that needs it answers 503 with
Retry-After in its own error format (JSON, VOTable, SCS's INFO document, GetStar's XHTML page),
never a 500; answers already cached are still served; the service recovers when it returns."""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from getstar.config import Settings
from getstar.db import connect
from getstar.embedded import DATABASE, EmbeddedCluster
from getstar.ingest import hipparcos
from getstar.ingest.pipeline import run_ingest
from getstar.schema import migrate
from tests.conftest import LiveServer, free_port


@pytest.fixture(scope="module")
def own_cluster() -> Iterator[EmbeddedCluster]:
    """A cluster of this module's own (the session's must keep running), 300 Hipparcos stars."""
    home = Path(tempfile.mkdtemp(prefix="getstar-outage-", dir="/tmp"))
    os.chmod(home, 0o755)
    cluster = EmbeddedCluster(home=home, port=free_port())
    cluster.init()
    cluster.start({"fsync": "off"})
    try:
        yield cluster
    finally:
        cluster.destroy()


@pytest.fixture(scope="module")
def server(own_cluster: EmbeddedCluster, settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        LiveServer]:
    hip = tmp_path_factory.mktemp("outage") / "hip2.dat"
    with open(hipparcos.default_path()) as fh:
        hip.write_text("".join(next(fh) for _ in range(300)))
    dsn = own_cluster.dsn

    async def load() -> None:
        admin = await connect(own_cluster.admin_dsn())
        try:
            await admin.execute(f'CREATE DATABASE "{DATABASE}"')
        finally:
            await admin.close()
        conn = await connect(dsn)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        await run_ingest(dsn, replace(settings, shared_data=None), "hipparcos", [hip], progress=lambda _l: None)

    asyncio.run(load())
    live = LiveServer(dsn, replace(settings, db_acquire_timeout=2.0))
    live.start()
    yield live
    live.stop()


CONE = "ra=0.1&dec=1.0&radius=2"

#: (what, method, path, body, content type, expected media type, a marker of the format)
ENDPOINTS = [
    ("cone JSON", "GET", f"/v1/stars?{CONE}", None, None, "application/problem+json", b'"status":503'),
    ("cone VOTable", "GET", f"/v1/stars?{CONE}&format=votable", None, None, "application/x-votable+xml",
     b"<VOTABLE"),
    ("cone CSV", "GET", f"/v1/stars?{CONE}&format=csv", None, None, "text/csv", b"503,Service unavailable"),
    ("unknown name", "GET", "/v1/stars?name=HIP%2099999999", None, None, "application/problem+json", b'"status":503'),
    ("SCS", "GET", "/scs?RA=0.1&DEC=1.0&SR=1", None, None, "text/xml", b'<INFO name="Error"'),
    ("GetStar", "GET", "/sclwsGetStarProxy.php?star=HIP%2099999998", None, None, "text/html",
     b"The SearchCal Server returned the error"),
    ("xmatch", "POST", "/v1/xmatch", b"ra,dec\n0.1,1.0\n", "text/csv", "application/problem+json", b'"status":503'),
]


def _check(response: httpx.Response, media: str, marker: bytes) -> None:
    assert response.status_code == 503, response.text[:300]
    assert int(response.headers["retry-after"]) >= 1
    assert response.headers["content-type"].startswith(media)
    assert marker in response.content


def test_an_outage_is_503_in_each_endpoints_format_and_the_service_recovers(
        server: LiveServer, own_cluster: EmbeddedCluster) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        cached = client.get("/v1/stars", params={"name": "HIP 1"})
        assert cached.status_code == 200
        before = {what: client.request(method, path, content=body,
                                       headers={"content-type": ctype} if ctype else {}).status_code
                  for what, method, path, body, ctype, _m, _k in ENDPOINTS}
        assert before["cone JSON"] == 200 and before["SCS"] == 200 and before["xmatch"] == 200
        own_cluster.stop()
        try:
            for what, method, path, body, ctype, media, marker in ENDPOINTS:
                path = path.replace("0.1", "0.2").replace("9999", "8888")  # not the answers cached above
                response = client.request(method, path, content=body, headers={"content-type": ctype} if ctype else {})
                try:
                    _check(response, media, marker)
                except AssertionError as exc:
                    raise AssertionError(f"{what}: {exc} {response.text[-600:]}") from None
            assert client.get("/v1/stars", params={"name": "HIP 1"}).status_code == 200  # cached: still served
            assert client.get("/health/ready").status_code == 503
        finally:
            own_cluster.start({"fsync": "off"})
        for _ in range(3):  # the pool replaces its dead connections as requests come
            recovered = client.get("/v1/stars", params={"ra": "0.3", "dec": "1.0", "radius": "2"})
        assert recovered.status_code == 200
        assert client.get("/health/ready").status_code == 200

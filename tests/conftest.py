"""Test fixtures: a throw-away embedded PostgreSQL + q3c cluster, the real default
snapshot loaded into it once per session, and the service on a real HTTP port."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import pytest_asyncio

from getstar.config import Settings
from getstar.embedded import DATABASE, EmbeddedCluster
from tests.shared_paths import MISSING, SHARED_DATA

# the services the tests start in this process do not freeze its heap (gc.freeze: the tests'
# objects would never be freed); tests/test_app_gc.py turns it on for itself
os.environ.setdefault("GETSTAR_GC_FREEZE", "0")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def cluster() -> Iterator[EmbeddedCluster]:
    """A private cluster on a random port in a temporary directory, destroyed at the end."""
    home = Path(tempfile.mkdtemp(prefix="getstar-test-", dir="/tmp"))
    os.chmod(home, 0o755)  # the postgres user must enter it when we run as root
    c = EmbeddedCluster(home=home, port=free_port())
    c.init()
    c.start({"fsync": "off", "full_page_writes": "off"})
    yield c
    c.destroy()


async def _create_database(c: EmbeddedCluster, name: str) -> str:
    conn = await asyncpg.connect(c.admin_dsn())
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"postgresql://getstar@/{name}?host={c.socket_dir}&port={c.port}"


@pytest.fixture(scope="session")
def settings(cluster: EmbeddedCluster) -> Settings:
    base = Settings.from_env()
    return replace(base, home=cluster.home, embedded_port=cluster.port, database_url=None,
                   shared_data=SHARED_DATA if SHARED_DATA.is_dir() else None, redis_url=None,
                   simbad_enabled=False)  # no internet: SIMBAD fallback tests enable it with a stand-in


@pytest.fixture(scope="session")
def make_database(cluster: EmbeddedCluster):  # type: ignore[no-untyped-def]
    """Create (once) a database of the given name in the test cluster; return its DSN."""

    def make(name: str) -> str:
        return asyncio.run(_create_database(cluster, name))

    return make


@pytest.fixture(scope="session")
def snapshot_dsn(cluster: EmbeddedCluster, settings: Settings) -> str:
    """The real default snapshot (Gaia + Hipparcos + Stellarium + SIMBAD dump + JMDC), loaded once.

    ``GETSTAR_TEST_SNAPSHOT_DSN`` (for iterating on one test file, never in CI): use an already
    loaded snapshot database instead of building one; tests that reload it will change it.
    """
    from getstar.ingest.pipeline import run_ingest
    from getstar.schema import migrate

    reuse = os.environ.get("GETSTAR_TEST_SNAPSHOT_DSN")
    if reuse:
        return reuse
    if not SHARED_DATA.is_dir():  # the build would fall back to a smaller snapshot the tests do not describe
        pytest.skip(MISSING)

    async def load() -> str:
        dsn = await _create_database(cluster, DATABASE)
        conn = await asyncpg.connect(dsn)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        await run_ingest(dsn, settings, "build", [], progress=lambda _label: None)
        return dsn

    return asyncio.run(load())


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def snapshot_conn(snapshot_dsn: str) -> AsyncIterator[asyncpg.Connection]:
    from getstar.db import connect

    conn = await connect(snapshot_dsn)
    yield conn
    await conn.close()


class LiveServer:
    """uvicorn serving the app on a real loopback port, in a thread of its own."""

    def __init__(self, dsn: str, settings: Settings) -> None:
        import uvicorn

        from getstar.app import create_app
        from getstar.server import uvicorn_options

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app = create_app(settings, dsn=dsn)
        # the options `getstar serve` runs with: the tests meet the same limits and timeouts
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on",
                                **uvicorn_options(settings))
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(snapshot_dsn: str, settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(snapshot_dsn, settings)
    server.start()
    yield server
    server.stop()


# Redis (the cache tests)

needs_redis = pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")


class RedisServer:
    """A private redis-server on a free loopback port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="getstar-redis-")
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ping = subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True)
            if ping.stdout.strip() == b"PONG":
                return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


@pytest.fixture()
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.dir, ignore_errors=True)


def fetch(dsn: str, sql: str, *args: Any, user: str | None = None) -> list[asyncpg.Record]:
    """One query on a connection of its own (as ``user`` when given), from synchronous test code."""
    async def go() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(dsn, user=user) if user else await asyncpg.connect(dsn)
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    return asyncio.run(go())


async def snapshot_reload(**env: str) -> str:
    """The real ``getstar snapshot reload``, in its own process, with ``env`` over this one's
    (SIMBAD off); returns the new snapshot version."""
    full = {**os.environ, "GETSTAR_SIMBAD_ENABLED": "false", **env}
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "getstar.cli", "snapshot", "reload", env=full,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=180)
    assert proc.returncode == 0, err.decode()
    m = re.search(r"^snapshot ([0-9A-Za-z_.-]+)", out.decode(), re.M)
    assert m is not None, out.decode()
    return m.group(1)

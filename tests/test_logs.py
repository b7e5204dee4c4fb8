"""Operations: JSON request logs with request ids, the logging set-up of ``getstar serve``,
and graceful shutdown (the pool is closed, also when a connection is stuck)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import subprocess
import sys
import time
from dataclasses import replace

import asyncpg
import httpx
import pytest

from getstar.config import Settings
from getstar.db import create_pool
from getstar.logs import ACCESS_LOGGER, JSONFormatter, log_config
from getstar.state import State


def test_request_id_is_echoed_or_made(live_server, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        given = httpx.get(live_server.url + "/health", headers={"X-Request-ID": "portal-42.a"})
        made = httpx.get(live_server.url + "/v1/stars", params={"name": "Sirius"})
        hostile = httpx.get(live_server.url + "/health", headers={"X-Request-ID": "x" * 500})
        deadline = time.monotonic() + 10  # the server thread logs after the response is sent
        while len([r for r in caplog.records if r.name == ACCESS_LOGGER]) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert given.headers["x-request-id"] == "portal-42.a"
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["x-request-id"])
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["x-request-id"])  # not echoed: made anew
    records = {r.request_id: r for r in caplog.records if r.name == ACCESS_LOGGER}  # type: ignore[attr-defined]
    mine = records["portal-42.a"]
    assert (mine.method, mine.path, mine.status) == ("GET", "/health", 200)  # type: ignore[attr-defined]
    stars = records[made.headers["x-request-id"]]
    assert stars.path == "/v1/stars" and stars.query == "name=Sirius" and stars.duration_ms >= 0  # type: ignore[attr-defined]
    line = json.loads(JSONFormatter().format(stars))
    assert line["request_id"] == made.headers["x-request-id"] and line["status"] == 200
    assert line["level"] == "INFO" and line["logger"] == ACCESS_LOGGER and "time" in line


def test_formatter_keeps_exceptions() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("getstar.test").makeRecord("getstar.test", logging.ERROR, __file__, 1, "failed %s",
                                                              ("x",), sys.exc_info())
    line = json.loads(JSONFormatter().format(record))
    assert line["message"] == "failed x" and "ValueError: boom" in line["exception"]


def test_serve_logging_config_writes_json_lines() -> None:
    """What ``getstar serve`` hands uvicorn, applied in a fresh process: one JSON object per line."""
    code = (
        "import logging, logging.config\n"
        "from getstar.logs import log_config\n"
        "logging.config.dictConfig(log_config('INFO', 'json'))\n"
        "logging.getLogger('getstar.access').info('request', extra={'request_id': 'r1', 'status': 200})\n"
        "logging.getLogger('uvicorn.error').info('Started server process')\n"
        "logging.getLogger('uvicorn.access').info('silenced: the middleware logs requests')\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    lines = [json.loads(line) for line in run.stderr.splitlines()]
    assert [(x["logger"], x["message"]) for x in lines] == [("getstar.access", "request"),
                                                              ("uvicorn.error", "Started server process")]
    assert lines[0]["request_id"] == "r1" and lines[0]["status"] == 200
    text = log_config("WARNING", "text", access=False)
    assert text["loggers"][ACCESS_LOGGER]["level"] == "CRITICAL"
    assert text["formatters"]["main"]["()"] == "getstar.logs.TextFormatter"


def test_settings_for_operations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GETSTAR_DRAIN_TIMEOUT", "7.5")
    monkeypatch.setenv("GETSTAR_LOG_FORMAT", "TEXT")
    monkeypatch.setenv("GETSTAR_ACCESS_LOG", "off")
    s = Settings.from_env()
    assert (s.drain_timeout, s.log_format, s.access_log) == (7.5, "text", False)


async def test_close_drains_the_pool_and_gives_up_on_a_stuck_connection(make_database_async, settings) -> None:  # type: ignore[no-untyped-def]
    dsn = await make_database_async("shutdown_small")
    state = State(replace(settings, drain_timeout=0.5, redis_url=None))
    state.pool = await create_pool(dsn, state.settings)
    held = await state.pool.acquire()  # a request that never finishes
    started = time.monotonic()
    await state.close()
    assert time.monotonic() - started < 30  # bounded: terminated after drain_timeout, not waiting forever
    with pytest.raises(asyncpg.InterfaceError):  # the stuck connection was closed under it
        await held.fetchval("SELECT 1")
    state2 = State(replace(settings, drain_timeout=5, redis_url=None))
    state2.pool = await create_pool(dsn, state2.settings)
    async with state2.pool.acquire() as conn:
        assert await conn.fetchval("SELECT 1") == 1
    await state2.close()  # nothing in flight: a graceful close
    assert state2.pool._closed  # noqa: SLF001 - asyncpg has no public flag for it


@pytest.fixture()
def make_database_async(make_database):  # type: ignore[no-untyped-def]
    """``make_database`` (sync, runs its own loop) from async tests: in a worker thread."""

    async def make(name: str) -> str:
        return await asyncio.to_thread(make_database, name)

    return make


def test_made_request_ids_are_unique_also_in_a_forked_worker() -> None:
    import os

    from getstar.logs import _new_request_id

    ids = {_new_request_id() for _ in range(10_000)}
    assert len(ids) == 10_000 and all(re.fullmatch(rb"[0-9a-f]{32}", i) for i in ids)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: what a worker forked after import makes
        os.write(write, b"".join(_new_request_id() for _ in range(100)))
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 100 * 32)
    child_ids = {child[i:i + 32] for i in range(0, len(child), 32)}
    assert len(child_ids) == 100 and not child_ids & (ids | {_new_request_id() for _ in range(100)})

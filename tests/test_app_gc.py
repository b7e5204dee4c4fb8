"""The service freezes what startup made (``GETSTAR_GC_FREEZE``, on by default), and only when asked."""

from __future__ import annotations

import gc
from dataclasses import replace

import httpx

from getstar.config import Settings
from tests.conftest import LiveServer


def _frozen_after_startup(settings: Settings, dsn: str) -> int:
    gc.unfreeze()
    server = LiveServer(dsn, settings)
    server.start()
    try:
        assert httpx.get(server.url + "/v1/stars", params={"name": "Sirius"}).status_code == 200
        return gc.get_freeze_count()
    finally:
        server.stop()
        gc.unfreeze()  # the test process's objects go back to the collector


def test_startup_freezes_the_heap_when_asked(snapshot_dsn: str, settings: Settings) -> None:
    assert Settings.from_env().gc_freeze is False  # the tests' own default (conftest)
    assert _frozen_after_startup(replace(settings, gc_freeze=True), snapshot_dsn) > 10_000  # modules, pool, state
    assert _frozen_after_startup(replace(settings, gc_freeze=False), snapshot_dsn) == 0

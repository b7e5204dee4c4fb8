"""The build's work done alongside (``getstar.ingest.build``): the diameters computed in chunks
while the previous chunk is sent, and the catalogue records' nearest stars found on a second
connection, give the snapshot a sequential build gives; a failing background step fails the
build and leaves the live snapshot as it was."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import asyncpg
import pytest

from getstar.config import Settings
from getstar.ingest import build, diameters, photometry
from getstar.ingest.pipeline import run_ingest
from getstar.properties import BY_NAME
from getstar.schema import migrate
from tests.shared_paths import MISSING, SHARED_DATA

KSTARS = SHARED_DATA / "kstars" / "stars.dat" if SHARED_DATA else None


def quiet(_label: str) -> None:
    pass


async def stars(dsn: str) -> list[dict[str, Any]]:
    """Every live star, whole, but its id and load time (ids differ from build to build)."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT (to_jsonb(s) - 'star_id' - 'fetched_at')::text AS star "
                                "FROM live.star s ORDER BY s.main_id")
        return [json.loads(r["star"]) for r in rows]
    finally:
        await conn.close()


async def links(dsn: str) -> list[tuple[Any, ...]]:
    """Which catalogue record feeds which star (by main id), and how."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT l.src, l.rid, s.main_id, l.how, l.hip_star FROM live.cat_link l "
                                "JOIN live.star s ON s.star_id = l.star_id ORDER BY 1, 2")
        return [tuple(r) for r in rows]
    finally:
        await conn.close()


async def fresh(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await migrate(conn)
    finally:
        await conn.close()


def test_diameters_in_chunks_are_those_computed_at_once(make_database, settings: Settings,  # type: ignore[no-untyped-def]
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    dsn = make_database("build_chunks")

    async def scenario() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        await fresh(dsn)
        monkeypatch.setattr(diameters, "PIPELINE_CHUNK", 37)  # 400 stars: 11 chunks, the last one short
        await run_ingest(dsn, settings, "synthetic", [], progress=quiet, rows=400)
        chunked = await stars(dsn)
        monkeypatch.setattr(diameters, "PIPELINE_CHUNK", 65_536)
        await run_ingest(dsn, settings, "rebuild", [], progress=quiet)
        return chunked, await stars(dsn)

    chunked, whole = asyncio.run(scenario())
    # the step wrote its numbers and texts (synthetic stars have V and K, no type: V-K diameters)
    for name in ("diam_vk", "diamFlagInfo", "CalFlag"):
        assert sum(star[BY_NAME[name].column] is not None for star in whole) > 200, name
    assert len(whole) == 400
    assert chunked == whole


@pytest.mark.skipif(KSTARS is None or not KSTARS.is_file(), reason=MISSING)
def test_nearest_stars_found_alongside_are_those_found_after(make_database, settings: Settings,  # type: ignore[no-untyped-def]
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """KStars' records matched to synthetic stars: found on the second connection while the
    identifiers are collected, or found again after them (as when a star moved meanwhile)."""
    dsn = make_database("build_alongside")
    assert KSTARS is not None

    # random synthetic stars are rarely within arcseconds of a real star: a 1-degree radius
    monkeypatch.setitem(photometry.RADIUS, "kstars", 3600.0)

    async def scenario() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[dict[str, Any]],
                                  list[dict[str, Any]]]:
        await fresh(dsn)
        await run_ingest(dsn, settings, "synthetic", [], progress=quiet, rows=5_000)
        await run_ingest(dsn, settings, "kstars", [KSTARS], progress=quiet)
        alongside, alongside_stars = await links(dsn), await stars(dsn)

        async def moved(conn: asyncpg.Connection, found: photometry.PositionCandidates) -> bool:
            return False

        monkeypatch.setattr(photometry, "_still_true", moved)
        await run_ingest(dsn, settings, "rebuild", [], progress=quiet)
        return alongside, await links(dsn), alongside_stars, await stars(dsn)

    alongside, again, alongside_stars, again_stars = asyncio.run(scenario())
    assert len(alongside) > 50  # some records found a star
    assert alongside == again and alongside_stars == again_stars


def test_a_failing_background_step_fails_the_build_and_keeps_the_live_snapshot(  # type: ignore[no-untyped-def]
        make_database, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    dsn = make_database("build_failing")

    async def scenario() -> tuple[str, str, int]:
        await fresh(dsn)
        await run_ingest(dsn, settings, "synthetic", [], progress=quiet, rows=300)
        conn = await asyncpg.connect(dsn)
        try:
            before = await conn.fetchval("SELECT version FROM live.snapshot_info")
            groups = build.data_index_groups

            def failing(schema: str, in_q3c_order: bool = False) -> tuple[list[str], list[str]]:
                stars_, idents = groups(schema, in_q3c_order)
                return stars_, [*idents, "SELECT 1 / 0"]  # the second connection's last statement fails

            monkeypatch.setattr(build, "data_index_groups", failing)
            with pytest.raises(asyncpg.DivisionByZeroError):
                await run_ingest(dsn, settings, "rebuild", [], progress=quiet)
            after = await conn.fetchval("SELECT version FROM live.snapshot_info")
            others = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND backend_type = 'client backend'")
            return before, after, others
        finally:
            await conn.close()

    before, after, others = asyncio.run(scenario())
    assert after == before  # not swapped
    assert others == 0  # every connection of the build closed

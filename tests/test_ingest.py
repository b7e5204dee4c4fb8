"""Ingest: bad files load nothing and say where; the swap is atomic for readers."""

from __future__ import annotations

import asyncio
import shutil
import struct
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from getstar.db import connect
from getstar.errors import IngestError
from getstar.ingest import build, gaia, hipparcos, raw, simbad_dump, stellarium
from getstar.schema import STAGING, data_indexes_ddl, data_tables_ddl, migrate
from tests.shared_paths import MISSING, SHARED_DATA


@pytest.fixture(scope="module")
def scratch_dsn(make_database) -> str:  # type: ignore[no-untyped-def]
    return make_database("scratch")


async def raw_state(conn: asyncpg.Connection, table: str) -> tuple[int, str | None]:
    exists = await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"raw.{table}")
    count = await conn.fetchval(f"SELECT count(*) FROM raw.{table}") if exists else -1
    sha = await conn.fetchval("SELECT sha256 FROM raw.source WHERE name = $1", table) if exists else None
    return count, sha


def hip_lines(n: int) -> list[str]:
    with open(hipparcos.default_path()) as fh:
        return [next(fh) for _ in range(n)]


async def test_bad_hipparcos_row_loads_nothing(scratch_dsn: str, tmp_path: Path) -> None:
    conn = await asyncpg.connect(scratch_dsn)
    try:
        await migrate(conn)
        good = tmp_path / "hip2.dat"
        good.write_text("".join(hip_lines(50)))
        assert await raw.load_hipparcos(conn, good) == 50
        before = await raw_state(conn, "hip")
        lines = hip_lines(50)
        lines[36] = lines[36][:60] + "\n"  # truncated record
        bad = tmp_path / "bad_hip2.dat"
        bad.write_text("".join(lines))
        with pytest.raises(IngestError, match=r"bad_hip2.dat, row 37: expected at least 26 fields"):
            await raw.load_hipparcos(conn, bad)
        lines = hip_lines(50)
        lines[9] = lines[9].replace("0.0190068680", "0.01900x8680", 1) if "0.0190068680" in lines[9] else \
            lines[9][:20] + "abc" + lines[9][23:]
        bad.write_text("".join(lines))
        with pytest.raises(IngestError, match=r"row 10: not a number"):
            await raw.load_hipparcos(conn, bad)
        assert await raw_state(conn, "hip") == before
    finally:
        await conn.close()


async def test_truncated_gaia_file_is_refused(tmp_path: Path) -> None:
    data = gaia.default_path().read_bytes()
    count = 100
    small = data[:4] + struct.pack("<IQ", 1, count) + data[16:16 + count * gaia.RECORD.itemsize]
    path = tmp_path / "gaia.bin"
    path.write_bytes(small)
    assert len(gaia.read(path)["source_id"]) == count
    path.write_bytes(small[:-10])
    with pytest.raises(IngestError, match=r"row 100: file holds"):
        gaia.read(path)
    path.write_bytes(b"XXXX" + small[4:])
    with pytest.raises(IngestError, match="bad magic"):
        gaia.read(path)


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=MISSING)
async def test_bad_simbad_dump_loads_nothing(scratch_dsn: str, tmp_path: Path) -> None:
    src = SHARED_DATA / "simbad_bsc"
    folder = tmp_path / "simbad"
    folder.mkdir()
    lines = (src / simbad_dump.BASIC).read_text().splitlines(keepends=True)[:200]
    (folder / simbad_dump.BASIC).write_text("".join(lines))
    oids = {line.split("\t")[1] for line in lines[1:]}
    ids = [line for line in (src / simbad_dump.IDS).read_text().splitlines(keepends=True)
           if line.split("\t")[0] in oids or line.startswith("oid\t")]
    (folder / simbad_dump.IDS).write_text("".join(ids))
    conn = await asyncpg.connect(scratch_dsn)
    try:
        await migrate(conn)
        assert (await raw.load_simbad_dump(conn, folder))[0] == 199
        before = (await raw_state(conn, "simbad"), await raw_state(conn, "simbad_ident"))
        cols = lines[150].split("\t")
        cols[4] = "north"  # ra
        lines[150] = "\t".join(cols)
        (folder / simbad_dump.BASIC).write_text("".join(lines))
        with pytest.raises(IngestError, match=r"simbad_bsc_basic.tsv, row 151: column ra: not a number: 'north'"):
            await raw.load_simbad_dump(conn, folder)
        assert (await raw_state(conn, "simbad"), await raw_state(conn, "simbad_ident")) == before
    finally:
        await conn.close()


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=MISSING)
def test_bad_stellarium_hip_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "stel"
    shutil.copytree(SHARED_DATA / "stellarium", folder)
    (folder / "cross-id.dat").chmod(0o644)
    text = (folder / "cross-id.dat").read_text().splitlines(keepends=True)
    text[5] = "12x\t\t1\t2\t3\n"
    (folder / "cross-id.dat").write_text("".join(text))
    with pytest.raises(IngestError, match=r"cross-id.dat, row 6: HIP number expected, found '12x'"):
        list(stellarium.read(folder))


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason=MISSING)
def test_stellarium_identifiers_are_in_simbad_spelling() -> None:
    ids = dict.fromkeys(ident for hip, ident in stellarium.read(SHARED_DATA / "stellarium") if hip == 32349)
    assert {"HD 48915", "HR 2491", "SAO 151881", "* alf CMa", "* 9 CMa", "NAME Sirius",
            "WDS J06451-1643"} <= set(ids)
    cyg = [ident for hip, ident in stellarium.read(SHARED_DATA / "stellarium") if ident.endswith("T Cyg")]
    assert cyg and all(not i.startswith("* V*") for i in cyg)


async def _tiny_snapshot(conn: asyncpg.Connection, n: int, ra0: float) -> None:
    await conn.execute(f"DROP SCHEMA IF EXISTS {STAGING} CASCADE")
    for stmt in data_tables_ddl(STAGING):
        await conn.execute(stmt)
    await conn.executemany(
        f"INSERT INTO {STAGING}.star (star_id, main_id, ra, dec) VALUES ($1, $2, $3, 0)",
        [(i, f"star {i}", ra0 + i * 0.01) for i in range(n)])
    for stmt in data_indexes_ddl(STAGING):
        await conn.execute(stmt)


async def test_readers_see_old_or_new_snapshot_never_neither(scratch_dsn: str) -> None:
    conn = await connect(scratch_dsn)
    await migrate(conn)
    await _tiny_snapshot(conn, 10, 0.0)
    await build.swap(conn, {"test": {"sha256": "0" * 64}}, {"stars": 10}, datetime.now(UTC))
    pool = await asyncpg.create_pool(scratch_dsn, min_size=4, max_size=4)
    seen: list[int] = []
    errors: list[BaseException] = []
    stop = asyncio.Event()

    async def reader() -> None:
        async with pool.acquire() as rc:
            stmt = await rc.prepare("SELECT count(*) FROM live.star WHERE q3c_radial_query(ra, dec, 0, 0, 10)")
            while not stop.is_set():
                try:
                    seen.append(await stmt.fetchval())
                except asyncpg.exceptions.InvalidCachedStatementError:
                    stmt = await rc.prepare("SELECT count(*) FROM live.star WHERE q3c_radial_query(ra, dec, 0, 0, 10)")
                except BaseException as exc:  # noqa: BLE001 - any other failure is the bug we look for
                    errors.append(exc)
                await asyncio.sleep(0)

    readers = [asyncio.create_task(reader()) for _ in range(3)]
    try:
        for round_ in range(5):
            await _tiny_snapshot(conn, 20 + round_, 0.0)
            await build.swap(conn, {"test": {"sha256": str(round_) * 64}}, {"stars": 20 + round_},
                             datetime.now(UTC))
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.gather(*readers)
        await pool.close()
        await conn.close()
    assert errors == []
    assert len(seen) > 20
    assert set(seen) <= {10, 20, 21, 22, 23, 24}
    assert 24 in seen


@pytest.mark.parametrize("number", [0, 1, 7, 32349, 118322, 2**31 + 5, 5853498713190525696, 9223372036854775807])
def test_numbered_main_ids_get_the_keys_the_build_writes(number: int) -> None:
    """The build keys its own main ids 'Gaia DR3 n' and 'HIP n' in SQL, as ident_key would."""
    from getstar.names import ident_key

    assert ident_key(f"Gaia DR3 {number}") == f"GAIA DR3 {number}"
    assert ident_key(f"HIP {number}") == f"HIP {number}"


def test_like_prefix_of_identifier_patterns() -> None:
    from getstar.star_sql import IDENT_PROPERTIES, like_prefix

    assert [like_prefix(p) for _, p, _ in IDENT_PROPERTIES] == [
        "HD %", "HR %", "SAO %", "TYC %", "TYC %", "TYC %", "2MASS J%", "WDS J%", "Gaia DR3 %"]
    assert like_prefix("^ab?c") == "a%"
    assert like_prefix("no anchor") == "%"
    assert like_prefix("^a_b%") == "a\\_b\\%%"


def test_a_default_snapshot_without_the_shared_data_says_so(caplog: pytest.LogCaptureFixture,
                                                           tmp_path: Path) -> None:
    """A clone away from ../shared without GETSTAR_SHARED_DATA builds a smaller snapshot (no
    SIMBAD bright stars, no JMDC): the build warns, naming what is missing and where it looked."""
    import asyncio
    import logging
    from dataclasses import replace

    from getstar.config import Settings
    from getstar.ingest.pipeline import default_sources

    with caplog.at_level(logging.WARNING, logger="getstar.ingest"):
        plan = asyncio.run(default_sources(replace(Settings.from_env(), shared_data=tmp_path)))
    assert "simbad-dump" not in [name for name, _ in plan] and "jmdc" not in [name for name, _ in plan]
    assert any("SIMBAD's bright stars" in r.getMessage() and str(tmp_path) in r.getMessage() for r in caplog.records)

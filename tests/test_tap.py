"""TAP and ADQL over the live snapshot, served by a real GAVO DaCHS (``getstar tap init|serve``).

Two throw-away DaCHS sites, each set up and run by the real command line in its own process:

- ``small``: the embedded default of a fresh ``GETSTAR_HOME`` (its own cluster, Unix socket,
  its own port) holding 300 Hipparcos stars, so a ``getstar snapshot reload`` takes seconds:
  cones, upload joins, async jobs, ``SELECT *``, decoded origins, a reload under queries,
  the roles' rights, ``dachs val`` and ``stilts taplint``;
- ``real``: ``GETSTAR_DATABASE_URL`` pointing at the session's real default snapshot (read
  only here): a cone around Sirius, checked against the snapshot, and its plan.

Skips, saying why, when DaCHS, pgSphere or STILTS is not installed (``deploy/dev.sh test``
installs them).
"""

from __future__ import annotations

import asyncio
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import numpy as np
import pytest
from astropy.table import Table

from getstar import db
from getstar.config import Settings
from getstar.ingest import build, hipparcos
from getstar.properties import ORIGINS, STORED, Confidence, Property
from getstar.tap import columns as tapcols
from getstar.tap.columns import adql_name, ident_columns, star_columns
from getstar.tap.dachs import libpq_params
from getstar.tap.rd import resource_descriptor
from tests.conftest import fetch, free_port
from tests.tap_server.dachs import missing as dachs_missing

GAVO_PYTHON = "/usr/bin/python3"
ASYNC_TIMEOUT = 300  # seconds: not DaCHS's default, so that the cap is seen to come from the setting


# ---------------------------------------------------------------------------------------
# The generated columns and RD (no server)


def test_every_stored_property_has_its_four_columns() -> None:
    names = [c.name for c in star_columns()]
    assert names[:2] == ["star_id", "main_id"] and names[-1] == "fetched_at"
    assert len(names) == len(set(names))
    for prop in STORED:
        base = adql_name(prop.name)
        assert base in names and f"{base}_origin" in names and f"{base}_confidence" in names
        if prop.error:
            assert adql_name(prop.error.name) == names[names.index(base) + 1]
    assert len(names) == 3 + sum(4 if p.error else 3 for p in STORED)


def test_names_are_plain_adql_identifiers() -> None:
    assert adql_name("V") == "v" and adql_name("B-V") == "b_v" and adql_name("2MASS") == "p_2mass"
    assert adql_name("RAJ2000") == "raj2000" and adql_name("e_Plx") == "e_plx"
    assert adql_name("Distance") == "p_distance" and adql_name("top") == "p_top"  # reserved words
    for col in [*star_columns(), *ident_columns()]:
        assert re.fullmatch(r"[a-z][a-z0-9_]*", col.name), col.name
        assert col.name.upper() not in tapcols.ADQL_RESERVED, col.name


def test_names_avoid_dachs_reserved_words() -> None:
    """DaCHS's own ADQL grammar is the judge (it runs in Debian's Python, beside python3-gavo)."""
    if dachs_missing() or not Path(GAVO_PYTHON).exists():
        pytest.skip(dachs_missing() or "no system Python")
    out = subprocess.run([GAVO_PYTHON, "-c", "from gavo.adql import grammar; "
                          "print(' '.join(sorted(grammar.ALL_RESERVED_WORDS)))"],
                         capture_output=True, text=True, timeout=120, check=True).stdout.split()
    assert len(out) > 200
    clashes = [c.name for c in [*star_columns(), *ident_columns()] if c.name.upper() in set(out)]
    assert clashes == []


def test_units_are_vounits_and_positions_are_degrees() -> None:
    by_name = {c.name: c for c in star_columns()}
    assert by_name["raj2000"].unit == "deg" and by_name["raj2000"].ucd == "pos.eq.ra;meta.main"
    assert by_name["dej2000"].unit == "deg" and by_name["e_raj2000"].unit == "mas"
    assert by_name["xm_simbad_sep"].unit == "arcsec"  # GetStar's "as" would be attoseconds
    assert by_name["gaia_logg"].unit == "log(cm.s**-2)" and by_name["gaia_rad_phot"].unit == "solRad"
    assert by_name["e_plx"].unit == "mas"  # an error without a unit has its value's
    assert by_name["e_ldd_rel"].unit == "" and "percent" in by_name["e_ldd_rel"].description
    assert by_name["diamflag"].type == "smallint"  # a boolean cannot declare a VOTable null
    assert by_name["v_origin"].ucd == "meta.ref" and by_name["v_confidence"].ucd == "meta.code.qual"
    assert by_name["v_origin"].utype == "getstar:V.origin" and by_name["e_v"].utype == "getstar:V.error"
    assert by_name["hd"].null_literal == "-2147483648" and by_name["star_id"].null_literal is None


def test_rd_is_deterministic_xml_with_late_binding_views() -> None:
    import xml.etree.ElementTree as ET

    text = resource_descriptor()
    assert text == resource_descriptor()
    root = ET.fromstring(text.encode())
    assert root.get("schema") == "getstar"
    tables = {t.get("id"): t for t in root.findall("table")}
    assert set(tables) == {"star", "ident"}
    star = tables["star"]
    assert star.get("mixin") == "//scs#q3cindex" and star.get("primary") == "star_id"
    assert "getstar_tap.star()" in (star.findtext("viewStatement") or "")
    assert [c.get("name") for c in star.findall("column")] == [c.name for c in star_columns()]
    fk = tables["ident"].find("foreignKey")
    assert fk is not None and fk.get("metaOnly") == "True" and fk.get("inTable") == "star"
    assert "getstar_tap.ident()" in (tables["ident"].findtext("viewStatement") or "")


def test_a_new_property_appears_without_edits(monkeypatch: pytest.MonkeyPatch) -> None:
    extra = Property("Vmag_new", "PHOT_NEW", "phot.mag;em.opt.V", "double", "mag", "A new magnitude", "SIMBAD",
                     error=None)
    monkeypatch.setattr(tapcols, "STORED", (*STORED, extra))
    names = [c.name for c in star_columns()]
    assert names[-4:] == ["vmag_new", "vmag_new_origin", "vmag_new_confidence", "fetched_at"]
    assert 'name="vmag_new_confidence"' in resource_descriptor()
    from getstar.tap.sql import function_ddl

    star_ddl = dict(function_ddl())["getstar_tap.star"]
    assert '"vmag_new" double precision' in star_ddl and "getstar_tap.origin_name(s.p_vmag_new_o)" in star_ddl


def test_libpq_params_of_both_url_forms() -> None:
    assert libpq_params("postgresql://getstar@/getstar?host=/tmp/x/run&port=54329") == {
        "host": "/tmp/x/run", "port": "54329", "dbname": "getstar", "user": "getstar"}
    assert libpq_params("postgresql://u:p%40ss@db.example:6432/gs?sslmode=require") == {
        "host": "db.example", "port": "6432", "dbname": "gs", "user": "u", "password": "p@ss", "sslmode": "require"}


# ---------------------------------------------------------------------------------------
# The swap: grants, and old snapshots dropped without waiting long for readers


async def test_a_reader_of_the_old_snapshot_does_not_hold_up_the_swap(make_database: Any, settings: Settings) -> None:
    from getstar.ingest.pipeline import run_ingest

    dsn = await asyncio.to_thread(make_database, "tap_swap")
    await run_ingest(dsn, replace(settings, shared_data=None), "synthetic", [], progress=lambda _l: None, rows=50)
    reader = await asyncpg.connect(dsn)
    owner = await db.connect(dsn)
    try:
        tr = reader.transaction()
        await tr.start()
        assert await reader.fetchval("SELECT count(*) FROM live.star") == 50  # holds the table's lock
        await build.build(owner)
        version = await build.swap(owner, {"t": {"sha256": "1" * 64}}, {"stars": 50}, build.datetime.now(build.UTC),
                                   lock_timeout=0.2)
        kept = [r[0] for r in await owner.fetch("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'retired%'")]
        assert len(kept) == 1  # the old snapshot stays while it is read...
        assert await owner.fetchval("SELECT version FROM live.snapshot_info") == version
        assert await reader.fetchval(f"SELECT count(*) FROM {kept[0]}.star") == 50  # ...and its reader goes on
        await tr.commit()
        assert await build.drop_retired(owner, 0.2) == []  # then the next swap's cleanup drops it
        assert await owner.fetchval("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'retired%'") == 0
    finally:
        await reader.close()
        await owner.close()


@pytest.mark.parametrize("held, wanted", [("star", "ident"), ("ident", "star")])
async def test_dropping_an_old_snapshot_never_holds_a_lock_a_reader_waits_for(
        make_database: Any, held: str, wanted: str) -> None:
    """``DROP SCHEMA ... CASCADE`` locks the tables one by one: while it waits for a reader's table,
    it must not keep one another reader asks for (a reader between two such locks was cancelled
    by PostgreSQL's deadlock check).  It waits in short attempts, holding nothing between them."""
    dsn = await asyncio.to_thread(make_database, f"drop_order_{held}")
    owner = await db.connect(dsn)
    first, second = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
    dropping: asyncio.Future[list[str]] | None = None
    try:
        await owner.execute("CREATE SCHEMA retired_test; CREATE TABLE retired_test.star (star_id bigint); "
                            "CREATE TABLE retired_test.ident (star_id bigint, id text)")
        tr = first.transaction()
        await tr.start()
        await first.execute(f"LOCK retired_test.{held} IN ACCESS SHARE MODE")  # a reader in flight
        dropping = asyncio.ensure_future(build.drop_retired(owner, 5.0))
        await asyncio.sleep(0.3)  # the drop is waiting for that reader
        async with second.transaction():  # another reader gets the other table quickly
            await second.execute("SET LOCAL lock_timeout = '500ms'")
            await second.execute(f"LOCK retired_test.{wanted} IN ACCESS SHARE MODE")
        assert not dropping.done()
        await tr.commit()
        assert await dropping == []  # dropped once the reader is gone
        assert await owner.fetchval("SELECT count(*) FROM pg_namespace WHERE nspname = 'retired_test'") == 0
    finally:
        if dropping is not None and not dropping.done():
            dropping.cancel()
            await asyncio.wait([dropping])
        for conn in (owner, first, second):
            await conn.close()



# ---------------------------------------------------------------------------------------
# Real DaCHS sites


@dataclass
class TapSite:
    home: Path
    env: dict[str, str]
    url: str  # the TAP service
    dsn: str  # getstar's (owner) connection
    proc: subprocess.Popen[bytes]

    @property
    def log(self) -> Path:
        return self.home / "tap" / "logs" / "dcInfos"

    def translated(self, marker: str) -> str:
        """The SQL DaCHS sent to PostgreSQL for the ADQL query containing ``marker``."""
        for line in reversed(self.log.read_text(errors="replace").splitlines()):
            if "Sending to postgres:" in line and marker in line:
                return line.split("Sending to postgres:", 1)[1].strip().strip("'\"")
        raise AssertionError(f"no query with {marker!r} in {self.log}")

    def dachs(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["dachs", *args], env=self.env, cwd=self.home / "tap", capture_output=True,
                              text=True, timeout=300)


def _getstar(args: list[str], env: dict[str, str], timeout: float = 600) -> str:
    res = subprocess.run([sys.executable, "-m", "getstar.cli", *args], env=env, capture_output=True, text=True,
                         timeout=timeout)
    assert res.returncode == 0, f"getstar {' '.join(args)}: {res.stdout[-2000:]}\n{res.stderr[-3000:]}"
    return res.stdout


def _start_site(home: Path, env: dict[str, str], dsn: str) -> TapSite:
    """``getstar tap init`` then ``getstar tap serve`` (real commands), waiting for availability."""
    out = _getstar(["tap", "init"], env)
    url = f"http://127.0.0.1:{env['GETSTAR_TAP_PORT']}/tap"
    assert url in out
    log = open(home / "serve.log", "wb")  # noqa: SIM115 - the server's whole life
    proc = subprocess.Popen([sys.executable, "-m", "getstar.cli", "tap", "serve"], env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"getstar tap serve exited: {(home / 'serve.log').read_text()[-3000:]}")
        try:
            if httpx.get(url + "/availability", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"DaCHS did not come up: {(home / 'serve.log').read_text()[-3000:]}")
        time.sleep(0.3)
    site_env = {**env, "GAVOSETTINGS": str(home / "tap" / "gavo.rc"), "GAVOCUSTOM": str(home / "tap" / "no-gavorc")}
    return TapSite(home, site_env, url, dsn, proc)


def _stop_site(site: TapSite | None) -> None:
    if site is None:
        return
    os.killpg(site.proc.pid, signal.SIGTERM)
    try:
        site.proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(site.proc.pid, signal.SIGKILL)


def _base_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GETSTAR_")}
    return {**env, "GETSTAR_HOME": str(home), "GETSTAR_TAP_HOST": "127.0.0.1", "GETSTAR_TAP_PORT": str(free_port()),
            "GETSTAR_TAP_ASYNC_TIMEOUT": str(ASYNC_TIMEOUT),
            "GETSTAR_SIMBAD_ENABLED": "false", "GETSTAR_SHARED_DATA": str(home / "no-shared-data")}


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TapSite]:
    """The embedded default in a fresh home (own cluster and port), 300 Hipparcos stars, DaCHS on it."""
    reason = dachs_missing()
    if reason:
        pytest.skip(reason)
    home = Path(tempfile.mkdtemp(prefix="getstar-tap-", dir="/tmp"))
    os.chmod(home, 0o755)  # the postgres and gavo users enter it when we run as root
    hip = home / "hip2.dat"
    with open(hipparcos.default_path()) as fh:
        hip.write_text("".join(next(fh) for _ in range(300)))
    env = {**_base_env(home), "GETSTAR_EMBEDDED_PORT": str(free_port())}
    site = None
    try:
        _getstar(["ingest", "hipparcos", str(hip)], env)
        dsn = f"postgresql://getstar@/getstar?host={home / 'run'}&port={env['GETSTAR_EMBEDDED_PORT']}"
        site = _start_site(home, env, dsn)
        yield site
    finally:
        _stop_site(site)
        subprocess.run([sys.executable, "-m", "getstar.cli", "db", "stop"], env=env, capture_output=True, timeout=120)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def real(snapshot_dsn: str) -> Iterator[TapSite]:
    """DaCHS on the session's real default snapshot, through GETSTAR_DATABASE_URL."""
    reason = dachs_missing()
    if reason:
        pytest.skip(reason)
    home = Path(tempfile.mkdtemp(prefix="getstar-tap-real-", dir="/tmp"))
    os.chmod(home, 0o755)
    env = {**_base_env(home), "GETSTAR_DATABASE_URL": snapshot_dsn}
    site = None
    try:
        site = _start_site(home, env, snapshot_dsn)
        yield site
    finally:
        _stop_site(site)
        shutil.rmtree(home, ignore_errors=True)


def tap(site: TapSite) -> Any:
    import pyvo

    return pyvo.dal.TAPService(site.url)


def plan(site: TapSite, sql: str, user: str = "untrusted") -> str:
    return "\n".join(r[0] for r in fetch(site.dsn, "EXPLAIN " + sql, user=user))


def expected_cone(dsn: str, ra: float, dec: float, radius: float) -> set[str]:
    rows = fetch(dsn, "SELECT main_id FROM live.star WHERE q3c_dist(ra, dec, $1, $2) < $3", ra, dec, radius)
    return {r["main_id"] for r in rows}


@pytest.mark.tap_server
def test_a_cone_in_adql_returns_the_right_stars_through_q3c(small: TapSite) -> None:
    (centre,) = fetch(small.dsn, "SELECT ra, dec FROM live.star WHERE p_hip = 150")
    ra, dec, radius = centre["ra"], centre["dec"], 1.5
    expected = expected_cone(small.dsn, ra, dec, radius)
    assert 5 <= len(expected) < 300  # a real cone: some stars, not all
    query = (f"SELECT main_id, raj2000, dej2000, hip FROM getstar.star "
             f"WHERE 1=CONTAINS(POINT('ICRS', raj2000, dej2000), CIRCLE('ICRS', {ra!r}, {dec!r}, {radius}))")
    got = tap(small).run_sync(query).to_table()
    assert set(got["main_id"]) == expected
    assert got["raj2000"].unit == "deg"
    sql = small.translated(repr(ra))
    assert "q3c_join(" in sql
    assert "star_q3c" in plan(small, sql)  # the snapshot's q3c index, through the view and the function
    # DISTANCE in the WHERE clause too
    got2 = tap(small).run_sync(f"SELECT main_id FROM getstar.star WHERE DISTANCE(POINT('ICRS', raj2000, dej2000), "
                               f"POINT('ICRS', {ra!r}, {dec!r})) < {radius}").to_table()
    assert set(got2["main_id"]) == expected


@pytest.mark.tap_server
def test_select_star_returns_the_generated_columns(small: TapSite) -> None:
    table = tap(small).run_sync("SELECT TOP 3 * FROM getstar.star ORDER BY star_id").to_table()
    assert table.colnames == [c.name for c in star_columns()]
    assert len(table) == 3
    idents = tap(small).run_sync("SELECT TOP 3 * FROM getstar.ident").to_table()
    assert idents.colnames == [c.name for c in ident_columns()]


@pytest.mark.tap_server
def test_origin_and_confidence_come_back_as_text(small: TapSite) -> None:
    rows = fetch(small.dsn, "SELECT main_id, p_plx, p_plx_o, p_plx_c, p_hp_e FROM live.star "
                            "WHERE p_plx IS NOT NULL ORDER BY p_hip LIMIT 5")
    ids = ", ".join("'" + r["main_id"] + "'" for r in rows)
    got = tap(small).run_sync(f"SELECT main_id, plx, plx_origin, plx_confidence, e_hp, v_origin "
                              f"FROM getstar.star WHERE main_id IN ({ids})").to_table()
    by_id = {str(r["main_id"]): r for r in got}
    assert len(by_id) == 5
    for r in rows:
        t = by_id[r["main_id"]]
        assert t["plx_origin"] == ORIGINS[r["p_plx_o"]] == "I/311/hip2"
        assert t["plx_confidence"] == Confidence(r["p_plx_c"]).name
        assert math.isclose(float(t["plx"]), r["p_plx"]) and math.isclose(float(t["e_hp"]), r["p_hp_e"])
        assert np.ma.is_masked(t["v_origin"]) or t["v_origin"] in ("", None)  # no V: no origin either
    names = tap(small).run_sync("SELECT DISTINCT source FROM getstar.ident").to_table()
    assert set(names["source"]) <= set(tapcols.IDENT_SOURCES) and "catalogue" in set(names["source"])


@pytest.mark.tap_server
def test_an_upload_join_finds_each_target(small: TapSite) -> None:
    rows = fetch(small.dsn, "SELECT main_id, ra, dec FROM live.star ORDER BY p_hip LIMIT 40")
    targets = Table({"target": [f"T{i}" for i in range(len(rows))],
                     "ra": [r["ra"] + 0.5 / 3600 for r in rows], "dec": [r["dec"] for r in rows]})
    query = ("SELECT t.target, s.main_id, DISTANCE(POINT('ICRS', s.raj2000, s.dej2000), "
             "POINT('ICRS', t.ra, t.dec)) AS sep FROM TAP_UPLOAD.targets AS t JOIN getstar.star AS s "
             "ON 1=CONTAINS(POINT('ICRS', s.raj2000, s.dej2000), CIRCLE('ICRS', t.ra, t.dec, 2.0/3600))")
    got = tap(small).run_sync(query, uploads={"targets": targets}).to_table()
    matched = {str(r["target"]): str(r["main_id"]) for r in got}
    assert all(matched.get(f"T{i}") == r["main_id"] for i, r in enumerate(rows))
    sql = small.translated("FROM targets AS t")
    assert "q3c_join(" in sql


@pytest.mark.tap_server
def test_an_async_job_runs_to_completion(small: TapSite) -> None:
    service = tap(small)
    job = service.submit_job("SELECT COUNT(*) AS n, AVG(plx) AS mean_plx FROM getstar.star WHERE plx > 0")
    try:
        job.run()
        job.wait(phases=["COMPLETED", "ERROR", "ABORTED"], timeout=120)
        assert job.phase == "COMPLETED", job.phase
        assert _seconds(job.execution_duration) == ASYNC_TIMEOUT  # GETSTAR_TAP_ASYNC_TIMEOUT
        result = job.fetch_result().to_table()
    finally:
        job.delete()
    (expected,) = fetch(small.dsn, "SELECT count(*) AS n, avg(p_plx) AS m FROM live.star WHERE p_plx > 0")
    assert int(result["n"][0]) == expected["n"] > 100
    assert math.isclose(float(result["mean_plx"][0]), expected["m"], rel_tol=1e-9)


def _seconds(duration: Any) -> float:
    """pyvo gives a job's EXECUTIONDURATION as an astropy TimeDelta (or a number)."""
    return float(duration.sec) if hasattr(duration, "sec") else float(duration)


@pytest.mark.tap_server
def test_no_job_runs_longer_than_the_configured_limit(small: TapSite) -> None:
    """DaCHS lets a client ask any EXECUTIONDURATION (0: none); getstar's trigger holds it."""
    service = tap(small)
    job = service.submit_job("SELECT TOP 1 main_id FROM getstar.star")
    try:
        for asked in (10**7, 0, 120):
            job.execution_duration = asked
            assert _seconds(job.execution_duration) == min(asked or ASYNC_TIMEOUT, ASYNC_TIMEOUT)
    finally:
        job.delete()


@pytest.mark.tap_server
def test_the_untrusted_role_reads_only_the_published_tables(small: TapSite) -> None:
    # the published views, and the snapshot tables they resolve at each query (see getstar/tap/sql.py)
    assert fetch(small.dsn, "SELECT count(*) AS n FROM getstar.star", user="untrusted")[0]["n"] == 300
    for table in ("raw.hip", "getstar_meta.snapshot_history", "getstar_meta.schema_version", "live.snapshot_info"):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            fetch(small.dsn, f"SELECT * FROM {table} LIMIT 1", user="untrusted")
    # DaCHS's roles own nothing of getstar's: none of them can change or drop a snapshot table
    for role in ("untrusted", "gavo", "gavoadmin"):
        for stmt in ("DROP TABLE live.star", "DELETE FROM live.ident", "DROP SCHEMA raw CASCADE",
                     "ALTER TABLE live.star ADD COLUMN x int"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                fetch(small.dsn, stmt, user=role)
    owners = {r["o"] for r in fetch(small.dsn, "SELECT DISTINCT tableowner AS o FROM pg_tables "
                                               "WHERE schemaname IN ('live', 'raw', 'getstar_meta')")}
    assert owners == {"getstar"}
    (admin,) = fetch(small.dsn, "SELECT rolcreaterole, rolsuper FROM pg_roles WHERE rolname = 'gavoadmin'")
    assert admin["rolcreaterole"] is False and admin["rolsuper"] is False
    # and ADQL cannot name anything DaCHS does not publish
    with pytest.raises(Exception, match="(?i)live.star|not found|no such"):
        tap(small).run_sync("SELECT TOP 1 * FROM live.star")


@pytest.mark.tap_server
def test_dachs_validates_the_generated_rd(small: TapSite) -> None:
    res = small.dachs("val", "getstar/q")
    assert res.returncode == 0 and "getstar/q -- OK" in res.stdout + res.stderr, res.stdout + res.stderr
    assert "WARNING" not in res.stdout + res.stderr and "ERROR" not in res.stdout + res.stderr


def _star_columns_once_reloaded(site: TapSite, expected: list[str]) -> list[str]:
    """The columns of ``SELECT TOP 1 * FROM getstar.star``, asked again (for 60 s at most) until
    they are ``expected``: DaCHS reloads a moment after being told to."""
    deadline = time.monotonic() + 60
    while True:
        try:
            columns = list(tap(site).run_sync("SELECT TOP 1 * FROM getstar.star").to_table().colnames)
        except Exception:  # noqa: BLE001 - a query in the moment before the reload: ask again
            if time.monotonic() > deadline:
                raise
            columns = []
        if columns == expected or time.monotonic() > deadline:
            return columns
        time.sleep(0.5)


@pytest.mark.tap_server
def test_init_follows_the_declaration_while_dachs_serves(small: TapSite, monkeypatch: pytest.MonkeyPatch) -> None:
    """A property leaves the declaration: init replaces the function and DaCHS's view; a plain
    ``getstar tap init`` (the real declaration) brings it back. Queries keep working."""
    from getstar.tap import service

    for key, value in small.env.items():
        if key.startswith("GETSTAR_"):
            monkeypatch.setenv(key, value)
    last = STORED[-1]
    monkeypatch.setattr(tapcols, "STORED", STORED[:-1])
    asyncio.run(service.init(Settings.from_env(), small.dsn))
    # init tells the running DaCHS to drop its caches (a SIGHUP, handled by its event loop a moment
    # later: until then it may still name the column the view no longer has)
    fewer_expected = [c.name for c in star_columns()]
    fewer = _star_columns_once_reloaded(small, fewer_expected)
    assert adql_name(last.name) not in fewer and fewer == fewer_expected
    monkeypatch.undo()
    _getstar(["tap", "init"], {k: v for k, v in small.env.items() if not k.startswith("GAVO")})
    # the next queries see the property again
    expected = [c.name for c in star_columns()]
    back = _star_columns_once_reloaded(small, expected)
    assert back == expected and adql_name(last.name) in back
    n = fetch(small.dsn, "SELECT count(*) AS n FROM tap_schema.columns WHERE table_name = 'getstar.star'")[0]["n"]
    assert n == len(back)


@pytest.mark.tap_server
def test_taplint_reports_no_error(small: TapSite) -> None:
    if shutil.which("stilts") is None:
        pytest.skip("STILTS is not installed (Debian package stilts)")
    res = subprocess.run(["stilts", "taplint", f"tapurl={small.url}", "report=EW"], capture_output=True, text=True,
                         timeout=900)
    totals = re.search(r"Totals: Errors: (\d+); Warnings: (\d+)", res.stdout)
    assert totals is not None, res.stdout[-3000:] + res.stderr[-2000:]
    errors = [line for line in res.stdout.splitlines() if line.startswith("E-")]
    assert int(totals.group(1)) == 0, errors
    print(f"\ntaplint: {totals.group(0)}")


@pytest.mark.tap_server
def test_a_reload_while_dachs_serves(small: TapSite) -> None:
    """``getstar snapshot reload`` under TAP queries: none fails, the next query sees the new
    snapshot, TAP_SCHEMA is unchanged (runs last: it renumbers the stars)."""
    tap_schema_sql = ("SELECT table_name, column_name, datatype, unit, ucd, utype, description FROM tap_schema.columns "
                      "WHERE table_name LIKE 'getstar.%' ORDER BY table_name, column_name")
    before = fetch(small.dsn, tap_schema_sql)
    assert len(before) == len(star_columns()) + len(ident_columns())
    old_version = fetch(small.dsn, "SELECT version FROM live.snapshot_info")[0]["version"]
    service = tap(small)
    failures: list[str] = []
    answers: list[tuple[float, frozenset[int]]] = []
    stop = threading.Event()
    (centre,) = fetch(small.dsn, "SELECT ra, dec FROM live.star WHERE p_hip = 100")
    query = (f"SELECT star_id, main_id FROM getstar.star WHERE 1=CONTAINS(POINT('ICRS', raj2000, dej2000), "
             f"CIRCLE('ICRS', {centre['ra']!r}, {centre['dec']!r}, 1.0))")

    def load() -> None:
        deadline = time.monotonic() + 300  # bounded, whatever happens
        while not stop.is_set() and time.monotonic() < deadline and len(answers) + len(failures) < 5000:
            try:
                table = service.run_sync(query).to_table()
                answers.append((time.monotonic(), frozenset(int(x) for x in table["star_id"])))
            except Exception as exc:  # noqa: BLE001 - every failure is the finding
                failures.append(repr(exc))

    threads = [threading.Thread(target=load) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        while len(answers) < 5 and not failures and all(t.is_alive() for t in threads):
            time.sleep(0.1)
        reload_started = time.monotonic()
        out = _getstar(["snapshot", "reload"], {k: v for k, v in small.env.items() if not k.startswith("GAVO")})
        swapped = time.monotonic()
        new_version = re.search(r"^snapshot (\S+)", out, re.M)
        assert new_version is not None and new_version.group(1) != old_version
        while not any(at > swapped + 0.5 for at, _ in answers) and not failures and any(t.is_alive() for t in threads):
            time.sleep(0.1)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=120)
    assert not failures, failures[:3]
    new_ids = {r["star_id"] for r in fetch(small.dsn, "SELECT star_id FROM live.star")}
    old = [ids for at, ids in answers if at < reload_started]
    after = [ids for at, ids in answers if at > swapped + 0.5]
    assert old and after
    assert not old[0] & new_ids  # the stars were renumbered by the rebuild...
    assert all(ids <= new_ids and len(ids) == len(old[0]) for ids in after)  # ...and TAP answers from the new one
    assert fetch(small.dsn, tap_schema_sql) == before
    assert fetch(small.dsn, "SELECT count(*) AS n FROM pg_namespace WHERE nspname LIKE 'retired%'")[0]["n"] == 0
    during = sum(1 for at, _ in answers if reload_started <= at <= swapped)
    assert during > 0  # the swap really happened under queries
    print(f"\nreload under TAP queries: {len(answers)} answers ({during} during the reload), no failure")


@pytest.mark.tap_server
def test_a_cone_around_sirius_in_the_real_snapshot(real: TapSite) -> None:
    ra, dec, radius = 101.287155, -16.716116, 0.05
    expected = expected_cone(real.dsn, ra, dec, radius)
    started = time.monotonic()
    table = tap(real).run_sync(
        f"SELECT * FROM getstar.star WHERE 1=CONTAINS(POINT('ICRS', raj2000, dej2000), "
        f"CIRCLE('ICRS', {ra}, {dec}, {radius}))").to_table()
    elapsed = time.monotonic() - started
    assert set(table["main_id"]) == expected and "* alf CMa" in expected
    assert table.colnames == [c.name for c in star_columns()]
    (sirius,) = [r for r in table if r["main_id"] == "* alf CMa"]
    assert math.isclose(float(sirius["v"]), -1.46) and sirius["v_origin"] == "SIMBAD"
    assert sirius["hip"] == 32349 and sirius["hip_origin"] in ("SIMBAD", "I/311/hip2")
    assert sirius["sptype_origin"] == "SIMBAD" and sirius["plx_confidence"] in {c.name for c in Confidence}
    sql = real.translated(str(ra))
    assert "q3c_join(" in sql and "star_q3c" in plan(real, sql)
    idents = tap(real).run_sync("SELECT i.id FROM getstar.ident AS i JOIN getstar.star AS s ON s.star_id = i.star_id "
                                "WHERE i.norm_id = 'HD 48915'").to_table()
    assert len(idents) == 1
    started = time.monotonic()
    again = tap(real).run_sync(f"SELECT * FROM getstar.star WHERE 1=CONTAINS(POINT('ICRS', raj2000, dej2000), "
                               f"CIRCLE('ICRS', {ra}, {dec - 0.01}, {radius}))").to_table()
    warm = time.monotonic() - started
    print(f"\nreal snapshot: {len(table)} stars x {len(table.colnames)} columns around Sirius through pyvo in "
          f"{elapsed:.2f} s (first query), {len(again)} in {warm:.2f} s (next)")


def test_the_web_page_links_to_the_tap_service(live_server: Any, settings: Settings) -> None:
    html = httpx.get(live_server.url + "/", timeout=10).text
    assert 'id="tap-link" href="/tap"' in html
    r = httpx.get(live_server.url + "/tap", timeout=10)
    assert r.status_code == 307 and r.headers["location"] == settings.tap_root_url + "/tap"

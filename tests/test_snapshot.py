"""The real default snapshot: Gaia + Hipparcos + Stellarium + SIMBAD bright-star dump + JMDC."""

from __future__ import annotations

import math

import asyncpg
import numpy as np
import pytest

from getstar.names import ident_key
from getstar.properties import BY_NAME, ORIGIN_CODE, STORED
from getstar.schema import SCHEMA_VERSION, star_columns


async def star_of(conn: asyncpg.Connection, name: str) -> list[int]:
    rows = await conn.fetch("SELECT DISTINCT star_id FROM live.ident WHERE key = $1", ident_key(name))
    return [r["star_id"] for r in rows]


async def test_schema_is_derived_from_the_property_catalogue(snapshot_conn: asyncpg.Connection) -> None:
    cols = {r["column_name"]: r["data_type"] for r in await snapshot_conn.fetch(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'live' AND table_name = 'star'")}
    assert list(cols) == [c for c, _ in star_columns()]
    for prop in STORED:
        assert prop.column + "_o" in cols and prop.column + "_c" in cols
        assert (prop.column + "_e" in cols) == (prop.error is not None)
    assert await snapshot_conn.fetchval("SELECT tag FROM getstar_meta.schema_version") == SCHEMA_VERSION


async def test_snapshot_size_and_invariants(snapshot_conn: asyncpg.Connection) -> None:
    info = await snapshot_conn.fetchrow("SELECT * FROM live.snapshot_info")
    counts = info["row_counts"]
    assert counts["stars"] >= 490_000  # 482,106 Gaia sources + Hipparcos-only stars
    assert counts["identifiers"] >= 1_000_000
    assert set(info["sources"]) >= {"hip", "gaia", "stellarium", "simbad", "simbad_ident", "jmdc"}
    for src in info["sources"].values():
        assert len(src["sha256"]) == 64
    assert await snapshot_conn.fetchval("SELECT count(*) FROM live.star WHERE ra IS NULL OR dec IS NULL") == 0
    assert await snapshot_conn.fetchval(
        "SELECT count(*) FROM (SELECT 1 FROM live.ident GROUP BY star_id, key HAVING count(*) > 1) d") == 0
    # every value has an origin and a confidence, and nothing has an origin without a value
    for prop in ("RAJ2000", "pmRa", "plx", "V", "SpType", "LDD", "G", "HIP"):
        c = BY_NAME[prop].column
        bad = await snapshot_conn.fetchval(
            f"SELECT count(*) FROM live.star "
            f"WHERE ({c} IS NULL) <> ({c}_o IS NULL) OR ({c} IS NULL) <> ({c}_c IS NULL)")
        assert bad == 0, prop


async def test_the_star_table_is_clustered_on_q3c(snapshot_conn: asyncpg.Connection) -> None:
    clustered = await snapshot_conn.fetchval(
        "SELECT i.indisclustered FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'live' AND c.relname = 'star_q3c'")
    assert clustered is True
    plan = "\n".join(r[0] for r in await snapshot_conn.fetch(
        "EXPLAIN SELECT star_id FROM live.star WHERE q3c_radial_query(ra, dec, 101.287, -16.716, 0.01)"))
    assert "star_q3c" in plan


async def test_hipparcos_gaia_pairs_agree_after_propagation(snapshot_conn: asyncpg.Connection) -> None:
    """Matched pairs: recompute the separation at 2016.0 independently with astropy."""
    from astropy import units as u
    from astropy.coordinates import SkyCoord
    from astropy.time import Time

    rows = await snapshot_conn.fetch(
        f"SELECT s.{BY_NAME['HIP'].column} AS hip, s.{BY_NAME['GAIA'].column} AS gaia, "
        f"s.{BY_NAME['XM_GAIA_sep'].column} AS sep, h.ra, h.dec, h.pmra, h.pmdec, g.ra AS gra, g.dec AS gdec "
        "FROM live.star s JOIN raw.hip h ON h.hip = s.p_hip JOIN raw.gaia g ON g.source_id = s.p_gaia "
        "WHERE s.p_xm_gaia_sep IS NOT NULL AND h.pmra IS NOT NULL AND h.pmra <> 0 ORDER BY s.p_hip LIMIT 2000")
    assert len(rows) == 2000
    hip = SkyCoord(ra=[r["ra"] for r in rows] * u.deg, dec=[r["dec"] for r in rows] * u.deg,
                   pm_ra_cosdec=[r["pmra"] for r in rows] * u.mas / u.yr,
                   pm_dec=[r["pmdec"] for r in rows] * u.mas / u.yr,
                   obstime=Time(1991.25, format="jyear"), distance=[1000] * len(rows) * u.pc)
    moved = hip.apply_space_motion(new_obstime=Time(2016.0, format="jyear"))
    gaia = SkyCoord(ra=[r["gra"] for r in rows] * u.deg, dec=[r["gdec"] for r in rows] * u.deg)
    sep = moved.separation(gaia).arcsec
    assert np.all(sep < 1.5)
    assert np.allclose(sep, [r["sep"] for r in rows], atol=0.01)
    assert np.median(sep) < 0.1


async def test_sirius_hipparcos_is_unmatched_in_gaia_with_a_reason(snapshot_conn: asyncpg.Connection) -> None:
    """Gaia DR3 has no Sirius A: the package holds a Hipparcos stand-in (-32349) instead."""
    row = await snapshot_conn.fetchrow("SELECT * FROM live.star WHERE p_hip = 32349")
    assert row["p_xm_gaia_n_mates"] == 0 and row["p_xm_gaia_sep"] is None
    assert await snapshot_conn.fetchval("SELECT count(*) FROM raw.gaia WHERE source_id = -32349") == 1
    assert row["p_g_o"] == ORIGIN_CODE["computed"] and row["p_g_c"] == 1  # the stand-in's G, LOW


@pytest.mark.parametrize("name", ["Sirius", "* alf CMa", "alf CMa", "HD 48915", "HIP 32349", "HR 2491",
                                  "SAO 151881", "NAME Dog Star", "* 9 CMa", "TYC 5949-2777-1",
                                  "2MASS J06450887-1642566"])
async def test_sirius_names_resolve_to_one_star(snapshot_conn: asyncpg.Connection, name: str) -> None:
    keys = [ident_key(name), ident_key("NAME " + name)]
    stars = {r["star_id"] for r in await snapshot_conn.fetch(
        "SELECT star_id FROM live.ident WHERE key = any($1::text[])", keys)}
    sirius = await star_of(snapshot_conn, "HIP 32349")
    assert stars == set(sirius) and len(sirius) == 1


async def test_sirius_properties_come_from_simbad_and_jmdc(snapshot_conn: asyncpg.Connection) -> None:
    (star_id,) = await star_of(snapshot_conn, "HD 48915")
    row = await snapshot_conn.fetchrow("SELECT * FROM live.star WHERE star_id = $1", star_id)
    simbad = ORIGIN_CODE["SIMBAD"]
    assert row["main_id"] == "* alf CMa"
    assert row["p_simbad"] == "* alf CMa" and row["p_simbad_o"] == simbad
    assert row["p_sptype_o"] == simbad and row["p_v_o"] == simbad and math.isclose(row["p_v"], -1.46)
    # position: SIMBAD's (Hipparcos-only star), within 1" of Hipparcos propagated to J2000
    assert row["ra_o"] == simbad
    assert abs(row["ra"] - 101.28715533) * 3600 * math.cos(math.radians(16.7)) < 1
    assert abs(row["dec"] + 16.71611586) * 3600 < 1
    # diameters from JMDC: measured (II/345) and GetStar's LDD
    assert row["p_ldd_meas_o"] == ORIGIN_CODE["II/345/jmdc"] and 5.5 < row["p_ldd_meas"] < 6.5
    assert row["p_ldd"] is not None and row["p_ud_k"] is not None


async def test_gaia_dr3_2947050466531873024_is_sirius_b_not_a(snapshot_conn: asyncpg.Connection) -> None:
    """This Gaia source (G = 8.5) is Sirius B, ~10" from A; SIMBAD's dump does not list it for A."""
    b = await star_of(snapshot_conn, "Gaia DR3 2947050466531873024")
    a = await star_of(snapshot_conn, "Sirius")
    assert len(b) == 1 and b != a
    row = await snapshot_conn.fetchrow("SELECT p_g, ra, dec FROM live.star WHERE star_id = $1", b[0])
    assert 8 < row["p_g"] < 9


async def test_every_simbad_identifier_resolves_to_its_object(snapshot_conn: asyncpg.Connection) -> None:
    """All 280,435 identifiers of the dump, in one set-based query.

    One object of the dump (SN 1670) has no position, so it cannot be a star row (the
    snapshot is positional); its identifiers are the only ones that do not resolve.
    """
    total = await snapshot_conn.fetchval("SELECT count(*) FROM raw.simbad_ident")
    assert total == 280_435
    unplaced = await snapshot_conn.fetch("SELECT oid, main_id FROM raw.simbad WHERE ra IS NULL")
    assert [r["main_id"] for r in unplaced] == ["SN 1670"]
    resolved = await snapshot_conn.fetchval("""
        SELECT count(*) FROM raw.simbad_ident r JOIN raw.simbad b USING (oid)
        JOIN live.star s ON s.p_simbad = b.main_id
        WHERE EXISTS (SELECT 1 FROM live.ident i WHERE i.key = r.key AND i.star_id = s.star_id)""")
    unplaced_ids = await snapshot_conn.fetchval(
        "SELECT count(*) FROM raw.simbad_ident WHERE oid = $1", unplaced[0]["oid"])
    assert resolved == total - unplaced_ids
    objects = await snapshot_conn.fetchval("SELECT count(DISTINCT p_simbad) FROM live.star WHERE p_simbad_o = 23")
    assert objects == 9104 - 1
    # ...and to it alone: no other star holds the key, no multiple system is named by it
    # (but the few identifiers SIMBAD itself gives to two objects, 'YZ 0 1227')
    # (set-based: raw.simbad_ident has no index on key, and a per-row lookup of live.ident by the
    # trigram index instead of the btree ran for minutes)
    async with snapshot_conn.transaction():
        await snapshot_conn.execute("SET LOCAL enable_bitmapscan = off")
        elsewhere = await snapshot_conn.fetch("""
            WITH single AS (SELECT key FROM raw.simbad_ident GROUP BY key HAVING count(DISTINCT oid) = 1),
            cand AS MATERIALIZED (
                SELECT r.id, r.key, s.star_id FROM raw.simbad_ident r JOIN single USING (key)
                JOIN raw.simbad b USING (oid) JOIN live.star s ON s.p_simbad = b.main_id)
            SELECT c.id FROM cand c JOIN live.ident i ON i.key = c.key AND i.star_id <> c.star_id
            UNION SELECT c.id FROM cand c JOIN live.system_name y ON y.key = c.key""")
    assert [r["id"] for r in elsewhere] == []


async def test_every_simbad_identifier_is_answered_with_its_star(snapshot_dsn: str) -> None:
    """The same, through the name lookup (query_keys, best-ranked key, system names) for all
    280,435 identifiers, and through the resolver itself for a sample: each answers its own
    SIMBAD object's star, unflagged; the identifiers SIMBAD gives to two objects are ambiguous."""
    import random

    from getstar.resolver import Resolver
    from getstar.xmatch.match import lookup_names_and_systems

    pool = await asyncpg.create_pool(snapshot_dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            rows = await conn.fetch("""
                WITH owned AS (SELECT key, count(DISTINCT oid) AS owners FROM raw.simbad_ident GROUP BY key)
                SELECT r.id, s.star_id, o.owners
                FROM raw.simbad_ident r JOIN owned o USING (key) JOIN raw.simbad b USING (oid)
                JOIN live.star s ON s.p_simbad = b.main_id""")
            assert len(rows) > 280_000
            found = await lookup_names_and_systems(conn, [r["id"] for r in rows])
        wrong = [(r["id"], ids, system) for r, (ids, system) in zip(rows, found, strict=True)
                 if (len(ids) < 2 if r["owners"] > 1 else (ids != [r["star_id"]] or system is not None))]
        assert wrong == []
        sample = random.Random(15).sample(list(rows), 3000)
        answers = await Resolver(pool).resolve_names([r["id"] for r in sample])
        for row, answer in zip(sample, answers, strict=True):
            if row["owners"] > 1:
                assert answer.status == "ambiguous", row["id"]
            else:
                assert answer.status == "ok" and answer.system is None, row["id"]
                assert answer.star is not None and answer.star["star_id"] == row["star_id"], row["id"]
    finally:
        await pool.close()


@pytest.mark.parametrize("name", ["SN1848", "SN1876", "SN1891", "SN1899", "SN1901", "SN1903"])
async def test_identifier_not_found_pages_stay_not_found(snapshot_conn: asyncpg.Connection, name: str) -> None:
    assert await star_of(snapshot_conn, name) == []
    assert await star_of(snapshot_conn, name.replace("SN", "SN ")) == []


async def test_merge_counts_are_reported(snapshot_conn: asyncpg.Connection) -> None:
    counts = await snapshot_conn.fetchval("SELECT row_counts FROM live.snapshot_info")
    assert counts["simbad_objects"] == 9104
    merged = counts["simbad_merged_by_identifier"] + counts["simbad_merged_by_position"] + counts["simbad_new_stars"]
    assert merged == 9104 - 1  # SN 1670 has no position
    assert counts["simbad_merged_by_identifier"] > 8800
    assert counts["jmdc_attached"] >= 850

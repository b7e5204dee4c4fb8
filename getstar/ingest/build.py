"""Build a snapshot from the raw store: cross-identify, merge, index, validate, swap.

Everything runs as set-based SQL inside PostgreSQL (q3c for the positional matches),
into the ``staging`` schema; ``swap`` then exchanges ``staging`` and ``live`` in one
transaction, so readers see the old snapshot or the new one, never neither.

Precedence per property (as GetStar: Gaia overwrites astrometry, SIMBAD overwrites
identity and spectral type): positions Gaia (moved to J2000) > SIMBAD > Hipparcos, a Gaia
position without a known proper motion stays at epoch 2016.0 with MEDIUM confidence;
proper motions Hipparcos > SIMBAD (the Gaia file has none); main identifier, SpType, object
types from SIMBAD; magnitudes from
SIMBAD, then JMDC, then JSDC, then KStars and Stellarium (V, B−V, Hipparcos spectral
types), then estimates from Gaia G, BP, RP (``getstar.ingest.photometry``); diameters from
JMDC, then JSDC.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncpg

from getstar.properties import BY_NAME, ORIGIN_CODE, STORED
from getstar.schema import (
    LIVE,
    RETIRED_PREFIX,
    SNAPSHOT_CHANNEL,
    STAGING,
    current_snapshot_key,
    data_index_groups,
    data_tables_ddl,
    grant_readers,
)
from getstar.simbad_columns import (  # noqa: F401 - the radii are part of this module's interface
    SIMBAD_CHECK_RADIUS,
    SIMBAD_POSITION_RADIUS,
    merge_sets,
    simbad_star_values,
)
from getstar.star_sql import (  # noqa: F401 - Src, insert_stars, set_property: used by other ingest steps
    HIGH,
    IDENT_PROPERTIES,
    LOW,
    MEDIUM,
    Src,
    col,
    fill_ident_properties_sql,
    ident_property_values_sql,
    insert_stars,
    set_property,
)

#: Hipparcos -> Gaia match radius at epoch 2016.0 (arcsec).
HIP_GAIA_RADIUS = 1.5
#: JSDC star -> star by position (GetStar's JSDC cone, arcsec).
JSDC_RADIUS = 2.0
#: Longest wait of a swap for a lock (seconds): GETSTAR_SWAP_LOCK_TIMEOUT.
SWAP_LOCK_TIMEOUT = 10.0

GAIA = ORIGIN_CODE["I/355/gaiadr3"]
HIP2 = ORIGIN_CODE["I/311/hip2"]
SIMBAD = ORIGIN_CODE["SIMBAD"]
STELLARIUM = ORIGIN_CODE["Stellarium"]
COMPUTED = ORIGIN_CODE["computed"]

T = TypeVar("T")


@dataclass
class BuildReport:
    counts: dict[str, int] = field(default_factory=dict)
    #: Lines worth a reader's eye (identifier conflicts settled by the build, first ones).
    notes: list[str] = field(default_factory=list)
    #: Wall-clock seconds of each build step, in order (printed by ``getstar ingest``).
    seconds: dict[str, float] = field(default_factory=dict)

    def __str__(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.counts.items())


async def table_exists(conn: asyncpg.Connection, name: str) -> bool:
    return bool(await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", name))


async def build(conn: asyncpg.Connection, progress: Any = None, dsn: str | None = None,
                sources_loaded: Awaitable[Any] | None = None) -> BuildReport:
    """Build ``staging`` from the raw store. Raises if a required source is missing.

    ``dsn``: the database's, for second connections that work alongside the steps: the
    catalogue records' nearest stars (while the identifiers are collected), the identifiers'
    indexes (from then on); without it, each is done in its turn.
    ``sources_loaded``: the loading of the sources other than Hipparcos and Gaia, awaited
    before the first step that reads them (the SIMBAD merge; ``pipeline.loading_default_sources``).
    """
    report = BuildReport()
    started = {"": time.monotonic()}  # the running step's label -> when it started

    def step(label: str) -> None:
        now = time.monotonic()
        (running, since), = started.items()
        if running:
            report.seconds[running] = now - since
        started.clear()
        started[label] = now
        if progress is not None and label:
            progress(label)

    if not any([await table_exists(conn, f"raw.{t}") for t in ("hip", "gaia", "synthetic")]):
        raise RuntimeError("the raw store holds neither Hipparcos, Gaia nor synthetic stars: ingest them first")
    await conn.execute(f"DROP SCHEMA IF EXISTS {STAGING} CASCADE")
    for stmt in data_tables_ddl(STAGING):
        await conn.execute(stmt)
    # the star table is written here, then once more by the diameter step's rewrite, whose copy
    # is the logged one: unlogged until then, the first writing is neither synced at commit nor
    # WAL-logged (2.5 M synthetic stars: ~750 MB that reached the disk only to be dropped); the
    # build makes it logged at its end in any case
    await conn.execute(f"ALTER TABLE {STAGING}.star SET UNLOGGED")
    have_hip = await table_exists(conn, "raw.hip")
    have_gaia = await table_exists(conn, "raw.gaia")

    step("cross-matching Hipparcos with Gaia")
    if have_hip and have_gaia:
        await conn.execute(f"""
            CREATE TABLE {STAGING}.xm_hip_gaia AS
            SELECT h.hip, m.source_id, m.sep, m.n, m.sep2
            FROM raw.hip h
            JOIN LATERAL (
                SELECT g.source_id,
                       q3c_dist(h.ra2016, h.dec2016, g.ra, g.dec) * 3600 AS sep,
                       count(*) OVER () AS n,
                       lead(q3c_dist(h.ra2016, h.dec2016, g.ra, g.dec) * 3600)
                           OVER (ORDER BY q3c_dist(h.ra2016, h.dec2016, g.ra, g.dec)) AS sep2
                FROM raw.gaia g
                WHERE q3c_join(h.ra2016, h.dec2016, g.ra, g.dec, {HIP_GAIA_RADIUS / 3600.0})
                  AND g.source_id > 0
                ORDER BY sep LIMIT 1
            ) m ON true""")
        # a Gaia source claimed by several HIP stars goes to the nearest one
        await conn.execute(f"""
            DELETE FROM {STAGING}.xm_hip_gaia x USING (
                SELECT hip, row_number() OVER (PARTITION BY source_id ORDER BY sep) AS rn
                FROM {STAGING}.xm_hip_gaia) d
            WHERE x.hip = d.hip AND d.rn > 1""")
        await conn.execute(f"CREATE UNIQUE INDEX ON {STAGING}.xm_hip_gaia (source_id)")
        report.counts["hip_gaia_matched"] = await conn.fetchval(f"SELECT count(*) FROM {STAGING}.xm_hip_gaia")
    else:
        await conn.execute(
            f"CREATE TABLE {STAGING}.xm_hip_gaia (hip bigint, source_id bigint, sep float8, n int, sep2 float8)"
        )

    from getstar import derived

    dist = derived.dist_plx("h.plx", "h.e_plx", str(HIGH))  # computed as the star is made: no second write
    hip_values = {
        "HIP": Src("h.hip", HIP2),
        "plx": Src("h.plx", HIP2, HIGH, "h.e_plx"),
        "dist_plx": Src(dist.value, COMPUTED, dist.confidence, dist.error),
        "Hp": Src("h.hp", HIP2, HIGH, "h.e_hp"),
        "B-V": Src("h.b_v", HIP2, HIGH, "h.e_b_v"),
        "V-Icous": Src("h.v_i", HIP2),
    }
    step("creating stars")
    # Gaia positions with a Hipparcos proper motion are moved to J2000 before the stars are
    # written (one write instead of an UPDATE of ~110,000 wide rows; _propagate_gaia_positions
    # below finds what is left); one transaction, the table emptied in it: with wal_level =
    # minimal (no standby) the new rows are synced at commit rather than also written to the WAL
    premoved = await _gaia_positions_at_2000(conn) if have_gaia and have_hip else 0
    async with conn.transaction():
        await conn.execute(f"TRUNCATE {STAGING}.star")
        if have_gaia:
            hip_join = ("LEFT JOIN xm_at_2000 x ON x.source_id = g.source_id "
                        "LEFT JOIN raw.hip h ON h.hip = x.hip") if have_hip else \
                "LEFT JOIN (SELECT NULL::bigint hip, NULL::float8 sep, NULL::int n, NULL::float8 sep2, " \
                "NULL::float8 ra2000, NULL::float8 dec2000) x ON false " \
                "LEFT JOIN (SELECT NULL::bigint hip, NULL::float8 plx, NULL::float8 e_plx, NULL::float8 hp, " \
                "NULL::float8 e_hp, NULL::float8 b_v, NULL::float8 e_b_v, NULL::float8 v_i, NULL::float8 pmra, " \
                "NULL::float8 pmdec, NULL::float8 e_pmra, NULL::float8 e_pmdec) h ON false"
            await conn.execute(insert_stars(
                f"FROM raw.gaia g {hip_join} WHERE g.source_id > 0",
                "'Gaia DR3 ' || g.source_id",
                {
                    "GAIA": Src("g.source_id", GAIA),
                    # at epoch 2016.0 (MEDIUM), unless its Hipparcos proper motion moved it to J2000
                    "RAJ2000": Src("coalesce(x.ra2000, g.ra)", GAIA,
                                   f"CASE WHEN x.ra2000 IS NULL THEN {MEDIUM} ELSE {HIGH} END"),
                    "DEJ2000": Src("coalesce(x.dec2000, g.dec)", GAIA,
                                   f"CASE WHEN x.dec2000 IS NULL THEN {MEDIUM} ELSE {HIGH} END"),
                    "pmRa": Src("h.pmra", HIP2, HIGH, "h.e_pmra"),
                    "pmDec": Src("h.pmdec", HIP2, HIGH, "h.e_pmdec"),
                    "Bp": Src("g.bp", GAIA),
                    "Rp": Src("g.rp", GAIA),
                    "G": Src("g.g", GAIA),
                    "XM_GAIA_sep": Src("x.sep", COMPUTED),
                    "XM_GAIA_n_mates": Src("x.n", COMPUTED),
                    "XM_GAIA_sep_2nd": Src("x.sep2", COMPUTED),
                    **hip_values,
                },
            ))
        if have_hip:
            standin = ("LEFT JOIN raw.gaia s ON s.source_id = -h.hip" if have_gaia
                       else "LEFT JOIN (SELECT NULL::bigint source_id, NULL::float8 g) s ON false")
            await conn.execute(insert_stars(
                f"FROM raw.hip h {standin} WHERE NOT EXISTS "
                f"(SELECT 1 FROM {STAGING}.xm_hip_gaia x WHERE x.hip = h.hip)",
                "'HIP ' || h.hip",
                {
                    "RAJ2000": Src("h.ra2000", HIP2, HIGH, "h.e_ra"),
                    "DEJ2000": Src("h.dec2000", HIP2, HIGH, "h.e_dec"),
                    "pmRa": Src("h.pmra", HIP2, HIGH, "h.e_pmra"),
                    "pmDec": Src("h.pmdec", HIP2, HIGH, "h.e_pmdec"),
                    # G of the package's Hipparcos stand-ins for the brightest stars: an estimate
                    "G": Src("s.g", COMPUTED, LOW),
                    # no Gaia source within the radius at epoch 2016 (0 mates), recorded as SearchCal does
                    "XM_GAIA_n_mates": Src("0", COMPUTED),
                    **hip_values,
                },
            ))
    if have_gaia and have_hip:
        await conn.execute("DROP TABLE xm_at_2000")
    if have_hip:
        report.counts["hip_without_gaia"] = await conn.fetchval(
            f"SELECT count(*) FROM {STAGING}.star WHERE {col('XM_GAIA_n_mates')} = 0")
        if have_gaia:
            report.counts["hip_gaia_standins"] = await conn.fetchval(
                "SELECT count(*) FROM raw.gaia WHERE source_id < 0")
    if await table_exists(conn, "raw.synthetic"):
        step("creating synthetic stars")  # scale tests (getstar.ingest.synthetic): extra stars, no cross-match
        await conn.execute(insert_stars("FROM raw.synthetic y", "'SYN ' || y.n", {
            "RAJ2000": Src("y.ra", COMPUTED), "DEJ2000": Src("y.dec", COMPUTED),
            "pmRa": Src("y.pmra", COMPUTED, MEDIUM), "pmDec": Src("y.pmdec", COMPUTED, MEDIUM),
            "plx": Src("y.plx", COMPUTED, MEDIUM), "V": Src("y.v", COMPUTED, MEDIUM),
            "G": Src("y.g", COMPUTED, MEDIUM), "K": Src("y.k", COMPUTED, MEDIUM)}))
    report.counts["stars_from_catalogues"] = await conn.fetchval(f"SELECT count(*) FROM {STAGING}.star")
    await conn.execute(f"CREATE INDEX star_q3c ON {STAGING}.star (q3c_ang2ipix(ra, dec))")
    await conn.execute(f"CREATE INDEX ON {STAGING}.star ({col('HIP')})")
    await conn.execute(f"CREATE INDEX ON {STAGING}.star ({col('GAIA')})")
    # the steps until the table's rewrite update stars by id (gone with the rewrite)
    await conn.execute(f"CREATE INDEX ON {STAGING}.star (star_id)")
    await conn.execute(f"ANALYZE {STAGING}.star")

    step("moving Gaia positions to J2000")
    report.counts["gaia_positions_propagated"] = premoved + await _propagate_gaia_positions(conn)
    if sources_loaded is not None:
        step("loading the other sources (alongside the steps above)")
        await sources_loaded
    simbad_idents = "raw.simbad_ident"
    have_simbad = await table_exists(conn, "raw.simbad") or await table_exists(conn, "raw.simbad_learned")
    # the steps that may give a star another parallax than the one it was written with
    have_jmdc, have_jsdc = await table_exists(conn, "raw.jmdc"), await table_exists(conn, "raw.jsdc")
    parallax_sources = have_simbad or have_jmdc or have_jsdc
    if have_simbad:
        step("merging SIMBAD")
        from getstar.simbad.learned import stage_sources  # the dump plus what the fallback learned

        simbad_basic, simbad_idents = await stage_sources(conn, STAGING)
        report.counts.update(await _merge_simbad(conn, simbad_basic, simbad_idents))
        report.counts["gaia_positions_propagated"] += await _propagate_gaia_positions(conn)
    report.counts["gaia_positions_at_2016"] = await conn.fetchval(
        f"SELECT count(*) FROM {STAGING}.star WHERE ra_o = {GAIA} AND ra_c = {MEDIUM}")

    from getstar.ingest import photometry

    # the catalogue records' nearest stars (positions are final now) found on a second
    # connection while the identifiers are collected (~8 s of one core otherwise idle)
    candidates = asyncio.create_task(on_connection(dsn, photometry.prepare_position_matching)) if dsn else None
    step("collecting identifiers")
    try:
        report.counts.update(await _build_idents(conn, simbad_idents))
    except BaseException:
        await _cancelled(candidates)
        raise
    from getstar.ingest.identity import conflict_notes

    report.notes = await conflict_notes(conn, STAGING)

    # the identifiers are final (later steps only read them): their indexes are built alongside,
    # on a second connection, while the steps below keep about one core busy
    star_indexes, ident_indexes = data_index_groups(STAGING, in_q3c_order=True)  # written in sky order (star_id)
    background = asyncio.create_task(_execute_all(dsn, ident_indexes)) if dsn else None
    try:
        if have_jmdc:
            step("attaching JMDC")
            report.counts.update(await _attach_by_keys(conn, "jmdc", "simbad"))
        if have_jsdc:
            step("attaching JSDC")
            report.counts.update(await _attach_jsdc(conn))

        # where later steps (SIMBAD, JMDC, JSDC) changed a parallax; without them every star's
        # dist_plx was computed as it was written (a scan of 2.5 M synthetic stars: ~5 s)
        if parallax_sources:
            step("deriving properties")
            report.counts["dist_plx_updated"] = int((await conn.execute(derived.update_sql(STAGING))).split()[-1])
        report.counts["dist_plx"] = await conn.fetchval(
            f"SELECT count(*) FROM {STAGING}.star WHERE {col('dist_plx')} IS NOT NULL")

        step("matching Stellarium and KStars stars")
        report.counts.update(await photometry.attach_catalogue_photometry(conn, candidates))
        candidates = None
        step("filling catalogue photometry, B from V and B-V, and the Gaia estimates")
        # staged (photometry.stage_photometry), not written into the stars yet: the diameter step
        # writes them with its own values, in one rewrite of the table
        report.counts.update(await photometry.stage_photometry(conn))

        # DIAMETER STEP: every catalogue magnitude is attached and the Gaia estimates are
        # filled above; the SearchCal computations (getstar/astro/: spectral-type decoding,
        # colour tables for the magnitudes still missing, diameters, LD -> UD) run here, on
        # staging.star with the filled photometry, before the coverage figures and the indexes.
        # The stars are written once, with both, in star_id order, which is sky order
        # (``star_sql.insert_stars`` numbers each source's stars along q3c's curve): the merge
        # joins on star_id give that order, where sorting the wide rows by their q3c index took
        # 70 s of a 2.5 M-star build (what CLUSTER did after: three rewrites of the table made one).
        step("computing angular diameters")
        report.counts.update(await compute_diameters(conn, await photometry.filled_stars_sql(conn),
                                                     order_by="t.star_id", dsn=dsn))
        await conn.execute(f"DROP TABLE {photometry.FILLED}")

        step("measuring coverage")
        report.counts.update(await photometry.coverage(conn))

        await conn.execute(f"DROP INDEX IF EXISTS {STAGING}.star_q3c")
        step("indexing")
        for stmt in star_indexes if background else star_indexes + ident_indexes:
            await conn.execute(stmt)
        if background:
            report.seconds["indexing identifiers (alongside the steps since identifiers)"] = await background
    finally:
        await _cancelled(background)
        await _cancelled(candidates)
    await conn.execute(f"ALTER TABLE {STAGING}.star SET LOGGED")  # nothing to do after the rewrite
    report.counts["stars"] = await conn.fetchval(f"SELECT count(*) FROM {STAGING}.star")
    report.counts["identifiers"] = await conn.fetchval(f"SELECT count(*) FROM {STAGING}.ident")
    step("")  # closes the last step's clock
    return report


async def _cancelled(task: asyncio.Task[Any] | None) -> None:
    """``task`` ended: cancelled if still running (the build failed), its outcome dropped (a
    cancellation of the caller itself, meanwhile, goes on)."""
    if task is None:
        return
    if not task.done():
        task.cancel()
    await asyncio.wait([task])
    if not task.cancelled():
        task.exception()  # retrieved: not reported again as never retrieved


async def on_connection(dsn: str, work: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """``work`` on a connection of its own (the build's work alongside, the loads' processes)."""
    other = await asyncpg.connect(dsn)
    try:
        return await work(other)
    finally:
        await other.close()


async def _execute_all(dsn: str, statements: list[str]) -> float:
    """Run ``statements`` on a connection of their own; the seconds they took."""
    started = time.monotonic()

    async def run(other: asyncpg.Connection) -> None:
        for stmt in statements:
            await other.execute(stmt)

    await on_connection(dsn, run)
    return time.monotonic() - started


async def compute_diameters(conn: asyncpg.Connection, source: str | None = None,
                            order_by: str | None = None, dsn: str | None = None) -> dict[str, int]:
    """The diameter step (SearchCal's method, ``getstar.astro``; see ``getstar.ingest.diameters``).

    Called once all catalogue photometry is attached and the Gaia estimates are filled (or
    with ``source``, the SELECT that fills them); returns its counts for the build report.
    ``dsn``: the database's, for reading the stars on a second connection while they are loaded.
    """
    from getstar.ingest import diameters

    return await diameters.compute_diameters(conn, source, order_by, dsn)


async def _gaia_positions_at_2000(conn: asyncpg.Connection) -> int:
    """``xm_at_2000`` (temporary): ``xm_hip_gaia`` with the J2000 position (``ra2000``,
    ``dec2000``) of each Gaia source whose Hipparcos star gives a proper motion, moved as
    ``_propagate_gaia_positions`` moves a star's (the same numpy computation); their number."""
    import numpy as np

    from getstar.coords import propagate_many

    rows = await conn.fetch(f"""
        SELECT x.source_id, g.ra, g.dec, h.pmra, h.pmdec FROM {STAGING}.xm_hip_gaia x
        JOIN raw.gaia g ON g.source_id = x.source_id JOIN raw.hip h ON h.hip = x.hip
        WHERE g.source_id > 0 AND g.ra IS NOT NULL AND g.dec IS NOT NULL
          AND h.pmra IS NOT NULL AND h.pmdec IS NOT NULL""")
    await conn.execute("CREATE TEMP TABLE moved (source_id bigint, ra float8, dec float8)")
    if rows:
        arr = np.array([tuple(r)[1:] for r in rows], dtype=np.float64)
        ra, dec = propagate_many(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3], 2016.0, 2000.0)
        await conn.copy_records_to_table(
            "moved", records=zip((r["source_id"] for r in rows), ra.tolist(), dec.tolist(), strict=True))
    await conn.execute(f"""
        CREATE TEMP TABLE xm_at_2000 AS SELECT x.*, m.ra AS ra2000, m.dec AS dec2000
        FROM {STAGING}.xm_hip_gaia x LEFT JOIN moved m ON m.source_id = x.source_id""")
    await conn.execute("DROP TABLE moved")
    # statistics, so the stars are inserted in the order of raw.gaia (their ids follow it), as
    # with xm_hip_gaia: unknown, its size led the planner to hash raw.gaia instead
    await conn.execute("ANALYZE xm_at_2000")
    return len(rows)


async def _propagate_gaia_positions(conn: asyncpg.Connection) -> int:
    """Move epoch-2016 Gaia positions to J2000 for stars whose proper motion is known.

    Done in numpy with the exact spherical propagation (``coords.propagate_many``) and
    written back through a temporary table: ~10^5 rows take well under a second.
    """
    import numpy as np

    from getstar.coords import propagate_many

    rows = await conn.fetch(
        f"SELECT star_id, ra, dec, {col('pmRa')} AS pmra, {col('pmDec')} AS pmdec FROM {STAGING}.star "
        f"WHERE ra_o = {GAIA} AND ra_c = {MEDIUM} AND {col('pmRa')} IS NOT NULL AND {col('pmDec')} IS NOT NULL")
    if not rows:
        return 0
    arr = np.array([tuple(r) for r in rows], dtype=np.float64)
    ra, dec = propagate_many(arr[:, 1], arr[:, 2], arr[:, 3], arr[:, 4], 2016.0, 2000.0)
    await conn.execute("CREATE TEMP TABLE moved (star_id bigint, ra float8, dec float8)")
    try:
        await conn.copy_records_to_table(
            "moved", records=zip((r["star_id"] for r in rows), ra.tolist(), dec.tolist(), strict=True))
        await conn.execute(f"""
            UPDATE {STAGING}.star t SET ra = m.ra, dec = m.dec, ra_c = {HIGH}, dec_c = {HIGH}
            FROM moved m WHERE t.star_id = m.star_id""")
    finally:
        await conn.execute("DROP TABLE moved")
    return len(rows)


async def _merge_simbad(conn: asyncpg.Connection, basic: str, idents: str) -> dict[str, int]:
    """Merge the SIMBAD objects of ``basic`` (``learned.stage_sources``: the dump's columns, the
    TAP-only ones and ``fetched_at``) and their identifiers into the staged stars."""
    s = STAGING
    await conn.execute(f"""
        CREATE TABLE {s}.simbad_link AS
        WITH ids AS (
            SELECT oid,
                   max((regexp_match(id, '^HIP\\s+(\\d+)$'))[1]::bigint) AS hip,
                   max((regexp_match(id, '^Gaia DR3\\s+(\\d+)$'))[1]::bigint) AS gaia
            FROM {idents} WHERE id ~ '^(HIP|Gaia DR3)\\s' GROUP BY oid)
        SELECT b.oid, b.ra, b.dec,
               coalesce(sg.star_id, sh.star_id) AS star_id,
               CASE WHEN sg.star_id IS NOT NULL THEN 'gaia' WHEN sh.star_id IS NOT NULL THEN 'hip' END AS how,
               (sg.star_id IS NOT NULL AND sh.star_id IS NOT NULL AND sg.star_id <> sh.star_id) AS id_conflict
        FROM {basic} b
        LEFT JOIN ids ON ids.oid = b.oid
        LEFT JOIN {s}.star sg ON sg.{col('GAIA')} = ids.gaia
        LEFT JOIN {s}.star sh ON sh.{col('HIP')} = ids.hip""")
    # no identifier: nearest star within a small radius
    await conn.execute(f"""
        UPDATE {s}.simbad_link l SET star_id = m.star_id, how = 'position'
        FROM (SELECT l2.oid, n.star_id FROM {s}.simbad_link l2
              JOIN LATERAL (SELECT t.star_id FROM {s}.star t
                            WHERE q3c_join(l2.ra, l2.dec, t.ra, t.dec, {SIMBAD_POSITION_RADIUS / 3600.0})
                            ORDER BY q3c_dist(l2.ra, l2.dec, t.ra, t.dec) LIMIT 1) n ON true
              WHERE l2.star_id IS NULL AND l2.ra IS NOT NULL) m
        WHERE l.oid = m.oid""")
    await conn.execute(f"ALTER TABLE {s}.simbad_link ADD COLUMN sep double precision")
    await conn.execute(f"""
        UPDATE {s}.simbad_link l SET sep = q3c_dist(l.ra, l.dec, t.ra, t.dec) * 3600
        FROM {s}.star t WHERE t.star_id = l.star_id AND l.ra IS NOT NULL""")
    # one SIMBAD object per star: the nearest keeps the star, the others get their own row
    await conn.execute(f"""
        UPDATE {s}.simbad_link l SET star_id = NULL, how = NULL FROM (
            SELECT oid, row_number() OVER (PARTITION BY star_id ORDER BY (how = 'position'), sep NULLS LAST, oid) rn
            FROM {s}.simbad_link WHERE star_id IS NOT NULL) d
        WHERE l.oid = d.oid AND d.rn > 1""")
    counts = {
        "simbad_objects": await conn.fetchval(f"SELECT count(*) FROM {s}.simbad_link"),
        "simbad_merged_by_identifier": await conn.fetchval(
            f"SELECT count(*) FROM {s}.simbad_link WHERE how IN ('gaia', 'hip')"),
        "simbad_merged_by_position": await conn.fetchval(
            f"SELECT count(*) FROM {s}.simbad_link WHERE how = 'position'"),
        "simbad_identifier_conflicts": await conn.fetchval(
            f"SELECT count(*) FROM {s}.simbad_link WHERE id_conflict"),
        "simbad_position_disagreements": await conn.fetchval(
            f"SELECT count(*) FROM {s}.simbad_link WHERE how IN ('gaia', 'hip') AND sep > {SIMBAD_CHECK_RADIUS}"),
    }
    counts.update(await _hipparcos_to_simbad_owner(conn, idents))
    # new stars for SIMBAD objects that match nothing
    await conn.execute(f"ALTER TABLE {s}.star ADD COLUMN simbad_oid bigint")
    ins = insert_stars(
        f"FROM {s}.simbad_link l JOIN {basic} b ON b.oid = l.oid WHERE l.star_id IS NULL AND b.ra IS NOT NULL",
        "b.main_id",
        simbad_star_values("b"),
    )
    ins = ins.replace("INSERT INTO staging.star (star_id,",
                      "INSERT INTO staging.star (simbad_oid, fetched_at, star_id,", 1)
    ins = ins.replace("SELECT nextval", "SELECT b.oid, b.fetched_at, nextval", 1)
    await conn.execute(ins)
    await conn.execute(f"""
        UPDATE {s}.simbad_link l SET star_id = t.star_id, how = 'new'
        FROM {s}.star t WHERE t.simbad_oid = l.oid""")
    counts["simbad_new_stars"] = await conn.fetchval(f"SELECT count(*) FROM {s}.simbad_link WHERE how = 'new'")
    await conn.execute(f"ALTER TABLE {s}.star DROP COLUMN simbad_oid")
    # SIMBAD data onto the merged stars (getstar.simbad_columns: the live updates use the same)
    sets = merge_sets("b")
    await conn.execute(f"""
        UPDATE {s}.star t SET {', '.join(sets)}
        FROM {s}.simbad_link l JOIN {basic} b ON b.oid = l.oid
        WHERE l.star_id = t.star_id AND l.how IN ('gaia', 'hip', 'position')""")
    return {k: int(v) for k, v in counts.items()}


#: Properties a star has from its Hipparcos entry (moved with the HIP number).
HIPPARCOS_PROPERTIES = ("HIP", "plx", "Hp", "B-V", "V-Icous", "pmRa", "pmDec")


async def _hipparcos_to_simbad_owner(conn: asyncpg.Connection, idents: str) -> dict[str, int]:
    """SIMBAD's owner of a HIP number gets that Hipparcos entry's data.

    A HIP number SIMBAD gives to an object merged (by its Gaia identifier) into another star
    than the one Hipparcos' position matched: the Hipparcos values move to SIMBAD's star; the
    star left is dropped when it was Hipparcos' alone (no Gaia source, no SIMBAD object), as
    it was the same star measured twice.
    """
    s = STAGING
    pairs = await conn.fetch(rf"""
        SELECT DISTINCT ON (h.star_id) h.star_id AS holder, l.star_id AS owner
        FROM (SELECT oid, (regexp_match(id, '^HIP\s+(\d+)$'))[1]::bigint AS hip
              FROM {idents} WHERE id ~ '^HIP\s+\d+$') r
        JOIN {s}.simbad_link l ON l.oid = r.oid AND l.star_id IS NOT NULL
        JOIN {s}.star h ON h.{col('HIP')} = r.hip AND h.star_id <> l.star_id
        JOIN {s}.star o ON o.star_id = l.star_id AND o.{col('HIP')} IS NULL
        ORDER BY h.star_id, l.star_id""")
    if not pairs:
        return {"hipparcos_moved_to_simbad_owner": 0, "hipparcos_duplicates_dropped": 0}
    await conn.execute("CREATE TEMP TABLE hip_moves (holder bigint, owner bigint)")
    try:
        await conn.copy_records_to_table("hip_moves", records=[(r["holder"], r["owner"]) for r in pairs])
        sets = []
        for name in HIPPARCOS_PROPERTIES:
            c = col(name)
            moved = f"(t.{c} IS NULL AND h.{c}_o = {HIP2})"
            sets += [f"{x} = CASE WHEN {moved} THEN h.{x} ELSE t.{x} END"
                     for x in [c, f"{c}_o", f"{c}_c"] + ([f"{c}_e"] if BY_NAME[name].error is not None else [])]
        await conn.execute(f"""
            UPDATE {s}.star t SET {', '.join(sets)}
            FROM hip_moves m JOIN {s}.star h ON h.star_id = m.holder WHERE t.star_id = m.owner""")
        clear = []  # (SET expressions read the row as it was: every test sees the old origin)
        for name in HIPPARCOS_PROPERTIES:
            c = col(name)
            clear += [f"{x} = CASE WHEN t.{c}_o = {HIP2} THEN NULL ELSE t.{x} END"
                      for x in [c, f"{c}_o", f"{c}_c"] + ([f"{c}_e"] if BY_NAME[name].error is not None else [])]
        await conn.execute(f"UPDATE {s}.star t SET {', '.join(clear)} FROM hip_moves m WHERE t.star_id = m.holder")
        dropped = await conn.execute(f"""
            DELETE FROM {s}.star t USING hip_moves m
            WHERE t.star_id = m.holder AND t.{col('GAIA')} IS NULL AND t.ra_o = {HIP2}
              AND NOT EXISTS (SELECT 1 FROM {s}.simbad_link l WHERE l.star_id = t.star_id)""")
    finally:
        await conn.execute("DROP TABLE hip_moves")
    return {"hipparcos_moved_to_simbad_owner": len(pairs), "hipparcos_duplicates_dropped": int(dropped.split()[-1])}


async def _build_idents(conn: asyncpg.Connection, simbad_idents: str = "raw.simbad_ident") -> dict[str, int]:
    """Every identifier of every star in ``ident``; who owns what is settled by ``identity``
    (SIMBAD's owner wins, proper names ranked, multiple systems in ``system_name``)."""
    from getstar.ingest import identity

    s = STAGING
    counts = await identity.refresh_raw_keys(conn)
    parts = [
        f"SELECT star_id, 'Gaia DR3 ' || {col('GAIA')} AS id, 'GAIA DR3 ' || {col('GAIA')} AS key, 1 AS source, "
        f"NULL::smallint AS authority FROM {s}.star "
        f"WHERE {col('GAIA')} IS NOT NULL",
        f"SELECT star_id, 'HIP ' || {col('HIP')}, 'HIP ' || {col('HIP')}, 1, NULL FROM {s}.star "
        f"WHERE {col('HIP')} IS NOT NULL",
        # 'SYN n' (synthetic stars) is its own key: millions of them need no Python round trip;
        # nor do the main ids the build made from a Gaia or HIP number (ident_key gives the keys
        # the two parts above give: tests/test_ingest.py), only SIMBAD's (~9,000) go to Python
        f"SELECT star_id, main_id, CASE WHEN main_id ~ '^SYN [0-9]+$' THEN main_id "
        f"WHEN {col('GAIA')} >= 0 AND main_id = 'Gaia DR3 ' || {col('GAIA')} THEN 'GAIA DR3 ' || {col('GAIA')} "
        f"WHEN {col('HIP')} >= 0 AND main_id = 'HIP ' || {col('HIP')} THEN 'HIP ' || {col('HIP')} END, 0, NULL "
        f"FROM {s}.star",
    ]
    if await table_exists(conn, "raw.stellarium"):
        ranked = await conn.fetchval(
            "SELECT count(*) > 0 FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_name = 'stellarium' AND column_name = 'authority'")
        parts.append(f"SELECT t.star_id, r.id, r.key, 2, {'r.authority' if ranked else 'NULL::smallint'} "
                     f"FROM raw.stellarium r JOIN {s}.star t ON t.{col('HIP')} = r.hip")
    if await table_exists(conn, f"{s}.simbad_link"):
        parts.append(f"SELECT l.star_id, r.id, r.key, 3, {identity.SIMBAD_AUTHORITY}::smallint "
                     f"FROM {simbad_idents} r JOIN {s}.simbad_link l USING (oid) WHERE l.star_id IS NOT NULL")
    # UNLOGGED: dropped below, it needs no WAL (nor, with wal_level = minimal, a sync at commit)
    await conn.execute(f"CREATE UNLOGGED TABLE {s}.ident_all AS {' UNION ALL '.join(parts)}")
    # main ids made here ('Gaia DR3 n', 'HIP n') get their key like the rest
    rows = await conn.fetch(f"SELECT DISTINCT id FROM {s}.ident_all WHERE key IS NULL")
    if rows:
        from getstar.names import ident_key

        await conn.execute("CREATE TEMP TABLE main_keys (id text, key text)")
        await conn.copy_records_to_table("main_keys", records=[(r["id"], ident_key(r["id"])) for r in rows])
        await conn.execute(f"UPDATE {s}.ident_all a SET key = m.key FROM main_keys m "
                           "WHERE a.key IS NULL AND a.id = m.id")
        await conn.execute("DROP TABLE main_keys")
    await conn.execute(f"""
        INSERT INTO {s}.ident (star_id, id, key, source)
        SELECT DISTINCT ON (star_id, key) star_id, id, key, source
        FROM {s}.ident_all WHERE key IS NOT NULL AND key <> ''
        ORDER BY star_id, key, source DESC, authority DESC NULLS LAST""")
    await conn.execute(f"""
        CREATE UNLOGGED TABLE {s}.ident_rank AS SELECT star_id, key, max(authority) AS authority
        FROM {s}.ident_all WHERE authority IS NOT NULL AND key LIKE 'NAME %' GROUP BY star_id, key""")
    await conn.execute(f"CREATE INDEX ON {s}.ident_rank (star_id, key)")
    await conn.execute(f"DROP TABLE {s}.ident_all")
    # the snapshot's own index (``schema.data_index_groups``), made now for the lookups below
    await conn.execute(f"CREATE INDEX ident_key ON {s}.ident (key)")
    counts.update(await identity.settle_names(conn, s))
    await conn.execute(f"DROP TABLE {s}.ident_rank")
    counts.update(await identity.build_systems(conn, s))
    # identifier-valued properties from the identifiers (HD, HR, SAO, TYC, 2MASS, WDS, Gaia): one
    # UPDATE (one per property wrote ~110,000 wide rows up to seven times); the values first, in
    # a table the planner has statistics of
    await conn.execute(f"CREATE TEMP TABLE ident_props AS {ident_property_values_sql(STAGING)}",
                       *(pattern for _, pattern, _ in IDENT_PROPERTIES))
    try:
        await conn.execute("ANALYZE ident_props")
        # without the star table's indexes, rebuilt after: the UPDATE writes ~110,000 rows, and
        # keeping four indexes up to date cost about as much as the rows (9.3 s -> 4.9 s alone)
        indexes = await conn.fetch(
            "SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS ddl FROM pg_index "
            "WHERE indrelid = $1::regclass ORDER BY indexrelid", f"{STAGING}.star")
        for index in indexes:
            await conn.execute(f"DROP INDEX {index['name']}")
        await conn.execute(fill_ident_properties_sql(STAGING, "ident_props"))
        for index in indexes:
            await conn.execute(index["ddl"])
    finally:
        await conn.execute("DROP TABLE ident_props")
    return counts


async def _attach_values(conn: asyncpg.Connection, source: str, link: str, link_key: str) -> None:
    """Fill empty properties of linked stars from a property-keyed raw table."""
    cols = {r["column_name"] for r in await conn.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'raw' AND table_name = $1", source)}
    sets = []
    for prop in STORED:
        if prop.column in cols and prop.column + "_o" in cols:
            err = f"r.{prop.column}_e" if prop.column + "_e" in cols else None
            sets += set_property(prop.name, Src(f"r.{prop.column}", f"r.{prop.column}_o", f"r.{prop.column}_c", err),
                                 overwrite=False)
    if sets:
        # one row per star: of several linked to one star, the last by link key (an UPDATE ... FROM
        # with several rows for a star takes the first its join gives: this one, with the plan the
        # build had; another plan took another for 7 stars, e.g. JMDC's HD 165341 over HD 165341B)
        await conn.execute(f"""
            UPDATE {STAGING}.star t SET {', '.join(sets)}
            FROM (SELECT DISTINCT ON (star_id) * FROM {link} ORDER BY star_id, {link_key} DESC) l
            JOIN raw.{source} r ON r.{link_key} = l.{link_key}
            WHERE l.star_id = t.star_id""")


async def _attach_by_keys(conn: asyncpg.Connection, source: str, name_col: str) -> dict[str, int]:
    link = f"{STAGING}.{source}_link"
    await conn.execute(f"""
        CREATE TABLE {link} AS
        SELECT DISTINCT ON (r.{name_col}) r.{name_col}, i.star_id
        FROM raw.{source} r CROSS JOIN LATERAL unnest(r.keys) WITH ORDINALITY k(key, ord)
        JOIN {STAGING}.ident i ON i.key = k.key
        ORDER BY r.{name_col}, k.ord, i.star_id""")
    await _attach_values(conn, source, link, name_col)
    return {
        f"{source}_rows": await conn.fetchval(f"SELECT count(*) FROM raw.{source}"),
        f"{source}_attached": await conn.fetchval(f"SELECT count(*) FROM {link}"),
    }


async def _attach_jsdc(conn: asyncpg.Connection) -> dict[str, int]:
    link = f"{STAGING}.jsdc_link"
    await conn.execute(f"""
        CREATE TABLE {link} AS
        SELECT j.name, n.star_id FROM raw.jsdc j
        JOIN LATERAL (SELECT t.star_id FROM {STAGING}.star t
                      WHERE q3c_join(j.ra, j.dec, t.ra, t.dec, {JSDC_RADIUS / 3600.0})
                      ORDER BY q3c_dist(j.ra, j.dec, t.ra, t.dec) LIMIT 1) n ON true""")
    await _attach_values(conn, "jsdc", link, "name")
    return {
        "jsdc_rows": await conn.fetchval("SELECT count(*) FROM raw.jsdc"),
        "jsdc_attached": await conn.fetchval(f"SELECT count(*) FROM {link}"),
    }


async def validate(conn: asyncpg.Connection, dsn: str | None = None) -> dict[str, int]:
    """Checks a snapshot must pass before it is swapped in; raises ValueError otherwise.

    ``dsn``: the database's, to run the identifiers' duplicate check on a second connection
    while the others run (~2 s of the default build's 3.5).
    """
    s = STAGING
    duplicates_sql = f"SELECT count(*) FROM (SELECT 1 FROM {s}.ident GROUP BY star_id, key HAVING count(*) > 1) d"
    duplicates = asyncio.create_task(on_connection(dsn, lambda other: other.fetchval(duplicates_sql))) if dsn else None
    try:
        checks = {
            "stars": await conn.fetchval(f"SELECT count(*) FROM {s}.star"),
            "identifiers": await conn.fetchval(f"SELECT count(*) FROM {s}.ident"),
            "null_positions": await conn.fetchval(f"SELECT count(*) FROM {s}.star WHERE ra IS NULL OR dec IS NULL"),
            "orphan_identifiers": await conn.fetchval(
                f"SELECT count(*) FROM {s}.ident i "
                f"WHERE NOT EXISTS (SELECT 1 FROM {s}.star t WHERE t.star_id = i.star_id)"),
        }
        checks["duplicate_identifiers"] = await duplicates if duplicates else await conn.fetchval(duplicates_sql)
    finally:
        await _cancelled(duplicates)
    problems = []
    if checks["stars"] == 0:
        problems.append("no stars")
    for key in ("null_positions", "duplicate_identifiers", "orphan_identifiers"):
        if checks[key]:
            problems.append(f"{checks[key]} {key.replace('_', ' ')}")
    if problems:
        raise ValueError("snapshot rejected: " + "; ".join(problems))
    return {k: int(v) for k, v in checks.items()}


def snapshot_version(sources: dict[str, dict[str, Any]], finished: datetime) -> str:
    digest = hashlib.sha256()
    for name in sorted(sources):
        digest.update(f"{name}:{sources[name]['sha256']};".encode())
    digest.update(finished.isoformat().encode())
    return finished.strftime("%Y%m%dT%H%M%S") + "-" + digest.hexdigest()[:10]


async def swap(conn: asyncpg.Connection, sources: dict[str, dict[str, Any]], counts: dict[str, int],
               started: datetime, lock_timeout: float = SWAP_LOCK_TIMEOUT) -> str:
    """Make ``staging`` the live snapshot in one transaction; return its version.

    Readers never block the swap (a schema rename waits for no table lock); the old snapshot
    is dropped afterwards, waiting at most ``lock_timeout`` seconds for its readers.
    """
    finished = datetime.now(UTC)
    version = snapshot_version(sources, finished)
    async with conn.transaction():
        await conn.execute(f"SET LOCAL lock_timeout = '{round(lock_timeout * 1000)}ms'")
        await conn.execute(
            f"INSERT INTO {STAGING}.snapshot_info (version, sources, row_counts, load_started, load_finished) "
            "VALUES ($1, $2, $3, $4, $5)", version, sources, counts, started, finished)
        await grant_readers(conn, STAGING)  # the TAP service reads the new snapshot from its first query
        if await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", LIVE):
            await conn.execute(f"ALTER SCHEMA {LIVE} RENAME TO {RETIRED_PREFIX}_{finished:%Y%m%d%H%M%S%f}")
        await conn.execute(f"ALTER SCHEMA {STAGING} RENAME TO {LIVE}")
        # services LISTEN on this channel: their caches are keyed by the snapshot key
        await conn.execute("SELECT pg_notify($1, $2)", SNAPSHOT_CHANNEL, await current_snapshot_key(conn))
        await conn.execute(
            "INSERT INTO getstar_meta.snapshot_history (version, sources, row_counts, load_started, load_finished) "
            "VALUES ($1, $2, $3, $4, $5)", version, sources, counts, started, finished)
    await drop_retired(conn, lock_timeout)
    return version


#: Longest wait of one attempt to drop an old snapshot for a lock (seconds).  Far below
#: PostgreSQL's ``deadlock_timeout`` (1 s): ``DROP SCHEMA ... CASCADE`` locks its tables one by one,
#: and a reader that had locked one of them and then waits for another the drop already holds
#: would otherwise be the one the deadlock check cancels (a failed request, seen under load with
#: the replica test).  Now the drop lets go first and tries again.
DROP_ATTEMPT_LOCK_TIMEOUT = 0.05


async def drop_retired(conn: asyncpg.Connection, lock_timeout: float = SWAP_LOCK_TIMEOUT) -> list[str]:
    """Drop the old snapshots no reader holds; return those still read (a later swap drops them).

    Each drop waits at most ``lock_timeout`` seconds for in-flight readers (a long TAP query
    can hold a snapshot until its own timeout), so a swap never hangs on them; it waits in
    attempts of ``DROP_ATTEMPT_LOCK_TIMEOUT``, holding none of its locks between two.
    """
    kept = []
    for name in await conn.fetch("SELECT nspname FROM pg_namespace WHERE nspname = $1 OR nspname LIKE $2 "
                                 "ORDER BY nspname", RETIRED_PREFIX, RETIRED_PREFIX + "\\_%"):
        if not await _drop_schema_when_free(conn, name[0], lock_timeout):
            kept.append(name[0])
    return kept


async def _drop_schema_when_free(conn: asyncpg.Connection, schema: str, budget: float) -> bool:
    """``DROP SCHEMA schema CASCADE`` in attempts that give up their locks at once when one is
    taken; False when ``budget`` seconds were not enough."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + budget
    attempt_ms = max(1, round(min(DROP_ATTEMPT_LOCK_TIMEOUT, budget) * 1000))
    while True:
        try:
            async with conn.transaction():
                await conn.execute(f"SET LOCAL lock_timeout = '{attempt_ms}ms'")
                await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
            return True
        except (asyncpg.LockNotAvailableError, asyncpg.DeadlockDetectedError):
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(DROP_ATTEMPT_LOCK_TIMEOUT)

"""Build steps for photometry: catalogue V, B−V, spectral types from Stellarium and KStars,
magnitudes estimated from Gaia, B from V and B−V, and the coverage figures.

Precedence (never override a better value): SIMBAD, then JMDC and JSDC (all attached
before these steps), then KStars' V (Hipparcos V to 0.01 mag), Stellarium's Hipparcos
records (V to 0.05 mag, full Hipparcos spectral types), Stellarium's Tycho-2 records, and
last the Gaia DR3 estimates (origin ``computed``, confidence LOW).  Every fill only writes
an empty property.  A SIMBAD record learned later into the live snapshot (the fallback,
``ingest simbad-enrich``) replaces these values as the build's order would
(``simbad_columns.BELOW_SIMBAD``).

Matching (``attach_catalogue_photometry``): a Stellarium Hipparcos record goes to the
star of its HIP number; of several component records of one HIP (up to 4), the star gets
the one SIMBAD names through a ``CCDM J…X`` identifier with that component letter, else the
primary (component blank or ``A``, else the brightest).  Every other record (other
components, Tycho-2 records, KStars, HIP numbers the snapshot lacks) is matched by
position at epoch 2016.0 (the record moved by its own proper motion, the star at its
Gaia position) within ``RADIUS``, keeping only candidates whose magnitude agrees with the
star's (V predicted from Gaia G and BP−RP, within ``V_TOLERANCE``; from G alone or Hp,
within ``V_TOLERANCE_ROUGH``).  A record with two consistent candidates is ambiguous and
left out; a star claimed by two records of one source keeps the nearest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

import asyncpg
import numpy as np

from getstar.photometry import gaia_relations
from getstar.properties import BY_NAME, ORIGIN_CODE
from getstar.schema import STAGING

#: Match radius at epoch 2016.0 (arcsec) per source: Stellarium records sit at 0.02″
#: (Hipparcos) to 0.07″ (Tycho-2) from Gaia in the median, 99 % within 0.3″; KStars'
#: rounded positions at 0.18″, 99 % within 1.1″.
RADIUS = {"stellarium": 1.5, "kstars": 2.0}
#: |V(record) − V(star)| allowed when the star's V is predicted from G and BP−RP (mag).
V_TOLERANCE = 0.5
#: ... when only G (V ≈ G + 0.4, as SearchCal's basic case) or Hipparcos' Hp is known.
V_TOLERANCE_ROUGH = 1.0
#: KStars' V against SIMBAD's V: robust scatter 0.013 mag (shared/data/SOURCES.md).
KSTARS_E_V = 0.013

HIP_MAIN = ORIGIN_CODE["I/239/hip_main"]
TYC2 = ORIGIN_CODE["I/259/tyc2"]
COMPUTED = ORIGIN_CODE["computed"]
MIXED = ORIGIN_CODE["MIXED CATALOG"]
HIGH, MEDIUM, LOW = 3, 2, 1

#: Gaia relation band -> getstar property.
GAIA_BANDS = {"V": "V", "Rc": "Rcous", "Ic": "Icous", "J": "J", "H": "H", "Ks": "K", "Ks_red": "K",
              "H_bright": "H", "Ks_bright": "K"}
#: getstar's bright-star 2MASS relation of a band, preferred inside its range to the published one.
BRIGHT_FIRST = {"H": "H_bright", "Ks": "Ks_bright"}


def col(name: str) -> str:
    return BY_NAME[name].column


async def _exists(conn: asyncpg.Connection, name: str) -> bool:
    return bool(await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", name))


def gaia_estimate_sql(band: str, alias: str = "t") -> tuple[str, str]:
    """SQL (value, error) of the Gaia DR3 estimate of ``band`` over a star row ``alias``."""
    g, bp, rp = (f"{alias}.{col(n)}" for n in ("G", "Bp", "Rp"))
    return gaia_relations.sql_estimate(band, g, bp, rp, f"{g}_e", f"{bp}_e", f"{rp}_e")


async def _catalogue_records(conn: asyncpg.Connection) -> int:
    """``staging.cat_rec``: the records of both sources in one view (src 1 Stellarium, 2 KStars)."""
    s = STAGING
    parts = []
    if await _exists(conn, "raw.stellarium_stars"):
        parts.append("SELECT 1::smallint AS src, rid, kind, hip, comp, ra2016, dec2016, v, e_v, b_v, e_b_v, sptype "
                     "FROM raw.stellarium_stars")
    if await _exists(conn, "raw.kstars"):
        # named: it is the view's first part when Stellarium's records are not loaded
        parts.append(f"SELECT 2::smallint AS src, line AS rid, 4::smallint AS kind, NULL::bigint AS hip, "
                     f"NULL::text AS comp, ra2016, dec2016, v, {KSTARS_E_V}::float8 AS e_v, b_v, "
                     f"NULL::float8 AS e_b_v, sptype FROM raw.kstars")
    if not parts:
        return 0
    await conn.execute(f"CREATE VIEW {s}.cat_rec AS {' UNION ALL '.join(parts)}")
    return len(parts)


@dataclass
class PositionCandidates:
    """Every catalogue record's nearest stars (``prepare_position_matching``): what the match by
    position needs that does not depend on the identifiers, so it can be found while they are
    collected."""

    stars: dict[str, Any]
    #: per record: src, rid, ra, dec, v (the order of ``staging.cat_rec``)
    records: np.ndarray
    #: per record: the ``MAX_CANDIDATES`` nearest stars within its source's radius (chord, index)
    dist: np.ndarray
    idx: np.ndarray


async def prepare_position_matching(conn: asyncpg.Connection) -> PositionCandidates | None:
    """The stars at Gaia's epoch, every catalogue record (``staging.cat_rec``, made here), and
    each record's nearest stars.  Needs the stars' final positions (after the SIMBAD merge), not
    their identifiers: the build runs it on a second connection while they are collected.
    None without catalogue records."""
    if not await _catalogue_records(conn):
        return None
    return await _find_candidates(conn)


async def _find_candidates(conn: asyncpg.Connection) -> PositionCandidates:
    positions = await _fetch_positions(conn)
    agg = await conn.fetchrow(f"""
        SELECT array_agg(r.src) AS src, array_agg(r.rid) AS rid, array_agg(r.ra2016) AS ra,
               array_agg(r.dec2016) AS dec, array_agg(r.v) AS v FROM {STAGING}.cat_rec r""")
    # the arithmetic in a thread: the event loop goes on sending the other connection's statements
    return await asyncio.get_running_loop().run_in_executor(None, _candidates, positions, agg)


def _candidates(positions: asyncpg.Record, agg: asyncpg.Record) -> PositionCandidates:
    stars: dict[str, Any] = dict(_positions_at_2016(positions))
    from scipy.spatial import cKDTree

    # numpy KD-tree: ~20x faster here than a q3c join
    stars["tree"] = cKDTree(stars["xyz"], balanced_tree=False, compact_nodes=False)  # quicker to build, as quick
    rec = (np.column_stack([np.array(agg[k], dtype=np.float64) for k in ("src", "rid", "ra", "dec", "v")])
           if agg["src"] is not None else np.zeros((0, 5)))
    dist = np.full((len(rec), MAX_CANDIDATES), np.inf)
    idx = np.zeros((len(rec), MAX_CANDIDATES), dtype=np.int64)
    if len(stars["star_id"]):
        for src, name in ((1, "stellarium"), (2, "kstars")):
            mine = rec[:, 0] == src
            if mine.any():
                chord = 2.0 * np.sin(np.radians(RADIUS[name] / 3600.0) / 2.0)
                dist[mine], idx[mine] = stars["tree"].query(_xyz(rec[mine, 2], rec[mine, 3]), k=MAX_CANDIDATES,
                                                            distance_upper_bound=chord, workers=-1)
    return PositionCandidates(stars, rec, dist, idx)


async def _still_true(conn: asyncpg.Connection, found: PositionCandidates) -> bool:
    """Whether the stars are still as ``found`` saw them: the steps between may fill a star's
    empty properties (JMDC and JSDC: Hipparcos numbers, proper motions and magnitudes, to the
    stars they link).  Hipparcos numbers are read again (cheap); the linked stars' positions
    and predicted V are compared (if one differs, all is found again)."""
    s = STAGING
    hip = await conn.fetchval(f"SELECT array_agg(star_id) FROM {s}.star WHERE {col('HIP')} IS NOT NULL")
    found.stars["has_hip"] = np.isin(found.stars["star_id"], np.array(hip or [], dtype=np.int64))
    links = [f"SELECT star_id FROM {s}.{table}" for table in ("jmdc_link", "jsdc_link")
             if await _exists(conn, f"{s}.{table}")]
    if not links:
        return True
    now = _positions_at_2016(await _fetch_positions(conn, f"t.star_id IN ({' UNION '.join(links)})"))
    ids = found.stars["star_id"]
    at = np.searchsorted(ids, now["star_id"])
    if len(at) and (at.max() >= len(ids) or (ids[at] != now["star_id"]).any()):
        return False  # a star that was not there
    return all(np.array_equal(found.stars[key][at], now[key], equal_nan=True) for key in ("xyz", "v_match", "v_tol"))


async def _link_records(conn: asyncpg.Connection, found: PositionCandidates) -> dict[str, int]:
    """``staging.cat_link`` (src, rid, star_id, how): which record feeds which star."""
    s = STAGING
    # HIP records: the component SIMBAD names (CCDM J...X), else the primary, else the brightest
    # one transaction: no nested loop over the CCDM letters (with statistics on ident, the
    # planner expects one and rescans them per star: 0.5 s became 17-33 s)
    async with conn.transaction():
        await conn.execute("SET LOCAL enable_nestloop = off")
        await conn.execute(f"""
        CREATE TABLE {s}.cat_link AS
        WITH ccdm AS (
            SELECT DISTINCT ON (star_id) star_id,
                   (regexp_match(id, '^CCDM J[0-9]{{5}}[+-][0-9]{{4}}([A-Z])$'))[1] AS letter
            FROM {s}.ident WHERE source = 3 AND id LIKE 'CCDM J%' AND id ~ '^CCDM J[0-9]{{5}}[+-][0-9]{{4}}[A-Z]$'
            ORDER BY star_id, id),
        ranked AS (
            SELECT r.src, r.rid, t.star_id,
                   row_number() OVER (PARTITION BY r.hip ORDER BY (r.comp IS NOT DISTINCT FROM c.letter) DESC,
                                      (coalesce(r.comp, 'A') = 'A') DESC, r.v, r.rid) AS rn
            FROM {s}.cat_rec r JOIN {s}.star t ON t.{col('HIP')} = r.hip
            LEFT JOIN ccdm c ON c.star_id = t.star_id
            WHERE r.src = 1 AND r.kind = 1)
        SELECT src, rid, star_id, 'hip'::text AS how, true AS hip_star FROM ranked WHERE rn = 1""")
    linked = await conn.fetch(f"SELECT src, rid, star_id FROM {s}.cat_link")
    # every other record: by position + magnitude, among its nearest stars found beforehand
    if not await _still_true(conn, found):
        found = await _find_candidates(conn)
    stars, rec = found.stars, found.records
    linked_rids = {(int(r["src"]), int(r["rid"])) for r in linked}
    open_rec = np.array([(int(src), int(rid)) not in linked_rids for src, rid in rec[:, :2].tolist()], dtype=bool)
    counts: dict[str, int] = {}
    links: list[tuple[int, int, int, str, bool]] = []
    taken = {(int(r["src"]), int(r["star_id"])) for r in linked}
    for src, name in ((1, "stellarium"), (2, "kstars")):
        n_records = int((rec[:, 0] == src).sum())
        if not n_records:
            continue
        mine = (rec[:, 0] == src) & open_rec
        by_hip = sum(1 for r in linked if r["src"] == src)
        exclude = np.array(sorted(star for s_, star in taken if s_ == src), dtype=np.int64)
        rid, star, n_ok = _match_positions(rec[mine], found.dist[mine], found.idx[mine], stars, exclude)
        one = n_ok == 1
        # one record per star: the nearest (rows come nearest-first per record; sort by separation)
        order = np.argsort(star[one][:, 1], kind="stable")
        chosen_rid, chosen = rid[one][order], star[one][order, 0].astype(np.int64)
        _, first = np.unique(chosen, return_index=True)
        has_hip = stars["has_hip"][np.searchsorted(stars["star_id"], chosen[first])]
        links += [(src, int(r), int(t), "position", bool(h))
                  for r, t, h in zip(chosen_rid[first], chosen[first], has_hip, strict=True)]
        counts[f"{name}_records"] = n_records
        counts[f"{name}_matched_by_hip"] = by_hip
        counts[f"{name}_matched_by_position"] = len(first)
        counts[f"{name}_ambiguous"] = int((n_ok > 1).sum())
        counts[f"{name}_unmatched"] = n_records - by_hip - len(first) - int((n_ok > 1).sum())
    await conn.copy_records_to_table("cat_link", schema_name=s, records=links,
                                     columns=["src", "rid", "star_id", "how", "hip_star"])
    await conn.execute(f"CREATE INDEX ON {s}.cat_link (star_id)")
    return counts


async def _fetch_positions(conn: asyncpg.Connection, where: str = "true") -> asyncpg.Record:
    """What ``_positions_at_2016`` needs of the stars ``where`` selects: one row of arrays
    (asyncpg decodes them in C, far faster than 490,000 records)."""
    at_2016 = f"(t.ra_o = {ORIGIN_CODE['I/355/gaiadr3']} AND t.ra_c = {MEDIUM})"
    return await conn.fetchrow(f"""
        SELECT array_agg(t.star_id) AS star_id, array_agg(t.ra) AS ra, array_agg(t.dec) AS dec,
               array_agg({at_2016}) AS at_2016, array_agg(t.{col('pmRa')}) AS pmra,
               array_agg(t.{col('pmDec')}) AS pmdec, array_agg(t.{col('G')}) AS g, array_agg(t.{col('Bp')}) AS bp,
               array_agg(t.{col('Rp')}) AS rp, array_agg(t.{col('Hp')}) AS hp,
               array_agg(t.{col('HIP')} IS NOT NULL) AS has_hip
        FROM {STAGING}.star t WHERE {where}""")


def _positions_at_2016(row: asyncpg.Record) -> dict[str, np.ndarray]:
    """The stars of ``row`` (``_fetch_positions``) at Gaia's epoch, with the V their photometry
    predicts and the tolerance a matched record must meet: the Gaia DR3 relation (G, BP−RP)
    ± ``V_TOLERANCE``, else G + 0.4 (SearchCal's basic case) or Hipparcos' Hp ± ``V_TOLERANCE_ROUGH``.

    A Gaia position still at 2016.0 stays; a J2000 one (moved there by its proper motion,
    or Hipparcos' or SIMBAD's) is moved to 2016.0 by the same proper motion.
    """
    from getstar.coords import propagate_many

    if row["star_id"] is None:
        return {"star_id": np.zeros(0, dtype=np.int64), "xyz": np.zeros((0, 3)), "v_match": np.zeros(0),
                "v_tol": np.zeros(0), "has_hip": np.zeros(0, dtype=bool)}
    ra, dec, pmra, pmdec, g, bp, rp, hp = (np.array(row[k], dtype=np.float64)  # None -> nan
                                           for k in ("ra", "dec", "pmra", "pmdec", "g", "bp", "rp", "hp"))
    move = ~np.array(row["at_2016"], dtype=bool) & np.isfinite(pmra) & np.isfinite(pmdec)
    ra[move], dec[move] = propagate_many(ra[move], dec[move], pmra[move], pmdec[move], 2000.0, 2016.0)
    v, _ = gaia_relations.estimate("V", g, bp, rp)
    v_match = np.where(np.isfinite(v), v, np.where(np.isfinite(g), g + 0.4, hp))
    v_tol = np.where(np.isfinite(v), V_TOLERANCE, V_TOLERANCE_ROUGH)
    star_id = np.array(row["star_id"], dtype=np.int64)
    order = np.argsort(star_id)  # sorted by star_id: looked up with searchsorted
    return {"star_id": star_id[order], "xyz": _xyz(ra, dec)[order], "v_match": v_match[order],
            "v_tol": v_tol[order], "has_hip": np.array(row["has_hip"], dtype=bool)[order]}


def _xyz(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    r, d = np.radians(ra), np.radians(dec)
    return np.column_stack([np.cos(d) * np.cos(r), np.cos(d) * np.sin(r), np.sin(d)])


#: Candidates looked at per record (the nearest ones within the radius).
MAX_CANDIDATES = 4


def _match_positions(rec: np.ndarray, dist: np.ndarray, idx: np.ndarray, stars: dict[str, Any],
                     exclude: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per record (columns src, rid, ra, dec, v; its nearest stars ``dist``, ``idx`` as the
    KD-tree gives them): its rid, (star_id, sep″) of the nearest magnitude-consistent
    candidate not in ``exclude``, and the number of such candidates."""
    n = len(rec)
    if n == 0 or len(stars["star_id"]) == 0:
        return np.zeros(0), np.zeros((0, 2)), np.zeros(0, dtype=np.int64)
    found = np.isfinite(dist)
    safe = np.where(found, idx, 0)
    v_match, v_tol = stars["v_match"][safe], stars["v_tol"][safe]
    consistent = found & (np.isnan(v_match) | (np.abs(rec[:, 4:5] - v_match) <= v_tol))
    consistent &= ~np.isin(stars["star_id"][safe], exclude)
    n_ok = consistent.sum(axis=1)
    first = np.argmax(consistent, axis=1)  # nearest consistent: query returns nearest first
    rows = np.arange(n)
    sep = np.degrees(2.0 * np.arcsin(np.minimum(dist[rows, first], 2.0) / 2.0)) * 3600.0
    best = np.column_stack([stars["star_id"][safe[rows, first]], sep])
    return rec[:, 1], best, n_ok


async def attach_catalogue_photometry(conn: asyncpg.Connection,
                                      found: Awaitable[PositionCandidates | None] | None = None) -> dict[str, int]:
    """Match Stellarium's and KStars' records to stars; ``staging.cat_best``: per star, the
    catalogue V, B−V and spectral type they offer, by precedence (KStars' V for Hipparcos
    stars, Stellarium's Hipparcos records, Stellarium's Tycho-2 records; spectral types:
    Stellarium's Hipparcos types, then KStars')."""
    s = STAGING
    prepared = await (found if found is not None else prepare_position_matching(conn))
    n_sources = prepared is not None
    counts = await _link_records(conn, prepared) if prepared is not None else {}
    vals = (f"""SELECT l.star_id, r.src, r.kind, r.v, r.e_v, r.b_v, r.e_b_v, r.sptype, l.hip_star,
                       CASE WHEN r.src = 2 THEN 1 WHEN r.kind = 1 THEN 2 ELSE 3 END AS v_rank
                FROM {s}.cat_link l JOIN {s}.cat_rec r ON r.src = l.src AND r.rid = l.rid
                -- KStars' values are Hipparcos' for Hipparcos stars; elsewhere their origin is unsure
                WHERE r.src = 1 OR l.hip_star""" if n_sources else
            "SELECT NULL::bigint AS star_id, NULL::smallint AS src, NULL::smallint AS kind, NULL::float8 AS v, "
            "NULL::float8 AS e_v, NULL::float8 AS b_v, NULL::float8 AS e_b_v, NULL::text AS sptype, "
            "NULL::boolean AS hip_star, NULL::int AS v_rank WHERE false")
    # UNLOGGED: dropped once the photometry is filled, it needs no WAL
    await conn.execute(f"""
        CREATE UNLOGGED TABLE {s}.cat_best AS
        WITH vals AS ({vals}),
        v AS (SELECT DISTINCT ON (star_id) star_id, v, e_v,
                     CASE WHEN kind = 4 OR kind = 1 THEN {HIP_MAIN} ELSE {TYC2} END AS o,
                     CASE WHEN kind = 4 THEN {HIGH} ELSE {MEDIUM} END AS c
              FROM vals ORDER BY star_id, v_rank),
        bv AS (SELECT DISTINCT ON (star_id) star_id, b_v, coalesce(e_b_v, 0.01) AS e_b_v,
                      CASE WHEN kind = 4 OR kind = 1 THEN {HIP_MAIN} ELSE {TYC2} END AS o,
                      CASE WHEN kind = 4 THEN {HIGH} ELSE {MEDIUM} END AS c
               FROM vals WHERE b_v IS NOT NULL ORDER BY star_id, v_rank),
        sp AS (SELECT DISTINCT ON (star_id) star_id, sptype,
                      CASE WHEN src = 1 THEN {MEDIUM} WHEN length(sptype) >= 2 THEN {MEDIUM} ELSE {LOW} END AS c
               FROM vals WHERE sptype IS NOT NULL AND (hip_star OR (src = 1 AND kind = 1))
               ORDER BY star_id, src, length(sptype) DESC)
        SELECT v.star_id, v.v, v.e_v, v.o AS v_o, v.c AS v_c, bv.b_v, bv.e_b_v, bv.o AS bv_o, bv.c AS bv_c,
               sp.sptype, sp.c AS sp_c
        FROM v LEFT JOIN bv USING (star_id) LEFT JOIN sp USING (star_id)""")
    await conn.execute(f"CREATE UNIQUE INDEX ON {s}.cat_best (star_id)")
    if n_sources:
        counts["catalogue_photometry_stars"] = await conn.fetchval(
            f"SELECT count(*) FROM {s}.cat_best")
        # the view would pin raw.stellarium_stars / raw.kstars: a later ingest replaces them
        await conn.execute(f"DROP VIEW {s}.cat_rec")
    return counts


def _layered(name: str, layers: list[tuple[str, int | str, int | str, str | None]]) -> dict[str, str]:
    """Column expressions: keep the star's value if it has one, else the first layer that has one.

    ``layers``: (value, origin, confidence, error) SQL expressions, best first.
    """
    c = col(name)

    def case(existing: str, pick: int) -> str:
        whens = "".join(f" WHEN ({layer[0]}) IS NOT NULL THEN {layer[pick] if layer[pick] is not None else 'NULL'}"
                        for layer in layers)
        return f"CASE WHEN t.{c} IS NOT NULL THEN {existing}{whens} END"

    out = {c: case(f"t.{c}", 0), f"{c}_o": case(f"t.{c}_o", 1), f"{c}_c": case(f"t.{c}_c", 2)}
    if BY_NAME[name].error is not None:
        out[f"{c}_e"] = case(f"t.{c}_e", 3)
    return out


#: The build's filled photometry (``stage_photometry``): star_id and the columns
#: ``fill_expressions`` writes.  An unlogged table of the staging schema, not a temporary one:
#: PostgreSQL's parallel workers cannot read a session's temporary tables, and the diameter
#: step's rewrite of the stars, which reads this one, runs on two cores (46 -> 37 s for 2.5 M stars).
FILLED = f"{STAGING}.star_filled"


async def stage_photometry(conn: asyncpg.Connection) -> dict[str, int]:
    """``fill_expressions``'s values, computed once into the table ``FILLED`` instead
    of written into the stars: the diameter step reads the stars with them
    (``filled_stars_sql``) and writes both at once (one rewrite of the wide table, not two)."""
    exprs, join = fill_expressions()
    types = dict(await star_columns(conn))
    select = ", ".join(f"CAST({expr} AS {types[c]}) AS {c}" for c, expr in exprs.items())
    await conn.execute(f"CREATE UNLOGGED TABLE {FILLED} AS SELECT t.star_id, {select} FROM {STAGING}.star t {join}")
    await conn.execute(f"CREATE UNIQUE INDEX ON {FILLED} (star_id)")
    await conn.execute(f"ANALYZE {FILLED}")
    await conn.execute(f"DROP TABLE {STAGING}.cat_best")
    return {"gaia_v_estimated": await conn.fetchval(f"SELECT count({col('V_GAIA')}) FROM {FILLED}")}


async def filled_stars_sql(conn: asyncpg.Connection) -> str:
    """A SELECT of ``staging.star`` as ``fill_expressions`` would have written it, from the
    values ``stage_photometry`` left in ``FILLED``."""
    filled = set(fill_expressions()[0])  # the columns stage_photometry made
    select = ", ".join(f"f.{c}" if c in filled else f"t.{c}" for c, _ in await star_columns(conn))
    return f"SELECT {select} FROM {STAGING}.star t JOIN {FILLED} f ON f.star_id = t.star_id"


def fill_expressions() -> tuple[dict[str, str], str]:
    """The photometry the build fills into the stars: column expressions over a star row ``t``
    and the joins they need (``staging.cat_best`` as ``b``, the Gaia estimates as ``e``).

    B is made only where the star has no B and both its V and B−V are catalogue values:
    origin the catalogue when both share one, else ``MIXED CATALOG``; confidence the lower of
    the two; error their quadratic sum.  Estimates: origin ``computed``, confidence LOW,
    error the relation's scatter (``V_GAIA``, GetStar's property for it, holds the V estimate).
    """
    s = STAGING
    v, bv = col("V"), col("B-V")

    def final(c: str, b: str, e: str) -> tuple[str, str, str, str]:
        """The star's value after the catalogue layer: its own, else cat_best's."""
        return (f"coalesce(t.{c}, b.{b})", f"(CASE WHEN t.{c} IS NOT NULL THEN t.{c}_o ELSE b.{b}_o END)",
                f"(CASE WHEN t.{c} IS NOT NULL THEN t.{c}_c ELSE b.{b}_c END)",
                f"(CASE WHEN t.{c} IS NOT NULL THEN t.{c}_e ELSE b.{e} END)")

    vf, vfo, vfc, vfe = final(v, "v", "e_v")
    bvf, bvfo, bvfc, bvfe = final(bv, "b_v", "e_b_v")
    bvfo = f"(CASE WHEN t.{bv} IS NOT NULL THEN t.{bv}_o ELSE b.bv_o END)"
    bvfc = f"(CASE WHEN t.{bv} IS NOT NULL THEN t.{bv}_c ELSE b.bv_c END)"
    b_value = (f"(CASE WHEN {vfo} <> {COMPUTED} AND {bvfo} <> {COMPUTED} "
               f"THEN round(({vf} + {bvf}) * 1000.0) / 1000.0 END)")
    b_layer = (b_value, f"(CASE WHEN {vfo} = {bvfo} THEN {vfo} ELSE {MIXED} END)", f"least({vfc}, {bvfc})",
               f"round(sqrt(coalesce({vfe}, 0) ^ 2 + coalesce({bvfe}, 0) ^ 2) * 10000.0) / 10000.0")

    def gaia(band: str) -> tuple[str, int, int, str]:
        return (f"e.est_{band.lower()}", COMPUTED, LOW, f"e.e_est_{band.lower()}")

    # the Gaia estimates, computed once per star (LATERAL), then picked by the layers
    estimates = ", ".join(f"{expr[0]} AS est_{band.lower()}, {expr[1]} AS e_est_{band.lower()}"
                          for band, expr in ((b, gaia_estimate_sql(b, "t")) for b in GAIA_BANDS))

    exprs = {**_layered("V", [("b.v", "b.v_o", "b.v_c", "b.e_v"), gaia("V")]),
             **_layered("B-V", [("b.b_v", "b.bv_o", "b.bv_c", "b.e_b_v")]),
             **_layered("B", [b_layer]),
             **_layered("SpType", [("b.sptype", HIP_MAIN, "b.sp_c", None)]),
             **_layered("V_GAIA", [gaia("V")])}
    for band, prop in GAIA_BANDS.items():
        if prop not in ("V", "K") and band not in BRIGHT_FIRST.values():
            exprs.update(_layered(prop, [gaia(b) for b in (BRIGHT_FIRST.get(band), band) if b]))
    # red stars (past the published Ks relation) with no spectral type: getstar's own fit, whose
    # error is about half a magnitude (those with a type get SearchCal's colour tables later)
    sp = col("SpType")
    red_k = gaia("Ks_red")
    red_k = (f"(CASE WHEN t.{sp} IS NULL AND b.sptype IS NULL THEN {red_k[0]} END)", *red_k[1:])
    exprs.update(_layered("K", [gaia("Ks_bright"), gaia("Ks"), red_k]))
    return exprs, (f"LEFT JOIN {s}.cat_best b ON b.star_id = t.star_id "
                   f"CROSS JOIN LATERAL (SELECT {estimates}) e")


async def star_columns(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    """(name, SQL type) of every column of ``staging.star``, in order."""
    return [(r["attname"], r["type"]) for r in await _star_attributes(conn)]


async def _star_attributes(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every column of ``staging.star``, in order: name, SQL type, NOT NULL, default."""
    return await conn.fetch(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull, "
        "pg_get_expr(d.adbin, d.adrelid) AS dflt FROM pg_attribute a "
        "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
        "WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum", f"{STAGING}.star")


async def rewrite_stars(conn: asyncpg.Connection, exprs: dict[str, str], join: str, *,
                        source: str | None = None, order_by: str | None = None) -> None:
    """Replace ``staging.star`` by a copy whose columns ``exprs`` are recomputed (alias ``t``).

    Writing a new table costs an INSERT per star; an UPDATE of every (wide) row costs
    ~15 times more here (new row versions plus entries in every index: measured on the
    default snapshot, 110,000 updated rows took longer than 490,000 inserted ones).
    ``source``: a SELECT read instead of ``staging.star`` (``filled_stars_sql``);
    ``order_by``: the order the rows are written in (expressions over ``t``).

    One transaction, the copy made by CREATE TABLE AS (columns cast to their types, then the
    table's NOT NULL and defaults): rows go to the pages in the order they come (an INSERT
    would fill earlier pages' gaps), and with ``wal_level = minimal`` (the embedded cluster
    without a standby) the new table is synced at commit instead of written to the WAL too.
    """
    s = STAGING
    attributes = await _star_attributes(conn)
    cols = [(r["attname"], r["type"]) for r in attributes]
    unknown = set(exprs) - {c for c, _ in cols}
    if unknown:
        raise ValueError(f"no such star columns: {sorted(unknown)}")
    select = ", ".join(f"CAST({exprs[c]} AS {sqltype}) AS {c}" if c in exprs else f"t.{c}" for c, sqltype in cols)
    relation = f"({source})" if source else f"{s}.star"
    order = f" ORDER BY {order_by}" if order_by else ""
    alters = []
    for r in attributes:
        if r["dflt"] is not None:
            alters.append(f"ALTER COLUMN {r['attname']} SET DEFAULT {r['dflt']}")
        if r["attnotnull"]:
            alters.append(f"ALTER COLUMN {r['attname']} SET NOT NULL")
    async with conn.transaction():
        await conn.execute(f"CREATE TABLE {s}.star_next AS SELECT {select} FROM {relation} t {join}{order}")
        if alters:
            await conn.execute(f"ALTER TABLE {s}.star_next {', '.join(alters)}")
        await conn.execute(f"DROP TABLE {s}.star")
        await conn.execute(f"ALTER TABLE {s}.star_next RENAME TO star")
        # the build's lookup indexes (its q3c index is rebuilt with the final ones, after ANALYZE)
        await conn.execute(f"CREATE INDEX ON {s}.star ({col('HIP')})")
        await conn.execute(f"CREATE INDEX ON {s}.star ({col('GAIA')})")


#: Coverage figures of the build report: property -> key prefix.
COVERAGE = ("V", "B", "J", "H", "K", "SpType", "LDD")


async def coverage(conn: asyncpg.Connection, schema: str = STAGING) -> dict[str, int]:
    """Counts behind the coverage figures: stars (and Hipparcos stars) having each property,
    and how many of those values are catalogue values (not ``computed``)."""
    exprs = ["count(*) AS stars", f"count(*) FILTER (WHERE {col('HIP')} IS NOT NULL) AS hip_stars"]
    for name in COVERAGE:
        c = col(name)
        key = name.lower()
        exprs += [f"count({c}) AS with_{key}",
                  f"count({c}) FILTER (WHERE {c}_o <> {COMPUTED}) AS with_{key}_catalogue",
                  f"count({c}) FILTER (WHERE {col('HIP')} IS NOT NULL) AS hip_with_{key}"]
    row = await conn.fetchrow(f"SELECT {', '.join(exprs)} FROM {schema}.star")
    return {f"coverage_{k}": int(v) for k, v in dict(row).items()}


def coverage_table(counts: dict[str, Any]) -> list[tuple[str, float, float, float]]:
    """(property, % of stars, % of stars with a catalogue value, % of Hipparcos stars) from the counts."""
    stars = counts.get("coverage_stars") or 0
    hip = counts.get("coverage_hip_stars") or 0
    rows = []
    for name in COVERAGE:
        key = name.lower()
        if f"coverage_with_{key}" not in counts or not stars:
            continue
        rows.append((name, 100.0 * counts[f"coverage_with_{key}"] / stars,
                     100.0 * counts[f"coverage_with_{key}_catalogue"] / stars,
                     100.0 * counts[f"coverage_hip_with_{key}"] / hip if hip else 0.0))
    return rows

"""The raw store: each catalogue as read, one table per source in schema ``raw``.

A source is replaced atomically (drop + create + COPY in one transaction), so a bad
file loads nothing.  Snapshots are then built from whatever sources the store holds
(``getstar.ingest.build``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np

from getstar.coords import propagate_many
from getstar.names import ident_key

RAW = "raw"

RAW_DDL = [
    f"CREATE SCHEMA IF NOT EXISTS {RAW}",
    f"""CREATE TABLE IF NOT EXISTS {RAW}.source (
          name text PRIMARY KEY, path text NOT NULL, sha256 text NOT NULL,
          rows bigint NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now())""",
]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def sources_sha256(paths: Sequence[Path]) -> str:
    if len(paths) == 1:
        return file_sha256(paths[0])
    return hashlib.sha256("".join(file_sha256(p) for p in paths).encode()).hexdigest()


async def ensure_raw_schema(conn: asyncpg.Connection) -> None:
    for stmt in RAW_DDL:
        await conn.execute(stmt)


async def replace_table(
    conn: asyncpg.Connection,
    name: str,
    columns: Sequence[tuple[str, str]],
    records: Iterable[Sequence[Any]],
    *,
    source_paths: Sequence[Path],
    indexes: Sequence[str] = (),
    source_name: str | None = None,
) -> int:
    """Replace ``raw.<name>`` with ``records`` in one transaction; return the row count."""
    await ensure_raw_schema(conn)
    body = ", ".join(f"{c} {t}" for c, t in columns)
    async with conn.transaction():
        await conn.execute(f"DROP TABLE IF EXISTS {RAW}.{name}")
        await conn.execute(f"CREATE TABLE {RAW}.{name} ({body})")
        await conn.copy_records_to_table(
            name, schema_name=RAW, columns=[c for c, _ in columns], records=records
        )
        for index in indexes:
            await conn.execute(index.format(table=f"{RAW}.{name}"))
        count = await conn.fetchval(f"SELECT count(*) FROM {RAW}.{name}")
        await conn.execute(f"ANALYZE {RAW}.{name}")
        await conn.execute(
            f"""INSERT INTO {RAW}.source (name, path, sha256, rows) VALUES ($1, $2, $3, $4)
                ON CONFLICT (name) DO UPDATE SET path = $2, sha256 = $3, rows = $4, loaded_at = now()""",
            source_name or name, ", ".join(str(p) for p in source_paths), sources_sha256(source_paths), count,
        )
    return int(count)


def _nan_to_none(arr: np.ndarray) -> list[Any]:
    values = arr.tolist()
    if arr.dtype.kind == "f":
        return [None if v != v else v for v in values]
    return values


def columns_to_records(cols: dict[str, np.ndarray], order: Sequence[str]) -> Iterable[tuple[Any, ...]]:
    return zip(*(_nan_to_none(cols[name]) for name in order), strict=True)


async def load_hipparcos(conn: asyncpg.Connection, path: Path) -> int:
    from getstar.ingest import hipparcos

    cols = hipparcos.read(path)
    pmra = np.where(cols["pmra"] == 0, np.nan, cols["pmra"])
    pmdec = np.where(cols["pmdec"] == 0, np.nan, cols["pmdec"])
    cols["ra2000"], cols["dec2000"] = propagate_many(cols["ra"], cols["dec"], pmra, pmdec, hipparcos.EPOCH, 2000.0)
    cols["ra2016"], cols["dec2016"] = propagate_many(cols["ra"], cols["dec"], pmra, pmdec, hipparcos.EPOCH, 2016.0)
    names = ["hip", "ra", "dec", "ra2000", "dec2000", "ra2016", "dec2016", "plx", "pmra", "pmdec", "e_ra",
             "e_dec", "e_plx", "e_pmra", "e_pmdec", "hp", "e_hp", "b_v", "e_b_v", "v_i"]
    columns = [(n, "bigint" if n == "hip" else "double precision") for n in names]
    return await replace_table(
        conn, "hip", columns, columns_to_records(cols, names), source_paths=[path],
        indexes=["CREATE INDEX ON {table} (q3c_ang2ipix(ra2016, dec2016))", "CREATE UNIQUE INDEX ON {table} (hip)"],
    )


async def load_gaia(conn: asyncpg.Connection, path: Path) -> int:
    from getstar.ingest import gaia

    cols = gaia.read(path)
    names = ["source_id", "ra", "dec", "g", "bp", "rp"]
    columns = [(n, "bigint" if n == "source_id" else "double precision") for n in names]
    return await replace_table(
        conn, "gaia", columns, columns_to_records(cols, names), source_paths=[path],
        indexes=["CREATE INDEX ON {table} (q3c_ang2ipix(ra, dec))", "CREATE INDEX ON {table} (source_id)"],
    )


async def load_stellarium(conn: asyncpg.Connection, folder: Path) -> int:
    from getstar.ingest import stellarium

    records = [(hip, ident, ident_key(ident)) for hip, ident in stellarium.read(folder)]
    paths = [stellarium.find_file(folder, kind) for kind in stellarium.FILES]
    return await replace_table(
        conn, "stellarium", [("hip", "bigint"), ("id", "text"), ("key", "text")], records,
        source_paths=paths, indexes=["CREATE INDEX ON {table} (hip)"],
    )


async def load_simbad_dump(conn: asyncpg.Connection, folder: Path) -> tuple[int, int]:
    from getstar.ingest import simbad_dump

    basic = list(simbad_dump.read_basic(folder))
    ids = [(oid, ident, ident_key(ident)) for oid, ident in simbad_dump.read_ids(folder)]
    known = {rec[0] for rec in basic}
    orphans = [oid for oid, _, _ in ids if oid not in known]
    if orphans:
        from getstar.errors import IngestError

        raise IngestError(str(folder / simbad_dump.IDS), None,
                          f"{len(orphans)} identifiers of unknown oid {orphans[0]}")
    async with conn.transaction():
        n_basic = await replace_table(
            conn, "simbad", [(c, t) for c, t, _ in simbad_dump.COLUMNS], basic,
            source_paths=[folder / simbad_dump.BASIC], indexes=["CREATE UNIQUE INDEX ON {table} (oid)"],
        )
        n_ids = await replace_table(
            conn, "simbad_ident", [("oid", "bigint"), ("id", "text"), ("key", "text")], ids,
            source_paths=[folder / simbad_dump.IDS], indexes=["CREATE INDEX ON {table} (oid)"],
        )
    return n_basic, n_ids


def _property_columns_of(rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """SQL columns (in catalogue order) used by at least one row of a property-keyed source."""
    from getstar.schema import star_columns

    used = set().union(*(r.keys() for r in rows)) if rows else set()
    return [(c, t) for c, t in star_columns() if c in used]


async def load_jmdc(conn: asyncpg.Connection, path: Path, origin_tsv: Path | None) -> int:
    from getstar.ingest import jmdc

    _props, stars = jmdc.read(path, origin_tsv)
    prop_cols = _property_columns_of(stars)
    columns = [("simbad", "text"), ("keys", "text[]"), *prop_cols]
    records = [
        (s["simbad"], list(dict.fromkeys(ident_key(k) for k in s["keys"])), *(s.get(c) for c, _ in prop_cols))
        for s in stars
    ]
    return await replace_table(conn, "jmdc", columns, records, source_paths=[path])


async def load_jsdc(conn: asyncpg.Connection, path: Path, readme: Path | None = None) -> int:
    from getstar.ingest import jsdc

    stars = list(jsdc.read(path, readme))
    # the position is matched on, not copied: it stays the snapshot's own
    prop_cols = [(c, t) for c, t in _property_columns_of(stars)
                 if c not in ("ra", "dec") and not c.startswith(("ra_", "dec_"))]
    columns = [("name", "text"), ("ra", "double precision"), ("dec", "double precision"), *prop_cols]
    records = [(s.get("name"), s["ra"], s["dec"], *(s.get(c) for c, _ in prop_cols)) for s in stars]
    paths = [path] + ([readme] if readme else [])
    return await replace_table(
        conn, "jsdc", columns, records, source_paths=paths,
        indexes=["CREATE INDEX ON {table} (q3c_ang2ipix(ra, dec))"],
    )


async def loaded_sources(conn: asyncpg.Connection) -> dict[str, dict[str, Any]]:
    await ensure_raw_schema(conn)
    rows = await conn.fetch(f"SELECT name, path, sha256, rows, loaded_at FROM {RAW}.source ORDER BY name")
    return {r["name"]: {"path": r["path"], "sha256": r["sha256"], "rows": r["rows"],
                        "loaded_at": r["loaded_at"].isoformat()} for r in rows}


async def load_stellarium_stars(conn: asyncpg.Connection, folder: Path) -> int:
    """Stellarium's zone files (V, B−V, HIP spectral types) into ``raw.stellarium_stars``.

    ``kind``: 1 = Hipparcos record (HIP > 0), 2 = Tycho-2 record in a Star1 file (HIP 0),
    3 = Tycho-2 record of the Star2 file.  ``ra2016``/``dec2016``: the position moved by
    the record's own proper motion to Gaia's epoch, for the positional match.
    """
    from getstar.ingest import stellarium_stars as ss

    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("kind", "hip", "comp", "ra", "dec", "ra2016", "dec2016",
                                                          "v", "e_v", "b_v", "e_b_v", "sptype")}
    for kind_name, cols in ss.read(folder):
        n = len(cols["ra"])
        if kind_name == "star1":
            kind = np.where(cols["hip"] > 0, 1, 2)
            hip = np.where(cols["hip"] > 0, cols["hip"], -1)
            comp, sptype = cols["comp"], cols["sptype"]
        else:
            kind, hip = np.full(n, 3), np.full(n, -1)
            comp = sptype = np.full(n, "", dtype=object)
        ra16, dec16 = propagate_many(cols["ra"], cols["dec"], cols["pmra"], cols["pmdec"], ss.EPOCH, 2016.0)
        e_v, e_bv = ss.errors(kind, cols["v"])
        for key, arr in (("kind", kind), ("hip", hip), ("comp", comp), ("ra", cols["ra"]), ("dec", cols["dec"]),
                         ("ra2016", ra16), ("dec2016", dec16), ("v", np.round(cols["v"], 3)), ("e_v", e_v),
                         ("b_v", np.round(cols["b_v"], 3)), ("e_b_v", np.round(e_bv, 4)), ("sptype", sptype)):
            parts[key].append(np.asarray(arr))
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    n_all = len(cat["ra"])
    records = zip(range(1, n_all + 1), cat["kind"].tolist(),
                  [h if h > 0 else None for h in cat["hip"].tolist()],
                  [c or None for c in cat["comp"].tolist()],
                  *(cat[k].tolist() for k in ("ra", "dec", "ra2016", "dec2016", "v", "e_v", "b_v", "e_b_v")),
                  [s or None for s in cat["sptype"].tolist()], strict=True)
    columns = [("rid", "integer"), ("kind", "smallint"), ("hip", "bigint"), ("comp", "text"),
               ("ra", "double precision"), ("dec", "double precision"), ("ra2016", "double precision"),
               ("dec2016", "double precision"), ("v", "double precision"), ("e_v", "double precision"),
               ("b_v", "double precision"), ("e_b_v", "double precision"), ("sptype", "text")]
    return await replace_table(
        conn, "stellarium_stars", columns, records, source_paths=ss.files(folder),
        indexes=["CREATE INDEX ON {table} (q3c_ang2ipix(ra2016, dec2016))", "CREATE INDEX ON {table} (hip)"],
    )


async def load_kstars(conn: asyncpg.Connection, path: Path) -> int:
    """KStars' ``stars.dat`` (V, B−V, 2-character spectral type) into ``raw.kstars``."""
    from getstar.ingest import kstars

    cols = kstars.read(path)
    cols["ra2016"], cols["dec2016"] = propagate_many(cols["ra"], cols["dec"], cols["pmra"], cols["pmdec"],
                                                     kstars.EPOCH, 2016.0)
    records = [(int(line), ra, dec, r16, d16, v, bv, sp or None) for line, ra, dec, r16, d16, v, bv, sp in zip(
        cols["line"].tolist(), cols["ra"].tolist(), cols["dec"].tolist(), cols["ra2016"].tolist(),
        cols["dec2016"].tolist(), cols["v"].tolist(), cols["b_v"].tolist(), cols["sptype"].tolist(), strict=True)]
    columns = [("line", "integer"), ("ra", "double precision"), ("dec", "double precision"),
               ("ra2016", "double precision"), ("dec2016", "double precision"), ("v", "double precision"),
               ("b_v", "double precision"), ("sptype", "text")]
    return await replace_table(
        conn, "kstars", columns, records, source_paths=[path],
        indexes=["CREATE INDEX ON {table} (q3c_ang2ipix(ra2016, dec2016))"],
    )

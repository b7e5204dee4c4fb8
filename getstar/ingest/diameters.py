"""The build's diameter step: SearchCal's astrophysics (``getstar.astro``) for every star.

Runs once every catalogue magnitude is attached and the Gaia DR3 estimates are filled
(``getstar.ingest.photometry``).  The star table is read in chunks of star ids as arrays,
computed in numpy (``compute_stars``, method ``current``), and written back in one table rewrite
(``photometry.rewrite_stars``): an UPDATE of every wide row costs far more.

What is written, and when (a value already there is never replaced by ours):

* estimated magnitudes ``B V R Icous J H K L M`` (SearchCal's colour tables from the spectral
  type and the catalogue magnitudes): only where the star has none; origin ``computed``,
  confidence LOW, error from the tables' scatter and the fit;
* the diameter group (``LDD``, ``e_LDD``, ``e_LDD_rel``, ``diam_chi2``, ``diam_vj/vh/vk``,
  ``diam_count``, ``diamFlag``, ``diamFlagInfo``, ``CalFlag``, ``UD_U`` … ``UD_N``): a star
  that already has an ``LDD`` (JSDC's catalogue value, or GetStar's own 2020 computation shipped
  with JMDC) keeps that whole group; a star without one gets ours as a whole when we compute an
  LDD (a group is never half one source, half the other); otherwise only its empty properties;
* spectral-type products (``Teff_SpType``, ``logg_SpType``, ``SpType_JMMC``, colour-table
  indexes, luminosity class, ``BinFlag``, ``MultFlag``): only where empty;
* ``dist_plx`` is not written here: ``getstar.derived`` computes it from the parallax (also when
  SIMBAD teaches the live snapshot a parallax).

Inputs: a magnitude whose origin is ``computed`` counts as an estimate (the diameter is then
LOW and says ``ESTIMATED[...]`` in ``diamFlagInfo``); J, H, K count as 2MASS photometry when
their origin is 2MASS or a Gaia relation onto 2MASS (others are lowered to MEDIUM, as
SearchCal does).  A star without a spectral type gets SearchCal's own "faint" approach (the
spectral type fitted over the colour tables), which SearchCal gives MEDIUM confidence at most.
The type it fits is only in ``SpType_JMMC`` (as SearchCal writes it), never in ``SpType``: its
range is wide (5 to 20 subclasses and more, measured by ``bench/diameters.py``), a colour class
rather than a spectral type, though the diameter it gives is close to the one from the
catalogue type.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
from collections.abc import AsyncGenerator, Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Any

import asyncpg
import numpy as np

from getstar.astro import AstroResult, Band, compute_stars
from getstar.ingest.photometry import rewrite_stars
from getstar.properties import BY_NAME, ORIGIN_CODE
from getstar.schema import STAGING

#: Our values of some properties: name -> (values, confidences, errors or None).
Columns = dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]]
#: Fields of a binary COPY: fixed-width (name, kind, values) and text (name, values).
Fields = list[tuple[str, str, np.ndarray]]
Texts = list[tuple[str, list[str | None]]]

COMPUTED = ORIGIN_CODE["computed"]
TWO_MASS = ORIGIN_CODE["II/246/out"]
HIGH, MEDIUM, LOW = 3, 2, 1

#: getstar.astro band -> property holding it (R is left out as an input: our R values are
#: SIMBAD's, of mixed photometric systems; it is still estimated where empty).
INPUT_BANDS = {"B": "B", "V": "V", "I": "Icous", "J": "J", "H": "H", "K": "K", "L": "L", "M": "M"}
#: Properties written as one group, from one source.
DIAMETER_GROUP = ("LDD", "e_LDD_rel", "diam_chi2", "diam_vj", "diam_vh", "diam_vk", "diam_count", "diamFlag",
                  "diamFlagInfo", "CalFlag", *(f"UD_{b}" for b in "UBVRIJHKLMN"))
#: Properties filled only where empty.
FILL_ONLY = ("Teff_SpType", "logg_SpType", "SpType_JMMC", "color_table_index", "color_table_delta",
             "color_table_index_fix", "color_table_delta_fix", "lum_class", "lum_class_delta", "BinFlag",
             "MultFlag", "B", "V", "R", "Icous", "J", "H", "K", "L", "M")


def col(name: str) -> str:
    return BY_NAME[name].column


async def _read_inputs(conn: asyncpg.Connection, schema: str = STAGING, where: str = "true",
                       *args: Any, source: str | None = None) -> dict[str, np.ndarray]:
    """The inputs of the stars ``where`` selects (SQL over ``schema.star``, or over the SELECT
    ``source``; parameters ``args``), as numpy arrays in one order.

    The numbers come as a binary COPY parsed by numpy (NULL sent as NaN, or -1 for origins and
    confidences); the two text columns as arrays (asyncpg decodes them in C), with the star ids
    to put them in the same order.  One row of arrays for everything took ~3x longer.
    """
    numbers: list[tuple[str, str, str]] = [("star_id", "star_id::int8", ">i8")]  # (key, SQL, numpy type)
    for prop in INPUT_BANDS.values():
        c = col(prop)
        numbers += [(c, f"coalesce({c}, 'NaN')::float8", ">f8"), (c + "_e", f"coalesce({c}_e, 'NaN')::float8", ">f8"),
                    (c + "_o", f"coalesce({c}_o, -1)::int2", ">i2"), (c + "_c", f"coalesce({c}_c, -1)::int2", ">i2")]
    for c in (col("plx"), col("sep1"), col("sep2"), f"{col('plx')}_e"):
        numbers.append((c, f"coalesce({c}, 'NaN')::float8", ">f8"))
    numbers += [("sbc9", f"{col('SBC9')} IS NOT NULL", "?"), ("wds", f"{col('WDS')} IS NOT NULL", "?"),
                ("xmatch_flag", f"coalesce({col('XMATCH_MAIN_FLAG')}, 0)::int8", ">i8")]
    relation = f"({source}) t" if source else f"{schema}.star"
    data = bytearray()  # one copy of the rows in memory (~450 bytes a star), not the chunks and their join

    async def receive(chunk: bytes) -> None:
        data.extend(chunk)

    await conn.copy_from_query(f"SELECT {', '.join(sql for _, sql, _ in numbers)} FROM {relation} WHERE {where}",
                               *args, output=receive, format="binary")
    header = 11 + 4  # signature, flags; then the header extension's length and the extension
    start = header + 4 + int.from_bytes(data[header:header + 4], "big")
    dtype: list[tuple[str, Any]] = [("count", ">i2")]
    for key, _, np_type in numbers:
        dtype += [(f"l_{key}", ">i4"), (key, np_type)]
    rows = np.frombuffer(data, dtype=dtype, offset=start, count=(len(data) - start - 2) // np.dtype(dtype).itemsize)
    if (rows["count"] != len(numbers)).any() or any((rows[f"l_{key}"] < 0).any() for key, _, _ in numbers):
        raise ValueError("diameter inputs: unexpected binary COPY layout")
    out: dict[str, np.ndarray] = {}
    for key, _, np_type in numbers:
        kind = {">f8": np.float64, ">i2": np.int16, "?": bool}.get(np_type, np.int64)
        out[key] = rows[key].astype(kind)
    del rows
    data.clear()  # the rows are in the arrays now
    texts = await conn.fetchrow(
        f"SELECT array_agg(star_id) AS star_id, array_agg({col('SpType')}) AS sptype, "
        f"array_agg({col('ObjTypes')}) AS objtypes FROM {relation} WHERE {where}", *args)
    ids = np.array(texts["star_id"] or [], dtype=np.int64)
    order = np.argsort(ids)
    at = order[np.searchsorted(ids[order], out["star_id"])] if len(ids) else np.zeros(0, dtype=np.int64)
    for key in ("sptype", "objtypes"):
        out[key] = np.array(texts[key] or [], dtype=object)[at]
    return out


def _bands(inp: dict[str, np.ndarray]) -> dict[str, Band]:
    bands = {}
    for band, prop in INPUT_BANDS.items():
        c = col(prop)
        origin, conf = inp[f"{c}_o"], inp[f"{c}_c"]
        two = (origin == TWO_MASS) | (origin == COMPUTED) if band in "JHK" else None
        bands[band] = Band(inp[c], inp[f"{c}_e"], estimated=origin == COMPUTED,
                           confidence=np.clip(conf, 0, 3).astype(np.int8), is_2mass=two)
    return bands


def _compute(inp: dict[str, np.ndarray]) -> AstroResult:
    return compute_stars(inp["sptype"], _bands(inp), method="current", estimate_magnitudes=True,
                         plx=inp[col("plx")], e_plx=inp[f"{col('plx')}_e"], sbc9=inp["sbc9"], wds=inp["wds"],
                         sep1=inp[col("sep1")], sep2=inp[col("sep2")], objtypes=inp["objtypes"],
                         xmatch_flag=inp["xmatch_flag"])


async def recompute(conn: asyncpg.Connection, schema: str, where: str, *args: Any) -> tuple[np.ndarray, AstroResult]:
    """Our computation again for the stars ``where`` selects in ``schema`` (validation): star ids and result.

    Magnitudes the build estimated (origin ``computed``) count as estimates here too, so the
    result is the build's, whatever the stored diameter group holds (e.g. JMDC's 2020 LDD).
    """
    inp = await _read_inputs(conn, schema, where, *args)
    return inp["star_id"], _compute(inp)


def _written(res: AstroResult) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    return {name: (c.value, c.confidence, c.error) for name, c in res.columns.items()
            if name in BY_NAME and (name in DIAMETER_GROUP or name in FILL_ONLY)}


#: Star ids read, computed and sent to PostgreSQL at a time by ``compute_diameters``.
PIPELINE_CHUNK = 65536


def _every_column(columns: Columns, n: int) -> Columns:
    """``columns`` with every property this step may write, those absent as none: each chunk of
    ``compute_diameters`` loads the same columns (``compute_stars`` leaves out an estimated band
    no star of the chunk got)."""
    out = {}
    for name in (*DIAMETER_GROUP, *FILL_ONLY):
        if name in columns:
            out[name] = columns[name]
        elif name in BY_NAME:
            none = np.full(n, None, dtype=object) if BY_NAME[name].datatype == "char" else np.full(n, np.nan)
            out[name] = (none, np.zeros(n, dtype=np.int8), None)
    return out


async def compute_diameters(conn: asyncpg.Connection, source: str | None = None,
                            order_by: str | None = None, dsn: str | None = None) -> dict[str, int]:
    """Estimated magnitudes, diameters, UD, CalFlag for every star (``dist_plx``: ``getstar.derived``); counts.

    ``source``: a SELECT giving the stars as they are to be (``photometry.filled_stars_sql``),
    read and written instead of ``staging.star``; ``order_by``: the order the stars are written in;
    ``dsn``: the database's, to read the next chunk on a second connection while one is loaded.

    The stars go ``PIPELINE_CHUNK`` star ids at a time: read, computed in a thread, then loaded
    while the thread computes the next chunk (and, with ``dsn``, the one after is read): the
    two cores work at once. Read all at once, 2.5 M synthetic stars held ~1.5 GB in this
    process, memory this machine gives slowly the first time it is touched (~80 MB/s); a
    chunk's few tens of MB are the same pages again.
    """
    # the ids of the star table (``source`` selects some of its stars), found by its index
    lowest, highest = await conn.fetchrow(f"SELECT min(star_id), max(star_id) FROM {STAGING}.star")
    if lowest is None:
        return {}
    starts = range(lowest, highest + 1, PIPELINE_CHUNK)
    counts = {"astro_ldd_computed": 0, "astro_ldd_from_estimates": 0}

    def encode(inp: dict[str, np.ndarray]) -> bytes:
        """One chunk's binary COPY into ``astro`` (in a thread)."""
        res = _compute(inp)
        ldd = res["LDD"]
        has = ldd.confidence > 0
        counts["astro_ldd_computed"] += int(has.sum())
        counts["astro_ldd_from_estimates"] += int((has & (ldd.confidence == LOW)).sum())
        for name in ("V", "K"):
            if name in res:
                key = f"astro_{name.lower()}_estimated"  # only for a band some star got
                counts[key] = counts.get(key, 0) + int((res[name].confidence > 0).sum())
        fields, texts = _fields(inp["star_id"], _every_column(_written(res), len(inp["star_id"])))
        if _astro_ddl(fields, texts) != ASTRO_DDL:
            raise ValueError("diameter chunks with other columns than the astro table's")
        return b"".join(_binary_copy(fields, texts))

    async def read(on: asyncpg.Connection, low: int) -> dict[str, np.ndarray]:
        return await _read_inputs(on, STAGING, "star_id >= $1 AND star_id < $2", low, low + PIPELINE_CHUNK,
                                  source=source)

    async def send(chunk: bytes) -> None:
        await conn.copy_to_table("astro", schema_name=STAGING, source=_chunks([chunk]), format="binary")

    async def load(reader: asyncpg.Connection | None) -> None:
        loop = asyncio.get_running_loop()
        computing: asyncio.Future[bytes] | None = None  # the previous chunk, in the thread
        reading: asyncio.Task[dict[str, np.ndarray]] | None = None  # the next chunk, on the reader
        try:
            for k, low in enumerate(starts):
                if reader is None:
                    inp = await read(conn, low)
                else:
                    inp = await (reading or read(reader, low))
                    reading = asyncio.create_task(read(reader, starts[k + 1])) if k + 1 < len(starts) else None
                previous = await computing if computing is not None else None
                computing = loop.run_in_executor(None, encode, inp) if len(inp["star_id"]) else None
                if previous is not None:
                    await send(previous)
            if computing is not None:
                last, computing = await computing, None
                await send(last)
        finally:  # the load failed: the thread's chunk and the next read are waited for, not left running
            waiting = [f for f in (computing, reading) if f is not None]
            if waiting:
                await asyncio.wait(waiting)
                for f in waiting:  # the first failure is the one raised; these are retrieved, not logged
                    if not f.cancelled():
                        f.exception()

    reader = await asyncpg.connect(dsn) if dsn else None
    try:
        await _load_and_apply(conn, ASTRO_DDL, functools.partial(load, reader), _every_column({}, 0),
                              source=source, order_by=order_by)
    finally:
        if reader is not None:
            await reader.close()
    return counts


#: What a star's new inputs make stale: our diameter group and spectral-type products (the
#: estimated magnitudes stay until a catalogue value replaces them, as in the build).
REFRESHED = (*DIAMETER_GROUP, *(n for n in FILL_ONLY if n not in INPUT_BANDS.values() and n != "R"))


async def refresh_diameters(conn: asyncpg.Connection, schema: str, star_ids: Sequence[int]) -> int:
    """The diameter step again for stars changed in place (SIMBAD's enrichment and learned stars
    bring spectral types and J, H, K): our stale values go, then the step's rules apply to these
    stars as at build (catalogue values and JMDC's group stay).  Inside the caller's
    transaction; returns how many of them have an LDD of ours now."""
    ids = sorted(set(star_ids))
    if not ids:
        return 0
    clear = []
    for name in REFRESHED:
        c = col(name)
        ours = f"{c}_o = {COMPUTED}"
        clear += [f"{c} = CASE WHEN {ours} THEN NULL ELSE {c} END",
                  f"{c}_c = CASE WHEN {ours} THEN NULL ELSE {c}_c END"]
        if BY_NAME[name].error is not None:
            clear.append(f"{c}_e = CASE WHEN {ours} THEN NULL ELSE {c}_e END")
        clear.append(f"{c}_o = CASE WHEN {ours} THEN NULL ELSE {c}_o END")
    # JMDC's diameter group (GetStar's 2020 computation) is origin "computed" too: it stays
    keep = (f"AND NOT EXISTS (SELECT 1 FROM {schema}.jmdc_link j WHERE j.star_id = s.star_id)"
            if await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", f"{schema}.jmdc_link") else "")
    await conn.execute(f"UPDATE {schema}.star s SET {', '.join(clear)} WHERE s.star_id = ANY($1::bigint[]) {keep}", ids)
    inp = await _read_inputs(conn, schema, "star_id = ANY($1::bigint[])", ids)
    if len(inp["star_id"]) == 0:
        return 0
    res = _compute(inp)
    await _write(conn, inp["star_id"], _written(res), update=f"{schema}.star")
    return int((res["LDD"].confidence > 0).sum())


#: Fixed-width binary COPY field types: kind -> (SQL type, numpy big-endian type); "small": the
#: confidences and booleans (``SMALL``), one byte each (its values: a 2-D array, a row per star).
_BINARY = {"double": ("float8", ">f8"), "int": ("int8", ">i8"), "long": ("int8", ">i8"), "small": ("bytea", "u1")}
#: The ``astro`` column holding every confidence and boolean of a star, one byte each, read by
#: ``get_byte``: as one int2 column each, these ~40 of the table's 96 columns cost PostgreSQL's
#: COPY as much parsing as the numbers (a field each) for 2 bytes of data.
SMALL = "small"
#: An integer of ours that is not there (no int8 value of ours is this one).
_NO_INT = np.iinfo(np.int64).min
#: Our boolean values, as bytes of SMALL: none, false, true.
_NO_BOOL, _FALSE, _TRUE = 0, 1, 2


#: PostgreSQL's binary COPY: its header (no flags, no extension) and its trailer.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
_COPY_TRAILER = (-1).to_bytes(2, "big", signed=True)


def _binary_copy(fields: list[tuple[str, str, np.ndarray]],
                 texts: Sequence[tuple[str, list[str | None]]] = (), rows_per_chunk: int = 4096) -> Iterator[bytes]:
    """PostgreSQL's binary COPY of N rows, in chunks (``_binary_rows``, with header and trailer)."""
    yield _COPY_HEADER
    yield from _binary_rows(fields, texts, rows_per_chunk)
    yield _COPY_TRAILER


def _binary_rows(fields: list[tuple[str, str, np.ndarray]],
                 texts: Sequence[tuple[str, list[str | None]]] = (), rows_per_chunk: int = 4096) -> Iterator[bytes]:
    """The rows of a binary COPY, in chunks: fixed-width fields (name, kind, values), built by
    numpy, then text fields (name, values; None is NULL), appended per row from their distinct
    values.
    No NULLs in the fixed-width fields: NaN, 0 or ``_NO_INT`` stand for a missing value (``nullif``
    in SQL).  Measured on the default snapshot: ~0.3 s for 490,000 rows of 60 fields, where asyncpg's
    ``copy_records_to_table`` over Python tuples took ~20 s and an INSERT of ``unnest``ed
    array parameters ~60 s (the machine shared).
    """
    n = len(fields[0][2])
    dtype: list[tuple[Any, ...]] = [("count", ">i2")]
    for k, (_, kind, values) in enumerate(fields):  # SMALL: a byte string of its width
        shape = (np.shape(values)[1],) if kind == "small" else ()
        dtype += [(f"l{k}", ">i4"), (f"v{k}", np.dtype(_BINARY[kind][1]), shape)]
    # the field count and lengths repeated from one row, the values copied as big-endian arrays
    # (numpy casting into an unaligned structured field, or broadcasting a scalar there, is slower)
    template = np.zeros(1, dtype=dtype)
    template["count"] = len(fields) + len(texts)
    for k in range(len(fields)):
        template[f"l{k}"] = template.dtype[f"v{k}"].itemsize
    rows = np.repeat(template, n)
    for k, (_, kind, values) in enumerate(fields):
        rows[f"v{k}"] = np.asarray(values).astype(_BINARY[kind][1])
    width = rows.dtype.itemsize
    fixed = rows.view(np.uint8).data
    if texts:
        fields_of: dict[str | None, bytes] = {None: (-1).to_bytes(4, "big", signed=True)}
        for _, strings in texts:
            for text in set(strings) - fields_of.keys():
                data = str(text).encode()
                fields_of[text] = len(data).to_bytes(4, "big") + data
        tails = list(map(b"".join, zip(*[[fields_of[text] for text in strings] for _, strings in texts],
                                       strict=True)))
    for start in range(0, n, rows_per_chunk):
        end = min(n, start + rows_per_chunk)
        if texts:
            yield b"".join(itertools.chain.from_iterable(
                (fixed[i * width:(i + 1) * width], tails[i]) for i in range(start, end)))
        else:
            yield bytes(fixed[start * width:end * width])


async def _chunks(chunks: Iterable[bytes]) -> AsyncGenerator[bytes, None]:
    for chunk in chunks:
        yield chunk


def _fields(star_id: np.ndarray, columns: Columns) -> tuple[Fields, Texts]:
    """Our columns as the fields of the binary COPY into ``astro``: fixed-width, then text.

    Each value is loaded as it is to be written where the star takes ours (``_expressions``):
    none (NULL, or its stand-in) where we have no value; its confidence likewise (0 for none),
    its origin is ``computed`` where the confidence is not 0.
    """
    fields: Fields = [("star_id", "long", star_id.astype(np.int64))]
    texts: Texts = []
    small: dict[str, np.ndarray] = {}  # packed into SMALL, in ``_small_names`` order
    for name, (value, conf, error) in columns.items():
        prop = BY_NAME[name]
        c = prop.column
        has = conf > 0
        if prop.datatype == "char":
            strings = [v if h and isinstance(v, str) and v else None for v, h in zip(value.tolist(), has.tolist(),
                                                                                      strict=True)]
            has = np.array([x is not None for x in strings], dtype=bool)
            texts.append((c, strings))
        elif prop.datatype == "double":
            doubles = np.where(has, np.asarray(value, dtype=np.float64), np.nan)
            has = ~np.isnan(doubles)
            fields.append((c, "double", doubles))
        elif prop.datatype == "boolean":
            small[c] = np.where(has, np.where(np.asarray(value, dtype=bool), _TRUE, _FALSE), _NO_BOOL)
        else:
            ints = np.where(has, np.asarray(value), 0).astype(np.int64)
            if (has & (ints == _NO_INT)).any():
                raise ValueError(f"{name}: an integer of ours is the stand-in for none")
            fields.append((c, "int", np.where(has, ints, _NO_INT)))
        small[f"{c}_c"] = np.where(has, conf, 0)
        if prop.error is not None:
            err = np.full(len(value), np.nan) if error is None else np.asarray(error, dtype=np.float64)
            fields.append((f"{c}_e", "double", np.where(has, err, np.nan)))
    if small:
        packed = np.stack([np.asarray(small.pop(name), dtype=np.int64) for name in _small_names(columns)], axis=1)
        if small:
            raise AssertionError(f"values of ours packed nowhere: {sorted(small)}")
        if ((packed < 0) | (packed > 255)).any():
            raise ValueError("a confidence or boolean of ours does not fit a byte")
        fields.append((SMALL, "small", packed.astype(np.uint8)))
    return fields, texts


def _small_names(columns: Columns) -> list[str]:
    """The astro values packed into ``SMALL``, in order: each boolean property's value, each
    property's confidence."""
    names = []
    for name in columns:
        c = BY_NAME[name].column
        if BY_NAME[name].datatype == "boolean":
            names.append(c)
        names.append(f"{c}_c")
    return names


def _astro_ddl(fields: Fields, texts: Texts) -> str:
    return ", ".join([f"{name} {_BINARY[kind][0]}" for name, kind, _ in fields] + [f"{name} text" for name, _ in texts])


#: The build's ``astro`` table: every property the step may write (``_every_column``).
ASTRO_DDL = _astro_ddl(*_fields(np.zeros(0, dtype=np.int64), _every_column({}, 0)))


async def _write(conn: asyncpg.Connection, star_id: np.ndarray, columns: Columns, update: str) -> None:
    """Load our columns into a temporary table (binary COPY), then ``update`` those stars of a
    table in place (the build rewrites its stars instead: ``compute_diameters``)."""
    fields, texts = _fields(star_id, columns)

    async def load() -> None:
        await conn.copy_to_table("astro", source=_chunks(_binary_copy(fields, texts)), format="binary")

    await _load_and_apply(conn, _astro_ddl(fields, texts), load, columns, update=update)


async def _load_and_apply(conn: asyncpg.Connection, ddl: str, load: Callable[[], Awaitable[None]], columns: Columns,
                          update: str = "", source: str | None = None, order_by: str | None = None) -> None:
    """Create the ``astro`` table (``ddl``), ``load`` it, then apply it to the stars: ``update``
    them in place, or rewrite the build's star table (``photometry.rewrite_stars``)."""
    # an update (live stars, maybe several sessions at once): a temporary table; the build's
    # rewrite: an unlogged table of the staging schema, which parallel workers can read (as
    # photometry.FILLED)
    schema, create = (None, "CREATE TEMP TABLE") if update else (STAGING, "CREATE UNLOGGED TABLE")
    table = f"{schema}.astro" if schema else "astro"
    await conn.execute(f"{create} {table} ({ddl})")
    try:
        await load()
        await conn.execute(f"CREATE UNIQUE INDEX ON {table} (star_id)")
        if update:
            sets = ", ".join(f"{c} = {expr}" for c, expr in _expressions(columns).items())
            await conn.execute(f"UPDATE {update} t SET {sets} FROM {table} a WHERE a.star_id = t.star_id")
        else:
            await conn.execute(f"ANALYZE {table}")
            await rewrite_stars(conn, _expressions(columns), f"LEFT JOIN {table} a ON a.star_id = t.star_id",
                                source=source, order_by=order_by)
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {table}")


def _expressions(columns: Columns) -> dict[str, str]:
    """Column expressions of the rewrite (alias ``t`` the star, ``a`` ours as ``_write`` loads
    them; see the module docstring): ours where the star takes ours, else the star's own."""
    ldd = col("LDD")
    exprs: dict[str, str] = {}
    byte = {name: f"get_byte(a.{SMALL}, {k})" for k, name in enumerate(_small_names(columns))}
    for name in columns:
        prop = BY_NAME[name]
        c = prop.column
        if name in DIAMETER_GROUP:  # the whole group where we give the LDD, else only empty cells
            # (a.LDD is NaN, never NULL, where we have none: the group is ours wherever t.LDD is NULL)
            take = f"(t.{ldd} IS NULL AND (a.{ldd} IS NOT NULL OR t.{c} IS NULL))"
        else:
            take = f"t.{c} IS NULL"
        mine = {"double": f"nullif(a.{c}, 'NaN')", "char": f"a.{c}",
                "boolean": f"(nullif({byte.get(c)}, {_NO_BOOL}) = {_TRUE})"
                }.get(prop.datatype, f"nullif(a.{c}, {_NO_INT})")
        confidence = byte[f"{c}_c"]
        exprs[c] = f"CASE WHEN {take} THEN {mine} ELSE t.{c} END"
        exprs[f"{c}_o"] = f"CASE WHEN {take} THEN (CASE WHEN {confidence} > 0 THEN {COMPUTED} END) ELSE t.{c}_o END"
        exprs[f"{c}_c"] = f"CASE WHEN {take} THEN nullif({confidence}, 0) ELSE t.{c}_c END"
        if prop.error is not None:
            exprs[f"{c}_e"] = f"CASE WHEN {take} THEN nullif(a.{c}_e, 'NaN') ELSE t.{c}_e END"
    return exprs

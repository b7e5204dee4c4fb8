"""What ``getstar ingest`` runs: load sources into the raw store, then build and swap.

``loading_default_sources`` gathers the default snapshot: Gaia + Hipparcos (PyPI
packages), Stellarium names and star catalogues (Debian's stellarium-data, or
shared/data), KStars' star list (Debian's kstars-data, or shared/data), the SIMBAD
bright-star dump and JMDC (shared/data, when present).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg

from getstar.config import Settings
from getstar.errors import IngestError
from getstar.ingest import build, gaia, hipparcos, jmdc, kstars, raw, simbad_dump, stellarium, stellarium_stars
from getstar.schema import migrate

log = logging.getLogger("getstar.ingest")

Progress = Callable[[str], None]


def console_progress(enabled: bool | None = None) -> Progress:
    """A tqdm bar on a terminal: one tick per step (source loaded, build stage), with its label.

    Steps are few and long (seconds each, set-based SQL inside PostgreSQL), so the bar
    counts steps and shows elapsed time rather than rows.
    """
    on = sys.stderr.isatty() if enabled is None else enabled
    if not on:
        return lambda _label: None
    from tqdm import tqdm

    bar = tqdm(total=None, unit="step", bar_format="{elapsed} [{n_fmt} steps] {desc}", file=sys.stderr)

    def report(label: str) -> None:
        bar.set_description_str(label)
        bar.update(1)

    return report


async def ingest_source(conn: asyncpg.Connection, settings: Settings, source: str, paths: list[Path],
                        progress: Progress, *, rows: int | None = None) -> Any:
    """Load one source into the raw store (atomically, per source); ``rows``: synthetic only."""
    progress(_loading_label(source, paths))
    if source == "hipparcos":
        return await raw.load_hipparcos(conn, paths[0] if paths else hipparcos.default_path())
    if source == "gaia":
        return await raw.load_gaia(conn, paths[0] if paths else gaia.default_path())
    if source == "stellarium":
        return await raw.load_stellarium(conn, paths[0] if paths else stellarium.default_dir(settings.shared_data))
    if source == "stellarium-stars":
        stars_dir = paths[0] if paths else stellarium_stars.default_dir(settings.shared_data)
        return await raw.load_stellarium_stars(conn, stars_dir)
    if source == "kstars":
        return await raw.load_kstars(conn, paths[0] if paths else kstars.default_path(settings.shared_data))
    if source == "simbad-dump":
        folder = paths[0] if paths else simbad_dump.default_dir(settings.shared_data)
        if folder is None:
            raise IngestError("simbad_bsc", None, "no SIMBAD dump folder given and none in shared/data")
        return await raw.load_simbad_dump(conn, folder)
    if source == "jmdc":
        path = paths[0] if paths else jmdc.default_path(settings.shared_data)
        if path is None:
            raise IngestError("jmdc", None, "no JMDC file given and none in shared/data")
        tsv = path.parent / "searchcal_origin_index.tsv"
        return await raw.load_jmdc(conn, path, tsv if tsv.exists() else None)
    if source == "jsdc":
        if not paths:
            raise IngestError("jsdc", None, "give the JSDC file (jsdc_v2.fits, .vot or .dat with its ReadMe)")
        return await raw.load_jsdc(conn, paths[0], paths[1] if len(paths) > 1 else None)
    if source == "synthetic":
        from getstar.ingest.synthetic import load_synthetic

        if rows is None:
            raise IngestError("synthetic", None, "give the number of stars: --rows N")
        return await load_synthetic(conn, rows)
    raise IngestError(source, None, f"unknown source {source!r}")


async def default_sources(settings: Settings) -> list[tuple[str, list[Path]]]:
    """The sources of the default snapshot that this machine has."""
    plan: list[tuple[str, list[Path]]] = [("hipparcos", []), ("gaia", [])]
    with contextlib.suppress(IngestError):  # no Stellarium data on this machine
        plan.append(("stellarium", [stellarium.default_dir(settings.shared_data)]))
    with contextlib.suppress(IngestError):  # V, B-V, spectral types of Stellarium's star catalogues
        plan.append(("stellarium-stars", [stellarium_stars.default_dir(settings.shared_data)]))
    with contextlib.suppress(IngestError):  # KStars' star list
        plan.append(("kstars", [kstars.default_path(settings.shared_data)]))
    folder = simbad_dump.default_dir(settings.shared_data)
    if folder:
        plan.append(("simbad-dump", [folder]))
    path = jmdc.default_path(settings.shared_data)
    if path:
        plan.append(("jmdc", [path]))
    missing = [name for name, found in (("SIMBAD's bright stars (simbad_bsc/)", folder), ("JMDC (jmdc/)", path))
               if not found]
    if missing:  # a clone away from ../shared without GETSTAR_SHARED_DATA: said, not silent
        log.warning("the default snapshot is built without %s: GETSTAR_SHARED_DATA (%s) does not hold them",
                    " and ".join(missing), settings.shared_data)
    return plan


#: The sources the build's first steps read (the cross-match, the stars): loaded first.
ASTROMETRY = ("hipparcos", "gaia")


@contextlib.asynccontextmanager
async def loading_default_sources(dsn: str, conn: asyncpg.Connection, settings: Settings, progress: Progress,
                                  workers: int | None = None) -> AsyncIterator[tuple[Awaitable[Any], Awaitable[Any]]]:
    """Start loading every default source into the raw store; yields two awaitables: Hipparcos
    and Gaia loaded (``ASTROMETRY``, loaded first), every source loaded.

    ``workers`` (default: one per core) sources at once, each in a process and on a connection
    of its own: reading and parsing the files is Python work that one process would do one file
    after the other.  Each source is still replaced atomically; a bad file fails the ingest (its
    IngestError comes back from the worker when awaited).  With one worker, the sources are
    loaded one after the other before this yields.
    """
    await raw.ensure_raw_schema(conn)  # created once, not raced by the loads
    plan = await default_sources(settings)
    workers = min(len(plan), workers or len(os.sched_getaffinity(0)))  # the cores this process may use
    loop = asyncio.get_running_loop()
    if workers < 2:
        for name, paths in plan:
            await ingest_source(conn, settings, name, paths, progress)
        done: asyncio.Future[Any] = loop.create_future()
        done.set_result(None)
        yield done, done
        return
    import concurrent.futures
    import multiprocessing

    plan.sort(key=lambda item: item[0] not in ASTROMETRY)  # stable: Hipparcos and Gaia first
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        loads = {}
        for name, paths in plan:
            progress(_loading_label(name, paths))
            loads[name] = loop.run_in_executor(pool, _load_in_process, dsn, settings, name, paths)
        waits = (asyncio.gather(*(f for name, f in loads.items() if name in ASTROMETRY)),
                 asyncio.gather(*loads.values()))
        try:
            yield waits
        finally:  # every load has ended (or failed) before the pool goes
            await asyncio.gather(*loads.values(), return_exceptions=True)
            for wait in waits:  # a failure the caller did not wait for is not reported twice
                if wait.done() and not wait.cancelled():
                    wait.exception()


def _loading_label(source: str, paths: list[Path]) -> str:
    return f"loading {source} from {', '.join(map(str, paths)) or 'default location'}"


def _load_in_process(dsn: str, settings: Settings, source: str, paths: list[Path]) -> None:
    """``ingest_source`` in a worker process of ``loading_default_sources``."""
    asyncio.run(build.on_connection(dsn, lambda conn: ingest_source(conn, settings, source, paths, _quiet)))


def _quiet(_label: str) -> None:
    pass


async def build_and_swap(conn: asyncpg.Connection, progress: Progress,
                         lock_timeout: float = build.SWAP_LOCK_TIMEOUT,
                         dsn: str | None = None, sources_loaded: Awaitable[Any] | None = None,
                         ) -> tuple[str, build.BuildReport]:
    """Build, validate, swap; ``dsn`` (the database's) lets the build use a second connection,
    ``sources_loaded`` (the sources still loading, see ``build.build``)."""
    started = datetime.now(UTC)
    report = await build.build(conn, progress, dsn, sources_loaded)
    progress("validating")
    report.counts.update(await build.validate(conn, dsn))
    sources = await raw.loaded_sources(conn)
    progress("swapping the new snapshot in")
    version = await build.swap(conn, sources, report.counts, started, lock_timeout)
    return version, report


async def run_ingest(dsn: str, settings: Settings, source: str, paths: list[Path],
                     progress: Progress | None = None, *, rows: int | None = None,
                     enrich: Any = None) -> tuple[str, build.BuildReport]:
    """``getstar ingest SOURCE FILE...``: ``build`` loads every default source; ``rows``: synthetic;
    ``enrich``: the ``simbad-enrich`` options (``getstar.simbad.enrich.EnrichOptions``)."""
    progress = progress or console_progress()
    conn = await asyncpg.connect(dsn)
    try:
        from getstar.db import _init_connection

        await _init_connection(conn)
        await migrate(conn)
        if source == "simbad-names":  # asks SIMBAD through the fallback; the live snapshot grows in place
            from getstar.simbad.bulk import ingest_names

            return await ingest_names(conn, dsn, settings, paths, progress)
        if source == "simbad-enrich":  # asks SIMBAD about every star in bulk; the live snapshot grows in place
            from getstar.simbad.enrich import EnrichOptions, ingest_enrich

            return await ingest_enrich(conn, settings, enrich or EnrichOptions(), progress)
        if source in ("build", "default"):
            # the build starts once Hipparcos and Gaia are in; the other sources load meanwhile
            async with loading_default_sources(dsn, conn, settings, progress) as (astrometry, every):
                await astrometry
                return await build_and_swap(conn, progress, settings.swap_lock_timeout, dsn, every)
        elif source != "rebuild":
            await ingest_source(conn, settings, source, paths, progress, rows=rows)
        return await build_and_swap(conn, progress, settings.swap_lock_timeout, dsn)
    finally:
        await conn.close()

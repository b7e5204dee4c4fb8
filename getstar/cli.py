"""The ``getstar`` command line: serve, db, ingest."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from getstar.config import Settings
from getstar.errors import GetStarError

if TYPE_CHECKING:
    from getstar.simbad.enrich import EnrichOptions

SOURCES = ("build", "rebuild", "hipparcos", "gaia", "stellarium", "stellarium-stars", "kstars", "simbad-dump", "jmdc",
           "jsdc", "synthetic", "simbad-names", "simbad-enrich")
REPLICA_ACTIONS = ("init", "start", "stop", "status", "drop")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="getstar", description="Star resolver service (SIMBAD + JSDC snapshot)")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the service (embedded database unless GETSTAR_DATABASE_URL is set)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)

    dbp = sub.add_parser("db", help="manage the embedded PostgreSQL cluster (and its read replica)")
    dbp.add_argument("action", choices=("init", "start", "stop", "status", "replica"))
    dbp.add_argument("replica_action", nargs="?", choices=REPLICA_ACTIONS,
                     help="replica: init (a streaming standby on GETSTAR_REPLICA_PORT: pg_basebackup, a "
                          "replication slot; restarts the primary once if it ran without WAL streaming), "
                          "start, stop, status, drop (delete it and its slot)")

    ingest = sub.add_parser("ingest", help="load catalogue files into a new snapshot")
    ingest.add_argument("source", choices=SOURCES,
                        help="'build' loads every default source; 'rebuild' rebuilds from what is loaded; "
                             "'simbad-names FILE' asks SIMBAD about the names of FILE (one per line); "
                             "'simbad-enrich' asks SIMBAD about every star of the snapshot, in bulk")
    ingest.add_argument("files", nargs="*", type=Path)
    ingest.add_argument("--rows", type=int, default=None, help="synthetic: number of random stars")
    ingest.add_argument("--only-missing", action="store_true",
                        help="simbad-enrich: only the stars without SIMBAD data yet")
    ingest.add_argument("--batch", type=int, default=None,
                        help="simbad-enrich: stars per TAP upload (default GETSTAR_SIMBAD_ENRICH_BATCH, within "
                             "SIMBAD's upload limit)")
    ingest.add_argument("--rate", type=float, default=None,
                        help="simbad-enrich: SIMBAD queries per second at most (default GETSTAR_SIMBAD_RATE)")
    ingest.add_argument("--resume", action="store_true",
                        help="simbad-enrich: continue the interrupted run after its last checkpoint")

    xm = sub.add_parser("xmatch", help="cross-identify a target list (CSV, TSV, JSON or VOTable file)")
    xm.add_argument("file", type=Path)
    xm.add_argument("--radius", default=None, help="match radius (default 2arcsec; e.g. 1.5arcsec, 0.01deg)")
    xm.add_argument("--epoch", default=None, help="observation epoch for rows without one (e.g. 2024.5)")
    xm.add_argument("--format", default="csv", choices=("csv", "json", "votable", "votable11"))
    xm.add_argument("--output", "-o", type=Path, default=None, help="write here instead of standard output")

    rs = sub.add_parser("resolve", help="resolve names or 'RA DEC' positions with a running service")
    rs.add_argument("queries", nargs="+", metavar='NAME|"RA DEC"')
    rs_fmt = rs.add_mutually_exclusive_group()
    rs_fmt.add_argument("--json", dest="fmt", action="store_const", const="json", help="the service's JSON results")
    rs_fmt.add_argument("--votable", dest="fmt", action="store_const", const="votable",
                        help="GetStar's VOTable 1.1")
    rs.add_argument("--url", default="http://127.0.0.1:8000", help="the service (default http://127.0.0.1:8000)")

    snap = sub.add_parser("snapshot", help="the served snapshot")
    snap.add_argument("action", choices=("reload",),
                      help="reload: rebuild the snapshot from the raw store and swap it in (running services "
                           "keep answering and switch to it)")

    tap = sub.add_parser("tap", help="TAP and ADQL over the live snapshot (GAVO DaCHS)")
    tap.add_argument("action", choices=("init", "serve", "rd"),
                     help="init: set DaCHS up on getstar's database (idempotent); serve: run DaCHS in the "
                          "foreground on GETSTAR_TAP_HOST:GETSTAR_TAP_PORT; rd: print the generated resource "
                          "descriptor")
    return parser


async def _prepare(settings: Settings) -> str:
    """Start the database if embedded, apply migrations, return the DSN writes go to
    (GETSTAR_WRITE_DATABASE_URL when reads go to a standby)."""
    from getstar import db
    from getstar.schema import migrate

    dsn = await db.ensure_write_database(settings)
    conn = await db.connect(dsn)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    return dsn


async def _has_snapshot(dsn: str) -> bool:
    from getstar import db
    from getstar.schema import has_live_snapshot

    conn = await db.connect(dsn)
    try:
        return await has_live_snapshot(conn)
    finally:
        await conn.close()


def cmd_db(settings: Settings, action: str, replica_action: str | None = None) -> int:
    from getstar.db import embedded_cluster

    if action == "replica":
        return cmd_replica(settings, replica_action)
    if replica_action is not None:
        print(f"'{replica_action}' is for 'getstar db replica'", file=sys.stderr)
        return 2
    if settings.database_url:
        print("GETSTAR_DATABASE_URL is set: the embedded cluster is not used", file=sys.stderr)
        return 2
    cluster = embedded_cluster(settings)
    if action == "init":
        created = cluster.init()
        dsn = asyncio.run(_prepare(settings))
        print(("created" if created else "exists") + f": {cluster.pgdata}\n{dsn}")
    elif action == "start":
        cluster.start()
        print(f"running: {cluster.dsn}")
    elif action == "stop":
        cluster.stop()
        print("stopped")
    else:
        running = cluster.status()
        print(f"{'running' if running else 'stopped'}: {cluster.pgdata} (socket {cluster.socket_dir}, "
              f"port {cluster.port})")
        return 0 if running else 3
    return 0


def cmd_replica(settings: Settings, action: str | None) -> int:
    """``getstar db replica ACTION``: the embedded cluster's streaming standby."""
    from getstar.db import embedded_replica

    if action is None:
        print("getstar db replica: say init, start, stop, status or drop", file=sys.stderr)
        return 2
    replica = embedded_replica(settings)
    if action == "init":
        asyncio.run(_prepare(replace(settings, database_url=None, write_database_url=None)))
        created = asyncio.run(replica.init())
        print(("created" if created else "exists") + f": {replica.cluster.pgdata} (port {replica.port}, "
              f"slot {replica.slot})")
        print("serve from it with:\n"
              f"  GETSTAR_DATABASE_URL='{replica.read_dsn()}'\n"
              f"  GETSTAR_WRITE_DATABASE_URL='{replica.write_dsn()}'")
    elif action == "start":
        replica.start()
        print(f"running: {replica.dsn}")
    elif action == "stop":
        replica.stop()
        print("stopped")
    elif action == "drop":
        asyncio.run(replica.drop())
        print(f"dropped: {replica.cluster.home} and slot {replica.slot}")
    else:
        status = asyncio.run(replica.status())
        for key, value in status.items():
            print(f"{key}: {value}")
        return 0 if status["running"] else 3
    return 0


def cmd_ingest(settings: Settings, source: str, files: list[Path], rows: int | None = None,
               enrich: EnrichOptions | None = None) -> int:
    from getstar.ingest.pipeline import run_ingest

    async def go() -> None:
        started = time.monotonic()
        dsn = await _prepare(settings)
        version, report = await run_ingest(dsn, settings, source, files, rows=rows, enrich=enrich)
        took = time.monotonic() - started
        print(f"snapshot {version}")
        for name, count in report.counts.items():
            print(f"  {name.replace('_', ' '):32s} {count:>10,}")
        if getattr(report, "seconds", None):
            print("build steps (seconds)")
            for label, seconds in report.seconds.items():
                print(f"  {label:70s} {seconds:7.1f}")
            print(f"  {'in all (loading, building, validating, swapping)':70s} {took:7.1f}")
        if report.notes:
            print("identifier conflicts settled (first ones; all in live.ident_conflict):")
            for note in report.notes:
                print(f"  {note}")
        from getstar.ingest.photometry import coverage_table

        table = coverage_table(report.counts)
        if table:
            print("coverage           stars   catalogue   Hipparcos stars")
            for prop, all_, cat, hip in table:
                print(f"  {prop:10s} {all_:10.2f} % {cat:9.2f} % {hip:11.2f} %")

    asyncio.run(go())
    return 0


def cmd_xmatch(settings: Settings, path: Path, radius: str | None, epoch: str | None, fmt: str,
               output: Path | None) -> int:
    from getstar.xmatch.runner import xmatch_file

    async def go() -> dict[str, int]:
        dsn = await _prepare(settings)
        if output is None:
            return await xmatch_file(dsn, path, sys.stdout.buffer, radius=radius, epoch=epoch, fmt=fmt,
                                     max_radius_deg=settings.xmatch_max_radius_deg)
        with open(output, "wb") as out:
            return await xmatch_file(dsn, path, out, radius=radius, epoch=epoch, fmt=fmt,
                                     max_radius_deg=settings.xmatch_max_radius_deg)

    counts = asyncio.run(go())
    print(", ".join(f"{flag}={n}" for flag, n in sorted(counts.items())), file=sys.stderr)
    return 0


async def prepare_serving(settings: Settings) -> str:
    """Migrate, and load the first snapshot, where writes go; return where the workers read
    (a standby's DSN is served as it is: nothing is written through it)."""
    from getstar import db

    dsn = await _prepare(settings)
    if not await _has_snapshot(dsn):
        from getstar.ingest.pipeline import run_ingest

        print("no snapshot yet: loading the default snapshot (first start, a few minutes)", file=sys.stderr)
        version, report = await run_ingest(dsn, settings, "build", [])
        print(f"snapshot {version}: {report}", file=sys.stderr)
    return settings.database_url or await db.ensure_database(settings)


def cmd_serve(settings: Settings, host: str, port: int, workers: int) -> int:
    import uvicorn

    os.environ["GETSTAR_DATABASE_URL"] = asyncio.run(prepare_serving(settings))
    import logging.config

    from getstar.logs import log_config
    from getstar.server import drop_privileges, uvicorn_options

    config = log_config(settings.log_level, settings.log_format, settings.access_log)
    logging.config.dictConfig(config)  # so that the privilege drop is logged as the service logs
    drop_privileges(settings.run_as_user)  # started by root: serve as an unprivileged user
    # SIGTERM: stop accepting, let requests in flight finish (drain_timeout), then the lifespan closes the pool
    uvicorn.run("getstar.app:create_app", factory=True, host=host, port=port, workers=workers,
                log_level=settings.log_level.lower(), access_log=False,
                log_config=config,
                timeout_graceful_shutdown=max(1, round(settings.drain_timeout)), **uvicorn_options(settings))
    return 0


def cmd_tap(settings: Settings, action: str) -> int:
    if action == "rd":
        from getstar.tap.rd import resource_descriptor

        sys.stdout.write(resource_descriptor())
        return 0
    from getstar import db
    from getstar.tap import service

    if action == "init":
        dsn = asyncio.run(_prepare(settings))
        site = asyncio.run(service.init(settings, dsn))
        print(f"TAP ready: 'getstar tap serve' serves {site.tap_url} (DaCHS under {site.root})")
        if not asyncio.run(_has_snapshot(dsn)):
            print("no snapshot yet: TAP queries fail until 'getstar ingest build' (or 'getstar serve') loads it",
                  file=sys.stderr)
        return 0
    # serving needs no owner's connection: DaCHS logs in with its own roles (a URL's host, port
    # and database are used, not its user); the embedded cluster is started if it is not running
    # (DaCHS writes its own job tables: the primary when reads go to a standby)
    dsn = settings.write_database_url or settings.database_url or asyncio.run(db.ensure_database(settings))
    service.serve(settings, dsn)  # becomes DaCHS: returns only on error
    return 1


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.from_env()
    try:
        if args.command == "db":
            return cmd_db(settings, args.action, args.replica_action)
        if args.command == "ingest":
            from getstar.simbad.enrich import EnrichOptions

            options = EnrichOptions(only_missing=args.only_missing, batch=args.batch, rate=args.rate,
                                    resume=args.resume)
            return cmd_ingest(settings, args.source, args.files, args.rows, options)
        if args.command == "xmatch":
            return cmd_xmatch(settings, args.file, args.radius, args.epoch, args.format, args.output)
        if args.command == "resolve":
            from getstar.remote import run as run_resolve

            return run_resolve(args.queries, args.url, args.fmt or "text")
        if args.command == "snapshot":
            return cmd_ingest(settings, "rebuild", [])
        if args.command == "tap":
            return cmd_tap(settings, args.action)
        if args.command == "serve":
            return cmd_serve(settings, args.host, args.port, args.workers)
    except GetStarError as exc:
        print(f"getstar: {exc.message}", file=sys.stderr)
        return 1
    return 2


if __name__ == "__main__":
    sys.exit(main())

"""``getstar ingest simbad-enrich``: the snapshot as a SIMBAD cache, filled in bulk by TAP upload.

Walks the live snapshot's stars in star-id order, ``batch`` at a time: those with a Gaia DR3,
HIP or HD number (with ``--only-missing``, those without a SIMBAD identity yet).  Per batch:

1. one TAP query uploading the stars' identifiers (``upload``), inside the shared SIMBAD rate
   limit (``factory.make_limiter``) and the service's upload/answer limits (``limits``);
2. the answer split into one-to-one (star, object) pairs and conflicts (``conflicts``);
3. one transaction: the fetch into the raw store (``learned.append``), merged into the live
   stars (``store.attach``), the conflicts recorded, the checkpoint moved, a new cache
   generation announced.  A batch is in whole or not at all; it is visible at once to
   running services and kept by the next rebuild.

A failed batch (SIMBAD unavailable, a timeout, a dropped or truncated answer) writes nothing
and is asked again after an exponential backoff with jitter (Retry-After honoured); after
``attempts`` failures the run stops, and ``--resume`` continues after the checkpoint.  An
upload the service refuses as too large (HTTP 413: a limit its capabilities did not state,
e.g. DaCHS' 500 kB for sync uploads) halves the batch for the rest of the run.  A tqdm
bar shows stars/s and the ETA; the report counts stars enriched, identifiers added, stars
SIMBAD does not know and conflicts, and the mean time per batch.

Why one cache generation per batch: cached answers are keyed by the snapshot key
(``schema.announce_learned``).  Bumping it in the batch's own transaction means no answer
computed before a batch is served after it (a name unknown before is found at once), for one
cache refill per batch: about 50 over the 490 k-star default snapshot, not one per star.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import asyncpg
from tqdm import tqdm

from getstar.config import Settings
from getstar.errors import GetStarError, IngestError, UploadTooLarge, UpstreamRefused
from getstar.ingest.build import BuildReport
from getstar.schema import LIVE, announce_learned, has_live_snapshot
from getstar.simbad import checkpoint
from getstar.simbad.adql import table_prefix
from getstar.simbad.checkpoint import Run
from getstar.simbad.client import TapClient
from getstar.simbad.conflicts import Decision, decide, key_holders
from getstar.simbad.factory import make_limiter
from getstar.simbad.learned import append, ensure_tables
from getstar.simbad.limits import TapLimits, read_limits
from getstar.simbad.parse import SimbadObject
from getstar.simbad.store import attach, identifier_pairs, lock_objects
from getstar.simbad.upload import NAMES_PER_STAR, UPLOAD_TABLE, StarIds, enrich_query, upload_rows, upload_votable
from getstar.star_sql import col

log = logging.getLogger("getstar.simbad")

#: Attempts per batch, and the backoff between them (seconds: base * 2^n, with jitter, capped).
ATTEMPTS = 5
BACKOFF_BASE = 2.0
MAX_PAUSE = 120.0
#: How long a batch may queue for a rate slot (a bulk run is alone and in no hurry).
MAX_RATE_WAIT = 120.0

_HAS_NUMBER = f"(s.{col('GAIA')} > 0 OR s.{col('HIP')} IS NOT NULL OR s.{col('HD')} IS NOT NULL)"
_NO_SIMBAD = f"NOT EXISTS (SELECT 1 FROM {LIVE}.ident i WHERE i.star_id = s.star_id AND i.source = 3)"


def _where(only_missing: bool) -> str:
    return f"s.star_id > $1 AND {_HAS_NUMBER}" + (f" AND {_NO_SIMBAD}" if only_missing else "")


def select_sql(only_missing: bool) -> str:
    return (f"SELECT s.star_id, s.{col('GAIA')} AS gaia, s.{col('HIP')} AS hip, s.{col('HD')} AS hd, s.ra, s.dec "
            f"FROM {LIVE}.star s WHERE {_where(only_missing)} ORDER BY s.star_id LIMIT $2")


def count_sql(only_missing: bool) -> str:
    return f"SELECT count(*) FROM {LIVE}.star s WHERE {_where(only_missing)}"


@dataclass
class EnrichOptions:
    """The command line's choices (None: the settings' default)."""

    only_missing: bool = False
    batch: int | None = None
    rate: float | None = None
    resume: bool = False
    show_bar: bool | None = None
    attempts: int = ATTEMPTS
    backoff_base: float = BACKOFF_BASE


def batch_size(requested: int, limits: TapLimits) -> int:
    """Stars per query: as asked, within the service's upload and answer row limits."""
    size = max(1, requested)
    for rows in (limits.upload_rows, limits.output_rows):
        if rows:
            size = min(size, max(1, rows // NAMES_PER_STAR))
    return size


class Enrichment:
    """One run: batches in, checkpoints out."""

    def __init__(self, conn: asyncpg.Connection, client: TapClient, run: Run, limits: TapLimits, batch: int,
                 prefix: str, options: EnrichOptions,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
        self.conn = conn
        self.client = client
        self.run = run
        self.limits = limits
        self.batch = batch
        self.query = enrich_query(prefix)
        self.options = options
        self.sleep = sleep
        self.counts = run.counts

    def _count(self, key: str, n: int = 1) -> None:
        self.counts[key] = self.counts.get(key, 0) + n

    async def remaining(self) -> int:
        return int(await self.conn.fetchval(count_sql(self.run.only_missing), self.run.last_star_id))

    async def next_batch(self) -> list[StarIds]:
        rows = await self.conn.fetch(select_sql(self.run.only_missing), self.run.last_star_id, self.batch)
        return [StarIds(int(r["star_id"]), r["gaia"], r["hip"], r["hd"], r["ra"], r["dec"]) for r in rows]

    def _upload(self, stars: list[StarIds]) -> tuple[list[StarIds], bytes]:
        """The batch's upload, shortened until it fits a service's byte limit (the rest comes next)."""
        while True:
            data = upload_votable(upload_rows(stars))
            if not self.limits.upload_bytes or len(data) <= self.limits.upload_bytes or len(stars) == 1:
                return stars, data
            stars = stars[: len(stars) // 2]

    async def ask(self, data: bytes) -> tuple[list[SimbadObject], list[tuple[int, int]]]:
        """SIMBAD's answer for one upload; failures are asked again after a backoff, then raised."""
        for attempt in range(self.options.attempts):
            try:
                return await self.client.query_upload(self.query, {UPLOAD_TABLE: data},
                                                      maxrec=self.limits.output_rows, max_wait=MAX_RATE_WAIT)
            except UpstreamRefused:
                raise  # the query itself is refused: asking again will not help
            except GetStarError as exc:
                if attempt + 1 >= self.options.attempts:
                    raise
                step = self.options.backoff_base * 2 ** attempt
                pause = min(MAX_PAUSE, max(exc.retry_after or 0.0, step / 2 + random.random() * step / 2))
                self._count("batch_retries")
                await self.sleep(pause)
        raise AssertionError("unreachable")

    async def store(self, stars: list[StarIds], objects: list[SimbadObject], pairs: list[tuple[int, int]],
                    fetched_at: datetime) -> Decision:
        """The batch's one transaction: raw store, live stars, conflicts, checkpoint, cache generation."""
        by_oid = {o.oid: o for o in objects}
        conn = self.conn
        async with conn.transaction():
            await self._same_snapshot()
            decision = decide([s.star_id for s in stars], pairs, by_oid, await key_holders(conn, objects),
                              {s.star_id: (s.ra, s.dec) for s in stars if s.ra is not None and s.dec is not None})
            kept = [by_oid[oid] for oid in dict.fromkeys(oid for _, oid in decision.accepted)]
            await lock_objects(conn, [o.oid for o in kept])
            await append(conn, kept, {o.oid: identifier_pairs(o) for o in kept}, fetched_at)
            added = await attach(conn, decision.accepted, fetched_at)
            await checkpoint.record_conflicts(conn, self.run, decision.conflicts, fetched_at)
            delta = {"batches": 1, "stars_asked": len(stars),
                     "stars_enriched": len({star for star, _ in decision.accepted}),
                     "stars_not_in_simbad": len(decision.unmatched), "identifiers_added": added,
                     "conflicts": sum(1 for c in decision.conflicts if not c.merged)}
            for c in decision.conflicts:
                delta[f"conflicts_{c.kind}"] = delta.get(f"conflicts_{c.kind}", 0) + 1
            counts = {**self.counts, **{k: self.counts.get(k, 0) + v for k, v in delta.items()}}
            await checkpoint.advance(conn, self.run, stars[-1].star_id, counts, fetched_at)
            await announce_learned(conn)
            await self._same_snapshot()  # a rebuild swapped in meanwhile: roll the batch back
        # committed: only now does the run move on
        self.run.last_star_id = stars[-1].star_id
        self.counts.update(counts)
        return decision

    async def _same_snapshot(self) -> None:
        version = await checkpoint.live_version(self.conn)
        if version != self.run.snapshot_version:
            raise IngestError("simbad-enrich", None, f"the live snapshot changed ({self.run.snapshot_version} -> "
                                                     f"{version}) during the run: run it again with --only-missing")

    async def go(self, bar: tqdm) -> None:
        while True:
            stars = await self.next_batch()
            if not stars:
                return
            stars, data = self._upload(stars)
            started = time.monotonic()
            try:
                objects, pairs = await self.ask(data)
            except UploadTooLarge:
                # a limit the capabilities did not state (DaCHS: 500 kB for sync uploads): halve, ask again
                if len(stars) == 1:
                    raise
                self.batch = max(1, len(stars) // 2)
                self.counts["upload_shrinks"] = self.counts.get("upload_shrinks", 0) + 1
                continue
            asked = time.monotonic()
            await self.store(stars, objects, pairs, datetime.now(UTC))
            self._count("query_ms", round((asked - started) * 1000))
            self._count("store_ms", round((time.monotonic() - asked) * 1000))
            bar.update(len(stars))
            bar.set_postfix(enriched=self.counts.get("stars_enriched", 0),
                            ids=self.counts.get("identifiers_added", 0),
                            unknown=self.counts.get("stars_not_in_simbad", 0),
                            conflicts=self.counts.get("conflicts", 0), refresh=False)


async def _open_run(conn: asyncpg.Connection, options: EnrichOptions) -> Run:
    now = datetime.now(UTC)
    version = await checkpoint.live_version(conn)
    if not options.resume:
        return await checkpoint.start(conn, version, options.only_missing, now)
    run = await checkpoint.unfinished(conn)
    if run is None:
        raise IngestError("simbad-enrich", None, "no interrupted run to resume: run it without --resume")
    if run.snapshot_version != version:
        raise IngestError("simbad-enrich", None,
                          f"run {run.run_id} walked snapshot {run.snapshot_version}, the live one is now {version} "
                          "(rebuilt since): what it enriched is kept; run 'getstar ingest simbad-enrich "
                          "--only-missing' for the rest")
    await checkpoint.reopen(conn, run, now)
    return run


def _report(run: Run, enrichment: Enrichment | None, limits: TapLimits | None, elapsed: float) -> BuildReport:
    counts = {k: int(v) for k, v in run.counts.items()}
    batches = max(1, counts.get("batches", 0))
    query_ms, store_ms = counts.pop("query_ms", 0), counts.pop("store_ms", 0)
    counts["batch_ms_mean"] = round((query_ms + store_ms) / batches)
    counts["query_ms_mean"] = round(query_ms / batches)  # SIMBAD's part: rate wait, upload, answer, retries
    counts["store_ms_mean"] = round(store_ms / batches)
    if enrichment is not None:
        counts["batch_size"] = enrichment.batch
        counts["simbad_calls"] = enrichment.client.counters["calls"]
    if limits is not None and limits.upload_rows:
        counts["upload_limit_rows"] = limits.upload_rows
    counts["run_id"] = run.run_id
    counts["elapsed_s"] = round(elapsed)
    return BuildReport(counts)


async def enrich(conn: asyncpg.Connection, settings: Settings, options: EnrichOptions,
                 client: TapClient | None = None,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> tuple[Run, BuildReport]:
    """Run (or resume) an enrichment on ``conn``; the report's counts are the run's totals."""
    if not await has_live_snapshot(conn):
        raise IngestError("simbad-enrich", None, "no snapshot to enrich yet: run 'getstar ingest build' first")
    await ensure_tables(conn)
    await checkpoint.ensure_tables(conn)
    if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", checkpoint.RUN_LOCK):
        raise IngestError("simbad-enrich", None, "another simbad-enrich is running on this database")
    redis = None
    own_client = client is None
    if client is None:
        limiter, redis = make_limiter(settings, options.rate)
        # retries are the batch loop's (its backoff is longer), not the client's
        client = TapClient(replace(settings, simbad_timeout=settings.simbad_enrich_timeout, simbad_retries=0,
                                   simbad_max_answer_bytes=settings.simbad_enrich_max_answer_bytes),
                           limiter=limiter, purpose="SIMBAD enrichment")
    started = time.monotonic()
    run = await _open_run(conn, options)
    enrichment: Enrichment | None = None
    limits: TapLimits | None = None
    status = checkpoint.FAILED
    error: str | None = "interrupted"
    try:
        limits = await read_limits(client)
        size = batch_size(options.batch or settings.simbad_enrich_batch, limits)
        enrichment = Enrichment(conn, client, run, limits, size, table_prefix(settings.simbad_table_prefix),
                                options, sleep)
        total = await enrichment.remaining()
        show = sys.stderr.isatty() if options.show_bar is None else options.show_bar
        with tqdm(total=total, unit="star", desc="SIMBAD enrich", file=sys.stderr, disable=not show,
                  dynamic_ncols=True) as bar:
            await enrichment.go(bar)
        status, error = checkpoint.FINISHED, None
    except GetStarError as exc:
        error = exc.message
        raise
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        try:
            await checkpoint.close(conn, run, status, datetime.now(UTC), error)
            await conn.execute("SELECT pg_advisory_unlock($1)", checkpoint.RUN_LOCK)
        except (asyncpg.PostgresError, OSError, asyncpg.InterfaceError) as exc:
            # the connection itself failed: the run stays 'running', and --resume takes it
            log.warning("could not close enrichment run %s: %s", run.run_id, exc)
        if own_client:
            await client.close()
        if redis is not None:
            await redis.aclose()
    return run, _report(run, enrichment, limits, time.monotonic() - started)


async def ingest_enrich(conn: asyncpg.Connection, settings: Settings, options: EnrichOptions,
                        progress: Callable[[str], None]) -> tuple[str, BuildReport]:
    """The ``simbad-enrich`` source: no rebuild, the live snapshot is enriched in place."""
    progress("enriching the snapshot from SIMBAD (TAP upload)")
    run, report = await enrich(conn, settings, options)
    conflicts = await checkpoint.conflicts_of(conn, run.run_id)
    if conflicts:
        print(f"conflicts (reported; not merged unless said; all of them: SELECT * FROM {checkpoint.CONFLICTS} "
              f"WHERE run_id = {run.run_id}):", file=sys.stderr)
        for c in conflicts:
            print(f"  {c['kind']}: {', '.join(c['star_names'])} <-> {', '.join(c['main_ids'])} ({c['detail']})",
                  file=sys.stderr)
    return await checkpoint.live_version(conn), report

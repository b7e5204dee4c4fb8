"""``getstar ingest simbad-names FILE``: ask SIMBAD about a list of names, in bulk.

One name per line (blank lines and ``#`` comments skipped).  Names the snapshot already
resolves, and positions, are not asked.  The rest go through the service's own fallback
(``SimbadFallback``): batched (``simbad_batch_size`` names per ADQL query, ``IN (...)``),
rate limited, stored in the live snapshot and the raw store as they arrive, so an interrupted
run keeps what it learned.  A batch refused because SIMBAD is unavailable is retried after
its Retry-After, a few times.  A tqdm bar shows progress on a terminal.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from pathlib import Path

import asyncpg
from tqdm import tqdm

from getstar import coords, db
from getstar.config import Settings
from getstar.errors import IngestError
from getstar.ingest.build import BuildReport
from getstar.names import ident_key, query_keys
from getstar.schema import LIVE, has_live_snapshot
from getstar.simbad.fallback import Outcome, SimbadFallback

#: Attempts per batch when SIMBAD is unavailable, and the longest pause between them (s).
BATCH_ATTEMPTS = 4
MAX_PAUSE = 120.0
#: A bulk run may queue this long for a rate-limit slot (it is alone, and in no hurry).
BULK_MAX_WAIT = 60.0

KNOWN_SQL = f"""
SELECT DISTINCT q.qi FROM unnest($1::int[], $2::text[]) AS q(qi, key) JOIN {LIVE}.ident i ON i.key = q.key
"""


def read_names(paths: Sequence[Path]) -> list[str]:
    """Names of the files, in order, each once (by matching key)."""
    if not paths:
        raise IngestError("simbad-names", None, "give a file with one name per line")
    seen: dict[str, str] = {}
    for path in paths:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise IngestError(str(path), None, f"cannot read: {exc}") from None
        for line in lines:
            name = line.strip()
            if name and not name.startswith("#"):
                seen.setdefault(ident_key(name), name)
    return [name for key, name in seen.items() if key]


async def unknown_locally(pool: asyncpg.Pool, names: Sequence[str]) -> list[str]:
    """The names no identifier of the snapshot matches (positions left out)."""
    idx: list[int] = []
    keys: list[str] = []
    for i, name in enumerate(names):
        if coords.looks_like_position(name):
            continue
        for key in query_keys(name):
            idx.append(i)
            keys.append(key)
    async with pool.acquire() as conn:
        known = {r["qi"] for r in await conn.fetch(KNOWN_SQL, idx, keys)} if keys else set()
    asked = set(idx)
    return [n for i, n in enumerate(names) if i in asked and i not in known]


async def lookup_batch(fallback: SimbadFallback, names: list[str],
                       sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> list[Outcome]:
    """Outcomes of one batch; names SIMBAD could not be asked about are retried (Retry-After)."""
    outcomes = await fallback.lookup(names, max_wait=BULK_MAX_WAIT, patient=True)
    for _ in range(BATCH_ATTEMPTS - 1):
        failed = [i for i, o in enumerate(outcomes) if o.error is not None]
        if not failed:
            break
        pause = max((outcomes[i].error.retry_after or 1.0) for i in failed)  # type: ignore[union-attr]
        await sleep(min(MAX_PAUSE, pause))
        again = await fallback.lookup([names[i] for i in failed], max_wait=BULK_MAX_WAIT, patient=True)
        for i, outcome in zip(failed, again, strict=True):
            outcomes[i] = outcome
    return outcomes


async def run_bulk(pool: asyncpg.Pool, fallback: SimbadFallback, names: Sequence[str], batch_size: int,
                   show_bar: bool | None = None) -> dict[str, int]:
    todo = await unknown_locally(pool, names)
    counts = {"names": len(names), "known_locally": len(names) - len(todo), "learned": 0, "unknown": 0,
              "failed": 0}
    with tqdm(total=len(todo), unit="name", desc="SIMBAD", file=sys.stderr,
              disable=not sys.stderr.isatty() if show_bar is None else not show_bar) as bar:
        for start in range(0, len(todo), batch_size):
            chunk = list(todo[start:start + batch_size])
            for outcome in await lookup_batch(fallback, chunk):
                key = "failed" if outcome.error else "learned" if outcome.star_ids else "unknown"
                counts[key] += 1
            bar.update(len(chunk))
            bar.set_postfix(learned=counts["learned"], unknown=counts["unknown"], failed=counts["failed"])
    return counts


async def ingest_names(conn: asyncpg.Connection, dsn: str, settings: Settings, paths: Sequence[Path],
                       progress: Callable[[str], None]) -> tuple[str, BuildReport]:
    """The ``simbad-names`` source: no rebuild, the live snapshot grows in place."""
    names = read_names(paths)
    if not await has_live_snapshot(conn):
        raise IngestError(str(paths[0]), None, "no snapshot to add to yet: run 'getstar ingest build' first")
    version = str(await conn.fetchval(f"SELECT version FROM {LIVE}.snapshot_info LIMIT 1"))
    progress(f"asking SIMBAD about {len(names)} names from {', '.join(map(str, paths))}")
    pool = await db.create_pool(dsn, replace(settings, pool_min=1, pool_max=2))
    fallback = SimbadFallback(settings, pool)
    try:
        counts = await run_bulk(pool, fallback, names, max(1, settings.simbad_batch_size))
    finally:
        await fallback.close()
        await pool.close()
    counts["simbad_calls"] = fallback.client.counters["calls"]
    return version, BuildReport(counts)

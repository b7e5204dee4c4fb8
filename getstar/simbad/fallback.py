"""The SIMBAD fallback the resolver calls for names the snapshot lacks.

Per name: the negative cache first (SIMBAD said "unknown" recently: no query), then single
flight (concurrent requests for one missing name share one SIMBAD query), then one TAP query
per batch of names, then the answer is stored (``store.learn``: live snapshot + raw store, one
transaction) and the caller gets the star ids to read back from the snapshot.  The fetch runs
in a task of its own: a client that goes away does not cancel what others wait for.

A request waits ``simbad_request_budget`` seconds at most for all its names (the SPEC: a slow
SIMBAD must not make a request slow); past it, a name is answered "SIMBAD did not answer in
time" while its query goes on, within the client's own timeout and retries, and what SIMBAD
answers is stored (or remembered as unknown) for the next request.  The bulk tools wait for
the whole query (``patient``).

The outcome per name is ``Outcome``: star ids (found and stored), none (SIMBAD does not know
the name: remembered in the negative cache), or an error (``ServiceUnavailable`` /
``UpstreamTimeout``: the caller answers not found for now, with Retry-After; nothing is cached).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx

from getstar.config import Settings
from getstar.errors import GetStarError, ServiceUnavailable, UpstreamTimeout
from getstar.names import canonical, ident_key, query_keys
from getstar.simbad.adql import lookup_query, table_prefix
from getstar.simbad.client import DEFAULT_RETRY_AFTER, TapClient
from getstar.simbad.learned import ensure_tables
from getstar.simbad.negcache import MemoryNegativeCache, NegativeCache
from getstar.simbad.parse import SimbadObject
from getstar.simbad.singleflight import SingleFlight
from getstar.simbad.store import learn

log = logging.getLogger("getstar.simbad")

#: Longer "names" are not identifiers; they are never sent to SIMBAD.
MAX_NAME = 200
_BLANKS = re.compile(r"\s+")


@dataclass(frozen=True)
class Outcome:
    """What the fallback made of one name."""

    star_ids: tuple[int, ...] = ()
    error: GetStarError | None = None


def literals(name: str) -> list[str]:
    """Spellings sent to SIMBAD for a name: as typed, and in SIMBAD's own spelling."""
    return list(dict.fromkeys(s for s in (name.strip(), canonical(name)) if s))


def _loose(text: str) -> str:
    """SIMBAD's identifier matching ignores case, blanks and the 'NAME ' prefix."""
    s = _BLANKS.sub("", text).upper()
    return s[4:] if s.startswith("NAME") and len(s) > 4 else s


def attribute(chunk: Sequence[tuple[str, str]], objects: Sequence[SimbadObject]) -> dict[str, list[SimbadObject]]:
    """Which returned objects answer which queried name (a batch answer is one flat list)."""
    if len(chunk) == 1:
        return {chunk[0][0]: list(objects)}
    out: dict[str, list[SimbadObject]] = {}
    for name, _key in chunk:
        wanted = {_loose(s) for s in literals(name)}
        hits = [o for o in objects if any(_loose(m) in wanted for m in o.matched)]
        if not hits:
            keys = set(query_keys(name))
            hits = [o for o in objects if keys & o.ident_keys()]
        out[name] = hits
    return out


def _aliases(by_name: dict[str, list[SimbadObject]]) -> dict[int, list[str]]:
    """Names resolved to one object but spelled unlike all its identifiers: stored as aliases."""
    aliases: dict[int, list[str]] = {}
    for name, objs in by_name.items():
        if len(objs) == 1 and not set(query_keys(name)) & objs[0].ident_keys():
            aliases.setdefault(objs[0].oid, []).append(canonical(name))
    return aliases


class SimbadFallback:
    def __init__(self, settings: Settings, pool: asyncpg.Pool, *, client: TapClient | None = None,
                 negative: NegativeCache | None = None, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.pool = pool
        self.prefix = table_prefix(settings.simbad_table_prefix)
        self.client = client if client is not None else TapClient(settings, transport=transport)
        self.negative: NegativeCache = (negative if negative is not None  # (an empty cache is falsy)
                                        else MemoryNegativeCache(settings.simbad_negative_ttl))
        self.batch_size = max(1, settings.simbad_batch_size)
        self.budget = settings.simbad_request_budget
        self.flights: SingleFlight[Outcome] = SingleFlight()
        self.counters = {"lookups": 0, "hits": 0, "misses": 0, "negative_cache_hits": 0,
                         "unavailable": 0, "learned": 0, "budget_exceeded": 0}
        self._tasks: set[asyncio.Task[None]] = set()
        self._tables_ready = False

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.client.close()

    async def lookup(self, names: Sequence[str], *, max_wait: float | None = None,
                     patient: bool = False) -> list[Outcome]:
        """One ``Outcome`` per name, in order (``max_wait``: how long to queue for a rate slot).

        Within the request budget unless ``patient`` (the bulk tools: wait for the whole query).
        """
        deadline = None if patient else asyncio.get_running_loop().time() + self.budget
        outcomes: list[Outcome] = [Outcome()] * len(names)
        waiting: list[tuple[int, asyncio.Future[Outcome]]] = []
        leading: list[tuple[str, str]] = []
        for i, name in enumerate(names):
            self.counters["lookups"] += 1
            key = ident_key(name) if len(name) <= MAX_NAME else ""
            if not key:
                continue
            if await self.negative.contains(key):
                self.counters["negative_cache_hits"] += 1
                continue
            fut, leader = self.flights.join(key)
            if leader:
                leading.append((name, key))
            waiting.append((i, fut))
        for start in range(0, len(leading), self.batch_size):
            task = asyncio.create_task(self._fetch(leading[start:start + self.batch_size], max_wait))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        for i, fut in waiting:
            outcomes[i] = await self._wait(fut, deadline)
        return outcomes

    async def _wait(self, fut: asyncio.Future[Outcome], deadline: float | None) -> Outcome:
        """The flight's outcome, or "no answer in time" once the request's budget is spent (the
        flight goes on: what SIMBAD answers is kept for the next request)."""
        try:
            async with asyncio.timeout_at(deadline):
                return await self.flights.wait(fut)
        except TimeoutError:
            self.counters["budget_exceeded"] += 1
            return Outcome(error=UpstreamTimeout(f"SIMBAD did not answer within {self.budget:g} s",
                                                 retry_after=DEFAULT_RETRY_AFTER))

    async def _fetch(self, chunk: list[tuple[str, str]], max_wait: float | None) -> None:
        """Ask SIMBAD for a batch of names, store the answer, settle every name's flight."""
        settled: set[str] = set()

        def settle(key: str, outcome: Outcome) -> None:
            settled.add(key)
            self.flights.settle(key, outcome)

        try:
            adql = lookup_query([lit for name, _ in chunk for lit in literals(name)], self.prefix)
            objects = await self.client.query(adql, max_wait=max_wait)
            by_name = attribute(chunk, objects)
            stored = await self._store(objects, _aliases(by_name)) if objects else {}
            for name, key in chunk:
                ids = tuple(dict.fromkeys(stored[o.oid] for o in by_name[name] if o.oid in stored))
                if ids:
                    self.counters["hits"] += 1
                else:
                    self.counters["misses"] += 1
                    await self.negative.add(key)
                settle(key, Outcome(ids))
        except GetStarError as exc:
            self._fail(chunk, settled, exc)
        except Exception:  # the database could not take SIMBAD's answer
            log.exception("storing SIMBAD's answer failed")
            self._fail(chunk, settled, ServiceUnavailable("SIMBAD's answer could not be stored",
                                                          retry_after=5))
        finally:  # cancelled (shutdown): nobody may wait forever
            self._fail(chunk, settled, ServiceUnavailable("the SIMBAD fallback is shutting down", retry_after=5))

    def _fail(self, chunk: Sequence[tuple[str, str]], settled: set[str], error: GetStarError) -> None:
        for _name, key in chunk:
            if key not in settled:
                settled.add(key)
                self.counters["unavailable"] += 1
                self.flights.settle(key, Outcome(error=error))

    async def _store(self, objects: Sequence[SimbadObject], aliases: dict[int, list[str]]) -> dict[int, int]:
        async with self.pool.acquire() as conn:
            if not self._tables_ready:
                await ensure_tables(conn)
                self._tables_ready = True
            stored = await learn(conn, objects, datetime.now(UTC), aliases)
        self.counters["learned"] += len(stored)
        return stored

    def status(self) -> dict[str, Any]:
        """For /health: breaker state, last error, counters."""
        c = self.client.status()
        return {
            "enabled": True,
            "url": c["url"],
            "table_prefix": self.prefix,
            "breaker": c["breaker"],
            "last_error": c["last_error"],
            "retry_after_hold_s": c["retry_after_hold_s"],
            "in_flight": len(self.flights),
            "counters": {"calls": c["calls"], "hits": self.counters["hits"], "misses": self.counters["misses"],
                         "errors": c["errors"], "retries": c["retries"], "rejected": c["rejected"],
                         "lookups": self.counters["lookups"],
                         "negative_cache_hits": self.counters["negative_cache_hits"],
                         "unavailable": self.counters["unavailable"], "learned": self.counters["learned"],
                         "budget_exceeded": self.counters["budget_exceeded"]},
        }

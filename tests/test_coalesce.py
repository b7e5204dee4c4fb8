"""Lookups of concurrent requests coalesced into one statement (getstar.coalesce), on the real
PostgreSQL: statements shared, bounds kept, errors and cancellations confined, answers equal."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from getstar.coalesce import LookupCoalescer
from getstar.config import Settings
from getstar.db import create_pool
from getstar.resolver import CELL_CONE_SQL, CONE_SQL, NAMES_SQL, ConeQuery, Resolver

# every row says which statement it came from (statement_timestamp) and what it was asked;
# each statement sleeps, so the lookups made meanwhile queue; 'boom' makes a statement fail on a
# value (a DataError), 'deny' fail otherwise (an unknown setting: not a value's fault)
ECHO_SQL = """
SELECT q.qi, q.key, statement_timestamp() AS at, 1 / (CASE WHEN q.key = 'boom' THEN 0 ELSE 1 END) AS one,
       CASE WHEN q.key = 'deny' THEN current_setting('getstar.no_such_setting') END AS denied
FROM unnest($1::int[], $2::text[]) AS q(qi, key), (SELECT pg_sleep(0.05)) AS slow
"""


@pytest_asyncio.fixture()
async def pool(snapshot_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    p = await create_pool(snapshot_dsn, Settings.from_env())
    yield p
    await p.close()


async def _settled(co: LookupCoalescer) -> bool:
    """Whether every slot is given back once the statements' tasks have ended (their end is
    seen a loop turn after their requests are answered)."""
    for _ in range(100):
        if not co._tasks:
            break
        await asyncio.sleep(0.01)
    return co._inflight == 0 and not co._queue and not co._tasks


async def _echo(co: LookupCoalescer, k: int) -> dict[int, list[asyncpg.Record]]:
    return await co.lookup([0, 1], [f"r{k}a", f"r{k}b"])


async def test_lookups_made_meanwhile_share_the_next_statement(pool: asyncpg.Pool) -> None:
    co = LookupCoalescer(pool, ECHO_SQL, "test", max_inflight=1)
    results = await asyncio.gather(*(_echo(co, k) for k in range(10)))
    for k, result in enumerate(results):  # each request gets its own rows, by its own indexes
        assert sorted(result) == [0, 1]
        assert [r["key"] for r in result[0]] == [f"r{k}a"] and [r["key"] for r in result[1]] == [f"r{k}b"]
    statements = {rows[0]["at"] for result in results for rows in result.values()}
    assert len(statements) == 2  # the first alone (sent at once), the nine queued behind it together


async def test_a_lone_lookup_goes_at_once_and_inflight_is_bounded(pool: asyncpg.Pool) -> None:
    co = LookupCoalescer(pool, ECHO_SQL, "test", max_inflight=3)
    results = await asyncio.gather(*(_echo(co, k) for k in range(10)))
    statements = {rows[0]["at"] for result in results for rows in result.values()}
    assert len(statements) == 4  # three sent at once, the seven queued together after the first ends
    assert await _settled(co)


async def test_a_statement_holds_at_most_max_rows(pool: asyncpg.Pool) -> None:
    co = LookupCoalescer(pool, ECHO_SQL, "test", max_inflight=1, max_rows=4)
    results = await asyncio.gather(*(_echo(co, k) for k in range(9)))
    by_statement: dict[object, set[str]] = {}
    for result in results:
        for rows in result.values():
            by_statement.setdefault(rows[0]["at"], set()).add(rows[0]["key"])
    assert all(len(keys) <= 4 for keys in by_statement.values())
    assert len(by_statement) == 5  # 1 alone, then 8 queued two by two


async def test_a_request_bigger_than_max_rows_still_goes(pool: asyncpg.Pool) -> None:
    co = LookupCoalescer(pool, ECHO_SQL, "test", max_rows=2)
    result = await co.lookup([0, 1, 2], ["a", "b", "c"])
    assert [result[i][0]["key"] for i in range(3)] == ["a", "b", "c"]


async def test_a_value_failing_a_shared_statement_fails_its_request_only(pool: asyncpg.Pool) -> None:
    co = LookupCoalescer(pool, ECHO_SQL, "test", max_inflight=1)
    first = asyncio.ensure_future(co.lookup([0], ["fine"]))
    await asyncio.sleep(0)  # sent alone
    queued = [asyncio.ensure_future(co.lookup([0], [key])) for key in ("innocent", "boom", "bystander")]
    assert (await first)[0][0]["key"] == "fine"
    assert (await queued[0])[0][0]["key"] == "innocent"  # the shared statement failed: each went alone
    with pytest.raises(asyncpg.DivisionByZeroError):
        await queued[1]
    assert (await queued[2])[0][0]["key"] == "bystander"
    assert (await co.lookup([0], ["after"]))[0][0]["key"] == "after"  # the coalescer goes on
    assert await _settled(co)


async def test_one_bad_value_among_many_costs_a_few_statements(pool: asyncpg.Pool) -> None:
    """The halves of a statement failed on a value go again, not each request: one bad value
    among 16 requests costs ~2 log2(16) statements, not 16 (a stream of bad values must not
    turn the coalescer into one statement per request)."""
    from getstar.metrics import DB_QUERIES

    co = LookupCoalescer(pool, ECHO_SQL, "test-halves", max_inflight=1)
    first = asyncio.ensure_future(co.lookup([0], ["first"]))
    await asyncio.sleep(0)
    keys = [f"k{i}" for i in range(16)]
    keys[11] = "boom"
    queued = [asyncio.ensure_future(co.lookup([0], [key])) for key in keys]
    await first
    before = DB_QUERIES.labels("test-halves")._value.get()
    outcomes = await asyncio.gather(*queued, return_exceptions=True)
    statements = DB_QUERIES.labels("test-halves")._value.get() - before
    assert isinstance(outcomes[11], asyncpg.DivisionByZeroError)
    assert [o[0][0]["key"] for i, o in enumerate(outcomes) if i != 11] == [k for i, k in enumerate(keys) if i != 11]
    assert statements <= 8  # the halves that succeed: 8 + 4 + 2 + 1 (the failing ones count no statement)


async def test_a_request_cancelled_while_its_half_goes_again_fails_no_other(pool: asyncpg.Pool) -> None:
    co = LookupCoalescer(pool, ECHO_SQL, "test", max_inflight=1)
    first = asyncio.ensure_future(co.lookup([0], ["first"]))
    await asyncio.sleep(0)
    boom = asyncio.ensure_future(co.lookup([0], ["boom"]))
    victim = asyncio.ensure_future(co.lookup([0], ["victim"]))  # its client goes while it is sent again
    bystander = asyncio.ensure_future(co.lookup([0], ["bystander"]))
    await first
    while not boom.done():
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.02)  # the victim's half is running now
    victim.cancel()
    with pytest.raises(asyncpg.DivisionByZeroError):
        await boom
    with pytest.raises(asyncio.CancelledError):
        await victim
    assert (await bystander)[0][0]["key"] == "bystander"
    assert (await co.lookup([0], ["after"]))[0][0]["key"] == "after"
    assert await _settled(co)


async def test_a_statement_task_cancelled_before_it_ran_gives_its_slot_back(pool: asyncpg.Pool) -> None:
    co = LookupCoalescer(pool, ECHO_SQL, "test", max_inflight=1)
    lost = asyncio.ensure_future(co.lookup([0], ["lost"]))
    await asyncio.sleep(0)  # sent: its task is made, not started
    for task in list(co._tasks):
        task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await lost
    assert await _settled(co)
    assert (await asyncio.wait_for(co.lookup([0], ["next"]), 10))[0][0]["key"] == "next"


async def test_a_failure_not_of_a_value_fails_the_statements_requests(pool: asyncpg.Pool) -> None:
    """Only a value's fault (a DataError) is worth sending each request again; any other failure
    of a statement (the database down, a timeout) fails its requests at once."""
    co = LookupCoalescer(pool, ECHO_SQL, "test", max_inflight=1)
    first = asyncio.ensure_future(co.lookup([0], ["first"]))
    await asyncio.sleep(0)
    queued = [asyncio.ensure_future(co.lookup([0], [key])) for key in ("a", "deny")]
    assert (await first)[0][0]["key"] == "first"
    for task in queued:
        with pytest.raises(asyncpg.UndefinedObjectError):
            await task
    assert await _settled(co)


async def test_a_request_cancelled_while_queued_is_left_out(pool: asyncpg.Pool) -> None:
    co = LookupCoalescer(pool, ECHO_SQL, "test", max_inflight=1)
    first = asyncio.ensure_future(co.lookup([0], ["first"]))
    await asyncio.sleep(0)
    cancelled = asyncio.ensure_future(co.lookup([0], ["boom"]))  # would fail the statement it goes in
    kept = asyncio.ensure_future(co.lookup([0], ["kept"]))
    await asyncio.sleep(0)
    cancelled.cancel()
    assert (await first)[0][0]["key"] == "first"
    assert (await kept)[0][0]["key"] == "kept"
    assert cancelled.cancelled()


async def _names(conn: asyncpg.Connection) -> list[str]:
    """Real identifiers of the snapshot, plus names it has not, positions and multiple systems."""
    names = [r["id"] for r in await conn.fetch(
        "SELECT id FROM live.ident TABLESAMPLE SYSTEM (5) REPEATABLE (3) ORDER BY id LIMIT 120")]
    return names + ["Sirius", "alf Cen", "Betelgeuze", "no such star", "06 45 08.9 -16 42 58", "HD 48915",
                    "gam1 And", "xyzzy 12"]


def _summary(answers):  # type: ignore[no-untyped-def]
    return [(a.query, a.status, a.star["main_id"] if a.star is not None else None, a.identifiers, a.system,
             a.candidates, a.separation_arcsec) for a in answers]


async def test_coalesced_answers_equal_one_statement_each(pool: asyncpg.Pool) -> None:
    """The resolver's answers, requests made at once through the coalescers, are those it gives
    each request alone with a statement of its own."""
    async with pool.acquire() as conn:
        names = await _names(conn)
    names_co = LookupCoalescer(pool, NAMES_SQL, "names", max_inflight=1)
    cones_co = LookupCoalescer(pool, CONE_SQL, "cone", max_inflight=1)
    cells_co = LookupCoalescer(pool, CELL_CONE_SQL, "cone", max_inflight=1)
    requests = [names[i:i + 3] for i in range(0, len(names), 3)]
    alone = [await Resolver(pool).resolve_names(r, suggest=False) for r in requests]
    together = await asyncio.gather(*(Resolver(pool, coalescer=names_co, cone_coalescer=cones_co,
                                               cell_coalescer=cells_co)
                                      .resolve_names(r, suggest=False) for r in requests))
    assert [_summary(a) for a in together] == [_summary(a) for a in alone]
    assert sum(a.status == "ok" for r in alone for a in r) >= 100

    async with pool.acquire() as conn:
        stars = await conn.fetch("SELECT ra, dec FROM live.star TABLESAMPLE SYSTEM (2) REPEATABLE (5) LIMIT 60")
    cones = [ConeQuery(s["ra"] + 0.0001, s["dec"], 30 / 3600, 5, 2001.0 if i % 2 else None)
             for i, s in enumerate(stars)]
    alone_cones = [await Resolver(pool).cone(q) for q in cones]
    together_cones = await asyncio.gather(*(Resolver(pool, cone_coalescer=cones_co, cell_coalescer=cells_co).cone(q)
                                            for q in cones))
    assert [_summary(a) for a in together_cones] == [_summary(a) for a in alone_cones]
    assert all(a for a in alone_cones)


async def test_a_cone_far_in_time_goes_alone(pool: asyncpg.Pool) -> None:
    """An epoch widens the searched radius by the fastest proper motion over the interval (3
    degrees for 1,000 years): such a cone has a statement of its own, however small its radius."""
    star = await pool.fetchrow("SELECT ra, dec FROM live.star WHERE p_pmra IS NULL AND ra IS NOT NULL LIMIT 1")
    refusing = LookupCoalescer(pool, "SELECT no_such_column", "test")  # fails if it is used
    resolver = Resolver(pool, cone_coalescer=refusing)
    assert await resolver.cone(ConeQuery(star["ra"], star["dec"], 10 / 3600, 5, 1000.0))  # found, alone
    with pytest.raises(asyncpg.UndefinedColumnError):  # 10" and 11" of margin: it would go with others
        await resolver.cone(ConeQuery(star["ra"], star["dec"], 10 / 3600, 5, 2001.0))


SLOW_SQL = ECHO_SQL.replace("pg_sleep(0.05)", "pg_sleep(0.8)")


async def test_a_lookup_queued_past_its_deadline_fails_and_the_others_go_on(pool: asyncpg.Pool) -> None:
    """A queued lookup waits at most ``acquire_timeout`` for a statement to take it (a 503, as a
    request waiting that long for a connection), not for every statement ahead of it."""
    co = LookupCoalescer(pool, SLOW_SQL, "test", max_inflight=1, acquire_timeout=0.2)
    loop = asyncio.get_running_loop()
    first = asyncio.ensure_future(co.lookup([0], ["first"]))
    await asyncio.sleep(0)
    start = loop.time()
    with pytest.raises(TimeoutError):
        await co.lookup([0], ["queued"])
    assert 0.15 < loop.time() - start < 0.6  # at its deadline, while the first statement still runs
    assert not first.done()
    assert (await first)[0][0]["key"] == "first"
    assert await _settled(co)
    assert (await co.lookup([0], ["after"]))[0][0]["key"] == "after"  # nothing left behind


async def test_lookups_sent_before_their_deadline_are_answered(pool: asyncpg.Pool) -> None:
    co = LookupCoalescer(pool, ECHO_SQL, "test", max_inflight=1, acquire_timeout=1.0)
    results = await asyncio.gather(*(_echo(co, k) for k in range(10)))
    assert [r[0][0]["key"] for r in results] == [f"r{k}a" for k in range(10)]
    assert await _settled(co)

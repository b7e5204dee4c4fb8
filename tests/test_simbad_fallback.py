"""The fallback's flow without a database: single flight, negative cache, batching, errors.

Names SIMBAD does not know (the recorded empty answer) never reach the store, so these tests
need no snapshot; storing is covered end to end in test_simbad_e2e.py.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from getstar.errors import ServiceUnavailable
from getstar.simbad.fallback import attribute, literals
from getstar.simbad.parse import parse_votable
from tests.simbad_standin import FakeClock, Gate, Replay, fallback_with, mock_transport, names_in, recorded


async def test_50_concurrent_lookups_of_one_missing_name_make_one_simbad_query() -> None:
    gate = Gate(Replay())
    fb = fallback_with(gate)
    lookups = [asyncio.create_task(fb.lookup(["Zork Prime"])) for _ in range(50)]
    await gate.arrived.wait()
    gate.open.set()
    outcomes = await asyncio.gather(*lookups)
    assert gate.replay.calls == 1
    assert all(o == [type(o[0])()] for o in outcomes)  # unknown: no stars, no error
    assert fb.counters["misses"] == 1 and len(fb.flights) == 0
    # now remembered: the 51st asks nobody
    assert (await fb.lookup(["zork  prime"]))[0].star_ids == ()
    assert gate.replay.calls == 1 and fb.counters["negative_cache_hits"] == 1
    await fb.close()


async def test_negative_cache_expires_after_its_ttl() -> None:
    replay = Replay()
    clock = FakeClock()
    fb = fallback_with(mock_transport(replay).handler, clock,
                       simbad_negative_ttl=600)
    await fb.lookup(["Zork Prime"])
    await fb.lookup(["Zork Prime"])
    assert replay.calls == 1
    clock.now += 601
    await fb.lookup(["Zork Prime"])
    assert replay.calls == 2


async def test_a_failed_lookup_is_shared_and_not_remembered() -> None:
    gate = Gate(Replay(), fail=True)
    fb = fallback_with(gate, simbad_retries=0)
    lookups = [asyncio.create_task(fb.lookup(["Zork Prime"])) for _ in range(20)]
    await gate.arrived.wait()
    gate.open.set()
    outcomes = [o[0] for o in await asyncio.gather(*lookups)]
    assert gate.replay.calls == 1
    assert all(isinstance(o.error, ServiceUnavailable) and o.star_ids == () for o in outcomes)
    assert fb.counters["unavailable"] == 1
    assert not await fb.negative.contains("ZORK PRIME")  # an outage is not "unknown"
    gate.fail = False
    await fb.lookup(["Zork Prime"])
    assert gate.replay.calls == 2


async def test_a_caller_that_goes_away_does_not_cancel_the_shared_query() -> None:
    gate = Gate(Replay())
    fb = fallback_with(gate)
    quitter = asyncio.create_task(fb.lookup(["Zork Prime"]))
    stayer = asyncio.create_task(fb.lookup(["Zork Prime"]))
    await gate.arrived.wait()
    quitter.cancel()
    await asyncio.sleep(0)
    gate.open.set()
    assert (await stayer)[0].error is None
    assert gate.replay.calls == 1


async def test_missing_names_of_one_request_share_one_query() -> None:
    replay = Replay()
    fb = fallback_with(mock_transport(replay).handler)
    outcomes = await fb.lookup(["Zork Prime", "alpha Zork", "Zork Prime", "zork prime"])
    assert len(outcomes) == 4 and replay.calls == 1
    asked = names_in(replay.queries[0])
    assert asked == ["Zork Prime", "alpha Zork"]  # once each: same key is the same name


async def test_batches_follow_the_batch_size() -> None:
    replay = Replay()
    fb = fallback_with(mock_transport(replay).handler, simbad_batch_size=2)
    await fb.lookup(["Zork 1", "Zork 2", "Zork 3", "Zork 4", "Zork 5"])
    assert replay.calls == 3
    assert [len(names_in(q)) for q in replay.queries] == [2, 2, 1]


async def test_names_that_are_no_identifiers_are_not_asked() -> None:
    replay = Replay()
    fb = fallback_with(mock_transport(replay).handler)
    outcomes = await fb.lookup(["   ", "x" * 201])
    assert replay.calls == 0 and all(o.star_ids == () and o.error is None for o in outcomes)


def test_literals_send_the_typed_name_and_simbads_spelling() -> None:
    assert literals("alpha CMa") == ["alpha CMa", "* alf CMa"]
    assert literals(" M 1 ") == ["M 1"]


def test_batch_answers_are_attributed_by_matched_identifier() -> None:
    objects = (parse_votable(recorded("tap_query_object_M1.vot"))
               + parse_votable(recorded("cone_barnards_star_mivot.vot")))
    objects[1].matched.append("NAME Barnard's Star c")
    chunk = [("m1", "M 1"), ("Barnard's star c", "BARNARD'S STAR C"), ("Zork", "ZORK")]
    by_name = attribute(chunk, objects)
    assert [o.main_id for o in by_name["m1"]] == ["M   1"]
    assert [o.main_id for o in by_name["Barnard's star c"]] == ["NAME Barnard's Star c"]
    assert by_name["Zork"] == []


async def test_status_reports_breaker_counters_and_last_error() -> None:
    fb = fallback_with(lambda r: httpx.Response(503), simbad_retries=0, simbad_breaker_threshold=1)
    (outcome,) = await fb.lookup(["Zork Prime"])
    assert isinstance(outcome.error, ServiceUnavailable)
    status = fb.status()
    assert status["enabled"] is True and status["breaker"]["state"] == "open"
    assert "HTTP 503" in status["last_error"]["message"]
    for counter in ("calls", "hits", "misses", "errors"):
        assert counter in status["counters"]
    assert status["counters"]["calls"] == 1 and status["counters"]["errors"] == 1
    with pytest.raises(ServiceUnavailable):  # and it stays shut without asking SIMBAD
        raise (await fb.lookup(["Zork Two"]))[0].error or AssertionError("no error")
    assert fb.status()["counters"]["calls"] == 1

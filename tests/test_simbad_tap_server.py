"""The fallback against a REAL TAP server: GAVO DaCHS (Debian ``gavodachs2-server``).

The fixture starts everything itself: a private PostgreSQL cluster (getstar's EmbeddedCluster,
pgSphere installed), a DaCHS configuration under a temporary root (``GAVOSETTINGS``, a free
loopback port), ``dachs init`` against that cluster, ``dachs imp`` of the SIMBAD-shaped
resource in ``tests/tap_server/simbadlike`` (schema ``simbadlike``: basic, ident, ids, alltypes,
flux, with values of recorded SIMBAD answers), and ``dachs serve debug``.  So the ADQL getstar sends
must pass a real ADQL parser, and its answers are read as they come from a real service.
Skips, saying why, when DaCHS or pgSphere is not installed (``deploy/dev.sh test`` installs
both).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from getstar.config import Settings
from getstar.errors import ServiceUnavailable
from getstar.ingest.pipeline import run_ingest
from getstar.simbad.adql import lookup_query
from getstar.simbad.client import TapClient
from tests.conftest import LiveServer
from tests.simbad_standin import simbad_settings
from tests.tap_server.dachs import missing, running_dachs

pytestmark = pytest.mark.tap_server

SCHEMA = "simbadlike"


@pytest.fixture(scope="module")
def dachs() -> Iterator[str]:
    """The TAP sync URL of a DaCHS serving the SIMBAD-shaped tables."""
    reason = missing()
    if reason:
        pytest.skip(reason)
    with running_dachs([SCHEMA]) as base:
        yield base + "/sync"


def dachs_client(url: str, **changes: Any) -> TapClient:
    return TapClient(simbad_settings(simbad_tap_url=url, simbad_table_prefix=SCHEMA, **changes))


async def test_our_adql_is_accepted_by_a_real_adql_parser(dachs: str) -> None:
    client = dachs_client(dachs)
    try:
        objects = await client.query(lookup_query(["HIP 32349", "NAME Barnard's Star c", "M   1", "Zork"], SCHEMA))
    finally:
        await client.close()
    by_name = {o.main_id: o for o in objects}
    assert set(by_name) == {"* alf CMa", "NAME Barnard's Star c", "M   1"}
    sirius = by_name["* alf CMa"]
    assert sirius.oid == 9001 and sirius.matched == ["HIP 32349"] and len(sirius.identifiers) == 63
    assert (sirius.values["flux_v"], sirius.values["flux_v_qual"], sirius.values["flux_b"]) == (-1.46, "C", None)
    assert (sirius.values["plx"], sirius.values["pm_qual"]) == (379.21, "A")
    assert sirius.values["otypes"] == "SB*|*|PM*|V*|UV|IR|**"
    assert by_name["NAME Barnard's Star c"].values["otype"] == "Planet"
    assert by_name["M   1"].values["coo_err_maj"] == 18500  # no flux at all: the outer joins keep it


@pytest.mark.parametrize("name", ["x' OR '1'='1", "') OR ('1'='1", "'; DELETE FROM simbadlike.ident; --",
                                  "NAME Barnard''s Star c", "\\' OR 1=1 --"])
async def test_a_quote_cannot_change_the_query_on_a_real_server(dachs: str, name: str) -> None:
    client = dachs_client(dachs)
    try:
        assert await client.query(lookup_query([name], SCHEMA)) == []  # one literal, matching nothing
        (still,) = await client.query(lookup_query(["M   1"], SCHEMA))  # and nothing was changed
    finally:
        await client.close()
    assert still.main_id == "M   1"


async def test_a_real_servers_error_answer_is_a_clear_503(dachs: str, caplog: pytest.LogCaptureFixture) -> None:
    client = dachs_client(dachs, simbad_retries=2)
    try:
        with pytest.raises(ServiceUnavailable, match="refused the query") as info:
            await client.query(f"SELECT b.oid FROM {SCHEMA}.basic AS b LEFT JOIN {SCHEMA}.ids AS i ON i.oidref = b.oid")
        assert client.counters["calls"] == 1  # QUERY_STATUS=ERROR is not retried
        # the service's own words (quoting the query) are for the log, not for clients
        assert "Could not parse" not in info.value.message and "Could not parse" in caplog.text
        with pytest.raises(ServiceUnavailable, match="refused the query"):
            await client.query(f"SELECT nosuchcolumn FROM {SCHEMA}.basic")
    finally:
        await client.close()


def test_fallback_end_to_end_against_dachs(dachs: str, make_database: Any, settings: Settings) -> None:
    dsn = make_database("simbad_dachs")
    asyncio.run(run_ingest(dsn, settings, "synthetic", [], progress=lambda _label: None, rows=50))
    cfg = replace(settings, simbad_enabled=True, simbad_tap_url=dachs, simbad_table_prefix=SCHEMA)
    server = LiveServer(dsn, cfg)
    server.start()
    try:
        def get(name: str) -> Any:
            r = httpx.get(server.url + "/v1/stars", params={"name": name}, timeout=30)
            assert r.status_code == 200, r.text
            return r.json()["results"][0]

        sirius = get("NAME Sirius")
        assert sirius["main_id"] == "* alf CMa" and len(sirius["identifiers"]) == 63
        assert sirius["properties"]["V"] == {"value": -1.46, "origin": "SIMBAD", "confidence": "MEDIUM"}
        assert sirius["properties"]["pmRa"]["confidence"] == "HIGH"  # pm_qual A
        # all of SIMBAD's object types (table alltypes), in GetStar's form: the full list, HIGH
        assert sirius["properties"]["ObjTypes"] == {"value": ",SB*,*,PM*,V*,UV,IR,**,", "origin": "SIMBAD",
                                                    "confidence": "HIGH"}
        barnard = get("NAME Barnard's Star c")
        assert barnard["main_id"] == "NAME Barnard's Star c"
        calls = httpx.get(server.url + "/health", timeout=10).json()["simbad"]["counters"]["calls"]
        assert calls == 2
        assert get("HD 48915")["main_id"] == "* alf CMa"  # local now: SIMBAD's identifiers were stored
        assert get("alf CMa")["main_id"] == "* alf CMa"
        health = httpx.get(server.url + "/health", timeout=10).json()["simbad"]
        assert health["counters"]["calls"] == 2 and health["breaker"]["state"] == "closed"
        assert health["table_prefix"] == "simbadlike."
    finally:
        server.stop()

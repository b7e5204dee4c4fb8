"""The legacy GetStar path beyond the basic shape (tests/test_resolver.py): user values, GetStar's
command PARAMs and log, the groups GetStar has (Jcous … dist_fit_chi2) with ``dist_plx`` computed
from the parallax, LINK templates, and caches that keep one user's magnitudes from another."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import asyncpg
import httpx
import pytest

from getstar import derived
from getstar.properties import BY_NAME, ORIGIN_CODE, PROPERTIES
from tests.conftest import LiveServer
from tests.samples import SAMPLE

V11 = "http://www.ivoa.net/xml/VOTable/v1.1"
NS = {"v": V11}
USER = str(ORIGIN_CODE["USER"])
COMPUTED = str(ORIGIN_CODE["computed"])


def legacy(server: LiveServer, **params: str) -> httpx.Response:
    return httpx.get(server.url + "/sclwsGetStarProxy.php", params=params, timeout=60)


class Answer:
    """A GetStar answer read as its clients read it: PARAMs by name, cells by FIELD position."""

    def __init__(self, body: bytes) -> None:
        self.root = ET.fromstring(body)
        table = self.root.find("v:RESOURCE/v:TABLE", NS)
        assert table is not None
        self.table = table
        self.params = {p.get("name"): p for p in table.findall("v:PARAM", NS)}
        self.fields = [f.get("name") for f in table.findall("v:FIELD", NS)]
        self.rows = [dict(zip(self.fields, [td.text or "" for td in tr.findall("v:TD", NS)], strict=True))
                     for tr in table.findall("v:DATA/v:TABLEDATA/v:TR", NS)]

    def param(self, name: str) -> str:
        return self.params[name].get("value", "")

    def info(self, name: str) -> str | None:
        node = self.root.find(f"v:INFO[@name='{name}']", NS)
        return None if node is None else (node.text or "")


def test_user_magnitudes_replace_the_catalogues(live_server: LiveServer) -> None:
    plain = Answer(legacy(live_server, star="Sirius").content)
    (star,) = plain.rows
    assert star["V.origin"] != USER and star["V"]
    r = legacy(live_server, star="Sirius", V="1.5", e_V="0.1", K="-1.2", SP_TYPE="A0V")
    assert r.status_code == 200
    ours = Answer(r.content)
    (user,) = ours.rows
    assert (user["V"], user["V.origin"], user["V.confidence"], user["e_V"]) == ("1.5", USER, "2", "0.1")
    # K without e_K: the catalogue's error stays (0.25 mag when it has none)
    assert (user["K"], user["K.origin"]) == ("-1.2", USER)
    assert user["e_K"] == (star["e_K"] or "0.25")
    assert (user["SpType"], user["SpType.origin"], user["SpType.confidence"]) == ("A0V", USER, "2")
    assert user["J"] == star["J"] and user["J.origin"] == star["J.origin"]  # not given: untouched
    # the values used, echoed as GetStar echoes them (%.3f)
    assert (ours.param("V"), ours.param("e_V"), ours.param("K")) == ("1.500", "0.100", "-1.200")
    assert ours.param("J") == f"{float(star['J']):.3f}" and ours.param("SP_TYPE") == "A0V"
    log = ours.info("LOG") or ""
    assert "Set property 'PHOT_JHN_V' = 1.500 (0.100) (USER)" in log
    assert "Diameters computed again" in log  # as GetStar: the diameters follow the user's magnitudes
    assert user["LDD.origin"] == COMPUTED and user["LDD"] and user["LDD"] != star["LDD"]
    assert user["UD_K.origin"] == COMPUTED and user["UD_K"]
    # the same star asked again without user values: the catalogue's (the cache keys on them)
    again = Answer(legacy(live_server, star="Sirius").content).rows[0]
    assert again["V"] == star["V"] and again["V.origin"] == star["V.origin"]
    other = Answer(legacy(live_server, star="Sirius", V="2.5").content).rows[0]
    assert other["V"] == "2.5"


def test_user_magnitudes_move_the_diameters_as_physics_says(live_server: LiveServer) -> None:
    """All four user magnitudes one magnitude fainter, colours kept: every colour diameter, LDD and the
    UD diameters shrink by 10**-0.2 (a surface-brightness relation: theta ~ 10**(-0.2 m) at fixed
    colour), whatever the polynomials' coefficients; the confidence and the flags stay."""
    near = {"V": -1.40, "J": -1.35, "H": -1.30, "K": -1.30}
    errors = {"e_V": "0.02", "e_J": "0.1", "e_H": "0.1", "e_K": "0.1"}
    a = Answer(legacy(live_server, star="Sirius", **{k: f"{v:.2f}" for k, v in near.items()}, **errors).content)
    b = Answer(legacy(live_server, star="Sirius", **{k: f"{v + 1:.2f}" for k, v in near.items()}, **errors).content)
    (ra,), (rb,) = a.rows, b.rows
    for name in ("diam_vj", "diam_vh", "diam_vk", "LDD", "UD_V", "UD_K", "UD_N"):
        assert ra[name + ".origin"] == COMPUTED and ra[name + ".confidence"] == rb[name + ".confidence"], name
        assert float(rb[name]) / float(ra[name]) == pytest.approx(10 ** -0.2, rel=1e-3), name
    assert float(rb["e_LDD"]) / float(ra["e_LDD"]) == pytest.approx(10 ** -0.2, rel=1e-2)
    assert ra["diamFlag"] == rb["diamFlag"] and ra["diam_chi2"] == rb["diam_chi2"]
    assert 5.0 < float(ra["LDD"]) < 7.5  # near Sirius' measured 6.0 mas (JMDC), as its magnitudes are near


def test_user_values_are_for_one_star_only(live_server: LiveServer) -> None:
    ours = Answer(legacy(live_server, star="Sirius,Vega", V="1.5").content)
    assert [row["V.origin"] != USER for row in ours.rows] == [True, True]
    assert ours.param("V") == "" and ours.info("LOG") is None  # GetStar: no log for several stars


@pytest.mark.parametrize("params", [{"V": "25"}, {"e_K": "-1"}, {"H": "bright"}, {"V": "nan"},
                                    {"SP_TYPE": "A" * 41}, {"diagnose": "perhaps"}])
def test_user_values_outside_getstars_ranges_are_400(live_server: LiveServer, params: dict[str, str]) -> None:
    r = legacy(live_server, star="Sirius", **params)
    assert r.status_code == 400 and r.headers["content-type"].startswith("text/html")


def test_command_params_and_log(live_server: LiveServer) -> None:
    ours = Answer(legacy(live_server, star="Sirius", scenario="true").content)
    assert (ours.param("objectName"), ours.param("file"), ours.param("format")) == ("Sirius", "", "vot")
    assert (ours.param("diagnose"), ours.param("scenario"), ours.param("forceUpdate")) == ("true", "true", "false")
    log = ours.info("LOG") or ""
    assert "GetStar[Sirius]: found in snapshot" in log and "mainID='* alf CMa'" in log
    quiet = Answer(legacy(live_server, star="Sirius", diagnose="false").content)
    assert quiet.info("LOG") is None and quiet.param("diagnose") == "false"


def test_getstar_groups_in_getstars_order(live_server: LiveServer) -> None:
    ours = Answer(legacy(live_server, star="Sirius").content)
    groups = [g.get("name") for g in ours.table.findall("v:GROUP", NS)]
    added = ["Jcous", "Hcous", "Kcous", "Av", "Av_fit_chi2", "dist_plx", "dist_fit", "dist_fit_chi2"]
    assert groups[groups.index("Nflux_med"):groups.index("Nflux_med") + 5] == ["Nflux_med", "Jcous", "Hcous",
                                                                                "Kcous", "diam_vj"]
    i = groups.index("UD_N")
    assert groups[i:i + 7] == ["UD_N", "Av", "Av_fit_chi2", "dist_plx", "dist_fit", "dist_fit_chi2", "vis2"]
    if SAMPLE.exists():  # the same neighbours as in GetStar's own answer
        sample = [g.get("name") for g in ET.parse(SAMPLE).getroot().iter(f"{{{V11}}}GROUP")]
        for name in added:
            j = sample.index(name)
            assert groups[groups.index(name) - 1] == sample[j - 1] or sample[j - 1] not in groups, name
    for name in added:
        field = ours.table.find(f"v:FIELD[@name='{name}']", NS)
        assert field is not None and field.get("ucd") == BY_NAME[name].ucd1
    assert ours.table.find("v:FIELD[@name='Av_fit_chi2']", NS) is not None


def test_dist_plx_as_getstar_computes_it(live_server: LiveServer) -> None:
    """Sirius's Hipparcos parallax (379.21 ± 1.58 mas) gives GetStar's own figures."""
    (star,) = Answer(legacy(live_server, star="Sirius").content).rows
    assert (star["plx"], star["e_Plx"]) == ("379.21", "1.58")
    assert (star["dist_plx"], star["e_dist_plx"]) == ("2.637061", "0.01098747")  # GetStar 2021: same digits
    assert (star["dist_plx.origin"], star["dist_plx.confidence"]) == (COMPUTED, "3")


def test_identifier_fields_carry_link_templates(live_server: LiveServer) -> None:
    ours = Answer(legacy(live_server, star="Sirius").content)
    links = {f.get("name"): f.find("v:LINK", NS) for f in ours.table.findall("v:FIELD", NS)}
    for name in ("HD", "HIP", "SIMBAD", "GAIA", "TYC1", "RAJ2000"):
        link = links[name]
        assert link is not None and "${" + name + "}" in (link.get("href") or ""), name
    assert links["V"] is None


async def test_dist_plx_rules(snapshot_conn: asyncpg.Connection) -> None:
    """derived.update_sql on a scratch copy of the star table: GetStar's conditions and our confidences."""
    plx, d = BY_NAME["plx"].column, BY_NAME["dist_plx"].column
    cases = [  # (plx, e_plx, plx confidence) -> (dist, confidence) or None
        ((379.21, 1.58, 3), (2.637061, 3)),
        ((10.0, 1.5, 3), (100.0, 2)),      # 15 %: MEDIUM
        ((10.0, 5.0, 3), (100.0, 1)),      # 50 %: LOW
        ((10.0, 0.5, 1), (100.0, 1)),      # never above the parallax's own confidence
        ((0.5, 0.1, 3), None),             # below 1 mas (GetStar)
        ((10.0, 0.0, 3), None),            # no error
        ((10.0, 10.5, 3), None),           # error over 100.1 %
        ((-3.0, 1.0, 3), None),
        ((float("nan"), 1.0, 3), None),
        ((None, None, None), None),        # a stale dist_plx without parallax is cleared
    ]
    async with snapshot_conn.transaction():
        await snapshot_conn.execute("CREATE TEMP TABLE star ON COMMIT DROP AS SELECT * FROM live.star LIMIT 0")
        for i, ((p, e, c), _) in enumerate(cases):
            await snapshot_conn.execute(
                f"INSERT INTO pg_temp.star (star_id, main_id, {plx}, {plx}_e, {plx}_c, {d}, {d}_o, {d}_c) "
                "VALUES ($1, 'x', $2, $3, $4, 999, 5, 3)", i, p, e, c)
        await snapshot_conn.execute(derived.update_sql("pg_temp"))
        rows = {r["star_id"]: r for r in await snapshot_conn.fetch(
            f"SELECT star_id, {d} AS d, {d}_e AS e, {d}_o AS o, {d}_c AS c FROM pg_temp.star")}
    for i, (_, want) in enumerate(cases):
        got = rows[i]
        if want is None:
            assert got["d"] is None and got["o"] is None and got["c"] is None, cases[i]
        else:
            assert got["d"] == pytest.approx(want[0], rel=1e-6) and got["c"] == want[1], cases[i]
            assert got["o"] == ORIGIN_CODE["computed"] and got["e"] > 0
    assert math.isclose(rows[0]["e"], 0.01098747, rel_tol=1e-6)


def test_every_property_is_declared_once() -> None:
    names = [p.name for p in PROPERTIES]
    assert len(names) == len(set(names))
    assert all(BY_NAME[n].origin for n in ("Jcous", "Av", "dist_plx", "dist_fit_chi2"))

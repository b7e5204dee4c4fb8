"""Batch cross-identification (POST /v1/xmatch, getstar xmatch, ingest synthetic) against the
real snapshot over real HTTP.

Target lists are built from snapshot stars: positions offset by known amounts (astropy is
the reference for the offsets), high proper-motion stars moved to 2024 with
``coords.propagate_many``, names and positions made to agree or disagree on purpose.
"""

from __future__ import annotations

import asyncio
import csv
import io
import math
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import numpy as np
import orjson
import pytest
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.io.votable import parse as parse_votable
from astropy.table import MaskedColumn, Table
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from getstar.config import Settings
from getstar.coords import propagate_many
from tests.conftest import LiveServer, fetch

FORMATS = ("json", "csv", "votable", "votable11")


# ---------------------------------------------------------------------------------------
# Test data from the real snapshot


ISOLATED = """
SELECT s.star_id, s.main_id, s.ra, s.dec, s.p_pmra AS pmra, s.p_pmdec AS pmdec
FROM live.star s TABLESAMPLE BERNOULLI (2) REPEATABLE (7)
WHERE {where} AND NOT EXISTS (
    SELECT 1 FROM live.star o
    WHERE q3c_join(s.ra, s.dec, o.ra, o.dec, $1::float8 / 3600) AND o.star_id <> s.star_id)
ORDER BY s.star_id
LIMIT $2
"""


@pytest.fixture(scope="module")
def isolated(snapshot_dsn: str) -> list[asyncpg.Record]:
    """300 stars with no other star within 5 arcsec."""
    rows = fetch(snapshot_dsn, ISOLATED.format(where="true"), 5.0, 300)
    assert len(rows) == 300
    return rows


@pytest.fixture(scope="module")
def fast_movers(snapshot_dsn: str) -> list[asyncpg.Record]:
    """Stars moving 0.3-1.2 arcsec/yr (7-29 arcsec in 24 years) with nobody within 40 arcsec."""
    where = "sqrt(s.p_pmra ^ 2 + s.p_pmdec ^ 2) BETWEEN 300 AND 1200"
    rows = fetch(snapshot_dsn, ISOLATED.format(where=where).replace("BERNOULLI (2)", "BERNOULLI (100)"), 40.0, 40)
    assert len(rows) >= 20
    return rows


@pytest.fixture(scope="module")
def close_pair(snapshot_dsn: str) -> asyncpg.Record:
    """Two stars 0.3-1.5 arcsec apart with no third star within 5 arcsec of the first."""
    rows = fetch(snapshot_dsn, """
        SELECT a.star_id AS a_id, a.main_id AS a_main, a.ra AS a_ra, a.dec AS a_dec,
               b.star_id AS b_id, b.main_id AS b_main, q3c_dist(a.ra, a.dec, b.ra, b.dec) * 3600 AS sep
        FROM live.star a JOIN live.star b
          ON q3c_join(a.ra, a.dec, b.ra, b.dec, 1.5 / 3600) AND a.star_id <> b.star_id
        WHERE q3c_dist(a.ra, a.dec, b.ra, b.dec) * 3600 > 0.3
          AND (SELECT count(*) FROM live.star c WHERE q3c_join(a.ra, a.dec, c.ra, c.dec, 5.0 / 3600)) = 2
          AND EXISTS (SELECT 1 FROM live.ident i WHERE i.star_id = b.star_id AND i.key = upper(b.main_id))
        ORDER BY a.star_id LIMIT 1""")
    assert rows, "the snapshot has no close pair"
    return rows[0]


def offset(ra: float, dec: float, arcsec: float, angle_deg: float) -> tuple[float, float]:
    c = SkyCoord(ra * u.deg, dec * u.deg).directional_offset_by(angle_deg * u.deg, arcsec * u.arcsec)
    return float(c.ra.deg), float(c.dec.deg)


@pytest.fixture(scope="module")
def perturbed(isolated: list[asyncpg.Record]) -> list[dict[str, Any]]:
    """The isolated stars at known offsets of 0.5-1.5 arcsec, in a shuffled order."""
    rng = np.random.default_rng(11)
    out = []
    for star in isolated:
        sep = float(rng.uniform(0.5, 1.5))
        ra, dec = offset(star["ra"], star["dec"], sep, float(rng.uniform(0, 360)))
        out.append({"ra": ra, "dec": dec, "expect": star["main_id"], "sep": sep})
    order = rng.permutation(len(out))
    return [out[i] for i in order]


# ---------------------------------------------------------------------------------------
# Bodies and answers


def csv_body(rows: list[dict[str, Any]], columns: list[str]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow(["" if r.get(c) is None else (repr(r[c]) if isinstance(r[c], float) else r[c]) for c in columns])
    return buf.getvalue().encode()


def json_body(rows: list[dict[str, Any]], columns: list[str]) -> bytes:
    return orjson.dumps([{c: r[c] for c in columns if r.get(c) is not None} for r in rows])


def votable_body(rows: list[dict[str, Any]], columns: list[str]) -> bytes:
    table = Table()
    for c in columns:
        values = [r.get(c) for r in rows]
        if c == "name":
            table[c] = MaskedColumn([v or "" for v in values], mask=[v is None for v in values], dtype=str)
        else:
            table[c] = MaskedColumn([np.nan if v is None else float(v) for v in values],
                                    mask=[v is None for v in values], dtype=float)
    buf = io.BytesIO()
    table.write(buf, format="votable")
    return buf.getvalue()


BODIES = {
    "csv": (csv_body, "text/csv"),
    "json": (json_body, "application/json"),
    "votable": (votable_body, "application/x-votable+xml"),
}


def post(server: LiveServer, body: bytes, content_type: str | None = "text/csv", **params: Any) -> httpx.Response:
    headers = {"Content-Type": content_type} if content_type else {}
    return httpx.post(f"{server.url}/v1/xmatch", content=body, headers=headers, params=params, timeout=120)


def _num(v: Any) -> float | None:
    if v is None or v == "" or (isinstance(v, float) and math.isnan(v)):
        return None
    return float(v)


def answers(resp: httpx.Response, fmt: str) -> list[dict[str, Any]]:
    """The answer rows of any format as plain dicts of the match columns."""
    assert resp.status_code == 200, resp.text[:500]
    keys = ("status", "match", "main_id", "name_main_id", "name_system")
    nums = ("separation_arcsec", "n_candidates", "sep2_arcsec", "name_separation_arcsec")
    if fmt == "json":
        doc = orjson.loads(resp.content)
        assert doc["count"] == len(doc["results"])
        return [{**{k: r[k] for k in keys}, **{k: _num(r[k]) for k in nums}, "input": r["input"],
                 "V": (r["properties"].get("V") or {}).get("value")} for r in doc["results"]]
    if fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(resp.text)))
        return [{**{k: r[k] or None for k in keys}, **{k: _num(r[k]) for k in nums}, "V": _num(r["V"])}
                for r in rows]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # our VOTables must read without a single warning
        table = parse_votable(io.BytesIO(resp.content)).get_first_table().to_table()
    out = []
    for r in table:
        d: dict[str, Any] = {}
        for k in keys:
            v = r[k]
            d[k] = None if np.ma.is_masked(v) or v == "" else str(v)
        for k in nums:
            v = r[k]
            d[k] = None if np.ma.is_masked(v) else _num(float(v))
        d["V"] = None if np.ma.is_masked(r["V"]) else float(r["V"])
        out.append(d)
    return out


# ---------------------------------------------------------------------------------------
# Recovering known stars


def test_rendered_cells_have_the_declared_column_types() -> None:
    from getstar.xmatch.output import Layout
    from getstar.xmatch.render import cell_kinds

    layout = Layout(["name"], [["Sirius"]])
    assert cell_kinds(layout.props) == [c.datatype for c in layout.output_columns]


def test_perturbed_positions_recover_their_stars_in_order(live_server: LiveServer,
                                                          perturbed: list[dict[str, Any]]) -> None:
    rows = answers(post(live_server, csv_body(perturbed, ["ra", "dec"]), format="json"), "json")
    assert len(rows) == len(perturbed)
    for want, got in zip(perturbed, rows, strict=True):
        assert got["status"] == "ok"
        assert got["match"] == "position", (want, got)
        assert got["main_id"] == want["expect"]
        assert got["n_candidates"] == 1 and got["sep2_arcsec"] is None
        assert got["separation_arcsec"] == pytest.approx(want["sep"], abs=2e-3)
        assert float(got["input"]["ra"]) == pytest.approx(want["ra"], abs=1e-12)  # the input echoed, in order


def test_radius_smaller_than_the_offset_finds_nothing(live_server: LiveServer,
                                                      perturbed: list[dict[str, Any]]) -> None:
    rows = answers(post(live_server, csv_body(perturbed, ["ra", "dec"]), format="json", radius="0.4arcsec"), "json")
    assert {r["match"] for r in rows} == {"none"}
    assert {r["n_candidates"] for r in rows} == {0}


def test_per_row_radius_overrides_the_request_radius(live_server: LiveServer,
                                                     perturbed: list[dict[str, Any]]) -> None:
    sample = [dict(r, radius="0.4" if i % 2 else "2arcsec") for i, r in enumerate(perturbed[:20])]
    rows = answers(post(live_server, csv_body(sample, ["ra", "dec", "radius"])), "json")
    assert [r["match"] for r in rows] == ["position" if i % 2 == 0 else "none" for i in range(20)]


def test_epoch_moves_the_catalogue_to_the_observation(live_server: LiveServer,
                                                      fast_movers: list[asyncpg.Record]) -> None:
    ra = np.array([s["ra"] for s in fast_movers])
    dec = np.array([s["dec"] for s in fast_movers])
    pmra = np.array([s["pmra"] for s in fast_movers])
    pmdec = np.array([s["pmdec"] for s in fast_movers])
    ra24, dec24 = propagate_many(ra, dec, pmra, pmdec, 2000.0, 2024.0)
    rows = [{"ra": float(a), "dec": float(d), "epoch": 2024.0} for a, d in zip(ra24, dec24, strict=True)]

    with_epoch = answers(post(live_server, csv_body(rows, ["ra", "dec", "epoch"])), "json")
    assert [r["main_id"] for r in with_epoch] == [s["main_id"] for s in fast_movers]
    assert {r["match"] for r in with_epoch} == {"position"}
    assert max(r["separation_arcsec"] for r in with_epoch) < 0.01

    without = answers(post(live_server, csv_body(rows, ["ra", "dec"])), "json")
    assert {r["match"] for r in without} == {"none"}

    # the request-level epoch applies to rows that give none; a date works as well as a year
    as_param = answers(post(live_server, csv_body(rows, ["ra", "dec"]), epoch="2024-01-01T12:00:00"), "json")
    assert [r["main_id"] for r in as_param] == [s["main_id"] for s in fast_movers]


@pytest.mark.parametrize("radius", ["2arcsec", "60arcsec"])
def test_a_far_epoch_finds_each_mover_alone_and_with_its_name(live_server: LiveServer,
                                                              fast_movers: list[asyncpg.Record], radius: str) -> None:
    """At 2140 an ordinary star may have moved 70" (0.5"/yr): a 60" circle widened by that is too
    wide for the sky cells and goes to q3c, and the fast movers are looked for apart in their own
    index (0.3-1.2"/yr: some in each).  Every star is found at its moved position, by its position
    alone and with its name (the positions of named rows are searched the same way)."""
    ra = np.array([s["ra"] for s in fast_movers])
    dec = np.array([s["dec"] for s in fast_movers])
    pmra = np.array([s["pmra"] for s in fast_movers])
    pmdec = np.array([s["pmdec"] for s in fast_movers])
    moved = propagate_many(ra, dec, pmra, pmdec, 2000.0, 2140.0)
    alone = [{"ra": float(a), "dec": float(d), "epoch": 2140.0} for a, d in zip(*moved, strict=True)]
    named = [dict(r, name=s["main_id"]) for r, s in zip(alone, fast_movers, strict=True)]
    got = answers(post(live_server, csv_body(alone + named, ["name", "ra", "dec", "epoch"]), radius=radius), "json")
    assert [r["main_id"] for r in got] == [s["main_id"] for s in fast_movers] * 2
    assert {r["match"] for r in got[:len(alone)]} <= {"position", "ambiguous"}
    assert {r["match"] for r in got[len(alone):]} == {"name+position"}
    assert max(r["separation_arcsec"] for r in got) < 0.01


def _copied(data: bytes, types: list[str]) -> np.ndarray:
    """The rows of a binary COPY made by ``match._binary_copy`` (header 19 bytes, trailer 2)."""
    fields = [("count", ">i2")]
    for k, kind in enumerate(types):
        fields += [(f"len{k}", ">i4"), (f"v{k}", kind)]
    return np.frombuffer(data[19:-2], np.dtype(fields)) if data else np.empty(0, np.dtype(fields))


def test_wide_circles_at_an_epoch_leave_the_fast_movers_to_their_own_search() -> None:
    """What made 100,000 positions at radius=60&epoch=2150 take 12 s: a circle too wide for the
    cells was one q3c cone over the whole catalogue widened for the fastest star (11"/yr: 0.46
    degree at 2150).  Its cone is now widened for the ordinary stars only, the fast movers looked
    for apart, as for the cells; and a named row's position is searched as the others are (it was
    a q3c cone a row)."""
    from getstar.skycells import FAST_PM_MAS_PER_YEAR
    from getstar.xmatch.match import Target, TargetSet, _plan

    targets = TargetSet.of([Target(None, 10.0, 10.0, 2150.0, 60 / 3600),
                            Target("Sirius", 101.287, -16.716, None, 2 / 3600)])
    plan = _plan(targets, {"Sirius": ([7], None)}, 0)
    row = [">i4", *[">f8"] * 5]  # i, ra, dec, r, dt, margin
    wide, moving = _copied(plan.copies["xm_wide"], row), _copied(plan.copies["xm_moving"], row)
    assert list(wide["v0"]) == list(moving["v0"]) == [0]
    assert wide["v5"][0] == pytest.approx(FAST_PM_MAS_PER_YEAR / 3_600_000 * 150)  # the ordinary stars' margin
    assert moving["v5"][0] == pytest.approx(11.0 / 3600 * 150)  # the fast movers': the whole one
    probes = _copied(plan.copies["xm_name_probe"], [">i8", ">i4", ">f8", ">f8", ">f8", ">f8"])
    assert set(probes["v1"]) == {1} and not plan.copies["xm_probe"]


# ---------------------------------------------------------------------------------------
# Names and flags


def test_flags(live_server: LiveServer, isolated: list[asyncpg.Record], close_pair: asyncpg.Record) -> None:
    a, b = isolated[0], isolated[1]
    near_a = offset(a["ra"], a["dec"], 1.0, 45.0)
    rows = [
        {"name": "Sirius"},                                               # name alone
        {"ra": near_a[0], "dec": near_a[1]},                              # position alone
        {"name": a["main_id"], "ra": near_a[0], "dec": near_a[1]},        # both agree
        {"name": b["main_id"], "ra": near_a[0], "dec": near_a[1]},        # both, disagreeing
        {"ra": close_pair["a_ra"], "dec": close_pair["a_dec"]},           # two stars within 2"
        {"name": close_pair["b_main"], "ra": close_pair["a_ra"], "dec": close_pair["a_dec"]},  # name picks one
        {"name": "no such star 12345"},                                   # unknown name
        {"name": "no such star 12345", "ra": near_a[0], "dec": near_a[1]},  # unknown name + position
        {"ra": 0.123, "dec": -89.99},                                     # nothing there
        {"name": "Vega", "ra": 0.123, "dec": -89.99},                     # name, and nothing at the position
    ]
    got = answers(post(live_server, json_body(rows, ["name", "ra", "dec"]), "application/json"), "json")
    flags = [r["match"] for r in got]
    assert flags == ["name", "position", "name+position", "name_position_disagree", "ambiguous", "name+position",
                     "none", "position", "none", "name_position_disagree"]
    assert got[0]["main_id"] == "* alf CMa" and got[0]["separation_arcsec"] is None
    assert got[2]["main_id"] == a["main_id"] == got[2]["name_main_id"]
    # disagreement: the position's star is reported, the name's star is named beside it
    assert got[3]["main_id"] == a["main_id"] and got[3]["name_main_id"] == b["main_id"]
    assert got[3]["name_separation_arcsec"] > 2.0
    # ambiguous position: the nearest is reported, with the count and the second separation
    assert got[4]["main_id"] == close_pair["a_main"]
    assert got[4]["n_candidates"] == 2
    assert got[4]["sep2_arcsec"] == pytest.approx(close_pair["sep"], abs=1e-3)
    assert got[5]["main_id"] == close_pair["b_main"] and got[5]["n_candidates"] == 2
    assert got[6]["main_id"] is None and got[8]["n_candidates"] == 0
    assert got[9]["main_id"] is None and got[9]["name_main_id"] == "* alf Lyr"
    assert got[0]["V"] == pytest.approx(-1.46)


def test_ambiguous_name(live_server: LiveServer, snapshot_dsn: str) -> None:
    rows = fetch(snapshot_dsn, """
        SELECT min(i.id) AS id FROM live.ident i GROUP BY i.key HAVING count(DISTINCT i.star_id) > 1 LIMIT 1""")
    if not rows:
        pytest.skip("no identifier of the snapshot names two stars")
    got = answers(post(live_server, json_body([{"name": rows[0]["id"]}], ["name"]), "application/json"), "json")
    assert got[0]["match"] == "ambiguous"
    assert "|" in got[0]["name_main_id"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_multiple_systems_name_stands_for_its_primary(live_server: LiveServer, fmt: str) -> None:
    """'alf Cen' (no star of its own: SIMBAD has the components) matches alf Cen A, and says
    which system; with alf Cen A's position it is name+position; a component is itself."""
    rows = [{"name": "alf Cen", "ra": "", "dec": ""}, {"name": "alf Cen", "ra": "219.90206", "dec": "-60.83399"},
            {"name": "alf Cen B", "ra": "", "dec": ""}, {"name": "tau Eri", "ra": "", "dec": ""}]
    got = answers(post(live_server, csv_body(rows, ["name", "ra", "dec"]), format=fmt), fmt)
    assert [r["match"] for r in got] == ["name", "name+position", "name", "ambiguous"]
    assert [r["main_id"] for r in got[:3]] == ["* alf Cen A", "* alf Cen A", "* alf Cen B"]
    assert [r["name_system"] for r in got] == ["* alf Cen", "* alf Cen", None, None]


def test_repeated_names_are_answered_per_row(live_server: LiveServer) -> None:
    rows = [{"name": n} for n in ["Sirius", "Vega", "Sirius", "alf CMa", "HIP 32349"] * 40]
    got = answers(post(live_server, csv_body(rows, ["name"])), "json")
    assert [r["main_id"] for r in got] == ["* alf CMa", "* alf Lyr", "* alf CMa", "* alf CMa", "* alf CMa"] * 40


# ---------------------------------------------------------------------------------------
# Cell probes against q3c


REFERENCE = """
SELECT t.n, count(s.star_id) AS k,
       (array_agg(s.main_id ORDER BY q3c_dist(t.ra, t.dec, s.ra, s.dec), s.star_id))[1] AS nearest
FROM unnest($1::float8[], $2::float8[], $3::float8[]) WITH ORDINALITY AS t(ra, dec, r, n)
LEFT JOIN live.star s ON q3c_join(t.ra, t.dec, s.ra, s.dec, t.r) AND q3c_dist(t.ra, t.dec, s.ra, s.dec) <= t.r
GROUP BY t.n ORDER BY t.n
"""


def test_positions_find_what_a_q3c_cone_finds(live_server: LiveServer, snapshot_dsn: str) -> None:
    """Stars anywhere (RA 0/360, near the poles, in crowded fields), targets offset from them,
    radii from 1" (cells) to 60" (too many cells: q3c): same count and nearest star as q3c."""
    stars = fetch(snapshot_dsn, """
        (SELECT ra, dec FROM live.star TABLESAMPLE BERNOULLI (1) REPEATABLE (3) LIMIT 400)
        UNION ALL (SELECT ra, dec FROM live.star WHERE ra < 0.05 OR ra > 359.95 LIMIT 40)
        UNION ALL (SELECT ra, dec FROM live.star ORDER BY abs(dec) DESC LIMIT 40)
        UNION ALL (SELECT a.ra, a.dec FROM live.star a TABLESAMPLE BERNOULLI (5) REPEATABLE (5)
                   WHERE EXISTS (SELECT 1 FROM live.star b WHERE q3c_join(a.ra, a.dec, b.ra, b.dec, 4.0 / 3600)
                                 AND b.star_id + 0 <> a.star_id) LIMIT 60)""")
    # (the pairs: each sampled star probes the q3c index; "+ 0" keeps the planner from
    # intersecting with a third of the primary key per star, a plan that ran for minutes)
    rng = np.random.default_rng(17)
    rows = []
    for k, star in enumerate(stars):
        radius = [1.0, 2.0, 5.0, 20.0, 60.0][k % 5]
        ra, dec = offset(star["ra"], star["dec"], float(rng.uniform(0, radius * 1.2)), float(rng.uniform(0, 360)))
        rows.append({"ra": ra, "dec": dec, "radius": f"{radius}arcsec"})
    got = answers(post(live_server, csv_body(rows, ["ra", "dec", "radius"]), radius="60arcsec"), "json")
    want = fetch(snapshot_dsn, REFERENCE, [r["ra"] for r in rows], [r["dec"] for r in rows],
                 [float(r["radius"][:-6]) / 3600 for r in rows])
    assert sum(w["k"] > 1 for w in want) > 20 and sum(w["k"] == 0 for w in want) > 20  # all cases are here
    for row, g, w in zip(rows, got, want, strict=True):
        assert (g["n_candidates"], g["main_id"]) == (w["k"], w["nearest"]), row


# ---------------------------------------------------------------------------------------
# Fast paths read as the general ones do


_CELL = st.one_of(st.sampled_from(["", " ", "12.5", "-0.0", "1e3", "nan", "inf", "1_0", "12:30:00", "-95",
                                   "359.99999", "0x10", " 7 ", "#", "a b", "é"]),
                  st.floats(-400, 400, allow_nan=False).map(repr))


@hsettings(max_examples=150, deadline=None)
@given(header=st.lists(st.sampled_from(["name", "ra", "dec", "x", ""]), min_size=1, max_size=4),
       rows=st.lists(st.lists(_CELL, min_size=0, max_size=5), min_size=1, max_size=12),
       prefix=st.sampled_from(["", "# comment\n", "\n\n", "#x,y\r\n"]), eol=st.sampled_from(["\n", "\r\n"]),
       delimiter=st.sampled_from([",", "\t"]))
def test_unquoted_csv_reads_as_the_csv_module_reads_it(header: list[str], rows: list[list[str]], prefix: str,
                                                       eol: str, delimiter: str) -> None:
    from getstar.errors import GetStarError
    from getstar.xmatch import reader

    text = prefix + eol.join(delimiter.join(r) for r in [header, *rows]) + eol
    try:
        fast = reader._read_unquoted(text, delimiter, None)
    except GetStarError as exc:
        fast_error: str | None = exc.message
    else:
        fast_error = None
        if fast is None:
            return
    try:
        slow = reader._read_with_csv(text, delimiter, None)
    except GetStarError as exc:
        assert fast_error == exc.message
        return
    assert fast_error is None
    assert (fast.columns, fast.rows, fast.errors, fast.plain) == (slow.columns, slow.rows, slow.errors, slow.plain)


_EPOCH = st.sampled_from(["", "2024.5", "J2015.5", "B1950", "MJD 60000", "60000.25", "2460000.5", "2024-03-01",
                          "2024-03-01T12:00:00Z", "yesterday", "3000", "1_0", " 2010 "])
_RADIUS = st.sampled_from(["", "2", "3arcsec", "0.5arcmin", "1e-4deg", "-1", "100arcsec", "x", "nan"])


@hsettings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(st.one_of(st.none(), st.sampled_from(["Sirius", "x" * 201])), _CELL, _CELL, _EPOCH,
                               _RADIUS), min_size=1, max_size=12),
       columns=st.sampled_from([("name", "ra", "dec"), ("name", "ra", "dec", "epoch"), ("ra", "dec", "radius"),
                                ("name", "ra", "dec", "epoch", "radius")]),
       epoch=st.sampled_from([None, 2024.5]),
       typed=st.booleans(), extra=st.sampled_from([None, True, 7, float("nan"), float("inf"), -3.0, 400.0]))
def test_decimal_columns_read_as_row_by_row(rows: list[tuple[str | None, str, str, str, str]],
                                            columns: tuple[str, ...], epoch: float | None, typed: bool,
                                            extra: Any) -> None:
    """As text (CSV) or, with ``typed``, as numbers and None (JSON, VOTable) plus an odd cell."""
    from getstar.xmatch import targets as t
    from getstar.xmatch.match import TargetSet
    from getstar.xmatch.reader import InputTable

    def typed_cell(text: str) -> Any:
        try:
            return None if not text.strip() else float(text) if "_" not in text else text
        except ValueError:
            return text

    cells = [dict(zip(["name", "ra", "dec", "epoch", "radius"], ["" if n is None else n, *rest], strict=True))
             for n, *rest in rows]
    if typed:
        for c in cells:
            c["ra"], c["dec"] = typed_cell(c["ra"]), typed_cell(c["dec"])
        cells[0]["ra"] = extra
    table = InputTable(list(columns), [[c[k] for k in columns] for c in cells])
    roles = t.find_roles(table)
    fast = t.to_targets(table, roles, radius_deg=1 / 1800, max_radius_deg=1 / 60, epoch=epoch)
    slow = TargetSet.of(t._row_targets(table, roles, range(table.nrows), 1 / 1800, 1 / 60, epoch))
    assert fast.errors == slow.errors
    assert [fast[k] for k in range(len(rows))] == [slow[k] for k in range(len(rows))]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_no_star_cells_are_the_star_cells_of_nothing(snapshot_dsn: str, fmt: str) -> None:
    from getstar.xmatch.match import KEY_PROPERTIES
    from getstar.xmatch.render import params, star_text_sql

    sql, unset = star_text_sql(fmt, KEY_PROPERTIES, "s")
    rows = fetch(snapshot_dsn, f"SELECT {sql} AS text FROM (SELECT 1) x LEFT JOIN live.star s ON false",
                 *params(fmt))
    assert rows[0]["text"] == unset


# ---------------------------------------------------------------------------------------
# Input and output formats


@pytest.fixture(scope="module")
def mixed_rows(perturbed: list[dict[str, Any]], isolated: list[asyncpg.Record]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [{"ra": r["ra"], "dec": r["dec"]} for r in perturbed[:40]]
    rows += [{"name": s["main_id"]} for s in isolated[100:110]]
    rows += [{"name": s["main_id"], "ra": r["ra"], "dec": r["dec"]} for s, r in zip(isolated[110:120], perturbed[40:50],
                                                                                     strict=True)]
    rows += [{"name": "Sirius", "ra": 10.0, "dec": 95.0}]  # a bad row in the middle
    rows += [{"ra": r["ra"], "dec": r["dec"]} for r in perturbed[50:60]]
    return rows


@pytest.mark.parametrize("body", ["csv", "json", "votable"])
def test_input_formats_give_the_same_answers(live_server: LiveServer, mixed_rows: list[dict[str, Any]],
                                             body: str) -> None:
    make, content_type = BODIES[body]
    reference = answers(post(live_server, csv_body(mixed_rows, ["name", "ra", "dec"])), "json")
    got = answers(post(live_server, make(mixed_rows, ["name", "ra", "dec"]), content_type), "json")
    def same(r: dict[str, Any]) -> dict[str, Any]:  # error texts echo the value as read ('95' or '95.0')
        return {k: (v if k != "status" or v == "ok" else "error") for k, v in r.items() if k != "input"}

    assert [same(r) for r in got] == [same(r) for r in reference]
    assert got[60]["status"].startswith("Dec 95") and got[60]["match"] == "none"
    assert [r["match"] for r in got[50:60]] == ["name_position_disagree"] * 10


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_formats_parse_back_alike(live_server: LiveServer, mixed_rows: list[dict[str, Any]], fmt: str) -> None:
    body = csv_body(mixed_rows, ["name", "ra", "dec"])
    reference = answers(post(live_server, body, format="json"), "json")
    resp = post(live_server, body, format=fmt)
    got = [{k: v for k, v in r.items() if k != "input"} for r in answers(resp, fmt)]
    assert [{k: v for k, v in r.items() if k != "input"} for r in reference] == got
    assert resp.headers["content-type"].split(";")[0] in (
        "application/json", "text/csv", "application/x-votable+xml", "text/xml")


def test_votable_body_with_sexagesimal_columns_and_extra_columns(live_server: LiveServer) -> None:
    doc = b"""<?xml version="1.0"?>
<VOTABLE version="1.3" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE><TABLE>
<FIELD name="target" datatype="char" arraysize="*" ucd="meta.id"/>
<FIELD name="RAJ2000" datatype="char" arraysize="*" ucd="pos.eq.ra;meta.main"/>
<FIELD name="DEJ2000" datatype="char" arraysize="*" ucd="pos.eq.dec;meta.main"/>
<FIELD name="exposure" datatype="int"/>
<DATA><TABLEDATA>
<TR><TD>sirius-1</TD><TD>06 45 08.917</TD><TD>-16 42 58.02</TD><TD>17</TD></TR>
<TR><TD>bad</TD><TD>25 00 00</TD><TD>+10 00 00</TD><TD>18</TD></TR>
</TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>"""
    resp = post(live_server, doc, "application/x-votable+xml", format="votable")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = parse_votable(io.BytesIO(resp.content)).get_first_table().to_table()
    assert list(table["exposure"]) == [17, 18]  # extra input columns are echoed, with their type
    assert table["main_id"][0] == "* alf CMa" and table["match"][0] == "position"
    assert "RA" in str(table["status"][1])


def test_input_columns_clashing_with_output_columns_are_prefixed(live_server: LiveServer) -> None:
    resp = post(live_server, b"name,status,V\nSirius,observed,9.9\n", format="csv")
    row = next(csv.DictReader(io.StringIO(resp.text)))
    assert row["input_status"] == "observed" and row["input_V"] == "9.9"
    assert row["status"] == "ok" and float(row["V"]) == pytest.approx(-1.46)


def test_csv_conveniences(live_server: LiveServer) -> None:
    body = ("\ufeff# exported by ObsPortal\n\nNAME;x\n".replace(";", ",") + "Sirius,1\n\nVega,2\n").encode()
    got = answers(post(live_server, body), "json")
    assert [r["main_id"] for r in got] == ["* alf CMa", "* alf Lyr"]
    tsv = post(live_server, b"ra\tdec\n06:45:08.917\t-16:42:58.02\n", "text/tab-separated-values")
    assert answers(tsv, "json")[0]["main_id"] == "* alf CMa"


# ---------------------------------------------------------------------------------------
# Bad input: clear 4xx for the request, a per-row status for a row


@pytest.mark.parametrize(("body", "content_type", "status", "words"), [
    (b"", "text/csv", 400, "empty"),
    (b"  \n\n", "text/csv", 400, "empty"),
    (b"name,ra,dec\n", "text/csv", 400, "no rows"),
    (b"[]", "application/json", 400, "no rows"),
    (b"name,ra\nSirius,1\n", "text/csv", 400, "missing column 'dec'"),
    (b"foo,bar\n1,2\n", "text/csv", 400, "missing columns"),
    (b"name,ra,dec\nSirius,1,2\nVega,\"3,4\n", "text/csv", 400, "line 3"),
    (b"name\nSirius\n\xff\xfe\n", "text/csv", 400, "line 3"),
    (b'[{"name": "Sirius"},\n {"name": }]', "application/json", 400, "line 2"),
    (b'{"name": "Sirius"}', "application/json", 400, "list of objects"),
    (b"<VOTABLE><RESOURCE><TABLE>", "application/x-votable+xml", 400, "VOTable"),
    (b"name\nSirius\n", "text/plain", 415, "text/csv"),
    (b"name\nSirius\n", None, 415, "Content-Type"),
    (b"name\nSirius\n", "text/csv; charset=klingon", 415, "charset"),
    (b"name,Name\nSirius,Vega\n", "text/csv", 400, "twice"),
])
def test_bad_bodies(live_server: LiveServer, body: bytes, content_type: str | None, status: int, words: str) -> None:
    resp = post(live_server, body, content_type)
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    assert words.lower() in resp.json()["detail"].lower()


@pytest.mark.parametrize(("params", "words"), [
    ({"radius": "2 parsecs"}, "radius"),
    ({"radius": "-1"}, "positive"),
    ({"radius": "2deg"}, "maximum"),
    ({"format": "fits"}, "format"),
    ({"epoch": "yesterday"}, "epoch"),
])
def test_bad_parameters(live_server: LiveServer, params: dict[str, str], words: str) -> None:
    resp = post(live_server, b"name\nSirius\n", **params)
    assert resp.status_code == 400
    assert words in resp.text


def test_bad_parameters_answer_in_the_requested_format(live_server: LiveServer) -> None:
    resp = post(live_server, b"", format="votable")
    assert resp.status_code == 400
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        vot = parse_votable(io.BytesIO(resp.content))
    assert any(i.name == "QUERY_STATUS" and i.value == "ERROR" for i in vot.resources[0].infos)


def test_malformed_rows_report_themselves_and_the_batch_goes_on(live_server: LiveServer) -> None:
    body = (b"name,ra,dec,epoch,radius\n"
            b"Sirius,,,,\n"
            b",abc,10,,\n"
            b",NaN,10,,\n"
            b",10,95,,\n"
            b",10,,,\n"
            b",,,,\n"
            b",101.2871553,-16.7161159,2000,0.05arcmin\n"
            b",101.2871553,-16.7161159,J2000,5deg\n"
            b",101.2871553,-16.7161159,someday,\n"
            b",101.2871553,-16.7161159\n"
            b"Vega,,,,\n")
    got = answers(post(live_server, body, format="csv"), "csv")
    status = [r["status"] for r in got]
    assert status[0] == "ok" and status[6] == "ok" and status[10] == "ok"
    assert "RA" in status[1] and "abc" in status[1]
    assert "finite" in status[2]
    assert "Dec 95" in status[3]
    assert "dec" in status[4]
    assert "neither" in status[5]
    assert "maximum" in status[7]
    assert "epoch" in status[8]
    assert "fields" in status[9] and "line 11" in status[9]
    assert [r["match"] for r in got] == ["name", "none", "none", "none", "none", "none", "position", "none", "none",
                                         "none", "name"]


def test_epochs_far_from_j2000_are_refused(live_server: LiveServer) -> None:
    got = answers(post(live_server, b"ra,dec,epoch\n10,10,1700\n10,10,2100\n"), "json")
    assert "150 years" in got[0]["status"] and got[1]["status"] == "ok"
    resp = post(live_server, b"ra,dec\n10,10\n", epoch="1700")
    assert resp.status_code == 400 and "150 years" in resp.text


def test_many_distinct_names(live_server: LiveServer) -> None:
    names = [f"HIP {n}" for n in range(32000, 33500)]  # over 1000: keys are computed off the event loop
    got = answers(post(live_server, csv_body([{"name": n} for n in names], ["name"])), "json")
    assert {r["match"] for r in got} <= {"name", "none", "ambiguous"}
    assert sum(r["match"] == "name" for r in got) > 1000
    assert got[names.index("HIP 32349")]["main_id"] == "* alf CMa"


def test_a_name_too_long_or_with_control_characters(live_server: LiveServer) -> None:
    got = answers(post(live_server, orjson.dumps([{"name": "x" * 300}, {"name": "Sir\x00ius"}]),
                       "application/json"), "json")
    assert "longer" in got[0]["status"]
    assert got[1]["main_id"] == "* alf CMa"


@pytest.fixture(scope="module")
def small_server(snapshot_dsn: str, settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(snapshot_dsn, replace(settings, xmatch_max_rows=50, xmatch_max_bytes=20_000,
                                              xmatch_max_radius_deg=10 / 3600))
    server.start()
    yield server
    server.stop()


@pytest.mark.parametrize("body", ["csv", "json", "votable"])
def test_over_the_row_limit_is_413(small_server: LiveServer, body: str) -> None:
    make, content_type = BODIES[body]
    rows = [{"ra": 10.0 + i / 100, "dec": 5.0} for i in range(51)]
    resp = post(small_server, make(rows, ["ra", "dec"]), content_type)
    assert resp.status_code == 413
    assert "50 rows" in resp.json()["detail"]
    assert post(small_server, make(rows[:50], ["ra", "dec"]), content_type).status_code == 200


def test_over_the_byte_limit_is_413(small_server: LiveServer) -> None:
    body = b"name\n" + b"Sirius\n" * 3000
    resp = post(small_server, body, format="csv")
    assert resp.status_code == 413
    assert "20000 bytes" in resp.text


def test_radius_cap_is_configurable(small_server: LiveServer) -> None:
    assert post(small_server, b"name\nSirius\n", radius="11arcsec").status_code == 400
    got = answers(post(small_server, b"ra,dec,radius\n10,10,11\n"), "json")
    assert "maximum" in got[0]["status"]


_CELLS = st.one_of(
    st.text(max_size=12),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "NaN", "95", "-0", "06 45 08.9", "-16 42 58", "J2000", "2024-01-01", "2arcsec", "Sirius",
                     "1e400", "360", "\"", "a,b", "HIP 32349"]),
)


@hsettings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(header=st.lists(st.sampled_from(["name", "ra", "dec", "epoch", "radius", "RA", "x", ""]), min_size=1,
                       max_size=5),
       rows=st.lists(st.lists(_CELLS, max_size=6), max_size=8),
       fmt=st.sampled_from(FORMATS))
def test_arbitrary_csv_never_gives_5xx(live_server: LiveServer, header: list[str], rows: list[list[str]],
                                       fmt: str) -> None:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(header)
    w.writerows(rows)
    resp = post(live_server, buf.getvalue().encode(), format=fmt)
    assert resp.status_code < 500, resp.text[:500]
    if resp.status_code == 200:
        assert len(answers(resp, fmt)) >= 1


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=300), content_type=st.sampled_from(
    ["text/csv", "application/json", "application/x-votable+xml", "text/tab-separated-values"]))
def test_arbitrary_bytes_never_give_5xx(live_server: LiveServer, body: bytes, content_type: str) -> None:
    assert post(live_server, body, content_type).status_code < 500


# ---------------------------------------------------------------------------------------
# Command line and synthetic stars


def test_cli_matches_a_file_in_chunks(snapshot_dsn: str, settings: Settings, tmp_path: Path,
                                      mixed_rows: list[dict[str, Any]], live_server: LiveServer,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from getstar import cli
    from getstar.xmatch import runner

    monkeypatch.setattr(runner, "CHUNK", 7)  # several queries for one file
    src = tmp_path / "targets.csv"
    src.write_bytes(csv_body(mixed_rows, ["name", "ra", "dec"]))
    out = tmp_path / "out.vot"
    code = cli.cmd_xmatch(replace(settings, database_url=snapshot_dsn), src, None, None, "votable", out)
    assert code == 0

    class Saved:
        status_code = 200
        content = out.read_bytes()

    reference = answers(post(live_server, src.read_bytes(), format="votable"), "votable")
    assert answers(Saved(), "votable") == reference  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def synthetic_dsn(make_database, settings: Settings) -> str:  # type: ignore[no-untyped-def]
    from getstar.ingest.pipeline import run_ingest
    from getstar.schema import migrate

    dsn = make_database("xmatch_synthetic")

    async def load() -> None:
        conn = await asyncpg.connect(dsn)
        try:
            await migrate(conn)
        finally:
            await conn.close()
        await run_ingest(dsn, settings, "synthetic", [], progress=lambda _label: None, rows=3000)

    asyncio.run(load())
    return dsn


def test_synthetic_stars_are_seeded_and_plausible() -> None:
    from getstar.ingest import synthetic

    first = list(synthetic.records(5000, seed=3, chunk=700))
    assert first == list(synthetic.records(5000, seed=3, chunk=700))
    cols = np.array([r[1:] for r in first])
    ra, dec, pmra, pmdec, plx, v, g, k = cols.T
    assert [r[0] for r in first] == list(range(1, 5001))
    assert ra.min() >= 0 and ra.max() < 360 and dec.min() >= -90 and dec.max() <= 90
    assert abs(np.mean(np.sin(np.radians(dec)))) < 0.05  # uniform on the sphere
    assert abs(np.mean(np.abs(np.sin(np.radians(dec)))) - 0.5) < 0.03
    assert np.hypot(pmra, pmdec).max() <= synthetic.MAX_PM
    assert np.median(v) > 10 and v.min() >= -1.5 and v.max() <= 13  # faint stars dominate
    assert (k < v).all() and (plx > 0).all()


def test_synthetic_snapshot_is_served_and_matched(synthetic_dsn: str, settings: Settings) -> None:
    rows = fetch(synthetic_dsn, "SELECT main_id, ra, dec, ra_o FROM live.star ORDER BY star_id LIMIT 5")
    assert len(fetch(synthetic_dsn, "SELECT 1 FROM live.star")) == 3000
    assert [r["ra_o"] for r in fetch(synthetic_dsn, "SELECT ra_o FROM live.star WHERE main_id = 'SYN 1'")] == [2]
    server = LiveServer(synthetic_dsn, settings)
    server.start()
    try:
        body = csv_body([{"ra": r["ra"], "dec": r["dec"]} for r in rows] + [{"name": "SYN 17"}], ["name", "ra", "dec"])
        got = answers(post(server, body), "json")
    finally:
        server.stop()
    assert [r["main_id"] for r in got] == [r["main_id"] for r in rows] + ["SYN 17"]


def test_stars_are_numbered_and_stored_in_sky_order(synthetic_dsn: str) -> None:
    """The build numbers each source's stars along q3c's curve and writes them in that order
    (star_sql.insert_stars): neighbours on the sky are neighbours on disk, without a sort of
    the wide rows.  The synthetic stars are one source, generated in random order."""
    rows = fetch(synthetic_dsn, "SELECT q3c_ang2ipix(ra, dec) AS ipix, (ctid::text::point)[0] AS page "
                                "FROM live.star ORDER BY star_id")
    ipix = [r["ipix"] for r in rows]
    assert ipix == sorted(ipix)
    pages = [r["page"] for r in rows]
    assert pages == sorted(pages) and pages[-1] > 0  # several pages, read in id order


# ---------------------------------------------------------------------------------------
# Streaming


def test_streams_in_chunks_in_order(live_server: LiveServer, mixed_rows: list[dict[str, Any]],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from getstar.xmatch import endpoint

    body = csv_body(mixed_rows, ["name", "ra", "dec"])
    reference = answers(post(live_server, body, format="csv"), "csv")
    monkeypatch.setattr(endpoint, "CHUNK", 7)  # the server runs in this process: many fetches ahead
    for fmt in FORMATS:
        got = [{k: v for k, v in r.items() if k != "input"} for r in answers(post(live_server, body, format=fmt), fmt)]
        assert got == reference


@pytest.mark.parametrize("chunk", [7, 2000])
def test_large_batches_split_over_two_connections_answer_alike(live_server: LiveServer,
                                                               mixed_rows: list[dict[str, Any]],
                                                               monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    from getstar.xmatch import endpoint

    body = csv_body(mixed_rows, ["name", "ra", "dec"])
    reference = {fmt: answers(post(live_server, body, format=fmt), fmt) for fmt in FORMATS}
    monkeypatch.setattr(endpoint, "PARALLEL_MIN", 10)  # the second half on a second connection
    monkeypatch.setattr(endpoint, "CHUNK", chunk)
    for fmt in FORMATS:
        assert answers(post(live_server, body, format=fmt), fmt) == reference[fmt]


def test_clients_leaving_mid_stream_give_their_connection_back(live_server: LiveServer,
                                                               perturbed: list[dict[str, Any]],
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from getstar.xmatch import endpoint

    monkeypatch.setattr(endpoint, "CHUNK", 5)
    monkeypatch.setattr(endpoint, "PARALLEL_MIN", 100)  # two connections per request
    body = csv_body(perturbed * 4, ["ra", "dec"])
    for _ in range(15):  # more than the pool holds
        with httpx.stream("POST", f"{live_server.url}/v1/xmatch", content=body,
                          headers={"Content-Type": "text/csv"}, params={"format": "votable"}, timeout=30) as resp:
            assert resp.status_code == 200
            next(resp.iter_bytes())
    got = answers(post(live_server, csv_body(perturbed[:5], ["ra", "dec"])), "json")
    assert [r["main_id"] for r in got] == [p["expect"] for p in perturbed[:5]]


# ---------------------------------------------------------------------------------------
# Against astropy


EDGE_STARS = """
(SELECT star_id, main_id, ra, dec FROM live.star TABLESAMPLE BERNOULLI (1) REPEATABLE (23) LIMIT 1500)
UNION ALL (SELECT star_id, main_id, ra, dec FROM live.star WHERE ra < 0.02 OR ra > 359.98 LIMIT 150)
UNION ALL (SELECT star_id, main_id, ra, dec FROM live.star ORDER BY abs(dec) DESC LIMIT 150)
"""


def _sky_targets(stars: list[asyncpg.Record], seed: int) -> list[dict[str, Any]]:
    """Each star at a random offset within 1.3 radii (radii 1" to 20", cells to q3c), and as
    many random positions on the sphere."""
    rng = np.random.default_rng(seed)
    rows = []
    for k, star in enumerate(stars):
        radius = [1.0, 2.0, 5.0, 20.0][k % 4]
        ra, dec = offset(star["ra"], star["dec"], float(rng.uniform(0, radius * 1.3)), float(rng.uniform(0, 360)))
        rows.append({"ra": ra, "dec": dec, "radius": radius})
    for k in range(len(stars) // 4):
        rows.append({"ra": float(rng.uniform(0, 360)), "dec": float(np.degrees(np.arcsin(rng.uniform(-1, 1)))),
                     "radius": [2.0, 20.0][k % 2]})
    return rows


def test_plain_positions_match_as_astropy_search_around_sky(live_server: LiveServer, snapshot_dsn: str) -> None:
    """Real positions (anywhere, across RA 0, near the poles) offset from snapshot stars, and
    random ones: the number of stars within each radius and the nearest are astropy's
    ``search_around_sky`` on the whole snapshot."""
    stars = fetch(snapshot_dsn, EDGE_STARS)
    rows = _sky_targets(stars, 29)
    got = answers(post(live_server, csv_body(rows, ["ra", "dec", "radius"]), radius="20arcsec"), "json")
    catalogue = fetch(snapshot_dsn, "SELECT main_id, ra, dec FROM live.star")
    cat = SkyCoord(np.array([c["ra"] for c in catalogue]) * u.deg, np.array([c["dec"] for c in catalogue]) * u.deg)
    names = [c["main_id"] for c in catalogue]
    radii = np.array([r["radius"] for r in rows])
    targets = SkyCoord(np.array([r["ra"] for r in rows]) * u.deg, np.array([r["dec"] for r in rows]) * u.deg)
    want: list[tuple[int, str | None]] = [(0, None)] * len(rows)
    for radius in np.unique(radii):
        which = np.flatnonzero(radii == radius)
        ti, ci, sep, _ = cat.search_around_sky(targets[which], radius * u.arcsec)  # (around, self)
        for k in np.unique(ti):
            mine = ti == k
            want[which[k]] = (int(mine.sum()), names[ci[mine][np.argmin(sep[mine])]])
    counts = [w[0] for w in want]
    assert sum(k > 1 for k in counts) > 10 and counts.count(0) > 100 and counts.count(1) > 500  # all cases are here
    for row, g, w in zip(rows, got, want, strict=True):
        assert (g["n_candidates"] or 0, g["main_id"]) == w, row

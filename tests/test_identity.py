"""Which star each identifier answers (getstar.ingest.identity): SIMBAD's owner, ranked proper
names, multiple systems — the rules by property, then over the whole real snapshot."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import asyncpg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from getstar.formats.model import Answer
from getstar.ingest.identity import _names_no_member, _systems
from getstar.names import ident_key
from getstar.resolver import Resolver

# ----------------------------------------------------------------------------------------------
# The rule for systems, without a database


def test_lettered_components_answer_the_A_component() -> None:
    systems = _systems([(1, "* alf Cen A"), (2, "* alf Cen B"), (3, "* 61 Cyg B")], [])
    assert systems["* alf Cen"].primary == 1 and systems["* alf Cen"].components == [1, 2]
    assert systems["* 61 Cyg"].primary is None  # only B known: no primary to answer


def test_double_star_numbers_with_letters_name_their_system() -> None:
    """'ADS 5423 A' names a component of 'ADS 5423' (spaced letters: ADS, IDS, GJ; attached: CCDM,
    WDS); a number without letters, or with more than a component's, names no system."""
    numbers = [(1, "ADS 5423 A"), (2, "ADS 5423 B"), (1, "CCDM J06451-1643A"), (3, "GJ 67 B"), (4, "GJ 1"),
               (5, "WDS J01376-0924AB"), (6, "WDS J00057+4549Aa,Ab"), (7, "ADS 8197 AB")]
    systems = _systems([], [], numbers)
    assert systems["ADS 5423"].primary == 1 and systems["ADS 5423"].components == [1, 2]
    assert systems["CCDM J06451-1643"].primary == 1 and systems["GJ 67"].primary is None
    assert systems["WDS J01376-0924"].primary == 5 and systems["ADS 8197"].primary == 7
    assert set(systems) == {"ADS 5423", "CCDM J06451-1643", "GJ 67", "WDS J01376-0924", "ADS 8197"}


def test_numbered_members_make_a_system_only_in_one_wds_system() -> None:
    designations = [(1, "* alf01 Cru"), (2, "* alf02 Cru"), (3, "* tau01 Eri"), (4, "* tau02 Eri")]
    wds = [(1, "12266-6306", "A"), (2, "12266-6306", "B"), (3, "02451-1834", "A"), (4, "02510-2100", "A")]
    systems = _systems(designations, wds)
    assert systems["* alf Cru"].primary == 1
    assert systems["* tau Eri"].primary is None and systems["* tau Eri"].components == [3, 4]


def test_wds_letters_choose_the_primary_of_numbered_members() -> None:
    """alf Lib: SIMBAD's alf02 Lib is WDS component A, alf01 Lib component B."""
    systems = _systems([(1, "* alf01 Lib"), (2, "* alf02 Lib")], [(1, "14509-1603", "B"), (2, "14509-1603", "A")])
    assert systems["* alf Lib"].primary == 2 and systems["* alf Lib"].components == [2, 1]


LETTERS = st.sampled_from(["A", "B", "C", "D", "Aa", "Ab", "AB", "Ba", "E"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.integers(1, 50), LETTERS, min_size=1, max_size=6),
       st.sampled_from(["alf", "bet", "36", "b", "mu."]), st.sampled_from(["Cen", "Oph", "CMa", "UMa"]))
def test_primary_is_the_first_lettered_component_starting_with_A(letters: dict[int, str], designation: str,
                                                                  constellation: str) -> None:
    systems = _systems([(sid, f"* {designation} {constellation} {x}") for sid, x in letters.items()], [])
    system = systems[f"* {designation} {constellation}"]
    assert sorted(system.components) == sorted(letters)
    first = min(letters.values())
    if first.startswith("A"):
        assert system.primary is not None and letters[system.primary] == first
    else:
        assert system.primary is None
    if system.primary is not None:
        assert system.components[0] == system.primary


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["12266-6306", "02583-4018", "20176-1230"]), LETTERS),
                min_size=2, max_size=5))
def test_numbered_primary_only_within_one_wds_system(members: list[tuple[str, str]]) -> None:
    designations = [(sid, f"* tet{sid:02d} Eri") for sid in range(1, len(members) + 1)]
    wds = [(sid, root, letters) for sid, (root, letters) in enumerate(members, 1)]
    system = _systems(designations, wds)["* tet Eri"]
    one_root = len({root for root, _ in members}) == 1
    if not one_root:
        assert system.primary is None
    elif min(letters for _, letters in members).startswith("A"):
        assert system.primary is not None
    assert sorted(system.components) == list(range(1, len(members) + 1))


@pytest.mark.parametrize(("identifier", "system_level"), [
    ("HIP 84405", True), ("HD 155885", True), ("NAME Guniibuu", True), ("* 36 Oph", True), ("* A Oph", True),
    ("WDS J17153-2636", True), ("* 36 Oph B", False), ("* eps02 Lyr", False), ("HD 155885B", False),
    ("WDS J17153-2636B", False), ("Gaia DR3 4109030160308317312", False), ("V* NU Pav", False), ("* v02 Pup", False),
    ("NAME Tali al Shaulah II", False), ("NAME Mizar B", False), ("NAME Alkalbain IV", False),
    ("NAME Piazzi's Flying Star", True),
])
def test_which_identifiers_may_name_a_whole_system(identifier: str, system_level: bool) -> None:
    assert _names_no_member(identifier) is system_level


# ----------------------------------------------------------------------------------------------
# The real snapshot


@pytest.fixture(scope="module")
def resolve(snapshot_dsn: str) -> Iterator:  # type: ignore[type-arg]
    """resolve(names) -> answers, through the service's resolver on the real snapshot.

    Its loop runs in a thread of its own, so async tests (whose loop is running) may call it."""
    from concurrent.futures import ThreadPoolExecutor

    loop = asyncio.new_event_loop()
    worker = ThreadPoolExecutor(1)

    def on_loop(coro):  # type: ignore[no-untyped-def]
        return worker.submit(loop.run_until_complete, coro).result()

    async def make_pool() -> asyncpg.Pool:
        return await asyncpg.create_pool(snapshot_dsn, min_size=1, max_size=2)

    pool = on_loop(make_pool())

    def run(names: list[str]) -> list[Answer]:
        return on_loop(Resolver(pool).resolve_names(names))  # type: ignore[no-any-return]

    yield run
    on_loop(pool.close())
    worker.shutdown()
    loop.close()


SYSTEMS = [
    ("alf Cen", "* alf Cen", "* alf Cen A", ["* alf Cen A", "* alf Cen B"]),
    ("α Cen", "* alf Cen", "* alf Cen A", ["* alf Cen A", "* alf Cen B"]),
    ("Alpha Centauri", "* alf Cen", "* alf Cen A", ["* alf Cen A", "* alf Cen B"]),
    ("bet Sco", "* bet Sco", "* bet01 Sco", ["* bet01 Sco"]),
    ("alf Cru", "* alf Cru", "* alf01 Cru", ["* alf01 Cru", "* alf02 Cru"]),
    ("xi UMa", "* ksi UMa", "* ksi UMa A", ["* ksi UMa A", "* ksi UMa B"]),
    ("* gam Leo", "* gam Leo", "* gam01 Leo", ["* gam01 Leo", "* gam02 Leo"]),
    ("zet Cnc", "* zet Cnc", "* zet01 Cnc A", ["* zet01 Cnc A", "* zet01 Cnc B", "* zet02 Cnc"]),
    ("* tet Eri", "* tet Eri", "* tet01 Eri", ["* tet01 Eri", "* tet02 Eri"]),
    ("theta Eridani", "* tet Eri", "* tet01 Eri", ["* tet01 Eri", "* tet02 Eri"]),
    ("eps Lyr", "* eps Lyr", "* eps01 Lyr A", ["* eps01 Lyr A", "* eps01 Lyr B", "* eps02 Lyr A", "* eps02 Lyr B"]),
    ("eps02 Lyr", "* eps02 Lyr", "* eps02 Lyr A", ["* eps02 Lyr A", "* eps02 Lyr B"]),
    # the pair's Hipparcos entry, its proper name and designation sat on 36 Oph B (issue 15)
    ("36 Oph", "* 36 Oph", "* 36 Oph A", ["* 36 Oph A", "* 36 Oph B"]),
    ("HIP 84405", "* 36 Oph", "* 36 Oph A", ["* 36 Oph A", "* 36 Oph B"]),
    ("Guniibuu", "* 36 Oph", "* 36 Oph A", ["* 36 Oph A", "* 36 Oph B"]),
    # double-star catalogue numbers SIMBAD gives with letters only ('ADS 5423 A', 'GJ 244 A')
    ("GJ 244", "GJ 244", "* alf CMa", ["* alf CMa"]),
    ("Gliese 244", "GJ 244", "* alf CMa", ["* alf CMa"]),
    ("ADS 5423", "ADS 5423", "* alf CMa", ["* alf CMa"]),
    ("CCDM J06451-1643", "CCDM J06451-1643", "* alf CMa", ["* alf CMa"]),
    ("WDS J06451-1643", "WDS J06451-1643", "* alf CMa", ["* alf CMa"]),
]


@pytest.mark.parametrize(("typed", "system", "primary", "components"), SYSTEMS, ids=[s[0] for s in SYSTEMS])
def test_a_multiple_system_answers_its_primary_flagged(resolve, typed: str, system: str, primary: str,  # type: ignore[no-untyped-def]
                                                       components: list[str]) -> None:
    (answer,) = resolve([typed])
    assert answer.status == "ok" and answer.star is not None
    assert answer.star["main_id"] == primary
    assert answer.system == system and answer.candidates == components


@pytest.mark.parametrize(("typed", "star"), [
    ("alf Cap", "* alf02 Cap"),  # SIMBAD gives the system's designation to a star: that star, unflagged
    ("alf Lib", "* alf02 Lib"), ("gam And", "* gam01 And"), ("alf CMa", "* alf CMa"),
    ("alf Cen A", "* alf Cen A"), ("alf Cen B", "* alf Cen B"), ("36 Oph B", "* 36 Oph B"),
    ("HD 155885", "* 36 Oph B"), ("HR 6401", "* 36 Oph B"), ("HIP 91926", "* eps02 Lyr A"),
])
def test_held_names_and_components_answer_their_star(resolve, typed: str, star: str) -> None:  # type: ignore[no-untyped-def]
    (answer,) = resolve([typed])
    assert answer.status == "ok" and answer.star is not None and answer.star["main_id"] == star
    assert answer.system is None


def test_numbered_stars_of_no_one_system_are_ambiguous(resolve) -> None:  # type: ignore[no-untyped-def]
    (answer,) = resolve(["tau Eri"])
    assert answer.status == "ambiguous"
    assert sorted(answer.candidates) == [f"* tau0{n} Eri" for n in range(1, 10)]


async def test_every_simbad_double_keeps_its_identifiers(snapshot_conn: asyncpg.Connection) -> None:
    """Over every SIMBAD object of a multiple system in the snapshot (a component letter in one
    of its designations or WDS identifiers): each of its HIP/HD/HR/Bayer/Flamsteed identifiers
    answers SIMBAD's star, and only it."""
    doubles = await snapshot_conn.fetch(r"""
        SELECT DISTINCT b.oid, b.main_id FROM raw.simbad b JOIN raw.simbad_ident r USING (oid)
        WHERE r.id ~ '^\* \S+ \w{3} [A-Z][A-Za-z]{0,3}$' OR r.id ~ '^WDS J\d{5}[+-]\d{4}[A-Z]'""")
    assert len(doubles) > 1000
    # identifiers SIMBAD gives to one object only (counted once, grouped: raw has no key index)
    rows = await snapshot_conn.fetch(r"""
        WITH single AS (SELECT key FROM raw.simbad_ident GROUP BY key HAVING count(DISTINCT oid) = 1)
        SELECT r.id, r.key, s.star_id AS own,
               ARRAY(SELECT DISTINCT i.star_id FROM live.ident i WHERE i.key = r.key) AS holders,
               EXISTS (SELECT 1 FROM live.system_name y WHERE y.key = r.key) AS system_name
        FROM raw.simbad_ident r JOIN single USING (key) JOIN raw.simbad b USING (oid)
        JOIN live.star s ON s.p_simbad = b.main_id
        WHERE r.oid = any($1::bigint[]) AND r.id ~ '^(HIP|HD|HR) \d+[A-Z]*$|^\* '""",
        [r["oid"] for r in doubles])
    assert len(rows) > 5000
    wrong = [(r["id"], r["holders"], r["own"]) for r in rows if r["holders"] != [r["own"]] or r["system_name"]]
    assert wrong == []


async def test_hipparcos_data_follow_the_hip_number_simbad_gives(snapshot_conn: asyncpg.Connection) -> None:
    """HIP 11072 is kap For for SIMBAD, merged by its Gaia identifier: the Hipparcos entry moved
    onto that star, and the Hipparcos-only duplicate row is gone."""
    row = await snapshot_conn.fetchrow("SELECT main_id, p_hip, p_hp FROM live.star WHERE p_hip = 11072")
    assert row["main_id"] == "* kap For" and row["p_hp"] is not None
    assert await snapshot_conn.fetchval("SELECT count(*) FROM live.star WHERE main_id = 'HIP 11072'") == 0
    counts = await snapshot_conn.fetchval("SELECT row_counts FROM live.snapshot_info")
    assert counts["hipparcos_moved_to_simbad_owner"] == counts["simbad_identifier_conflicts"]


async def test_conflicts_are_reported_in_the_build(snapshot_conn: asyncpg.Connection) -> None:
    counts = await snapshot_conn.fetchval("SELECT row_counts FROM live.snapshot_info")
    for outcome in ("simbad_owner", "lower_authority", "ambiguous", "unconfirmed", "component_letter"):
        assert counts[f"identifiers_{outcome}"] == await snapshot_conn.fetchval(
            "SELECT count(*) FROM live.ident_conflict WHERE outcome = $1", outcome), outcome
    assert counts["identifiers_simbad_owner"] > 100 and counts["identifiers_lower_authority"] > 0
    assert counts["systems_primary"] > 100 and counts["system_names"] > counts["systems_primary"]
    # Stellarium gives 'Mirzam' to Betelgeuse too; SIMBAD to bet CMa: recorded, and gone from Betelgeuse
    mirzam = await snapshot_conn.fetchrow(
        "SELECT c.outcome, s.main_id FROM live.ident_conflict c JOIN live.star s USING (star_id) "
        "WHERE c.key = 'NAME MIRZAM'")
    assert dict(mirzam) == {"outcome": "simbad_owner", "main_id": "* alf Ori"}


@pytest.mark.parametrize(("typed", "star"), [
    ("Mirzam", "* bet CMa"), ("Toliman", "* alf Cen B"), ("Rigil Kentaurus", "* alf Cen A"),
    ("Betelgeuse", "* alf Ori"), ("Acrux", "* alf01 Cru"), ("Castor", "* alf Gem A"),
])
def test_proper_names_answer_by_rank(resolve, typed: str, star: str) -> None:  # type: ignore[no-untyped-def]
    (answer,) = resolve([typed])
    assert answer.status == "ok" and answer.star is not None and answer.star["main_id"] == star


async def test_a_lower_name_loses_to_a_higher_one(snapshot_conn: asyncpg.Connection, resolve) -> None:  # type: ignore[no-untyped-def]
    """Every name Stellarium gives to several stars stays only where its rank is highest."""
    lost = await snapshot_conn.fetch(
        "SELECT c.id, c.kept_on FROM live.ident_conflict c WHERE c.outcome = 'lower_authority'")
    assert lost
    answers = resolve([r["id"] for r in lost])
    for r, answer in zip(lost, answers, strict=True):
        if len(r["kept_on"]) == 1 and answer.status == "ok":
            assert answer.star is not None and answer.star["star_id"] == r["kept_on"][0], r["id"]
        else:
            assert answer.status in ("ok", "ambiguous"), r["id"]


async def test_a_contradicted_component_letter_is_dropped(snapshot_conn: asyncpg.Connection, resolve) -> None:  # type: ignore[no-untyped-def]
    """Stellarium calls bet02 Sco '8 Sco B'; SIMBAD calls it '8 Sco C'."""
    dropped = await snapshot_conn.fetch("SELECT id FROM live.ident_conflict WHERE outcome = 'component_letter'")
    assert "* 8 Sco B" in {r["id"] for r in dropped}
    (answer,) = resolve(["8 Sco B"])
    assert answer.status == "not_found" or (answer.star is not None and answer.star["main_id"] != "* bet02 Sco")


async def test_system_names_are_not_identifiers_of_a_star(snapshot_conn: asyncpg.Connection) -> None:
    """A key is a star's identifier or a system's name, never both for one star."""
    both = await snapshot_conn.fetchval(
        "SELECT count(*) FROM live.system_name y JOIN live.ident i ON i.key = y.key AND i.star_id = y.star_id")
    assert both == 0
    assert ident_key("alf Cen") in {r["key"] for r in await snapshot_conn.fetch("SELECT key FROM live.system_name")}

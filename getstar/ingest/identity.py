"""Which star each identifier answers: SIMBAD's owner, ranked proper names, multiple systems.

The snapshot build (``build._build_idents``) gathers every identifier of every source in
``staging.ident_all`` (star, identifier, key, source: 3 SIMBAD, 2 Stellarium, 1 Gaia/Hipparcos
numbers, 0 main ids; and a proper name's authority), then settles ownership here, by rules
tested over the whole real snapshot (``tests/test_identity.py``):

1. **SIMBAD's owner wins.** An identifier SIMBAD gives to an object answers that object's
   star only; a lower source (Stellarium, a Hipparcos number) that gave it to another star
   loses it there (``ident_conflict``, outcome ``simbad_owner``).  (The Hipparcos data of a
   HIP number SIMBAD gives to another star follow it: ``build._merge_simbad``.)
2. **Proper names are ranked**: SIMBAD's ``NAME`` identifiers, then Stellarium's names from
   an IAU list, then those with another reference, then unreferenced ones
   (``stellarium.name_authority``).  A name lower sources give to several stars stays on
   those of the highest rank (outcome ``lower_authority`` for the others); several of equal
   rank keep it and the name is ambiguous (``ambiguous``).  Stellarium names on a star
   SIMBAD knows under other names are kept and counted (``unconfirmed``).
3. **Multiple systems.**  SIMBAD names the components of a system with letters
   (``* alf Cen A``, ``* alf Cen B``) or numbers its members (``* alf01 Cru``, ``* alf02 Cru``).
   The designation without them (``* alf Cen``, ``* alf Cru``) names the system, and so do the
   double-star catalogues' numbers SIMBAD gives only with letters (``ADS 5423 A``, ``GJ 244 A``,
   ``CCDM J06451-1643A``: ``ADS 5423``, ``GJ 244``, ``CCDM J06451-1643`` name Sirius's system):

   - components: the stars holding ``<system> <letters>``; else the numbered members, when
     they all belong to one WDS system (a WDS identifier with the same root); numbered stars
     that do not (``tau01`` .. ``tau09 Eri``) make the name ambiguous between them;
   - primary: the component whose letters (SIMBAD's, or WDS's for numbered members) come
     first, when they start with ``A``; none starts with ``A``: ambiguous between them;
   - the name answers the primary, flagged as such, with the components as candidates
     (``system_name``), unless SIMBAD gives the name itself to a star of the snapshot (the
     system is held: it answers that star as any identifier);
   - identifiers only a lower source gives to a secondary component, and that name no member
     (a HIP number, a catalogue number without letter, a proper name, a WDS system, a
     designation without number or letter), name its innermost system too: Stellarium
     attaches its names to a Hipparcos entry, and Hipparcos measured a pair as one entry
     (``HIP 84405``, ``Guniibuu`` and ``36 Oph`` sat on 36 Oph B).  A star that is the primary
     of its innermost system keeps them (``HIP 91926`` stays on eps02 Lyr A);
   - a lower source's component letter contradicted by SIMBAD's for the same star and system
     (Stellarium's ``8 Sco B`` on SIMBAD's ``8 Sco C``) is dropped (``component_letter``).

``KEY_RULE`` marks raw tables whose keys were made by the current ``names.ident_key``: the
build recomputes the keys of a table made by an older rule (``refresh_raw_keys``).
"""

from __future__ import annotations

import collections
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import asyncpg

from getstar.names import canonical, ident_key

#: Version of ``names.ident_key``'s rule, written as the comment of the raw tables holding keys.
KEY_RULE = ("getstar key rule 4 (diacritics folded, Latin Bayer letters keep their case; full-width forms, "
            "invisible characters, khi, BS, CP, glued designations; apostrophes dropped)")
#: Raw tables whose ``key`` column is ``ident_key(id)``.
KEYED_TABLES = ("raw.stellarium", "raw.simbad_ident", "raw.simbad_learned_ident")

SIMBAD, STELLARIUM, NUMBERS, MAIN = 3, 2, 1, 0
#: Authority of SIMBAD's names, above every Stellarium rank (see ``stellarium.name_authority``).
SIMBAD_AUTHORITY = 9

# '* alf01 Cru', '* 36 Oph A', '* q01 Eri', '* zet01 Cnc B': designation, number, constellation,
# component letters (upper-case: lower-case letters are planets).
_DESIGNATION = re.compile(
    r"\* ([a-z]{2}[a-z.]|[A-Za-z]|[0-9]{1,3})([0-9]{2})? ([A-Z][A-Za-z]{2})(?: ([A-Z][A-Za-z]{0,3}))?")
_WDS = re.compile(r"WDS J([0-9]{5}[+-][0-9]{4})(.*)")
# Double-star catalogue numbers with component letters, as SIMBAD writes them ('ADS 5423 A',
# 'GJ 244 A', 'CCDM J06451-1643A', 'WDS J06451-1643AB'): the number, the letters.
_LETTERED_NUMBER = re.compile(r"((?:ADS|IDS|GJ) [0-9][0-9.+-]*) ([A-Z][A-Za-z]{0,3})"
                              r"|((?:CCDM|WDS) J[0-9]{5}[+-][0-9]{4})([A-Z][A-Za-z]{0,3})")


@dataclass
class System:
    """A multiple system named by ``name`` (canonical, e.g. '* alf Cen')."""

    name: str
    #: star id -> its component letters ('' when only numbered)
    lettered: dict[int, str] = field(default_factory=dict)
    numbered: dict[int, int] = field(default_factory=dict)
    #: star id -> its designation in this system (the first in sort order): orders members tied on
    #: their number ('* phi02 Cnc A' before '* phi02 Cnc B'), whatever order the build gave their ids
    designation: dict[int, str] = field(default_factory=dict)
    components: list[int] = field(default_factory=list)
    primary: int | None = None

    @property
    def kind(self) -> str:
        return "primary" if self.primary is not None else "ambiguous"


async def refresh_raw_keys(conn: asyncpg.Connection) -> dict[str, int]:
    """Recompute the keys of raw tables made by an older ``ident_key`` rule (once per table)."""
    counts: dict[str, int] = {}
    for table in KEYED_TABLES:
        if not await conn.fetchval("SELECT to_regclass($1) IS NOT NULL", table):
            continue
        if await conn.fetchval("SELECT obj_description($1::regclass, 'pg_class')", table) == KEY_RULE:
            continue
        rows = await conn.fetch(f"SELECT DISTINCT id FROM {table}")
        await conn.execute("CREATE TEMP TABLE fresh_keys (id text, key text)")
        try:
            await conn.copy_records_to_table("fresh_keys", records=[(r["id"], ident_key(r["id"])) for r in rows])
            changed = await conn.execute(f"UPDATE {table} t SET key = f.key FROM fresh_keys f "
                                         "WHERE t.id = f.id AND t.key IS DISTINCT FROM f.key")
        finally:
            await conn.execute("DROP TABLE fresh_keys")
        await mark_keys_current(conn, table)
        counts[f"keys_refreshed_{table.removeprefix('raw.')}"] = int(changed.split()[-1])
    return counts


async def mark_keys_current(conn: asyncpg.Connection, table: str) -> None:
    """Record that ``table``'s keys follow the current rule (loaders call it after a load)."""
    await conn.execute(f"COMMENT ON TABLE {table} IS '{KEY_RULE}'")


async def settle_names(conn: asyncpg.Connection, schema: str) -> dict[str, int]:
    """Rules 1 and 2 on ``<schema>.ident`` (ranks from ``<schema>.ident_rank``)."""
    s = schema
    # 1. SIMBAD's owner wins
    await conn.execute(f"""
        WITH gone AS (
            DELETE FROM {s}.ident i WHERE i.source < {SIMBAD} AND EXISTS (
                SELECT 1 FROM {s}.ident j WHERE j.key = i.key AND j.source = {SIMBAD} AND j.star_id <> i.star_id)
            RETURNING i.*)
        INSERT INTO {s}.ident_conflict
        SELECT g.key, g.id, g.star_id, g.source, r.authority, 'simbad_owner',
               ARRAY(SELECT j.star_id FROM {s}.ident j WHERE j.key = g.key ORDER BY j.star_id)
        FROM gone g LEFT JOIN {s}.ident_rank r ON r.star_id = g.star_id AND r.key = g.key""")
    # 2. proper names lower sources give to several stars: the highest authority keeps them
    await conn.execute(f"""
        CREATE TEMP TABLE name_holders AS
        SELECT i.key, i.id, i.star_id, i.source, coalesce(r.authority, 0) AS authority,
               max(coalesce(r.authority, 0)) OVER (PARTITION BY i.key) AS best,
               count(*) OVER (PARTITION BY i.key) AS holders
        FROM {s}.ident i LEFT JOIN {s}.ident_rank r ON r.star_id = i.star_id AND r.key = i.key
        WHERE i.key LIKE 'NAME %' AND i.source < {SIMBAD}""")
    await conn.execute(f"""
        INSERT INTO {s}.ident_conflict
        SELECT h.key, h.id, h.star_id, h.source, h.authority,
               CASE WHEN h.authority < h.best THEN 'lower_authority' ELSE 'ambiguous' END,
               ARRAY(SELECT w.star_id FROM name_holders w WHERE w.key = h.key AND w.authority = h.best
                     ORDER BY w.star_id)
        FROM name_holders h WHERE h.holders > 1""")
    await conn.execute(f"""
        DELETE FROM {s}.ident i USING name_holders h
        WHERE i.key = h.key AND i.star_id = h.star_id AND h.authority < h.best""")
    # Stellarium names on a star whose SIMBAD object lists names, but not this one: kept, counted
    await conn.execute(f"""
        INSERT INTO {s}.ident_conflict
        SELECT h.key, h.id, h.star_id, h.source, h.authority, 'unconfirmed', ARRAY[h.star_id]
        FROM name_holders h
        WHERE h.authority >= h.best AND EXISTS (
            SELECT 1 FROM {s}.ident j WHERE j.star_id = h.star_id AND j.source = {SIMBAD} AND j.key LIKE 'NAME %')""")
    await conn.execute("DROP TABLE name_holders")
    rows = await conn.fetch(f"SELECT outcome, count(*) AS n FROM {s}.ident_conflict GROUP BY outcome")
    counts = {f"identifiers_{r['outcome']}": int(r["n"]) for r in rows}
    for outcome in ("simbad_owner", "lower_authority", "ambiguous", "unconfirmed"):
        counts.setdefault(f"identifiers_{outcome}", 0)
    return counts


def _systems(designations: list[tuple[int, str]], wds: list[tuple[int, str, str]],
             numbers: Sequence[tuple[int, str]] = ()) -> dict[str, System]:
    """Systems named by SIMBAD's designations and its double-star catalogue numbers with letters
    (``numbers``: 'ADS 5423 A' -> 'ADS 5423'; rule 3): canonical name -> System."""
    systems: dict[str, System] = {}
    for star_id, identifier in numbers:
        m = _LETTERED_NUMBER.fullmatch(identifier)
        if m is None:
            continue
        base, component = (m[1], m[2]) if m[1] is not None else (m[3], m[4])
        system = systems.setdefault(base, System(base))
        previous = system.lettered.get(star_id)
        system.lettered[star_id] = component if previous is None else min(previous, component)
        system.designation[star_id] = min(system.designation.get(star_id, identifier), identifier)
    for star_id, identifier in designations:
        m = _DESIGNATION.fullmatch(identifier)
        if m is None:
            continue
        letter, number, constellation, component = m.groups()
        if number is not None and letter.isdigit():
            continue  # no numbered Flamsteed designations
        if component is not None:
            base = f"* {letter}{number or ''} {constellation}"
            system = systems.setdefault(base, System(base))
            previous = system.lettered.get(star_id)
            system.lettered[star_id] = component if previous is None else min(previous, component)
            system.designation[star_id] = min(system.designation.get(star_id, identifier), identifier)
        if number is not None:
            base = f"* {letter} {constellation}"
            system = systems.setdefault(base, System(base))
            system.numbered[star_id] = int(number)
            system.designation[star_id] = min(system.designation.get(star_id, identifier), identifier)
    roots: dict[int, dict[str, str]] = collections.defaultdict(dict)
    for star_id, root, letters in wds:
        previous = roots[star_id].get(root)
        roots[star_id][root] = letters if previous in (None, "") else min(previous, letters or previous)
    for system in systems.values():
        if system.lettered:
            order = sorted(system.lettered, key=lambda sid: (system.lettered[sid], system.designation[sid], sid))
            system.components = order
            if system.lettered[order[0]].startswith("A"):
                system.primary = order[0]
            continue
        members = sorted(system.numbered, key=lambda sid: (system.numbered[sid], system.designation[sid], sid))
        if len(members) < 2:
            continue
        system.components = members
        shared = set.intersection(*(set(roots[sid]) for sid in members))
        if not shared:
            continue  # not one system: the name is ambiguous between the numbered stars
        root = min(shared)
        in_root = {sid: roots[sid][root] for sid in members}
        if all(in_root.values()):
            system.components = sorted(members, key=lambda sid: (in_root[sid], system.designation[sid], sid))
            if in_root[system.components[0]].startswith("A"):
                system.primary = system.components[0]
    return {name: system for name, system in systems.items() if system.components}


_SYSTEM_LEVEL = re.compile(r"(HIP|HIC|HD|HR|SAO) [0-9]+|NAME .+|WDS J[0-9]{5}[+-][0-9]{4}")
_MEMBER_NAME = re.compile(r"^NAME .+ (I{1,3}|IV|VI{0,3}|[A-Z])$")


def _names_no_member(identifier: str) -> bool:
    """Whether ``identifier`` may name a whole system: a catalogue number without a component
    letter, a proper name, a WDS system, a designation without number or letter ('* 36 Oph')."""
    if _SYSTEM_LEVEL.fullmatch(identifier):
        # 'Tali al Shaulah II', 'Mizar B': a name numbered or lettered for one member
        return not _MEMBER_NAME.search(identifier)
    m = _DESIGNATION.fullmatch(identifier)
    return m is not None and m[2] is None and m[4] is None


async def _drop_contradicted_letters(conn: asyncpg.Connection, schema: str,
                                     designations: list[tuple[int, str]]) -> int:
    """A lower source's component designation ('* 8 Sco B') on a star SIMBAD letters otherwise
    for the same system ('* 8 Sco C'): the letter is the lower source's mistake, dropped."""
    simbad_letters: dict[tuple[int, str], str] = {}
    for star_id, identifier in designations:
        m = _DESIGNATION.fullmatch(identifier)
        if m is not None and m[4] is not None:
            simbad_letters[(star_id, f"* {m[1]}{m[2] or ''} {m[3]}")] = m[4]
    wrong = []
    for r in await conn.fetch(f"SELECT star_id, id, key FROM {schema}.ident WHERE source < {SIMBAD} AND id LIKE '* %'"):
        m = _DESIGNATION.fullmatch(r["id"])
        if m is not None and m[4] is not None:
            letters = simbad_letters.get((r["star_id"], f"* {m[1]}{m[2] or ''} {m[3]}"))
            if letters is not None and letters != m[4]:
                wrong.append((r["star_id"], r["key"]))
    if wrong:
        await conn.execute("CREATE TEMP TABLE wrong_letters (star_id bigint, key text)")
        await conn.copy_records_to_table("wrong_letters", records=wrong)
        await conn.execute(f"""
            WITH gone AS (DELETE FROM {schema}.ident i USING wrong_letters w
                          WHERE i.star_id = w.star_id AND i.key = w.key RETURNING i.*)
            INSERT INTO {schema}.ident_conflict
            SELECT key, id, star_id, source, NULL, 'component_letter', ARRAY[]::bigint[] FROM gone""")
        await conn.execute("DROP TABLE wrong_letters")
    return len(wrong)


async def build_systems(conn: asyncpg.Connection, schema: str) -> dict[str, int]:
    """Rule 3: ``<schema>.system_name`` (key, id, star_id, system, components, kind)."""
    s = schema
    designations = [(r["star_id"], r["id"]) for r in await conn.fetch(
        f"SELECT star_id, id FROM {s}.ident WHERE source = {SIMBAD} AND id LIKE '* %'")]
    wds = []
    for r in await conn.fetch(f"SELECT star_id, id FROM {s}.ident WHERE id LIKE 'WDS J%'"):
        m = _WDS.fullmatch(r["id"])
        if m is not None:
            wds.append((r["star_id"], m[1], m[2]))
    counts: collections.Counter[str] = collections.Counter()
    counts["identifiers_component_letter"] = await _drop_contradicted_letters(conn, s, designations)
    numbers = [(r["star_id"], r["id"]) for r in await conn.fetch(
        f"SELECT star_id, id FROM {s}.ident WHERE source = {SIMBAD} AND (id LIKE 'ADS %' OR id LIKE 'IDS %' "
        "OR id LIKE 'GJ %' OR id LIKE 'CCDM J%' OR id LIKE 'WDS J%')")]
    systems = _systems(designations, wds, numbers)
    held = {r["key"] for r in await conn.fetch(
        f"SELECT DISTINCT key FROM {s}.ident WHERE source = {SIMBAD} AND key = any($1::text[])",
        [ident_key(name) for name in systems])}
    entries: list[tuple[str, str, int, str, list[int], str]] = []
    displaced: list[tuple[int, str]] = []  # (star, key) of lower-source rows that become system names
    bases: list[str] = []
    for name, system in systems.items():
        key = ident_key(name)
        if key in held:
            counts["systems_held"] += 1
            continue
        if system.primary is None and len(system.components) < 2:
            continue  # one component known, and not the primary: nothing to answer
        counts[f"systems_{system.kind}"] += 1
        bases.append(key)
        for star_id in [system.primary] if system.primary is not None else system.components:
            entries.append((key, name, star_id, name, system.components, system.kind))
    # identifiers only lower sources give to a secondary component, and that name no member
    # (a HIP number, a proper name, a designation without number or letter), name its
    # innermost system; a star that is the primary of its innermost system keeps them
    innermost: dict[int, System] = {}
    for system in systems.values():
        for star_id in system.components:
            best = innermost.get(star_id)
            if best is None or (len(system.components), system.name) < (len(best.components), best.name):
                innermost[star_id] = system
    secondary = {star_id: system for star_id, system in innermost.items()
                 if system.primary is not None and system.primary != star_id and ident_key(system.name) not in held}
    base_keys = set(bases)
    if secondary:
        rows = await conn.fetch(
            f"SELECT star_id, id, key FROM {s}.ident WHERE star_id = any($1::bigint[]) AND source IN ($2, $3)",
            list(secondary), STELLARIUM, NUMBERS)
        for r in rows:
            if r["key"] in base_keys or not _names_no_member(r["id"]):
                continue
            system = secondary[r["star_id"]]
            assert system.primary is not None
            entries.append((r["key"], r["id"], system.primary, system.name, system.components, "primary"))
            displaced.append((r["star_id"], r["key"]))
            counts["identifiers_of_systems"] += 1
    if displaced:
        await conn.execute("CREATE TEMP TABLE displaced (star_id bigint, key text)")
        await conn.copy_records_to_table("displaced", records=displaced)
        await conn.execute(f"DELETE FROM {s}.ident i USING displaced d WHERE i.star_id = d.star_id AND i.key = d.key")
        await conn.execute("DROP TABLE displaced")
    if entries:
        unique = dict.fromkeys((key, canonical(ident), star_id, system, tuple(components), kind)
                               for key, ident, star_id, system, components, kind in entries)
        await conn.copy_records_to_table("system_name", schema_name=s,
                                         records=[(*entry[:4], list(entry[4]), entry[5]) for entry in unique])
    # a system's own designation that a lower source gave to some star is the system's now
    moved = await conn.execute(f"DELETE FROM {s}.ident WHERE key = any($1::text[]) AND source < {SIMBAD}", bases)
    counts["system_designations_moved"] = int(moved.split()[-1])
    # one answer per (key, star): the same name reached through two systems is kept once, and
    # a name the primary holds itself answers it as its own identifier
    await conn.execute(f"""
        DELETE FROM {s}.system_name a USING {s}.system_name b
        WHERE a.key = b.key AND a.star_id = b.star_id AND a.ctid > b.ctid""")
    await conn.execute(f"""
        DELETE FROM {s}.system_name y USING {s}.ident i WHERE i.key = y.key AND i.star_id = y.star_id""")
    counts["system_names"] = await conn.fetchval(f"SELECT count(*) FROM {s}.system_name")
    return {k: int(v) for k, v in counts.items()}


_OUTCOME_TEXT = {
    "simbad_owner": "SIMBAD gives it to {kept}: dropped from {star}",
    "lower_authority": "a higher-ranked list gives it to {kept}: dropped from {star}",
    "ambiguous": "given with equal rank to {kept}: ambiguous",
    "component_letter": "SIMBAD letters {star} otherwise: dropped",
}


async def conflict_notes(conn: asyncpg.Connection, schema: str, limit: int = 25) -> list[str]:
    """The first conflicts of the build, one line each, for the ingest report (all of them are
    in ``<schema>.ident_conflict``; ``unconfirmed`` names are only counted)."""
    # the first conflicts, then the main ids of the stars they name (looked up once: the
    # build's star table has no index on star_id yet, a lookup per conflict scanned it each time)
    rows = await conn.fetch(f"""
        WITH c AS MATERIALIZED (
            SELECT c.id, c.outcome, c.key, s.main_id AS star, c.kept_on
            FROM {schema}.ident_conflict c JOIN {schema}.star s USING (star_id)
            WHERE c.outcome <> 'unconfirmed'
            ORDER BY c.outcome, c.key, s.main_id LIMIT $1),
        k AS MATERIALIZED (
            SELECT k.star_id, k.main_id FROM {schema}.star k
            WHERE k.star_id IN (SELECT unnest(kept_on) FROM c))
        SELECT c.id, c.outcome, c.star,
               (SELECT string_agg(k.main_id, ', ' ORDER BY k.main_id) FROM k
                WHERE k.star_id = any(c.kept_on)) AS kept
        FROM c ORDER BY c.outcome, c.key, c.star""", limit)
    return [f"{r['id']}: " + _OUTCOME_TEXT[r["outcome"]].format(star=r["star"], kept=r["kept"] or "-") for r in rows]

"""Which SIMBAD answers of an enrichment batch may be merged into a star, and which are conflicts.

A pair (star, object) is merged only when it is one-to-one:

- ``star_several_objects``: the star's identifiers name two or more SIMBAD objects (its Gaia
  DR3 one object, its HD another).
- ``object_several_stars``: the object answers two or more stars, in this batch or across the
  snapshot: another star holds one of its Gaia DR3 / HIP identifiers, or already holds its
  main identifier as a SIMBAD identifier (it was merged into that star before).

Conflicts are reported (``checkpoint.record_conflicts``), never guessed: their stars keep what
they had, and the objects are not stored as learned (so a rebuild does not guess either).
A star no object answers is "not in SIMBAD" (counted).

``position_disagrees`` is reported too, but merged: a one-to-one pair whose object lies more
than ``SIMBAD_CHECK_RADIUS`` (5″) from its star.  The identifier link decides, as in the build
(which counts these as ``simbad_position_disagreements``); the report says where to look (a
star whose Gaia position is still at epoch 2016 for want of a proper motion, a wrong
identifier).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import asyncpg

from getstar.names import ident_key
from getstar.schema import LIVE
from getstar.simbad.parse import SimbadObject
from getstar.simbad.store import SIMBAD_SOURCE, btree_lookups, link_keys
from getstar.simbad_columns import SIMBAD_CHECK_RADIUS

STAR_SEVERAL_OBJECTS = "star_several_objects"
OBJECT_SEVERAL_STARS = "object_several_stars"
POSITION_DISAGREES = "position_disagrees"

#: Live stars holding any of the keys: a catalogue identifier (Gaia DR3, HIP: any source) or
#: a SIMBAD main identifier (held as a SIMBAD identifier).  Run under ``store.btree_lookups``:
#: left alone, PostgreSQL answers ``key = …`` from the trigram GIN index (15 s for 4,000 keys
#: against 0.15 s on a 50,000-identifier snapshot; minutes on the 490 k-star one).
HOLDERS_SQL = f"""
SELECT i.key, i.star_id FROM unnest($1::text[]) k(key) JOIN {LIVE}.ident i ON i.key = k.key
UNION
SELECT i.key, i.star_id FROM unnest($2::text[]) k(key) JOIN {LIVE}.ident i ON i.key = k.key
WHERE i.source = {SIMBAD_SOURCE}"""


@dataclass(frozen=True)
class Conflict:
    kind: str
    oids: tuple[int, ...]
    main_ids: tuple[str, ...]
    star_ids: tuple[int, ...]
    detail: str
    merged: bool = False  # only position disagreements are merged (the identifier decides)


def separation_arcsec(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    """Angular distance of two positions in degrees (haversine: exact at small distances)."""
    p1, p2 = math.radians(dec1), math.radians(dec2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(ra2 - ra1) / 2) ** 2
    return math.degrees(2 * math.asin(min(1.0, math.sqrt(a)))) * 3600


@dataclass
class Decision:
    accepted: list[tuple[int, int]] = field(default_factory=list)  # (star_id, oid)
    conflicts: list[Conflict] = field(default_factory=list)
    unmatched: list[int] = field(default_factory=list)  # star ids no object answers


async def key_holders(conn: asyncpg.Connection, objects: Sequence[SimbadObject]) -> dict[str, set[int]]:
    """key -> live stars holding it, for the objects' Gaia/HIP keys and main identifiers."""
    links = sorted({k for o in objects for k in link_keys(o)})
    mains = sorted({ident_key(o.main_id) for o in objects} - {""})
    holders: dict[str, set[int]] = defaultdict(set)
    async with conn.transaction(), btree_lookups(conn):
        rows = await conn.fetch(HOLDERS_SQL, links, mains)
    for row in rows:
        holders[row["key"]].add(int(row["star_id"]))
    return holders


def decide(star_ids: Sequence[int], pairs: Sequence[tuple[int, int]], objects: Mapping[int, SimbadObject],
           holders: Mapping[str, set[int]], positions: Mapping[int, tuple[float, float]] | None = None) -> Decision:
    """Split a batch's (star, oid) pairs into the one-to-one ones and conflicts.

    ``positions``: star_id -> (ra, dec), to report the accepted pairs that lie far apart.
    """
    oids_of: dict[int, list[int]] = defaultdict(list)
    stars_of: dict[int, list[int]] = defaultdict(list)
    for star, oid in pairs:
        oids_of[star].append(oid)
        stars_of[oid].append(star)
    out = Decision(unmatched=[s for s in star_ids if s not in oids_of])
    rejected: set[tuple[int, int]] = set()
    for star, oids in oids_of.items():
        if len(oids) > 1:
            rejected.update((star, oid) for oid in oids)
            out.conflicts.append(Conflict(
                STAR_SEVERAL_OBJECTS, tuple(oids), tuple(objects[o].main_id for o in oids), (star,),
                f"the star's identifiers name {len(oids)} SIMBAD objects"))
    for oid, stars in stars_of.items():
        obj = objects[oid]
        keys = [*link_keys(obj), ident_key(obj.main_id)]
        others = sorted({s for k in keys for s in holders.get(k, ())} - set(stars))
        if len(stars) > 1 or others:
            rejected.update((star, oid) for star in stars)
            why = [f"answers {len(stars)} uploaded stars"] if len(stars) > 1 else []
            if others:
                why.append(f"its identifiers are held by {len(others)} other star(s)")
            out.conflicts.append(Conflict(OBJECT_SEVERAL_STARS, (oid,), (obj.main_id,), (*stars, *others),
                                          "; ".join(why)))
    out.accepted = [p for p in dict.fromkeys(pairs) if p not in rejected]
    for star, oid in out.accepted:
        obj, where = objects[oid], (positions or {}).get(star)
        ra, dec = obj.values.get("ra"), obj.values.get("dec")
        if where is None or ra is None or dec is None:
            continue
        sep = separation_arcsec(where[0], where[1], float(ra), float(dec))
        if sep > SIMBAD_CHECK_RADIUS:
            out.conflicts.append(Conflict(POSITION_DISAGREES, (oid,), (obj.main_id,), (star,),
                                          f"{sep:.1f} arcsec apart; merged on the identifier", merged=True))
    return out

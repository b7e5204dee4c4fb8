"""The generated JSON properties builder (getstar.formats.jsonprops) reads what ``PropertyReader``
reads: on adversarial stars (hypothesis: NaN, infinities, empty strings, unknown origin and
confidence codes, absent columns) and on real stars of the snapshot, key order included."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
from hypothesis import given, settings
from hypothesis import strategies as st

from getstar.formats._common import PropertyReader, confidence_name, origin_name, readers
from getstar.formats.jsonfmt import answer_dict
from getstar.formats.jsonprops import properties_builder
from getstar.formats.model import Answer
from getstar.properties import BY_NAME, ORIGINS, PROPERTIES, storage_column

READERS = readers(PROPERTIES)
BUILD = properties_builder(READERS)


def reference(rs: Sequence[PropertyReader], star: Mapping[str, Any], query: str) -> list[tuple[str, Any]]:
    """What ``answer_dict`` wrote before the builder: a loop over ``PropertyReader.read``."""
    out = []
    for r in rs:
        v, o, c, e = r.read(star, query)
        if v is None:
            continue
        p = {"value": v, "origin": origin_name(o), "confidence": confidence_name(c)}
        if e is not None:
            p["error"] = e
        out.append((r.name, p))
    return out


def built(star: Mapping[str, Any], query: str) -> list[tuple[str, Any]]:
    return list(BUILD(star, query).items())


_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "double": st.sampled_from([None, math.nan, math.inf, -math.inf, 0.0, -0.0, -1.46, 1e20, 1e-7, 379.21]),
    "int": st.sampled_from([None, 0, -3, 48915]),
    "long": st.sampled_from([None, 0, 2 ** 40, -1]),
    "boolean": st.sampled_from([None, True, False]),
    "char": st.sampled_from([None, "", "x", "* alf CMa", "A1V\udc80", 12]),
}
_SEXAGESIMAL = st.sampled_from([None, 0.0, 359.99999999, 101.2871385, -16.7160753, -90.0, 90.0, math.nan, 1e300])
_ORIGINS = st.sampled_from([None, 0, 5, len(ORIGINS) - 1, len(ORIGINS), len(ORIGINS) + 3, -1])
_CONFIDENCES = st.sampled_from([None, 0, 1, 3, 4, 9, -2])
_ERRORS = st.sampled_from([None, math.nan, math.inf, 0.0, 0.01])


@st.composite
def stars(draw: st.DrawFn) -> dict[str, Any]:
    star: dict[str, Any] = {}
    for r in READERS:
        if r.name == "TARGET_ID" or draw(st.integers(0, 9)) == 0:  # some columns absent altogether
            continue
        star[r.vcol] = draw(_SEXAGESIMAL if r.render is not None else _VALUES.get(r.kind, _VALUES["char"]))
        star[r.ocol] = draw(_ORIGINS)
        star[r.ccol] = draw(_CONFIDENCES)
        if r.ecol is not None:
            star[r.ecol] = draw(_ERRORS)
    return star


def same(a: list[tuple[str, Any]], b: list[tuple[str, Any]]) -> bool:
    """Equal, key order included (repr: NaN is not equal to itself, and none may get through)."""
    return repr(a) == repr(b)


@settings(max_examples=300, deadline=None)
@given(stars(), st.sampled_from(["", "Sirius", "HD 48915"]))
def test_the_builder_reads_what_the_readers_read(star: dict[str, Any], query: str) -> None:
    assert same(built(star, query), reference(READERS, star, query))


def test_a_subset_of_properties_has_a_builder_of_its_own() -> None:
    subset = [BY_NAME[name] for name in ("TARGET_ID", "V", "RAJ2000", "SpType")]
    v, ra, sp = (storage_column(BY_NAME[name]) for name in ("V", "RAJ2000", "SpType"))
    star = {v: -1.46, v + "_o": 1, v + "_c": 3, v + "_e": 0.01, ra: 101.2871385, sp: "A1V"}
    props = answer_dict(Answer("Sirius", "ok", star=star), subset)["properties"]
    assert list(props) == ["TARGET_ID", "V", "RAJ2000", "SpType"]
    assert same(list(props.items()), reference(readers(subset), star, "Sirius"))
    assert list(answer_dict(Answer("Sirius", "ok", star=star))["properties"]) != list(props)  # not the full list's


async def test_real_stars_render_as_the_readers_render(snapshot_dsn: str) -> None:
    conn = await asyncpg.connect(snapshot_dsn)
    try:
        rows = await conn.fetch("SELECT * FROM live.star TABLESAMPLE SYSTEM (20) REPEATABLE (5) LIMIT 400")
    finally:
        await conn.close()
    assert len(rows) > 100
    for row in rows:
        assert same(built(row, "q"), reference(READERS, row, "q"))
    assert sum(len(built(row, "q")) for row in rows) / len(rows) > 20  # real stars: many properties set

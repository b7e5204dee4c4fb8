"""SQL that fills a star's property columns (value, origin, confidence, error).

Shared by the snapshot build (``getstar.ingest.build``, into ``staging``) and by what changes
the live snapshot in place (``getstar.simbad``: the fallback's learned stars, the bulk
enrichment), so a star gets the same columns whichever way it was made.  Neutral on purpose:
it imports neither ``ingest`` nor ``simbad``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from getstar.properties import BY_NAME, ORIGIN_CODE
from getstar.schema import STAGING

#: GetStar's confidence indexes (``properties.Confidence``) as SQL literals.
HIGH, MEDIUM, LOW = 3, 2, 1

_SIMBAD = ORIGIN_CODE["SIMBAD"]
_STELLARIUM = ORIGIN_CODE["Stellarium"]


def col(name: str) -> str:
    return BY_NAME[name].column


@dataclass
class Src:
    """Where one property's value comes from in an INSERT ... SELECT or UPDATE ... FROM."""

    value: str
    origin: int | str
    confidence: int | str = HIGH
    error: str | None = None


def insert_stars(select_from: str, main_id: str, values: dict[str, Src]) -> str:
    """INSERT INTO staging.star of the given property sources (origin/confidence only where a value is).

    Stars with a position are numbered in sky order (q3c's): the build writes the table in
    ``star_id`` order, so the stars near one another on the sky are near one another on disk
    without sorting the wide rows (``build``'s diameter step).  PostgreSQL sorts the source rows,
    then numbers them: ``nextval`` is volatile, so it is evaluated after the sort.
    """
    targets = ["star_id", "main_id"]
    exprs = ["nextval('getstar_meta.star_id_seq')", main_id]
    for name, src in values.items():
        c = col(name)
        targets += [c, c + "_o", c + "_c"]
        exprs += [src.value, f"CASE WHEN ({src.value}) IS NOT NULL THEN {src.origin} END",
                  f"CASE WHEN ({src.value}) IS NOT NULL THEN {src.confidence} END"]
        if src.error is not None:
            targets.append(c + "_e")
            exprs.append(src.error)
    order = ""
    if "RAJ2000" in values and "DEJ2000" in values:
        order = f" ORDER BY q3c_ang2ipix({values['RAJ2000'].value}, {values['DEJ2000'].value})"
    return f"INSERT INTO {STAGING}.star ({', '.join(targets)}) SELECT {', '.join(exprs)} {select_from}{order}"


def set_property(name: str, src: Src, *, overwrite: bool, alias: str = "t",
                 replaces: Collection[int] = ()) -> list[str]:
    """SET clauses filling one property: only when empty (or holding a value of an origin in
    ``replaces``) unless ``overwrite``."""
    c = col(name)
    if overwrite:
        cond = f"({src.value}) IS NOT NULL"
    elif replaces:
        origins = ", ".join(str(o) for o in sorted(replaces))
        cond = f"({src.value}) IS NOT NULL AND ({alias}.{c} IS NULL OR {alias}.{c}_o IN ({origins}))"
    else:
        cond = f"({src.value}) IS NOT NULL AND {alias}.{c} IS NULL"
    clauses = [
        f"{c} = CASE WHEN {cond} THEN {src.value} ELSE {alias}.{c} END",
        f"{c}_o = CASE WHEN {cond} THEN {src.origin} ELSE {alias}.{c}_o END",
        f"{c}_c = CASE WHEN {cond} THEN {src.confidence} ELSE {alias}.{c}_c END",
    ]
    if BY_NAME[name].error is not None:
        err = src.error or "NULL"
        clauses.append(f"{c}_e = CASE WHEN {cond} THEN {err} ELSE {alias}.{c}_e END")
    return clauses


#: Identifier-valued properties read from the star's identifiers: (property, regex, value).
IDENT_PROPERTIES: tuple[tuple[str, str, str], ...] = (
    ("HD", r"^HD (\d+)$", "m[1]::int"),
    ("HR", r"^HR (\d+)$", "m[1]::int"),
    ("SAO", r"^SAO (\d+)$", "m[1]::int"),
    ("TYC1", r"^TYC (\d+)-(\d+)-(\d+)$", "m[1]::int"),
    ("TYC2", r"^TYC (\d+)-(\d+)-(\d+)$", "m[2]::int"),
    ("TYC3", r"^TYC (\d+)-(\d+)-(\d+)$", "m[3]::int"),
    ("2MASS", r"^2MASS J(\S+)$", "m[1]"),
    ("WDS", r"^WDS J(\d{5}[+-]\d{4})$", "m[1]"),
    ("GAIA", r"^Gaia DR3 (\d+)$", "m[1]::bigint"),
)


def _ident_value_sql(expr: str, matches: str) -> str:
    """Per star, the value ``expr`` makes of a regex match ``m`` of ``matches`` (a SELECT of
    star_id, source, m) and its origin: SIMBAD's identifiers first, then the lowest value."""
    return f"""SELECT DISTINCT ON (star_id) star_id, {expr} AS value,
                     CASE WHEN source = 3 THEN {_SIMBAD} ELSE {_STELLARIUM} END AS origin
              FROM ({matches}) q WHERE m IS NOT NULL
              ORDER BY star_id, source DESC, value"""


def like_prefix(pattern: str) -> str:
    """A LIKE pattern every match of the anchored regex ``pattern`` satisfies: its literal start
    ('^HD (\\d+)$' -> 'HD %'), a cheap filter before the regex ('%' when it has none)."""
    literal: list[str] = []
    if pattern.startswith("^"):
        for ch in pattern[1:]:
            if ch in "?*{":  # the character before may be absent or repeated
                literal = literal[:-1]
                break
            if ch in "\\.^$|+()[]":
                break
            literal.append(ch)
    escaped = "".join("\\" + ch if ch in "%_\\" else ch for ch in literal)
    return escaped.replace("'", "''") + "%"


def ident_property_values_sql(schema: str) -> str:
    """Per star of ``schema``, the value and origin of each of ``IDENT_PROPERTIES`` its identifiers
    give where the star has none (columns ``v1, o1, ..., vn, on``; $1..$n: the properties'
    regexes, in order), chosen by ``_ident_value_sql``."""
    parts, picks = [], []
    for n, (name, pattern, expr) in enumerate(IDENT_PROPERTIES, 1):
        # only the identifiers of stars without the property (most have their Gaia number), each
        # matched once (OFFSET 0: the regex is not also run as a filter)
        matches = (f"SELECT i.star_id, i.source, regexp_match(i.id, ${n}) AS m FROM {schema}.ident i "
                   f"WHERE i.id LIKE '{like_prefix(pattern)}' AND EXISTS (SELECT 1 FROM {schema}.star s "
                   f"WHERE s.star_id = i.star_id AND s.{col(name)} IS NULL) OFFSET 0")
        parts.append(f"SELECT {n} AS n, star_id, value::text AS value, origin "
                     f"FROM ({_ident_value_sql(expr, matches)}) v{n}")
        sqltype = BY_NAME[name].sql_type
        picks += [f"(max(value) FILTER (WHERE n = {n}))::{sqltype} AS v{n}",
                  f"max(origin) FILTER (WHERE n = {n}) AS o{n}"]
    return f"SELECT star_id, {', '.join(picks)} FROM ({' UNION ALL '.join(parts)}) u GROUP BY star_id"


def fill_ident_properties_sql(schema: str, values: str) -> str:
    """Fill every empty identifier property of ``schema.star`` from ``values`` (a table made by
    ``ident_property_values_sql``) in one UPDATE: each star row is written once, not once per
    property."""
    sets, fills = [], []
    for n, (name, _pattern, _expr) in enumerate(IDENT_PROPERTIES, 1):
        c = col(name)
        fill = f"(t.{c} IS NULL AND v.v{n} IS NOT NULL)"
        sets += [f"{c} = CASE WHEN {fill} THEN v.v{n} ELSE t.{c} END",
                 f"{c}_o = CASE WHEN {fill} THEN v.o{n} ELSE t.{c}_o END",
                 f"{c}_c = CASE WHEN {fill} THEN {HIGH} ELSE t.{c}_c END"]
        fills.append(fill)
    return (f"UPDATE {schema}.star t SET {', '.join(sets)} FROM {values} v "
            f"WHERE t.star_id = v.star_id AND ({' OR '.join(fills)})")


def ident_properties_sql(schema: str, idents: str) -> str:
    """All of ``IDENT_PROPERTIES`` in one UPDATE of ``schema.star`` for the stars in ``idents``
    (a table of star_id, id, source); $1..$n: the properties' regexes, in order.

    Why one statement: each UPDATE writes a new version of every row it touches (and of its
    index entries); nine of them per enriched star cost nine times the writes.
    """
    sets: list[str] = []
    joins: list[str] = []
    for n, (name, _pattern, expr) in enumerate(IDENT_PROPERTIES, 1):
        c, v = col(name), f"v{n}"
        matches = f"SELECT star_id, source, regexp_match(id, ${n}) AS m FROM {idents} WHERE id ~ ${n}"
        joins.append(f"LEFT JOIN ({_ident_value_sql(expr, matches)}) {v} ON {v}.star_id = s.star_id")
        fill = f"t.{c} IS NULL AND {v}.value IS NOT NULL"
        sets += [f"{c} = CASE WHEN {fill} THEN {v}.value ELSE t.{c} END",
                 f"{c}_o = CASE WHEN {fill} THEN {v}.origin ELSE t.{c}_o END",
                 f"{c}_c = CASE WHEN {fill} THEN {HIGH} ELSE t.{c}_c END"]
    return (f"UPDATE {schema}.star t SET {', '.join(sets)} "
            f"FROM (SELECT DISTINCT star_id FROM {idents}) s {' '.join(joins)} WHERE t.star_id = s.star_id")

"""Properties that follow from other properties of the same star, computed in SQL where the star
is written: when the build creates stars from a catalogue, a last pass of the build for what
later steps changed, and for a star SIMBAD teaches the live snapshot.

``dist_plx`` (GetStar's "distance computed from parallax", ``sclsvrCALIBRATOR::
ComputeExtinctionCoefficient``): 1000 / plx pc, error 1000 e_plx / plx², origin ``computed``, only
for a usable parallax, under GetStar's conditions: plx ≥ 1 mas, e_plx > 0, e_plx / plx ≤ 1.001.

Confidence: GetStar always says HIGH.  We say HIGH up to 10 % relative parallax error, MEDIUM up
to 20 %, LOW beyond, and never more than the parallax's own confidence, because the inverse
parallax is a biased distance estimator once the relative error exceeds 10–20 % (Lutz & Kelker
1973; Bailer-Jones 2015, PASP 127, 994); the error written is GetStar's first-order one.
Checked against GetStar's own Sirius answer (plx 379.21 ± 1.58 mas → 2.637061 ± 0.01098747 pc, the
same seven digits: ``tests/test_legacy.py``).  In the default snapshot: 105,894 stars, 30,664
HIGH, 29,681 MEDIUM, 45,549 LOW.

The value always follows the parallax the star carries (a ``dist_plx`` a catalogue computed from
another parallax is replaced or cleared); the last pass rewrites only the rows where it differs,
so the build does not rewrite every star with a parallax a second time.
"""

from __future__ import annotations

from dataclasses import dataclass

from getstar.properties import BY_NAME, ORIGIN_CODE, Confidence

COMPUTED = ORIGIN_CODE["computed"]
HIGH = int(Confidence.HIGH)
#: (largest relative parallax error, confidence): the first that holds
DIST_PLX_CONFIDENCE = ((0.1, HIGH), (0.2, int(Confidence.MEDIUM)), (1.001, int(Confidence.LOW)))
#: GetStar's smallest usable parallax (mas)
MIN_PLX_MAS = 1.0


@dataclass(frozen=True)
class Expressions:
    """SQL for one derived property from its inputs: value, error, confidence (NULL when unusable)."""

    value: str
    error: str
    confidence: str


def dist_plx(plx: str, e_plx: str, plx_confidence: str) -> Expressions:
    """``dist_plx`` from SQL expressions of the parallax, its error and its confidence."""
    rel = f"({e_plx}) / nullif({plx}, 0)"
    # PostgreSQL orders NaN above every number (so NaN >= 1): finite values only
    usable = (f"({plx} >= {MIN_PLX_MAS} AND {plx} < 'Infinity' AND {e_plx} > 0 AND {e_plx} < 'Infinity' "
              f"AND {rel} <= {DIST_PLX_CONFIDENCE[-1][0]})")
    steps = " ".join(f"WHEN {rel} <= {limit} THEN {c}" for limit, c in DIST_PLX_CONFIDENCE)
    return Expressions(
        value=f"CASE WHEN {usable} THEN 1000.0 / ({plx}) END",
        error=f"CASE WHEN {usable} THEN 1000.0 * ({e_plx}) / (({plx}) * ({plx})) END",
        confidence=f"CASE WHEN {usable} THEN least(coalesce({plx_confidence}, {HIGH}), CASE {steps} END) END",
    )


def update_sql(schema: str, only_ids: bool = False) -> str:
    """UPDATE of ``{schema}.star`` setting ``dist_plx`` where it differs from what the parallax gives
    (``only_ids``: for the star ids in ``$1`` only)."""
    plx = BY_NAME["plx"].column
    d = BY_NAME["dist_plx"].column
    e = dist_plx(f"t.{plx}", f"t.{plx}_e", f"t.{plx}_c")
    origin = f"CASE WHEN ({e.value}) IS NOT NULL THEN {COMPUTED} END"
    where = (f"(t.{plx} IS NOT NULL OR t.{d} IS NOT NULL) AND (t.{d} IS DISTINCT FROM ({e.value}) "
             f"OR t.{d}_e IS DISTINCT FROM ({e.error}) OR t.{d}_o IS DISTINCT FROM ({origin}) "
             f"OR t.{d}_c IS DISTINCT FROM ({e.confidence}))")
    if only_ids:
        where = f"t.star_id = any($1::bigint[]) AND {where}"
    return (f"UPDATE {schema}.star t SET {d} = {e.value}, {d}_e = {e.error}, {d}_o = {origin}, "
            f"{d}_c = {e.confidence} WHERE {where}")

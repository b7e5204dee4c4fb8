"""SIMBAD rows -> star columns: the one mapping the snapshot build and the live updates share.

A SIMBAD object is a row with the columns of ``raw.simbad`` (the bright-star dump,
``ingest.simbad_dump.COLUMNS``) plus ``EXTRA_COLUMNS`` (what SIMBAD's TAP service gives and
the dump does not) and ``fetched_at``.  The build merges such rows into ``staging``; the
SIMBAD fallback and the bulk enrichment merge them into ``live``: all three use these SQL
pieces, so a star looks the same whether it was enriched in place or rebuilt afterwards.
Neutral on purpose: imported by ``ingest`` and ``simbad``, importing neither.
"""

from __future__ import annotations

from getstar.properties import ORIGIN_CODE
from getstar.star_sql import HIGH, LOW, MEDIUM, Src, col, set_property

#: SIMBAD object -> star by position, when no HIP/Gaia identifier links them (arcsec).
SIMBAD_POSITION_RADIUS = 1.0
#: Identifier-linked SIMBAD objects farther than this from the star are reported (arcsec).
SIMBAD_CHECK_RADIUS = 5.0

#: Columns of a SIMBAD object beyond the dump's: ``otypes`` is every object type of the
#: object joined by '|' (TAP table ``alltypes``), GetStar's ``%OTYPELIST``.
EXTRA_COLUMNS: tuple[tuple[str, str], ...] = (("otypes", "text"),)

#: Properties SIMBAD always overwrites when merged into a star (as GetStar does: identity,
#: spectral type, object types, SIMBAD's own V); the others only fill what is empty.
OVERWRITTEN = frozenset({"SIMBAD", "SpType", "ObjTypes", "OType", "V_SIMBAD"})

_SIMBAD = ORIGIN_CODE["SIMBAD"]
_HIP2 = ORIGIN_CODE["I/311/hip2"]
_COMPUTED = ORIGIN_CODE["computed"]
_MIXED = ORIGIN_CODE["MIXED CATALOG"]

#: Origins a SIMBAD value replaces in a star it is merged into: an older fetch of SIMBAD, and
#: what the build writes after its SIMBAD merge (JMDC, JSDC, the Stellarium and KStars records
#: of ``ingest.photometry``, B made from V and B−V, the Gaia DR3 estimates).  In the build these
#: come later and only fill; a live star (the fallback, ``ingest simbad-enrich``) already holds
#: them when SIMBAD's record arrives, so without this an estimate would outlive the catalogue
#: value and the star would differ from what the next rebuild makes of it.
BELOW_SIMBAD = frozenset(ORIGIN_CODE[o] for o in (
    "SIMBAD", "II/345/jmdc", "II/346/jsdc_v2", "Stellarium", "I/239/hip_main", "I/259/tyc2",
    "MIXED CATALOG", "computed"))
#: Origins of a B made from V and B−V by ``photometry.fill_expressions`` (no source gives B under them).
DERIVED_B = frozenset(ORIGIN_CODE[o] for o in ("I/239/hip_main", "I/259/tyc2", "MIXED CATALOG"))


def simbad_conf(qual: str) -> str:
    """SQL: SIMBAD's quality letter -> confidence (A/B HIGH, C MEDIUM, D/E LOW, none MEDIUM)."""
    return (f"(CASE upper({qual}) WHEN 'A' THEN 3 WHEN 'B' THEN 3 WHEN 'C' THEN 2 "
            "WHEN 'D' THEN 1 WHEN 'E' THEN 1 ELSE 2 END)")


def objtypes(b: str) -> Src:
    """``ObjTypes`` in GetStar's comma-wrapped form (``,SB*,*,PM*,``).

    SIMBAD's full list when the row has it (TAP ``alltypes``: HIGH); the dump has the main
    type only, a partial list, so LOW.
    """
    value = (f"(CASE WHEN {b}.otypes IS NOT NULL THEN ',' || replace({b}.otypes, '|', ',') || ',' "
             f"WHEN {b}.otype IS NOT NULL THEN ',' || {b}.otype || ',' END)")
    return Src(value, _SIMBAD, f"(CASE WHEN {b}.otypes IS NOT NULL THEN {HIGH} ELSE {LOW} END)")


def simbad_values(b: str) -> dict[str, Src]:
    """The properties a SIMBAD object gives a star it is merged into (alias ``b``), positions aside."""
    values = {
        "SIMBAD": Src(f"{b}.main_id", _SIMBAD),
        "SpType": Src(f"{b}.sp_type", _SIMBAD, simbad_conf(f"{b}.sp_qual")),
        "ObjTypes": objtypes(b),
        "OType": Src(f"{b}.otype", _SIMBAD),
        "plx": Src(f"{b}.plx", _SIMBAD, simbad_conf(f"{b}.plx_qual"), f"{b}.plx_err"),
        "RadVel": Src(f"{b}.rv", _SIMBAD, simbad_conf(f"{b}.rv_qual"), f"{b}.rv_err"),
        "V_SIMBAD": Src(f"{b}.flux_v", _SIMBAD, MEDIUM, f"{b}.flux_v_err"),
    }
    for band in ("U", "B", "V", "R", "I", "J", "H", "K"):
        lb = band.lower()
        values[band] = Src(f"{b}.flux_{lb}", _SIMBAD, simbad_conf(f"{b}.flux_{lb}_qual"), f"{b}.flux_{lb}_err")
    return values


def simbad_star_values(b: str) -> dict[str, Src]:
    """Every property of a star made from one SIMBAD object alone (alias ``b``)."""
    return {"RAJ2000": Src(f"{b}.ra", _SIMBAD, simbad_conf(f"{b}.coo_qual"), f"{b}.coo_err_maj"),
            "DEJ2000": Src(f"{b}.dec", _SIMBAD, simbad_conf(f"{b}.coo_qual"), f"{b}.coo_err_min"),
            "pmRa": Src(f"{b}.pmra", _SIMBAD, simbad_conf(f"{b}.pm_qual"), f"{b}.pm_err_maj"),
            "pmDec": Src(f"{b}.pmdec", _SIMBAD, simbad_conf(f"{b}.pm_qual"), f"{b}.pm_err_min"),
            **simbad_values(b)}


def live_b_sets(b: str, simbad_b: Src) -> list[str]:
    """SET clauses for B of a live star (the fallback, the enrichment): SIMBAD's B as any other
    band, else, when SIMBAD gives V but no B, the build's rule (``photometry.fill_expressions``)
    B = V + (B−V) with the star's catalogue B−V, re-made from SIMBAD's V where B is empty or
    was made from the V that SIMBAD's replaces.

    Not in the build's merge: there B is made after JMDC and JSDC have given theirs.
    """
    c, bv = col("B"), col("B-V")
    below = ", ".join(str(o) for o in sorted(BELOW_SIMBAD))
    derived = ", ".join(str(o) for o in sorted(DERIVED_B))
    take = f"{b}.flux_b IS NOT NULL AND (t.{c} IS NULL OR t.{c}_o IN ({below}))"
    make = (f"{b}.flux_b IS NULL AND {b}.flux_v IS NOT NULL AND t.{bv} IS NOT NULL AND t.{bv}_o <> {_COMPUTED} "
            f"AND (t.{c} IS NULL OR t.{c}_o IN ({derived}))")
    made = {
        "": f"round(({b}.flux_v + t.{bv}) * 1000.0) / 1000.0",
        "_o": f"(CASE WHEN t.{bv}_o = {_SIMBAD} THEN {_SIMBAD} ELSE {_MIXED} END)",
        "_c": f"least({simbad_conf(f'{b}.flux_v_qual')}, t.{bv}_c)",
        "_e": f"round(sqrt(coalesce({b}.flux_v_err, 0) ^ 2 + coalesce(t.{bv}_e, 0) ^ 2) * 10000.0) / 10000.0",
    }
    given = {"": simbad_b.value, "_o": str(simbad_b.origin), "_c": str(simbad_b.confidence),
             "_e": simbad_b.error or "NULL"}
    return [f"{c}{x} = CASE WHEN {take} THEN {given[x]} WHEN {make} THEN {made[x]} ELSE t.{c}{x} END"
            for x in ("", "_o", "_c", "_e")]


def merge_sets(b: str, *, live: bool = False) -> list[str]:
    """SET clauses of ``UPDATE <schema>.star t ... FROM <SIMBAD rows> b``: object ``b`` merged into star ``t``.

    SIMBAD's main identifier and ``OVERWRITTEN`` replace the star's; other properties fill
    what is empty or replace a value of ``BELOW_SIMBAD`` (so a catalogue value beats an
    estimate); a Hipparcos-only position, or a Gaia one still at epoch 2016, is replaced
    by SIMBAD's (epoch J2000, mostly Gaia-based); proper motions fill; ``fetched_at`` says
    when SIMBAD gave the values (NULL for the dump's rows keeps the star's).  ``live``: the
    star is already built (fallback, enrichment): B is re-made from SIMBAD's V as the build would.
    """
    sets = [f"main_id = {b}.main_id"]
    for name, src in simbad_values(b).items():
        if name == "B" and live:
            sets += live_b_sets(b, src)
            continue
        sets += set_property(name, src, overwrite=name in OVERWRITTEN, replaces=BELOW_SIMBAD)
    replace_pos = f"(t.ra_o = {_HIP2} OR t.ra_c < {HIGH}) AND {b}.ra IS NOT NULL"
    for name, value, err, qual in (("RAJ2000", f"{b}.ra", f"{b}.coo_err_maj", f"{b}.coo_qual"),
                                   ("DEJ2000", f"{b}.dec", f"{b}.coo_err_min", f"{b}.coo_qual")):
        c = col(name)
        sets += [f"{c} = CASE WHEN {replace_pos} THEN {value} ELSE t.{c} END",
                 f"{c}_e = CASE WHEN {replace_pos} THEN {err} ELSE t.{c}_e END",
                 f"{c}_o = CASE WHEN {replace_pos} THEN {_SIMBAD} ELSE t.{c}_o END",
                 f"{c}_c = CASE WHEN {replace_pos} THEN {simbad_conf(qual)} ELSE t.{c}_c END"]
    for name, value, err, qual in (("pmRa", f"{b}.pmra", f"{b}.pm_err_maj", f"{b}.pm_qual"),
                                   ("pmDec", f"{b}.pmdec", f"{b}.pm_err_min", f"{b}.pm_qual")):
        sets += set_property(name, Src(value, _SIMBAD, simbad_conf(qual), err), overwrite=False,
                             replaces=BELOW_SIMBAD)
    sets.append(f"fetched_at = coalesce({b}.fetched_at, t.fetched_at)")
    return sets

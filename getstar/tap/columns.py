"""The TAP tables' columns, derived from the property declaration (``getstar.properties``).

TAP_SCHEMA has no notion of VOTable GROUPs and DaCHS drops them from ADQL answers, so each
stored property becomes up to four plain columns, tied together by their utypes:

- the value, named after the property (``V`` -> ``v``, ``RAJ2000`` -> ``raj2000``, in
  degrees), with the property's UCD1+ and a VOUnit;
- its error, named after the declared error (``e_V`` -> ``e_v``), where one is declared;
- ``<name>_origin``: the catalogue the value comes from, as text (``meta.ref``);
- ``<name>_confidence``: ``HIGH``, ``MEDIUM``, ``LOW`` or ``NO`` (``meta.code.qual``).

Names are ADQL regular identifiers: lower case, ``[a-z0-9_]``, starting with a letter and
never a reserved word (otherwise prefixed with ``p_``, as the SQL columns are), so that
nobody has to quote them.  A new property in the declaration appears here by itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from getstar.properties import STORED, Confidence, Err, Property

#: ADQL 2.1 reserved words (section 2.1.2: ADQL functions, then SQL-92 reserved words).
_RESERVED_WORDS = """
ABS ACOS AREA ASIN ATAN ATAN2 BIT_AND BIT_NOT BIT_OR BIT_XOR BOX CEILING CENTROID CIRCLE
CONTAINS COORD1 COORD2 COORDSYS COS COT DEGREES DISTANCE EXP FLOOR ILIKE INTERSECTS IN_UNIT
LOG LOG10 LOWER MOD OFFSET PI POINT POLYGON POWER RADIANS REGION RAND ROUND SIN SQRT TAN TOP
TRUNCATE UPPER
ABSOLUTE ACTION ADD ALL ALLOCATE ALTER AND ANY ARE AS ASC ASSERTION AT AUTHORIZATION AVG
BEGIN BETWEEN BIT BIT_LENGTH BOTH BY CASCADE CASCADED CASE CAST CATALOG CHAR CHARACTER
CHAR_LENGTH CHARACTER_LENGTH CHECK CLOSE COALESCE COLLATE COLLATION COLUMN COMMIT CONNECT
CONNECTION CONSTRAINT CONSTRAINTS CONTINUE CONVERT CORRESPONDING COUNT CREATE CROSS CURRENT
CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP CURRENT_USER CURSOR DATE DAY DEALLOCATE DEC
DECIMAL DECLARE DEFAULT DEFERRABLE DEFERRED DELETE DESC DESCRIBE DESCRIPTOR DIAGNOSTICS
DISCONNECT DISTINCT DOMAIN DOUBLE DROP ELSE END END-EXEC ESCAPE EXCEPT EXCEPTION EXEC EXECUTE
EXISTS EXTERNAL EXTRACT FALSE FETCH FIRST FLOAT FOR FOREIGN FOUND FROM FULL GET GLOBAL GO
GOTO GRANT GROUP HAVING HOUR IDENTITY IMMEDIATE IN INDICATOR INITIALLY INNER INPUT
INSENSITIVE INSERT INT INTEGER INTERSECT INTERVAL INTO IS ISOLATION JOIN KEY LANGUAGE LAST
LEADING LEFT LEVEL LIKE LOCAL MATCH MAX MIN MINUTE MODULE MONTH NAMES NATIONAL NATURAL NCHAR
NEXT NO NOT NULL NULLIF NUMERIC OCTET_LENGTH OF ON ONLY OPEN OPTION OR ORDER OUTER OUTPUT
OVERLAPS PAD PARTIAL POSITION PRECISION PREPARE PRESERVE PRIMARY PRIOR PRIVILEGES PROCEDURE
PUBLIC READ REAL REFERENCES RELATIVE RESTRICT REVOKE RIGHT ROLLBACK ROWS SCHEMA SCROLL SECOND
SECTION SELECT SESSION SESSION_USER SET SIZE SMALLINT SOME SPACE SQL SQLCODE SQLERROR SQLSTATE
SUBSTRING SUM SYSTEM_USER TABLE TEMPORARY THEN TIME TIMESTAMP TIMEZONE_HOUR TIMEZONE_MINUTE TO
TRAILING TRANSACTION TRANSLATE TRANSLATION TRIM TRUE UNION UNIQUE UNKNOWN UPDATE USAGE USER
USING VALUE VALUES VARCHAR VARYING VIEW WHEN WHENEVER WHERE WITH WORK WRITE YEAR ZONE
"""
ADQL_RESERVED: frozenset[str] = frozenset(_RESERVED_WORDS.split())

#: Units of the declaration that VOUnit spells otherwise ("as" would be attoseconds).
VOUNITS = {"as": "arcsec", "[cm/s2]": "log(cm.s**-2)", "Rsun": "solRad", "%": ""}
#: Units VOUnit has no word for: said in the description instead.
UNIT_WORDS = {"%": "in percent"}

#: SQL null literals DaCHS writes into VOTables for integer columns (VOTable ints have no NULL).
NULL_LITERALS = {"smallint": "-32768", "integer": "-2147483648", "bigint": "-9223372036854775808"}

#: ``ident.source`` codes, as the build and the SIMBAD fallback write them.
IDENT_SOURCES = ("main identifier", "catalogue", "Stellarium", "SIMBAD")

#: Names of the SQL functions (``getstar.tap.sql``) decoding the stored codes.
FUNCTION_SCHEMA = "getstar_tap"
ORIGIN_FN = f"{FUNCTION_SCHEMA}.origin_name"
CONFIDENCE_FN = f"{FUNCTION_SCHEMA}.confidence_name"
IDENT_SOURCE_FN = f"{FUNCTION_SCHEMA}.ident_source_name"

CONFIDENCES = tuple(c.name for c in sorted(Confidence))


@dataclass(frozen=True, slots=True)
class TapColumn:
    """One column of a published view, and the SQL expression over the snapshot table ``s``."""

    name: str
    sql: str
    type: str
    description: str
    unit: str = ""
    ucd: str = ""
    utype: str = ""
    required: bool = False
    indexed: bool = False

    @property
    def null_literal(self) -> str | None:
        return None if self.required else NULL_LITERALS.get(self.type)


def adql_name(name: str) -> str:
    """An ADQL regular identifier for a declared name (``B-V`` -> ``b_v``, ``2MASS`` -> ``p_2mass``)."""
    ident = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if not re.match(r"[a-z]", ident) or ident.upper() in ADQL_RESERVED:
        ident = "p_" + ident
    return ident


def vounit(prop: Property) -> str:
    """The VOUnit of a property's stored value (RA/Dec are stored in degrees)."""
    if prop.render:
        return "deg"
    return VOUNITS.get(prop.unit, prop.unit)


def _plain(description: str) -> str:
    """GetStar's descriptions point at its web page ("click to call Simbad"): not in TAP."""
    return re.sub(r",?\s*click to .*$", "", description).strip()


def _described(description: str, unit: str) -> str:
    text = _plain(description)
    return f"{text} ({UNIT_WORDS[unit]})" if unit in UNIT_WORDS else text


def property_columns(prop: Property) -> list[TapColumn]:
    """Value, error, origin and confidence of one stored property."""
    name, c = adql_name(prop.name), prop.column
    if prop.sql_type == "boolean":  # a VOTable boolean cannot declare a null value: 1, 0 or NULL
        value = TapColumn(name, f"s.{c}::int::smallint", "smallint", _plain(prop.description) + " (1 true, 0 false)",
                          "", prop.ucd1p, f"getstar:{prop.name}.value")
    else:
        value = TapColumn(name, f"s.{c}", prop.sql_type, _described(prop.description, prop.unit), vounit(prop),
                          prop.ucd1p, f"getstar:{prop.name}.value")
    cols = [value]
    err: Err | None = prop.error
    if err is not None:
        unit = VOUNITS.get(err.unit, err.unit) or (vounit(prop) if not prop.render else "")
        cols.append(TapColumn(adql_name(err.name), f"s.{c}_e", "double precision",
                              _described(err.description, err.unit or prop.unit),
                              unit, err.ucd1p, f"getstar:{prop.name}.error"))
    cols += [
        TapColumn(f"{name}_origin", f"{ORIGIN_FN}(s.{c}_o)", "text",
                  f"Origin of {prop.name}: the catalogue or service the value comes from "
                  "('computed' for an estimate)", ucd="meta.ref", utype=f"getstar:{prop.name}.origin"),
        TapColumn(f"{name}_confidence", f"{CONFIDENCE_FN}(s.{c}_c)", "text",
                  f"Confidence of {prop.name}: {', '.join(reversed(CONFIDENCES))}",
                  ucd="meta.code.qual", utype=f"getstar:{prop.name}.confidence"),
    ]
    return cols


def star_columns() -> list[TapColumn]:
    """Every column of ``getstar.star``, in the declaration's order."""
    cols = [
        TapColumn("star_id", "s.star_id", "bigint",
                  "getstar's number of the star in this snapshot (links star and ident; "
                  "renumbered when the snapshot is rebuilt)", ucd="meta.id", required=True, indexed=True),
        TapColumn("main_id", "s.main_id", "text", "Main identifier of the star (SIMBAD's when known)",
                  ucd="meta.id;meta.main", required=True),
    ]
    for prop in STORED:
        cols += property_columns(prop)
    cols.append(TapColumn("fetched_at", "s.fetched_at AT TIME ZONE 'UTC'", "timestamp",
                          "When the SIMBAD fallback fetched this star (UTC; NULL for stars of the build)",
                          ucd="time.processing"))
    _check_unique(cols)
    return cols


def ident_columns() -> list[TapColumn]:
    """Every column of ``getstar.ident``: one row per identifier of a star."""
    cols = [
        TapColumn("star_id", "i.star_id", "bigint", "The star (getstar.star.star_id)", ucd="meta.id",
                  required=True, indexed=True),
        TapColumn("id", "i.id", "text", "An identifier of the star, as SIMBAD writes it", ucd="meta.id",
                  required=True),
        TapColumn("norm_id", "i.key", "text",
                  "The identifier normalised for lookups (upper case, single spaces): indexed, "
                  "compare it with an upper-case name", ucd="meta.id", required=True, indexed=True),
        TapColumn("source", f"{IDENT_SOURCE_FN}(i.source)", "text",
                  "Where the identifier comes from: " + ", ".join(IDENT_SOURCES), ucd="meta.ref"),
    ]
    _check_unique(cols)
    return cols


def _check_unique(cols: list[TapColumn]) -> None:
    seen: set[str] = set()
    for col in cols:
        if col.name in seen:
            raise ValueError(f"two TAP columns named {col.name}: rename a property in getstar/properties.py")
        seen.add(col.name)

r"""The ADQL getstar sends to SIMBAD's TAP service.

One query per batch of names returns, per (object, matching identifier), the object's basic
data, all its identifiers (``ids``: one string joined by ``|``), all its object types
(``alltypes.otypes``, joined by ``|``) and its magnitudes (table ``flux``, one LEFT OUTER JOIN
per band, so the error and quality letter come along and a star without fluxes does not
vanish; ``allfluxes`` has values only).  ``object_columns``/``object_joins`` are shared with
the bulk enrichment's upload query (``getstar.simbad.upload``).  Why ``LEFT OUTER JOIN``
rather than ``LEFT JOIN``: both are ADQL 2.0, but DaCHS' parser only accepts the long form.
``"dec"`` is quoted because DEC is an SQL reserved word.

Every literal goes through ``literal()``: single quotes doubled, control characters and
backslashes dropped, so a name can never change the query's structure.  Why backslashes: ADQL
has no backslash escapes, but a real server's parser honours them: DaCHS 2.7 ends the literal
``'\'' OR 1=1 --'`` (the name ``\' OR 1=1 --`` with its quote doubled) after ``'\''`` and
parses ``OR 1 = 1`` as a condition (found by tests/test_simbad_tap_server.py).  No SIMBAD
identifier holds a backslash.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from getstar.ingest.simbad_dump import FLUX_BANDS

_UNSAFE = re.compile(r"[\x00-\x1f\x7f\\]")
_PREFIX = re.compile(r"^(?:[A-Za-z_][A-Za-z0-9_]*\.)?$")

#: Columns of table ``basic`` (alias ``b``); the answer's columns keep SIMBAD's names.
BASIC_COLUMNS: tuple[str, ...] = (
    "oid", "main_id", "otype", "ra", '"dec"', "coo_qual", "coo_err_maj", "coo_err_min",
    "pmra", "pmdec", "pm_err_maj", "pm_err_min", "pm_qual", "plx_value", "plx_err", "plx_qual",
    "rvz_radvel", "rvz_err", "rvz_qual", "sp_type", "sp_qual",
)


def literal(value: str) -> str:
    """``value`` as an ADQL string literal: quotes doubled, control characters and backslashes removed."""
    return "'" + _UNSAFE.sub("", value).replace("'", "''") + "'"


def table_prefix(prefix: str) -> str:
    """Normalise a configured schema prefix ('' or 'simbad' -> 'simbad.'); refuse anything else.

    Why refuse: the prefix is pasted into the query, so it must be a plain identifier.
    """
    p = prefix.strip()
    if p and not p.endswith("."):
        p += "."
    if not _PREFIX.match(p):
        raise ValueError(f"SIMBAD table prefix must be an identifier such as 'simbad', got {prefix!r}")
    return p


def object_columns() -> list[str]:
    """What is read of each object (``basic`` as ``b``, then identifiers, object types, fluxes)."""
    cols = [f"b.{c}" for c in BASIC_COLUMNS]
    cols += ["i.ids", "t.otypes"]
    for band in FLUX_BANDS:
        a, lb = f"f_{band.lower()}", band.lower()
        cols += [f"{a}.flux AS flux_{lb}", f"{a}.flux_err AS flux_{lb}_err", f"{a}.qual AS flux_{lb}_qual"]
    return cols


def object_joins(p: str) -> list[str]:
    """The outer joins from ``basic`` (as ``b``) to the rest of an object; ``p``: a ``table_prefix``."""
    joins = [f"LEFT OUTER JOIN {p}ids AS i ON i.oidref = b.oid",
             f"LEFT OUTER JOIN {p}alltypes AS t ON t.oidref = b.oid"]
    for band in FLUX_BANDS:
        a = f"f_{band.lower()}"
        joins.append(f'LEFT OUTER JOIN {p}flux AS {a} ON {a}.oidref = b.oid AND {a}."filter" = {literal(band)}')
    return joins


def select_list() -> list[str]:
    return [*object_columns(), "q.id AS matched_id"]


def lookup_query(names: Sequence[str], prefix: str = "") -> str:
    """The objects SIMBAD knows under any of ``names`` (matching is SIMBAD's: case and blanks ignored)."""
    if not names:
        raise ValueError("no names to look up")
    p = table_prefix(prefix)
    joins = [f"FROM {p}ident AS q", f"JOIN {p}basic AS b ON b.oid = q.oidref", *object_joins(p)]
    lits = list(dict.fromkeys(literal(n) for n in names))
    where = f"WHERE q.id = {lits[0]}" if len(lits) == 1 else f"WHERE q.id IN ({', '.join(lits)})"
    return "SELECT " + ", ".join(select_list()) + "\n" + "\n".join(joins) + "\n" + where

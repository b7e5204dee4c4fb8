"""The bulk enrichment's query: a table of snapshot stars' identifiers, uploaded and joined to SIMBAD.

The upload (``TAP_UPLOAD.stars``) has one row per (star, identifier): ``star`` (the
snapshot's star id, echoed back) and ``name`` (``Gaia DR3 n``, ``HIP n`` or ``HD n``).  The
ADQL is constant text: it names the uploaded table and SIMBAD's tables (``ident``,
``basic``, ``ids``, ``alltypes``, ``flux``), and its only literals are the filter names,
escaped by ``adql.literal``.  No star's data ever enters the query text, so nothing in the
snapshot can change the query's structure; the prefix is checked by ``adql.table_prefix``.

SIMBAD compares ``ident.id`` loosely (case, blanks, a missing ``NAME``), in a join with an
uploaded table too: astroquery's ``query_objects`` relies on it.  The derived table keeps one
row per (star, object) however many of the star's identifiers matched, so the answer has
about one row per star (the object's ``ids`` and fluxes are not repeated).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from getstar.simbad.adql import object_columns, object_joins, table_prefix

UPLOAD_TABLE = "stars"
#: Identifiers uploaded per star at most (Gaia DR3, HIP, HD).
NAMES_PER_STAR = 3


@dataclass(frozen=True)
class StarIds:
    """A snapshot star and the catalogue numbers SIMBAD knows it by."""

    star_id: int
    gaia: int | None
    hip: int | None
    hd: int | None
    ra: float | None = None
    dec: float | None = None

    def names(self) -> list[str]:
        """The star's identifiers, in SIMBAD's spelling (SIMBAD ignores padding: 'HD  48915')."""
        out = []
        if self.gaia is not None and self.gaia > 0:
            out.append(f"Gaia DR3 {self.gaia}")
        if self.hip is not None:
            out.append(f"HIP {self.hip}")
        if self.hd is not None:
            out.append(f"HD {self.hd}")
        return out


def upload_rows(stars: Sequence[StarIds]) -> list[tuple[int, str]]:
    return [(s.star_id, name) for s in stars for name in s.names()]


def upload_votable(rows: Sequence[tuple[int, str]]) -> bytes:
    """The upload as a VOTable (BINARY2: compact; ``char`` names, not ``unicodeChar``)."""
    import numpy as np
    from astropy.io.votable import from_table
    from astropy.table import Table

    table = Table({"star": np.array([r[0] for r in rows], dtype=np.int64),
                   "name": np.array([r[1].encode("ascii", "replace") for r in rows], dtype=bytes)})
    votable = from_table(table)
    votable.resources[0].tables[0].format = "binary2"
    votable.resources[0].tables[0].fields[1].arraysize = "*"  # no NUL padding to a fixed width
    out = io.BytesIO()
    votable.to_xml(out)
    return out.getvalue()


def enrich_query(prefix: str = "") -> str:
    """Every SIMBAD object one of the uploaded identifiers names, with the star it answers."""
    p = table_prefix(prefix)
    matched = (f"(SELECT DISTINCT u.star, q.oidref FROM TAP_UPLOAD.{UPLOAD_TABLE} AS u "
               f"JOIN {p}ident AS q ON q.id = u.name) AS m")
    joins = [f"FROM {matched}", f"JOIN {p}basic AS b ON b.oid = m.oidref", *object_joins(p)]
    return "SELECT " + ", ".join(["m.star", *object_columns()]) + "\n" + "\n".join(joins)

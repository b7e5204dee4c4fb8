"""Input rows into targets: which columns hold the name, RA/Dec, epoch and radius, and
each row's values read with ``getstar.coords`` (degrees or sexagesimal, epochs as years,
MJD, JD or dates, radii with units).

A row that cannot be read keeps going through the batch with its problem as ``error``
(reported in its ``status``); only a table without usable columns is a 400.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from getstar import coords
from getstar.errors import BadRequest
from getstar.xmatch.match import Target, TargetSet
from getstar.xmatch.reader import InputTable, read_body

#: Match radius of a row without one, when the request names none.
DEFAULT_RADIUS_ARCSEC = 2.0

__all__ = ["MAX_EPOCH_SPAN", "MAX_NAME", "Roles", "check_epoch", "find_roles", "to_targets"]

MAX_NAME = 200
#: Epochs further than this from J2000 (years) are refused: the proper-motion margin of the
#: search (11"/yr x |epoch - 2000|) would make every probe a wide cone search.
MAX_EPOCH_SPAN = 150.0
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

#: Accepted column names (case-insensitive), first found wins.
NAMES = {
    "name": ("name",),
    "ra": ("ra", "raj2000", "ra_icrs", "ra_deg"),
    "dec": ("dec", "de", "dej2000", "decj2000", "de_icrs", "dec_icrs", "dec_deg"),
    "epoch": ("epoch", "date_obs", "date-obs", "obs_epoch", "mjd_obs", "mjd-obs"),
    "radius": ("radius",),
}
#: VOTable UCDs that also say "this is the position" (TOPCAT exports, VizieR tables).
UCDS = {"ra": ("pos.eq.ra;meta.main", "pos_eq_ra_main"), "dec": ("pos.eq.dec;meta.main", "pos_eq_dec_main")}


@dataclass(frozen=True)
class Roles:
    """Column index of each recognised input, or None."""

    name: int | None
    ra: int | None
    dec: int | None
    epoch: int | None
    radius: int | None


def find_roles(table: InputTable) -> Roles:
    """The columns to read; 400 when there is neither a name column nor both RA and Dec."""
    lowered = [c.strip().lower() for c in table.columns]
    found: dict[str, int | None] = {}
    for role, names in NAMES.items():
        found[role] = next((lowered.index(n) for n in names if n in lowered), None)
    for role, ucds in UCDS.items():
        if found[role] is None and table.ucds:
            found[role] = next((i for i, u in enumerate(table.ucds) if u.strip().lower() in ucds), None)
    roles = Roles(**found)
    have = ", ".join(c[:40] for c in table.columns[:20]) or "none"
    if (roles.ra is None) != (roles.dec is None):
        missing = "dec" if roles.dec is None else "ra"
        raise BadRequest(f"missing column {missing!r}: a position needs both ra and dec (columns: {have})")
    if roles.name is None and roles.ra is None:
        raise BadRequest(f"missing columns: give a 'name' column and/or 'ra' and 'dec' columns (columns: {have})")
    return roles


def _given(v: Any) -> bool:
    if v is None:
        return False
    return bool(v.strip()) if type(v) is str else True


def _number_or_text(v: Any, what: str) -> Any:
    """What coords' parsers take: text, or a float for any real number (ints, numpy scalars)."""
    if isinstance(v, str | float):
        return v
    if isinstance(v, bool) or not isinstance(v, int):
        got = {"list": "a list", "dict": "an object", "bool": "true or false"}.get(type(v).__name__, type(v).__name__)
        raise BadRequest(f"{what}: expected a number or text, got {got}")
    return float(v)


def _name(v: Any) -> str | None:
    if v is None or v == "" or not _given(v):
        return None
    if not isinstance(v, str | int):
        raise BadRequest(f"name must be text, got {type(v).__name__}")
    text = _CONTROL.sub("", str(v)).strip()
    if len(text) > MAX_NAME:
        raise BadRequest(f"name is longer than {MAX_NAME} characters")
    return text or None


def check_epoch(epoch: float | None) -> float | None:
    """``epoch`` if within ``MAX_EPOCH_SPAN`` years of J2000 (BadRequest otherwise)."""
    if epoch is not None and abs(epoch - 2000.0) > MAX_EPOCH_SPAN:
        raise BadRequest(f"epoch {epoch:.1f} is more than {MAX_EPOCH_SPAN:g} years from J2000: "
                         f"give an observation date between {2000 - MAX_EPOCH_SPAN:g} and {2000 + MAX_EPOCH_SPAN:g}")
    return epoch


def _position(ra_v: Any, dec_v: Any) -> tuple[float, float]:
    """RA/Dec in degrees; plain decimal text (nearly every row of a big batch) is read at once."""
    if type(ra_v) is str and type(dec_v) is str and "_" not in ra_v and "_" not in dec_v:
        try:
            ra, dec = float(ra_v), float(dec_v)
        except ValueError:
            pass
        else:
            if 0.0 <= ra < 360.0 and -90.0 <= dec <= 90.0:
                return ra + 0.0, dec
    return coords.parse_ra(_number_or_text(ra_v, "ra")), coords.parse_dec(_number_or_text(dec_v, "dec"))


def _target(row: Sequence[Any], roles: Roles, radius_deg: float, max_radius_deg: float,
            epoch: float | None) -> Target:
    name = _name(row[roles.name]) if roles.name is not None else None
    ra = dec = None
    if roles.ra is not None and roles.dec is not None:
        ra_v, dec_v = row[roles.ra], row[roles.dec]
        ra_given, dec_given = _given(ra_v), _given(dec_v)
        if ra_given and dec_given:
            ra, dec = _position(ra_v, dec_v)
        elif ra_given or dec_given:
            raise BadRequest("ra given without dec" if ra_given else "dec given without ra")
    if name is None and ra is None:
        raise BadRequest("the row has neither a name nor ra/dec")
    if roles.epoch is not None and _given(row[roles.epoch]):
        epoch = check_epoch(coords.parse_epoch(_number_or_text(row[roles.epoch], "epoch")))
    if roles.radius is not None and _given(row[roles.radius]):
        radius_deg = coords.parse_radius(_number_or_text(row[roles.radius], "radius"), radius_deg,
                                         maximum=max_radius_deg)
    return Target(name, ra, dec, epoch, radius_deg)


def to_targets(table: InputTable, roles: Roles, *, radius_deg: float, max_radius_deg: float,
               epoch: float | None = None) -> TargetSet:
    """One target per row, in order; unreadable rows carry their problem in ``errors``.

    Why two paths: a big batch is nearly always plain decimal RA/Dec (maybe with names,
    epochs or radii), which is read a column at a time (~0.2 us a row; an epoch or radius
    column reads each distinct value once); a row where anything is amiss, and every row of
    a table whose positions are not all decimal, is read on its own with ``coords`` (~3 us a
    row), which also words its problem.
    """
    n = table.nrows
    columns = _decimal_positions(table, roles)
    if columns is None:
        return TargetSet.of(_row_targets(table, roles, range(n), radius_deg, max_radius_deg, epoch))
    ra, dec, blank = columns
    ok = ((ra >= 0.0) & (ra < 360.0) & (dec >= -90.0) & (dec <= 90.0)) | blank
    names: list[str | None] = [None] * n
    errors: set[int] = set()
    if roles.name is not None:
        for k, cell in enumerate(table.column(roles.name)):
            try:
                names[k] = _name(cell)
            except BadRequest:
                errors.add(k)
    ok &= ~(blank & np.array([v is None for v in names], bool))  # neither name nor position
    epochs = np.full(n, np.nan if epoch is None else epoch)
    if roles.epoch is not None:
        _read_column(table, roles.epoch, lambda v: check_epoch(coords.parse_epoch(_number_or_text(v, "epoch"))), epochs,
                     errors)
    radii = np.full(n, radius_deg)
    if roles.radius is not None:
        _read_column(table, roles.radius,
                     lambda v: coords.parse_radius(_number_or_text(v, "radius"), radius_deg, maximum=max_radius_deg),
                     radii, errors)
    slow = sorted(set(np.flatnonzero(~ok).tolist()) | set(table.errors) | errors)
    out = TargetSet(ra + 0.0, dec, epochs, radii, names, {})
    for k, target in zip(slow, _row_targets(table, roles, slow, radius_deg, max_radius_deg, epoch), strict=True):
        out.ra[k] = target.ra if target.ra is not None else np.nan
        out.dec[k] = target.dec if target.dec is not None else np.nan
        out.epoch[k] = target.epoch if target.epoch is not None else np.nan
        out.radius[k] = target.radius_deg
        out.names[k] = target.name
        if target.error is not None:
            out.errors[k] = target.error
    return out


def _read_column(table: InputTable, col: int, parse: Callable[[Any], float | None], out: np.ndarray,
                 errors: set[int]) -> None:
    """Each given cell of ``col`` into ``out`` (blank cells keep its default; None is NaN),
    each distinct text or number parsed once; the rows whose value cannot be read go into
    ``errors`` (a list or an object, from JSON or a VOTable array, among them)."""
    seen: dict[Any, float | None] = {}
    for k, cell in enumerate(table.column(col)):
        if not _given(cell):
            continue
        key = (type(cell), cell) if isinstance(cell, str | int | float) else None  # lists are not hashable
        try:
            if key is None:
                value = parse(cell)
            elif key in seen:
                value = seen[key]
            else:
                value = seen[key] = parse(cell)
        except BadRequest:
            errors.add(k)
            continue
        out[k] = np.nan if value is None else value


def _decimal_positions(table: InputTable, roles: Roles) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """RA and Dec columns read as decimal degrees (NaN for blank cells) and the mask of rows
    where both are blank; None when a column holds anything else (sexagesimal, units...).

    Cells are text (CSV), or numbers and None (JSON, VOTable); a column is either."""
    if roles.ra is None or roles.dec is None:
        return None
    out = []
    blank = np.ones(table.nrows, bool)
    for col in (roles.ra, roles.dec):
        cells = table.column(col)
        if all(type(c) is str for c in cells):
            if "_" in "".join(cells):  # float() reads "1_0" as 10
                return None
            empty = [not c for c in cells]
            try:  # float() a cell at a time: numpy's own text parsing is five times slower
                values = np.array([float(c) if c else math.nan for c in cells], np.float64)
            except ValueError:  # sexagesimal, units, blanks with spaces...: read row by row
                return None
        elif all(c is None or type(c) in (float, int) for c in cells):
            empty = [c is None for c in cells]
            values = np.array([math.nan if c is None else float(c) for c in cells], np.float64)
        else:
            return None
        blank &= np.array(empty, bool)
        out.append(values)
    return out[0], out[1], blank


def _row_targets(table: InputTable, roles: Roles, rows: Iterable[int], radius_deg: float, max_radius_deg: float,
                 epoch: float | None) -> list[Target]:
    out: list[Target] = []
    for i in rows:
        problem = table.errors.get(i)
        if problem is None:
            try:
                out.append(_target(table.row(i), roles, radius_deg, max_radius_deg, epoch))
                continue
            except BadRequest as exc:
                problem = exc.message
        out.append(Target(None, None, None, None, radius_deg, error=problem))
    return out


def prepare(body: bytes, kind: str, charset: str, *, max_rows: int | None, radius_deg: float,
            max_radius_deg: float, epoch: float | None) -> tuple[InputTable, TargetSet]:
    """Body -> (table, targets); CPU-bound, run off the event loop for large bodies."""
    table = read_body(body, kind, charset, max_rows=max_rows)
    return table, Reading(table, radius_deg=radius_deg, max_radius_deg=max_radius_deg, epoch=epoch).targets(
        0, table.nrows)


class Reading:
    """How a table's rows become targets, a range of rows at a time (``to_targets``)."""

    def __init__(self, table: InputTable, *, radius_deg: float, max_radius_deg: float, epoch: float | None) -> None:
        self.table = table
        self.roles = find_roles(table)
        self.radius_deg, self.max_radius_deg, self.epoch = radius_deg, max_radius_deg, epoch

    def targets(self, lo: int, hi: int) -> TargetSet:
        table = self.table if (lo, hi) == (0, self.table.nrows) else self.table.view(lo, hi)
        return to_targets(table, self.roles, radius_deg=self.radius_deg, max_radius_deg=self.max_radius_deg,
                          epoch=self.epoch)

"""GetStar's per-request user values: ``V``, ``e_V``, ``J``, ``e_J``, ``H``, ``e_H``, ``K``, ``e_K``
and ``SP_TYPE`` on the legacy path, applied to the one star asked.

GetStar's rules (``SearchCal/sclsvr/src/sclsvrGetStarCB.cpp``, ``UPDATE_MAG``; ranges from
``sclsvrGETSTAR.cdf``), written fresh here:

* only when exactly one name is asked (with several, the values are ignored);
* magnitudes in [-10, 20], errors in [0, 20] (outside: a 400 page, where GetStar fails the command);
* an error without its magnitude applies to the catalogue magnitude; a magnitude without its error
  keeps the catalogue error, else takes 0.25 mag;
* a value that differs from the catalogue's (by 0.001 or more) replaces it with origin ``USER`` and
  confidence ``MEDIUM``; the same for a different ``SP_TYPE``;
* the answer echoes the values used as PARAMs (``%.3f``, ``nan`` when unset; ``SP_TYPE`` the
  spectral type used).

Difference from GetStar, said in the answer's log: GetStar recomputes the diameters from the user's
magnitudes; getstar serves the snapshot's diameters, computed from catalogue magnitudes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from getstar.errors import BadRequest
from getstar.properties import BY_NAME, ORIGIN_CODE, Confidence

BANDS = ("V", "J", "H", "K")
MAG_RANGE = (-10.0, 20.0)
ERROR_RANGE = (0.0, 20.0)
#: GetStar's error for a user magnitude given without one (``E_MIN_MISSING``)
MISSING_ERROR = 0.25
#: Two values closer than this are the same (GetStar's ``PREC``)
SAME = 1e-3
MAX_SPTYPE_CHARS = 40
USER = ORIGIN_CODE["USER"]
MEDIUM = int(Confidence.MEDIUM)
#: The query parameters read here (they change the answer: ``httpcache.ANSWER_PARAMS``)
PARAMS = tuple(n for band in BANDS for n in (band, "e_" + band)) + ("SP_TYPE",)


@dataclass(slots=True)
class UserValues:
    """What the request gave: band -> (magnitude, error), either may be None; the spectral type."""

    mags: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    sptype: str | None = None

    def given(self) -> bool:
        return bool(self.mags) or self.sptype is not None


def _number(params: Mapping[str, str], name: str, bounds: tuple[float, float]) -> float | None:
    text = (params.get(name) or "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"{name} must be a number, got {text[:40]!r}") from None
    if not (bounds[0] <= value <= bounds[1]):  # also refuses NaN
        raise BadRequest(f"{name} must be between {bounds[0]:g} and {bounds[1]:g}, got {text[:40]!r}")
    return value


def parse(params: Mapping[str, str]) -> UserValues:
    """The user values of a request (``BadRequest`` for a value GetStar would refuse)."""
    out = UserValues()
    for band in BANDS:
        mag = _number(params, band, MAG_RANGE)
        err = _number(params, "e_" + band, ERROR_RANGE)
        if mag is not None or err is not None:
            out.mags[band] = (mag, err)
    sptype = (params.get("SP_TYPE") or "").strip()
    if sptype:
        if len(sptype) > MAX_SPTYPE_CHARS or not sptype.isprintable():
            raise BadRequest(f"SP_TYPE must be at most {MAX_SPTYPE_CHARS} printable characters")
        out.sptype = sptype
    return out


def _float(v: Any) -> float:
    return math.nan if v is None else float(v)


def _same(a: float, b: float) -> bool:
    return not math.isnan(a) and not math.isnan(b) and abs(a - b) < SAME


def apply(star: Mapping[str, Any], user: UserValues) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """The star with the user's values, the PARAM texts to echo, and log lines of what changed."""
    out = dict(star)
    echo: dict[str, str] = {}
    log: list[str] = []
    for band in BANDS:
        col = BY_NAME[band].column
        val, err = _float(out.get(col)), _float(out.get(col + "_e"))
        mag, e_mag = user.mags.get(band, (None, None))
        if mag is not None or e_mag is not None:
            new = val if mag is None else mag
            if not math.isnan(new):
                new_err = e_mag if e_mag is not None else (err if not math.isnan(err) else MISSING_ERROR)
                if not _same(val, new) or not _same(err, new_err):
                    out[col], out[col + "_e"], out[col + "_o"], out[col + "_c"] = new, new_err, USER, MEDIUM
                    log.append(f"Set property '{BY_NAME[band].ucd1}' = {new:.3f} ({new_err:.3f}) (USER)")
                    val, err = new, new_err
        echo[band], echo["e_" + band] = f"{val:.3f}", f"{err:.3f}"
    sp = BY_NAME["SpType"].column
    if user.sptype is not None and out.get(sp) != user.sptype:
        out[sp], out[sp + "_o"], out[sp + "_c"] = user.sptype, USER, MEDIUM
        log.append(f"Set property '{BY_NAME['SpType'].ucd1}' = '{user.sptype}' (USER)")
    echo["SP_TYPE"] = str(out.get(sp) or "")
    if log:
        log.append("Note: LDD, UD_* and the other diameters are the snapshot's, computed from catalogue "
                   "magnitudes: getstar does not recompute them from user values (GetStar does)")
    return out, echo, log

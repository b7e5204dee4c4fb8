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

* with a value changed, the diameters are computed again from the star's magnitudes as now set
  (SearchCal's method, ``getstar.astro``): colour diameters, LDD, UD_*, chi2, flags, Teff/logg and
  the spectral-type fit, origin ``computed``; the log says so.  CalFlag, BinFlag and MultFlag stay
  the snapshot's (they depend on catalogue cross-matches, not on magnitudes).
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
    return out, echo, log


def recomputed_line(star: Mapping[str, Any]) -> str:
    """The log line after ``recompute_diameters``."""
    return ("Diameters computed again from the magnitudes above (SearchCal's method): "
            f"LDD = {_text(star.get(BY_NAME['LDD'].column))} mas")


#: getstar.astro's bands and the properties holding them (astro's I is Cousins I)
ASTRO_BANDS = {"B": "B", "V": "V", "R": "R", "I": "Icous", "J": "J", "H": "H", "K": "K", "L": "L", "M": "M",
               "N": "N"}
#: What the computation writes back: diameters and what they depend on, not the catalogue flags
#: (CalFlag, BinFlag, MultFlag) nor the magnitudes it estimates (the snapshot's estimates stay)
RECOMPUTED = ("diam_vj", "diam_vh", "diam_vk", "LDD", "e_LDD_rel", "diam_chi2", "diam_count", "diamFlag",
              "diamFlagInfo", "Teff_SpType", "logg_SpType", "color_table_index", "color_table_delta",
              "color_table_index_fix", "color_table_delta_fix", "lum_class", "lum_class_delta", "SpType_JMMC",
              *(f"UD_{b}" for b in ("U", "B", "V", "R", "I", "J", "H", "K", "L", "M", "N")))
COMPUTED = ORIGIN_CODE["computed"]
TWO_MASS = (ORIGIN_CODE["II/246/out"], USER)  # user J, H, K are taken as 2MASS-system values, as GetStar does


def _text(v: Any) -> str:
    return "nan" if v is None else f"{v:.4g}"


def _plain(v: Any) -> Any:
    """A numpy value as the row holds it (NaN -> None)."""
    v = v.item() if hasattr(v, "item") else v
    return None if isinstance(v, float) and math.isnan(v) else v


def recompute_diameters(star: Mapping[str, Any]) -> dict[str, Any]:
    """The star's diameters computed again (``getstar.astro``) from its magnitudes and spectral type
    (about 10 ms of numpy for one star: callers run it off the event loop)."""
    from getstar.astro import Band, compute_stars

    out = dict(star)
    bands = {}
    for band, name in ASTRO_BANDS.items():
        col = BY_NAME[name].column
        origin = out.get(col + "_o")
        bands[band] = Band([_float(out.get(col))], [_float(out.get(col + "_e"))], estimated=[origin == COMPUTED],
                           confidence=[int(out.get(col + "_c") or 0)],
                           is_2mass=[origin in TWO_MASS] if band in ("J", "H", "K") else None)
    result = compute_stars([out.get(BY_NAME["SpType"].column) or ""], bands)
    for name in RECOMPUTED:
        prop, column = BY_NAME[name], result.columns.get(name)
        if column is None:
            continue
        has = int(column.confidence[0]) > 0
        out[prop.column] = _plain(column.value[0]) if has else None
        out[prop.column + "_o"] = COMPUTED if has else None
        out[prop.column + "_c"] = int(column.confidence[0]) if has else None
        if prop.error is not None:
            out[prop.column + "_e"] = _plain(column.error[0]) if has and column.error is not None else None
    return out

"""Read and write sky positions, search radii and epochs; move stars by proper motion.

Everything here is pure (no I/O) and raises only ``BadRequest`` on bad input,
so the HTTP API and batch cross-identification give the same clear messages.
Batch files may hold 100,000 rows, so a plain decimal number is read with one
``float()`` call and everything else with precompiled regexes; astropy is only
the tests' reference, never called per value here.

Conventions: sexagesimal RA is hours and decimal RA is degrees (what SIMBAD,
VizieR and observers type); a ``d``/``°`` spelling makes RA degrees, an
``h`` spelling makes it hours. Dec is always degrees.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from getstar.errors import BadRequest

__all__ = [
    "format_dec_dms",
    "format_ra_hms",
    "looks_like_position",
    "parse_dec",
    "parse_epoch",
    "parse_position",
    "parse_ra",
    "parse_radius",
    "propagate",
    "propagate_many",
    "separation_deg",
]

# Longer text is never a position; refusing early keeps hostile input cheap.
_MAX_TEXT = 100

# Look-alike characters pasted from papers, Wikipedia and SIMBAD pages.
_ASCII_LOOKALIKES = str.maketrans(
    {
        "\u2212": "-",  # minus sign
        "\u2010": "-",  # hyphen
        "\u2011": "-",  # non-breaking hyphen
        "\u2012": "-",  # figure dash
        "\u2013": "-",  # en dash
        "\ufe63": "-",  # small hyphen-minus
        "\uff0d": "-",  # fullwidth hyphen-minus
        "\uff0b": "+",  # fullwidth plus
        "\u00ba": "°",  # masculine ordinal, often typed for a degree sign
        "\u02da": "°",  # ring above
        "\u2032": "'",  # prime
        "\u2019": "'",  # right single quote
        "\u00b4": "'",  # acute accent
        "\u02b9": "'",  # modifier prime
        "\u2033": '"',  # double prime
        "\u201d": '"',  # right double quote
        "\u02ba": '"',  # modifier double prime
        "\u02b0": "h",  # superscript h, as in 6ʰ45ᵐ08ˢ
        "\u1d50": "m",  # superscript m
        "\u02e2": "s",  # superscript s
        "\u00a0": " ",  # no-break space
        "\u2009": " ",  # thin space
        "\u202f": " ",  # narrow no-break space
        "\t": " ",
    }
)

_NUM = r"(?:\d+(?:\.\d*)?|\.\d+)"
# One decimal number with an optional unit: 101.2871, -16.7, 101.2871d, 6.75h.
_DECIMAL_RE = re.compile(rf"(?P<sign>[+-]?)\s*(?P<num>{_NUM}(?:e[+-]?\d+)?)\s*(?P<unit>h|deg|d|°)?", re.ASCII)
# Two or three sexagesimal fields: 06 45 08.9, 06:45:08.9, 6h45m8.9s, -16°42'58", 06 45.15.
_SEXA_RE = re.compile(
    r"(?P<sign>[+-]?)\s*(?P<a>\d{1,3})"
    r"(?:\s*(?P<unit>h|deg|d|°|:)\s*|\s+)"
    r"(?P<b>\d{1,2}(?:\.\d*)?)"
    r"(?:(?:\s*[m':]\s*|\s+)(?P<c>\d{1,2}(?:\.\d*)?)\s*[s\"]?|\s*[m']?)",
    re.ASCII,
)
# IAU-style compact designation without a catalogue prefix: J064508.9-164258.
_COMPACT_RE = re.compile(
    r"j(?P<h>\d{2})(?P<m>\d{2})(?P<s>\d{2}(?:\.\d*)?)?"
    r"\s*(?P<sign>[+-])(?P<d>\d{2})(?P<dm>\d{2})(?P<ds>\d{2}(?:\.\d*)?)?",
    re.ASCII,
)
_GAP_RE = re.compile(r"\s+")
_SIGN_RE = re.compile(r"[+-]")

_RA_HELP = "expected degrees (e.g. 101.287) or sexagesimal hours (e.g. 06 45 08.9 or 06h45m08.9s)"
_DEC_HELP = "expected degrees (e.g. -16.716) or sexagesimal degrees (e.g. -16 42 58 or -16d42m58s)"
_POSITION_HELP = (
    "expected 'RA Dec', e.g. '101.2871 -16.7161' (degrees), "
    "'06 45 08.9 -16 42 58' (hours, degrees) or '101.2871, -16.7161'"
)


def _normalize(text: str) -> str:
    return text.translate(_ASCII_LOOKALIKES).replace("''", '"').strip().lower()


def _show(value: object) -> str:
    """The value as the user typed it, short enough for an error message."""
    if isinstance(value, float):
        return f"{value:g}"
    shown = str(value).strip()
    return shown if len(shown) <= 40 else shown[:40] + "..."


def _as_float(value: object, what: str) -> float:
    """A non-string input (int, float, numpy scalar) as a float, or BadRequest."""
    if isinstance(value, bool):
        raise BadRequest(f"{what} must be a number, got {value}")
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        raise BadRequest(f"{what} must be a number, got {type(value).__name__}") from None


class _Angle(NamedTuple):
    """What one angle's spelling says, before RA/Dec rules and ranges apply."""

    negative: bool
    magnitude: float  # in the written unit (hours or degrees)
    unit: str | None  # "h", "d", or None when the spelling does not say
    fields: int  # 1 for decimal, 2 or 3 for sexagesimal
    problem: str | None  # why the fields are wrong (minutes 61), if they are


def _match_angle(s: str) -> _Angle | None:
    """Read one normalized angle's syntax; None if it is not an angle at all."""
    m = _DECIMAL_RE.fullmatch(s)
    if m is not None:
        unit = m["unit"]
        return _Angle(
            m["sign"] == "-",
            float(m["num"]),
            "h" if unit == "h" else ("d" if unit else None),
            1,
            None,
        )
    m = _SEXA_RE.fullmatch(s)
    if m is None:
        return None
    minutes_text, seconds_text = m["b"], m["c"]
    minutes = float(minutes_text)
    seconds = float(seconds_text) if seconds_text is not None else 0.0
    problem = None
    if minutes >= 60:
        problem = f"minutes {minutes_text} must be below 60"
    elif seconds >= 60:
        problem = f"seconds {seconds_text} must be below 60"
    elif seconds_text is not None and "." in minutes_text:
        problem = f"minutes {minutes_text} must be whole when seconds follow"
    unit = m["unit"]
    return _Angle(
        m["sign"] == "-",
        int(m["a"]) + minutes / 60.0 + seconds / 3600.0,
        "h" if unit == "h" else ("d" if unit in ("d", "deg", "°") else None),
        2 if seconds_text is None else 3,
        problem,
    )


def _check_ra(deg: float, shown: object) -> float:
    if 0.0 <= deg < 360.0:
        return deg + 0.0  # turns -0.0 into 0.0
    if deg == 360.0:
        return 0.0
    if math.isnan(deg) or math.isinf(deg):
        raise BadRequest(f"RA {_show(shown)} is not a finite number")
    raise BadRequest(f"RA {_show(shown)} is outside [0, 360] degrees")


def _check_dec(deg: float, shown: object) -> float:
    if -90.0 <= deg <= 90.0:
        return deg
    if math.isnan(deg) or math.isinf(deg):
        raise BadRequest(f"Dec {_show(shown)} is not a finite number")
    raise BadRequest(f"Dec {_show(shown)} is outside [-90, +90]")


def _ra_from(angle: _Angle, shown: str) -> float:
    if angle.problem is not None:
        raise BadRequest(f"cannot read RA '{_show(shown)}': {angle.problem}")
    hours = angle.unit == "h" or (angle.unit is None and angle.fields > 1)
    deg = angle.magnitude * 15.0 if hours else angle.magnitude
    if angle.negative and deg != 0.0:
        raise BadRequest(f"RA {_show(shown)} is negative: RA must be in [0, 360] degrees")
    if deg > 360.0 and hours and angle.fields > 1:
        raise BadRequest(
            f"RA {_show(shown)} read as hours is {deg:g} degrees, outside [0, 360]; "
            "sexagesimal RA is hours (write e.g. 101d17m13s for degrees)"
        )
    return _check_ra(deg, shown)


def _dec_from(angle: _Angle, shown: str) -> float:
    if angle.problem is not None:
        raise BadRequest(f"cannot read Dec '{_show(shown)}': {angle.problem}")
    if angle.unit == "h":
        raise BadRequest(f"Dec {_show(shown)} is written in hours: Dec must be in degrees")
    deg = -angle.magnitude if angle.negative else angle.magnitude
    if angle.fields > 1 and not -90.0 <= deg <= 90.0:
        raise BadRequest(f"Dec {_show(shown)} ({deg:g} degrees) is outside [-90, +90]")
    return _check_dec(deg, shown)


def parse_ra(text: str | float) -> float:
    """Right ascension in degrees in [0, 360), from what an astronomer types.

    Decimal is degrees ('101.2871', '101.2871d'), a decimal with 'h' is hours
    ('6.75h'), sexagesimal is hours ('06 45 08.9', '06:45:08.9', '6h45m8.9s',
    '06 45.15') unless spelled in degrees ('101d17m13s'). 360 wraps to 0.
    """
    if isinstance(text, str):
        try:
            value = float(text)  # the batch hot path: plain decimal degrees
        except ValueError:
            pass
        else:
            if "_" not in text:  # float() accepts '1_0'; nobody means that
                return _check_ra(value, text)
        s = _normalize(text)
        if not s:
            raise BadRequest(f"RA is empty: {_RA_HELP}")
        angle = _match_angle(s) if len(s) <= _MAX_TEXT else None
        if angle is None:
            raise BadRequest(f"cannot read RA '{_show(text)}': {_RA_HELP}")
        return _ra_from(angle, text)
    return _check_ra(_as_float(text, "RA"), text)


def parse_dec(text: str | float) -> float:
    """Declination in degrees in [-90, 90], decimal or signed sexagesimal.

    Accepts '-16.716', Unicode minus, '-16 42 57.87', '-16:42:57.87',
    '-16d42m57.87s' and '-16°42′57.87″'. The sign is read separately from the
    degree field, so '-00 30 00' is -0.5 (a classic bug when it is not).
    """
    if isinstance(text, str):
        try:
            value = float(text)
        except ValueError:
            pass
        else:
            if "_" not in text:
                return _check_dec(value, text)
        s = _normalize(text)
        if not s:
            raise BadRequest(f"Dec is empty: {_DEC_HELP}")
        angle = _match_angle(s) if len(s) <= _MAX_TEXT else None
        if angle is None:
            raise BadRequest(f"cannot read Dec '{_show(text)}': {_DEC_HELP}")
        return _dec_from(angle, text)
    return _check_dec(_as_float(text, "Dec"), text)


class _Split(NamedTuple):
    ra_text: str
    ra: _Angle
    dec_text: str
    dec: _Angle


def _split_position(s: str) -> list[_Split]:
    """Every way to cut a normalized string into an RA and a Dec angle.

    Cuts are tried at a comma (if there is one, only there), at each run of
    spaces and before each sign; when several cuts read, the one with as many
    fields on both sides ('10 20 30 40' = 10h20m, +30d40m) is the only sane one.
    """
    if "," in s:
        parts = s.split(",")
        cuts = [(parts[0].strip(), parts[1].strip())] if len(parts) == 2 else []
    else:
        cuts = [(s[: g.start()], s[g.end() :]) for g in _GAP_RE.finditer(s)]
        cuts += [
            (s[: m.start()], s[m.start() :])
            for m in _SIGN_RE.finditer(s, 1)
            if not s[m.start() - 1].isspace()
        ]
    found = []
    for ra_text, dec_text in cuts:
        ra = _match_angle(ra_text)
        if ra is None:
            continue
        dec = _match_angle(dec_text)
        if dec is not None:
            found.append(_Split(ra_text, ra, dec_text, dec))
    if len(found) > 1:
        balanced = [f for f in found if f.ra.fields == f.dec.fields]
        if len(balanced) == 1:
            return balanced
    return found


def _compact_parts(m: re.Match[str]) -> tuple[str, str]:
    ra = f"{m['h']} {m['m']} {m['s'] or '00'}"
    dec = f"{m['sign']}{m['d']} {m['dm']} {m['ds'] or '00'}"
    return ra, dec


def parse_position(text: str) -> tuple[float, float]:
    """(RA, Dec) in degrees from one string holding both.

    Accepts '101.2871 -16.7161', '101.2871,-16.7161', '06 45 08.917 -16 42 57.87',
    '06:45:08.917 -16:42:57.87', '06h45m08.9s -16d42m58s', 'J064508.9-164258'.
    Sexagesimal RA is hours, decimal RA is degrees.
    """
    if not isinstance(text, str):
        raise BadRequest(f"position must be text, got {type(text).__name__}")
    s = _normalize(text)
    if not s:
        raise BadRequest(f"position is empty: {_POSITION_HELP}")
    if len(s) > _MAX_TEXT:
        raise BadRequest(f"position '{_show(text)}' is too long: {_POSITION_HELP}")
    compact = _COMPACT_RE.fullmatch(s)
    if compact is not None:
        ra_text, dec_text = _compact_parts(compact)
        return parse_ra(ra_text), parse_dec(dec_text)
    found = _split_position(s)
    if not found:
        raise BadRequest(f"cannot read position '{_show(text)}': {_POSITION_HELP}")
    if len(found) > 1:
        raise BadRequest(
            f"position '{_show(text)}' can be split into RA and Dec in more than one way: "
            "put a comma between them"
        )
    split = found[0]
    return _ra_from(split.ra, split.ra_text), _dec_from(split.dec, split.dec_text)


def looks_like_position(text: str) -> bool:
    """Whether a star query is a typed position rather than a name. Never raises.

    Syntax only: '06 45 08.9 -96 00 00' is a position with a bad Dec, which
    parse_position then reports, rather than an unknown star called that.
    """
    if not isinstance(text, str):
        return False
    s = _normalize(text)
    if not s or len(s) > _MAX_TEXT or s[0] not in "0123456789+-.j":
        return False  # names start with a letter; J-prefixed ones go on
    if _COMPACT_RE.fullmatch(s) is not None:
        return True
    return bool(_split_position(s))  # ambiguous ones too: parse_position says why


_RADIUS_UNITS: dict[str, float] = {
    **dict.fromkeys(["arcsec", "arcsecs", "arcsecond", "arcseconds", "as", "asec", "s", '"'], 1 / 3600),
    **dict.fromkeys(["arcmin", "arcmins", "arcminute", "arcminutes", "amin", "am", "m", "'"], 1 / 60),
    **dict.fromkeys(["deg", "degs", "degree", "degrees", "d", "°"], 1.0),
    **dict.fromkeys(["mas", "milliarcsec", "milliarcsecond", "milliarcseconds"], 1 / 3_600_000),
}
_RADIUS_RE = re.compile(rf"(?P<num>[+-]?\s*{_NUM}(?:e[+-]?\d+)?)\s*(?P<unit>[a-z°'\"]*)", re.ASCII)


def parse_radius(
    text: str | float | None,
    default: float,
    *,
    maximum: float,
    default_unit: str = "arcsec",
) -> float:
    """A search radius in DEGREES; ``default`` and ``maximum`` are degrees too.

    Accepts '5' (in ``default_unit``), '5arcsec', '5"', '5as', '0.5arcmin',
    "0.5'", '0.01deg', '0.01d', '0.01°', '2mas' and SIMBAD's '5s'/'5m'.
    None or '' gives ``default``. The cap keeps cone searches cheap.
    """
    try:
        default_factor = _RADIUS_UNITS[default_unit]
    except KeyError:
        raise ValueError(f"unknown default radius unit {default_unit!r}") from None
    if text is None:
        return default
    if isinstance(text, str):
        s = _normalize(text)
        if not s:
            return default
        try:
            number = float(s)  # a bare number is in default_unit
        except ValueError:
            pass
        else:
            if "_" not in s:
                return _check_radius(number * default_factor, text, maximum)
        m = _RADIUS_RE.fullmatch(s) if len(s) <= _MAX_TEXT else None
        if m is None:
            raise BadRequest(
                f"cannot read radius '{_show(text)}': expected a number with an optional unit, "
                "e.g. 5arcsec, 0.5arcmin or 0.01deg"
            )
        unit = m["unit"] or default_unit
        factor = _RADIUS_UNITS.get(unit)
        if factor is None:
            raise BadRequest(
                f"unknown radius unit '{unit}' in '{_show(text)}': "
                "use arcsec (\"), arcmin ('), deg (°) or mas"
            )
        value = float(m["num"].replace(" ", "")) * factor
    else:
        value = _as_float(text, "radius") * default_factor
    return _check_radius(value, text, maximum)


def _check_radius(value: float, text: object, maximum: float) -> float:
    if math.isnan(value) or math.isinf(value):
        raise BadRequest(f"radius {_show(text)} is not a finite number")
    if value <= 0.0:
        raise BadRequest(f"radius {_show(text)} must be positive")
    if value > maximum * (1 + 1e-12):
        raise BadRequest(
            f"radius {_show(text)} is over the maximum of {maximum * 3600:g} arcsec ({maximum:g} deg)"
        )
    return value


_EPOCH_MIN, _EPOCH_MAX = 1000.0, 3000.0
_MJD_J2000 = 51544.5  # J2000.0 = JD 2451545.0
_JD_MJD = 2400000.5
_MJD_ZERO = datetime(1858, 11, 17)
_EPOCH_PREFIX_RE = re.compile(rf"(?P<kind>mjd|jd|j|b)\s*[=:]?\s*(?P<num>{_NUM})", re.ASCII)
_ISO_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:[t ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?\s*(?:z|[+-]\d{2}:?\d{2})?",
    re.ASCII,
)
_EPOCH_HELP = (
    "expected a year (2016.0), J2000, B1950, MJD51544.5, JD2451545.0 "
    "or an ISO date (2021-03-04 or 2021-03-04T12:00:00)"
)


def _mjd_to_jyear(mjd: float) -> float:
    return 2000.0 + (mjd - _MJD_J2000) / 365.25


def _check_epoch(year: float, shown: object, read_as: str = "") -> float:
    if _EPOCH_MIN <= year <= _EPOCH_MAX:
        return year
    if math.isnan(year) or math.isinf(year):
        raise BadRequest(f"epoch {_show(shown)} is not a finite number")
    how = f" {read_as}" if read_as else ""
    raise BadRequest(
        f"epoch {_show(shown)}{how} is year {year:.1f}, outside [{_EPOCH_MIN:g}, {_EPOCH_MAX:g}]"
    )


def _epoch_from_number(value: float, shown: object) -> float:
    """A bare number: a year if in [1000, 3000], an MJD if above 10000."""
    if math.isnan(value) or math.isinf(value):
        raise BadRequest(f"epoch {_show(shown)} is not a finite number")
    if _EPOCH_MIN <= value <= _EPOCH_MAX:
        return value
    if value > 10000.0:
        year = _mjd_to_jyear(value)
        if year > _EPOCH_MAX and value > 2_000_000:
            raise BadRequest(
                f"epoch {_show(shown)} read as an MJD is year {year:.1f}, outside "
                f"[{_EPOCH_MIN:g}, {_EPOCH_MAX:g}]; write JD{_show(shown)} for a Julian Date"
            )
        return _check_epoch(year, shown, "read as an MJD")
    raise BadRequest(
        f"epoch {_show(shown)} is neither a year in [{_EPOCH_MIN:g}, {_EPOCH_MAX:g}] nor an MJD (above 10000)"
    )


def parse_epoch(text: str | float | None) -> float | None:
    """A Julian epoch in years (2000.0 = J2000), or None when none is given.

    Catalogues and users give epochs as years, J/B epochs, MJDs, JDs or dates;
    proper-motion propagation needs one scale. UTC dates are taken as TT: the
    ~69 s difference is 2e-6 yr, far below any proper motion's effect.
    """
    if text is None:
        return None
    if not isinstance(text, str):
        return _epoch_from_number(_as_float(text, "epoch"), text)
    s = _normalize(text)
    if not s:
        return None
    try:
        value = float(s)
    except ValueError:
        pass
    else:
        if "_" not in s:
            return _epoch_from_number(value, text)
    if len(s) > _MAX_TEXT:
        raise BadRequest(f"cannot read epoch '{_show(text)}': {_EPOCH_HELP}")
    m = _EPOCH_PREFIX_RE.fullmatch(s)
    if m is not None:
        kind, number = m["kind"], float(m["num"])
        if kind == "j":
            return _check_epoch(number, text)
        if kind == "b":  # Besselian epoch via its MJD (Lieske 1979, as in SOFA epb2jd)
            mjd = 15019.81352 + (number - 1900.0) * 365.242198781
            return _check_epoch(_mjd_to_jyear(mjd), text)
        if kind == "mjd":
            return _check_epoch(_mjd_to_jyear(number), text)
        return _check_epoch(_mjd_to_jyear(number - _JD_MJD), text)
    if _ISO_RE.fullmatch(s) is not None:
        try:
            when = datetime.fromisoformat(s.upper().replace(" Z", "Z"))
        except ValueError:
            raise BadRequest(f"epoch '{_show(text)}' is not a valid date") from None
        # Subtract the UTC offset by hand: astimezone() overflows on 9999-12-31T23:00-01:00.
        offset = when.utcoffset()
        seconds = (when.replace(tzinfo=None) - _MJD_ZERO).total_seconds()
        mjd = (seconds - (offset.total_seconds() if offset is not None else 0.0)) / 86400.0
        return _check_epoch(_mjd_to_jyear(mjd), text)
    raise BadRequest(f"cannot read epoch '{_show(text)}': {_EPOCH_HELP}")


_MAS_TO_RAD = math.pi / (180.0 * 3_600_000.0)


def propagate(
    ra: float,
    dec: float,
    pmra: float | None,
    pmdec: float | None,
    from_epoch: float,
    to_epoch: float,
) -> tuple[float, float]:
    """Move a star by its proper motion from one Julian epoch to another.

    ``pmra`` is mu_alpha* = mu_alpha cos(dec) in mas/yr, as Gaia and Hipparcos
    give it. The motion is a straight line in the tangent plane, done on the 3D
    unit vector so it stays right across RA 0/360 and near the poles. A missing
    (None/NaN) component or zero motion leaves the position unchanged.
    """
    if pmra is None or pmdec is None:
        return ra, dec
    dt = to_epoch - from_epoch
    if not (math.isfinite(pmra) and math.isfinite(pmdec) and math.isfinite(dt)):
        return ra, dec
    if dt == 0.0 or (pmra == 0.0 and pmdec == 0.0):
        return ra, dec
    a, d = math.radians(ra), math.radians(dec)
    sa, ca, sd, cd = math.sin(a), math.cos(a), math.sin(d), math.cos(d)
    east, north = pmra * dt * _MAS_TO_RAD, pmdec * dt * _MAS_TO_RAD
    # position + east * (-sin a, cos a, 0) + north * (-sin d cos a, -sin d sin a, cos d)
    x = cd * ca - east * sa - north * sd * ca
    y = cd * sa + east * ca - north * sd * sa
    z = sd + north * cd
    new_ra = math.degrees(math.atan2(y, x)) % 360.0
    if new_ra >= 360.0:  # -1e-300 % 360 == 360.0
        new_ra = 0.0
    return new_ra, math.degrees(math.atan2(z, math.hypot(x, y)))


def propagate_many(
    ra: npt.ArrayLike,
    dec: npt.ArrayLike,
    pmra: npt.ArrayLike,
    pmdec: npt.ArrayLike,
    from_epoch: npt.ArrayLike,
    to_epoch: npt.ArrayLike,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """``propagate`` over numpy arrays (broadcast), for batch cross-identification.

    NaN proper motions (unknown) and NaN epochs leave those rows unchanged.
    """
    ra_a, dec_a, pmra_a, pmdec_a, dt = np.broadcast_arrays(
        np.asarray(ra, dtype=np.float64),
        np.asarray(dec, dtype=np.float64),
        np.asarray(pmra, dtype=np.float64),
        np.asarray(pmdec, dtype=np.float64),
        np.asarray(to_epoch, dtype=np.float64) - np.asarray(from_epoch, dtype=np.float64),
    )
    move = (
        np.isfinite(pmra_a)
        & np.isfinite(pmdec_a)
        & np.isfinite(dt)
        & (dt != 0.0)
        & ((pmra_a != 0.0) | (pmdec_a != 0.0))
    )
    scale = np.where(move, dt, 0.0) * _MAS_TO_RAD
    east = np.where(move, pmra_a, 0.0) * scale
    north = np.where(move, pmdec_a, 0.0) * scale
    a, d = np.radians(ra_a), np.radians(dec_a)
    sa, ca, sd, cd = np.sin(a), np.cos(a), np.sin(d), np.cos(d)
    x = cd * ca - east * sa - north * sd * ca
    y = cd * sa + east * ca - north * sd * sa
    z = sd + north * cd
    new_ra = np.degrees(np.arctan2(y, x)) % 360.0
    new_ra = np.where(new_ra >= 360.0, 0.0, new_ra)
    new_dec = np.degrees(np.arctan2(z, np.hypot(x, y)))
    return np.where(move, new_ra, ra_a), np.where(move, new_dec, dec_a)


def separation_deg(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    """Angular distance in degrees (Vincenty): exact at 1 mas and at 180 degrees alike."""
    d1, d2 = math.radians(dec1), math.radians(dec2)
    dra = math.radians(ra2 - ra1)
    s1, c1, s2, c2 = math.sin(d1), math.cos(d1), math.sin(d2), math.cos(d2)
    sdra, cdra = math.sin(dra), math.cos(dra)
    num = math.hypot(c2 * sdra, c1 * s2 - s1 * c2 * cdra)
    den = s1 * s2 + c1 * c2 * cdra
    return math.degrees(math.atan2(num, den))


def _sexagesimal(value: float, precision: int) -> tuple[int, int, int, str]:
    """Split a non-negative value into (units, minutes, seconds, fraction digits).

    Rounds once, on an integer count of the last written digit, so 59.9999999 s
    carries into the minutes instead of printing as '60.000000'.
    """
    if precision < 0:
        raise ValueError("precision must be >= 0")
    scale = 10**precision
    ticks = round(value * 3600 * scale)
    whole, frac = divmod(ticks, scale)
    units, rest = divmod(whole, 3600)
    minutes, seconds = divmod(rest, 60)
    digits = f".{frac:0{precision}d}" if precision else ""
    return units, minutes, seconds, digits


def format_ra_hms(ra_deg: float, precision: int = 6) -> str:
    """RA as GetStar spells it: '06 45 08.917260' (spaces, 2-digit fields)."""
    if not math.isfinite(ra_deg):
        raise ValueError(f"RA {ra_deg} is not finite")
    hours, minutes, seconds, frac = _sexagesimal((ra_deg % 360.0) / 15.0, precision)
    hours %= 24  # 23 59 59.9999999 rounds up to 24h, which is 0h
    return f"{hours:02d} {minutes:02d} {seconds:02d}{frac}"


def format_dec_dms(dec_deg: float, precision: int = 6) -> str:
    """Dec as GetStar spells it: '-16 42 57.870999', '+00 30 00.000000' (sign always)."""
    if not -90.0 <= dec_deg <= 90.0:
        raise ValueError(f"Dec {dec_deg} is outside [-90, 90]")
    degrees, minutes, seconds, frac = _sexagesimal(abs(dec_deg), precision)
    rounds_to_zero = degrees == minutes == seconds == 0 and not frac.strip(".0")
    sign = "-" if dec_deg < 0 and not rounds_to_zero else "+"
    return f"{sign}{degrees:02d} {minutes:02d} {seconds:02d}{frac}"

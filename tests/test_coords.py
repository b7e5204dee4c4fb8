"""getstar.coords: what astronomers type for positions, radii and epochs.

astropy is the reference here (never in the module's hot path): its Angle
parser for sexagesimal text, Time for epochs, SkyCoord for separations and
space motion.
"""

from __future__ import annotations

import math
import re
import warnings

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import Angle, SkyCoord
from astropy.time import Time
from erfa import ErfaWarning
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from getstar.coords import (
    format_dec_dms,
    format_ra_hms,
    looks_like_position,
    parse_dec,
    parse_epoch,
    parse_position,
    parse_ra,
    parse_radius,
    propagate,
    propagate_many,
    separation_deg,
)
from getstar.errors import BadRequest

MAS = 1 / 3_600_000  # degrees
ARCSEC = 1 / 3600

# Sirius as SIMBAD gives it: the sexagesimal spelling is rounded to 1 mas-ish.
SIRIUS_RA, SIRIUS_DEC = 101.28715533, -16.71611586
SIRIUS_TEXT = "06 45 08.917 -16 42 58.017"


def sky_distance_arcsec(ra1: float, dec1: float, ra2: float, dec2: float) -> float:
    return separation_deg(ra1, dec1, ra2, dec2) * 3600


# --------------------------------------------------------------------------- RA


RA_GOOD = [
    ("101.2871", 101.2871),
    ("+101.2871", 101.2871),
    ("  101.2871  ", 101.2871),
    ("101.2871d", 101.2871),
    ("101.2871 deg", 101.2871),
    ("101.2871°", 101.2871),
    ("0", 0.0),
    ("-0", 0.0),
    ("0.0", 0.0),
    ("359.9999999", 359.9999999),
    ("360", 0.0),
    ("360.0", 0.0),
    ("1e2", 100.0),
    (".5", 0.5),
    ("6.75h", 101.25),
    ("6.75 H", 101.25),
    ("06 45 08.917", 101.28715416666667),
    ("06:45:08.917", 101.28715416666667),
    ("6h45m08.917s", 101.28715416666667),
    ("06h 45m 08.917s", 101.28715416666667),
    ("06H45M08.917S", 101.28715416666667),
    ("6ʰ45ᵐ08.917ˢ", 101.28715416666667),
    ("06 45 08.9", 15 * (6 + 45 / 60 + 8.9 / 3600)),
    ("6 45 8.9", 15 * (6 + 45 / 60 + 8.9 / 3600)),
    ("06 45.15", 15 * (6 + 45.15 / 60)),
    ("06:45.15", 15 * (6 + 45.15 / 60)),
    ("06h45m", 101.25),
    ("06 45 08.", 15 * (6 + 45 / 60 + 8 / 3600)),
    ("00 00 00", 0.0),
    ("23 59 59.999", 15 * (23 + 59 / 60 + 59.999 / 3600)),
    ("24 00 00", 0.0),
    ("24h", 0.0),
    ("101d17m13.8s", 101 + 17 / 60 + 13.8 / 3600),
    ("101°17'13.8\"", 101 + 17 / 60 + 13.8 / 3600),
]


@pytest.mark.parametrize(("text", "expected"), RA_GOOD)
def test_parse_ra_good(text: str, expected: float) -> None:
    assert parse_ra(text) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("value", [0, 0.0, 101.2871, 359.999, 360, np.float64(12.5), np.float32(12.5)])
def test_parse_ra_numbers(value: float) -> None:
    assert parse_ra(value) == pytest.approx(float(value) % 360.0)


def test_parse_ra_returns_plain_zero_for_minus_zero() -> None:
    assert math.copysign(1.0, parse_ra("-0.0")) == 1.0
    assert math.copysign(1.0, parse_ra(-0.0)) == 1.0


RA_BAD = [
    ("abc", "cannot read RA 'abc'"),
    ("", "RA is empty"),
    ("   ", "RA is empty"),
    ("-1", "RA -1 is outside [0, 360]"),
    ("361", "RA 361 is outside [0, 360]"),
    ("360.0001", "outside [0, 360]"),
    ("-0.5h", "negative"),
    ("-06 45 08", "negative"),
    ("nan", "not a finite number"),
    ("NaN", "not a finite number"),
    ("inf", "not a finite number"),
    ("-inf", "not a finite number"),
    ("1e400", "not a finite number"),
    ("24 00 01", "outside [0, 360]"),
    ("25 00 00", "read as hours"),
    ("101 17 13", "write e.g. 101d17m13s"),
    ("06 60 00", "minutes 60 must be below 60"),
    ("06 45 60", "seconds 60 must be below 60"),
    ("06 45.5 08", "minutes 45.5 must be whole"),
    ("06 45 08 09", "cannot read RA"),
    ("06h45m08.9s foo", "cannot read RA"),
    ("1_0", "cannot read RA"),
    ("101.2871 -16.7", "cannot read RA"),
    ("HD 48915", "cannot read RA 'HD 48915'"),
    ("1" * 500, "not a finite number"),
    ("1 " * 200, "cannot read RA"),
]


@pytest.mark.parametrize(("text", "message"), RA_BAD)
def test_parse_ra_rejects(text: str, message: str) -> None:
    with pytest.raises(BadRequest, match=re.escape(message)):
        parse_ra(text)


@pytest.mark.parametrize("value", [-1, 361, -0.001, math.nan, math.inf, -math.inf, True, None, [1.0], "x"])
def test_parse_ra_rejects_non_text(value: object) -> None:
    with pytest.raises(BadRequest):
        parse_ra(value)  # type: ignore[arg-type]


def test_parse_ra_message_example() -> None:
    with pytest.raises(BadRequest) as info:
        parse_ra("abc")
    assert info.value.message == (
        "cannot read RA 'abc': expected degrees (e.g. 101.287) or sexagesimal hours "
        "(e.g. 06 45 08.9 or 06h45m08.9s)"
    )
    assert info.value.status_code == 400


# -------------------------------------------------------------------------- Dec


DEC_GOOD = [
    ("-16.716", -16.716),
    ("+16.716", 16.716),
    ("16.716", 16.716),
    ("\u221216.716", -16.716),  # Unicode minus sign
    ("\u201316.716", -16.716),  # en dash, pasted from PDFs
    ("-16.716d", -16.716),
    ("-16.716°", -16.716),
    ("-16 42 57.87", -16.716075),
    ("-16:42:57.87", -16.716075),
    ("-16d42m57.87s", -16.716075),
    ("-16D 42M 57.87S", -16.716075),
    ("-16°42′57.87″", -16.716075),
    ("-16°42'57.87\"", -16.716075),
    ("-16°42'57.87''", -16.716075),
    ("\u221216\u00b042\u203257.87\u2033", -16.716075),
    ("- 16 42 57.87", -16.716075),
    ("-016 42 57.87", -16.716075),
    ("+00 30 00", 0.5),
    ("-00 30 00", -0.5),
    ("-00:30:00", -0.5),
    ("-0 30", -0.5),
    ("-00d30m", -0.5),
    ("-0.5", -0.5),
    ("-16 42.5", -(16 + 42.5 / 60)),
    ("90", 90.0),
    ("-90", -90.0),
    ("+90 00 00", 90.0),
    ("-90:00:00.0", -90.0),
    ("0", 0.0),
]


@pytest.mark.parametrize(("text", "expected"), DEC_GOOD)
def test_parse_dec_good(text: str, expected: float) -> None:
    assert parse_dec(text) == pytest.approx(expected, abs=1e-12)


def test_parse_dec_keeps_sign_of_zero_degree_field() -> None:
    assert parse_dec("-00 30 00") == -0.5
    assert parse_dec("-00 00 01") == pytest.approx(-1 / 3600)
    assert parse_dec("+00 00 01") == pytest.approx(1 / 3600)


DEC_BAD = [
    ("95", "Dec 95 is outside [-90, +90]"),
    ("-95", "Dec -95 is outside [-90, +90]"),
    ("90.0000001", "outside [-90, +90]"),
    ("+90 00 01", "outside [-90, +90]"),
    ("-91 00 00", "outside [-90, +90]"),
    ("nan", "not a finite number"),
    ("inf", "not a finite number"),
    ("-Infinity", "not a finite number"),
    ("abc", "cannot read Dec 'abc'"),
    ("", "Dec is empty"),
    ("-16 60 00", "minutes 60 must be below 60"),
    ("-16 42 61", "seconds 61 must be below 60"),
    ("6h", "written in hours"),
    ("06h45m08s", "written in hours"),
    ("--16", "cannot read Dec"),
    ("+-16", "cannot read Dec"),
    ("16-42-58", "cannot read Dec"),
    ("1_0", "cannot read Dec"),
]


@pytest.mark.parametrize(("text", "message"), DEC_BAD)
def test_parse_dec_rejects(text: str, message: str) -> None:
    with pytest.raises(BadRequest, match=re.escape(message)):
        parse_dec(text)


@pytest.mark.parametrize("value", [95, -90.5, math.nan, math.inf, False, None, object()])
def test_parse_dec_rejects_non_text(value: object) -> None:
    with pytest.raises(BadRequest):
        parse_dec(value)  # type: ignore[arg-type]


# -------------------------------------------- sexagesimal against astropy.Angle


RA_STYLES = {
    "spaces": "{h} {m} {s}",
    "colons": "{h}:{m}:{s}",
    "letters": "{h}h{m}m{s}s",
    "spaced letters": "{h}h {m}m {s}s",
}
DEC_STYLES = {
    "spaces": "{sign}{d} {m} {s}",
    "colons": "{sign}{d}:{m}:{s}",
    "letters": "{sign}{d}d{m}m{s}s",
    "symbols": "{sign}{d}°{m}′{s}″",
}


def _seconds_text(whole: int, digits: str, pad: bool) -> str:
    base = f"{whole:02d}" if pad else str(whole)
    return f"{base}.{digits}" if digits else base


seconds_parts = st.tuples(st.integers(0, 59), st.text(alphabet="0123456789", max_size=7), st.booleans())


@given(
    h=st.integers(0, 23),
    m=st.integers(0, 59),
    s=seconds_parts,
    style=st.sampled_from(sorted(RA_STYLES)),
    pad=st.booleans(),
)
@settings(max_examples=150, deadline=None)
def test_parse_ra_matches_astropy(h: int, m: int, s: tuple[int, str, bool], style: str, pad: bool) -> None:
    text = RA_STYLES[style].format(
        h=f"{h:02d}" if pad else h, m=f"{m:02d}" if pad else m, s=_seconds_text(*s)
    )
    expected = Angle(text, unit=u.hourangle).degree
    assert parse_ra(text) == pytest.approx(expected, abs=1e-10), text


@given(
    sign=st.sampled_from(["", "+", "-", "\u2212"]),
    d=st.integers(0, 89),
    m=st.integers(0, 59),
    s=seconds_parts,
    style=st.sampled_from(sorted(DEC_STYLES)),
)
@settings(max_examples=150, deadline=None)
@example(sign="-", d=0, m=30, s=(0, "", True), style="spaces")
@example(sign="-", d=0, m=0, s=(0, "1", False), style="colons")
def test_parse_dec_matches_astropy(sign: str, d: int, m: int, s: tuple[int, str, bool], style: str) -> None:
    text = DEC_STYLES[style].format(sign=sign, d=f"{d:02d}", m=f"{m:02d}", s=_seconds_text(*s))
    expected = Angle(text.replace("\u2212", "-"), unit=u.deg).degree
    assert parse_dec(text) == pytest.approx(expected, abs=1e-10), text


@given(st.floats(0, 360, exclude_max=True))
def test_parse_ra_decimal_is_float(value: float) -> None:
    assert parse_ra(repr(value)) == value
    assert parse_ra(value) == value


@given(st.floats(-90, 90))
def test_parse_dec_decimal_is_float(value: float) -> None:
    assert parse_dec(repr(value)) == value


# --------------------------------------------------------------------- position


POSITION_GOOD = [
    ("101.2871 -16.7161", (101.2871, -16.7161)),
    ("101.2871 +16.7161", (101.2871, 16.7161)),
    ("101.2871 16.7161", (101.2871, 16.7161)),
    ("101.2871,-16.7161", (101.2871, -16.7161)),
    ("101.2871, -16.7161", (101.2871, -16.7161)),
    ("  101.2871   -16.7161  ", (101.2871, -16.7161)),
    ("101.2871\t-16.7161", (101.2871, -16.7161)),
    ("101.2871-16.7161", (101.2871, -16.7161)),
    ("101.2871d -16.7161d", (101.2871, -16.7161)),
    ("0 0", (0.0, 0.0)),
    ("360 -90", (0.0, -90.0)),
    ("06 45 08.917 -16 42 57.87", (101.28715416666667, -16.716075)),
    ("06:45:08.917 -16:42:57.87", (101.28715416666667, -16.716075)),
    ("06:45:08.917,-16:42:57.87", (101.28715416666667, -16.716075)),
    ("06h45m08.9s -16d42m58s", (101.28708333333333, -16.716111111111111)),
    ("06h45m08.9s-16d42m58s", (101.28708333333333, -16.716111111111111)),
    ("06h 45m 08.9s -16d 42m 58s", (101.28708333333333, -16.716111111111111)),
    ("6h 45m 8.9s 16d42m58s", (101.28708333333333, 16.716111111111111)),
    ("6ʰ45ᵐ08.9ˢ \u221216°42′58″", (101.28708333333333, -16.716111111111111)),
    ("6 45 8.9 -16 42 58", (101.28708333333333, -16.716111111111111)),
    ("06 45 08.9 +16 42 58", (101.28708333333333, 16.716111111111111)),
    ("06 45 08.9 16 42 58", (101.28708333333333, 16.716111111111111)),
    ("06 45 08.9 - 16 42 58", (101.28708333333333, -16.716111111111111)),
    ("06 45.15 -16 42.97", (15 * (6 + 45.15 / 60), -(16 + 42.97 / 60))),
    ("10 20 30 40", (15 * (10 + 20 / 60), 30 + 40 / 60)),
    ("06 45 08.9 -00 30 00", (101.28708333333333, -0.5)),
    ("101.2871 -16 42 58", (101.2871, -16.716111111111111)),
    ("06 45 08.9 -16.7161", (101.28708333333333, -16.7161)),
    ("J064508.9-164258", (101.28708333333333, -16.716111111111111)),
    ("j064508.90+164258.0", (101.28708333333333, 16.716111111111111)),
    ("J0645-1642", (101.25, -16.7)),
]


@pytest.mark.parametrize(("text", "expected"), POSITION_GOOD)
def test_parse_position_good(text: str, expected: tuple[float, float]) -> None:
    ra, dec = parse_position(text)
    assert ra == pytest.approx(expected[0], abs=1e-12)
    assert dec == pytest.approx(expected[1], abs=1e-12)
    assert looks_like_position(text)


def test_sirius() -> None:
    ra, dec = parse_position(SIRIUS_TEXT)
    # SIMBAD's sexagesimal is rounded to 1 ms of time / 1 mas: within a few mas.
    assert sky_distance_arcsec(ra, dec, SIRIUS_RA, SIRIUS_DEC) < 0.01
    assert ra == pytest.approx(SIRIUS_RA, abs=5e-6)
    assert dec == pytest.approx(SIRIUS_DEC, abs=5e-6)
    assert format_ra_hms(SIRIUS_RA, 3) + " " + format_dec_dms(SIRIUS_DEC, 3) == SIRIUS_TEXT


POSITION_BAD = [
    ("", "position is empty"),
    ("Sirius", "cannot read position 'Sirius'"),
    ("101.2871", "cannot read position"),
    ("06 45 08.9", "more than one way"),
    ("10 20 30", "more than one way"),
    ("101.2871 -96", "Dec -96 is outside [-90, +90]"),
    ("06 45 08.9 -96 00 00", "outside [-90, +90]"),
    ("361 -16", "RA 361 is outside [0, 360]"),
    ("-1 -16", "RA -1 is negative"),
    ("06 61 08.9 -16 42 58", "minutes 61 must be below 60"),
    ("1,2,3", "cannot read position"),
    ("101.2871,", "cannot read position"),
    ("nan nan", "cannot read position"),
    ("J064508.9-954258", "outside [-90, +90]"),
    ("1 " * 100, "too long"),
]


@pytest.mark.parametrize(("text", "message"), POSITION_BAD)
def test_parse_position_rejects(text: str, message: str) -> None:
    with pytest.raises(BadRequest, match=re.escape(message)):
        parse_position(text)


def test_parse_position_rejects_non_text() -> None:
    with pytest.raises(BadRequest):
        parse_position(101.0)  # type: ignore[arg-type]


NAMES = [
    "HD 48915",
    "Sirius",
    "9 CMa",
    "alf CMa",
    "HIP 32349",
    "NGC 104",
    "2MASS J06450887-1642566",
    "Gaia DR3 2947050466531873024",
    "BD+05 1668",
    "TYC 5949-2777-1",
    "* alf CMa",
    "V* R Leo",
    "M 31",
    "61 Cyg",
    "3C 273",
    "GJ 699",
    "Barnard's star",
    "J2000",
    "12345",
    "",
    "   ",
]


@pytest.mark.parametrize("name", NAMES)
def test_looks_like_position_false_for_names(name: str) -> None:
    assert looks_like_position(name) is False


@pytest.mark.parametrize(
    "text", ["06 45 08.9 -96 00 00", "10 20 30", "361 -16", "06 45 08.9 -16 42 58", "101.2871,-16.7161"]
)
def test_looks_like_position_is_syntax_only(text: str) -> None:
    # A mistyped position must reach parse_position's message, not "unknown star".
    assert looks_like_position(text) is True


@pytest.mark.parametrize("value", [None, 12.5, b"06 45 08 -16 42 58", ["a"]])
def test_looks_like_position_non_text(value: object) -> None:
    assert looks_like_position(value) is False  # type: ignore[arg-type]


# ----------------------------------------------------------------------- radius


CAP = 1.0  # degrees
DEFAULT = 2 * ARCSEC

RADIUS_GOOD = [
    ("5", 5 * ARCSEC),
    ("5arcsec", 5 * ARCSEC),
    ("5 arcsec", 5 * ARCSEC),
    ("5 ARCSEC", 5 * ARCSEC),
    ('5"', 5 * ARCSEC),
    ("5''", 5 * ARCSEC),
    ("5″", 5 * ARCSEC),
    ("5as", 5 * ARCSEC),
    ("5s", 5 * ARCSEC),
    ("5 arcseconds", 5 * ARCSEC),
    ("0.5arcmin", 0.5 / 60),
    ("0.5'", 0.5 / 60),
    ("0.5′", 0.5 / 60),
    ("0.5amin", 0.5 / 60),
    ("0.5m", 0.5 / 60),
    ("0.01deg", 0.01),
    ("0.01d", 0.01),
    ("0.01°", 0.01),
    ("0.01 degrees", 0.01),
    ("2mas", 2 * MAS),
    (".5", 0.5 * ARCSEC),
    ("1e1", 10 * ARCSEC),
    ("3600", 1.0),
    ("60arcmin", 1.0),
    ("1deg", 1.0),
    (None, DEFAULT),
    ("", DEFAULT),
    ("  ", DEFAULT),
    (5, 5 * ARCSEC),
    (2.5, 2.5 * ARCSEC),
]


@pytest.mark.parametrize(("text", "expected"), RADIUS_GOOD)
def test_parse_radius_good(text: str | float | None, expected: float) -> None:
    assert parse_radius(text, DEFAULT, maximum=CAP) == pytest.approx(expected, rel=1e-12)


def test_parse_radius_default_unit() -> None:
    assert parse_radius("5", DEFAULT, maximum=CAP, default_unit="arcmin") == pytest.approx(5 / 60)
    assert parse_radius(0.1, DEFAULT, maximum=CAP, default_unit="deg") == pytest.approx(0.1)
    assert parse_radius("5arcsec", DEFAULT, maximum=CAP, default_unit="deg") == pytest.approx(5 * ARCSEC)
    with pytest.raises(ValueError):
        parse_radius("5", DEFAULT, maximum=CAP, default_unit="furlong")


RADIUS_BAD = [
    ("0", "must be positive"),
    ("0arcsec", "must be positive"),
    ("-5", "must be positive"),
    ("-0.5arcmin", "must be positive"),
    ("3601", "over the maximum of 3600 arcsec (1 deg)"),
    ("61arcmin", "over the maximum"),
    ("2deg", "over the maximum"),
    ("5parsec", "unknown radius unit 'parsec'"),
    ("5 km", "unknown radius unit 'km'"),
    ("5h", "unknown radius unit 'h'"),
    ("nan", "not a finite number"),
    ("inf", "not a finite number"),
    ("1e400deg", "not a finite number"),
    ("abc", "cannot read radius 'abc'"),
    ("5 5", "cannot read radius"),
    ("arcsec", "cannot read radius"),
    (0, "must be positive"),
    (-1.0, "must be positive"),
    (math.nan, "not a finite number"),
    (math.inf, "not a finite number"),
    (1e9, "over the maximum"),
]


@pytest.mark.parametrize(("text", "message"), RADIUS_BAD)
def test_parse_radius_rejects(text: str | float, message: str) -> None:
    with pytest.raises(BadRequest, match=re.escape(message)):
        parse_radius(text, DEFAULT, maximum=CAP)


def test_parse_radius_cap_message_in_arcsec() -> None:
    with pytest.raises(BadRequest, match=re.escape("maximum of 30 arcsec (0.00833333 deg)")):
        parse_radius("31", DEFAULT, maximum=30 * ARCSEC)
    assert parse_radius("30", DEFAULT, maximum=30 * ARCSEC) == pytest.approx(30 * ARCSEC)
    assert parse_radius("0.5'", DEFAULT, maximum=30 * ARCSEC) == pytest.approx(30 * ARCSEC)


# ------------------------------------------------------------------------ epoch


EPOCH_GOOD = [
    ("J2000", 2000.0),
    ("j2000", 2000.0),
    ("J2000.0", 2000.0),
    ("J 2000", 2000.0),
    ("2000", 2000.0),
    ("2016.0", 2016.0),
    ("J2015.5", 2015.5),
    ("J2016", 2016.0),
    ("1991.25", 1991.25),
    ("51544.5", 2000.0),
    ("MJD51544.5", 2000.0),
    ("MJD 51544.5", 2000.0),
    ("mjd=51544.5", 2000.0),
    ("JD2451545.0", 2000.0),
    ("JD 2451545", 2000.0),
    (2000, 2000.0),
    (2015.5, 2015.5),
    (51544.5, 2000.0),
    (np.float64(2016.0), 2016.0),
]


@pytest.mark.parametrize(("text", "expected"), EPOCH_GOOD)
def test_parse_epoch_good(text: str | float, expected: float) -> None:
    assert parse_epoch(text) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("text", [None, "", "  "])
def test_parse_epoch_absent(text: str | None) -> None:
    assert parse_epoch(text) is None


@pytest.mark.parametrize(
    ("text", "reference"),
    [
        ("B1950", Time("B1950")),
        ("B1950.0", Time("B1950")),
        ("B1900", Time("B1900")),
        ("B1875.5", Time(1875.5, format="byear", scale="tt")),
        ("MJD 57388", Time(57388, format="mjd", scale="tt")),
        ("JD2457389.0", Time(2457389.0, format="jd", scale="tt")),
        ("60000.25", Time(60000.25, format="mjd", scale="tt")),
        ("2021-03-04", Time("2021-03-04T00:00:00", scale="utc")),
        ("2021-03-04T12:00:00", Time("2021-03-04T12:00:00", scale="utc")),
        ("2021-03-04 12:00:00", Time("2021-03-04T12:00:00", scale="utc")),
        ("2021-03-04 12:00:00Z", Time("2021-03-04T12:00:00", scale="utc")),
        ("2021-03-04t12:00:00z", Time("2021-03-04T12:00:00", scale="utc")),
        ("2021-03-04T13:30:00+01:30", Time("2021-03-04T12:00:00", scale="utc")),
        ("2021-03-04T12:00", Time("2021-03-04T12:00:00", scale="utc")),
        ("2021-03-04T12:00:00.5", Time("2021-03-04T12:00:00.5", scale="utc")),
        ("1991-04-02", Time("1991-04-02", scale="utc")),
    ],
)
def test_parse_epoch_matches_astropy(text: str, reference: Time) -> None:
    # Dates are read as UTC-taken-as-TT (2e-6 yr); Time.jyear uses each Time's own scale too.
    assert parse_epoch(text) == pytest.approx(reference.jyear, abs=1e-9)


def test_b1950_is_a_little_before_j1950() -> None:
    epoch = parse_epoch("B1950")
    assert epoch is not None
    assert 1949.9997 < epoch < 1949.9998


EPOCH_BAD = [
    ("nan", "not a finite number"),
    ("inf", "not a finite number"),
    ("5000", "neither a year in [1000, 3000] nor an MJD"),
    ("999", "neither a year"),
    ("-2000", "neither a year"),
    ("0", "neither a year"),
    ("J3001", "outside [1000, 3000]"),
    ("J999", "outside [1000, 3000]"),
    ("B999", "outside [1000, 3000]"),
    ("2451545", "write JD2451545 for a Julian Date"),
    ("MJD 900000", "outside [1000, 3000]"),
    ("JD 100", "outside [1000, 3000]"),
    ("0999-01-01", "outside [1000, 3000]"),
    ("2021-13-01", "not a valid date"),
    ("2021-02-30", "not a valid date"),
    ("2021-03-04T25:00:00", "not a valid date"),
    ("0000-01-01", "not a valid date"),
    ("9999-12-31T23:59:59-01:00", "outside [1000, 3000]"),
    ("0001-01-01T00:00:00+01:00", "outside [1000, 3000]"),
    ("yesterday", "cannot read epoch 'yesterday'"),
    ("J2000x", "cannot read epoch"),
    ("2021/03/04", "cannot read epoch"),
    ("1_000", "cannot read epoch"),
    (math.nan, "not a finite number"),
    (5000.0, "neither a year"),
    (True, "must be a number"),
]


@pytest.mark.parametrize(("text", "message"), EPOCH_BAD)
def test_parse_epoch_rejects(text: str | float, message: str) -> None:
    with pytest.raises(BadRequest, match=re.escape(message)):
        parse_epoch(text)


# ------------------------------------------------------------------ formatting


FORMAT_CASES_RA = [
    (SIRIUS_RA, 6, "06 45 08.917279"),
    (SIRIUS_RA, 3, "06 45 08.917"),
    (SIRIUS_RA, 0, "06 45 09"),
    (0.0, 6, "00 00 00.000000"),
    (360.0, 6, "00 00 00.000000"),
    (-15.0, 2, "23 00 00.00"),
    (15 * (6 + 45 / 60 + 59.9999999 / 3600), 6, "06 46 00.000000"),
    (15 * (6 + 59 / 60 + 59.9999999 / 3600), 6, "07 00 00.000000"),
    (15 * (6 + 59 / 60 + 59.9999994 / 3600), 6, "06 59 59.999999"),
    (359.99999999999, 6, "00 00 00.000000"),
    (15 * (23 + 59 / 60 + 59.96 / 3600), 1, "00 00 00.0"),
    (15 * (1 + 2 / 60 + 3.5 / 3600), 3, "01 02 03.500"),
]


@pytest.mark.parametrize(("ra", "precision", "expected"), FORMAT_CASES_RA)
def test_format_ra_hms(ra: float, precision: int, expected: str) -> None:
    assert format_ra_hms(ra, precision) == expected


FORMAT_CASES_DEC = [
    (-16.71607528, 6, "-16 42 57.871008"),
    (SIRIUS_DEC, 3, "-16 42 58.017"),
    (0.5, 6, "+00 30 00.000000"),
    (-0.5, 6, "-00 30 00.000000"),
    (0.0, 6, "+00 00 00.000000"),
    (-0.0, 6, "+00 00 00.000000"),
    (-1e-12, 6, "+00 00 00.000000"),  # rounds to zero: no '-00 00 00'
    (-1e-9, 6, "-00 00 00.000004"),
    (90.0, 6, "+90 00 00.000000"),
    (-90.0, 2, "-90 00 00.00"),
    (-(16 + 59 / 60 + 59.9999999 / 3600), 6, "-17 00 00.000000"),
    (89.99999999999, 6, "+90 00 00.000000"),
    (-(5 + 6 / 60 + 7 / 3600), 0, "-05 06 07"),
]


@pytest.mark.parametrize(("dec", "precision", "expected"), FORMAT_CASES_DEC)
def test_format_dec_dms(dec: float, precision: int, expected: str) -> None:
    assert format_dec_dms(dec, precision) == expected


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_format_rejects_non_finite(bad: float) -> None:
    with pytest.raises(ValueError):
        format_ra_hms(bad)
    with pytest.raises(ValueError):
        format_dec_dms(bad)


def test_format_rejects_bad_dec_and_precision() -> None:
    with pytest.raises(ValueError):
        format_dec_dms(90.5)
    with pytest.raises(ValueError):
        format_ra_hms(10.0, -1)


RA_SPELLING = re.compile(r"(\d{2}) (\d{2}) (\d{2})(\.\d+)?")
DEC_SPELLING = re.compile(r"[+-](\d{2}) (\d{2}) (\d{2})(\.\d+)?")


def _near_carry(unit: float) -> st.SearchStrategy[float]:
    """Values a hair below a whole second/minute/hour, where rounding must carry."""
    return st.builds(
        lambda whole, eps: whole * unit - eps,
        st.integers(1, 86399),
        st.sampled_from([1e-7, 4e-8, 5e-10, 1e-12]),
    )


@given(
    ra=st.one_of(
        st.floats(0, 360, exclude_max=True),
        _near_carry(15 / 3600).filter(lambda x: 0 <= x < 360),
    ),
    precision=st.integers(0, 9),
)
@example(ra=15 * (6 + 45 / 60 + 59.9999999 / 3600), precision=6)
@example(ra=360 - 1e-13, precision=6)
@example(ra=15 * 59.9999995 / 3600, precision=6)
def test_format_ra_round_trip(ra: float, precision: int) -> None:
    text = format_ra_hms(ra, precision)
    m = RA_SPELLING.fullmatch(text)
    assert m is not None, text
    assert int(m[1]) < 24 and int(m[2]) < 60 and int(m[3]) < 60, text
    assert (m[4] is None) == (precision == 0) and len(m[4] or ".") - 1 == precision
    back = parse_ra(text)
    # Half a unit of the last digit (in seconds of time = 15 arcsec), plus float noise.
    tolerance = 15 * 0.5 * 10.0**-precision + 1e-6
    assert sky_distance_arcsec(back, 0.0, ra, 0.0) <= tolerance, (ra, text, back)


@given(
    dec=st.one_of(
        st.floats(-90, 90),
        _near_carry(1 / 3600).filter(lambda x: x <= 90),
        _near_carry(1 / 3600).filter(lambda x: x <= 90).map(lambda x: -x),
    ),
    precision=st.integers(0, 9),
)
@example(dec=-(59.9999999 / 3600), precision=6)
@example(dec=-(16 + 59 / 60 + 59.9999995 / 3600), precision=6)
def test_format_dec_round_trip(dec: float, precision: int) -> None:
    text = format_dec_dms(dec, precision)
    m = DEC_SPELLING.fullmatch(text)
    assert m is not None, text
    assert int(m[1]) <= 90 and int(m[2]) < 60 and int(m[3]) < 60, text
    back = parse_dec(text)
    tolerance = 0.5 * 10.0**-precision + 1e-6
    assert abs(back - dec) * 3600 <= tolerance, (dec, text, back)


@given(ra=st.floats(0, 360, exclude_max=True), dec=st.floats(-90, 90))
def test_format_parse_position_round_trip(ra: float, dec: float) -> None:
    text = f"{format_ra_hms(ra)} {format_dec_dms(dec)}"
    assert looks_like_position(text)
    ra2, dec2 = parse_position(text)
    assert sky_distance_arcsec(ra, dec, ra2, dec2) < 1e-4


# ------------------------------------------------------------ proper motion


def astropy_propagate(
    ra: float, dec: float, pmra: float, pmdec: float, t0: float, t1: float, distance_pc: float = 10.0
) -> tuple[float, float]:
    """Reference: straight-line space motion with zero radial velocity (= linear in the tangent plane)."""
    star = SkyCoord(
        ra=ra * u.deg,
        dec=dec * u.deg,
        pm_ra_cosdec=pmra * u.mas / u.yr,
        pm_dec=pmdec * u.mas / u.yr,
        distance=distance_pc * u.pc,
        radial_velocity=0 * u.km / u.s,
        obstime=Time(t0, format="jyear"),
    )
    with warnings.catch_warnings():  # ERFA calls UTC-TAI outside 1960-now "dubious"
        warnings.simplefilter("ignore", ErfaWarning)
        moved = star.apply_space_motion(new_obstime=Time(t1, format="jyear"))
    return float(moved.ra.deg), float(moved.dec.deg)


STARS = [
    # Barnard's star, Hipparcos epoch to Gaia DR3 epoch.
    pytest.param(269.4521, 4.6934, -801.551, 10362.394, 1991.25, 2016.0, 1.8266, id="barnard"),
    pytest.param(269.4521, 4.6934, -801.551, 10362.394, 2016.0, 1991.25, 1.8266, id="barnard-backwards"),
    pytest.param(10.0, 89.9, 500.0, 300.0, 2000.0, 3000.0, 10.0, id="dec-89.9"),
    pytest.param(123.0, 89.9, 0.0, 1000.0, 2000.0, 2500.0, 10.0, id="over-the-pole"),
    pytest.param(0.0001, -89.99, -3000.0, 2000.0, 2000.0, 2300.0, 5.0, id="south-pole"),
    pytest.param(359.9999, 0.0, 1000.0, 0.0, 2000.0, 2100.0, 10.0, id="ra-wraps-up"),
    pytest.param(0.00001, 45.0, -1000.0, 5.0, 2000.0, 2100.0, 10.0, id="ra-wraps-down"),
    pytest.param(359.9999, -30.0, 200.0, -50.0, 2016.0, 1000.0, 10.0, id="ra-wrap-to-year-1000"),
    pytest.param(101.28715533, -16.71611586, -546.01, -1223.07, 2000.0, 2016.0, 2.64, id="sirius"),
]


@pytest.mark.parametrize(("ra", "dec", "pmra", "pmdec", "t0", "t1", "distance"), STARS)
def test_propagate_matches_astropy(
    ra: float, dec: float, pmra: float, pmdec: float, t0: float, t1: float, distance: float
) -> None:
    expected = astropy_propagate(ra, dec, pmra, pmdec, t0, t1, distance)
    got = propagate(ra, dec, pmra, pmdec, t0, t1)
    assert 0.0 <= got[0] < 360.0 and -90.0 <= got[1] <= 90.0
    assert sky_distance_arcsec(*got, *expected) * 1000 < 1.0  # mas


def test_barnard_moves_the_expected_amount() -> None:
    ra, dec = propagate(269.4521, 4.6934, -801.551, 10362.394, 1991.25, 2016.0)
    total = math.hypot(-801.551, 10362.394) * 24.75 / 1000  # arcsec
    assert sky_distance_arcsec(269.4521, 4.6934, ra, dec) == pytest.approx(total, rel=1e-6)
    assert dec > 4.6934 and ra < 269.4521


def test_propagate_across_ra_zero() -> None:
    ra, dec = propagate(359.9999, 0.0, 1000.0, 0.0, 2000.0, 2100.0)
    assert ra == pytest.approx(359.9999 + 100 / 3600 - 360, abs=1e-6)
    assert dec == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize(
    ("pmra", "pmdec", "t0", "t1"),
    [
        (None, 100.0, 2000.0, 2016.0),
        (100.0, None, 2000.0, 2016.0),
        (None, None, 2000.0, 2016.0),
        (math.nan, 100.0, 2000.0, 2016.0),
        (100.0, math.nan, 2000.0, 2016.0),
        (0.0, 0.0, 2000.0, 2016.0),
        (100.0, 100.0, 2016.0, 2016.0),
        (100.0, 100.0, math.nan, 2016.0),
    ],
)
def test_propagate_unchanged(pmra: float | None, pmdec: float | None, t0: float, t1: float) -> None:
    assert propagate(12.345, -67.89, pmra, pmdec, t0, t1) == (12.345, -67.89)


@given(
    ra=st.floats(0, 360, exclude_max=True),
    dec=st.floats(-90, 90),
    pmra=st.floats(-20000, 20000),
    pmdec=st.floats(-20000, 20000),
    dt=st.floats(-1000, 1000),
)
def test_propagate_moves_atan_of_mu_t(ra: float, dec: float, pmra: float, pmdec: float, dt: float) -> None:
    # Linear motion in the tangent plane: angular distance is atan(|mu| t) exactly.
    new_ra, new_dec = propagate(ra, dec, pmra, pmdec, 2000.0, 2000.0 + dt)
    assert 0.0 <= new_ra < 360.0
    assert -90.0 <= new_dec <= 90.0
    mu_t = math.radians(math.hypot(pmra, pmdec) * abs(dt) * MAS)
    assert sky_distance_arcsec(ra, dec, new_ra, new_dec) == pytest.approx(
        math.degrees(math.atan(mu_t)) * 3600, abs=1e-6
    )


def _random_stars(n: int, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    ra = rng.uniform(0, 360, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    dec[:5] = [89.9, -89.9, 90.0, -90.0, 0.0]
    ra[:3] = [359.9999, 0.0, 0.00001]
    pmra = rng.normal(0, 2000, n)
    pmdec = rng.normal(0, 2000, n)
    pmra[rng.random(n) < 0.1] = np.nan
    pmdec[rng.random(n) < 0.1] = np.nan
    pmra[rng.random(n) < 0.05] = 0.0
    pmdec[pmra == 0.0] = 0.0
    return ra, dec, pmra, pmdec


@pytest.mark.parametrize("per_row_epoch", [False, True])
def test_propagate_many_equals_scalar(per_row_epoch: bool) -> None:
    n = 2000
    ra, dec, pmra, pmdec = _random_stars(n, seed=7)
    rng = np.random.default_rng(8)
    to_epoch: np.ndarray | float = rng.uniform(1000, 3000, n) if per_row_epoch else 2016.0
    if isinstance(to_epoch, np.ndarray):
        to_epoch[:10] = np.nan  # no epoch given for those rows: unchanged
    new_ra, new_dec = propagate_many(ra, dec, pmra, pmdec, 2000.0, to_epoch)
    assert new_ra.shape == new_dec.shape == (n,)
    assert np.all((new_ra >= 0) & (new_ra < 360))
    for i in range(n):
        t1 = float(to_epoch[i]) if isinstance(to_epoch, np.ndarray) else to_epoch
        one = propagate(float(ra[i]), float(dec[i]), float(pmra[i]), float(pmdec[i]), 2000.0, t1)
        assert sky_distance_arcsec(*one, float(new_ra[i]), float(new_dec[i])) < 1e-9
        if not (np.isfinite(pmra[i]) and np.isfinite(pmdec[i]) and np.isfinite(t1)):
            assert (new_ra[i], new_dec[i]) == (ra[i], dec[i])


def test_propagate_many_accepts_lists_and_array_from_epoch() -> None:
    new_ra, new_dec = propagate_many(
        [10.0, 20.0], [0.0, 0.0], [3600.0, np.nan], [0.0, 0.0], [2000.0, 2000.0], 2001.0
    )
    assert new_ra[0] == pytest.approx(10.001, abs=1e-9)
    assert (new_ra[1], new_dec[1]) == (20.0, 0.0)


def test_propagate_many_matches_astropy() -> None:
    rows = np.array([star.values for star in STARS], dtype=float)
    ra, dec, pmra, pmdec, t0, t1, distance = rows.T
    got_ra, got_dec = propagate_many(ra, dec, pmra, pmdec, t0, t1)
    for i, row in enumerate(rows.tolist()):
        expected = astropy_propagate(*row)
        assert sky_distance_arcsec(float(got_ra[i]), float(got_dec[i]), *expected) * 1000 < 1.0


# ------------------------------------------------------------------ separation


@given(
    ra1=st.floats(0, 360),
    dec1=st.floats(-90, 90),
    ra2=st.floats(0, 360),
    dec2=st.floats(-90, 90),
)
@settings(max_examples=50, deadline=None)
def test_separation_matches_astropy(ra1: float, dec1: float, ra2: float, dec2: float) -> None:
    expected = SkyCoord(ra1 * u.deg, dec1 * u.deg).separation(SkyCoord(ra2 * u.deg, dec2 * u.deg)).deg
    assert separation_deg(ra1, dec1, ra2, dec2) == pytest.approx(expected, abs=1e-11)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ((10.0, 20.0), (10.0, 20.0), 0.0),
        ((0.0, 0.0), (180.0, 0.0), 180.0),
        ((0.0, 90.0), (0.0, -90.0), 180.0),
        ((45.0, 30.0), (225.0, -30.0), 180.0),
        ((0.0, 0.0), (0.0, MAS), MAS),
        ((359.9999999, 0.0), (0.0000001, 0.0), 2e-7),
        ((0.0, 89.0), (180.0, 89.0), 2.0),
        ((12.0, 90.0), (200.0, 90.0), 0.0),
    ],
)
def test_separation_cases(a: tuple[float, float], b: tuple[float, float], expected: float) -> None:
    # abs: 359.9999999 itself is only stored to ~6e-14 degrees.
    assert separation_deg(*a, *b) == pytest.approx(expected, rel=1e-9, abs=1e-12)


# ----------------------------------------------- arbitrary text never crashes


TYPED = st.text(alphabet="0123456789 +-−.:,hmsdHMSD°′″'\"eEjJbBZTtMDnaif_\t\u00a0", max_size=40)
ISO_LIKE = st.builds(
    "{}-{:02d}-{:02d}{}{:02d}:{:02d}:{:02d}{}".format,
    st.sampled_from(["0001", "0999", "1000", "2021", "3000", "9999"]),
    st.integers(0, 13),
    st.integers(0, 32),
    st.sampled_from(["T", " ", "t"]),
    st.integers(0, 24),
    st.integers(0, 60),
    st.integers(0, 60),
    st.sampled_from(["", "Z", " Z", "+01:00", "-01:00", "+14:00", "-2359", "+24:00"]),
)
ANY_TEXT = st.one_of(st.text(max_size=60), TYPED, ISO_LIKE)


@given(ANY_TEXT)
@settings(max_examples=400)
@example("1" * 500)
@example("9" * 400 + "e" + "9" * 400)
@example("06 45 08.9e999 -16 42 58")
def test_parsers_raise_only_bad_request(text: str) -> None:
    for parse in (parse_ra, parse_dec, parse_position, parse_epoch):
        try:
            parse(text)
        except BadRequest as error:
            assert error.message
    try:
        parse_radius(text, DEFAULT, maximum=CAP)
    except BadRequest as error:
        assert error.message


@given(ANY_TEXT)
@settings(max_examples=400)
def test_looks_like_position_never_raises(text: str) -> None:
    result = looks_like_position(text)
    assert isinstance(result, bool)
    # Whatever parse_position reads must be recognised as a position first.
    try:
        parse_position(text)
    except BadRequest:
        return
    assert result


@given(ANY_TEXT)
def test_parsed_values_are_in_range(text: str) -> None:
    try:
        ra = parse_ra(text)
    except BadRequest:
        pass
    else:
        assert 0.0 <= ra < 360.0
    try:
        dec = parse_dec(text)
    except BadRequest:
        pass
    else:
        assert -90.0 <= dec <= 90.0
    try:
        epoch = parse_epoch(text)
    except BadRequest:
        pass
    else:
        assert epoch is None or 1000.0 <= epoch <= 3000.0


@given(name=st.sampled_from(NAMES), suffix=st.sampled_from(["", " ", " A", " b"]))
def test_name_variants_are_not_positions(name: str, suffix: str) -> None:
    assume(name.strip())
    assert looks_like_position(name + suffix) is False

"""Spectral types decoded the way SearchCal decodes them (``alxString2SpectralType``).

A spectral type string (``K1.5IIIb``, ``B9/A0V``, ``M5+-7``, ``kA2hA5mA7V`` …) becomes a
letter O..M, a subclass (``quantity``), an uncertainty on it (``delta``, from hesitations
like ``K0/1``), a luminosity class and flags (double ``+``, spectroscopic binary ``SB``,
variable ``v``/``var``).  From those follow SearchCal's integer keys: the colour-table index
``4 * (10 * letter + subclass)`` (0 = O0.00, 200 = K0.00, 272 = M8.00), its delta, and the
luminosity class 1..5 (I..V) with its delta.

The rules are SearchCal's, restated from its published source (JMMC-OpenDev/SearchCal,
``SearchCal/alx/src/alxMissingMagnitude.c``, identical in 2017 and 2025); the C details
they depend on (``sscanf``/``strtod``, 31-character buffers, truncating ``snprintf``) are
reproduced in :mod:`getstar.astro.cscan` so that odd strings decode as SearchCal decodes them.
One deliberate difference: a subclass that is not a finite number (``KNAN``) makes the type
invalid here, where SearchCal's C code would compute an undefined index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from getstar.astro.cscan import as_unsigned, c_float, sscanf

#: Star types (``alxSTAR_TYPE``).
SUPER_GIANT, SUB_SUPER_GIANT, GIANT, SUB_GIANT, DWARF, UNDEFINED = range(6)
#: Colour / Teff-logg table per star type: 0 dwarf, 1 giant, 2 supergiant.
TABLE_OF_STAR_TYPE = {SUPER_GIANT: 2, SUB_SUPER_GIANT: 1, GIANT: 1, SUB_GIANT: 0, DWARF: 0, UNDEFINED: 0}
#: Luminosity class number (I = 1 .. V = 5) of a star type.
LUM_NUMBER = {SUPER_GIANT: 1, SUB_SUPER_GIANT: 2, GIANT: 3, SUB_GIANT: 4, DWARF: 5}

_CODE_VALUE = {"O": 0.0, "B": 10.0, "A": 20.0, "F": 30.0, "G": 40.0, "K": 50.0, "M": 60.0}

#: Luminosity-class strings -> (main, other) star type, in SearchCal's search order.
_LUM_CLASSES: tuple[tuple[str, int, int], ...] = (
    ("VIII", DWARF, DWARF), ("VII", DWARF, DWARF), ("VI", DWARF, DWARF), ("V-VI", DWARF, DWARF),
    ("V-IV", DWARF, SUB_GIANT), ("IV-V", DWARF, SUB_GIANT), ("III-V", GIANT, DWARF),
    ("III-IV", GIANT, SUB_GIANT), ("IV-III", GIANT, SUB_GIANT), ("II-III", GIANT, SUB_SUPER_GIANT),
    ("I-II", SUPER_GIANT, SUB_SUPER_GIANT), ("III", GIANT, GIANT), ("IB-II", SUPER_GIANT, SUB_SUPER_GIANT),
    ("IBV", SUPER_GIANT, SUPER_GIANT), ("II", SUB_SUPER_GIANT, SUB_SUPER_GIANT), ("IV", SUB_GIANT, SUB_GIANT),
    ("V", DWARF, DWARF), ("IA-O-IA", SUPER_GIANT, SUPER_GIANT), ("IA-O", SUPER_GIANT, SUPER_GIANT),
    ("IA-AB", SUPER_GIANT, SUPER_GIANT), ("IAB-B", SUPER_GIANT, SUPER_GIANT), ("IAB", SUPER_GIANT, SUPER_GIANT),
    ("IA", SUPER_GIANT, SUPER_GIANT), ("IB", SUPER_GIANT, SUPER_GIANT), ("I", SUPER_GIANT, SUPER_GIANT),
)
_INDICATORS = ("LAM", "FE", "MN", "HG", "CN", "BA", "SI", "SR", "CR", "EU", "MG", "EM", "CA", "HE", "TC")
_PECULIAR_CUT = ("PEC", "COMP", "NN", "SHELL", "SH", "WL", "WA", "WF", "WG")
_PECULIAR_BLANK = ("ER", "EP", "EQ", "EV")
_WRONG_O = ("OO", "BO", "AO", "FO", "GO", "KO", "MO")
_VIZIER_MASHED = (("B57V", "B5-7V"), ("A47IV", "A4-7IV"), ("F02IV", "F0-2IV"), ("B12III", "B1-2III"),
                  ("K01II", "K0-1II"), ("K34II", "K3-4II"))
_BETWEEN_CLASSES = ("O/B", "O-B", "B/A", "B-A", "A/F", "A-F", "F/G", "F-G", "G/K", "G-K", "K/M", "K-M")
_DIGITS = "0123456789"
#: Letters removed from a luminosity class (peculiarity codes).
_LUM_NOISE = "DEFGHKMNPQSWCT"
_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass(frozen=True, slots=True)
class SpectralType:
    """A decoded spectral type (SearchCal's ``alxSPECTRAL_TYPE`` and the keys derived from it)."""

    original: str
    #: True when the string decoded to a usable letter and subclass.
    ok: bool = False
    #: True when the letter is not one of O B A F G K M (or the subclass is out of range).
    invalid: bool = False
    code: str = ""
    quantity: float = math.nan
    delta: float = math.nan
    luminosity: str = ""
    star_type: int = UNDEFINED
    other_star_type: int = UNDEFINED
    double: bool = False
    spectral_binary: bool = False
    variable: bool = False
    #: SearchCal's own spelling of the decoded type (``SpType_JMMC``), e.g. ``K1.50III``.
    jmmc: str = ""

    @property
    def color_table_index(self) -> int:
        """4 x (10 x letter + subclass): 0 = O0.00, 200 = K0.00; -1 when undecoded."""
        if not self.ok:
            return -1
        return int(4.0 * (_CODE_VALUE[self.code] + self.quantity))

    @property
    def color_table_delta(self) -> int:
        return int(4.0 * self.delta) if self.ok else -1

    @property
    def lum_class(self) -> int:
        """Smallest luminosity class number (I = 1 .. V = 5) the type allows; -1 when none given."""
        if not self.ok or self.other_star_type == UNDEFINED:
            return -1
        main = LUM_NUMBER.get(self.star_type, -1)
        other = LUM_NUMBER.get(self.other_star_type, -1) if self.other_star_type != self.star_type else main
        return int(min(main, other))

    @property
    def lum_class_delta(self) -> int:
        if not self.ok or self.other_star_type == UNDEFINED:
            return -1
        main = LUM_NUMBER.get(self.star_type, -1)
        other = LUM_NUMBER.get(self.other_star_type, -1) if self.other_star_type != self.star_type else main
        return int(abs(main - other))

    @property
    def table(self) -> int:
        """Colour / Teff-logg table: 0 dwarf (also IV and unknown), 1 giant (II, III), 2 supergiant."""
        return TABLE_OF_STAR_TYPE[self.star_type if self.star_type != UNDEFINED else DWARF]


def _replace_at(text: str, pos: int, new: str) -> str:
    return text[:pos] + new + text[pos + len(new):]


def _our_sptype(code: str, quantity: float, luminosity: str) -> str:
    return f"{code}{c_float(quantity, '4.2')}{luminosity}"


def _lum_class_types(luminosity: str) -> tuple[int, int, str | None]:
    """(main, other) star types of a luminosity class: exact match, else first contained class.

    The third item is the class string SearchCal keeps (None: unchanged).
    """
    for name, main, other in _LUM_CLASSES:
        if luminosity == name:
            return main, other, None
    for name, main, other in _LUM_CLASSES:
        if name in luminosity:
            return main, other, name
    return DWARF, UNDEFINED, ""


def decode(sptype: str | None) -> SpectralType:
    """Decode one spectral type string (never raises; undecodable -> ``ok=False``)."""
    if not sptype or not isinstance(sptype, str):
        return SpectralType(original=sptype if isinstance(sptype, str) else "")
    return _decode_cached(sptype)


@lru_cache(maxsize=200_000)
def _decode_cached(sptype: str) -> SpectralType:
    # SearchCal works on C bytes in 32-byte buffers: one latin-1 character per byte, 31 kept.
    raw = sptype.encode("utf-8", "replace")[:31].split(b"\0", 1)[0]
    original = raw.decode("utf-8", "replace")
    s = raw.decode("latin-1")
    parsed = _parse(s, original)
    if parsed is None:
        return SpectralType(original=original)
    if isinstance(parsed, str):  # invalid letter or subclass
        return SpectralType(original=original, invalid=True)
    return parsed


def _str(values: list[object], i: int, default: str = "") -> str:
    """The i-th value sscanf assigned, as a string (default when not assigned)."""
    return str(values[i]) if len(values) > i else default


def _num(values: list[object], i: int) -> float:
    """The i-th value sscanf assigned, as a float (NaN when not assigned)."""
    x = values[i] if len(values) > i else math.nan
    return float(x) if isinstance(x, float) else math.nan


def _parse(s: str, original: str) -> SpectralType | str | None:
    buffer_length = len(s) + 1
    delta = 0.0
    variable = double = binary = False

    for ch in "$?*":
        s = s.replace(ch, "")
    pos = s.find("var")
    if pos >= 0:
        s = _replace_at(s, pos, "   ")
        variable = True
    if "vega" in s:
        s = "A0V"
    pos = s.find("v")
    if pos >= 0:
        s = _replace_at(s, pos, " ")
        variable = True
    for ch in "dDgkrw":  # special classes (dK, gK, kA…) only at the very start
        if s.startswith(ch):
            s = " " + s[1:]
    pos = s.find("+-")  # Mira-like M5+-7 = M5/7
    if pos >= 0:
        s = _replace_at(s, pos, "/ ")
    for tok in ("+I", "+V"):  # K5+III: keep the class, subclass uncertain by one
        pos = s.find(tok)
        if pos >= 0:
            s = _replace_at(s, pos, " " + tok[1])
            delta = 1.0
    for ch in ":() ":
        s = s.replace(ch, "")
    s = s.translate(_UPPER)

    parts = s.split("+")
    if len(parts) > 4:
        return None
    if len(parts) > 1:
        s = parts[0]
        double = True
    s = s.strip(".")
    pos = s.find("SB")
    if pos >= 0:
        s = s[:pos]
        binary = True
    for tok in _INDICATORS + _PECULIAR_CUT:
        pos = s.find(tok)
        if pos >= 0:
            s = s[:pos]
    for tok in _PECULIAR_BLANK:
        pos = s.find(tok)
        if pos >= 0:
            s = _replace_at(s, pos, "  ")
    for tok in _WRONG_O:
        pos = s.find(tok)
        if pos >= 0:
            s = _replace_at(s, pos + 1, "0")
            break
    for tok, fixed in _VIZIER_MASHED:
        if tok in s:
            s = fixed
            break
    for tok in _BETWEEN_CLASSES:  # B/A -> B1/A9 (or B1/A2 for B/A2)
        pos = s.find(tok)
        if pos >= 0:
            rest = s[pos + 3:]
            more = s[:pos] + s[pos] + "1/" + s[pos + 2]
            s = more + (rest if rest[:1] and rest[0] in _DIGITS else "9" + rest)
            break

    # Hesitation between subclasses (A0/3, A0-3) or a decimal comma (K1,5).
    n, v = sscanf(s, "%c%lf%c%lf%s")
    sep = _str(v, 2, "\0")
    if as_unsigned(n) >= 4:  # EOF too (nothing assigned: the separator test fails, as in C)
        kind, first, second, rest = _str(v, 0), _num(v, 1), _num(v, 3), _str(v, 4)
        if sep in ("/", "-"):
            delta = 0.5 * abs(first - second)
            s = f"{kind}{c_float(0.5 * (first + second), '4.2')}{rest}"
        elif sep == ",":
            s = f"{kind}{c_float(first, '1.0')}.{c_float(second, '1.0')}{rest}"
    elif n == 3 and sep == "-":  # K0.5-III
        _, v2 = sscanf(s, "%c%lf%c%s")
        rest = _str(v2, 3)
        for name in ("VII", "VI", "V", "IV", "III", "II", "I"):
            if rest.startswith(name):
                s = f"{_str(v2, 0)}{c_float(_num(v2, 1), '4.2')}{rest}"
                break

    # Hesitation between classes (B9/A0V, K5-M0III).
    n, v = sscanf(s, "%c%lf%c%c%lf%s")
    found = as_unsigned(n) >= 4
    second, rest = _num(v, 4), _str(v, 5)
    if n == 4:
        second = 0.0
        n5, v5 = sscanf(s, "%c%lf%c%c%s")
        rest = _str(v5, 4) if n5 == 5 else ""
    if found and _str(v, 2) in ("/", "-"):
        kind, first, kind2 = _str(v, 0), _num(v, 1), _str(v, 3)
        c1, c2 = _CODE_VALUE.get(kind, -1.0), _CODE_VALUE.get(kind2, -1.0)
        if c1 < 0.0:
            s = f"{kind}{c_float(first, '4.2')}{rest}"
        elif c2 < 0.0:
            s = f"{kind2}{c_float(second, '4.2')}{rest}"
        else:
            delta = 0.5 * abs((c1 + first) - (c2 + second))
            letter, sub = _split_index(0.5 * ((c1 + first) + (c2 + second)))
            s = f"{letter}{c_float(sub, '4.2')}{rest}"

    # Am stars (AM A5, A1/2mA7-F2) are taken as dwarfs.
    n, v = sscanf(s, "%c%lf%c")
    if n == 1 and v[0] == "A":
        n2, v2 = sscanf(s, "AM%c%lf")
        if n2 == 2:
            s = f"{_str(v2, 0)}{c_float(_num(v2, 1), '4.2')}V"[: buffer_length - 1]
    elif n == 3 and v[2] == "M":
        s = f"{_str(v, 0)}{c_float(_num(v, 1), '4.2')}V"[: buffer_length - 1]
    if s.startswith("FMDELTADEL"):
        s = "FV"
    if s.startswith("SD"):  # subdwarf sdG5 -> G5VI
        n, v = sscanf(s, "SD%c%c")
        s = f"{_str(v, 0)}{_str(v, 1)}VI" if n == 2 else "  " + s[2:]
    s = s.strip(" ")

    n, v = sscanf(s, "%c%lf%s")
    code, quantity, luminosity = _str(v, 0, "\0"), _num(v, 1), _str(v, 2)
    if n == 2:
        luminosity = ""
    elif n == 1:
        _, v2 = sscanf(s, "%c%s")
        luminosity = _str(v2, 1)
        if code == "M":  # a whole class: M3 +/- 3 (M0..M6), others X5 +/- 5
            quantity, delta = 3.0, 3.0
        else:
            quantity, delta = 5.0, 5.0
    elif n == 0:
        return None
    if code not in _CODE_VALUE:
        return "invalid"
    if luminosity:
        for ch in _LUM_NOISE:
            luminosity = luminosity.replace(ch, "")
        luminosity = luminosity.strip(" ").replace("/", "-")
    if not math.isfinite(quantity) or quantity > 9.999:
        return "invalid"

    star_type, other = UNDEFINED, UNDEFINED
    if luminosity:
        star_type, other, kept = _lum_class_types(luminosity)
        if kept is not None:
            luminosity = kept
    return SpectralType(original, ok=True, code=code, quantity=quantity, delta=delta, luminosity=luminosity,
                        star_type=star_type, other_star_type=other, double=double, spectral_binary=binary,
                        variable=variable, jmmc=_our_sptype(code, quantity, luminosity))


def _split_index(value: float) -> tuple[str, float]:
    """10 x letter + subclass -> (letter, subclass), SearchCal's ``alxConvertSpectralCode``."""
    for letter, base in (("O", 0.0), ("B", 10.0), ("A", 20.0), ("F", 30.0), ("G", 40.0), ("K", 50.0),
                         ("M", 60.0)):
        if value < base + 10.0:
            return (letter, value - base) if value >= 0.0 else ("_", value)
    return "_", value


def fixed_sptype(index: int, delta: int, luminosity: str) -> str:
    """SearchCal's spelling of a spectral type fixed by the diameter fit (``alxFixSpType``).

    ``K1.00(III)`` for an exact index, ``K0.50/K1.50(III)`` for a range (index +/- delta).
    """
    quantity_index = index / 4.0
    delta_q = delta / 4.0
    letter, sub = _split_index(quantity_index)
    if delta_q == 0:
        sp = f"{letter}{c_float(sub, '4.2')}"
    else:
        l1, s1 = _split_index(quantity_index - delta_q)
        l2, s2 = _split_index(quantity_index + delta_q)
        sp = f"{l1}{c_float(s1, '4.2')}/{l2}{c_float(s2, '4.2')}"
    # SearchCal writes the two parts into 16- and 8-byte buffers (snprintf size - 1).
    return sp[:14] + (f"({luminosity})"[:6] if luminosity else "")

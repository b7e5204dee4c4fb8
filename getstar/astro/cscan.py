"""The two C library behaviours SearchCal's spectral-type parser relies on: strtod and sscanf.

SearchCal decodes spectral types with ``sscanf`` patterns (``%c%lf%c%lf%s`` …), whose
results depend on C (glibc) details: ``%c`` does not skip blanks; ``%lf`` consumes greedily
every character that may continue a number (``4E-`` of ``M4e-M6e``) and converts the
longest valid prefix (4), failing only when nothing converts; ``%s`` stops at a blank; the
return value is EOF (-1) when the input ends before the first conversion.  SearchCal's own
output confirms the greedy rule: it decodes ``M4e-M6eIII`` as ``M4.00V``.
Reproducing those rules is what makes our decoding agree with SearchCal's on odd strings;
this module implements them on ASCII/latin-1 text (one character per C byte).
"""

from __future__ import annotations

import math
import re

_WHITE = " \t\n\v\f\r"
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_HEX = re.compile(r"([+-]?)0[xX]((?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+))(?:[pP]([+-]?\d+))?")
_SPECIAL = re.compile(r"([+-]?)(infinity|inf|nan(?:\([0-9A-Za-z_]*\))?)", re.IGNORECASE)

#: sscanf's EOF return value.
EOF = -1


def strtod(text: str, pos: int = 0) -> tuple[float, int] | None:
    """C ``strtod`` at ``pos`` (after optional blanks): (value, end) or None when nothing converts."""
    while pos < len(text) and text[pos] in _WHITE:
        pos += 1
    m = _HEX.match(text, pos)
    if m:
        sign, mant, exp = m.groups()
        whole, _, frac = mant.partition(".")
        value = float(int(whole or "0", 16)) + (int(frac, 16) / 16 ** len(frac) if frac else 0.0)
        value = math.ldexp(value, int(exp)) if exp else value
        return (-value if sign == "-" else value), m.end()
    m = _SPECIAL.match(text, pos)
    if m:
        sign, word = m.groups()
        value = math.nan if word.lower().startswith("nan") else math.inf
        return (-value if sign == "-" else value), m.end()
    m = _DECIMAL.match(text, pos)
    if m:
        try:
            return float(m.group()), m.end()
        except OverflowError:  # pragma: no cover - float() returns inf rather than raising
            return math.inf, m.end()
    return None


_DIRECTIVE = re.compile(r"%lf|%c|%s|\s+|[^%\s]")


def sscanf(text: str, fmt: str) -> tuple[int, list[object]]:
    """C ``sscanf`` for the directives SearchCal uses (``%c``, ``%lf``, ``%s``, literals, blanks).

    Returns (count, values): count is the number of assignments, or ``EOF`` when the input
    ended before the first one; values holds the assigned values in order.
    """
    values: list[object] = []
    pos = 0
    n = len(text)
    for tok in _DIRECTIVE.findall(fmt):
        if tok == "%c":
            if pos >= n:
                return (EOF if not values else len(values)), values
            values.append(text[pos])
            pos += 1
        elif tok == "%lf":
            while pos < n and text[pos] in _WHITE:
                pos += 1
            if pos >= n:
                return (EOF if not values else len(values)), values
            end = _scan_float(text, pos)
            got = strtod(text[pos:end]) if end > pos else None
            if got is None:
                return len(values), values
            values.append(got[0])
            pos = end
        elif tok == "%s":
            while pos < n and text[pos] in _WHITE:
                pos += 1
            if pos >= n:
                return (EOF if not values else len(values)), values
            end = pos
            while end < n and text[end] not in _WHITE:
                end += 1
            values.append(text[pos:end])
            pos = end
        elif tok.isspace():
            while pos < n and text[pos] in _WHITE:
                pos += 1
        else:  # literal character
            if pos >= n:
                return (EOF if not values else len(values)), values
            if text[pos] != tok:
                return len(values), values
            pos += 1
    return len(values), values


def _scan_float(text: str, pos: int) -> int:
    """End of the characters glibc's ``scanf("%lf")`` consumes from ``pos`` (blanks skipped)."""
    n = len(text)
    i = pos
    if i < n and text[i] in "+-":
        i += 1
    low = text[i:i + 8].lower()
    if low.startswith("nan"):
        i += 3
        if i < n and text[i] == "(":
            close = text.find(")", i)
            if close >= 0 and all(ch.isalnum() or ch == "_" for ch in text[i + 1:close]):
                i = close + 1
        return i
    if low.startswith("inf"):
        return i + (8 if low.startswith("infinity") else 3)
    if low[:1] in ("n", "i"):
        return pos  # a partial nan/inf is a matching failure
    hexa = False
    got_digit = got_dot = got_e = False
    if i < n and text[i] == "0":
        i += 1
        got_digit = True
        if i < n and text[i] in "xX":
            hexa = True
            i += 1
    exp_char = "p" if hexa else "e"
    while i < n:
        ch = text[i]
        if ch in "0123456789" or (hexa and not got_e and ch in "abcdefABCDEF"):
            got_digit = True
        elif got_e and text[i - 1].lower() == exp_char and ch in "+-":
            pass
        elif got_digit and not got_e and ch.lower() == exp_char:
            got_e = got_dot = True
        elif not got_dot and ch == ".":
            got_dot = True
        else:
            break
        i += 1
    return i


def as_unsigned(count: int) -> int:
    """The count as SearchCal stores it (``mcsUINT32``): EOF becomes 4294967295."""
    return count % (1 << 32)


def c_float(value: float, spec: str) -> str:
    """``printf`` of a double with a fixed-point spec (``4.2``, ``1.0``), C spelling of inf/nan."""
    if math.isnan(value):
        text = "nan" if math.copysign(1.0, value) > 0 else "-nan"
        width = int(spec.split(".")[0] or 0)
        return text.rjust(width)
    if math.isinf(value):
        width = int(spec.split(".")[0] or 0)
        return ("inf" if value > 0 else "-inf").rjust(width)
    return format(value, spec + "f")

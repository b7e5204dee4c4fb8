"""KStars' star list ``stars.dat`` (Debian ``kstars-data``): V, B−V and a 2-character spectral type.

A text file derived from the Hipparcos and Tycho catalogues (VizieR I/239): after the ``#``
comment lines, one star per line, fixed width (0-based columns): RA ``hhmmss.ss`` [0:9],
Dec ``±ddmmss.s`` [10:19], pmRA·cosδ [20:29] and pmDec [29:38] (mas/yr), parallax [38:45]
(mas), V [45:51], B−V [51:56], spectral type [56:58] (``K0``, or ``K?`` / ``K:`` for a
class letter alone), then flags and names.  Positions are J2000 (Sirius sits at its
J2000 place); there is no HIP column, so stars are matched by position and magnitude.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from getstar.errors import IngestError

SYSTEM_PATH = Path("/usr/share/kstars/stars.dat")
FILE = "stars.dat"
EPOCH = 2000.0


def default_path(shared_data: Path | None) -> Path:
    if SYSTEM_PATH.exists():
        return SYSTEM_PATH
    if shared_data and (shared_data / "kstars" / FILE).exists():
        return shared_data / "kstars" / FILE
    raise IngestError(str(SYSTEM_PATH), None, "KStars data not found: apt-get install kstars-data")


def _number(path: Path, lineno: int, text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise IngestError(str(path), lineno, f"{what}: not a number: {text.strip()!r}") from None


def _sexagesimal(path: Path, lineno: int, text: str, what: str, deg_digits: int) -> float:
    """``hhmmss.ss`` / ``±ddmmss.s`` -> hours / degrees."""
    sign = -1.0 if text.startswith("-") else 1.0
    body = text.lstrip("+-").strip()
    if len(body) < deg_digits + 4 or not body[:deg_digits + 4].isdigit():
        raise IngestError(str(path), lineno, f"{what}: expected {'hhmmss.ss' if deg_digits == 2 else '±ddmmss.s'}, "
                                             f"found {text!r}")
    whole = int(body[:deg_digits])
    minutes = int(body[deg_digits:deg_digits + 2])
    seconds = _number(path, lineno, body[deg_digits + 2:], what)
    if minutes >= 60 or not 0.0 <= seconds <= 60.0:  # "60.00" occurs: a rounding of 59.995+
        raise IngestError(str(path), lineno, f"{what}: minutes or seconds out of range in {text!r}")
    return sign * (whole + minutes / 60.0 + seconds / 3600.0)


def sptype(code: str) -> str:
    """KStars' 2-character type as SIMBAD would write it: ``K0`` stays, ``K?`` / ``K:`` -> ``K``."""
    code = code.strip()
    if len(code) == 2 and code[1].isdigit():
        return code
    return code[:1] if code[:1].isalpha() else ""


def read(path: Path) -> dict[str, np.ndarray]:
    """Columns ra, dec (deg, J2000), pmra, pmdec (mas/yr), v, b_v, sptype, line (1-based)."""
    rows: list[tuple[float, float, float, float, float, float, str, int]] = []
    with open(path, encoding="latin-1") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.startswith("#") or not line.strip():
                continue
            if len(line.rstrip("\n")) < 58:
                raise IngestError(str(path), lineno, f"line too short for the fixed-width layout "
                                                     f"({len(line.rstrip())} characters, 58 needed)")
            ra = _sexagesimal(path, lineno, line[0:9], "RA", 2) * 15.0
            dec = _sexagesimal(path, lineno, line[10:19], "Dec", 2)
            if not (0.0 <= ra < 360.0 and -90.0 <= dec <= 90.0):
                raise IngestError(str(path), lineno, f"position out of range: {line[0:19]!r}")
            pmra = _number(path, lineno, line[20:29], "pmRA")
            pmdec = _number(path, lineno, line[29:38], "pmDec")
            v = _number(path, lineno, line[45:51], "V")
            bv = _number(path, lineno, line[51:56], "B-V")
            if not -2.0 < v < 20.0:
                raise IngestError(str(path), lineno, f"V magnitude out of range: {v}")
            rows.append((ra, dec, pmra, pmdec, v, bv, sptype(line[56:58]), lineno))
    if not rows:
        raise IngestError(str(path), None, "no star in the file")
    cols = list(zip(*rows, strict=True))
    names = ("ra", "dec", "pmra", "pmdec", "v", "b_v")
    out = {name: np.array(cols[i], dtype=np.float64) for i, name in enumerate(names)}
    out["sptype"] = np.array(cols[6], dtype=object)
    out["line"] = np.array(cols[7], dtype=np.int64)
    return out

"""SearchCal's published tables, read once from ``getstar/astro/data`` (each file names its source).

The files restate JMMC's configuration tables (``SearchCal/alx/config/*.cfg``) unchanged;
this module only parses them into numpy arrays indexed the way the computations need.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

#: Blanking value of SearchCal's tables.
BLANK = 99.99
#: Spectral-type index step: 4 table lines per subclass (``SCALE_IDX``).
SCALE_IDX = 4
#: Colour-table index of the first line of the colour tables (O5.00).
COLOUR_TABLE_FIRST_INDEX = 20
#: Bands of SearchCal's magnitude vector, in its order.
BANDS = ("B", "V", "R", "I", "J", "H", "K", "L", "M", "N")
#: Uniform-disk bands, in SearchCal's order.
UD_BANDS = ("U", "B", "V", "R", "I", "J", "H", "K", "L", "M", "N")
#: Colour columns of the colour tables.
COLOURS = ("B-V", "V-Ic", "V-R", "Ic-Jc", "Jc-Hc", "Jc-Kc", "Kc-L", "L-M", "Mv")
#: Luminosity tables of the colour and Teff/logg tables.
TABLE_CLASSES = ("dwarf", "giant", "supergiant")


def _rows(name: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a data file (``#`` lines are comments, the first other line names the columns)."""
    text = resources.files("getstar.astro").joinpath("data", name).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return lines[0].split("\t"), [line.split("\t") for line in lines[1:]]


@dataclass(frozen=True)
class DiameterPolynomials:
    """Chelli et al. (2016) polynomials of log10(diameter) in the spectral-type index, V-J, V-H, V-K."""

    colours: tuple[str, ...]
    #: (3, 5) coefficients a0..a4.
    coeff: np.ndarray
    #: (15, 15) covariance of the coefficients, [colour*5 + k].
    cov: np.ndarray


@cache
def diameter_polynomials() -> DiameterPolynomials:
    _, rows = _rows("angdiam_polynomials.tsv")
    colours = tuple(r[0] for r in rows)
    coeff = np.array([[float(x) for x in r[1:]] for r in rows])
    _, crows = _rows("angdiam_polynomials_covariance.tsv")
    cov = np.array([[float(x) for x in r[1:]] for r in crows])
    if colours != ("V-J", "V-H", "V-K") or coeff.shape != (3, 5) or cov.shape != (15, 15):
        raise ValueError("angdiam polynomial tables: unexpected layout")
    return DiameterPolynomials(colours, coeff, cov)


@cache
def extinction_coefficients() -> dict[str, float]:
    """A_band / A_V per band (SearchCal's ``coeff`` = Rc / 3.1)."""
    _, rows = _rows("extinction_ratios.tsv")
    return {r[0]: float(r[1]) / 3.1 for r in rows}


@dataclass(frozen=True)
class LimbDarkeningTable:
    """The 273-line LD -> UD table, indexed by the colour-table index (0 = O0.00)."""

    #: (273, 2) Teff and logg for [dwarf-like, giant-like].
    teff: np.ndarray
    logg: np.ndarray
    #: (273, 11, 2) Neilson & Lester UD/LD ratios per UD band (U = B, J = H; -1 = none).
    ratio_nl: np.ndarray
    #: (273, 11, 2) linear limb-darkening coefficients per UD band (-1 = none).
    coeff_u: np.ndarray


@cache
def limb_darkening_table() -> LimbDarkeningTable:
    header, rows = _rows("ld2ud.tsv")
    col = {name: i for i, name in enumerate(header)}
    values = np.array([[float(x) for x in r[1:]] for r in rows])
    n = len(rows)

    def c(name: str) -> np.ndarray:
        return values[:, col[name] - 1]

    teff = np.stack([c("TEFF5"), c("TEFF3")], axis=1)
    logg = np.stack([c("LOGG5"), c("LOGG3")], axis=1)
    ratio = np.full((n, len(UD_BANDS), 2), -1.0)
    coeff = np.full((n, len(UD_BANDS), 2), -1.0)
    for k, cls in enumerate(("5", "3")):
        for band in ("B", "V", "R", "I", "H", "K"):
            ratio[:, UD_BANDS.index(band), k] = c(f"C{band}{cls}")
        ratio[:, UD_BANDS.index("U"), k] = c(f"CB{cls}")
        ratio[:, UD_BANDS.index("J"), k] = c(f"CH{cls}")
        for band in UD_BANDS:
            coeff[:, UD_BANDS.index(band), k] = c(f"U{band}{cls}")
    return LimbDarkeningTable(teff, logg, ratio, coeff)


@dataclass(frozen=True)
class TeffLoggTable:
    """SearchCal's Teff / log(g/g_sun) table (71 spectral types, 3 luminosity tables)."""

    code: np.ndarray  # (71,) spectral letters
    quantity: np.ndarray  # (71,) subclass
    teff: np.ndarray  # (71, 3) dwarf, giant, supergiant; NaN = none
    logg: np.ndarray  # (71, 3) log(g/g_sun)


@cache
def teff_logg_table() -> TeffLoggTable:
    _, rows = _rows("teff_logg.tsv")
    code = np.array([r[0][0] for r in rows])
    quantity = np.array([float(r[0][1:]) for r in rows])
    vals = np.array([[float(x) for x in r[2:]] for r in rows])
    vals[np.abs(vals - BLANK) < 1e-2] = np.nan
    return TeffLoggTable(code, quantity, vals[:, 0::2], vals[:, 1::2])


@dataclass(frozen=True)
class ColourTable:
    """One of SearchCal's colour tables; line i is colour-table index i + 20 (O5.00)."""

    name: str
    #: (n, 9) B-V, V-Ic, V-R, Ic-Jc, Jc-Hc, Jc-Kc, Kc-L, L-M, Mv; NaN = none.
    colours: np.ndarray

    @property
    def last_index(self) -> int:
        return COLOUR_TABLE_FIRST_INDEX + len(self.colours) - 1


@cache
def colour_table(name: str) -> ColourTable:
    if name not in TABLE_CLASSES:
        raise ValueError(f"unknown colour table {name!r}")
    _, rows = _rows(f"colour_table_{name}.tsv")
    vals = np.array([[float(x) for x in r[1:10]] for r in rows])
    vals[np.abs(vals - BLANK) < 1e-2] = np.nan
    first = rows[0][0]
    if first != "O5.00":
        raise ValueError(f"colour table {name}: first line {first}, expected O5.00")
    return ColourTable(name, vals)

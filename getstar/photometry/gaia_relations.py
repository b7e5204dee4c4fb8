"""Magnitudes estimated from Gaia G, BP, RP with the published Gaia DR3 relations.

The polynomials (band − … as functions of BP − RP), their validity ranges and scatter are
the published table shipped in ``gaia_dr3_relations.tsv`` (Riello et al. 2021, A&A 649, A3,
Appendix C; Gaia DR3 documentation 5.5.1).  A value is given only inside a relation's
validity range; its error is the relation's scatter, combined with the propagated
photometric errors when these are known (the snapshot's Gaia file carries none).
Everything is vectorised over numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

DATA = Path(__file__).with_name("gaia_dr3_relations.tsv")
#: getstar's own fit where the published Ks relation stops (``Ks_red``: red stars; not published).
RED_DATA = Path(__file__).with_name("getstar_red_ks.tsv")
#: getstar's own 2MASS H, Ks for Gaia's bright stars (``H_bright``, ``Ks_bright``;
#: not published, preferred to the published ones inside their range: see the file).
BRIGHT_DATA = Path(__file__).with_name("getstar_bright_2mass.tsv")


@dataclass(frozen=True)
class Relation:
    """G − band = Σ c_k x^k with x = BP − RP, for x_min < x < x_max; scatter ``sigma``."""

    band: str
    system: str
    coefficients: tuple[float, ...]
    sigma: float
    x_min: float
    x_max: float

    def g_minus_band(self, x: np.ndarray) -> np.ndarray:
        return np.polynomial.polynomial.polyval(x, self.coefficients)

    def slope(self, x: np.ndarray) -> np.ndarray:
        """d(G − band)/dx: how an error on BP − RP carries into the estimate."""
        deriv = np.polynomial.polynomial.polyder(self.coefficients)
        return np.polynomial.polynomial.polyval(x, deriv)

    def valid(self, x: np.ndarray) -> np.ndarray:
        return (x > self.x_min) & (x < self.x_max)


@cache
def relations() -> dict[str, Relation]:
    """The shipped relations by band: the published ``V``, ``Rc``, ``Ic``, ``J``, ``H``, ``Ks``, and
    getstar's ``Ks_red`` (``getstar_red_ks.tsv``) and ``H_bright``, ``Ks_bright``
    (``getstar_bright_2mass.tsv``)."""
    out: dict[str, Relation] = {}
    for path in (DATA, RED_DATA, BRIGHT_DATA):
        out.update(_read(path))
    return out


def _read(path: Path) -> dict[str, Relation]:
    out: dict[str, Relation] = {}
    header: list[str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if header is None:
            header = fields
            continue
        row = dict(zip(header, fields, strict=True))
        out[row["band"]] = Relation(
            band=row["band"], system=row["system"],
            coefficients=tuple(float(row[f"c{k}"]) for k in range(5)),
            sigma=float(row["sigma"]), x_min=float(row["x_min"]), x_max=float(row["x_max"]))
    return out


def estimate(band: str, g: np.ndarray, bp: np.ndarray, rp: np.ndarray,
             e_g: np.ndarray | None = None, e_bp: np.ndarray | None = None,
             e_rp: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(magnitude, error) in ``band`` from Gaia photometry; NaN outside the validity range.

    error = sqrt(sigma² + e_G² + (slope · e_(BP−RP))²), the photometric terms only when given.
    """
    rel = relations()[band]
    g, bp, rp = (np.asarray(a, dtype=np.float64) for a in (g, bp, rp))
    x = bp - rp
    ok = rel.valid(x) & np.isfinite(g)
    xs = np.where(ok, x, 0.0)
    value = np.where(ok, g - rel.g_minus_band(xs), np.nan)
    var = np.full(value.shape, rel.sigma ** 2)
    if e_g is not None:
        var = var + np.nan_to_num(np.asarray(e_g, dtype=np.float64)) ** 2
    if e_bp is not None and e_rp is not None:
        e_x2 = np.nan_to_num(np.asarray(e_bp, dtype=np.float64)) ** 2 + \
            np.nan_to_num(np.asarray(e_rp, dtype=np.float64)) ** 2
        var = var + rel.slope(xs) ** 2 * e_x2
    error = np.where(ok, np.sqrt(var), np.nan)
    return value, error


def estimate_all(g: np.ndarray, bp: np.ndarray, rp: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every shipped band at once: {band: (magnitude, error)}."""
    return {band: estimate(band, g, bp, rp) for band in relations()}


def _sql_number(x: float) -> str:
    return repr(float(x))


def sql_estimate(band: str, g: str, bp: str, rp: str, e_g: str | None = None, e_bp: str | None = None,
                 e_rp: str | None = None) -> tuple[str, str]:
    """The same estimate as ``estimate`` as two SQL expressions (value, error) over columns.

    The build computes it inside PostgreSQL, on every star at once: the published numbers are
    read from the same data file, so the SQL and numpy forms cannot drift apart (the tests
    compare them).  NULL outside the validity range.
    """
    rel = relations()[band]
    x = f"(({bp}) - ({rp}))"
    coeffs = list(rel.coefficients)
    while len(coeffs) > 1 and coeffs[-1] == 0.0:
        coeffs.pop()
    poly = _sql_number(coeffs[-1])
    for c in reversed(coeffs[:-1]):  # Horner
        poly = f"({_sql_number(c)} + {x} * {poly})"
    deriv = list(np.polynomial.polynomial.polyder(coeffs)) or [0.0]
    slope = _sql_number(deriv[-1])
    for c in reversed(deriv[:-1]):
        slope = f"({_sql_number(c)} + {x} * {slope})"
    valid = f"({g}) IS NOT NULL AND {x} > {_sql_number(rel.x_min)} AND {x} < {_sql_number(rel.x_max)}"
    # rounded to 1 mmag in float8 (numeric rounding costs seconds over half a million stars)
    value = f"(CASE WHEN {valid} THEN round((({g}) - {poly}) * 1000.0) / 1000.0 END)"
    var = f"{_sql_number(rel.sigma ** 2)}"
    if e_g is not None:
        var += f" + coalesce({e_g}, 0) ^ 2"
    if e_bp is not None and e_rp is not None:
        var += f" + {slope} ^ 2 * (coalesce({e_bp}, 0) ^ 2 + coalesce({e_rp}, 0) ^ 2)"
    error = f"(CASE WHEN {valid} THEN round(sqrt(({var})::float8) * 10000.0) / 10000.0 END)"
    return value, error

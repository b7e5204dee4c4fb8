"""Missing magnitudes from the spectral type and the catalogue magnitudes (SearchCal's colour tables).

SearchCal's own step (``alxComputeMagnitudesForBrightStar`` / ``…FaintStar``) needs B and V
(or J and K) *de-reddened* with an A_V it fits beforehand, and is skipped when A_V is
unknown (deprecated since 2025).  getstar keeps its tables and photometric conventions and
solves the same problem in one vectorised least-squares step that also gives errors:

* intrinsic colours at the star's colour-table index (linear between table lines, 0.25
  subclass apart) from the dwarf, giant or supergiant table as SearchCal chooses it; with
  no luminosity class (SearchCal then takes a dwarf) the mean of the dwarf and giant colours,
  half their difference counting as scatter (faint K and M types without a class are mostly
  giants in these catalogues: measured on the ETA_TAU field);
  J, H, K converted from the tables' CIT system to 2MASS with SearchCal's relations
  (K2 = Kc - 0.024, J2-K2 = 1.056 (Jc-Kc) - 0.013, H2-K2 = 1.026 (Hc-Kc) + 0.028);
* every catalogue magnitude m_b = m0 + c_b + A_V C_b (c_b intrinsic colour to V,
  C_b = A_b / A_V from SearchCal's extinction ratios); m0 and A_V fitted by weighted least
  squares with a prior on A_V, A_V >= 0: the caller's, else 0 +/- (0.15 + 1 mag/kpc x
  distance) from a parallax better than 30 %, else 0 +/- 0.6 mag;
* a missing band is predicted with its variance: fit covariance + the colour scatter of the
  table (``MODEL_SCATTER``, measured on real 2MASS photometry, see ``bench/diameters.py``)
  + the spread of the colours over the spectral-type uncertainty.

Measured (``bench/diameters.py``): at high latitude (HD 32617's field, V 7-11) K from V alone
has a bias of +0.02 mag and a robust scatter of 0.27 mag, from B and V -0.12 and 0.23; in a
reddened, K-selected field (Taurus, ETA_TAU) K from V alone is biased by +0.9 mag (reddened
giants without a luminosity class), which the errors cover (normalised scatter 1.2).

Only inside the tables (an index the chosen table covers, colours not blank); never a
value where the caller has one; origin ``computed``, confidence LOW.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from getstar.astro.sptype import SpectralType
from getstar.astro.tables import COLOUR_TABLE_FIRST_INDEX, colour_table, extinction_coefficients

#: Bands estimated, in SearchCal's order (I is Cousins Ic).
EST_BANDS = ("B", "V", "R", "I", "J", "H", "K", "L", "M")
#: Property name of each estimated band in ``getstar.properties``.
OUTPUT_NAME = {"B": "B", "V": "V", "R": "R", "I": "Icous", "J": "J", "H": "H", "K": "K", "L": "L", "M": "M"}
#: Scatter (mag) of each band around the table colours relative to V (V itself: 0): chosen so that
#: the normalised residuals on real samples have a robust scatter <= 1 (tests/test_astro_magnitudes.py;
#: bench/diameters.py prints bias and scatter per sample).
MODEL_SCATTER = {"B": 0.05, "V": 0.0, "R": 0.08, "I": 0.08, "J": 0.10, "H": 0.12, "K": 0.12, "L": 0.15,
                 "M": 0.18}
#: Prior on A_V when the caller gives none: 0 +/- AV_PRIOR_ERROR, or +/- (AV_FLOOR + AV_PER_KPC x
#: distance) with a parallax better than PLX_MAX_REL_ERROR (capped at AV_PRIOR_MAX).
AV_PRIOR, AV_PRIOR_ERROR = 0.0, 0.6
AV_FLOOR, AV_PER_KPC, AV_PRIOR_MAX, PLX_MAX_REL_ERROR = 0.15, 1.0, 2.0, 0.3
#: A catalogue band whose error is unknown counts with this error.
DEFAULT_ERROR = 0.05


def _colours_with_spread(table: int, x: np.ndarray, dx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Colours at x and their largest change over x +/- dx (the spectral-type uncertainty)."""
    colours = intrinsic_colours(table, x)
    last = COLOUR_TABLE_FIRST_INDEX + len(colour_table(("dwarf", "giant", "supergiant")[table]).colours) - 1
    lo = np.clip(x - dx, COLOUR_TABLE_FIRST_INDEX, last)
    hi = np.clip(x + dx, COLOUR_TABLE_FIRST_INDEX, last)
    c_lo, c_hi = intrinsic_colours(table, lo), intrinsic_colours(table, hi)
    with np.errstate(invalid="ignore"):
        spread = np.nan_to_num(np.maximum(np.abs(c_hi - colours), np.abs(colours - c_lo)))
    return colours, spread


def intrinsic_colours(table: int, x: np.ndarray) -> np.ndarray:
    """m_b - V for the bands of ``EST_BANDS`` at fractional colour-table indices ``x`` (N, 9); NaN outside."""
    name = ("dwarf", "giant", "supergiant")[table]
    ct = colour_table(name)
    cols = ct.colours  # B-V V-Ic V-R Ic-Jc Jc-Hc Jc-Kc Kc-L L-M Mv
    pos = x - COLOUR_TABLE_FIRST_INDEX
    inside = (pos >= 0.0) & (pos <= len(cols) - 1)
    p = np.where(inside, pos, 0.0)
    lo = np.floor(p).astype(np.int64)
    hi = np.minimum(lo + 1, len(cols) - 1)
    frac = (p - lo)[:, None]
    row = cols[lo] + frac * (cols[hi] - cols[lo])
    row = np.where(inside[:, None], row, np.nan)
    bv, vi, vr, ij, jh, jk, kl, lm = (row[:, k] for k in range(8))
    jc = -vi - ij
    kc = jc - jk
    hc = jc - jh
    k2 = kc - 0.024
    j2 = k2 + 1.056 * jk - 0.013
    h2 = k2 + 1.026 * (hc - kc) + 0.028
    l_ = kc - kl
    m_ = l_ - lm
    return np.stack([bv, np.zeros_like(bv), -vr, -vi, j2, h2, k2, l_, m_], axis=1)


def av_prior(n: int, av: np.ndarray | None = None, e_av: np.ndarray | None = None, plx: np.ndarray | None = None,
             e_plx: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Prior (mean, sigma) on A_V per star: the caller's, else from the parallax, else 0 +/- 0.6."""
    mean = np.full(n, AV_PRIOR)
    sigma = np.full(n, AV_PRIOR_ERROR)
    if plx is not None:
        e = np.full(n, np.inf) if e_plx is None else np.where(np.isnan(e_plx), np.inf, e_plx)
        with np.errstate(invalid="ignore", divide="ignore"):
            good = (plx > 0.0) & (e / plx < PLX_MAX_REL_ERROR)
            dist_kpc = 1.0 / plx
        sigma = np.where(good, np.minimum(AV_FLOOR + AV_PER_KPC * dist_kpc, AV_PRIOR_MAX), sigma)
    if av is not None:
        given = ~np.isnan(av)
        mean = np.where(given, av, mean)
        if e_av is not None:
            sigma = np.where(given & ~np.isnan(e_av) & (e_av > 0.0), e_av, sigma)
    return mean, sigma


def estimate_missing(decoded: Sequence[SpectralType], inverse: np.ndarray, bands: dict[str, dict[str, np.ndarray]],
                     av_mean: np.ndarray, av_sigma: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Estimates (value, error) per band of ``EST_BANDS`` for N stars; NaN where none.

    ``decoded`` holds the distinct spectral types, ``inverse`` maps each star to one;
    ``bands`` maps band name to arrays ``value``, ``error``, ``estimated``; only catalogue
    values (not estimated) are fitted.
    """
    n = len(inverse)
    out = {b: (np.full(n, np.nan), np.full(n, np.nan)) for b in EST_BANDS}
    ok_u = np.array([d.ok for d in decoded], dtype=bool)
    if n == 0 or not ok_u.any():
        return out
    # Colours depend on the spectral type only: computed once per distinct type.
    x_u = np.array([4.0 * ("OBAFGKM".index(d.code) * 10.0 + d.quantity) if d.ok else np.nan for d in decoded])
    dx_u = np.array([4.0 * d.delta if d.ok else np.nan for d in decoded])
    # 3 = no luminosity class: mix of the dwarf and giant tables.
    table_u = np.array([d.table if d.lum_class != -1 else 3 for d in decoded], dtype=np.int64)
    colours_u = np.full((len(decoded), len(EST_BANDS)), np.nan)
    spread_u = np.zeros((len(decoded), len(EST_BANDS)))
    for t in (0, 1, 2, 3):
        sel = np.flatnonzero(ok_u & (table_u == t))
        if not len(sel):
            continue
        if t < 3:
            colours_u[sel], spread_u[sel] = _colours_with_spread(t, x_u[sel], dx_u[sel])
        else:
            cd, sd = _colours_with_spread(0, x_u[sel], dx_u[sel])
            cg, sg = _colours_with_spread(1, x_u[sel], dx_u[sel])
            with np.errstate(invalid="ignore"):
                both = ~np.isnan(cd) & ~np.isnan(cg)
                colours_u[sel] = np.where(both, 0.5 * (cd + cg), np.where(np.isnan(cd), cg, cd))
                spread_u[sel] = np.where(both, np.sqrt(np.maximum(sd, sg) ** 2 + (0.5 * (cg - cd)) ** 2),
                                         np.where(np.isnan(cd), sg, sd))
    ext = extinction_coefficients()
    c_ext = np.array([ext[b] for b in EST_BANDS])[:, None]
    scatter = np.array([MODEL_SCATTER[b] for b in EST_BANDS])[:, None]

    # Only stars with a decoded type, a band to fill and one to fit from: (9, m) arrays.
    m_all = np.stack([bands[b]["value"] for b in EST_BANDS])
    est_all = np.stack([bands[b]["estimated"] for b in EST_BANDS])
    missing = np.isnan(m_all)
    observed = ~missing & ~est_all
    stars = np.flatnonzero(ok_u[inverse] & missing.any(axis=0) & observed.any(axis=0))
    if not len(stars):
        return out
    inv = inverse[stars]
    colours, spread = colours_u[inv].T, spread_u[inv].T
    m = m_all[:, stars]
    e = np.stack([bands[b]["error"][stars] for b in EST_BANDS])
    use = observed[:, stars] & ~np.isnan(colours)
    e = np.where(np.isnan(e) | (e <= 0.0), DEFAULT_ERROR, e)
    w = np.where(use, 1.0 / (e**2 + scatter**2 + spread**2), 0.0)
    y = np.where(use, m - colours, 0.0)
    prior = av_mean[stars]
    wp = 1.0 / av_sigma[stars] ** 2
    s11 = w.sum(axis=0)
    s12 = (w * c_ext).sum(axis=0)
    s22 = (w * c_ext**2).sum(axis=0) + wp
    t1 = (w * y).sum(axis=0)
    t2 = (w * c_ext * y).sum(axis=0) + wp * prior
    det = s11 * s22 - s12**2
    fit = use.any(axis=0) & (det > 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        m0 = (s22 * t1 - s12 * t2) / det
        a_v = (s11 * t2 - s12 * t1) / det
        cov11, cov12, cov22 = s22 / det, -s12 / det, s11 / det
        # A_V cannot be negative: refit m0 at A_V = 0 (its variance then 1 / sum w).
        neg = a_v < 0.0
        m0 = np.where(neg, t1 / s11, m0)
        a_v = np.where(neg, 0.0, a_v)
        cov11 = np.where(neg, 1.0 / s11, cov11)
        cov12 = np.where(neg, 0.0, cov12)
        value = m0 + colours + a_v * c_ext
        variance = cov11 + 2.0 * c_ext * cov12 + c_ext**2 * cov22 + scatter**2 + spread**2
        error = np.sqrt(np.maximum(variance, 0.0))
    need = fit & np.isnan(m) & ~np.isnan(colours)
    for k, band in enumerate(EST_BANDS):
        if need[k].any():
            out[band][0][stars] = np.where(need[k], value[k], np.nan)
            out[band][1][stars] = np.where(need[k], error[k], np.nan)
    return out

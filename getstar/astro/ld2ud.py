"""Uniform-disk diameters from the limb-darkened one, and Teff / log g from the spectral type.

``UD_U``..``UD_N`` (SearchCal ``alxComputeNewUDFromLDAndSP``): one table line per
colour-table index, dwarf (and class IV or unknown) or giant (classes I..III) column;
Neilson & Lester UD/LD ratios where they exist (U..K), otherwise linear limb-darkening
coefficients u with UD = LD / sqrt((1 - u/3) / (1 - 7u/15)); L, M, N always from u.

``Teff_SpType`` / ``logg_SpType`` (``alxComputeTeffAndLoggFromSptype``): SearchCal's Teff /
log(g/g_sun) table, interpolated in the subclass between the line found and the previous
one (SearchCal's own rule, including its quirk at letter boundaries), plus log g_sun = 4.378.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from getstar.astro.sptype import SpectralType
from getstar.astro.tables import UD_BANDS, limb_darkening_table, teff_logg_table

#: log10 of the Sun's surface gravity SearchCal adds to its log(g/g_sun) table.
LOGG_SUN = 4.378


def _rho(u: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt((1.0 - u / 3.0) / (1.0 - 7.0 * u / 15.0))


@cache
def _ud_ratios() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """UD/LD per table line, band and class (273, 11, 2), NaN where none; Teff, logg (273, 2) where defined.

    SearchCal's rule per line and class: Neilson & Lester ratios for U..K when the B ratio
    exists, else linear coefficients unless the B one is missing (then nothing); L, M, N from
    the linear coefficients when the L one exists.  Computed once: UD = LDD x ratio.
    """
    table = limb_darkening_table()
    ratio, coeff = table.ratio_nl, table.coeff_u
    b, l_ = UD_BANDS.index("B"), UD_BANDS.index("L")
    short = slice(0, UD_BANDS.index("K") + 1)
    lmn = slice(l_, len(UD_BANDS))
    nl = ratio[:, b, :] > 0.0  # (273, 2)
    cl = ~nl & ~(coeff[:, b, :] < 0.0)
    out = np.full(ratio.shape, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        linear = 1.0 / _rho(coeff)
    out[:, short, :] = np.where(nl[:, None, :], ratio[:, short, :], np.where(cl[:, None, :], linear[:, short, :],
                                                                             np.nan))
    done = nl | cl
    ir = done & (coeff[:, l_, :] > 0.0)
    out[:, lmn, :] = np.where(ir[:, None, :], linear[:, lmn, :], np.nan)
    teff = np.where(done, table.teff, np.nan)
    logg = np.where(done, table.logg, np.nan)
    return out, teff, logg


def uniform_disks(ldd: np.ndarray, index: np.ndarray, lum_class: np.ndarray) -> tuple[np.ndarray, np.ndarray,
                                                                                        np.ndarray]:
    """UD per band (N, 11: U B V R I J H K L M N), Teff (N,), logg (N,) from LDD at a colour-table index.

    NaN where SearchCal computes nothing (no LDD, index outside 0..272, no coefficients).
    """
    ratios, teff_t, logg_t = _ud_ratios()
    ldd = np.asarray(ldd, dtype=np.float64)
    index = np.asarray(index, dtype=np.int64)
    lum = np.asarray(lum_class, dtype=np.int64)
    n = len(ldd)
    ud = np.full((n, len(UD_BANDS)), np.nan)
    teff = np.full(n, np.nan)
    logg = np.full(n, np.nan)
    sel = np.flatnonzero(~np.isnan(ldd) & (index >= 0) & (index < len(ratios)))
    if not len(sel):
        return ud, teff, logg
    i = index[sel]
    k = np.where((lum[sel] > 0) & (lum[sel] <= 3), 1, 0)  # giants (I..III); dwarfs, IV and unknown
    ud[sel] = ldd[sel][:, None] * ratios[i, :, k]
    teff[sel] = teff_t[i, k]
    logg[sel] = logg_t[i, k]
    return ud, teff, logg


def teff_logg_from_sptype(sp: SpectralType) -> tuple[float, float]:
    """Teff and log g of a decoded spectral type from SearchCal's table (NaN, NaN if none)."""
    if not sp.ok:
        return float("nan"), float("nan")
    t = teff_logg_table()
    n = len(t.code)
    line = 0
    code_found = found = False
    while not found and line < n:
        if t.code[line] == sp.code:
            if t.quantity[line] >= sp.quantity:
                found = True
            else:
                line += 1
            code_found = True
        elif code_found:
            found = True
        else:
            line += 1
    if line >= n:
        return float("nan"), float("nan")
    if line == 0:
        # SearchCal would interpolate with line -1 (outside its table); only an exact O3 is kept here.
        if t.quantity[0] != sp.quantity:
            return float("nan"), float("nan")
        sup = inf = 0
    else:
        sup, inf = line, line - 1
    q_sup, q_inf = t.quantity[sup], t.quantity[inf]
    ratio = abs((sp.quantity - q_inf) / (q_sup - q_inf)) if q_sup != q_inf else 0.5
    col = sp.table
    te_sup, te_inf = t.teff[sup, col], t.teff[inf, col]
    if np.isnan(te_sup) or np.isnan(te_inf):
        return float("nan"), float("nan")
    teff = te_inf + ratio * (te_sup - te_inf)
    logg = t.logg[inf, col] + ratio * (t.logg[sup, col] - t.logg[inf, col]) + LOGG_SUN
    return float(teff), float(logg)

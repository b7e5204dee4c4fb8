"""Angular diameters as SearchCal computes them, vectorised over stars (numpy).

Method (Chelli et al. 2016, A&A 589, A112; SearchCal ``alxAngularDiameter.c`` and
``sclsvrCALIBRATOR::ComputeAngularDiameter``):

* for each colour V-X (X = J, H, K) and spectral-type index ``sp``::

      log10 D = P_X(sp) + 0.2 * (c_X * V - c_V * X),   c_X = C_X / (C_V - C_X), c_V = C_V / (C_V - C_X)

  with C the extinction ratios A_band / A_V.  The magnitude combination is a *pseudo-
  magnitude*: interstellar extinction cancels in it exactly, so SearchCal needs no A_V for
  diameters (this is its whole extinction handling for diameters; it never fits A_V there).
* variance of log10 D: the polynomial coefficients' covariance at ``sp`` plus the magnitude
  errors; the three diameters are correlated (common V, common coefficients).
* the mean is the covariance-weighted mean of log10 D over the three colours (all three are
  required), with a reduced chi2 of the residuals; chi2 > 5 means inconsistent diameters.
* when the spectral type is uncertain (``delta`` > 0) or unknown ("faint"), every index of
  the range (within the polynomials' domain 42..272, B0.5..M8) is tried; the best chi2 and
  the indices whose chi2 is within 1/(n-1) of it give the diameter, its error and a fixed
  spectral type.
* ``e_LDD`` adds 2 % in quadrature (SearchCal's allowance for biases).

Two variants: ``"current"`` (SearchCal 2025, ``ce450559``) and ``"2017"`` (SearchCal server
v5.1.0 as of 2017-06, which produced JSDC v2 and the ETA_TAU / JMDC-2020 answers we validate
on).  They differ in the reduced chi2 (n vs n-1), the treatment of an uncertain spectral
type, default magnitude errors and confidences; each difference is marked below.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache

import numpy as np

from getstar.astro.tables import diameter_polynomials, extinction_coefficients

METHODS = ("current", "2017")
#: Domain of the polynomials (colour-table index), SearchCal's SPTYPE_MIN / SPTYPE_MAX.
SPTYPE_MIN, SPTYPE_MAX = 42, 272
#: Highest colour-table index a decoded type can have (M9.99).
MAX_INDEX = 279
#: Reduced chi2 above which the diameters are inconsistent (DIAM_CHI2_THRESHOLD).
CHI2_THRESHOLD = 5.0
LN10 = math.log(10.0)
NO, LOW, MEDIUM, HIGH = 0, 1, 2, 3
#: Elements per trial block (stars x trial indices): small enough to stay in cache.
BLOCK = 32768
#: Step of the faint scan where the caller allows a coarse one (estimated magnitudes); SearchCal: 1.
COARSE_STEP = 4
#: Arithmetic of the faint scan (tests compare it with float64: same results).
FAINT_DTYPE = np.float32
#: Bands entering the diameters, in SearchCal's colour order (V-J, V-H, V-K).
DIAM_BANDS = ("J", "H", "K")
COLOUR_NAMES = ("vj", "vh", "vk")


@dataclass(frozen=True)
class _Grid:
    """Per colour-table index 0..279: polynomial values P (280, 3) and coefficient covariance A (280, 3, 3)."""

    p: np.ndarray
    a: np.ndarray
    a6: np.ndarray  # (280, 6) distinct entries of a: 00 11 22 01 02 12
    #: Per dtype: the nine per-index rows (P0 P1 P2 A00 A11 A22 A01 A02 A12), shape (9, 280).
    rows: dict[str, np.ndarray]
    cm_v: np.ndarray  # (3,) c_V per colour (multiplies X)
    cm_x: np.ndarray  # (3,) c_X per colour (multiplies V)


@cache
def _grid() -> _Grid:
    poly = diameter_polynomials()
    x = np.arange(MAX_INDEX + 1, dtype=np.float64)
    pows = np.stack([x**k for k in range(5)], axis=1)  # (280, 5)
    p = pows @ poly.coeff.T  # (280, 3)
    a = np.empty((len(x), 3, 3))
    for i in range(3):
        for j in range(3):
            block = poly.cov[i * 5:(i + 1) * 5, j * 5:(j + 1) * 5]
            a[:, i, j] = np.einsum("nk,kl,nl->n", pows, block, pows)
    ext = extinction_coefficients()
    c_v = ext["V"]
    c_x = np.array([ext[b] for b in DIAM_BANDS])
    cm_v = c_v / (c_v - c_x)  # CmI
    cm_x = c_x / (c_v - c_x)  # CmJ
    a6 = np.stack([a[:, 0, 0], a[:, 1, 1], a[:, 2, 2], a[:, 0, 1], a[:, 0, 2], a[:, 1, 2]], axis=1)
    rows9 = np.concatenate([p.T, a6.T], axis=0)
    rows = {np.dtype(dt).name: np.ascontiguousarray(rows9, dtype=dt) for dt in (np.float64, np.float32)}
    return _Grid(p, a, np.ascontiguousarray(a6), rows, cm_v, cm_x)


@dataclass
class PreparedMagnitudes:
    """V, J, H, K as SearchCal feeds them to the diameters (errors fixed, confidences per band)."""

    value: np.ndarray  # (N, 4) V J H K, NaN = unset
    error: np.ndarray  # (N, 4), NaN = unknown (then the diameter is not valid)
    confidence: np.ndarray  # (N, 4) int8


def prepare_magnitudes(value: np.ndarray, error: np.ndarray, confidence: np.ndarray, faint: np.ndarray,
                       method: str = "current", is_2mass: np.ndarray | None = None) -> PreparedMagnitudes:
    """SearchCal's ``ExtractMagnitudesAndFixErrors`` on V, J, H, K (arrays (N, 4)).

    * a magnitude outside -10..20 (2017: -2..20) is ignored;
    * a missing error is 0.35 mag (2017: unknown, except 0.1 for V <= 3);
    * the V error is at least 0.01;
    * J, H, K share the largest of their errors;
    * errors are capped at 0.35 (0.25 for the faint approach);
    * J, H, K not from 2MASS: confidence HIGH becomes MEDIUM (2017: not used at all).
    """
    value = np.array(value, dtype=np.float64, copy=True)
    error = np.array(error, dtype=np.float64, copy=True)
    conf = np.array(confidence, dtype=np.int8, copy=True)
    lo = -2.0 if method == "2017" else -10.0
    with np.errstate(invalid="ignore"):
        inrange = (value >= lo) & (value <= 20.0)
    if is_2mass is not None:
        not_2mass = np.zeros_like(inrange)
        not_2mass[:, 1:] = ~np.asarray(is_2mass, dtype=bool)
        if method == "2017":
            inrange &= ~not_2mass
        else:
            conf = np.where(not_2mass & (conf == HIGH), np.int8(MEDIUM), conf)
    value[~inrange] = np.nan
    error[~inrange] = np.nan
    conf[~inrange] = NO
    has = ~np.isnan(value)
    if method == "2017":
        v_default = np.isnan(error[:, 0]) & has[:, 0] & (value[:, 0] <= 3.0)
        error[v_default, 0] = 0.1
    else:
        error[has & np.isnan(error)] = 0.35
    with np.errstate(invalid="ignore"):
        small_v = has[:, 0] & (error[:, 0] < 0.01)
        error[small_v, 0] = 0.01
        jhk = error[:, 1:]
        jhk_ok = has[:, 1:] & ~np.isnan(jhk)
        max_err = np.max(np.where(jhk_ok, jhk, 0.0), axis=1)
        norm = jhk_ok & (max_err[:, None] > 0.0)
        error[:, 1:] = np.where(norm, max_err[:, None], jhk)
        cap = np.where(np.asarray(faint, dtype=bool), 0.25, 0.35)[:, None]
        over = has & ~np.isnan(error) & (error > cap)
    error = np.where(over, cap, error)
    return PreparedMagnitudes(value, error, conf)


@dataclass
class DiameterResult:
    """Per star: the three colour diameters, the mean (LDD) and SearchCal's flags."""

    n: int
    diam: np.ndarray = field(init=False)  # (N, 3) mas, NaN = unset
    e_diam: np.ndarray = field(init=False)
    diam_conf: np.ndarray = field(init=False)  # (N, 3) int8
    ldd: np.ndarray = field(init=False)
    e_ldd: np.ndarray = field(init=False)
    e_ldd_rel: np.ndarray = field(init=False)  # %
    ldd_conf: np.ndarray = field(init=False)
    chi2: np.ndarray = field(init=False)
    chi2_conf: np.ndarray = field(init=False)
    count: np.ndarray = field(init=False)  # number of valid colour diameters
    flag: np.ndarray = field(init=False)  # diamFlag
    info: np.ndarray = field(init=False)  # diamFlagInfo (object array of str)
    fixed_index: np.ndarray = field(init=False)  # colour-table index fixed by the fit (-1 = not fixed)
    fixed_delta: np.ndarray = field(init=False)  # its half range (-1 = not set)
    faint: np.ndarray = field(init=False)  # the faint approach (no usable spectral type) was used

    def __post_init__(self) -> None:
        n = self.n
        self.diam = np.full((n, 3), np.nan)
        self.e_diam = np.full((n, 3), np.nan)
        self.diam_conf = np.zeros((n, 3), dtype=np.int8)
        self.ldd = np.full(n, np.nan)
        self.e_ldd = np.full(n, np.nan)
        self.e_ldd_rel = np.full(n, np.nan)
        self.ldd_conf = np.zeros(n, dtype=np.int8)
        self.chi2 = np.full(n, np.nan)
        self.chi2_conf = np.zeros(n, dtype=np.int8)
        self.count = np.zeros(n, dtype=np.int32)
        self.flag = np.zeros(n, dtype=bool)
        self.info = np.full(n, "", dtype=object)
        self.fixed_index = np.full(n, -1, dtype=np.int32)
        self.fixed_delta = np.full(n, -1, dtype=np.int32)
        self.faint = np.zeros(n, dtype=bool)


@dataclass
class _Fit:
    """Diameters and their weighted mean at given indices (arrays of any common shape S)."""

    logd: np.ndarray  # S + (3,)
    var: np.ndarray  # S + (3,) variance of log10 D
    valid: np.ndarray  # S + (3,)
    mean: np.ndarray  # S, log10 of the weighted mean (NaN = unset)
    mean_err: np.ndarray  # S, error of log10 mean
    chi2: np.ndarray  # S


def _star_terms(mags: PreparedMagnitudes, g: _Grid) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per star: pseudo-magnitude term y (N,3), magnitude covariance terms mvv (N,), mxx (N,3), mags set (N,3)."""
    v, ev = mags.value[:, 0], mags.error[:, 0]
    x, ex = mags.value[:, 1:], mags.error[:, 1:]
    y = 0.2 * (g.cm_x[None, :] * v[:, None] - g.cm_v[None, :] * x)
    mvv = 0.04 * ev**2  # times cm_x[i] * cm_x[j]
    mxx = 0.04 * (g.cm_v[None, :] ** 2) * ex**2
    has = ~np.isnan(v)[:, None] & ~np.isnan(x)
    return y, mvv, mxx, has


def _mean_kernel(d: tuple[np.ndarray, ...], c: tuple[np.ndarray, ...], has_all: np.ndarray,
                 n_dof: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Covariance-weighted mean of three log-diameters and its reduced chi2 (SearchCal's IDL formulas).

    ``d`` = (d0, d1, d2) log10 diameters, ``c`` = (c00, c11, c22, c01, c02, c12) their covariance,
    all broadcastable to one shape.  Returns (mean, error of the mean, chi2), NaN where SearchCal
    has no mean (a magnitude missing, the covariance not positive definite, sum of weights <= 0).
    Written with the six distinct entries and the adjugate (no 3x3 arrays): this kernel runs for
    every star at every trial spectral type, so it is kept to ~70 array operations.
    """
    d0, d1, d2 = d
    c00, c11, c22, c01, c02, c12 = c
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        i00 = c11 * c22 - c12 * c12
        i11 = c00 * c22 - c02 * c02
        i22 = c00 * c11 - c01 * c01
        i01 = c02 * c12 - c01 * c22
        i02 = c01 * c12 - c02 * c11
        i12 = c01 * c02 - c00 * c12
        det = c00 * i00 + c01 * i01 + c02 * i02
        # SearchCal inverts by Cholesky: it succeeds iff the leading minors are positive.
        ok = has_all & (c00 > 0.0) & (i22 > 0.0) & (det > 0.0)
        w0 = i00 + i01 + i02
        w1 = i01 + i11 + i12
        w2 = i02 + i12 + i22
        total = w0 + w1 + w2  # times det
        ok &= total > 0.0
        mean = (w0 * d0 + w1 * d1 + w2 * d2) / total
        r0 = np.abs(mean - d0)
        r1 = np.abs(mean - d1)
        r2 = np.abs(mean - d2)
        q = i00 * r0 * r0 + i11 * r1 * r1 + i22 * r2 * r2 + 2.0 * (i01 * r0 * r1 + i02 * r0 * r2 + i12 * r1 * r2)
        chi2 = q / (det * n_dof)
        mean_err = np.sqrt(det / total)
    nan = np.float64(np.nan)
    return np.where(ok, mean, nan), np.where(ok, mean_err, nan), np.where(ok, chi2, nan)


def _star_cov(mvv: np.ndarray, mxx: np.ndarray, g: _Grid) -> tuple[np.ndarray, ...]:
    """The six distinct entries of each star's magnitude covariance of the log-diameters."""
    u = g.cm_x
    return (mvv * u[0] ** 2 + mxx[..., 0], mvv * u[1] ** 2 + mxx[..., 1], mvv * u[2] ** 2 + mxx[..., 2],
            mvv * u[0] * u[1], mvv * u[0] * u[2], mvv * u[1] * u[2])


def _fit(idx: np.ndarray, y: np.ndarray, mvv: np.ndarray, mxx: np.ndarray, has: np.ndarray,
         g: _Grid, n_dof: float) -> _Fit:
    """Diameters and weighted mean of N stars, each at its own integer index ``idx`` (N,)."""
    p = g.p[idx]  # (N, 3)
    a = g.a6[idx]  # (N, 6)
    s6 = _star_cov(mvv, mxx, g)
    c = tuple(a[:, k] + s6[k] for k in range(6))
    with np.errstate(invalid="ignore"):
        logd = p + y
        var = np.stack(c[:3], axis=1)
        valid = has & (var > 0.0) & np.isfinite(logd)
    mean, mean_err, chi2 = _mean_kernel((logd[:, 0], logd[:, 1], logd[:, 2]), c, valid.all(axis=1), n_dof)
    return _Fit(logd, var, valid, mean, mean_err, chi2)


def compute(mags: PreparedMagnitudes, color_table_index: np.ndarray, color_table_delta: np.ndarray,
            faint: np.ndarray, method: str = "current", coarse: np.ndarray | None = None) -> DiameterResult:
    """Diameters, LDD, chi2, flags for every star (``faint``: no usable spectral type).

    ``mags`` must have been prepared with the same ``faint`` flags (error caps differ).
    ``coarse`` marks faint stars whose scan may skip indices (every ``COARSE_STEP``-th): getstar
    uses it where the magnitudes are estimates, whose errors dwarf the few per cent it costs;
    everywhere else the scan is SearchCal's, index by index.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: one of {METHODS}")
    g = _grid()
    n = len(color_table_index)
    res = DiameterResult(n)
    faint = np.asarray(faint, dtype=bool)
    res.faint = faint.copy()
    idx = np.where(faint, round((SPTYPE_MAX + SPTYPE_MIN) / 2.0), np.asarray(color_table_index)).astype(np.int64)
    delta = np.where(faint, math.ceil((SPTYPE_MAX - SPTYPE_MIN) / 2.0), np.asarray(color_table_delta))
    delta = delta.astype(np.int64)
    lo_raw = idx - delta
    lo = np.maximum(SPTYPE_MIN, lo_raw)
    hi = np.minimum(SPTYPE_MAX, idx + delta)
    # SearchCal's unsigned arithmetic: a negative lower bound is out of range.
    inrange = (lo_raw >= 0) & (lo <= hi) & (idx >= 0) & (idx <= MAX_INDEX)

    y, mvv, mxx, has = _star_terms(mags, g)
    conf_v = mags.confidence[:, :1]
    conf_x = mags.confidence[:, 1:]
    bad_err = (mags.error[:, :1] <= 0.0) | (mags.error[:, 1:] <= 0.0)
    diam_conf = np.where(bad_err, np.int8(LOW), np.minimum(conf_v, conf_x)).astype(np.int8)

    # 1. Every star in range at its own index.
    sel = np.flatnonzero(inrange)
    f = _fit(idx[sel], y[sel], mvv[sel], mxx[sel], has[sel], g, n_dof=3.0 if method == "current" else 2.0)
    _write_single(res, sel, f, diam_conf[sel], method)

    # 2. Sampling of the spectral-type range where the type is uncertain and the mean exists.
    samp = sel[(delta[sel] != 0) & ~np.isnan(f.mean)]
    if len(samp):
        _sample(res, samp, lo, hi, y, mvv, mxx, has, diam_conf, faint, g, method, coarse)
    _finish(res)
    return res


def _write_single(res: DiameterResult, sel: np.ndarray, f: _Fit, diam_conf: np.ndarray, method: str) -> None:
    """Write the diameters and mean computed at the star's own index."""
    # A colour diameter is written whenever both magnitudes exist, even if its error is unknown.
    has_diam = ~np.isnan(f.logd)
    with np.errstate(invalid="ignore", over="ignore"):
        d = np.where(has_diam, 10.0 ** np.where(has_diam, f.logd, 0.0), np.nan)
        res.diam[sel] = d
        res.e_diam[sel] = d * LN10 * np.sqrt(f.var)
    res.diam_conf[sel] = np.where(has_diam, diam_conf, np.int8(NO))
    count = f.valid.sum(axis=1).astype(np.int32)
    res.count[sel] = count
    mean_ok = ~np.isnan(f.mean)
    conf_mean = np.where(f.valid, diam_conf, np.int8(HIGH)).min(axis=1) if method == "current" else \
        np.full(len(sel), HIGH, dtype=np.int8)
    inconsistent = mean_ok & (f.chi2 > CHI2_THRESHOLD)
    conf_mean = np.where(inconsistent, np.int8(LOW), conf_mean)
    chi2_conf = np.where(inconsistent & (method == "current"), np.int8(LOW), np.int8(HIGH))
    _set_mean(res, sel, mean_ok, f.mean, f.mean_err * 10.0 ** np.where(mean_ok, f.mean, 0.0) * LN10,
              f.chi2, conf_mean, chi2_conf)
    infos = res.info
    if method == "current":
        short = np.flatnonzero(count < 3)
        for i in short:
            infos[sel[i]] = f"REQUIRED[3]: {count[i]}"
        for i in np.flatnonzero(inconsistent):
            infos[sel[i]] = "INCONSISTENT"
    else:
        short = np.flatnonzero(count < 3)
        for i in short:
            infos[sel[i]] = f"REQUIRED_DIAMETERS (3): {count[i]}"
        for i in np.flatnonzero(inconsistent):
            infos[sel[i]] = "INCONSISTENT_DIAMETERS "


def _set_mean(res: DiameterResult, sel: np.ndarray, ok: np.ndarray, log_mean: np.ndarray, err: np.ndarray,
              chi2: np.ndarray, conf: np.ndarray, chi2_conf: np.ndarray) -> None:
    """Store mean diameter (value in mas, error in mas before the 2 % term) and chi2 for stars ``sel``."""
    with np.errstate(invalid="ignore", over="ignore"):
        value = np.where(ok, 10.0 ** np.where(ok, log_mean, 0.0), np.nan)
    res.ldd[sel] = value
    res.e_ldd[sel] = np.where(ok, err, np.nan)
    res.ldd_conf[sel] = np.where(ok, conf, np.int8(NO))
    res.chi2[sel] = np.where(ok, chi2, np.nan)
    res.chi2_conf[sel] = np.where(ok, chi2_conf, np.int8(NO))
    res.flag[sel] = ok




@dataclass
class _Samples:
    """Per sampled star: what SearchCal keeps of the trial spectral types."""

    n_sample: np.ndarray
    best_idx: np.ndarray
    min_chi2: np.ndarray
    best_mean: np.ndarray  # log10
    best_err: np.ndarray  # log10 units
    n_sel: np.ndarray
    logmin: np.ndarray
    logmax: np.ndarray
    max_err: np.ndarray
    idx_min: np.ndarray
    idx_max: np.ndarray
    sel_mean: np.ndarray  # mean of the selected log-diameters (2017)
    sel_rms: np.ndarray  # their rms distance to that mean (2017)

    @classmethod
    def empty(cls, m: int) -> _Samples:
        def i() -> np.ndarray:
            return np.zeros(m, dtype=np.int64)

        def f() -> np.ndarray:
            return np.full(m, np.nan)

        return cls(i(), i(), f(), f(), f(), i(), f(), f(), f(), i(), i(), f(), f())


def _kernel_fast(d: list[np.ndarray], c: list[np.ndarray], n_dof: float,
                 check: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """:func:`_mean_kernel` for trial blocks, in place: overwrites ``d`` and ``c`` (same-shape arrays).

    The same formulas with preallocated outputs (numpy's temporaries cost more than the
    arithmetic here).  Returns mean, error, chi2 and, when ``check``, where they are defined.
    Without ``check`` the caller knows every covariance is positive definite (all magnitude
    errors > 0: the polynomial term is a covariance, the magnitude term positive definite),
    so SearchCal's Cholesky and positive-sum tests cannot fail and are skipped.
    """
    d0, d1, d2 = d
    c00, c11, c22, c01, c02, c12 = c
    t = np.empty_like(c00)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        i00 = c11 * c22
        i00 -= np.multiply(c12, c12, out=t)
        i11 = c00 * c22
        i11 -= np.multiply(c02, c02, out=t)
        i22 = c00 * c11
        i22 -= np.multiply(c01, c01, out=t)
        i01 = c02 * c12
        i01 -= np.multiply(c01, c22, out=t)
        i02 = c01 * c12
        i02 -= np.multiply(c02, c11, out=t)
        i12 = c01 * c02
        i12 -= np.multiply(c00, c12, out=t)
        ok = np.greater(c00, 0.0) if check else None
        det = c00
        det *= i00
        det += np.multiply(c01, i01, out=t)
        det += np.multiply(c02, i02, out=t)
        if ok is not None:
            ok &= i22 > 0.0
            ok &= det > 0.0
        w0 = np.add(i00, i01, out=c11)
        w0 += i02
        w1 = np.add(i01, i11, out=c22)
        w1 += i12
        w2 = np.add(i02, i12, out=c01)
        w2 += i22
        total = np.add(w0, w1, out=c02)
        total += w2
        if ok is not None:
            ok &= total > 0.0
        mean = np.multiply(w0, d0, out=c12)
        mean += np.multiply(w1, d1, out=t)
        mean += np.multiply(w2, d2, out=t)
        mean /= total
        r0 = np.subtract(mean, d0, out=d0)
        np.abs(r0, out=r0)
        r1 = np.subtract(mean, d1, out=d1)
        np.abs(r1, out=r1)
        r2 = np.subtract(mean, d2, out=d2)
        np.abs(r2, out=r2)
        cross = np.multiply(r0, r1, out=w0)
        cross *= i01
        cross += np.multiply(np.multiply(r0, r2, out=t), i02, out=t)
        cross += np.multiply(np.multiply(r1, r2, out=t), i12, out=t)
        cross *= 2.0
        q = np.multiply(r0, r0, out=r0)
        q *= i00
        q += np.multiply(np.multiply(r1, r1, out=t), i11, out=t)
        q += np.multiply(np.multiply(r2, r2, out=t), i22, out=t)
        q += cross
        chi2 = q
        chi2 /= det
        chi2 /= n_dof
        err = np.divide(det, total, out=w1)
        np.sqrt(err, out=err)
    return mean, err, chi2, ok


def _evaluate(idx2: np.ndarray, t: np.ndarray, y: np.ndarray, s6: tuple[np.ndarray, ...], g: _Grid, dtype: type,
              check: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Mean, error, chi2 (and validity if ``check``) of stars ``t`` at indices ``idx2`` (S, K), in ``dtype``."""
    rows = g.rows[np.dtype(dtype).name]
    shape = idx2.shape
    uniform = shape[0] > 0 and bool(np.all(idx2 == idx2[:1]))
    star = [y[t, c] for c in range(3)] + [s6[c][t] for c in range(6)]
    arrs = []
    for k in range(9):
        per_star = star[k].astype(dtype)[:, None]
        grid = rows[k][idx2[0]][None, :] if uniform else rows[k][idx2]
        arrs.append(np.add(grid, per_star, out=np.empty(shape, dtype)))
    return _kernel_fast(arrs[:3], arrs[3:], 3.0, check)


def _full_trials(samp: np.ndarray, lo: np.ndarray, hi: np.ndarray, y: np.ndarray, s6: tuple[np.ndarray, ...],
                 has_all: np.ndarray, posdef: np.ndarray, g: _Grid, method: str, out: _Samples, where: np.ndarray,
                 step: int = 1, dtype: type = np.float64) -> None:
    """SearchCal's scan: every ``step``-th index of each star's range (and its last one), block by block."""
    width = hi[samp] - lo[samp] + 1
    order = np.argsort(width, kind="stable")
    m = len(samp)
    i = 0
    grids: dict[int, np.ndarray] = {}
    while i < m:
        n_k = (int(width[order[i]]) + step - 1) // step + 1
        j = min(m, i + max(1, BLOCK // n_k))
        w = int(width[order[j - 1]])
        offsets = grids.get(w)
        if offsets is None:
            offsets = grids[w] = np.unique(np.append(np.arange(0, w, step), w - 1))
        if (j - i) * len(offsets) > 2 * BLOCK:
            j = i + max(1, BLOCK // len(offsets))
        rows = order[i:j]
        t = samp[rows]
        raw = lo[t][:, None] + offsets[None, :]
        inside = raw <= hi[t][:, None]  # narrower ranges of the block: the extra indices are ignored
        idx2 = np.minimum(raw, hi[t][:, None])
        check = not bool(posdef[t].all())
        mean, err, chi2, ok = _evaluate(idx2, t, y, s6, g, dtype, check)
        kept: np.ndarray | None = None
        if check or not bool(inside.all()):
            kept = inside & has_all[t][:, None]
            if ok is not None:
                kept &= ok
        _reduce(out, where[rows], idx2, kept, mean, err, _n_dof(chi2, method), method)
        i = j


def _n_dof(chi2_3: np.ndarray, method: str) -> np.ndarray:
    """Kernels compute chi2 / 3; SearchCal 2017 divides by n - 1 = 2."""
    if method == "2017":
        chi2_3 *= 1.5
    return chi2_3


def _reduce(out: _Samples, rows: np.ndarray, idx2: np.ndarray, kept: np.ndarray | None, mean: np.ndarray,
            err: np.ndarray, chi2: np.ndarray, method: str) -> None:
    """Best chi2 (first minimum in index order, as SearchCal scans) and the indices within 1/(n-1) of it.

    ``kept`` None means every trial counts (the common case: no test needed on the block).
    """
    r = np.arange(len(rows))
    inf = chi2.dtype.type(np.inf)
    if kept is None:
        n_sample = np.full(len(rows), chi2.shape[1])
        c2 = chi2
    else:
        n_sample = kept.sum(axis=1)
        c2 = np.where(kept, chi2, inf)
    best = np.argmin(c2, axis=1)
    min_chi2 = c2[r, best]
    best_mean = mean[r, best]
    best_err = err[r, best]
    best_idx = idx2[r, best]
    thresh = min_chi2 + chi2.dtype.type(0.5)  # 1 / (nbDiameters - 1), three diameters
    if method == "2017":
        thresh = np.maximum(chi2.dtype.type(1.0), thresh)
    multi = n_sample > 1
    selm = c2 <= thresh[:, None]
    selm &= multi[:, None]
    n_sel = selm.sum(axis=1)
    with np.errstate(invalid="ignore"):
        out.logmin[rows] = np.minimum(np.min(mean, axis=1, where=selm, initial=inf), best_mean)
        out.logmax[rows] = np.maximum(np.max(mean, axis=1, where=selm, initial=-inf), best_mean)
        out.max_err[rows] = np.maximum(np.max(err, axis=1, where=selm, initial=-inf), best_err)
        if method == "2017":
            x = np.where(selm, mean - best_mean[:, None], 0.0)
            cnt = np.maximum(n_sel, 1)
            mu = x.sum(axis=1) / cnt
            out.sel_mean[rows] = best_mean + mu
            out.sel_rms[rows] = np.sqrt(np.maximum((x * x).sum(axis=1) / cnt - mu * mu, 0.0))
    # Trial indices increase along each row: the first / last selected ones are the extremes.
    any_sel = n_sel > 0
    first = idx2[r, np.argmax(selm, axis=1)]
    last = np.max(idx2, axis=1, where=selm, initial=-1)
    out.idx_min[rows] = np.where(any_sel, np.minimum(first, best_idx), best_idx)
    out.idx_max[rows] = np.where(any_sel, np.maximum(last, best_idx), best_idx)
    out.n_sample[rows] = n_sample
    out.best_idx[rows] = best_idx
    out.min_chi2[rows] = min_chi2
    out.best_mean[rows] = best_mean
    out.best_err[rows] = best_err
    out.n_sel[rows] = n_sel


def _sample(res: DiameterResult, samp: np.ndarray, lo: np.ndarray, hi: np.ndarray, y: np.ndarray, mvv: np.ndarray,
            mxx: np.ndarray, has: np.ndarray, diam_conf: np.ndarray, faint: np.ndarray, g: _Grid, method: str,
            coarse: np.ndarray | None) -> None:
    """Try every index of each star's range; keep the best chi2 and the range within 1/(n-1) of it."""
    s6 = _star_cov(mvv, mxx, g)
    has_all = np.asarray(has.all(axis=1), dtype=bool)
    with np.errstate(invalid="ignore"):
        posdef = np.asarray(has_all & (mvv >= 0.0) & (mxx > 0.0).all(axis=1) & np.isfinite(mvv)
                            & np.isfinite(mxx).all(axis=1), dtype=bool)
    sm = _Samples.empty(len(samp))
    fs = faint[samp]
    cs = np.zeros(len(samp), dtype=bool) if coarse is None else coarse[samp]
    groups = ((~fs, 1, np.float64), (fs & ~cs, 1, FAINT_DTYPE), (fs & cs, COARSE_STEP, FAINT_DTYPE))
    for mask, step, dtype in groups:
        rows = np.flatnonzero(mask)
        if len(rows):
            step = 1 if method == "2017" else step
            _full_trials(samp[rows], lo, hi, y, s6, has_all, posdef, g, method, sm, rows, step, dtype)
    lo_s, hi_s, fnt = lo[samp], hi[samp], faint[samp]
    multi = sm.n_sample > 1
    oob = multi & ((sm.idx_min == lo_s) | (sm.idx_max == hi_s))
    tiny = multi & ~oob & (sm.n_sel <= 2)
    fixed_idx = (sm.idx_min + sm.idx_max) // 2
    fixed_delta = (sm.idx_max - sm.idx_min) // 2
    # Diameters of the best trial (recomputed at that index).
    have = sm.n_sample > 0
    t = samp[have]
    bf = _fit(sm.best_idx[have], y[t], mvv[t], mxx[t], has[t], g, n_dof=3.0 if method == "current" else 2.0)
    dc = diam_conf[t]
    if method == "current":
        use_range = sm.n_sel > 1
        mid = 0.5 * (sm.logmax + sm.logmin)
        sel_err = np.maximum(np.abs(mid - sm.logmin), np.abs(sm.logmax - mid))
        rel = np.where(use_range, np.sqrt(sel_err**2 + sm.max_err**2), sm.best_err)
        log_ldd = np.where(use_range, mid, sm.best_mean)
        with np.errstate(invalid="ignore", over="ignore"):
            err = rel * 10.0**log_ldd * LN10
        chi2_out = sm.min_chi2
        valid_fit = ~((oob | tiny) & fnt)
        conf = np.full(len(samp), HIGH, dtype=np.int8)
        conf[have] = np.where(bf.valid, dc, np.int8(HIGH)).min(axis=1)
        conf = np.where(~valid_fit, np.int8(LOW), np.where(fnt, np.int8(MEDIUM), conf))
        chi2_conf = np.where(~valid_fit, np.int8(LOW), np.int8(HIGH))
        incons = sm.min_chi2 > CHI2_THRESHOLD
        low = incons | (fixed_delta > 40)
        conf = np.where(low, np.int8(LOW), conf)
        chi2_conf = np.where(low, np.int8(LOW), chi2_conf)
    else:
        use_range = sm.n_sel > 0
        rel = np.where(use_range, np.sqrt(sm.sel_rms**2 + sm.max_err**2), sm.best_err)
        log_ldd = np.where(use_range, sm.sel_mean, sm.best_mean)
        with np.errstate(invalid="ignore", over="ignore"):
            err = rel * 10.0**sm.best_mean * LN10  # SearchCal 2017 scales by the best diameter
        chi2_out = np.where(multi, np.maximum(1.0, sm.min_chi2 + 0.5), sm.min_chi2)
        incons = chi2_out > CHI2_THRESHOLD
        conf = np.where(incons, np.int8(LOW), np.where(fnt, np.int8(MEDIUM), np.int8(HIGH)))
        chi2_conf = np.full(len(samp), HIGH, dtype=np.int8)

    hv = np.flatnonzero(have)
    _set_mean(res, t, np.ones(len(t), dtype=bool), log_ldd[hv], err[hv], chi2_out[hv], conf[hv], chi2_conf[hv])
    with np.errstate(invalid="ignore", over="ignore"):
        d = 10.0**bf.logd
        res.diam[t] = d
        res.e_diam[t] = d * LN10 * np.sqrt(bf.var)
    res.diam_conf[t] = np.where(np.isnan(bf.logd), np.int8(NO), dc)
    res.count[t] = bf.valid.sum(axis=1)
    res.fixed_index[t] = fixed_idx[hv]
    res.fixed_delta[t] = fixed_delta[hv]
    # diamFlagInfo: few distinct texts (index x flags), formatted once each.
    best = sm.best_idx[hv]
    code = (best * 16 + fnt[hv] * 1 + (oob[hv] & fnt[hv]) * 2 + (tiny[hv] & fnt[hv]) * 4 + incons[hv] * 8)
    uniq, inv = np.unique(code, return_inverse=True)
    texts = np.array([_sample_info(int(c), method) for c in uniq], dtype=object)
    res.info[t] = texts[inv]


def _sample_info(code: int, method: str) -> str:
    """SearchCal's diamFlagInfo text after a scan of spectral types (code = index * 16 + flags)."""
    index, faint, oob, tiny, incons = code // 16, code & 1, code & 2, code & 4, code & 8
    if method == "current":
        head = "[FAINT] " if faint else "[VAR] "
        tail = " OOB" if oob else (" TINY" if tiny else "")
        return f"{head}MIN_CHI2 at SP={index}{tail}{' INCONSISTENT' if incons else ''}"
    return f"{'[FAINT] ' if faint else ''}MIN_CHI2 for (SP {index}) {'INCONSISTENT_DIAMETERS ' if incons else ''}"


def _finish(res: DiameterResult) -> None:
    """LDD error with SearchCal's 2 % bias term; relative error in %."""
    with np.errstate(invalid="ignore"):
        rel = np.sqrt((res.e_ldd / res.ldd) ** 2 + 0.02**2)
    res.e_ldd_rel = np.where(res.flag, 100.0 * rel, np.nan)
    res.e_ldd = np.where(res.flag, rel * res.ldd, np.nan)

"""Validation of the Gaia DR3 relations on real measurements held by a built snapshot.

For every star of the snapshot with Gaia G, BP, RP and a *catalogue* magnitude (SIMBAD's
V, J, H, K of the bright stars; the 2MASS J, H, Ks that JMDC's file carries), compare the
estimate with the measurement: bias (median of estimate − catalogue) and robust scatter
(1.4826 × median absolute deviation), per band, next to the relation's published scatter.
Used by ``bench/photometry.py`` and by the tests.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import asyncpg
import numpy as np

from getstar.photometry.gaia_relations import estimate, relations
from getstar.properties import BY_NAME, ORIGIN_CODE

#: getstar property -> Gaia relation band.
BANDS = {"V": "V", "J": "J", "H": "H", "K": "Ks"}


@dataclass(frozen=True)
class Residuals:
    band: str
    reference: str  # the catalogue the estimates are compared with
    n: int
    bias: float
    robust_scatter: float
    published_sigma: float

    def row(self) -> str:
        return (f"{self.band:2s} {self.reference:12s} {self.n:6d} {self.bias:+8.3f} {self.robust_scatter:8.3f} "
                f"{self.published_sigma:8.3f}")


HEADER = "band reference       n     bias  scatter  publ. σ"


def robust(d: np.ndarray) -> tuple[float, float]:
    med = float(np.median(d))
    return med, float(1.4826 * np.median(np.abs(d - med)))


async def gaia_relation_residuals(conn: asyncpg.Connection, schema: str = "live",
                                  references: tuple[str, ...] = ("SIMBAD", "II/246/out")) -> list[Residuals]:
    """Residuals (estimate − catalogue) per band and reference catalogue, inside each relation's range."""
    g, bp, rp = (BY_NAME[n].column for n in ("G", "Bp", "Rp"))
    out = []
    for prop, band in BANDS.items():
        c = BY_NAME[prop].column
        for ref in references:
            rows = await conn.fetch(
                f"SELECT {g} AS g, {bp} AS bp, {rp} AS rp, {c} AS m FROM {schema}.star "
                f"WHERE {c}_o = $1 AND {g} IS NOT NULL AND {bp} IS NOT NULL AND {rp} IS NOT NULL "
                f"AND {g}_o = $2", ORIGIN_CODE[ref], ORIGIN_CODE["I/355/gaiadr3"])
            if not rows:
                continue
            arr = np.array([(r["g"], r["bp"], r["rp"], r["m"]) for r in rows], dtype=np.float64)
            value, _err = estimate(band, arr[:, 0], arr[:, 1], arr[:, 2])
            ok = np.isfinite(value) & np.isfinite(arr[:, 3])
            if ok.sum() < 10:
                continue
            bias, scatter = robust(value[ok] - arr[ok, 3])
            out.append(Residuals(prop, ref, int(ok.sum()), bias, scatter, relations()[band].sigma))
    return out


@dataclass(frozen=True)
class RedFit:
    """G − Ks as a line in BP − RP for red stars, fitted on catalogue Ks (``fit_red_ks``)."""

    c0: float
    c1: float
    n: int  # stars fitted (after clipping)
    #: 10-fold cross-validated residuals (held-out catalogue Ks − estimate) where the fit is used
    cv_bias: float
    cv_scatter: float  # robust (1.4826 × MAD)
    cv_rms: float
    n_used_range: int


#: Where the published 2MASS relations stop and the red extension takes over (BP − RP), and
#: how far it is fitted and used.
RED_FIT_FROM, RED_USE_FROM, RED_USE_TO = 2.0, 2.5, 5.5


async def fit_red_ks(conn: asyncpg.Connection, schema: str = "live") -> RedFit:
    """Fit Ks for stars redder than the published relations (BP − RP ≥ 2.5) on the snapshot's
    catalogue Ks (SIMBAD, 2MASS), and say how good it is where it is used.

    The only red stars with a measured Ks in the snapshot are bright ones (G ≈ 5), partly
    saturated in Gaia and in 2MASS: the fit starts at BP − RP = 2.0 to anchor it where the
    published relation holds, is a straight line (the steadiest outside its sample), and is
    clipped at 3σ once.  Its error is the cross-validated rms where it is used, large (about
    half a magnitude): the estimate is a LOW-confidence stand-in for a missing measurement.
    """
    g, bp, rp, k = (BY_NAME[n].column for n in ("G", "Bp", "Rp", "K"))
    rows = await conn.fetch(
        f"SELECT {bp} - {rp} AS x, {g} - {k} AS y FROM {schema}.star "
        f"WHERE {k}_o = ANY($1::int[]) AND {g}_o = $2 AND {bp} - {rp} > $3 AND {bp} - {rp} < $4 AND {g} > 4",
        [ORIGIN_CODE["SIMBAD"], ORIGIN_CODE["II/246/out"]], ORIGIN_CODE["I/355/gaiadr3"], RED_FIT_FROM, RED_USE_TO)
    x = np.array([r["x"] for r in rows], dtype=np.float64)
    y = np.array([r["y"] for r in rows], dtype=np.float64)

    def fit(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        c = np.polynomial.polynomial.polyfit(xs, ys, 1)
        res = ys - np.polynomial.polynomial.polyval(xs, c)
        keep = np.abs(res - np.median(res)) < 3 * 1.4826 * np.median(np.abs(res - np.median(res)))
        return np.asarray(np.polynomial.polynomial.polyfit(xs[keep], ys[keep], 1))

    folds = np.array_split(np.random.default_rng(1).permutation(len(x)), 10)
    held = np.empty(len(x))
    for f in folds:
        train = np.setdiff1d(np.arange(len(x)), f)
        held[f] = y[f] - np.polynomial.polynomial.polyval(x[f], fit(x[train], y[train]))
    used = x >= RED_USE_FROM
    # estimate − catalogue in K = (catalogue G−K) − (fitted G−K) = held
    bias, scatter = robust(held[used])
    c = fit(x, y)
    return RedFit(float(c[0]), float(c[1]), len(x), bias, scatter, float(np.sqrt(np.mean(held[used] ** 2))),
                  int(used.sum()))


#: The SearchCal answers whose 2MASS photometry fits the bright-star relations (2011, two fields at
#: high latitude), and the one they are checked on, held out (2017, Taurus: reddened): paths below
#: the shared folder (``getstar.astro.validate.ANSWERS``).
BRIGHT_FIT_ANSWERS = ("HD_32617 (SearchCal v3.8.1, 2011)", "HIP 1234 (SearchCal v3.7.5, 2011)")
BRIGHT_CHECK_ANSWER = "ETA_TAU (SearchCal v5.1.0, 2017)"
#: 2MASS magnitudes brighter than this are saturated (large errors): left out.
BRIGHT_2MASS_LIMIT = 4.5
#: The bands tried, as (2MASS column of the answers, published relation it would replace).
BRIGHT_BANDS = {"J_bright": ("J", "J"), "H_bright": ("H", "H"), "Ks_bright": ("K", "Ks")}
BRIGHT_DEGREE = 3


@dataclass(frozen=True)
class BrightFit:
    """G − band as a cubic in BP − RP for Gaia's bright stars (G < 10), fitted on 2MASS photometry
    of SearchCal answers (``fit_bright_2mass``), next to the published relation on the same stars."""

    band: str
    coefficients: tuple[float, ...]
    n: int  # stars fitted (after clipping)
    x_min: float  # where it is used: 5th to 95th percentile of the fitted colours
    x_max: float
    #: 10-fold cross-validated residuals (2MASS − estimate) of the fit, and the published
    #: relation's residuals on the same stars: (bias, robust scatter, rms)
    cv: tuple[float, float, float]
    published: tuple[float, float, float]
    #: the same two on the held-out answer, inside [x_min, x_max]
    n_check: int
    check: tuple[float, float, float]
    check_published: tuple[float, float, float]

    @property
    def better(self) -> bool:
        """Shipped only where it beats the published relation by a tenth at least, both on the fitted
        stars (cross-validated) and on the held-out answer (robust scatter)."""
        return self.cv[1] < 0.9 * self.published[1] and self.check[1] < 0.9 * self.check_published[1]

    @property
    def sigma(self) -> float:
        """Its error: the worse robust scatter of the two fields (the held-out one is reddened)."""
        return max(self.cv[1], self.check[1])

    def row(self) -> str:
        def f(t: tuple[float, float, float]) -> str:
            return f"{t[0]:+.3f} {t[1]:.3f} {t[2]:.3f}"
        return (f"{self.band:9s} {self.n:4d} {f(self.cv)} | {f(self.published)} || {self.n_check:4d} {f(self.check)} | "
                f"{f(self.check_published)}")


BRIGHT_HEADER = ("band        n  fit (CV): bias rs rms | published     || held out n  fit: bias rs rms | "
                 "published")


def _stats(d: np.ndarray) -> tuple[float, float, float]:
    bias, scatter = robust(d)
    return bias, scatter, float(np.sqrt(np.mean(d ** 2)))


async def _answer_rows(conn: asyncpg.Connection, shared: Path, label: str, column: str,
                       schema: str) -> tuple[np.ndarray, np.ndarray]:
    """(BP − RP, G − 2MASS magnitude) of an answer's stars with unsaturated 2MASS photometry, their
    Gaia photometry from the snapshot's star of the same HIP number."""
    from getstar.astro.validate import ANSWERS, TWOMASS, read_answer

    ans = read_answer(shared / ANSWERS[label])
    mags, origins, hips = ans.values(column), ans.origin(column), ans.strings("HIP")
    wanted = {int(h): float(m) for h, m, o in zip(hips, mags, origins, strict=True)
              if h.isdigit() and o == TWOMASS and np.isfinite(m) and m > BRIGHT_2MASS_LIMIT}
    g, bp, rp, hip = (BY_NAME[n].column for n in ("G", "Bp", "Rp", "HIP"))
    rows = await conn.fetch(
        f"SELECT {hip} AS hip, {bp} - {rp} AS x, {g} AS g FROM {schema}.star "
        f"WHERE {hip} = ANY($1::bigint[]) AND {g}_o = $2 AND {bp} IS NOT NULL AND {rp} IS NOT NULL",
        list(wanted), ORIGIN_CODE["I/355/gaiadr3"])
    rows = sorted(rows, key=lambda r: r["hip"])
    return (np.array([r["x"] for r in rows], dtype=np.float64),
            np.array([r["g"] - wanted[r["hip"]] for r in rows], dtype=np.float64))


async def fit_bright_2mass(conn: asyncpg.Connection, shared: Path, schema: str = "live") -> list[BrightFit]:
    """Fit 2MASS J, H, Ks from Gaia G and BP − RP for the bright stars a G < 10 snapshot holds.

    Why: on the 2MASS photometry of SearchCal's answers (V 7–11) the published relations leave
    colour-dependent offsets of up to 0.09 mag in H and Ks (robust scatter 0.07–0.09), where a
    cubic fitted on such stars leaves 0.04; the offsets carry into diameters (0.05 mag in K is
    ~1.5 % in LDD).  Fitted on the 2011 answers (one 3σ clip), cross-validated 10-fold, checked
    on the 2017 answer held out (another field, reddened); used between the 5th and 95th
    percentile of the fitted colours, the published relation elsewhere; shipped for a band only
    where ``better`` (H and Ks: J is no better on the held-out field), with error ``sigma``.
    """
    out = []
    for band, (column, published) in BRIGHT_BANDS.items():
        parts = [await _answer_rows(conn, shared, label, column, schema) for label in BRIGHT_FIT_ANSWERS]
        x = np.concatenate([p[0] for p in parts])
        y = np.concatenate([p[1] for p in parts])
        xc, yc = await _answer_rows(conn, shared, BRIGHT_CHECK_ANSWER, column, schema)

        def fit(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
            c = np.polynomial.polynomial.polyfit(xs, ys, BRIGHT_DEGREE)
            res = ys - np.polynomial.polynomial.polyval(xs, c)
            keep = np.abs(res - np.median(res)) < 3 * 1.4826 * np.median(np.abs(res - np.median(res)))
            return np.asarray(np.polynomial.polynomial.polyfit(xs[keep], ys[keep], BRIGHT_DEGREE))

        lo, hi = (float(v) for v in np.percentile(x, [5, 95]))
        inside = (x > lo) & (x < hi)
        folds = np.array_split(np.random.default_rng(1).permutation(len(x)), 10)
        held = np.empty(len(x))
        for f in folds:
            train = np.setdiff1d(np.arange(len(x)), f)
            held[f] = y[f] - np.polynomial.polynomial.polyval(x[f], fit(x[train], y[train]))
        c = fit(x, y)
        rel = relations()[published]
        check = (xc > lo) & (xc < hi)
        # 2MASS − estimate = (G − estimate-of-(G − m)) ... = (G − m) − fitted (G − m), with m the 2MASS value
        out.append(BrightFit(
            band, tuple(round(float(v), 5) for v in c), len(x), round(lo, 3), round(hi, 3),
            _stats(-held[inside]), _stats(-(y[inside] - rel.g_minus_band(x[inside]))),
            int(check.sum()), _stats(-(yc[check] - np.polynomial.polynomial.polyval(xc[check], c))),
            _stats(-(yc[check] - rel.g_minus_band(xc[check])))))
    return out

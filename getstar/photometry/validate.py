"""Validation of the Gaia DR3 relations on real measurements held by a built snapshot.

For every star of the snapshot with Gaia G, BP, RP and a *catalogue* magnitude (SIMBAD's
V, J, H, K of the bright stars; the 2MASS J, H, Ks that JMDC's file carries), compare the
estimate with the measurement: bias (median of estimate − catalogue) and robust scatter
(1.4826 × median absolute deviation), per band, next to the relation's published scatter.
Used by ``bench/photometry.py`` and by the tests.
"""

from __future__ import annotations

from dataclasses import dataclass

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

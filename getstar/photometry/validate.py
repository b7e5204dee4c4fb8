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

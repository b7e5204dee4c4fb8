"""Validation of the diameters a built snapshot serves: physics (JMDC) and through the service.

Used by ``bench/diameters.py --dsn/--url`` and the tests (``tests/test_astro_build.py``); the
figures are measured on real data every time, never written down here.

* :func:`jmdc_physics`: our LDD recomputed from the snapshot's own inputs (its magnitudes and
  spectral types, not the JMDC file's computed columns) against JMDC's measured diameters:
  median (bias) and robust scatter (1.4826 MAD) of LDD / LDD_meas - 1, per kind of input.
* :func:`calibrators` / :func:`service_check`: the calibrators of the real SearchCal answers in
  ``shared/`` asked by HIP / HD through ``/v1/stars``, and the nearest star to random sky
  positions: the share carrying V, K, SpType, LDD, and LDD against SearchCal's.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import numpy as np

from getstar.astro import validate as v
from getstar.properties import BY_NAME, ORIGIN_CODE

COMPUTED = ORIGIN_CODE["computed"]
#: Names asked per request (the service's limit is GETSTAR_MAX_NAMES, 2,000 by default).
NAMES_PER_REQUEST = 100


@dataclass
class Stat:
    """Median (bias) and robust scatter (1.4826 x MAD) of a relative difference."""

    label: str
    n: int
    bias: float
    scatter: float
    median_abs: float
    p95_abs: float

    def row(self) -> str:
        return (f"{self.label:<46} {self.n:5d}  {100 * self.bias:+7.2f} %  {100 * self.scatter:6.2f} %  "
                f"{100 * self.median_abs:6.2f} %  {100 * self.p95_abs:6.2f} %")


HEADER = f"{'sample':<46} {'N':>5}  {'bias':>9}  {'scatter':>8}  {'|d| med':>8}  {'|d| p95':>8}"


def robust(label: str, x: np.ndarray) -> Stat:
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return Stat(label, 0, math.nan, math.nan, math.nan, math.nan)
    med = float(np.median(x))
    return Stat(label, len(x), med, float(1.4826 * np.median(np.abs(x - med))), float(np.median(np.abs(x))),
                float(np.percentile(np.abs(x), 95)))


def _c(name: str) -> str:
    return BY_NAME[name].column


async def jmdc_physics(conn: asyncpg.Connection, schema: str = "live") -> list[Stat]:
    """Our LDD from the snapshot's inputs vs JMDC's measured LDD, per kind of input."""
    from getstar.ingest.diameters import recompute

    ids, res = await recompute(conn, schema, f"{_c('LDD_meas')} IS NOT NULL")
    rows = await conn.fetch(
        f"SELECT star_id, {_c('LDD_meas')} AS meas, {_c('V')}_o AS vo, {_c('K')}_o AS ko, "
        f"{_c('SpType')} IS NOT NULL AS typed FROM {schema}.star WHERE {_c('LDD_meas')} IS NOT NULL")
    by_id = {r["star_id"]: r for r in rows}
    meas = np.array([by_id[i]["meas"] for i in ids], dtype=np.float64)
    ko = np.array([by_id[i]["ko"] if by_id[i]["ko"] is not None else -1 for i in ids])
    vo = np.array([by_id[i]["vo"] if by_id[i]["vo"] is not None else -1 for i in ids])
    typed = np.array([by_id[i]["typed"] for i in ids], dtype=bool)
    catalogue = typed & (vo >= 0) & (vo != COMPUTED) & (ko >= 0) & (ko != COMPUTED)
    r = res["LDD"].value / meas - 1.0
    two = ORIGIN_CODE["II/246/out"]
    return [
        robust("every JMDC star with our LDD", r),
        robust("catalogue V, K and a spectral type", r[catalogue]),
        robust("  K from 2MASS (saturated for bright stars)", r[catalogue & (ko == two)]),
        robust("  K from another catalogue (SIMBAD)", r[catalogue & (ko != two)]),
        robust("estimated V or K, or no spectral type", r[~catalogue]),
        Stat(f"JMDC stars without our LDD: {int(np.sum(np.isnan(res['LDD'].value)))} of {len(ids)}",
             0, math.nan, math.nan, math.nan, math.nan),
    ]


@dataclass
class Calibrator:
    names: list[str]  # HIP n, HD n (asked in this order)
    ldd: float  # SearchCal's LDD (NaN when the answer has none: older method)
    answer: str


def calibrators(shared: Path) -> list[Calibrator]:
    """The stars of the real SearchCal answers that have a HIP or HD number."""
    out = []
    for label, rel in v.ANSWERS.items():
        path = shared / rel
        if not path.is_file():
            continue
        ans = v.read_answer(path)
        ldd = ans.values("LDD")
        for hip, hd, d in zip(ans.strings("HIP"), ans.strings("HD"), ldd, strict=True):
            names = ([f"HIP {hip}"] if hip else []) + ([f"HD {hd}"] if hd else [])
            if names:
                out.append(Calibrator(names, float(d), label))
    return out


def _props(result: dict[str, Any]) -> dict[str, Any]:
    return result.get("properties") or {}


def _has(props: dict[str, Any], name: str) -> bool:
    return props.get(name, {}).get("value") is not None


@dataclass
class ServiceFigures:
    label: str
    asked: int
    answered: int
    share: dict[str, float]  # property -> fraction of the answered carrying it
    ldd_vs_searchcal: Stat | None = None

    def rows(self) -> list[str]:
        shares = "  ".join(f"{k} {100 * x:5.1f} %" for k, x in self.share.items())
        out = [f"{self.label}: {self.answered} of {self.asked} answered; {shares}"]
        if self.ldd_vs_searchcal is not None:
            out += ["  LDD / LDD_SearchCal - 1:  " + HEADER, "  " + " " * 26 + self.ldd_vs_searchcal.row()]
        return out


def _shares(answers: list[dict[str, Any]]) -> dict[str, float]:
    n = max(1, len(answers))
    return {k: sum(_has(a, k) for a in answers) / n for k in ("V", "K", "SpType", "LDD")}


def service_check(url: str, shared: Path, n_random: int = 400, seed: int = 14,
                  timeout: float = 30.0) -> list[ServiceFigures]:
    """Ask a running service about the SearchCal calibrators and random sky positions."""
    out = []
    with httpx.Client(base_url=url, timeout=timeout) as client:
        cals = calibrators(shared)
        found: dict[int, dict[str, Any]] = {}
        for pass_ in range(2):  # HIP n first, then HD n for those HIP does not resolve
            todo = [(k, cal.names[pass_]) for k, cal in enumerate(cals) if k not in found and len(cal.names) > pass_]
            for start in range(0, len(todo), NAMES_PER_REQUEST):
                batch = todo[start:start + NAMES_PER_REQUEST]
                r = client.get("/v1/stars", params=[("name", name) for _, name in batch])
                if r.status_code != 200:
                    continue
                body = r.json()
                for (k, _), res in zip(batch, body.get("results") or [body], strict=False):
                    if res.get("status", "ok") == "ok":
                        found[k] = _props(res)
        answered = list(found.values())
        ours, theirs = [], []
        for k, props in found.items():
            if _has(props, "LDD") and math.isfinite(cals[k].ldd):
                ours.append(float(props["LDD"]["value"]))
                theirs.append(cals[k].ldd)
        ratio = np.array(ours) / np.array(theirs) - 1.0 if ours else np.zeros(0)
        out.append(ServiceFigures("SearchCal calibrators asked by HIP / HD", len(cals), len(answered),
                                  _shares(answered), robust("where SearchCal gives an LDD (ETA_TAU)", ratio)))
        rng = random.Random(seed)
        sky: list[dict[str, Any]] = []
        for _ in range(n_random):
            ra = rng.uniform(0.0, 360.0)
            dec = math.degrees(math.asin(rng.uniform(-1.0, 1.0)))  # uniform on the sphere
            r = client.get("/v1/stars", params={"ra": f"{ra:.5f}", "dec": f"{dec:+.5f}", "radius": "1deg",
                                                "limit": "1"})
            if r.status_code != 200:
                continue
            body = r.json()
            results = body.get("results") or []
            if results:
                sky.append(_props(results[0]))
        out.append(ServiceFigures(f"nearest star to {n_random} random sky positions (within 1 deg)", n_random,
                                  len(sky), _shares(sky)))
    return out


@dataclass
class SpTypeCheck:
    """The spectral type SearchCal's faint approach fits (``SpType_JMMC``) against catalogue types."""

    n: int
    median_abs_subclasses: float
    within_2: float  # share within 2 subclasses
    within_5: float
    ldd: Stat  # LDD with the fitted type / LDD with the catalogue type - 1

    def rows(self) -> list[str]:
        return [f"faint approach's fitted type (centre) vs the catalogue's, {self.n} Hipparcos stars with Gaia "
                f"J, H, K: median |difference| {self.median_abs_subclasses:.1f} subclasses, within 2 subclasses "
                f"{100 * self.within_2:.0f} %, within 5 {100 * self.within_5:.0f} %",
                "  LDD(fitted type) / LDD(catalogue type) - 1: " + self.ldd.row()]


async def sptype_check(conn: asyncpg.Connection, schema: str = "live", limit: int = 20000) -> SpTypeCheck:
    """Hide the catalogue spectral type of Hipparcos stars whose J, H, K are Gaia estimates (so no
    input used the type) and compare the type SearchCal's faint approach fits with it."""
    from getstar.ingest.diameters import _compute, _read_inputs

    where = (f"{_c('HIP')} IS NOT NULL AND {_c('SpType')}_o <> {COMPUTED} AND {_c('SpType')} IS NOT NULL "
             f"AND {_c('K')}_o = {COMPUTED} AND {_c('Bp')} - {_c('Rp')} BETWEEN -0.5 AND 2.5 "
             f"AND {_c('LDD_meas')} IS NULL AND star_id % 5 = 0")
    inp = await _read_inputs(conn, schema, where)
    keep = np.arange(len(inp["star_id"])) < limit
    inp = {k: a[keep] for k, a in inp.items()}
    typed = _compute(inp)
    hidden = dict(inp)
    hidden["sptype"] = np.full(len(inp["star_id"]), None, dtype=object)
    fitted = _compute(hidden)
    cat_idx = typed["color_table_index"]
    fit_idx = fitted["color_table_index_fix"]
    ok = (cat_idx.confidence > 0) & (typed["color_table_delta"].value <= 4) & (fit_idx.confidence > 0)
    diff = np.abs(fit_idx.value[ok].astype(np.float64) - cat_idx.value[ok]) / 4.0  # 4 table lines a subclass
    ldd = fitted["LDD"].value[ok] / typed["LDD"].value[ok] - 1.0
    return SpTypeCheck(int(ok.sum()), float(np.median(diff)) if len(diff) else math.nan,
                       float(np.mean(diff <= 2)) if len(diff) else math.nan,
                       float(np.mean(diff <= 5)) if len(diff) else math.nan,
                       robust("same stars", ldd))

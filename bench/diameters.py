"""getstar.astro: agreement with SearchCal on its own inputs, and throughput for 500,000 stars.

Prints
  1. per SearchCal answer in ../shared and per method (2017 = SearchCal server v5.1.0, current =
     SearchCal 2025): N, median / 95th percentile / max of |ours / SearchCal - 1| for LDD,
     e_LDD, chi2, Teff, logg, UD_U..UD_N, and CalFlag; for the 2011 answers (another method)
     our LDD and diam_vk against their diam_vk;
  2. GetStar's 2020 JMDC run: spectral-type keys;
  3. SearchCal's own regression set (in ``alxAngularDiameter.c``), when the SearchCal mirror
     is on this machine (``--searchcal-repo``);
  4. estimated magnitudes against hidden catalogue values;
  5. throughput: stars per second for 500,000 stars made of real inputs (the answers' rows,
     resampled with 0.01 mag noise), in three mixes, with a numpy baseline measured in the same
     run (the machine is shared: compare ratios, not seconds).

    .venv/bin/python bench/diameters.py [--stars 500000] [--skip-throughput]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from getstar.astro import Band, compute_stars  # noqa: E402
from getstar.astro import validate as v  # noqa: E402

SHARED = Path(__file__).resolve().parents[2] / "shared"
MIRROR = Path("/work/.mirror/JMMC-OpenDev+SearchCal/repo")


def real_rows() -> dict[str, np.ndarray]:
    """SpType, V, J, H, K and errors of every row of the answers (the pool the stars are drawn from)."""
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("sp", "V", "J", "H", "K", "eV", "eJ", "eH", "eK")}
    for rel in v.ANSWERS.values():
        ans = v.read_answer(SHARED / rel)
        cols["sp"].append(np.array(ans.strings("SpType"), dtype=object))
        for b in "VJHK":
            cols[b].append(ans.values(b))
            cols[f"e{b}"].append(ans.values(f"e_{b}"))
    pool = {k: np.concatenate(x) for k, x in cols.items()}
    keep = ~np.isnan(pool["V"]) & ~np.isnan(pool["J"]) & ~np.isnan(pool["H"]) & ~np.isnan(pool["K"])
    return {k: x[keep] for k, x in pool.items()}


def make_stars(pool: dict[str, np.ndarray], n: int, typed: float, estimated_jhk: bool,
               rng: np.random.Generator) -> tuple[np.ndarray, dict[str, Band]]:
    pick = rng.integers(0, len(pool["V"]), n)
    sp = pool["sp"][pick].copy()
    sp[rng.random(n) >= typed] = None
    bands = {}
    for b in "VJHK":
        err = np.where(np.isnan(pool[f"e{b}"][pick]), 0.03, pool[f"e{b}"][pick])
        est = np.full(n, estimated_jhk and b != "V")
        bands[b] = Band(pool[b][pick] + rng.normal(0.0, 0.01, n), np.where(est, 0.1, err), estimated=est)
    return sp, bands


def numpy_baseline(n: int) -> float:
    """Million float64 element-operations per second of plain numpy on this machine, now."""
    a, b, c = (np.random.default_rng(0).random(n) for _ in range(3))
    start = time.perf_counter()
    reps = 40
    for _ in range(reps):
        _ = a * b + c  # two operations
    return 2 * reps * n / (time.perf_counter() - start) / 1e6


def throughput(n: int) -> list[str]:
    rng = np.random.default_rng(1)
    pool = real_rows()
    mixes = [
        ("all typed, catalogue V J H K", 1.0, False),
        ("getstar-like: 25 % typed, J H K estimated", 0.25, True),
        ("none typed, catalogue V J H K (exact faint scan)", 0.0, False),
    ]
    lines = ["", f"Throughput, {n} stars drawn from {len(pool['V'])} real rows"]
    for label, typed, est in mixes:
        sp, bands = make_stars(pool, n, typed, est, rng)
        base = numpy_baseline(n)
        start = time.perf_counter()
        res = compute_stars(sp, bands)
        dt = time.perf_counter() - start
        ldd = np.sum(~np.isnan(res["LDD"].value))
        lines.append(f"  {label:<48} {dt:6.1f} s  {n / dt:9.0f} stars/s  LDD for {ldd / n:6.1%}  "
                     f"({n / dt / base:6.0f} stars per numpy-Mop; numpy now {base:5.0f} Mop/s)")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--stars", type=int, default=500_000)
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--searchcal-repo", type=Path, default=MIRROR, help="bare git mirror of JMMC-OpenDev/SearchCal")
    args = ap.parse_args()
    print("\n".join(v.searchcal_tables(SHARED)))
    print("\n".join(v.jmdc_tables(SHARED)))
    if args.searchcal_repo.is_dir():
        src = subprocess.run(["git", "-C", str(args.searchcal_repo), "show",
                              "HEAD:SearchCal/alx/src/alxAngularDiameter.c"], capture_output=True, text=True,
                             timeout=60).stdout
        print("\n".join(v.regression_table(src)))
    print("\n".join(v.magnitude_tables(SHARED)))
    if not args.skip_throughput:
        print("\n".join(throughput(args.stars)))


if __name__ == "__main__":
    main()

"""Names per second of the name normaliser (``getstar.names``) against the one before issue 15.

The old normaliser is frozen in ``bench/baseline_names.py``; both run in the same process on
the same inputs, interleaved, best of ``--repeat`` runs each, so the ratio does not depend on
how busy the machine is.  Inputs: the 280,435 SIMBAD identifiers of the bright stars
(``shared/data/simbad_bsc``), as the ingest normalises them (``ident_key``), and the ways
people type them (``query_keys``: every identifier re-spelled: lower case, spelled-out Greek,
superscripts, hyphens, Unicode minus and degree signs, accents).  Target: ratio >= 1.0.

    .venv/bin/python bench/names.py [--repeat 5] [--limit N]
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import baseline_names as before  # noqa: E402
from getstar import names as after  # noqa: E402

IDS = ROOT.parent / "shared" / "data" / "simbad_bsc" / "simbad_bsc_ids.tsv"


def identifiers(limit: int | None) -> list[str]:
    with IDS.open(encoding="utf-8") as fh:
        next(fh)
        ids = [line.rstrip("\n").split("\t")[2] for line in fh]
    return ids[:limit] if limit else ids


def typed(ids: Sequence[str]) -> list[str]:
    """The identifiers as people type them (one spelling per identifier, cycling the styles)."""
    from bench.names_report import respell

    out = []
    for k, identifier in enumerate(ids):
        spellings = respell(identifier)
        out.append(spellings[k % len(spellings)][1] if spellings else identifier.lower())
    return out


def best_rate(fn: Callable[[str], object], inputs: Sequence[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for text in inputs:
            fn(text)
        best = min(best, time.perf_counter() - start)
    return len(inputs) / best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--limit", type=int, default=None, help="first N identifiers only")
    args = parser.parse_args()
    if not IDS.exists():
        print(f"needs {IDS}", file=sys.stderr)
        return 2
    ids = identifiers(args.limit)
    spelled = typed(ids)
    print(f"{len(ids):,} SIMBAD identifiers, {len(spelled):,} typed spellings; best of {args.repeat}")
    print(f"{'function':12s} {'inputs':10s} {'before /s':>12s} {'after /s':>12s} {'ratio':>7s}")
    worst = float("inf")
    for name, inputs, label in (("canonical", ids, "SIMBAD"), ("ident_key", ids, "SIMBAD"),
                                ("query_keys", ids, "SIMBAD"), ("query_keys", spelled, "typed")):
        rates = {}
        for _ in range(2):  # interleaved: before, after, before, after
            for side, module in (("before", before), ("after", after)):
                rate = best_rate(getattr(module, name), inputs, max(1, args.repeat // 2))
                rates[side] = max(rates.get(side, 0.0), rate)
        ratio = rates["after"] / rates["before"]
        worst = min(worst, ratio)
        print(f"{name:12s} {label:10s} {rates['before']:12,.0f} {rates['after']:12,.0f} {ratio:7.2f}")
    hits_before = sum(before.ident_key(i) in before.query_keys(t) for i, t in zip(ids, spelled, strict=True))
    hits_after = sum(after.ident_key(i) in after.query_keys(t) for i, t in zip(ids, spelled, strict=True))
    print(f"typed spellings meeting their identifier's key: before {hits_before / len(ids):.1%}, "
          f"after {hits_after / len(ids):.1%}")
    print(f"worst ratio {worst:.2f} (target >= 1.0)")
    return 0 if worst >= 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())

"""Hit/miss/error counters per cache level, read by /health and /metrics."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class CacheStats:
    counts: Counter[str] = field(default_factory=Counter)

    def hit(self, level: str) -> None:
        self.counts[f"{level}_hits"] += 1

    def miss(self, level: str) -> None:
        self.counts[f"{level}_misses"] += 1

    def error(self, level: str) -> None:
        self.counts[f"{level}_errors"] += 1

    def ratio(self, level: str) -> float | None:
        hits, misses = self.counts[f"{level}_hits"], self.counts[f"{level}_misses"]
        return hits / (hits + misses) if hits + misses else None

    def snapshot(self) -> dict[str, float | int | None]:
        out: dict[str, float | int | None] = dict(self.counts)
        for level in ("memory", "redis"):
            out[f"{level}_hit_ratio"] = self.ratio(level)
        return out

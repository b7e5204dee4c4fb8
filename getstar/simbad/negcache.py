"""Names SIMBAD does not know, remembered for a while (a negative cache).

Why: a typo asked again and again must not cost a SIMBAD query each time.  ``NegativeCache``
is the interface (async, so the caching layer can back it with Redis and share it across
workers); ``MemoryNegativeCache`` is the in-process version, bounded in size.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol


class NegativeCache(Protocol):
    async def contains(self, key: str) -> bool: ...

    async def add(self, key: str) -> None: ...

    async def discard(self, key: str) -> None: ...


class MemoryNegativeCache:
    """Keys with an expiry time; the oldest are dropped beyond ``max_entries``."""

    def __init__(self, ttl: float, max_entries: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._expires: OrderedDict[str, float] = OrderedDict()

    async def contains(self, key: str) -> bool:
        expires = self._expires.get(key)
        if expires is None:
            return False
        if expires <= self.clock():
            del self._expires[key]
            return False
        return True

    async def add(self, key: str) -> None:
        if self.ttl <= 0:
            return
        self._expires.pop(key, None)
        self._expires[key] = self.clock() + self.ttl
        while len(self._expires) > self.max_entries:
            self._expires.popitem(last=False)

    async def discard(self, key: str) -> None:
        self._expires.pop(key, None)

    def __len__(self) -> int:
        return len(self._expires)

"""A bounded, TTL-expiring in-process cache, bounded by entries and by bytes.

aiocache's SimpleMemoryCache has a TTL but no size bound (and pays a coroutine and a
timer handle per entry); the process level must be bounded, and it sits on the hot
path, so this is a plain OrderedDict LRU with lazy expiry: a lookup is one dict access.

Why bytes too: an entry can be a 2,000-star answer of 14 MB, so a count bound alone lets a
few thousand requests fill gigabytes.  Each entry is weighed once, when stored (``weigh``),
and an entry heavier than ``max_item_bytes`` is not kept at all.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

V = TypeVar("V")


class BoundedTTLCache(Generic[V]):
    def __init__(self, max_entries: int, ttl: float, *, max_bytes: int | None = None,
                 weigh: Callable[[V], int] | None = None, max_item_bytes: int | None = None) -> None:
        self.max_entries = max_entries
        self.ttl = ttl
        self.max_bytes = max_bytes
        self.max_item_bytes = max_item_bytes if max_item_bytes is not None else max_bytes
        self._weigh = weigh
        self.bytes = 0
        self._data: OrderedDict[str, tuple[float, V, int]] = OrderedDict()

    def get(self, key: str) -> V | None:
        item = self._data.get(key)
        if item is None:
            return None
        expires, value, _size = item
        if expires < time.monotonic():
            self._drop(key)
            return None
        self._data.move_to_end(key)
        return value

    def set(self, key: str, value: V, ttl: float | None = None) -> bool:
        """Store ``value``; False when it is too heavy to keep (nothing is stored then)."""
        size = self._weigh(value) if self._weigh is not None else 0
        if self.max_item_bytes is not None and size > self.max_item_bytes:
            self._drop(key)
            return False
        self._drop(key)
        self._data[key] = (time.monotonic() + (self.ttl if ttl is None else ttl), value, size)
        self.bytes += size
        while len(self._data) > self.max_entries or (self.max_bytes is not None and self.bytes > self.max_bytes):
            _key, (_expires, _value, old) = self._data.popitem(last=False)
            self.bytes -= old
        return True

    def _drop(self, key: str) -> None:
        item = self._data.pop(key, None)
        if item is not None:
            self.bytes -= item[2]

    def clear(self) -> None:
        self._data.clear()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._data)

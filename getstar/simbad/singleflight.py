"""Single flight: concurrent requests for the same key share one computation.

The first caller for a key becomes its leader and must ``settle`` it; later callers get the
same future.  Callers wait through ``asyncio.shield`` so a client that goes away does not
cancel the shared work the others (and the local store) are waiting for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def _consume(fut: asyncio.Future[Any]) -> None:
    """Mark an exception as retrieved: a leader nobody waits for any more must not log noise."""
    if not fut.cancelled():
        fut.exception()


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._pending: dict[Hashable, asyncio.Future[T]] = {}

    def join(self, key: Hashable) -> tuple[asyncio.Future[T], bool]:
        """The key's shared future, and True when the caller is its leader."""
        fut = self._pending.get(key)
        if fut is not None:
            return fut, False
        fut = asyncio.get_running_loop().create_future()
        fut.add_done_callback(_consume)
        self._pending[key] = fut
        return fut, True

    def settle(self, key: Hashable, result: T | None = None, error: BaseException | None = None) -> None:
        fut = self._pending.pop(key, None)
        if fut is None or fut.done():
            return
        if error is not None:
            fut.set_exception(error)
        else:
            fut.set_result(result)  # type: ignore[arg-type]

    @staticmethod
    async def wait(fut: asyncio.Future[T]) -> T:
        return await asyncio.shield(fut)

    def __len__(self) -> int:
        return len(self._pending)

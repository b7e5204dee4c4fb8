"""Single flight: concurrent callers for the same key share one computation (no stampede)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class SingleFlight(Generic[T]):
    def __init__(self) -> None:
        self._inflight: dict[str, asyncio.Future[T]] = {}
        self.shared = 0  # callers that waited on another's computation

    async def run(self, key: str, compute: Callable[[], Awaitable[T]]) -> T:
        future = self._inflight.get(key)
        if future is not None:
            self.shared += 1
            try:
                return await asyncio.shield(future)
            except Exception as exc:
                if not getattr(exc, "caller_only", False):
                    raise
            # the computing caller was refused for itself (``caller_only``: its own share of a
            # resource used up), not for the answer: this caller asks on its own behalf
            return await self.run(key, compute)
        future = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await compute()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waited
            raise
        else:
            future.set_result(result)
            return result
        finally:
            del self._inflight[key]

"""Upload bodies: read whole within a size limit, a deadline and the worker's upload budget."""

from __future__ import annotations

import asyncio

from starlette.requests import ClientDisconnect, Request

from getstar.errors import ClientGone, PayloadTooLarge, RequestTimeout, ServiceUnavailable, UnsupportedMediaType
from getstar.offload import LaneShareExceeded, current_client
from getstar.wholenumbers import whole_number

__all__ = ["UploadBudget", "read_limited"]


class UploadBudget:
    """Bytes of request bodies this worker holds before their batch runs, in all and by client.

    Why: a body is read before the batch slot is taken (a client sending one byte every few
    seconds must not hold the slot everyone waits for), so what bounds memory meanwhile is
    this total: over it, a new upload is 503 with Retry-After at once.  And one client (its
    address, ``offload.client_share``) holds at most ``per_client`` of it: four uploads of
    32 MiB from one address, each kept just short of its end, held the whole budget and every
    other client's upload was refused for 90 s.
    """

    def __init__(self, max_bytes: int, per_client: int | None = None) -> None:
        self.max_bytes = max_bytes
        self.per_client = max_bytes if per_client is None else per_client
        self.held = 0
        self.by_client: dict[str, int] = {}

    def take(self, n: int) -> None:
        if self.held + n > self.max_bytes:
            raise ServiceUnavailable("the service is receiving too many uploads at once: try again shortly",
                                     retry_after=5)
        client = current_client()
        if client is not None:
            mine = self.by_client.get(client, 0) + n
            if mine > self.per_client:
                raise LaneShareExceeded(f"your uploads being received hold {self.per_client} bytes already: send "
                                        "them one after another", retry_after=5)
            self.by_client[client] = mine
        self.held += n

    def give(self, n: int) -> None:
        self.held = max(0, self.held - n)
        client = current_client()
        if client is not None and client in self.by_client:
            left = self.by_client.pop(client) - n
            if left > 0:
                self.by_client[client] = left


async def read_limited(request: Request, max_bytes: int, budget: UploadBudget | None = None,
                       deadline: float | None = None) -> bytes:
    """The request body, refused (413) as soon as it is larger than ``max_bytes``; counted in
    ``budget`` while held (the caller gives it back); the whole body within ``deadline``
    seconds (408 beyond); a client that goes away meanwhile is ``ClientGone`` (not a server error)."""
    coding = request.headers.get("content-encoding", "").strip().lower()
    if coding not in ("", "identity"):
        raise UnsupportedMediaType(f"cannot read a body with Content-Encoding {coding[:40]!r}: send it uncompressed")
    declared = whole_number(request.headers.get("content-length", ""))
    limit = f"the body is larger than the limit of {max_bytes} bytes (split the list into several requests)"
    if declared is not None and declared > max_bytes:
        raise PayloadTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(deadline):
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLarge(limit)
                if budget is not None:
                    budget.take(len(chunk))
                chunks.append(chunk)
    except ClientDisconnect:
        if budget is not None:
            budget.give(size)
        raise ClientGone("the client closed the connection while sending the body") from None
    except TimeoutError:
        if budget is not None:
            budget.give(size)
        raise RequestTimeout(f"the body did not arrive within {deadline:.0f} s") from None
    except BaseException:
        if budget is not None:
            budget.give(sum(len(c) for c in chunks))
        raise
    return b"".join(chunks)

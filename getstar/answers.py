"""What every endpoint's answer needs: the request's Meta, rendering off the event loop when big,
and the answer served but never cached."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

from starlette.requests import Request

from getstar import __version__
from getstar.formats import Meta, render
from getstar.formats.model import Answer
from getstar.httpcache import canonical_query
from getstar.offload import admitted, off_loop_or_busy
from getstar.resolver import COALESCED_CONE_RADIUS, ConeQuery, Resolver
from getstar.state import get_state

#: Answers with more stars than this are rendered in the CPU lane (``getstar.offload``): a
#: 2,000-star document takes a few hundred milliseconds, which cached answers must not wait for.
RENDER_INLINE_MAX = 20
#: Cones of this radius or less (degrees) are small whatever their limit: the snapshot holds a
#: few stars in an arcminute (the coalesced cones' radius).
SMALL_CONE_RADIUS = COALESCED_CONE_RADIUS
#: Cones searching wider than this (degrees) cost the database enough to wait for admission
#: whatever their limit: a quarter of a degree, or an epoch about 80 years from J2000.
WIDE_SEARCH_RADIUS = 0.25


async def render_off_loop(fmt: str, answers: list[Answer], meta: Meta) -> tuple[bytes, str]:
    """``render``, in a thread when the answer is big (the event loop keeps serving meanwhile)."""
    if len(answers) <= RENDER_INLINE_MAX:
        return render(fmt, answers, meta)
    return await off_loop_or_busy(render, fmt, answers, meta)


def is_big_cone(query: ConeQuery) -> bool:
    """Many stars (more than ``RENDER_INLINE_MAX`` asked for beyond ``SMALL_CONE_RADIUS``: their rows
    and document), or a wide search for the database (beyond ``WIDE_SEARCH_RADIUS``, an epoch's
    proper-motion margin included: 800 parallel cones of a degree, limit 20, took every database
    connection and small cones waited past its timeout)."""
    return (query.limit > RENDER_INLINE_MAX and query.radius_deg > SMALL_CONE_RADIUS) \
        or query.radius_deg + query.margin_deg > WIDE_SEARCH_RADIUS


@contextlib.asynccontextmanager
async def cone_admitted(resolver: Resolver, query: ConeQuery) -> AsyncIterator[list[Answer]]:
    """The cone's answers, held (with their rendering, in the ``with`` block) inside ``admitted``
    when ``is_big_cone``: decided before the database.  A limit alone does not make a cone big
    (an SCS MAXREC is 10,000 for a cone of three stars: treated as big, a client's fifth parallel
    cone of 36" was refused).  Nor does a first fetch tell, as it did for a while: 800 wide cones
    fetching at once took every database connection, and small cones waited past its timeout."""
    if not is_big_cone(query):
        yield await resolver.cone(query)
        return
    async with admitted(True):
        yield await resolver.cone(query)


async def make_meta(request: Request) -> Meta:
    """Service and snapshot versions, the answer-defining query, the time of the request."""
    state = get_state(request)
    return Meta(service_version=__version__, snapshot_version=state.snapshot,
                query=canonical_query(request), request_time=datetime.now(UTC))


def until(wait: int | None) -> float:
    """``CachedAnswer.retry_at`` for an answer to ask SIMBAD again about in ``wait`` seconds (0: never)."""
    return 0.0 if wait is None else time.time() + wait


def seconds_until_retry(answers: Sequence[Answer]) -> int | None:
    """Seconds until SIMBAD may be asked about the names it could not be asked about now."""
    waits = [getattr(a.error, "retry_after", None) or 1.0 for a in answers if a.error is not None]
    return max(1, round(max(waits))) if waits else None

"""The database floor of ``bench/resolve.py``: what any answer read from PostgreSQL costs at least.

One starlette route that looks the request's query string up in a narrow table of ready answers
(``bench_floor.answer``: key text, body bytea, filled by ``bench/resolve.py`` with the baseline's
document for every request of the mix) and sends the body as it is.  It reads through getstar's
own pool settings and lookup coalescer (``getstar.coalesce``), so it pays for the connection,
the statement and PostgreSQL, and for nothing getstar adds: no parsing of names or positions,
no wide star row, no rendering, no caches, no negotiation.

Why: the cold target (``GET /v1/stars`` answered from the database at ≥ 50 % of the bare
endpoint's requests/s) is measured on a machine where the benchmark's client, PostgreSQL and
the service share two cores.  This line shows how much of that the database round trip alone
leaves, measured in the same run.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from getstar.coalesce import LookupCoalescer
from getstar.config import Settings
from getstar.db import create_pool

SCHEMA = "bench_floor"
LOOKUP_SQL = f"""
SELECT q.qi, a.body FROM unnest($1::int[], $2::text[]) AS q(qi, key)
JOIN {SCHEMA}.answer a ON a.key = q.key
"""


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    settings = Settings.from_env()
    pool = await create_pool(os.environ["GETSTAR_DATABASE_URL"], settings)
    app.state.lookups = LookupCoalescer(pool, LOOKUP_SQL, "floor", acquire_timeout=settings.db_acquire_timeout,
                                        max_inflight=max(1, settings.lookup_inflight))
    try:
        yield
    finally:
        await pool.close()


async def star(request: Request) -> Response:
    rows = await request.app.state.lookups.lookup([0], [request.url.query])
    if not rows:
        return Response(b'{"error":"not in the floor table"}', status_code=404, media_type="application/json")
    return Response(rows[0][0]["body"], media_type="application/json")


app = Starlette(routes=[Route("/v1/stars", star)], lifespan=lifespan)

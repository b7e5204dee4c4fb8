"""The bare baseline of SPEC §5: one starlette route answering with orjson.

To compare like with like, it serialises (per request, with orjson) a document of the
same shape and size as getstar's JSON answer for one star (130 properties with value,
origin and confidence, ~7 KB): the baseline does the JSON and HTTP work of an answer,
without the resolving, caching and negotiation that getstar adds.
"""

from __future__ import annotations

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from getstar.properties import PROPERTIES

DOC = {
    "service": {"name": "getstar", "version": "0.0"},
    "snapshot": "baseline",
    "results": [{
        "query": "Sirius", "status": "ok", "main_id": "* alf CMa",
        "identifiers": [f"ID {i}" for i in range(60)],
        "properties": {p.name: {"value": 1.2345678, "origin": p.origin, "confidence": "HIGH"} for p in PROPERTIES},
    }],
}


async def star(request: Request) -> Response:
    return Response(orjson.dumps(DOC), media_type="application/json")


app = Starlette(routes=[Route("/v1/stars", star)])

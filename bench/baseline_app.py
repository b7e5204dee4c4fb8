"""The bare baseline of SPEC §5: one starlette route answering a fixed JSON body with orjson."""

from __future__ import annotations

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

BODY = orjson.dumps({"query": "Sirius", "status": "ok", "main_id": "* alf CMa",
                     "properties": {"V": {"value": -1.46, "origin": "SIMBAD", "confidence": "HIGH"}}})


async def star(request: Request) -> Response:
    return Response(BODY, media_type="application/json")


app = Starlette(routes=[Route("/v1/stars", star)])

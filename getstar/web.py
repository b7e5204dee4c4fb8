"""The web page: ``/`` serves ``static/index.html`` with the property catalogue inlined, and
``/static`` the page's script and style (plain files shipped in the package: no build step).

The catalogue (sections, units, descriptions) is inlined so the page shows the same
sections as ``getstar resolve`` without a second request and without a copy in JavaScript;
the footer links to the TAP service (``GETSTAR_TAP_URL``, served by ``getstar tap serve``).
"""

from __future__ import annotations

import functools
from html import escape
from pathlib import Path

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from getstar.catalogue_view import catalogue

STATIC_DIR = Path(__file__).resolve().parent / "static"


@functools.cache
def page(tap_url: str = "") -> bytes:
    """index.html with the catalogue JSON in place of ``__CATALOGUE__`` and the TAP service's URL
    in place of ``__TAP_URL__`` (built once per process)."""
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    data = orjson.dumps(catalogue()).decode().replace("</", "<\\/")  # cannot close the <script> early
    return html.replace("__CATALOGUE__", data).replace("__TAP_URL__", escape(tap_url, quote=True)).encode("utf-8")


async def index(request: Request) -> Response:
    tap_url = request.app.state.getstar.settings.tap_root_url + "/tap"
    return Response(page(tap_url), media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"})


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)

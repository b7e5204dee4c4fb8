"""The web page: ``/`` serves ``static/index.html`` with the property catalogue inlined, and
``/static`` the page's script and style (plain files shipped in the package: no build step).

The catalogue (sections, units, descriptions) is inlined so the page shows the same
sections as ``getstar resolve`` without a second request and without a copy in JavaScript.
"""

from __future__ import annotations

import functools
from pathlib import Path

import orjson
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from getstar.catalogue_view import catalogue

STATIC_DIR = Path(__file__).resolve().parent / "static"


@functools.cache
def page() -> bytes:
    """index.html with the catalogue JSON in place of ``__CATALOGUE__`` (built once per process)."""
    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    data = orjson.dumps(catalogue()).decode().replace("</", "<\\/")  # cannot close the <script> early
    return html.replace("__CATALOGUE__", data).encode("utf-8")


#: The page runs its own script and style only (no inline code, no third party), talks to this
#: service only, and may not be framed (clickjacking).
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


async def index(request: Request) -> Response:
    return Response(page(), media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)


async def tap_service(request: Request) -> Response:
    """``/tap``: the page's link to the TAP service (GAVO DaCHS at ``GETSTAR_TAP_URL``, run by
    ``getstar tap serve``), so that the static page needs no templating."""
    return RedirectResponse(request.app.state.getstar.settings.tap_root_url + "/tap", status_code=307)

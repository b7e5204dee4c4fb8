"""The web page: ``/`` serves ``static/index.html`` with the property catalogue inlined, and
``/static`` the page's script and style (plain files shipped in the package: no build step).

The catalogue (sections, units, descriptions) is inlined so the page shows the same
sections as ``getstar resolve`` without a second request and without a copy in JavaScript.
"""

from __future__ import annotations

import functools
from html import escape
from pathlib import Path

import orjson
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from getstar.catalogue_view import catalogue
from getstar.state import get_state

STATIC_DIR = Path(__file__).resolve().parent / "static"


@functools.cache
def page() -> bytes:
    """index.html with the catalogue JSON in place of ``__CATALOGUE__`` (built once per process)."""
    from getstar import __version__

    html = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    data = orjson.dumps(catalogue()).decode().replace("</", "<\\/")  # cannot close the <script> early
    return html.replace("__CATALOGUE__", data).replace("__VERSION__", escape(__version__)).encode("utf-8")


#: SAMP's Web Profile hub (IVOA SAMP 1.3 §5.2: always this address): the page's SAMP buttons talk to it.
SAMP_WEB_HUB = "http://localhost:21012"

#: The page runs its own script and style only (no inline code, no third party), talks to this
#: service and to the user's own SAMP hub only, and may not be framed (clickjacking).
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               f"connect-src 'self' {SAMP_WEB_HUB}; form-action 'self'; base-uri 'none'; "
                               "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


#: The stylesheet GetStar-format answers name (``<?xml-stylesheet href="./getstarVOTableToHTML.xsl"?>``):
#: served beside every path that answers VOTable 1.1 (the legacy path at the root, ``/v1/stars``).
STYLESHEET = "getstarVOTableToHTML.xsl"
STYLESHEET_PATHS = ("/" + STYLESHEET, "/v1/" + STYLESHEET)


@functools.cache
def _stylesheet() -> bytes:
    return (STATIC_DIR / STYLESHEET).read_bytes()


async def stylesheet(request: Request) -> Response:
    """The browser view of a GetStar answer (XSLT 1.0, run by the browser)."""
    return Response(_stylesheet(), media_type="text/xsl; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=3600"})


async def index(request: Request) -> Response:
    return Response(page(), media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)


async def tap_service(request: Request) -> Response:
    """``/tap``: the page's link to the TAP service (GAVO DaCHS at ``GETSTAR_TAP_URL``, run by
    ``getstar tap serve``), so that the static page needs no templating."""
    return RedirectResponse(get_state(request).settings.tap_root_url + "/tap", status_code=307)

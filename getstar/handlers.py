"""The one place errors become responses: named errors (``getstar.errors``) and database failures
(503 with Retry-After), each written by the error document of the application that serves the
path (the main one answers in the requested format; /scs in Simple Cone Search's own)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
from starlette.requests import Request
from starlette.responses import Response

from getstar import __version__
from getstar.answers import make_meta
from getstar.errors import ClientGone, GetStarError, ServiceUnavailable
from getstar.formats import Meta, choose_format, render_error

log = logging.getLogger("getstar.app")

#: Writes the error document: (request, error, headers) -> response.
ErrorDocument = Callable[[Request, GetStarError, "dict[str, str] | None"], Awaitable[Response]]

#: What a failing database raises under a request: each becomes a 503 with Retry-After.
DATABASE_ERRORS: tuple[type[BaseException], ...] = (
    OSError, TimeoutError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError, asyncpg.QueryCanceledError,
    asyncpg.CannotConnectNowError, asyncpg.UndefinedTableError, asyncpg.AdminShutdownError,
)


def service_error(exc: BaseException) -> GetStarError:
    """A database failure in our words (the driver's text goes to the log, not to the client)."""
    if isinstance(exc, asyncpg.QueryCanceledError):
        return ServiceUnavailable("the database took too long to answer this request", retry_after=5)
    if isinstance(exc, asyncpg.UndefinedTableError):
        return ServiceUnavailable("no snapshot is loaded yet", retry_after=30)
    if isinstance(exc, TimeoutError):
        return ServiceUnavailable("the service is busy: no database connection was free in time", retry_after=2)
    return ServiceUnavailable("the database is not reachable", retry_after=5)


def _error_format(request: Request) -> str:
    """The format the client asked for, or JSON when that itself is what was wrong."""
    try:
        return choose_format(request.query_params.get("format"), request.headers.get("accept"), "json")
    except GetStarError:
        return "json"


async def format_error_document(request: Request, exc: GetStarError, headers: dict[str, str] | None) -> Response:
    """The error in the format the request asked for (JSON, VOTable, CSV...)."""
    try:
        meta = await make_meta(request)
    except Exception:  # noqa: BLE001 - the error page must not fail because the database did
        meta = Meta(__version__, "", request.url.query, datetime.now(UTC))
    body, media_type = render_error(_error_format(request), exc, meta)
    return Response(body, status_code=exc.status_code, headers=headers, media_type=media_type)


def exception_handlers(document: ErrorDocument = format_error_document) -> dict[Any, Any]:
    """Starlette's handler table: named errors and database failures, written by ``document``."""

    async def on_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, GetStarError)
        if isinstance(exc, ClientGone):
            return Response(status_code=exc.status_code)  # nobody reads it: the status is for logs and metrics
        headers = {"Retry-After": str(max(1, round(exc.retry_after)))} if exc.retry_after else None
        return await document(request, exc, headers)

    async def on_database_error(request: Request, exc: Exception) -> Response:
        log.warning("database failure under %s: %s: %s", request.url.path, type(exc).__name__, str(exc)[:300])
        return await on_error(request, service_error(exc))

    handlers: dict[Any, Any] = {GetStarError: on_error}
    handlers.update(dict.fromkeys(DATABASE_ERRORS, on_database_error))
    return handlers

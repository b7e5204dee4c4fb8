"""The service's named errors. Each carries the HTTP status it maps to.

Every module raises these; the web layer turns them into a response in the
requested format in exactly one place (``getstar.app``).
"""

from __future__ import annotations


class GetStarError(Exception):
    """Base of every error getstar raises on purpose."""

    status_code = 500
    title = "Internal error"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class BadRequest(GetStarError):
    """The client sent something we cannot understand (400)."""

    status_code = 400
    title = "Bad request"


class NotFound(GetStarError):
    """The requested star (or resource) is not known (404)."""

    status_code = 404
    title = "Not found"


class NotAcceptable(GetStarError):
    """No output format the client accepts (406)."""

    status_code = 406
    title = "Not acceptable"


class RequestTimeout(GetStarError):
    """The request body did not arrive in the time the service allows."""

    status_code = 408


class PayloadTooLarge(GetStarError):
    """The request body or row count is over a configured limit (413)."""

    status_code = 413
    title = "Payload too large"


class UnsupportedMediaType(GetStarError):
    """The request body has a content type we do not read (415)."""

    status_code = 415
    title = "Unsupported media type"


class ClientGone(GetStarError):
    """The client closed the connection before its request was read (499, nginx's word for it):
    nothing can be answered, and it is not a server error."""

    status_code = 499
    title = "Client closed request"


class ServiceUnavailable(GetStarError):
    """A dependency (database, SIMBAD) cannot answer now (503)."""

    status_code = 503
    title = "Service unavailable"


class UpstreamTimeout(GetStarError):
    """A dependency did not answer in time (504)."""

    status_code = 504
    title = "Gateway timeout"


class IngestError(GetStarError):
    """A catalogue file cannot be loaded: names the file, the row and why."""

    def __init__(self, path: str, row: int | None, reason: str) -> None:
        where = f"{path}, row {row}" if row is not None else path
        super().__init__(f"{where}: {reason}")
        self.path = path
        self.row = row
        self.reason = reason

    def __reduce__(self) -> tuple[type[IngestError], tuple[str, int | None, str]]:
        # pickled as made (a load runs in a worker process: its error comes back this way)
        return (IngestError, (self.path, self.row, self.reason))


class EmbeddedDatabaseError(GetStarError):
    """The embedded PostgreSQL cluster cannot be created or started."""


class TapSetupError(GetStarError):
    """The TAP service (GAVO DaCHS) cannot be set up or started: says what is missing."""


class StarNotFound(NotFound):
    """A single queried name is unknown; carries close names to suggest.

    ``note`` and ``retry_after``: the snapshot lacks it and SIMBAD could not be asked now
    (not found for now: ask again after ``retry_after`` seconds)."""

    def __init__(self, name: str, suggestions: list[str] | None = None, *, note: str | None = None,
                 retry_after: float | None = None) -> None:
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        message = note + hint if note else f"star {name!r} not found{hint}"
        super().__init__(message, retry_after=retry_after)
        self.name = name
        self.suggestions = suggestions or []


class AmbiguousName(GetStarError):
    """A single queried name matches several stars (409 with the candidates)."""

    status_code = 409
    title = "Ambiguous name"

    def __init__(self, name: str, candidates: list[str]) -> None:
        super().__init__(f"{name!r} matches {len(candidates)} stars: {', '.join(candidates[:10])}")
        self.candidates = candidates


class UpstreamRefused(ServiceUnavailable):
    """SIMBAD refused the query itself (an ADQL error, an incomplete answer): asking again
    the same way will not help (503 to clients, like any SIMBAD failure)."""


class UploadTooLarge(UpstreamRefused):
    """The TAP service refuses an upload this large (HTTP 413): a smaller one may pass."""

"""Python client for the getstar star resolver.

    from getstar_client import Client
    with Client("http://127.0.0.1:8000") as gs:
        sirius = gs.resolve("Sirius")[0]            # dict: main_id, identifiers, properties
        near = gs.cone(101.287, -16.716, radius=60)  # arcsec
        matches = gs.xmatch([{"name": "Vega"}, {"ra": 279.2347, "dec": 38.7837}], table=True)
"""

from __future__ import annotations

from getstar_client.client import DEFAULT_URL, AsyncClient, Client
from getstar_client.errors import Ambiguous, BadRequest, GetStarError, NotFound, Unavailable, Unreachable

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_URL",
    "Ambiguous",
    "AsyncClient",
    "BadRequest",
    "Client",
    "GetStarError",
    "NotFound",
    "Unavailable",
    "Unreachable",
    "__version__",
]

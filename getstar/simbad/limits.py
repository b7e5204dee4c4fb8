"""How much one TAP query may upload and return, and how often SIMBAD may be asked.

SIMBAD's own figures (the defaults when a service's capabilities cannot be read):

- Upload: 200,000 rows per uploaded table, and answers of at most 2,000,000 rows.  These are
  the ``uploadLimit`` and ``outputLimit`` (hard) of SIMBAD's TAP capabilities
  (https://simbad.cds.unistra.fr/simbad/sim-tap/capabilities), the values astroquery's SIMBAD
  module reads there (``SimbadClass.uploadlimit``/``hardlimit``) and pins in its tests
  (astropy/astroquery ``astroquery/simbad/tests/test_simbad.py``: ``uploadlimit`` 200000,
  ``hardlimit`` 2000000).
- Rate: "SIMBAD suggests submitting no more than 6 queries per second; if you submit more
  than that, your IP may be temporarily blacklisted" (astroquery ``SimbadClass`` docstring,
  citing https://simbad.cds.unistra.fr/guide/sim-url.htx); astroquery's documentation:
  "more than ~5-10 queries per second you will be blacklisted for up to an hour ... There is
  always a way to send the information in a bigger query rather than in a lot of smaller
  ones" (``docs/simbad/simbad.rst``).  getstar stays at ``GETSTAR_SIMBAD_RATE`` (5/s), one
  budget shared through Redis by the service and the bulk tools, one query at a time.

``read_limits`` asks the service itself (VOSI capabilities, read with pyvo): a service may
state its upload limit in rows (SIMBAD) or bytes (DaCHS: 20 MB), and its output limit;
whatever it states wins over SIMBAD's figures.
"""

from __future__ import annotations

import io
import logging
import warnings
from dataclasses import dataclass, replace
from typing import Any

from getstar.errors import GetStarError
from getstar.simbad.client import TapClient

log = logging.getLogger("getstar.simbad")


@dataclass(frozen=True)
class TapLimits:
    """Upload and answer limits of one TAP service; None: not stated."""

    upload_rows: int | None
    upload_bytes: int | None
    output_rows: int
    source: str


#: SIMBAD's documented limits (see the module docstring).
SIMBAD_LIMITS = TapLimits(upload_rows=200_000, upload_bytes=None, output_rows=2_000_000,
                          source="SIMBAD's documented limits")


def capabilities_url(sync_url: str) -> str:
    """The VOSI capabilities beside a TAP ``…/sync`` endpoint."""
    base = sync_url.rstrip("/")
    if base.endswith("/sync"):
        base = base[: -len("/sync")]
    return base + "/capabilities"


def _limit(limits: Any) -> tuple[int, str] | None:
    hard = getattr(limits, "hard", None) if limits is not None else None
    if hard is None or getattr(hard, "content", None) in (None, ""):
        return None
    return int(hard.content), str(getattr(hard, "unit", "row") or "row").lower()


def limits_from_capabilities(content: bytes, default: TapLimits = SIMBAD_LIMITS) -> TapLimits:
    """The TAP capability's hard upload and output limits, ``default``'s where not stated."""
    from pyvo.io.vosi import parse_capabilities

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        capabilities = parse_capabilities(io.BytesIO(content))
    tap = next((c for c in capabilities if "ivo://ivoa.net/std/TAP" in str(getattr(c, "standardid", ""))), None)
    if tap is None:
        raise ValueError("no TAP capability in the document")
    out = replace(default, source="the service's capabilities")
    upload = _limit(getattr(tap, "uploadlimit", None))
    if upload is not None:
        value, unit = upload
        out = replace(out, upload_rows=value if unit.startswith("row") else None,
                      upload_bytes=value if unit.startswith("byte") else None)
    output = _limit(getattr(tap, "outputlimit", None))
    if output is not None and output[1].startswith("row"):
        out = replace(out, output_rows=output[0])
    return out


async def read_limits(client: TapClient, default: TapLimits = SIMBAD_LIMITS) -> TapLimits:
    """The service's limits from its capabilities; ``default`` when they cannot be read (logged)."""
    url = capabilities_url(client.url)
    try:
        return limits_from_capabilities(await client.get(url), default)
    except (GetStarError, ValueError, OSError) as exc:
        log.warning("capabilities of %s unreadable (%s): using %s", url, exc, default.source)
    except Exception as exc:  # noqa: BLE001 - pyvo/expat parse errors of a broken document
        log.warning("capabilities of %s unreadable (%s: %s): using %s", url, type(exc).__name__, exc, default.source)
    return default

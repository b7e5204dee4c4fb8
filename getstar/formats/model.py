"""What the output writers are given: one ``Answer`` per queried name or position, and ``Meta``.

A star is any ``Mapping[str, Any]`` (an asyncpg ``Record`` or a ``dict``) holding ``star_id``,
``main_id`` and, per stored property, the SQL columns ``prop.column`` (value), ``+ '_e'``
(error), ``+ '_o'`` (origin code, index into ``ORIGINS``) and ``+ '_c'`` (confidence 0..3).
Missing values are ``None`` (or absent keys).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["STATUSES", "Answer", "GetStarParams", "Meta"]

STATUSES = ("ok", "not_found", "ambiguous", "unavailable")


@dataclass(slots=True)
class Answer:
    """The outcome for one queried name or position."""

    #: What the user typed (echoed as ``TARGET_ID``).
    query: str
    #: ``'ok'`` | ``'not_found'`` | ``'ambiguous'`` (``'unavailable'``: no longer produced, a name
    #: SIMBAD cannot be asked about now is ``not_found`` with ``error`` set)
    status: str
    star: Mapping[str, Any] | None = None
    identifiers: list[str] = field(default_factory=list)
    #: Main identifiers of the candidates when ambiguous, or of a system's components.
    candidates: list[str] = field(default_factory=list)
    #: Close names when not found.
    suggestions: list[str] = field(default_factory=list)
    #: Distance from the queried position (position queries only).
    separation_arcsec: float | None = None
    #: Why SIMBAD could not be asked about a name the snapshot lacks (a ServiceUnavailable /
    #: UpstreamTimeout, with retry_after): the answer is ``not_found`` for now, ask again later.
    error: Exception | None = None
    #: The multiple system the queried name designates, when the answer is its primary
    #: component (``candidates`` then holds the components, primary first).
    system: str | None = None
    #: Epoch (Julian year) the star's position was moved to with its proper motion, when asked.
    epoch: float | None = None


@dataclass(slots=True)
class GetStarParams:
    """GetStar's command PARAMs (``sclsvrGETSTAR.cdf``), echoed in the VOTable 1.1 as GetStar does, and
    the request's log (GetStar's ``INFO name="LOG"``).  Defaults are GetStar's defaults over HTTP."""

    #: GetStar's ``objectName``: the names as sent (found or not); empty: the names answered
    object_name: str = ""
    format: str = "vot"
    diagnose: bool = True
    force_update: bool = False
    scenario: bool = False
    #: ``V``, ``e_V``, ``J``, ``e_J``, ``H``, ``e_H``, ``K``, ``e_K``, ``SP_TYPE`` -> the text echoed
    #: (the values used for the one star asked; empty otherwise, as GetStar)
    user: dict[str, str] = field(default_factory=dict)
    #: Lines of the request log (written for one star asked when ``diagnose``, as GetStar)
    log: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Meta:
    """Request-level facts written in document headers."""

    service_version: str
    snapshot_version: str
    #: The request's query string (VOTable DESCRIPTION / INFO, JSON ``request.query``).
    query: str
    #: When this document was computed (cached answers are served as computed: written as such).
    request_time: datetime
    #: GetStar's command PARAMs and log (VOTable 1.1 and TSV); None = GetStar's defaults
    getstar: GetStarParams | None = None

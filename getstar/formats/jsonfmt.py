"""JSON answers (orjson) and RFC 7807 problem documents.

Shape::

    {"service": {"name": "getstar", "version": "0.1.0"},
     "snapshot": "2025-12-01",
     "request": {"query": "name=Sirius"},
     "computed_at": "2025-12-01T10:00:00+00:00",   # when computed: cached answers keep it
     "results": [
       {"query": "Sirius", "status": "ok", "main_id": "* alf CMa",
        "identifiers": ["* alf CMa", "HD 48915", ...],
        "separation_arcsec": 0.12,                      # position queries only
        "epoch": 2024.0,                                 # epoch= given: the position moved there
        "resolved_as": "primary_component",             # a multiple system's name answered by
        "system": "* alf Cen", "candidates": [...],     # its primary (candidates: the components)
        "properties": {"V": {"value": -1.46, "origin": "I/280", "confidence": "HIGH",
                             "error": 0.01},           # "error" only when the property has one and it is set
                       "RAJ2000": {"value": "06 45 08.917200", ...},  # as declared: sexagesimal
                       "RA": {"value": 101.287155, ...}, ...}},
       {"query": "foo", "status": "not_found", "suggestions": ["fo"]},
       {"query": "bar", "status": "ambiguous", "candidates": ["A", "B"]},
       {"query": "baz", "status": "not_found", "suggestions": [],     # not local, SIMBAD down:
        "message": "... SIMBAD could not be asked ...", "retry_after": 30.0}]}  # ask again later

Null policy: a property whose value is unset (None/NaN/empty string) is **omitted** from
``properties`` (most stars have about half of the ~130 properties unset; clients use
``.get``).  Inside a present property, ``origin``/``confidence`` are ``null`` when unknown.
NaN or infinite numbers anywhere are written as ``null`` (orjson's rule).
Origins are catalogue strings (``ORIGINS``), confidences ``NO``/``LOW``/``MEDIUM``/``HIGH``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from getstar.errors import GetStarError
from getstar.formats._common import no_surrogates, readers, utc_iso
from getstar.formats.jsonprops import PropertiesBuilder, properties_builder
from getstar.formats.model import Answer, Meta
from getstar.properties import PROPERTIES, Property

__all__ = ["MEDIA_TYPE", "PROBLEM_MEDIA_TYPE", "answer_dict", "problem_dict", "write_json", "write_problem"]

MEDIA_TYPE = "application/json"
PROBLEM_MEDIA_TYPE = "application/problem+json"

#: Builders by property list (today: the full list, and subsets in tests); each costs a compile
_BUILDERS: dict[Any, PropertiesBuilder] = {}
_MAX_BUILDERS = 16


def _builder(props: Sequence[Property]) -> PropertiesBuilder:
    key: Any = id(props) if props is PROPERTIES else tuple(p.name for p in props)
    build = _BUILDERS.get(key)
    if build is None:
        if len(_BUILDERS) >= _MAX_BUILDERS:  # bounded, should property lists ever come from requests
            _BUILDERS.clear()
        build = _BUILDERS[key] = properties_builder(readers(props))
    return build


def answer_dict(a: Answer, props: Sequence[Property] = PROPERTIES) -> dict[str, Any]:
    """One ``results`` entry."""
    d: dict[str, Any] = {"query": a.query, "status": a.status}
    if a.status == "ok" and a.star is not None:
        star = a.star
        d["main_id"] = star.get("main_id")
        d["identifiers"] = list(a.identifiers)
        if a.separation_arcsec is not None:
            d["separation_arcsec"] = a.separation_arcsec
        if a.epoch is not None:
            d["epoch"] = a.epoch
        if a.system is not None:
            d["resolved_as"] = "primary_component"
            d["system"] = a.system
            d["candidates"] = list(a.candidates)
        d["properties"] = _builder(props)(star, a.query)
    elif a.status == "ambiguous":
        d["candidates"] = list(a.candidates)
    else:
        d["suggestions"] = list(a.suggestions)
        if a.error is not None:
            d["message"] = getattr(a.error, "message", str(a.error))
            if getattr(a.error, "retry_after", None):
                d["retry_after"] = a.error.retry_after  # type: ignore[attr-defined]
    return d


def _default(obj: Any) -> Any:
    """orjson fallback: numpy scalars, Decimal, anything else as text."""
    item = getattr(obj, "item", None)
    if item is not None:
        return item()
    if hasattr(obj, "__float__"):
        return float(obj)
    return str(obj)


def scrub(obj: Any) -> Any:
    """Replace lone surrogates (not encodable as UTF-8) in every string of ``obj``."""
    if isinstance(obj, str):
        return no_surrogates(obj)
    if isinstance(obj, dict):
        return {scrub(k): scrub(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [scrub(v) for v in obj]
    return obj


def dumps(doc: Any) -> bytes:
    try:
        return orjson.dumps(doc, default=_default, option=orjson.OPT_SERIALIZE_NUMPY)
    except orjson.JSONEncodeError:
        return orjson.dumps(scrub(doc), default=_default, option=orjson.OPT_SERIALIZE_NUMPY)


def write_json(
    answers: Sequence[Answer], meta: Meta, *, properties: Sequence[Property] = PROPERTIES
) -> bytes:
    doc = {
        "service": {"name": "getstar", "version": meta.service_version},
        "snapshot": meta.snapshot_version,
        "request": {"query": meta.query},
        # when this document was computed: a cached answer is served as it was computed
        "computed_at": utc_iso(meta.request_time),
    }
    # the results are serialised one by one and spliced in, byte for byte what one dumps of the
    # whole document gives: one call for 2,000 stars holds the interpreter lock ~10 ms per
    # 3 MB, which the event loop (rendering runs in a thread: getstar.offload) would wait for
    results = b",".join(dumps(answer_dict(a, properties)) for a in answers)
    return dumps(doc)[:-1] + b',"results":[' + results + b"]}"


def _kebab(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i:
            out.append("-")
        out.append(ch.lower())
    return "".join(out)


def problem_dict(exc: GetStarError | Exception, meta: Meta | None = None) -> dict[str, Any]:
    """RFC 7807 problem details for ``exc`` (``type`` is a URN naming the error class)."""
    status = getattr(exc, "status_code", 500)
    doc: dict[str, Any] = {
        "type": f"urn:getstar:error:{_kebab(exc.__class__.__name__)}",
        "title": getattr(exc, "title", "Internal error"),
        "status": status,
        "detail": getattr(exc, "message", None) or str(exc),
    }
    retry = getattr(exc, "retry_after", None)
    if retry is not None:
        doc["retry_after"] = retry
    for extra in ("suggestions", "candidates"):
        value = getattr(exc, extra, None)
        if value:
            doc[extra] = list(value)
    if meta is not None:
        doc["service_version"] = meta.service_version
        doc["snapshot"] = meta.snapshot_version
    return doc


def write_problem(exc: GetStarError | Exception, meta: Meta | None = None) -> bytes:
    return dumps(problem_dict(exc, meta))

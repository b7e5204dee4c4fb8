"""IVOA Simple Cone Search 1.03 at ``/scs``: ``RA``, ``DEC``, ``SR`` (decimal degrees, ICRS),
optional ``VERB`` (1, 2, 3) and ``MAXREC``; answers VOTable 1.1 as ``text/xml``.

The standard fixes the shape VO tools rely on: one RESOURCE, one TABLE, and exactly one
FIELD each with ``ucd="ID_MAIN"``, ``"POS_EQ_RA_MAIN"`` and ``"POS_EQ_DEC_MAIN"`` (RA/Dec
as doubles in degrees), so those three come first and the catalogue's sexagesimal
``RAJ2000``/``DEJ2000`` are relabelled ``POS_EQ_RA_OTHER``/``POS_EQ_DEC_OTHER`` at VERB=3.
Columns by ``VERB``: 1 the three; 2 (default) plus the separation and key properties;
3 every property.  Each property comes with its ``.origin`` and ``.confidence`` (catalogue
names and LOW/MEDIUM/HIGH, as text) and its error, tied by a GROUP, as in getstar's other
VOTables.  ``SR=0`` is a metadata request: the FIELDs, no rows.

Errors are VOTables holding ``<INFO name="Error" value="…"/>`` (where pyvo and TOPCAT look
for it, under VOTABLE) sent with HTTP 200: SCS 1.03 predates DALI's status codes and its
clients read the document, some treating any non-200 as a transport failure.  Errors of
the service itself (database down: 503) keep their status.  The one place that turns
errors into responses (``getstar.handlers``) writes ``error_response`` for /scs.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from cache import CachedAnswer
from getstar import __version__
from getstar.answers import cone_admitted
from getstar.errors import BadRequest, GetStarError
from getstar.formats._common import PropertyReader, confidence_name, esc_attr, esc_text, origin_name, utc_seconds
from getstar.formats.model import Answer
from getstar.formats.vobase import INT_NULL, prolog
from getstar.formats.votable import field_element, format_repr, group_element, value_formatter
from getstar.httpcache import answer_key, etag_for, respond
from getstar.properties import BY_NAME, PROPERTIES, Property
from getstar.resolver import ConeQuery
from getstar.state import get_state

MEDIA_TYPE = "text/xml; charset=UTF-8"
VERBS = (1, 2, 3)
DEFAULT_VERB = 2
#: The key properties at VERB=2 (JSDC/SIMBAD essentials for observers).
VERB2_PROPERTIES = ("SIMBAD", "HD", "HIP", "GAIA", "pmRa", "pmDec", "plx", "SpType", "OType", "B", "V", "G", "J",
                    "H", "K", "LDD", "UD_K")
# the SCS fields are RA/DEC in degrees: the catalogue's own main-position UCD1s step aside
_OTHER_UCD = {"POS_EQ_RA_MAIN": "POS_EQ_RA_OTHER", "POS_EQ_DEC_MAIN": "POS_EQ_DEC_OTHER", "ID_MAIN": "ID_ALTERNATIVE"}

_PROLOG = prolog("1.1")
_COOSYS = ' <COOSYS ID="J2000" equinox="J2000." epoch="J2000." system="eq_FK5"/>\n'


# ---------------------------------------------------------------------------------------
# Parameters


def _param(request: Request, name: str) -> str | None:
    """A query parameter by name, any case (SCS clients spell them RA, ra, Ra...)."""
    for key, value in request.query_params.multi_items():
        if key.upper() == name:
            return value
    return None


def _number(request: Request, name: str, required: bool = True, unit: str = " of degrees") -> float | None:
    text = _param(request, name)
    if text is None or not text.strip():
        if required:
            raise BadRequest(f"parameter {name} is required (decimal degrees): ?RA=…&DEC=…&SR=…")
        return None
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"{name} must be a decimal number{unit}, got {text[:40]!r}") from None
    if not math.isfinite(value):
        raise BadRequest(f"{name} must be a finite number{unit}, got {text[:40]!r}")
    return value


def parse_query(request: Request, max_radius_deg: float, max_records: int) -> tuple[ConeQuery, int]:
    """(cone, VERB) from the request; BadRequest naming the parameter otherwise."""
    ra, dec, sr = _number(request, "RA"), _number(request, "DEC"), _number(request, "SR")
    assert ra is not None and dec is not None and sr is not None
    if not 0.0 <= ra <= 360.0:
        raise BadRequest(f"RA must be within [0, 360] degrees, got {ra!r}")
    if not -90.0 <= dec <= 90.0:
        raise BadRequest(f"DEC must be within [-90, 90] degrees, got {dec!r}")
    if sr < 0:
        raise BadRequest(f"SR must not be negative, got {sr!r}")
    if sr > max_radius_deg:
        raise BadRequest(f"SR must be at most {max_radius_deg:g} deg (the service's largest cone), got {sr!r}")
    verb_text = _param(request, "VERB")
    verb = DEFAULT_VERB
    if verb_text is not None and verb_text.strip():
        try:
            verb = int(verb_text)
        except ValueError:
            raise BadRequest(f"VERB must be 1, 2 or 3, got {verb_text[:20]!r}") from None
        if verb not in VERBS:
            raise BadRequest(f"VERB must be 1, 2 or 3, got {verb}")
    limit = max_records
    maxrec = _number(request, "MAXREC", required=False, unit="")
    if maxrec is not None:
        if maxrec < 0 or maxrec != int(maxrec):
            raise BadRequest(f"MAXREC must be a whole number >= 0, got {maxrec!r}")
        limit = min(int(maxrec), max_records)
    return ConeQuery(ra=ra % 360.0, dec=dec, radius_deg=sr, limit=limit, epoch=None), verb


# ---------------------------------------------------------------------------------------
# Columns


def _scs_property(p: Property) -> Property:
    other = _OTHER_UCD.get(p.ucd1)
    return replace(p, ucd1=other) if other else p


@cache
def _properties(verb: int) -> tuple[Property, ...]:
    if verb == 1:
        return ()
    if verb == 2:
        return tuple(_scs_property(BY_NAME[n]) for n in VERB2_PROPERTIES)
    # every property but RA/DEC in degrees (the SCS fields already) and the query echo
    return tuple(_scs_property(p) for p in PROPERTIES if p.name not in ("RA", "DEC", "TARGET_ID"))


@cache
def _header(verb: int) -> str:
    """FIELDs and GROUPs of a VERB: the same for every request, rendered once."""
    fields = [
        field_element("ID", "id", "ID_MAIN", "char", "", "Main identifier of the star (SIMBAD's when known)"),
        field_element("RA", "ra", "POS_EQ_RA_MAIN", "double", "deg", "Right ascension, ICRS, epoch J2000", ref="J2000"),
        field_element("DEC", "dec", "POS_EQ_DEC_MAIN", "double", "deg", "Declination, ICRS, epoch J2000", ref="J2000"),
    ]
    groups: list[str] = []
    if verb >= 2:
        fields.append(field_element("separation", "sep", "POS_ANG_DIST_GENERAL", "double", "arcsec",
                             "Distance from the cone's centre"))
    for i, p in enumerate(_properties(verb)):
        refs = [f"p{i}", f"p{i}o", f"p{i}c"]
        values = f'<VALUES null="{INT_NULL[p.datatype]}"/>' if p.datatype in INT_NULL else ""
        fields.append(field_element(p.name, refs[0], p.ucd1, p.datatype, p.unit, p.description, values=values))
        fields.append(field_element(f"{p.name}.origin", refs[1], "REFER_CODE", "char", "",
                             f"Origin (catalogue or service) of property {p.name}"))
        fields.append(field_element(f"{p.name}.confidence", refs[2], "CODE_QUALITY", "char", "",
                             f"Confidence (LOW, MEDIUM, HIGH) of property {p.name}"))
        if p.error is not None:
            refs.append(f"p{i}e")
            fields.append(field_element(p.error.name, refs[3], p.error.ucd1, "double", p.error.unit,
                                        p.error.description))
        # a GROUP named like its FIELD would be a second use of the name in the TABLE (votlint warns)
        groups.append(group_element(f"{p.name}.group", p.ucd1,
                             f"{p.name} with its origin and confidence and its error when available", refs))
    return "".join(fields) + "".join(groups)


@cache
def _cells(verb: int) -> tuple[tuple[PropertyReader, Any, str, bool], ...]:
    """Per property: reader, value formatter, null value cell, has an error column."""
    out = []
    for p in _properties(verb):
        null = f"<TD>{INT_NULL[p.datatype]}</TD>" if p.datatype in INT_NULL else "<TD/>"
        out.append((PropertyReader(p), value_formatter(p, False), null, p.error is not None))
    return tuple(out)


def _td(text: str) -> str:
    return f"<TD>{text}</TD>" if text else "<TD/>"


def _row(a: Answer, verb: int) -> str:
    s: Mapping[str, Any] = a.star or {}
    parts = ["<TR>", _td(esc_text(str(s.get("main_id") or ""))), _td(format_repr(s["ra"])), _td(format_repr(s["dec"]))]
    if verb >= 2:
        parts.append(_td(format_repr(a.separation_arcsec) if a.separation_arcsec is not None else ""))
    for reader, fmt, null, has_err in _cells(verb):
        v, o, c, e = reader.read(s, a.query)
        if v is None:
            parts.append(null + "<TD/><TD/>" + ("<TD/>" if has_err else ""))
            continue
        # PropertyReader renders RAJ2000/DEJ2000 already; the formatter only sees raw values
        text = esc_text(v) if isinstance(v, str) else fmt(v)
        parts.append(_td(text) if text else null)
        parts.append(_td(esc_text(origin_name(o) or "")))
        parts.append(_td(esc_text(confidence_name(c) or "")))
        if has_err:
            parts.append(_td(format_repr(e) if e is not None else ""))
    parts.append("</TR>\n")
    return "".join(parts)


# ---------------------------------------------------------------------------------------
# Documents


def _description(query: str, snapshot: str) -> str:
    return (f" <DESCRIPTION>getstar {esc_text(__version__)} Simple Cone Search 1.03 (snapshot "
            f"{esc_text(snapshot)}); request: {esc_text(query)}</DESCRIPTION>\n")


def write_scs(answers: Sequence[Answer], verb: int, *, query: str, snapshot: str, overflow: bool,
              metadata_only: bool = False) -> bytes:
    """The VOTable 1.1 answer: the fields of ``verb`` and one row per star."""
    status = "OVERFLOW" if overflow else "OK"
    rows = [] if metadata_only else [_row(a, verb) for a in answers if a.status == "ok" and a.star is not None]
    parts = [
        _PROLOG, _description(query, snapshot), _COOSYS,
        ' <RESOURCE type="results">\n',
        f'  <INFO name="QUERY_STATUS" value="{status}"/>\n',
        f'  <INFO name="snapshot_version" value="{esc_attr(snapshot)}"/>\n',
        f'  <INFO name="request_date" value="{utc_seconds(datetime.now(UTC))}"/>\n',
        f'  <TABLE name="getstar" nrows="{len(rows)}">\n',
        "   <DESCRIPTION>Stars of the getstar snapshot in the cone, nearest first</DESCRIPTION>\n",
        _header(verb),
        "   <DATA>\n    <TABLEDATA>\n", *rows, "    </TABLEDATA>\n   </DATA>\n  </TABLE>\n </RESOURCE>\n</VOTABLE>\n",
    ]
    return "".join(parts).encode("utf-8")


def write_scs_error(message: str, *, query: str = "", snapshot: str = "") -> bytes:
    """The SCS 1.03 error document: ``INFO name="Error"`` under VOTABLE (and QUERY_STATUS for DALI readers)."""
    return "".join([
        _PROLOG, _description(query, snapshot),
        f'  <INFO name="Error" value="{esc_attr(message)}"/>\n',
        ' <RESOURCE type="results">\n',
        f'  <INFO name="QUERY_STATUS" value="ERROR">{esc_text(message)}</INFO>\n',
        " </RESOURCE>\n</VOTABLE>\n",
    ]).encode("utf-8")


async def error_response(request: Request, exc: GetStarError, headers: dict[str, str] | None) -> Response:
    """/scs's error document (``getstar.handlers``): client errors 200, service errors keep theirs."""
    status = 200 if exc.status_code < 500 else exc.status_code
    body = write_scs_error(exc.message, query=request.url.query, snapshot=get_state(request).snapshot)
    return Response(body, status_code=status, headers=headers, media_type=MEDIA_TYPE)


# ---------------------------------------------------------------------------------------
# Endpoint


def canonical(query: ConeQuery, verb: int) -> str:
    """The parameters as the answer reads them (any case, the first of each, RA in [0, 360)):
    what keys the cached answer and what the answer says it was asked.

    Why not the query string (``httpcache.cache_key``): SCS parameters are read in any case,
    so ``?ra=…&RA=…`` and ``?RA=…`` would share a key made of the upper-case names only while
    their answers differ, and a first requester's query would be served to the next.
    """
    return f"RA={query.ra!r}&DEC={query.dec!r}&SR={query.radius_deg!r}&VERB={verb}&MAXREC={query.limit}"


async def cone_search(request: Request) -> Response:
    """``GET /scs``: cached whole like /v1/stars answers (keyed by snapshot version and the
    parameters as read: ``canonical``)."""
    state = get_state(request)
    query, verb = parse_query(request, state.settings.max_cone_radius_deg, state.settings.scs_max_records)
    text = canonical(query, verb)
    key = answer_key(state.snapshot, "scs", request.scope["path"], text)
    answer = state.cache.get_memory(key)
    if answer is None:
        answer = await state.cache.fill(key, lambda: _answer(request, key, query, verb, text))
    return await respond(request, answer, state.settings.http_max_age)


async def _answer(request: Request, key: str, query: ConeQuery, verb: int, text: str) -> CachedAnswer:
    state = get_state(request)
    snapshot = state.snapshot
    if query.radius_deg == 0.0 or query.limit == 0:  # SR=0: the metadata; MAXREC=0: no row
        body = write_scs([], verb, query=text, snapshot=snapshot, overflow=False,
                         metadata_only=query.radius_deg == 0.0)
        return CachedAnswer(body, MEDIA_TYPE, 200, etag_for(key))
    # one more than asked: is there an overflow?  Many stars: their rows, a few at once (cone_admitted)
    async with cone_admitted(state.resolver, replace(query, limit=query.limit + 1)) as answers:
        overflow = len(answers) > query.limit
        body = write_scs(answers[:query.limit], verb, query=text, snapshot=snapshot, overflow=overflow)
    return CachedAnswer(body, MEDIA_TYPE, 200, etag_for(key))

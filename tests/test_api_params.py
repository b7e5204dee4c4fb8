"""The hot path's query shortcuts read what starlette's full parsing reads."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from getstar.api import format_param
from getstar.httpcache import header

_PIECES = st.sampled_from(["format", "name", "names", "f", "%66ormat", "for%6Dat", "format+", "+format", "fo%72mat",
                           "=", "&", "%", "+", "votable", "json", "%2A+alf+CMa", "HD+48915", ";", "%3D", "%26", ""])


def _request(query: bytes) -> Request:
    return Request({"type": "http", "method": "GET", "path": "/v1/stars", "query_string": query, "headers": []})


@settings(max_examples=2000, deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_format_param_reads_what_starlette_parses(query: str) -> None:
    raw = query.encode()
    assert format_param(_request(raw)) == _request(raw).query_params.get("format")


def test_format_in_a_value_is_not_a_format() -> None:
    assert format_param(_request(b"name=format%3Dvotable")) is None
    assert format_param(_request(b"name=%2A+alf+CMa&format=votable")) == "votable"
    assert format_param(_request(b"name=Vega&%66ormat=csv")) == "csv"


_NAMES = st.sampled_from([b"accept", b"accept-encoding", b"if-none-match", b"host", b"acceptx", b"accep"])
_VALUES = st.sampled_from([b"", b"gzip", b"br;q=0, gzip", b'"abc", W/"def"', b"application/json", b"\xe9t\xe9"])


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(_NAMES, _VALUES), max_size=6), _NAMES)
def test_header_reads_what_starlette_reads(headers: list[tuple[bytes, bytes]], name: bytes) -> None:
    request = Request({"type": "http", "method": "GET", "path": "/", "query_string": b"", "headers": headers})
    assert header(request, name) == request.headers.get(name.decode())

"""The hot path's query shortcuts read what starlette's full parsing reads."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.requests import Request

from getstar.api import format_param

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

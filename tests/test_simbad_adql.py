"""The ADQL sent to SIMBAD: every literal escaped, so no name can change the query."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from getstar.simbad.adql import literal, lookup_query, table_prefix
from tests.simbad_standin import names_in

EVIL = ["x' OR '1'='1", "NAME Barnard's Star c", "'; DROP TABLE basic; --", "a''b", "'", "''''",
        "M 1') UNION SELECT * FROM ident WHERE ('1'='1", "back\\slash'", "é'ö"]


def test_literal_doubles_single_quotes() -> None:
    assert literal("NAME Barnard's Star c") == "'NAME Barnard''s Star c'"
    assert literal("''") == "''''''"
    assert literal("M 1") == "'M 1'"


def test_literal_drops_control_characters() -> None:
    assert literal("HD\x00 1\n2\x7f") == "'HD 12'"


def test_literal_drops_backslashes() -> None:
    # DaCHS' ADQL parser reads \' as an escaped quote: the name would end the literal early
    assert literal("\\' OR 1=1 --") == "''' OR 1=1 --'"
    assert literal("a\\b") == "'ab'"


@pytest.mark.parametrize("name", EVIL)
def test_a_quote_in_a_name_does_not_change_the_query(name: str) -> None:
    template = lookup_query(["PLACEHOLDER"])
    query = lookup_query([name])
    assert query == template.replace("'PLACEHOLDER'", literal(name))
    assert names_in(query) == [name.replace("\\", "")]  # one literal, read back (backslashes dropped)
    outside = re.sub(r"'(?:[^']|'')*'", "''", query)  # the query with every literal emptied
    assert outside == re.sub(r"'(?:[^']|'')*'", "''", template)


@given(st.text(min_size=1, max_size=60))
def test_any_text_stays_one_literal(name: str) -> None:
    cleaned = "".join(ch for ch in name if ch >= " " and ch not in "\x7f\\")
    query = lookup_query([name])
    assert names_in(query) == [cleaned]
    assert query == lookup_query(["PLACEHOLDER"]).replace("'PLACEHOLDER'", literal(name))


def test_several_names_make_one_in_list_without_duplicates() -> None:
    query = lookup_query(["Vega", "NAME Barnard's Star c", "Vega"])
    assert "WHERE q.id IN ('Vega', 'NAME Barnard''s Star c')" in query
    assert names_in(query) == ["Vega", "NAME Barnard's Star c"]


def test_query_shape() -> None:
    query = lookup_query(["M1"])
    assert "FROM ident AS q\nJOIN basic AS b ON b.oid = q.oidref" in query
    assert "LEFT OUTER JOIN ids AS i ON i.oidref = b.oid" in query
    assert "LEFT OUTER JOIN flux AS f_v ON f_v.oidref = b.oid AND f_v.\"filter\" = 'V'" in query
    assert " LEFT JOIN " not in query  # DaCHS' ADQL parser only accepts LEFT OUTER JOIN
    assert 'b."dec"' in query  # DEC is an SQL reserved word
    for column in ("b.main_id", "b.coo_qual", "b.pm_qual", "b.plx_value", "b.plx_err", "b.plx_qual", "b.rvz_radvel",
                   "b.rvz_err", "b.rvz_qual", "b.sp_type", "b.sp_qual", "b.otype", "i.ids", "q.id AS matched_id",
                   "f_k.flux AS flux_k", "f_k.flux_err AS flux_k_err", "f_k.qual AS flux_k_qual"):
        assert column in query


def test_table_prefix() -> None:
    assert table_prefix("") == ""
    assert table_prefix("simbadlike") == "simbadlike."
    assert table_prefix(" simbad. ") == "simbad."
    assert "FROM simbadlike.ident AS q" in lookup_query(["M1"], "simbadlike")
    for bad in ("a.b.c", "x; DROP TABLE t", "1abc", "a b", "public.\"x\""):
        with pytest.raises(ValueError):
            table_prefix(bad)


def test_no_names_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        lookup_query([])

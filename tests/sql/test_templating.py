"""{{ name }} binds values, {{ name | ident }} inserts validated identifiers, nothing else passes."""

from __future__ import annotations

import pyarrow as pa
import pytest

from lakelab.engines.templating import render, template_names
from lakelab.errors import InvalidInput


def test_values_become_bound_placeholders_in_order():
    assert render("SELECT * FROM t WHERE a = {{ x }} AND b > {{y}} OR a = {{ x }}", {"x": "v", "y": 2}) == (
        "SELECT * FROM t WHERE a = ? AND b > ? OR a = ?",
        ["v", 2, "v"],
    )


def test_ident_filter_quotes_validated_names_part_by_part():
    assert render("SELECT * FROM {{ t | ident }}", {"t": "Demo.Flights"}) == ('SELECT * FROM "demo"."flights"', [])


@pytest.mark.parametrize("bad", ['x"; DROP TABLE t; --', "a;b", "tä", "a b", "", "1abc", "a.", 'x"y'])
def test_ident_rejects_quotes_semicolons_unicode_and_empty_parts(bad):
    with pytest.raises(InvalidInput):
        render("SELECT * FROM {{ t | ident }}", {"t": bad})


@pytest.mark.parametrize(
    "template, message",
    [
        ("{{ x | upper }}", "unknown template filter"),
        ("{{ x + 1 }}", "not a template variable"),
        ("{{ missing }}", "no value for"),
        ("{{ x.y }}", "not a template variable"),
        ("{{ x ", "unbalanced"),
        ("'{{ x }}'", "inside quotes"),
        ('"{{ x }}"', "inside quotes"),
    ],
)
def test_anything_else_in_braces_is_an_error_naming_it(template, message):
    with pytest.raises(InvalidInput, match=message):
        render(f"SELECT {template}", {"x": 1})


def test_values_must_be_single_scalars():
    with pytest.raises(InvalidInput, match="list"):
        render("SELECT {{ x }}", {"x": [1, 2]})


def test_raw_question_marks_are_refused_but_quoted_ones_are_text():
    with pytest.raises(InvalidInput, match="placeholders"):
        render("SELECT ?", {})
    assert render("SELECT '?' -- what?\n", {}) == ("SELECT '?' -- what?\n", [])


def test_template_names_lists_variables_once():
    assert template_names("{{ a }} {{ b | ident }} {{a}}") == ["a", "b"]


def test_injection_through_a_value_stays_a_value(lh):
    lh.catalog.create_namespace("demo")
    table = lh.catalog.create_table("demo.t", schema=pa.schema([("name", pa.string())]))
    table.append(pa.table({"name": ["a", "1; DROP TABLE t"]}))
    hostile = "1; DROP TABLE t"
    result = lh.sql("SELECT name FROM demo.t WHERE name = {{ x }}", engine="duckdb", params={"x": hostile})
    assert result.table.to_pylist() == [{"name": hostile}]
    none = lh.sql(
        "SELECT count(*) AS n FROM demo.t WHERE name = {{ x }}", engine="duckdb", params={"x": "a' OR '1'='1"}
    )
    assert none.table.to_pylist() == [{"n": 0}]
    assert lh.catalog.table_exists("demo.t")


def test_ident_parameter_selects_a_table(lh):
    lh.catalog.create_namespace("demo")
    lh.catalog.create_table("demo.t", schema=pa.schema([("v", pa.int64())])).append(
        pa.table({"v": pa.array([1, 2], pa.int64())})
    )
    result = lh.sql(
        "SELECT sum(v) AS s FROM {{ t | ident }} WHERE v > {{ lo }}", engine="duckdb", params={"t": "demo.t", "lo": 0}
    )
    assert result.table.to_pylist() == [{"s": 3}]


def test_bound_integer_parameters_divide_like_trino(lh):
    assert lh.sql("SELECT {{ a }} / {{ b }} AS q", engine="duckdb", params={"a": 7, "b": 2}).table.to_pylist() == [
        {"q": 3}
    ]

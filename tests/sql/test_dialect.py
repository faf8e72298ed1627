"""Trino semantics on the embedded engine: every accepted expression answers as Trino does
(values below are Trino 476's answers), everything else is refused by name."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from lakelab.errors import EngineError, Unsupported


def one(lh, sql):
    return lh.sql(sql, engine="duckdb").table.to_pylist()[0]


def test_integer_division_truncates_toward_zero_like_trino(lh):
    row = one(lh, "SELECT 7 / 2 AS a, -7 / 2 AS b, 7 / -2 AS c, -7 % 2 AS d, CAST(9 AS bigint) / 4 AS e")
    assert row == {"a": 3, "b": -3, "c": -3, "d": -1, "e": 2}


def test_integer_division_by_zero_is_an_error(lh):
    with pytest.raises(EngineError, match="(?i)division by zero"):
        lh.sql("SELECT 1 / 0", engine="duckdb")


def test_try_turns_division_by_zero_into_null(lh):
    assert one(lh, "SELECT try(1 / 0) AS a, try(1.0 / 0) AS b") == {"a": None, "b": None}


def test_decimal_division_by_zero_is_an_error(lh):
    with pytest.raises(EngineError, match="(?i)division by zero"):
        lh.sql("SELECT 1.0 / 0", engine="duckdb")


def test_decimal_division_keeps_the_larger_scale_rounding_half_up(lh):
    row = one(lh, "SELECT 1.00 / 3 AS a, 2.00 / 3 AS b, -2.00 / 3 AS c, 1.5 / 2 AS d, 10 / 4.0 AS e")
    assert row == {
        "a": Decimal("0.33"),
        "b": Decimal("0.67"),
        "c": Decimal("-0.67"),
        "d": Decimal("0.8"),
        "e": Decimal("2.5"),
    }


def test_double_division_follows_ieee_like_trino(lh):
    row = one(lh, "SELECT 7e0 / 2 AS a, 1e0 / 0 AS b")
    assert row == {"a": 3.5, "b": float("inf")}


def test_avg_of_decimal_stays_decimal_with_its_scale(lh):
    row = one(lh, "SELECT avg(x) AS a FROM (VALUES 1.00, 2.00, 2.00) AS t(x)")
    assert row == {"a": Decimal("1.67")}


def test_sum_of_integers_is_bigint_and_avg_is_double(lh):
    result = lh.sql("SELECT sum(x) AS s, avg(x) AS a FROM (VALUES 1, 2) AS t(x)", engine="duckdb")
    assert str(result.table.schema.field("s").type) == "int64"
    assert result.table.to_pylist() == [{"s": 3, "a": 1.5}]


def test_date_plus_interval_stays_a_date(lh):
    row = one(
        lh,
        "SELECT DATE '2020-01-31' + INTERVAL '1' MONTH AS a, DATE '2020-03-01' - INTERVAL '1' DAY AS b, "
        "date_trunc('month', DATE '2020-03-05') AS c, date_add('day', 1, DATE '2020-12-31') AS d",
    )
    assert row == {
        "a": datetime.date(2020, 2, 29),
        "b": datetime.date(2020, 2, 29),
        "c": datetime.date(2020, 3, 1),
        "d": datetime.date(2021, 1, 1),
    }


def test_casting_doubles_to_integers_rounds_half_away_from_zero(lh):
    assert one(lh, "SELECT CAST(2.5e0 AS integer) AS a, CAST(-2.5e0 AS bigint) AS b, CAST(3.5e0 AS integer) AS c") == {
        "a": 3,
        "b": -3,
        "c": 4,
    }


def test_unnamed_columns_are_named_like_trino(lh):
    assert lh.sql("SELECT 1, 'a' AS x, 2 + 3", engine="duckdb").table.column_names == ["_col0", "x", "_col2"]


def test_bare_decimal_cast_is_decimal_38_0(lh):
    assert one(lh, "SELECT CAST(2.6 AS decimal) AS a") == {"a": Decimal("3")}


def test_null_propagating_concat(lh):
    assert one(lh, "SELECT concat('a', NULL) AS a, 'a' || 'b' AS b") == {"a": None, "b": "ab"}


@pytest.mark.parametrize(
    "sql, name",
    [
        ("SELECT format('%s-%d', 'a', 1)", "format"),
        ("SELECT typeof(1)", "typeof"),
        ("SELECT CAST(1e0 AS varchar)", "varchar"),
        ("SELECT greatest(1, NULL)", "greatest"),
        ("SELECT url_extract_host('http://example.com/a')", "url_extract_host"),
        ("SELECT format_datetime(current_timestamp, 'yyyy')", "format_datetime"),
        ("SELECT approx_distinct(x) FROM (VALUES 1) AS t(x)", "approx_distinct"),
        ("SELECT extract(dow FROM DATE '2020-01-01')", "dow"),
        ("SELECT date_format(DATE '2020-01-01', '%Y')", "date_format"),
        ("SELECT zip_with(ARRAY[1], ARRAY[2], (a, b) -> a + b)", "zip_with"),
        ("SELECT transform(ARRAY[1, 2], x -> x + 1)", "transform"),
        ("SELECT regexp_extract('abc', 'x')", "regexp_extract"),
        ("SELECT date_diff('month', DATE '2020-01-31', DATE '2020-02-01')", "date_diff"),
    ],
)
def test_functions_that_would_answer_differently_are_refused_by_name(lh, sql, name):
    with pytest.raises(Unsupported) as info:
        lh.sql(sql, engine="duckdb")
    assert name in str(info.value).lower()
    assert "run it on trino" in str(info.value).lower()


def test_text_to_number_casts_accept_only_what_trino_accepts(lh):
    row = one(
        lh,
        "SELECT try_cast('12' AS integer) AS a, try_cast('1.5' AS integer) AS b, "
        "try_cast('0x10' AS bigint) AS c, try_cast('1.235' AS decimal(4, 2)) AS d, "
        "try_cast('yes' AS boolean) AS e, try_cast('true' AS boolean) AS f",
    )
    assert row == {"a": 12, "b": None, "c": None, "d": Decimal("1.24"), "e": None, "f": True}
    with pytest.raises(EngineError):
        lh.sql("SELECT CAST('1_000' AS integer)", engine="duckdb")


def test_substring_from_position_zero_is_empty_like_trino(lh):
    assert one(lh, "SELECT substr('hello', 0, 2) AS a, substr('hello', -3, 2) AS b, substr('hello', 2) AS c") == {
        "a": "",
        "b": "ll",
        "c": "ello",
    }


def test_decimal_rounding_is_exact_half_away_from_zero_in_trinos_types(lh):
    # Trino 476: round(decimal(p, s), d) is decimal(p + 1, s); ceil/floor/round(x) decimal(p - s + 1, 0)
    res = lh.sql(
        "SELECT round(DECIMAL '2.345', 2) AS a, round(DECIMAL '-2.345', 2) AS b, "
        "round(DECIMAL '125.5', -1) AS c, ceil(DECIMAL '2.345') AS d, floor(DECIMAL '-2.345') AS e, "
        "truncate(DECIMAL '-2.79', 1) AS f, truncate(DECIMAL '2.79') AS g",
        engine="duckdb",
    ).table
    assert res.to_pylist() == [
        {
            "a": Decimal("2.350"),
            "b": Decimal("-2.350"),
            "c": Decimal("130.0"),
            "d": Decimal("3"),
            "e": Decimal("-3"),
            "f": Decimal("-2.70"),
            "g": Decimal("2"),
        }
    ]
    assert [str(t) for t in res.schema.types] == [
        "decimal128(5, 3)",
        "decimal128(5, 3)",
        "decimal128(5, 1)",
        "decimal128(2, 0)",
        "decimal128(2, 0)",
        "decimal128(3, 2)",
        "decimal128(1, 0)",
    ]


def test_typed_decimal_literal_keeps_its_digits_but_cast_to_bare_decimal_does_not(lh):
    row = one(lh, "SELECT DECIMAL '2.345' AS a, CAST('2.345' AS DECIMAL) AS b")
    assert row == {"a": Decimal("2.345"), "b": Decimal("2")}


def test_rounding_a_decimal_to_a_column_number_of_digits_is_refused(lh):
    with pytest.raises(Unsupported, match="round"):
        lh.sql("SELECT round(DECIMAL '1.55', d) FROM (VALUES 1) AS t(d)", engine="duckdb")

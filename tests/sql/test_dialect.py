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
        ("SELECT format('%x', 255)", "format"),
        ("SELECT typeof(x) FROM (VALUES 'a') AS t(x)", "typeof"),
        ("SELECT CAST(REAL '1.5' AS varchar)", "varchar"),
        ("SELECT sha512(to_utf8('a'))", "sha512"),
        ("SELECT json_extract('[1]', '$[*]')", "json path"),
        ("SELECT ROW(1, 'a')", "row"),
        ("SELECT array_sort(ARRAY[2e0, 1e0])", "array_sort"),
        ("SELECT greatest(1, NULL)", "greatest"),
        ("SELECT format_datetime(current_timestamp, 'yyyy')", "format_datetime"),
        ("SELECT approx_distinct(x) FROM (VALUES 1) AS t(x)", "approx_distinct"),
        ("SELECT extract(dow FROM DATE '2020-01-01')", "dow"),
        ("SELECT date_format(DATE '2020-01-01', '%Y')", "date_format"),
        ("SELECT reduce(ARRAY[1, 2], 0e0, (s, x) -> s + x, s -> s)", "reduce"),
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


# values below are Trino 476's answers (tests/trino/test_dialect.py checks them against Trino)
def test_arrays_lambdas_and_unnest_answer_like_trino(lh):
    row = one(
        lh,
        "SELECT transform(ARRAY[1, 2, 3], x -> x * 10) AS t, filter(ARRAY[1, NULL, 3], x -> x > 1) AS f, "
        "reduce(ARRAY[1, 2], 0, (s, x) -> s + x, s -> s * 2) AS r, "
        "zip_with(ARRAY[1, 2, 3], ARRAY[10], (a, b) -> coalesce(a, 0) + coalesce(b, 0)) AS z, "
        "any_match(ARRAY[1, NULL], x -> x > 1) AS m, contains(ARRAY[1, NULL], 2) AS c, "
        "element_at(ARRAY[1, 2], -1) AS e, sequence(5, 1, -2) AS s",
    )
    assert row == {"t": [10, 20, 30], "f": [3], "r": 6, "z": [11, 2, 3], "m": None, "c": None, "e": 2, "s": [5, 3, 1]}
    rows = lh.sql(
        "SELECT x, y, n FROM UNNEST(ARRAY[1, 2, 3], ARRAY['a']) WITH ORDINALITY AS u(x, y, n) ORDER BY n",
        engine="duckdb",
    ).table.to_pylist()
    assert rows == [{"x": 1, "y": "a", "n": 1}, {"x": 2, "y": None, "n": 2}, {"x": 3, "y": None, "n": 3}]


@pytest.mark.parametrize(
    "sql, message",
    [
        ("SELECT ARRAY[1, 2][3]", "array length"),
        ("SELECT ARRAY[1, 2][0]", "start at 1"),
        ("SELECT element_at(ARRAY[1, 2], 0)", "start at 1"),
        ("SELECT MAP(ARRAY['a'], ARRAY[1])['b']", "not present"),
        ("SELECT sequence(1, 5, -1)", "stop value"),
    ],
)
def test_out_of_range_subscripts_fail_like_trino_instead_of_null(lh, sql, message):
    with pytest.raises(EngineError, match=message):
        lh.sql(sql, engine="duckdb")


def test_text_json_and_url_functions_format_like_trino(lh):
    row = one(
        lh,
        "SELECT CAST(1.0E0 AS varchar) AS a, CAST(1.5E10 AS varchar) AS b, CAST(1e0 / 0e0 AS varchar) AS c, "
        "typeof(1.5) AS d, format('%.2f', 2.675e0) AS e, format('%s-%d', 'a', 5) AS f, "
        'json_format(json_parse(\'{"b": 1, "a": [2.50, 1.0e2]}\')) AS g, '
        "json_extract_scalar('{\"a\": 1.50}', '$.a') AS h, url_extract_parameter('http://x/?a=%20b', 'a') AS i, "
        "url_extract_host('http://my_host.com/') AS j, to_hex(md5(to_utf8('a'))) AS k",
    )
    assert row == {
        "a": "1.0E0",
        "b": "1.5E10",
        "c": "Infinity",
        "d": "decimal(2,1)",
        "e": "2.68",
        "f": "a-5",
        "g": '{"a":[2.5,100.0],"b":1}',
        "h": "1.50",
        "i": " b",
        "j": "",
        "k": "0CC175B9C0F1B6A831C399E269772661",
    }

"""Trino-specific SQL on both engines: for each statement the embedded engine either gives
Trino's answer or raises Unsupported ("not supported locally, run on Trino") — never a
different answer. docs/trino.md lists the outcome of each case."""

from __future__ import annotations

import pytest
from trino_compare import arrow_as_trino, differences, has_top_level_order_by, trino_type_names

from lakelab.errors import Unsupported

EVENTS = (
    "(VALUES (1, 'ana', DATE '2024-01-03', 10.5e0), (2, 'bo', DATE '2024-02-10', 3.0e0), "
    "(3, 'ana', DATE '2024-02-11', 7.25e0), (4, 'cy', DATE '2024-03-01', NULL)) AS e(id, who, day, amount)"
)

CASES = {
    # window functions
    "row_number": f"SELECT id, row_number() OVER (PARTITION BY who ORDER BY day) AS rn FROM {EVENTS} ORDER BY id",
    "rank_lag_running_sum": f"SELECT id, rank() OVER (ORDER BY amount DESC) AS r, lag(id) OVER (ORDER BY id) AS prev, "
    f"sum(amount) OVER (ORDER BY id ROWS UNBOUNDED PRECEDING) AS run FROM {EVENTS} ORDER BY id",
    "first_value_ntile": f"SELECT id, first_value(who) OVER (ORDER BY day) AS f, ntile(2) OVER (ORDER BY id) AS nt "
    f"FROM {EVENTS} ORDER BY id",
    # date and time
    "date_trunc_month": f"SELECT id, date_trunc('month', day) AS m FROM {EVENTS} ORDER BY id",
    "date_add_diff": "SELECT date_add('day', 30, DATE '2024-01-31') AS a, date_diff('day', DATE '2024-01-01', "
    "DATE '2024-03-01') AS d",
    "day_of_week_year": "SELECT day_of_week(DATE '2024-03-03') AS dow, year(DATE '2024-03-03') AS y, "
    "quarter(DATE '2024-08-01') AS q",
    "interval_arithmetic": "SELECT DATE '2024-01-31' + INTERVAL '1' MONTH AS d",
    "format_datetime": "SELECT format_datetime(TIMESTAMP '2024-03-05 07:08:09', 'yyyy/MM/dd HH:mm') AS f",
    "date_format": "SELECT date_format(TIMESTAMP '2024-03-05 07:08:09', '%Y-%m-%d %H:%i') AS f",
    "from_unixtime": "SELECT to_unixtime(TIMESTAMP '2024-01-01 00:00:00 UTC') AS u",
    "date_parse": "SELECT date_parse('2024-03-05 07:08', '%Y-%m-%d %H:%i') AS t",
    "last_day_of_month": "SELECT last_day_of_month(DATE '2024-02-10') AS d",
    # approximate aggregates
    "approx_distinct": f"SELECT approx_distinct(who) AS n FROM {EVENTS}",
    "count_if_arbitrary_max_by": f"SELECT count_if(amount > 5) AS c, max_by(who, amount) AS top FROM {EVENTS}",
    # arrays and UNNEST
    "unnest_array": "SELECT x FROM UNNEST(ARRAY[3, 1, 2]) AS t(x) ORDER BY x",
    "unnest_with_ordinality": "SELECT x, n FROM UNNEST(ARRAY['a', 'b']) WITH ORDINALITY AS t(x, n) ORDER BY n",
    "cross_join_unnest": "SELECT id, tag FROM (VALUES (1, ARRAY['x', 'y']), (2, ARRAY['z'])) AS t(id, tags) "
    "CROSS JOIN UNNEST(tags) AS u(tag) ORDER BY id, tag",
    "array_functions": "SELECT cardinality(ARRAY[1, 2, 3]) AS c, contains(ARRAY[1, 2], 2) AS has, "
    "array_join(ARRAY['a', 'b'], '-') AS j, element_at(ARRAY[10, 20], 2) AS e",
    "array_agg_sorted": f"SELECT who, array_agg(id ORDER BY id) AS ids FROM {EVENTS} GROUP BY who ORDER BY who",
    "sequence": "SELECT sequence(1, 5, 2) AS s",
    # lambdas
    "transform": "SELECT transform(ARRAY[1, 2, 3], x -> x * 10) AS t",
    "filter": "SELECT filter(ARRAY[1, 2, 3, 4], x -> x % 2 = 0) AS f",
    "reduce": "SELECT reduce(ARRAY[1, 2, 3], 0, (s, x) -> s + x, s -> s) AS r",
    "zip_with": "SELECT zip_with(ARRAY[1, 2], ARRAY[3, 4], (a, b) -> a + b) AS z",
    "any_match": "SELECT any_match(ARRAY[1, 2], x -> x > 1) AS m",
    # regular expressions
    "regexp_extract": "SELECT regexp_extract('order-1234-x', '(\\d+)') AS e, "
    "regexp_extract('a1b22', '[a-z](\\d+)', 1) AS g",
    "regexp_like": f"SELECT id FROM {EVENTS} WHERE regexp_like(who, '^[ab]') ORDER BY id",
    "regexp_replace": "SELECT regexp_replace('a1b22c', '\\d+', '#') AS r",
    "regexp_extract_all": "SELECT regexp_extract_all('a1b22c333', '\\d+') AS a",
    # casts and formatting
    "try_cast": "SELECT try_cast('12' AS integer) AS ok, try_cast('x' AS integer) AS bad",
    "try_division_by_zero": "SELECT try(1 / 0) AS t",
    "division_by_zero_fails": "SELECT 1 / 0 AS t",
    "integer_division": "SELECT 7 / 2 AS i, -7 / 2 AS n, 7 % 3 AS m",
    "format": "SELECT format('%s-%d', 'a', 5) AS f",
    "format_number": "SELECT format('%.2f', 3.14159) AS f",
    "double_to_varchar": "SELECT CAST(1.0E0 AS varchar) AS s, CAST(0.1E0 AS varchar) AS t",
    "typeof": "SELECT typeof(1) AS a, typeof(1.5) AS b, typeof('x') AS c",
    "url_extract_host": "SELECT url_extract_host('https://example.com/a?b=1') AS h",
    "json_extract_scalar": "SELECT json_extract_scalar('{\"a\": {\"b\": 7}}', '$.a.b') AS v",
    "split_part_strpos": "SELECT split_part('a,b,c', ',', 2) AS p, strpos('hello', 'l') AS i, lpad('7', 3, '0') AS z",
    "coalesce_nullif_if": "SELECT coalesce(NULL, 2) AS c, nullif(1, 1) AS n, if(1 > 0, 'y', 'n') AS i",
    "round_double_half": "SELECT round(2.5E0) AS a, round(-2.5E0) AS b",
    "round_decimal": "SELECT round(DECIMAL '2.345', 2) AS c",
}

# numbers: the embedded engine must give Trino's value AND Trino's type (decimal precision/scale)
NUMERIC_CASES = {
    "round_decimal_half_away": "SELECT round(DECIMAL '2.345', 2) AS a, round(DECIMAL '-2.345', 2) AS b, "
    "round(DECIMAL '9.995', 2) AS c, round(DECIMAL '2.5') AS d, "
    "round(DECIMAL '125.5', -1) AS e, round(DECIMAL '-0.005', 2) AS f",
    "round_decimal_column": "SELECT round(x, 1) AS r, floor(x) AS f, ceil(x) AS c, truncate(x) AS t, "
    "truncate(x, 1) AS t1 "
    "FROM (VALUES DECIMAL '1.25', DECIMAL '-1.25', DECIMAL '12.05') AS v(x) ORDER BY x",
    "round_decimal_non_constant_digits": "SELECT round(DECIMAL '1.55', d) AS r FROM (VALUES 1) AS t(d)",
    "round_double_digits": "SELECT round(2.675E0, 2) AS a, round(1.005E0, 2) AS b, round(-0.5E0) AS c, "
    "round(15.0E0, -1) AS d, round(REAL '2.5') AS e",
    "round_integer": "SELECT round(5) AS a, round(25, -1) AS b, round(-25, -1) AS c, round(CAST(7 AS smallint)) AS d",
    "truncate_ceil_floor_double": "SELECT truncate(2.79E0) AS a, truncate(-2.79E0) AS b, ceiling(2.1E0) AS c, "
    "floor(-2.1E0) AS d, floor(REAL '2.5') AS e",
    "truncate_ceil_floor_decimal": "SELECT truncate(DECIMAL '2.79') AS a, truncate(DECIMAL '-2.79', 1) AS b, "
    "ceil(DECIMAL '2.345') AS c, floor(DECIMAL '-2.345') AS d, "
    "ceil(DECIMAL '0.01') AS e, truncate(DECIMAL '0.99') AS f",
    "ceil_floor_truncate_integer": "SELECT ceil(5) AS a, floor(CAST(5 AS bigint)) AS b, truncate(7) AS c",
    "sign_abs": "SELECT sign(5) AS a, sign(-2.5E0) AS b, sign(DECIMAL '-2.5') AS c, abs(DECIMAL '-2.50') AS d, "
    "abs(-3) AS e",
    "mod_negative": "SELECT mod(-7, 3) AS a, mod(7, -3) AS b, -7 % 3 AS c, mod(-7.5E0, 2E0) AS d, "
    "mod(DECIMAL '-7.5', DECIMAL '2') AS e",
    "decimal_literal_types": "SELECT CAST('2.345' AS DECIMAL) AS a, DECIMAL '0.5' AS b, DECIMAL '12' AS c, "
    "DECIMAL '-0.05' AS d",
    "decimal_values_widest_row": "SELECT x / 3 AS q, floor(x) AS f "
    "FROM (VALUES 12.25, 0.5, -100.125) AS v(x) ORDER BY x",
    "rounded_then_divided": "SELECT round(DECIMAL '2.345', 2) / 3 AS a, ceil(DECIMAL '2.5') / 2 AS b",
    "integer_overflow": "SELECT 2147483647 + 1 AS a",
    "bigint_overflow": "SELECT 9223372036854775807 + 1 AS a",
    "decimal_to_integer_cast": "SELECT CAST(DECIMAL '2.5' AS integer) AS a, CAST(DECIMAL '-2.5' AS bigint) AS b, "
    "CAST(2.5E0 AS decimal(3, 0)) AS c",
    "double_to_varchar_cast": "SELECT CAST(1.0E0 AS varchar) AS s",
}
CASES.update(NUMERIC_CASES)

# breadth (issue 18): the embedded engine must ANSWER these, with Trino's value and Trino's type
ROWS_VALUES = (
    "(VALUES (1, ARRAY[1, 2, 3], ARRAY['a']), (2, ARRAY[5], ARRAY['b', 'c', 'd']), "
    "(3, ARRAY[7], ARRAY['e'])) AS v(id, a, b)"
)
BREADTH_CASES = {
    "unnest_two_arrays": f"SELECT id, x, y, n FROM {ROWS_VALUES} CROSS JOIN UNNEST(a, b) WITH ORDINALITY AS u(x, y, "
    f"n) ORDER BY id, n",
    "array_null_edges": "SELECT contains(ARRAY[1, NULL], 2) AS a, contains(ARRAY[1, NULL], 1) AS b, "
    "element_at(ARRAY[1, 2], 3) AS c, element_at(ARRAY[1, 2], -1) AS d, array_join(ARRAY['a', NULL, 'b'], '-') AS e, "
    "cardinality(ARRAY[]) AS f",
    "subscript_out_of_range": "SELECT ARRAY[1, 2][3] AS a",
    "subscript_zero": "SELECT element_at(ARRAY[1, 2], 0) AS a",
    "subscript_ok": f"SELECT id, a[1] AS f, "
    f"b[cardinality(b)] AS l FROM {ROWS_VALUES} WHERE cardinality(a) > 0 ORDER BY id",
    "map_subscript_missing": "SELECT MAP(ARRAY['a'], ARRAY[1])['b'] AS a",
    "map_functions": "SELECT MAP(ARRAY['a', 'b'], ARRAY[1, 2])['b'] AS a, element_at(MAP(ARRAY['a'], ARRAY[1]), "
    "'z') AS b, cardinality(MAP(ARRAY['a'], ARRAY[1])) AS c, map_keys(MAP(ARRAY['a'], "
    "ARRAY[1])) AS k, map_values(MAP(ARRAY['a'], ARRAY[1])) AS v",
    "listagg": "SELECT listagg(x, ',') WITHIN GROUP (ORDER BY x) AS l, "
    "listagg(x) WITHIN GROUP (ORDER BY x DESC) AS m FROM (VALUES 'b', NULL, 'a') AS t(x)",
    "sequence_wrong_direction": "SELECT sequence(1, 5, -1) AS s",
    "lambda_over_column": f"SELECT id, transform(a, x -> x + id) AS t, filter(b, "
    f"s -> s > 'b') AS f FROM {ROWS_VALUES} ORDER BY id",
    "window_frame": "SELECT id, sum(v) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS s, "
    "avg(v) OVER (ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS a, "
    "count(*) OVER (ORDER BY v RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS c FROM (VALUES (1, "
    "10), (2, 20), (3, 20), (4, 5)) AS t(id, v) ORDER BY id",
    "double_to_varchar_edges": "SELECT CAST(1.5E10 AS varchar) AS a, CAST(1e-5 AS varchar) AS b, "
    "CAST(123456789.0E0 AS varchar) AS c, CAST(1e0 / 0e0 AS varchar) AS d, "
    "CAST(-1e0 / 0e0 AS varchar) AS e, CAST(-0.0E0 AS varchar) AS f, CAST(-2.5E-7 AS varchar) AS g, "
    "CAST(1.7976931348623157E308 AS varchar) AS i",
    "typeof_more": "SELECT typeof(CAST(1 AS bigint)) AS a, typeof(1e0) AS b, typeof(DATE '2024-01-01') AS c, "
    "typeof(1.50 * 2) AS d, typeof(true) AS e",
    "format_more": "SELECT format('%.2f', 2.675e0) AS a, format('%s', 1.5e0) AS b, format('%s', 1.50) AS c, "
    "format('%.1f', DECIMAL '0.25') AS d, format('%s%%', 5) AS e, format('%s', 1e7) AS f, "
    "format('%.3f', 0.0005e0) AS g",
    "json_functions": "SELECT json_extract_scalar('{\"a\": 1.50}', '$.a') AS a, "
    'json_extract_scalar(\'{"a": {"b": 1}}\', \'$.a\') AS b, json_extract(\'{"a": {"b": 1.50, '
    "\"c\": [1, \"é\", null, true]}}', '$.a') AS c, json_array_length('[1, 2]') AS d, "
    "is_json_scalar('1') AS e, json_extract_scalar('[1, 2]', '$[1]') AS f, "
    'json_extract(\'{"a b": 1}\', \'$["a b"]\') AS g, json_extract_scalar(\'{"a": "x"}\', '
    "'$.b') AS h",
    "json_parse_format": 'SELECT json_format(json_parse(\'{"b": 1, "a": [1, 2.50, "x", null, true, 1.0e2, '
    '1e10]}\')) AS a, json_format(json_extract(json_parse(\'{"z": {"y": 1, "x": 2}}\'), '
    "'$.z')) AS b, json_array_length(json_parse('[1]')) AS c",
    "url_functions": "SELECT url_extract_host('https://u@example.com:8080/a/b?b=1&c=2#f') AS a, "
    "url_extract_path('https://example.com/a%20b?b=1') AS b, "
    "url_extract_query('https://example.com/a?b=1&c=%202') AS c, "
    "url_extract_parameter('https://x.com/a?b=1&c=2&b=3', 'b') AS d, "
    "url_extract_port('https://example.com:8080/') AS e, "
    "url_extract_protocol('https://x.com') AS f, url_extract_fragment('http://x/#f') AS g, "
    "url_extract_parameter('http://x/?a=%20b+c&d', 'd') AS h",
    "url_edges": "SELECT url_extract_host('not a url') AS a, url_extract_path('abc') AS b, "
    "url_extract_host('http://[::1]:80/') AS c, url_extract_port('http://x/') AS d, "
    "url_extract_host('http://my_host.com/') AS e, url_extract_path('mailto:a@b.c') AS f, "
    "url_extract_host('http://1.2.3.4/') AS g",
    "binary_functions": "SELECT to_hex(to_utf8('ab')) AS a, from_utf8(from_hex('6162')) AS b, md5(to_utf8('a')) AS c, "
    "sha256(to_utf8('a')) AS d, to_hex(md5(to_utf8('a'))) AS e, to_utf8('é') AS f",
    "json_invalid": "SELECT json_extract_scalar('{bad', '$.a') AS a",
    "json_bigs": 'SELECT json_extract(\'{"a": [12345678901234567890, -0.0, 1e-7, 123456789.5, "\\u0001\\n/"]}\', '
    "'$.a') AS a, json_extract_scalar('{\"a\": true}', '$.a') AS b, "
    "json_extract_scalar('{\"a\": null}', '$.a') AS c",
    "url_plus": "SELECT url_extract_parameter('http://x/?a=b+c%2Bd', 'a') AS a, "
    "url_extract_query('http://x/?a=b+c%2Bd') AS q, url_extract_host('HTTP://EXAMPLE.COM/') AS h, "
    "url_extract_path('http://x') AS p",
    "array_join_ints": "SELECT array_join(ARRAY[1, NULL, 3], ',') AS a",
    "contains_nested_null": "SELECT contains(CAST(NULL AS array(integer)), 1) AS a",
    "unnest_null_array": "SELECT id, x FROM (VALUES (1, ARRAY[1, 2]), (2, NULL)) AS t(id, "
    "a) CROSS JOIN UNNEST(a) AS u(x) ORDER BY id, x",
    "transform_decimal": "SELECT transform(ARRAY[1.5, 2.25], x -> x * 2) AS a",
    "filter_null": "SELECT filter(ARRAY[1, NULL, 3], x -> x > 1) AS a",
    "array_agg_nulls": "SELECT array_agg(x ORDER BY x) AS a FROM (VALUES 2, NULL, 1) AS t(x)",
    "cast_double_col": "SELECT CAST(x AS varchar) AS a FROM (VALUES 1e0, 2.5e-4, 12345678.0e0) AS t(x) ORDER BY a",
    "sequence_big": "SELECT cardinality(sequence(1, 20000)) AS a",
    "listagg_distinct": "SELECT listagg(DISTINCT x, ',') WITHIN GROUP (ORDER BY x) AS a FROM (VALUES 'b', 'a', "
    "'b') AS t(x)",
    "element_at_null": "SELECT element_at(ARRAY[1, 2], CAST(NULL AS integer)) AS a, ARRAY[1, "
    "2][CAST(NULL AS integer)] AS b",
    "array_max_min": "SELECT array_max(ARRAY[1, 3, 2]) AS a, array_max(ARRAY[1, NULL]) AS b, array_min(ARRAY['b', "
    "'a']) AS c",
    "array_sort_distinct": "SELECT array_sort(ARRAY[3, NULL, 1]) AS a, "
    "array_distinct(ARRAY[2, 1, NULL, 2, NULL]) AS b, array_sort(ARRAY['b', 'A', 'a']) AS c",
    "array_position": "SELECT array_position(ARRAY[1, 2], 3) AS a, array_position(ARRAY[1, 2, 2], 2) AS b, "
    "array_position(ARRAY[1, NULL], NULL) AS c",
    "slice": "SELECT slice(ARRAY[1, 2, 3, 4], 2, 2) AS a, slice(ARRAY[1, 2, 3, 4], -2, 5) AS b, "
    "slice(ARRAY[1, 2], 5, 1) AS c, slice(ARRAY[1, 2], -5, 2) AS d, slice(ARRAY[1, 2, 3], -3, "
    "1) AS e",
    "slice_zero": "SELECT slice(ARRAY[1, 2], 0, 1) AS a",
    "split": "SELECT split('a,b,,c', ',') AS a, split('', ',') AS b, split('a::b', '::') AS c",
    "array_concat": "SELECT ARRAY[1] || ARRAY[2, 3] AS a, concat(ARRAY['x'], ARRAY['y']) AS b, "
    "ARRAY[1] || CAST(NULL AS array(integer)) AS c",
    "format_decimal_text": "SELECT format('%s', DECIMAL '0.0000001') AS a, format('%s', DECIMAL '-12.000') AS b",
}
# still refused (see docs/embedded-engine.md): the general test checks they are refused, not wrong
REFUSED_CASES = {
    "format_null": "SELECT format('%s|%d', CAST(NULL AS varchar), CAST(NULL AS integer)) AS a",
    "typeof_col": "SELECT typeof(x) AS a FROM (VALUES 'ab') AS t(x)",
    "unnest_left_join": "SELECT id, x FROM (VALUES (1, ARRAY[1]), (2, ARRAY[])) AS t(id, "
    "a) LEFT JOIN UNNEST(a) AS u(x) ON true ORDER BY id",
    "json_path_star": "SELECT json_extract('[1]', '$[*]') AS a",
}
CASES.update(BREADTH_CASES)
CASES.update(REFUSED_CASES)
# the original cases the embedded engine now answers: held to the same rule
MUST_ANSWER = sorted(
    {
        *BREADTH_CASES,
        "row_number",
        "rank_lag_running_sum",
        "first_value_ntile",
        "count_if_arbitrary_max_by",
        "unnest_array",
        "unnest_with_ordinality",
        "cross_join_unnest",
        "array_functions",
        "array_agg_sorted",
        "sequence",
        "transform",
        "filter",
        "reduce",
        "zip_with",
        "any_match",
        "format",
        "format_number",
        "double_to_varchar",
        "typeof",
        "url_extract_host",
        "json_extract_scalar",
        "double_to_varchar_cast",
    }
)


@pytest.mark.parametrize("name", sorted(CASES))
def test_trino_sql_gives_trinos_answer_or_unsupported_locally(tlh, name, record_property):
    sql = CASES[name]
    trino_error = local_error = None
    try:
        on_trino = tlh.engine("trino").execute(sql).table
    except Exception as e:  # noqa: BLE001 - some cases are errors on Trino too
        trino_error, on_trino = e, None
    try:
        local = tlh.engine("duckdb").execute(sql).table
        outcome = "same answer"
    except Unsupported as e:
        record_property("outcome", f"unsupported: {e.message}")
        assert on_trino is not None or trino_error is not None
        return
    except Exception as e:  # noqa: BLE001
        local_error, local = e, None
        outcome = "error"
    if trino_error is not None:
        # Trino fails it (e.g. division by zero): the embedded engine must fail too
        assert local_error is not None, f"{name}: Trino fails ({trino_error}) but embedded answered {local}"
        record_property("outcome", "error on both")
        return
    assert local_error is None, (
        f"{name}: embedded raised {type(local_error).__name__}: {local_error} instead of Unsupported"
    )
    problem = differences(on_trino, local, ordered=has_top_level_order_by(sql))
    assert problem is None, f"{name}: {problem}"
    record_property("outcome", outcome)


def test_every_case_is_documented():
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "trino.md").read_text()
    missing = [n for n in CASES if f"`{n}`" not in doc]
    assert not missing, f"docs/trino.md lacks {missing}"


@pytest.mark.parametrize("name", sorted(NUMERIC_CASES))
def test_numeric_functions_give_trinos_types_too(tlh, name):
    """Value equality compares decimals as floats; for numbers the types must agree as well
    (a decimal(38, 0) where Trino says decimal(5, 3) changes every later division)."""
    sql = NUMERIC_CASES[name]
    try:
        on_trino = tlh.engine("trino").execute(sql).table
        local = tlh.engine("duckdb").execute(sql).table
    except Exception:  # noqa: BLE001 - errors and Unsupported are judged by the test above
        return
    assert local.schema.types == on_trino.schema.types, f"{name}: {local.schema} vs {on_trino.schema}"


@pytest.mark.parametrize("name", MUST_ANSWER)
def test_embedded_engine_answers_with_trinos_value_and_type(tlh, name):
    """Arrays, lambdas, UNNEST, JSON, URL, formatting: answered (not refused), with Trino's value
    and Trino's type (typeof on Trino; varchar lengths aside), or an error where Trino errors."""
    sql = CASES[name]
    trino = tlh.engine("trino")
    try:
        on_trino = trino.execute(sql).table
    except Exception:  # noqa: BLE001 - Trino fails it: so must the embedded engine, without Unsupported
        with pytest.raises(Exception) as local_error:
            tlh.engine("duckdb").execute(sql)
        assert not isinstance(local_error.value, Unsupported), f"{name}: refused instead of failing like Trino"
        return
    local = tlh.engine("duckdb").execute(sql).table
    problem = differences(on_trino, local, ordered=has_top_level_order_by(sql))
    assert problem is None, f"{name}: {problem}"
    types = trino_type_names(trino, sql, on_trino.column_names)
    if types is not None:
        assert [arrow_as_trino(t) for t in local.schema.types] == types, f"{name}: {local.schema} vs {types}"

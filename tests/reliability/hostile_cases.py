"""The hostile-input corpus (issue 8): bad inputs for the magics, the Python API and the CLI,
as data. test_hostile_input.py runs each one against a real lakehouse and checks a clear
error, nothing committed and no file outside the warehouse touched. The REST cases live in
tests/server/test_hostile_rest.py (they need the pytest-jupyter server fixtures).

A case: (surface, id, category, action, expect).
- surface "python": action(h) is called with the test's context `h` (h.lh, h.inp, h.out, ...).
- surface "magic": action is the text of a notebook cell; {inp} {out} {root} are filled in.
- surface "cli": action is the argv of `lakelab` (run in-process), {inp} {out} are filled in;
  subprocess=True runs `python -m lakelab ...` instead.
- expect: words that must all appear in the error message (case-insensitive). A case with
  `accept` set is input the product must ACCEPT and handle safely: `accept(result, h)` must
  hold (e.g. an injection attempt bound as a plain value).
"""

from __future__ import annotations

import base64
import datetime
import decimal
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

import lakelab

CATEGORIES = (
    "malformed_file",
    "wrong_type",
    "huge_field",
    "path_traversal",
    "sql_injection",
    "unicode_reserved",
    "oversized_limit",
    "bad_paging",
    "bad_option",
)


@dataclass(frozen=True)
class Case:
    surface: str
    id: str
    category: str
    action: Any
    expect: tuple[str, ...] = ()
    accept: Callable[[Any, Any], bool] | None = None
    subprocess: bool = False

    def __post_init__(self) -> None:
        assert self.category in CATEGORIES, self.category


def _token(ns: str, after: Any) -> str:
    raw = json.dumps({"ns": ns, "after": after}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


ONE = pa.table({"id": pa.array([1], pa.int64())})
INJECT = "1; DROP TABLE hx.t"


def P(id: str, category: str, fn: Callable[[Any], Any], *expect: str, accept=None) -> Case:
    return Case("python", id, category, fn, tuple(expect), accept)


def M(id: str, category: str, cell: str, *expect: str, accept=None) -> Case:
    return Case("magic", id, category, cell, tuple(expect), accept)


def C(id: str, category: str, argv: list[str], *expect: str, subprocess: bool = False, accept=None) -> Case:
    return Case("cli", id, category, argv, tuple(expect), accept, subprocess)


PYTHON = [
    # malformed files
    P(
        "csv-ragged-rows",
        "malformed_file",
        lambda h: h.lh.ingest(f"{h.inp}/ragged.csv", "hx.t"),
        "malformed CSV",
        "ragged.csv",
        "line 3",
        "expected 2 columns, got 3",
    ),
    P(
        "parquet-binary-garbage",
        "malformed_file",
        lambda h: h.lh.ingest(f"{h.inp}/garbage.parquet", "hx.t"),
        "garbage.parquet",
        "not a readable Parquet file",
    ),
    P(
        "parquet-cut-in-half",
        "malformed_file",
        lambda h: h.lh.ingest(f"{h.inp}/truncated.parquet", "hx.t"),
        "truncated.parquet",
        "not a readable Parquet file",
    ),
    P(
        "csv-empty-file",
        "malformed_file",
        lambda h: h.lh.ingest(f"{h.inp}/empty.csv", "hx.new"),
        "empty.csv",
        "is empty",
    ),
    P(
        "parquet-empty-file",
        "malformed_file",
        lambda h: h.lh.ingest(f"{h.inp}/empty.parquet", "hx.new"),
        "empty.parquet",
        "0 bytes",
    ),
    P(
        "json-not-json",
        "malformed_file",
        lambda h: h.lh.ingest(f"{h.inp}/notjson.json", "hx.new"),
        "notjson.json",
        "not JSON",
    ),
    P(
        "ndjson-truncated-record",
        "malformed_file",
        lambda h: h.lh.ingest(f"{h.inp}/truncated.ndjson", "hx.new"),
        "malformed JSON",
        "truncated.ndjson",
    ),
    P(
        "gzip-not-gzip",
        "malformed_file",
        lambda h: h.lh.ingest(f"{h.inp}/notgzip.csv.gz", "hx.t"),
        "notgzip.csv.gz",
        "cannot read",
        "compressed",
    ),
    P(
        "gzip-truncated",
        "malformed_file",
        lambda h: h.lh.ingest(f"{h.inp}/truncated.csv.gz", "hx.new"),
        "truncated.csv.gz",
        "cannot read",
    ),
    P(
        "csv-latin1-value",
        "malformed_file",
        lambda h: h.lh.ingest(f"{h.inp}/latin1.csv", "hx.new"),
        "latin1.csv",
        "'name'",
        "not UTF-8",
        "iconv",
    ),
    P(
        "publish-garbage-parquet",
        "malformed_file",
        lambda h: h.lh.publish(f"{h.inp}/garbage.parquet", "hx.p"),
        "garbage.parquet",  # read as ingest reads it: the same message
        "not a readable Parquet file",
    ),
    P(
        "publish-ragged-csv",
        "malformed_file",
        lambda h: h.lh.publish(f"{h.inp}/ragged.csv", "hx.p"),
        "malformed CSV",  # read as ingest reads it: the same message, with the line
        "ragged.csv",
        "line 3",
    ),
    P(
        "config-binary-garbage",
        "malformed_file",
        lambda h: lakelab.connect(f"{h.inp}/garbage.yaml"),
        "garbage.yaml",
        "cannot be read",
    ),
    P("config-a-yaml-list", "malformed_file", lambda h: lakelab.connect(f"{h.inp}/list.yaml"), "list.yaml", "mapping"),
    P("config-is-a-directory", "path_traversal", lambda h: lakelab.connect(str(h.inp)), "cannot be read"),
    P("config-missing", "path_traversal", lambda h: lakelab.connect(f"{h.inp}/../nope/config.yaml"), "does not exist"),
    # wrong types
    P(
        "append-string-into-int-column",
        "wrong_type",
        lambda h: h.lh.ingest(pa.table({"id": ["x"], "name": ["a"]}), "hx.t"),
        "'id'",
        "int64",
    ),
    P(
        "csv-text-in-int-column",
        "wrong_type",
        lambda h: h.lh.ingest(f"{h.inp}/text_id.csv", "hx.t"),
        "text_id.csv",
        "line 2",
        "'id'",
        "'ten'",
        "int64",
    ),
    P(
        "publish-append-wrong-type",
        "wrong_type",
        lambda h: h.lh.publish(pa.table({"id": ["x"], "name": ["a"]}), "hx.t", mode="append"),
        "cannot publish to hx.t",
    ),
    P("sql-limit-text", "wrong_type", lambda h: h.lh.sql("SELECT 1", limit="ten"), "limit", "'ten'"),
    P("preview-limit-text", "wrong_type", lambda h: h.lh.dataset("hx.t").preview("10"), "preview size", "'10'"),
    P("tags-a-number", "wrong_type", lambda h: h.lh.dataset("hx.t").set_metadata(tags=5), "tags", "int"),
    P("tags-a-dict", "wrong_type", lambda h: h.lh.publish(ONE, "hx.p", tags={"a": 1}), "tags", "dict"),
    P("tags-list-of-numbers", "wrong_type", lambda h: h.lh.dataset("hx.t").set_metadata(tags=[1, 2]), "tag", "int"),
    P("owner-a-number", "wrong_type", lambda h: h.lh.dataset("hx.t").set_metadata(owner=5), "owner", "text"),
    P(
        "description-a-list",
        "wrong_type",
        lambda h: h.lh.dataset("hx.t").set_metadata(description=["x"]),
        "description",
        "text",
    ),
    P("ingest-an-int", "wrong_type", lambda h: h.lh.ingest(42, "hx.t"), "cannot ingest a int"),
    P("dataset-name-none", "wrong_type", lambda h: h.lh.dataset(None), "table name", "NoneType"),
    P(
        "sql-param-a-dict",
        "wrong_type",
        lambda h: h.lh.sql("SELECT {{ n }}", params={"n": {"a": 1}}),
        "{{ n }}",
        "dict",
    ),
    P(
        "publish-model-over-table",
        "wrong_type",
        lambda h: h.lh.publish({"w": 1}, "hx.t", kind="model"),
        "hx.t is a table",
        "model",
    ),
    P(
        "publish-df-mixed-types",
        "wrong_type",
        lambda h: h.lh.publish(pd.DataFrame({"a": [1, "x"]}), "hx.p"),
        "column a",
        "mixed",
    ),
    P("publish-no-columns", "wrong_type", lambda h: h.lh.publish(pa.table({}), "hx.p"), "no columns"),
    P("ingest-no-columns", "wrong_type", lambda h: h.lh.ingest(pa.table({}), "hx.t"), "no columns"),
    P(
        "publish-duration-new-namespace",
        "wrong_type",
        lambda h: h.lh.publish(pa.table({"d": [datetime.timedelta(1)]}), "fresh.deep.p"),
        "column 'd'",
        "duration",
    ),
    P(
        "model-unpicklable-new-namespace",
        "wrong_type",
        lambda h: h.lh.publish(lambda x: x, "fresh.m", kind="model"),
        "cannot store",
        "pickl",
    ),
    P(
        "model-inputs-a-number",
        "wrong_type",
        lambda h: h.lh.publish({"w": 1}, "hx.m", kind="model", inputs=5),
        "inputs",
        "int",
    ),
    P("preview-columns-a-number", "wrong_type", lambda h: h.lh.dataset("hx.t").preview(5, columns=5), "columns", "int"),
    P("upsert-key-a-number", "wrong_type", lambda h: h.lh.ingest(ONE, "hx.t", mode="upsert", key=5), "columns", "int"),
    P(
        "partition-by-a-number",
        "wrong_type",
        lambda h: h.lh.ingest(ONE, "hx.new", partition_by=5),
        "partition_by",
        "int",
    ),
    P("search-query-a-number", "wrong_type", lambda h: h.lh.datasets(query=5), "query", "int"),
    P("search-tag-a-list", "wrong_type", lambda h: h.lh.datasets(tag=["a"]), "tag", "list"),
    P(
        "sql-param-decimal-nan",
        "wrong_type",
        lambda h: h.lh.sql("SELECT {{ n }} AS v", params={"n": decimal.Decimal("NaN")}),
        "{{ n }}",
        "NaN",
    ),
    P("sql-none", "wrong_type", lambda h: h.lh.sql(None), "SQL must be text"),
    P("ingest-format-a-number", "wrong_type", lambda h: h.lh.ingest(ONE, "hx.t", format=5), "format", "int"),
    P("as-of-nan", "wrong_type", lambda h: h.lh.dataset("hx.t").preview(5, as_of=float("nan")), "as_of", "nan"),
    P(
        "snapshot-id-fraction",
        "wrong_type",
        lambda h: h.lh.dataset("hx.t").preview(5, snapshot_id=1.5),
        "snapshot_id",
        "whole number",
    ),
    P(
        "transform-duplicate-columns",
        "wrong_type",
        lambda h: h.lh.transform("fresh.o", sql="SELECT 1 AS a, 2 AS a", engine="duckdb"),
        "two columns named 'a'",
    ),
    P(
        "transform-interval-new-namespace",
        "wrong_type",
        lambda h: h.lh.transform("fresh.deep.o", sql="SELECT interval '1' day AS x", engine="duckdb"),
        "interval",
    ),
    P(
        "ingest-ragged-new-nested-namespace",
        "malformed_file",
        lambda h: h.lh.ingest(f"{h.inp}/ragged.csv", "fresh.a.b.t"),
        "malformed CSV",
    ),
    P(
        "sql-insert-unknown-column",
        "wrong_type",
        lambda h: h.lh.sql("INSERT INTO hx.t (id, nosuch) SELECT 1, 2"),
        "nosuch",
        "does not have",
    ),
    P(
        "csv-header-not-utf8",
        "malformed_file",
        lambda h: h.lh.ingest(f"{h.inp}/latin1_header.csv", "hx.new"),
        "latin1_header.csv",
        "UTF-8",
    ),
    P(
        "csv-blank-column-name",
        "malformed_file",
        lambda h: h.lh.ingest(f"{h.inp}/blank_header.csv", "hx.new"),
        "empty name",
    ),
    P(
        "publish-ndjson-100000-levels-deep",
        "malformed_file",
        lambda h: h.lh.publish(f"{h.inp}/deep_arrays.ndjson", "hx.p"),
        "deep_arrays.ndjson",
        "128 levels deep",
    ),
    P(
        "ndjson-line-20mb",
        "huge_field",
        lambda h: h.lh.ingest(f"{h.inp}/bigline.ndjson", "hx.new"),
        "bigline.ndjson",
        "longer than",
    ),
    P(
        "partition-transform-with-comma",
        "wrong_type",
        lambda h: h.lh.ingest(ONE, "hx.new", partition_by="bucket(16, id)"),
        "unknown partition transform 'bucket'",
    ),
    P(
        "publish-bad-column-name",
        "sql_injection",
        lambda h: h.lh.publish(pa.table({'a"; DROP TABLE hx.t; --': [1]}), "hx.p"),
        "column",
        "not a valid name",
    ),
    P(
        "description-lone-surrogate",
        "unicode_reserved",
        lambda h: h.lh.dataset("hx.t").set_metadata(description="a\ud800b"),
        "description",
        "invalid unicode",
    ),
    P(
        "search-lone-surrogate",
        "unicode_reserved",
        lambda h: h.lh.datasets(query="caf\ud800"),
        "query",
        "invalid unicode",
    ),
    P(
        "owner-nul-byte",
        "unicode_reserved",
        lambda h: h.lh.dataset("hx.t").set_metadata(owner="bob\x00"),
        "owner",
        "NUL",
    ),
    P(
        "tags-100000",
        "huge_field",
        lambda h: h.lh.dataset("hx.t").set_metadata(tags=[f"t{i}" for i in range(100_000)]),
        "tags",
        "more than 100",
    ),
    # huge fields
    P(
        "description-10mb",
        "huge_field",
        lambda h: h.lh.dataset("hx.t").set_metadata(description="x" * (10 << 20)),
        "description",
        "longer than",
    ),
    P(
        "publish-description-10mb",
        "huge_field",
        lambda h: h.lh.publish(ONE, "hx.p", description="x" * (10 << 20)),
        "description",
        "longer than",
    ),
    P("table-name-1mb", "huge_field", lambda h: h.lh.ingest(ONE, "hx." + "a" * (1 << 20)), "longer than 128"),
    P(
        "csv-cell-50mb",
        "huge_field",
        lambda h: h.lh.ingest(f"{h.inp}/bigcell.csv", "hx.new"),
        "bigcell.csv",
        "longer than",
    ),
    P(
        "column-name-300-chars",
        "huge_field",
        lambda h: h.lh.ingest(pa.table({"c" * 300: [1]}), "hx.new"),
        "column",
        "longer than 128",
    ),
    P(
        "owner-1mb",
        "huge_field",
        lambda h: h.lh.dataset("hx.t").set_metadata(owner="o" * (1 << 20)),
        "owner",
        "longer than",
    ),
    # path traversal
    P(
        "source-etc-passwd",
        "path_traversal",
        lambda h: h.lh.ingest(f"{h.inp}/../../../../../../etc/passwd", "hx.t"),
        "/etc/passwd",
        "format",
    ),
    P(
        "table-name-etc-passwd",
        "path_traversal",
        lambda h: h.lh.ingest(ONE, "../../etc/passwd"),
        "table name",
        "../../etc/passwd",
    ),
    P("namespace-dotdot", "path_traversal", lambda h: h.lh.ingest(ONE, "ns/../../x"), "ns/../../x"),
    P("dataset-name-with-slash", "path_traversal", lambda h: h.lh.dataset("hx/t"), "hx/t", "namespace"),
    P("absolute-path-as-table-name", "path_traversal", lambda h: h.lh.publish(ONE, f"{h.out}/t"), "table name"),
    P(
        "sql-create-table-location-outside",
        "path_traversal",
        lambda h: h.lh.sql(f"CREATE TABLE hx.evil WITH (location = 'file://{h.out}/evil') AS SELECT 1 AS x"),
        "WITH (properties)",
        "not supported",
    ),
    P(
        "sql-copy-to-outside",
        "path_traversal",
        lambda h: h.lh.sql(f"COPY (SELECT 1) TO '{h.out}/x.csv'"),
        "COPY",
        "not supported",
    ),
    P(
        "sql-read-csv-etc-passwd",
        "path_traversal",
        lambda h: h.lh.sql("SELECT * FROM read_csv('/etc/passwd')"),
        "read_csv",
        "not supported",
    ),
    P("sql-attach-outside", "path_traversal", lambda h: h.lh.sql(f"ATTACH '{h.out}/x.db' AS x"), "syntax error"),
    P(
        "report-from-etc-passwd",
        "path_traversal",
        lambda h: h.lh.publish("/etc/passwd", "hx.r", kind="report"),
        "report",
        "/etc/passwd",
    ),
    P(
        "transform-out-dotdot",
        "path_traversal",
        lambda h: h.lh.transform("../hx.o", sql="SELECT 1 AS x", engine="duckdb"),
        "../hx.o",
    ),
    # SQL injection through names and parameters
    P("name-semicolon-drop", "sql_injection", lambda h: h.lh.ingest(ONE, "hx.x; DROP TABLE hx.t"), "not a valid name"),
    P("name-double-quote", "sql_injection", lambda h: h.lh.ingest(ONE, 'hx.a"b'), 'a"b', "not a valid name"),
    P("name-backticks", "sql_injection", lambda h: h.lh.ingest(ONE, "hx.`b`"), "`b`", "not a valid name"),
    P("namespace-single-quote", "sql_injection", lambda h: h.lh.ingest(ONE, "h'x.b"), "h'x", "not a valid name"),
    P(
        "sql-two-statements",
        "sql_injection",
        lambda h: h.lh.sql("SELECT * FROM hx.t; DROP TABLE hx.t"),
        "one SQL statement",
        "got 2",
    ),
    P(
        "sql-quoted-identifier-escape",
        "sql_injection",
        lambda h: h.lh.sql('SELECT * FROM "hx"."t""; drop"'),
        "not a valid name",
    ),
    P(
        "ident-filter-injection",
        "sql_injection",
        lambda h: h.lh.sql("SELECT * FROM {{ t | ident }}", params={"t": 'hx.t"; DROP TABLE hx.t; --'}),
        "{{ t | ident }}",
        "not a valid name",
    ),
    P(
        "param-binds-as-a-value",
        "sql_injection",
        lambda h: h.lh.sql("SELECT {{ n }} AS v", params={"n": INJECT}),
        accept=lambda r, h: r.table.to_pylist() == [{"v": INJECT}],
    ),
    P(
        "param-in-where-binds",
        "sql_injection",
        lambda h: h.lh.sql("SELECT count(*) AS n FROM hx.t WHERE name = {{ n }}", params={"n": "a' OR '1'='1"}),
        accept=lambda r, h: r.table.to_pylist() == [{"n": 0}],
    ),
    P(
        "preview-columns-injection",
        "sql_injection",
        lambda h: h.lh.dataset("hx.t").preview(5, columns="id; DROP TABLE hx.t"),
        "column",
        "not a valid name",
    ),
    P(
        "partition-by-injection",
        "sql_injection",
        lambda h: h.lh.ingest(ONE, "hx.new", partition_by="id); DROP TABLE hx.t; --"),
        "partition",
        "not a valid",
    ),
    P(
        "upsert-key-injection",
        "sql_injection",
        lambda h: h.lh.ingest(ONE, "hx.t", mode="upsert", key="id; DROP"),
        "column",
        "not a valid name",
    ),
    P(
        "column-name-injection",
        "sql_injection",
        lambda h: h.lh.ingest(pa.table({'a"; DROP TABLE hx.t; --': [1]}), "hx.new"),
        "column",
        "rename",
    ),
    P(
        "snapshot-id-injection",
        "sql_injection",
        lambda h: h.lh.dataset("hx.t").preview(5, snapshot_id="1 OR 1=1"),
        "snapshot_id",
        "not a number",
    ),
    # unicode and reserved identifiers
    P("name-emoji", "unicode_reserved", lambda h: h.lh.ingest(ONE, "hx.t\U0001f600"), "not a valid name"),
    P("name-rtl-override", "unicode_reserved", lambda h: h.lh.ingest(ONE, "hx.t\u202eabc"), "not a valid name"),
    P("name-nul-byte", "unicode_reserved", lambda h: h.lh.ingest(ONE, "hx.t\x00x"), "not a valid name"),
    P("name-cyrillic-homoglyph", "unicode_reserved", lambda h: h.lh.ingest(ONE, "h\u0445.t"), "not a valid name"),
    P("name-over-255-chars", "unicode_reserved", lambda h: h.lh.ingest(ONE, "hx." + "t" * 256), "longer than 128"),
    P(
        "column-nul-byte",
        "unicode_reserved",
        lambda h: h.lh.ingest(f"{h.inp}/nul_header.csv", "hx.new"),
        "column",
        "not a valid name",
    ),
    P(
        "quoted-reserved-word-name",
        "unicode_reserved",
        lambda h: h.lh.ingest(ONE, 'hx."order"'),
        '"order"',
        "not a valid name",
    ),
    # oversized limits
    P(
        "preview-limit-10e12",
        "oversized_limit",
        lambda h: h.lh.dataset("hx.t").preview(10**12),
        "preview size",
        "10,000",
    ),
    P("preview-limit-negative", "oversized_limit", lambda h: h.lh.dataset("hx.t").preview(-1), "preview size", "-1"),
    P("preview-limit-float", "oversized_limit", lambda h: h.lh.dataset("hx.t").preview(2.5), "preview size", "2.5"),
    P("sql-limit-negative", "oversized_limit", lambda h: h.lh.sql("SELECT 1", limit=-5), "limit", "-5"),
    P("sql-limit-a-bool", "oversized_limit", lambda h: h.lh.sql("SELECT 1", limit=True), "limit", "True"),
    P(
        "sql-limit-10e12-is-just-a-bound",
        "oversized_limit",
        lambda h: h.lh.sql("SELECT id FROM hx.t", limit=10**12),
        accept=lambda r, h: r.num_rows == 2 and not r.has_more,
    ),
    P("search-limit-10e12", "oversized_limit", lambda h: h.lh.datasets(limit=10**12), "limit", "1000"),
    P(
        "lineage-depth-10e6",
        "oversized_limit",
        lambda h: h.lh.dataset("hx.t").lineage(depth=10**6),
        "lineage depth",
        "10",
    ),
    P("page-size-10e9", "oversized_limit", lambda h: h.list_datasets("hx", page_size=10**9), "page_size", "1000"),
    # bad paging tokens
    P(
        "page-token-forged-after",
        "bad_paging",
        lambda h: h.list_datasets("hx", page_token=_token("hx", "x; DROP TABLE hx.t")),
        "page_token",
        "not valid",
    ),
    P(
        "page-token-base64-garbage",
        "bad_paging",
        lambda h: h.list_datasets("hx", page_token="!!%%not-base64%%!!"),
        "page_token",
        "not valid",
    ),
    P(
        "page-token-other-namespace",
        "bad_paging",
        lambda h: h.list_datasets("hx", page_token=_token("zz", "t")),
        "page_token",
        "not valid",
    ),
    P(
        "page-token-negative-offset",
        "bad_paging",
        lambda h: h.list_datasets("hx", page_token=_token("hx", -5)),
        "page_token",
        "not valid",
    ),
]

MAGIC = [
    M(
        "ingest-csv-ragged",
        "malformed_file",
        "%ingest {inp}/ragged.csv --into hx.t --no-progress",
        "malformed CSV",
        "line 3",
    ),
    M(
        "ingest-truncated-parquet",
        "malformed_file",
        "%ingest {inp}/truncated.parquet --into hx.t",
        "truncated.parquet",
        "not a readable Parquet file",
    ),
    M(
        "ingest-gzip-not-gzip",
        "malformed_file",
        "%ingest {inp}/notgzip.csv.gz --into hx.t",
        "notgzip.csv.gz",
        "compressed",
    ),
    M("ingest-string-df-into-int", "wrong_type", "%ingest sdf --into hx.t", "'id'", "int64"),
    M("ingest-unclosed-quote", "bad_option", "%ingest 'unterminated --into hx.t", "%ingest", "closing quotation"),
    M("ingest-unknown-mode", "bad_option", "%ingest df --into hx.t --mode nuke", "--mode", "invalid choice"),
    M(
        "ingest-source-etc-passwd",
        "path_traversal",
        "%ingest ../../../../../../etc/passwd --into hx.t",
        "/etc/passwd",
        "format",
    ),
    M("ingest-into-dotdot", "path_traversal", "%ingest df --into ../../etc/passwd", "table name", "empty part"),
    M("ingest-into-injection", "sql_injection", "%ingest df --into 'hx.x; DROP TABLE hx.t'", "not a valid name"),
    M("ingest-into-emoji", "unicode_reserved", "%ingest df --into hx.\U0001f600", "not a valid name"),
    M("trino-limit-text", "wrong_type", "%%trino -l ten\nSELECT 1", "--limit", "invalid int value"),
    M("trino-limit-negative", "oversized_limit", "%%trino -l -5\nSELECT 1", "-l N"),
    M(
        "trino-limit-10e12",
        "oversized_limit",
        "%%trino -l 1000000000000\nSELECT id FROM hx.t",
        accept=lambda r, h: r.num_rows == 2,
    ),
    M(
        "trino-param-binds-as-a-value",
        "sql_injection",
        f'%%trino --param n="{INJECT}"\nSELECT {{{{ n }}}} AS v',
        accept=lambda r, h: r.table.to_pylist() == [{"v": INJECT}],
    ),
    M("trino-two-statements", "sql_injection", "%%trino\nSELECT * FROM hx.t; DROP TABLE hx.t", "one SQL statement"),
    M("trino-quoted-name-escape", "sql_injection", '%%trino\nSELECT * FROM "hx"."t""; drop"', "not a valid name"),
    M("trino-into-dotdot", "path_traversal", "%%trino --into ../x\nSELECT 1 AS a", "empty part"),
    M("trino-copy-outside", "path_traversal", "%%trino\nCOPY (SELECT 1) TO '{out}/x.csv'", "COPY", "not supported"),
    M("trino-install-extension", "path_traversal", "%%trino\nINSTALL httpfs", "INSTALL", "not supported"),
    M(
        "trino-huge-literal",
        "huge_field",
        "%%trino\nSELECT length('" + "x" * (2 << 20) + "') AS n",
        accept=lambda r, h: r.table.to_pylist() == [{"n": 2 << 20}],
    ),
    M(
        "trino-into-duplicate-columns",
        "wrong_type",
        "%%trino --into fresh.a.o\nSELECT 1 AS a, 2 AS a",
        "two columns named",
    ),
    M("trino-insert-unknown-column", "wrong_type", "%%trino\nINSERT INTO hx.t (id, nosuch) SELECT 1, 2", "nosuch"),
    M("trino-output-not-identifier", "bad_option", "%%trino -o 'a b'\nSELECT 1", "not a valid variable name"),
    M("trino-unclosed-quote", "bad_option", "%%trino --param 'n=1\nSELECT 1", "%%trino", "closing quotation"),
    M("trino-with-traversal", "path_traversal", "%%trino --with ../../x\nSELECT 1", "saved query name"),
    M("publish-as-dotdot", "path_traversal", "%publish df --as ../../etc/passwd", "table name", "empty part"),
    M("publish-model-over-table", "wrong_type", "%publish df --as hx.t --kind model", "hx.t is a table"),
    M("publish-tab-in-tag", "wrong_type", "%publish df --as hx.p --tags 'a\tb'", "tag", "not valid"),
    M("publish-unknown-kind", "bad_option", "%publish df --as hx.p --kind virus", "--kind", "invalid choice"),
    M("publish-garbage-parquet", "malformed_file", "%publish {inp}/garbage.parquet --as hx.p", "garbage.parquet"),
    M("publish-inputs-traversal", "path_traversal", "%publish df --as hx.p --inputs ../../etc", "empty part"),
    M(
        "publish-description-huge",
        "huge_field",
        "%publish df --as hx.p --description " + "d" * 20_000,
        "description",
        "longer than",
    ),
    M("workspace-no-action", "bad_option", "%workspace", "usage"),
    M("workspace-unknown-action", "bad_option", "%workspace explode", "invalid choice"),
    M("workspace-name-traversal", "path_traversal", "%workspace up ../../x", "workspace name", "not a valid name"),
    M("workspace-cpus-text", "wrong_type", "%workspace up w --cpus ten", "--cpus", "invalid int value"),
    M("workspace-cpus-on-status", "bad_option", "%workspace status w --cpus 2", "--cpus", "up only"),
    M("workspace-negative-workers", "oversized_limit", "%workspace up w --workers -3", "workers", "-3"),
]

CLI = [
    C(
        "ingest-ragged-csv",
        "malformed_file",
        ["ingest", "{inp}/ragged.csv", "--into", "hx.t"],
        "malformed CSV",
        "line 3",
    ),
    C(
        "ingest-gzip-not-gzip",
        "malformed_file",
        ["ingest", "{inp}/notgzip.csv.gz", "--into", "hx.t"],
        "notgzip.csv.gz",
        "compressed",
    ),
    C("ingest-empty-csv", "malformed_file", ["ingest", "{inp}/empty.csv", "--into", "hx.new"], "is empty"),
    C(
        "ingest-mixed-good-and-garbage",
        "malformed_file",
        ["ingest", "{inp}/good.parquet", "{inp}/garbage.parquet", "--into", "hx.new"],
        "garbage.parquet",
    ),
    C(
        "ingest-csv-header-not-utf8",
        "malformed_file",
        ["ingest", "{inp}/latin1_header.csv", "--into", "hx.new"],
        "UTF-8",
    ),
    C("ingest-text-in-int", "wrong_type", ["ingest", "{inp}/text_id.csv", "--into", "hx.t"], "'ten'", "int64"),
    C("ingest-csv-cell-50mb", "huge_field", ["ingest", "{inp}/bigcell.csv", "--into", "hx.new"], "longer than"),
    C(
        "ingest-into-etc-passwd",
        "path_traversal",
        ["ingest", "{inp}/good.parquet", "--into", "../../etc/passwd"],
        "table name",
        "empty part",
    ),
    C(
        "ingest-source-file-url-passwd",
        "path_traversal",
        ["ingest", "file:///etc/passwd", "--into", "hx.t"],
        "/etc/passwd",
        "format",
    ),
    C(
        "ingest-http-url",
        "path_traversal",
        ["ingest", "http://127.0.0.1:9/x.csv", "--into", "hx.t"],
        "cannot open",
        "file://",
    ),
    C(
        "ingest-upsert-key-injection",
        "sql_injection",
        ["ingest", "{inp}/good.parquet", "--into", "hx.t", "--mode", "upsert", "--key", "id;DROP"],
        "not a valid name",
    ),
    C(
        "sql-param-binds-as-a-value",
        "sql_injection",
        ["sql", "SELECT {{ n }} AS v", "--param", f"n={INJECT}", "--engine", "duckdb", "--format", "json"],
        accept=lambda r, h: json.loads(r[1]) == {"v": INJECT},
    ),
    C(
        "sql-two-statements",
        "sql_injection",
        ["sql", "SELECT 1; DROP TABLE hx.t", "--engine", "duckdb"],
        "one SQL statement",
    ),
    C("sql-param-bad-name", "sql_injection", ["sql", "SELECT 1", "--param", "a b=1"], "--param name", "'a b'"),
    C("sql-limit-text", "wrong_type", ["sql", "SELECT 1", "--limit", "ten"], "--limit", "invalid int value"),
    C(
        "sql-limit-negative",
        "oversized_limit",
        ["sql", "SELECT 1", "--limit", "-1", "--engine", "duckdb"],
        "limit",
        "-1",
    ),
    C(
        "sql-read-parquet-outside",
        "path_traversal",
        ["sql", "SELECT * FROM read_parquet('{inp}/good.parquet')", "--engine", "duckdb"],
        "read_parquet",
        "not supported",
    ),
    C(
        "sql-ctas-interval-new-namespace",
        "wrong_type",
        ["sql", "CREATE TABLE fresh.o AS SELECT interval '1' day AS x", "--engine", "duckdb"],
        "interval",
    ),
    C("sql-empty", "bad_option", ["sql", "", "--engine", "duckdb"], "one SQL statement", "got 0"),
    C("datasets-limit-zero", "oversized_limit", ["datasets", "--limit", "0"], "limit", "1 to 1000"),
    C("datasets-limit-10e12", "oversized_limit", ["datasets", "--limit", "1000000000000"], "limit", "1000"),
    C(
        "datasets-namespace-traversal",
        "path_traversal",
        ["datasets", "--namespace", "../../etc"],
        "namespace",
        "empty part",
    ),
    C("datasets-query-1mb", "huge_field", ["datasets", "q" * (1 << 20)], "longer than 500"),
    C(
        "ingest-path-with-terminal-escape",
        "unicode_reserved",
        ["ingest", "{inp}/\x1b]0;pwned\x07missing.csv", "--into", "hx.t"],
        "no such file",
        "\\x1b]0;pwned\\x07",
    ),
    C("datasets-namespace-emoji", "unicode_reserved", ["datasets", "--namespace", "\U0001f600"], "not a valid name"),
    C("orphans-name-traversal", "path_traversal", ["orphans", "../../etc"], "table name"),
    C("unknown-command", "bad_option", ["explode"], "invalid choice"),
    # the same, as a user runs them: a process, its exit code and stderr
    C(
        "proc-ingest-truncated-parquet",
        "malformed_file",
        ["ingest", "{inp}/truncated.parquet", "--into", "hx.t"],
        "truncated.parquet",
        "not a readable Parquet file",
        subprocess=True,
    ),
    C(
        "proc-ingest-into-injection",
        "sql_injection",
        ["ingest", "{inp}/good.parquet", "--into", "hx.t;DROP"],
        "not a valid name",
        subprocess=True,
    ),
    C(
        "proc-sql-copy-outside",
        "path_traversal",
        ["sql", "COPY (SELECT 1) TO '{out}/x.csv'", "--engine", "duckdb"],
        "COPY",
        "not supported",
        subprocess=True,
    ),
    C("proc-datasets-page-limit", "oversized_limit", ["datasets", "--limit", "-7"], "limit", "-7", subprocess=True),
    C(
        "proc-ingest-ndjson-deep-arrays",
        "malformed_file",
        ["ingest", "{inp}/deep_arrays.ndjson", "--into", "hx.t"],
        "128 levels deep",
        subprocess=True,
    ),
    C(
        "proc-ingest-ndjson-deep-objects",
        "malformed_file",
        ["ingest", "{inp}/deep_objects.ndjson", "--into", "hx.new"],
        "128 levels deep",
        subprocess=True,
    ),
    C(
        "proc-ingest-gzip-not-gzip",
        "malformed_file",
        ["ingest", "{inp}/notgzip.csv.gz", "--into", "hx.t"],
        "compressed",
        subprocess=True,
    ),
]

CASES = PYTHON + MAGIC + CLI

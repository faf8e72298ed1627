"""The 22 TPC-H queries, written in Trino's dialect (tests/sql/tpch), on the embedded engine over
Iceberg tables, checked against DuckDB running its own dialect on the same Parquet files.

Where Trino's typing differs from DuckDB's (avg and division of decimals keep a fixed scale in
Trino; DuckDB returns doubles), values are compared with a tolerance of half a unit in the last
place of the Trino-typed decimal."""

from __future__ import annotations

import math
from decimal import Decimal

import duckdb
import pytest

from .conftest import QUERIES, TPCH_TABLES

NAMES = sorted(p.stem for p in QUERIES.glob("q*.sql"))


@pytest.fixture(scope="module")
def reference(tpch_data):
    con = duckdb.connect()
    con.execute("CREATE SCHEMA tpch")
    for t in TPCH_TABLES:
        con.execute(f"CREATE VIEW tpch.{t} AS SELECT * FROM read_parquet('{tpch_data / (t + '.parquet')}')")
    yield con
    con.close()


def close(mine, ref) -> bool:
    if isinstance(mine, Decimal) and isinstance(ref, float):
        exponent = mine.as_tuple().exponent
        return math.isclose(float(mine), ref, abs_tol=0.5 * 10**exponent + 1e-12, rel_tol=1e-12)
    if isinstance(mine, (float, Decimal)) and isinstance(ref, (float, Decimal)):
        return math.isclose(float(mine), float(ref), rel_tol=1e-9, abs_tol=1e-9)
    return mine == ref


def test_all_22_queries_are_present():
    assert NAMES == [f"q{i:02d}" for i in range(1, 23)]


@pytest.mark.parametrize("name", NAMES)
def test_tpch_query_matches_duckdb_on_the_same_files(tpch_lh, reference, name):
    sql = (QUERIES / f"{name}.sql").read_text()
    result = tpch_lh.sql(sql, engine="duckdb")
    mine = [tuple(r.values()) for r in result.table.to_pylist()]
    ref = reference.sql(sql).fetchall()
    assert len(mine) == len(ref), name
    ordered = "ORDER BY" in sql.upper()
    if not ordered:
        mine, ref = sorted(mine, key=repr), sorted(ref, key=repr)
    for got, want in zip(mine, ref):
        assert len(got) == len(want)
        assert all(close(g, w) for g, w in zip(got, want)), (name, got, want)
    assert {s["path"] for s in result.stats["scans"]} == {"parquet"}

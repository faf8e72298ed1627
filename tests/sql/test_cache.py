"""The embedded engine's result cache: pinned to the input snapshots, skipped for
non-deterministic queries, bounded, and bypassed on request."""

from __future__ import annotations

import pyarrow as pa
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import lakelab
from lakelab.config import load_config
from lakelab.engines.cache import ResultCache

QUERY = "SELECT origin, count(*) AS n FROM demo.flights GROUP BY origin ORDER BY origin"


def test_rerunning_an_unchanged_query_returns_the_stored_result_and_says_so(lh, flights):
    first = lh.sql(QUERY, engine="duckdb")
    again = lh.sql(QUERY, engine="duckdb")
    assert first.stats["cache"] == "miss" and first.note is None
    assert again.stats["cache"] == "hit"
    assert "from the result cache" in again.note and str(flights.current_snapshot().snapshot_id) in again.note
    assert again.message is None  # a query, not a statement
    assert again.table.equals(first.table)


def test_a_transform_whose_query_comes_from_the_cache_still_writes_its_rows(lh, flights):
    lh.sql(QUERY, engine="duckdb")  # now cached
    report = lh.transform("demo.by_origin", sql=QUERY)
    assert report.rows == 2
    assert lh.sql("SELECT count(*) AS n FROM demo.by_origin", engine="duckdb").table.column(0)[0].as_py() == 2


def test_a_new_snapshot_of_an_input_misses(lh, flights):
    lh.sql(QUERY, engine="duckdb")
    flights.append(pa.table({"id": pa.array([99], pa.int64()), "origin": ["EWR"]}))
    after = lh.sql(QUERY, engine="duckdb")
    assert after.stats["cache"] == "miss"
    assert after.table.column("origin").to_pylist() == ["EWR", "JFK", "LGA"]


def test_parameters_and_limits_are_part_of_the_key(lh, flights):
    sql = "SELECT id FROM demo.flights WHERE id < {{ n }} ORDER BY id"
    assert lh.sql(sql, engine="duckdb", params={"n": 3}).table.num_rows == 3
    other = lh.sql(sql, engine="duckdb", params={"n": 5})
    assert other.stats["cache"] == "miss" and other.table.num_rows == 5
    limited = lh.sql(sql, engine="duckdb", params={"n": 5}, limit=2)
    assert limited.stats["cache"] == "miss" and limited.num_rows == 2 and limited.has_more
    assert lh.sql(sql, engine="duckdb", params={"n": 5}, limit=2).stats["cache"] == "hit"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT id, current_date AS d FROM demo.flights",
        "SELECT id, now() AS t FROM demo.flights",
        "SELECT id FROM demo.flights WHERE random() < 2",
    ],
)
def test_non_deterministic_queries_are_never_stored(lh, flights, sql):
    try:
        results = [lh.sql(sql, engine="duckdb") for _ in range(2)]
    except lakelab.errors.Unsupported:
        return  # refused by the allow-list: nothing to store either
    assert [r.stats["cache"] for r in results] == ["off", "off"]


def test_cache_false_runs_the_query(lh, flights):
    lh.sql(QUERY, engine="duckdb")
    assert lh.engine("duckdb").execute(QUERY, cache=False).stats["cache"] == "off"


def test_results_survive_a_new_kernel_on_disk(lh, flights):
    lh.sql(QUERY, engine="duckdb")
    fresh = lakelab.Lakehouse(load_config())
    try:
        assert fresh.sql(QUERY, engine="duckdb").stats["cache"] == "hit"
    finally:
        fresh.close()


def test_memory_and_disk_are_bounded(tmp_path):
    table = pa.table({"x": pa.array(range(1000), pa.int64())})  # 8 kB
    cache = ResultCache(tmp_path, memory_bytes=20_000, disk_bytes=20_000)
    for i in range(5):
        cache.put(f"k{i}", table)
    assert len(cache._memory) == 2 and cache._held <= 20_000
    files = list(tmp_path.glob("*.arrow"))
    assert sum(f.stat().st_size for f in files) <= 20_000 and len(files) < 5
    assert cache.get("k4") is not None  # the most recent one stays
    big = ResultCache(tmp_path / "big", max_result_bytes=100)
    big.put("b", table)
    assert big.get("b") is None  # too big to be worth storing


def test_no_cache_flag_reruns_and_the_cell_says_when_it_came_from_the_cache(lh, flights):
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "lakelab")
    magics = ip.magics_manager.registry["SqlMagics"]
    magics._lh, previous = lh, magics._lh
    try:
        with capture_output() as out:
            ip.run_cell(f"%%trino --engine duckdb\n{QUERY}")
            second = ip.run_cell(f"%%trino --engine duckdb\n{QUERY}")
            third = ip.run_cell(f"%%trino --engine duckdb --no-cache\n{QUERY}")
        assert second.result.stats["cache"] == "hit"
        assert "from the result cache" in "".join(o.data.get("text/html", "") for o in out.outputs) + str(
            second.result.note
        )
        assert third.result.stats["cache"] == "off"
    finally:
        magics._lh = previous


def test_a_commit_through_another_catalog_connection_misses(lh, flights):
    """The engine reuses loaded tables while the catalog points at the same metadata file; a
    commit by another process moves that pointer."""
    assert lh.sql(QUERY, engine="duckdb").stats["cache"] == "miss"
    assert lh.sql(QUERY, engine="duckdb").stats["cache"] == "hit"
    other = lakelab.Lakehouse(load_config())
    other.catalog.load_table("demo.flights").append(pa.table({"id": pa.array([7], pa.int64()), "origin": ["SFO"]}))
    other.close()
    after = lh.sql(QUERY, engine="duckdb")
    assert after.stats["cache"] == "miss"
    assert after.table.column("origin").to_pylist() == ["JFK", "LGA", "SFO"]


def test_lh_sql_with_cache_false_runs_the_query(lh, flights):
    lh.sql(QUERY, engine="duckdb")
    again = lh.sql(QUERY, engine="duckdb", cache=False)
    assert again.stats["cache"] == "off" and again.note is None


def test_sql_cache_clear_forgets_every_stored_result(lh, flights):
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "lakelab")
    magics = ip.magics_manager.registry["SqlMagics"]
    magics._lh, previous = lh, magics._lh
    try:
        lh.sql(QUERY, engine="duckdb")
        with capture_output() as out:
            ip.run_line_magic("sql_cache", "clear")
        assert "result cache cleared (1 result)" in out.stdout
        assert not list((lh.config.home / "cache" / "results").rglob("*.arrow"))
        assert lh.sql(QUERY, engine="duckdb").stats["cache"] == "miss"
        with capture_output() as out:
            res = ip.run_cell("%sql_cache everything")
        assert not res.success and "usage: %sql_cache clear" in str(res.error_in_exec)
    finally:
        magics._lh = previous

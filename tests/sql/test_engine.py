"""The embedded engine over real Iceberg tables: snapshots, time travel, schema evolution,
delete files, statements, and which read path it chose."""

from __future__ import annotations

import datetime
import time

import pyarrow as pa
import pytest
from pyiceberg.types import LongType

from lakelab.catalog.metadata import Lineage
from lakelab.errors import Conflict, EngineError, InvalidInput, NotFound, Unsupported

from .iceberg_deletes import delete_positions


def make_table(lh, name="demo.items", rows=10):
    lh.catalog.create_namespace_if_not_exists(name.split(".")[0])
    table = lh.catalog.create_table(name, schema=pa.schema([("id", pa.int64()), ("name", pa.string())]))
    table.append(pa.table({"id": pa.array(range(rows), pa.int64()), "name": [f"n{i}" for i in range(rows)]}))
    return lh.catalog.load_table(name)


def scans(result):
    return [(s["table"], s["path"]) for s in result.stats["scans"]]


def test_reads_the_current_snapshot_directly_from_parquet_when_safe(lh):
    make_table(lh)
    result = lh.sql("SELECT count(*) AS n, max(id) AS m FROM demo.items", engine="duckdb")
    assert result.table.to_pylist() == [{"n": 10, "m": 9}]
    assert result.engine == "duckdb"
    assert scans(result) == [("demo.items", "parquet")]
    assert result.stats["scans"][0]["reason"] == "no delete files; one schema"


def test_three_part_names_with_the_catalog_name_resolve(lh):
    make_table(lh)
    result = lh.sql("SELECT count(*) AS n FROM lakelab.demo.items", engine="duckdb")
    assert result.table.to_pylist() == [{"n": 10}]


def test_unknown_catalog_table_and_column_are_clear_errors(lh):
    make_table(lh)
    with pytest.raises(NotFound, match="catalog 'hive'"):
        lh.sql("SELECT * FROM hive.demo.items", engine="duckdb")
    with pytest.raises(NotFound, match="demo.nope"):
        lh.sql("SELECT * FROM demo.nope", engine="duckdb")
    with pytest.raises(EngineError, match="nosuch"):
        lh.sql("SELECT nosuch FROM demo.items", engine="duckdb")


def test_syntax_errors_name_line_and_column(lh):
    with pytest.raises(EngineError, match="line 2"):
        lh.sql("SELECT 1\nFROM WHERE", engine="duckdb")


def test_time_travel_by_version_and_by_timestamp(lh):
    table = make_table(lh, rows=3)
    first = table.current_snapshot()
    time.sleep(0.05)
    table.append(pa.table({"id": pa.array([100], pa.int64()), "name": ["late"]}))
    now = lh.sql("SELECT count(*) AS n FROM demo.items", engine="duckdb").table.to_pylist()
    then = lh.sql(f"SELECT count(*) AS n FROM demo.items FOR VERSION AS OF {first.snapshot_id}", engine="duckdb")
    assert now == [{"n": 4}] and then.table.to_pylist() == [{"n": 3}]
    assert then.stats["scans"][0]["snapshot_id"] == first.snapshot_id
    ts = datetime.datetime.fromtimestamp(first.timestamp_ms / 1000, tz=datetime.timezone.utc)
    at = lh.sql(
        f"SELECT count(*) AS n FROM demo.items FOR TIMESTAMP AS OF TIMESTAMP '{ts:%Y-%m-%d %H:%M:%S.%f} UTC'",
        engine="duckdb",
    )
    assert at.table.to_pylist() == [{"n": 3}]


def test_time_travel_to_a_missing_snapshot_is_not_found(lh):
    make_table(lh)
    with pytest.raises(NotFound, match="snapshot 123"):
        lh.sql("SELECT * FROM demo.items FOR VERSION AS OF 123", engine="duckdb")
    with pytest.raises(NotFound, match="no snapshot"):
        lh.sql("SELECT * FROM demo.items FOR TIMESTAMP AS OF TIMESTAMP '2000-01-01 00:00:00 UTC'", engine="duckdb")


def test_renamed_and_added_columns_resolve_by_field_id(lh):
    table = make_table(lh, rows=3)
    with table.update_schema() as update:
        update.rename_column("name", "label")
        update.add_column("score", LongType())
    table = lh.catalog.load_table("demo.items")
    table.append(pa.table({"id": pa.array([7], pa.int64()), "label": ["new"], "score": pa.array([70], pa.int64())}))
    result = lh.sql("SELECT id, label, score FROM demo.items ORDER BY id", engine="duckdb")
    assert result.table.to_pylist() == [
        {"id": 0, "label": "n0", "score": None},
        {"id": 1, "label": "n1", "score": None},
        {"id": 2, "label": "n2", "score": None},
        {"id": 7, "label": "new", "score": 70},
    ]
    assert scans(result) == [("demo.items", "parquet")]
    assert result.stats["scans"][0]["reason"] == "no delete files; columns mapped by field id"
    # the old snapshot still answers with its own schema
    first = table.snapshots()[0].snapshot_id
    old = lh.sql(f"SELECT name FROM demo.items FOR VERSION AS OF {first} ORDER BY id", engine="duckdb")
    assert old.table.column("name").to_pylist() == ["n0", "n1", "n2"]


def test_delete_files_fall_back_to_the_iceberg_scan_and_answer_correctly(lh):
    table = make_table(lh, rows=10)
    data_file = next(iter(table.scan().plan_files())).file.file_path
    delete_positions(table, data_file, [2, 5])
    result = lh.sql("SELECT count(*) AS n, sum(id) AS s FROM demo.items WHERE id < 8", engine="duckdb")
    assert result.table.to_pylist() == [{"n": 6, "s": 28 - 2 - 5}]
    assert scans(result) == [("demo.items", "arrow")]
    assert result.stats["scans"][0]["reason"] == "delete files present"


def test_self_join_on_the_fallback_path_reads_both_sides(lh):
    table = make_table(lh, rows=4)
    delete_positions(table, next(iter(table.scan().plan_files())).file.file_path, [0])
    result = lh.sql("SELECT count(*) AS n FROM demo.items a JOIN demo.items b ON a.id = b.id", engine="duckdb")
    assert result.table.to_pylist() == [{"n": 3}]


def test_limit_fetches_one_more_row_to_know_more_exist(lh):
    make_table(lh, rows=10)
    result = lh.sql("SELECT id FROM demo.items ORDER BY id", engine="duckdb", limit=4)
    assert result.table.column("id").to_pylist() == [0, 1, 2, 3] and result.has_more
    exact = lh.sql("SELECT id FROM demo.items", engine="duckdb", limit=10)
    assert exact.num_rows == 10 and not exact.has_more


def test_show_schemas_tables_and_describe(lh):
    make_table(lh)
    assert lh.sql("SHOW SCHEMAS", engine="duckdb").table.column("Schema").to_pylist() == ["demo"]
    assert lh.sql("SHOW TABLES FROM demo", engine="duckdb").table.column("Table").to_pylist() == ["items"]
    described = lh.sql("DESCRIBE demo.items", engine="duckdb").table.to_pylist()
    assert [(r["Column"], r["Type"]) for r in described] == [("id", "bigint"), ("name", "varchar")]
    assert lh.sql("SHOW COLUMNS FROM demo.items", engine="duckdb").table.num_rows == 2


def test_create_table_as_commits_once_with_lineage(lh):
    source = make_table(lh)
    result = lh.sql("CREATE TABLE demo.small AS SELECT id, name FROM demo.items WHERE id < 3", engine="duckdb")
    assert result.message == "CREATE TABLE demo.small: 3 rows"
    out = lh.catalog.load_table("demo.small")
    assert len(out.snapshots()) == 1
    lineage = Lineage.from_summary(out.current_snapshot().summary.additional_properties)
    assert lineage.upstream == [{"table": "demo.items", "snapshot_id": source.current_snapshot().snapshot_id}]
    assert "WHERE id < 3" in lineage.sql
    with pytest.raises(Conflict):
        lh.sql("CREATE TABLE demo.small AS SELECT 1 AS id", engine="duckdb")
    assert lh.sql("CREATE TABLE IF NOT EXISTS demo.small AS SELECT 1 AS id", engine="duckdb").table.to_pylist() == [
        {"rows": 0}
    ]


def test_failed_create_table_as_commits_nothing(lh):
    make_table(lh)
    with pytest.raises(EngineError, match="(?i)division by zero"):
        lh.sql("CREATE TABLE demo.bad AS SELECT id / 0 AS x FROM demo.items", engine="duckdb")
    assert not lh.catalog.table_exists("demo.bad")


def test_insert_values_and_select_by_position(lh):
    make_table(lh, rows=2)
    lh.sql("INSERT INTO demo.items VALUES (10, 'ten'), (11, NULL)", engine="duckdb")
    lh.sql("INSERT INTO demo.items (name, id) SELECT 'x', 12", engine="duckdb")
    rows = lh.sql("SELECT id, name FROM demo.items WHERE id >= 10 ORDER BY id", engine="duckdb").table.to_pylist()
    assert rows == [{"id": 10, "name": "ten"}, {"id": 11, "name": None}, {"id": 12, "name": "x"}]
    with pytest.raises(InvalidInput, match="cannot write"):
        lh.sql("INSERT INTO demo.items VALUES ('not a number', 'x')", engine="duckdb")


@pytest.mark.parametrize(
    "sql",
    [
        "DROP TABLE demo.items",
        "DELETE FROM demo.items WHERE id = 1",
        "UPDATE demo.items SET name = 'x'",
        "ALTER TABLE demo.items ADD COLUMN z bigint",
    ],
)
def test_other_statements_are_refused_with_a_pointer_to_trino(lh, sql):
    make_table(lh)
    with pytest.raises(Unsupported, match="run it on Trino"):
        lh.sql(sql, engine="duckdb")
    assert lh.catalog.table_exists("demo.items")


def test_several_statements_at_once_are_refused(lh):
    with pytest.raises(InvalidInput, match="one SQL statement"):
        lh.sql("SELECT 1; SELECT 2", engine="duckdb")


def test_explain_shows_the_read_path_and_pushed_filters(lh):
    make_table(lh)
    plan = lh.engine("duckdb").explain("SELECT id FROM demo.items WHERE id > 5")
    text = "\n".join(plan.table.column("explain").to_pylist())
    assert "demo.items" in text and "parquet" in text and "Filters" in text


def test_progress_callback_reports_finished(lh):
    make_table(lh)
    seen = []
    lh.sql("SELECT count(*) FROM demo.items", engine="duckdb", progress=seen.append)
    assert seen and seen[-1]["state"] == "FINISHED"


def test_ctrl_c_interrupts_a_running_query_and_the_engine_stays_usable(lh):
    import _thread
    import threading

    make_table(lh, rows=3000)
    lh.sql("SELECT 1 FROM demo.items LIMIT 1", engine="duckdb")  # warm: the interrupt lands mid-query
    timer = threading.Timer(1.0, _thread.interrupt_main)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            lh.sql(
                "SELECT count(*) FROM demo.items a, demo.items b, demo.items c WHERE a.id + b.id + c.id > -1",
                engine="duckdb",
            )
    finally:
        timer.cancel()
    assert lh.sql("SELECT count(*) AS n FROM demo.items", engine="duckdb").table.to_pylist() == [{"n": 3000}]


def test_nested_columns_are_read_directly_when_the_schema_never_changed(lh):
    lh.catalog.create_namespace("demo")
    data = pa.table(
        {
            "id": pa.array([1, 2], pa.int64()),
            "tags": pa.array([["a", "b"], []], pa.list_(pa.string())),
            "s": pa.array([{"x": 1}, None], pa.struct([("x", pa.int64())])),
        }
    )
    lh.catalog.create_table("demo.nested", schema=data.schema).append(data)
    result = lh.sql("SELECT id, tags, s FROM demo.nested ORDER BY id", engine="duckdb")
    assert result.table.to_pylist() == [{"id": 1, "tags": ["a", "b"], "s": {"x": 1}}, {"id": 2, "tags": [], "s": None}]
    assert scans(result) == [("demo.nested", "parquet")]


def test_an_empty_table_answers_with_no_rows(lh):
    lh.catalog.create_namespace("demo")
    lh.catalog.create_table("demo.empty", schema=pa.schema([("a", pa.int64())]))
    assert lh.sql("SELECT count(*) AS n FROM demo.empty", engine="duckdb").table.to_pylist() == [{"n": 0}]
    assert lh.sql("SELECT a FROM demo.empty", engine="duckdb").num_rows == 0


def test_views_kept_between_statements_follow_each_new_snapshot_and_read_path(lh):
    """A view over unchanged Parquet files is kept for the next statement; a new snapshot, or
    one that must be read through pyiceberg (delete files), replaces it."""
    table = make_table(lh, rows=10)
    sql = "SELECT count(*) AS n FROM demo.items"
    assert lh.sql(sql, engine="duckdb", cache=False).table.to_pylist() == [{"n": 10}]
    again = lh.sql(sql, engine="duckdb", cache=False)
    assert again.table.to_pylist() == [{"n": 10}] and scans(again) == [("demo.items", "parquet")]
    delete_positions(table, next(iter(table.scan().plan_files())).file.file_path, [0, 1])
    after = lh.sql(sql, engine="duckdb", cache=False)
    assert after.table.to_pylist() == [{"n": 8}] and scans(after) == [("demo.items", "arrow")]
    fresh = pa.table({"id": pa.array([1, 2, 3], pa.int64()), "name": ["a", "b", "c"]})
    lh.catalog.load_table("demo.items").overwrite(fresh)
    back = lh.sql("SELECT sum(id) AS s FROM demo.items", engine="duckdb", cache=False)
    assert back.table.to_pylist() == [{"s": 6}] and scans(back) == [("demo.items", "parquet")]


def test_tables_prepared_ahead_answer_at_the_snapshot_current_when_queried(lh):
    """The notebook's warm-up prepares tables before any query (`prefetch`); a commit landing
    afterwards is still seen, and statements sharing a table's kept view (a self-join, other
    queries over it) each answer right."""
    table = make_table(lh, rows=10)
    engine = lh.engine("duckdb")
    assert engine.prefetch([lh.table_name("demo.items")]) == 1
    table.append(pa.table({"id": pa.array([100, 101], pa.int64()), "name": ["x", "y"]}))
    assert lh.sql("SELECT count(*) AS n FROM demo.items", engine="duckdb", cache=False).table.to_pylist() == [{"n": 12}]
    pair = lh.sql(
        "SELECT count(*) AS n FROM demo.items a JOIN demo.items b ON a.id + 1 = b.id", engine="duckdb", cache=False
    )
    assert pair.table.to_pylist() == [{"n": 10}] and scans(pair) == [("demo.items", "parquet")] * 2
    assert lh.sql("SELECT max(id) AS m FROM demo.items", engine="duckdb").table.to_pylist() == [{"m": 101}]


def test_past_the_kept_view_bound_views_are_made_again_and_answers_stay_right(lh, monkeypatch):
    """A connection keeps at most MAX_VIEWS table snapshots' views; past it they are dropped
    and made again, even in the middle of a statement that reads several tables."""
    import lakelab.engines.duckdb.engine as duck

    monkeypatch.setattr(duck, "MAX_VIEWS", 1)
    make_table(lh, "demo.a", rows=5)
    make_table(lh, "demo.b", rows=3)
    sql = "SELECT count(*) AS n, sum(a.id) AS s FROM demo.a a JOIN demo.b b ON a.id = b.id"
    for _ in range(2):
        assert lh.sql(sql, engine="duckdb", cache=False).table.to_pylist() == [{"n": 3, "s": 3}]
    assert lh.sql("SELECT count(*) AS n FROM demo.a", engine="duckdb", cache=False).table.to_pylist() == [{"n": 5}]

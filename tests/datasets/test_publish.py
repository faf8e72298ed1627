"""publish: data, metadata and lineage in one commit; bad input commits nothing."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pytest

from lakelab.catalog.metadata import L_OPERATION, L_UPSTREAM
from lakelab.errors import Conflict, InvalidInput, NotFound


def test_publishing_a_dataframe_writes_data_metadata_and_lineage_in_one_commit(lh):
    df = pd.DataFrame({"id": [1, 2], "at": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    ds = lh.publish(df, "sales.orders", description="Orders", owner="ana", tags="finance, daily")
    table = ds.table
    assert len(table.snapshots()) == 1  # one commit
    assert table.properties["lakelab.owner"] == "ana" and table.properties["lakelab.tags"] == "finance,daily"
    assert table.current_snapshot().summary[L_OPERATION] == "publish"
    assert ds.load().to_pydict()["id"] == [1, 2]


def test_publishing_a_dataset_by_name_records_it_upstream_with_its_snapshot(lh):
    src = lh.publish(pa.table({"x": [1, 2, 3]}), "raw.numbers")
    out = lh.publish("raw.numbers", "gold.numbers", description="copy")
    upstream = json.loads(out.table.current_snapshot().summary[L_UPSTREAM])
    assert upstream == [{"table": "raw.numbers", "snapshot_id": src.table.current_snapshot().snapshot_id}]
    assert out.stats.row_count == 3


def test_publishing_into_a_nested_namespace_works(lh):
    ds = lh.publish(pa.table({"x": [1]}), "a.b.c.t")
    assert ds.name == "a.b.c.t" and ds.preview(5).num_rows == 1


def test_overwrite_replaces_rows_and_append_adds_them(lh):
    lh.publish(pa.table({"x": [1, 2]}), "m.t")
    lh.publish(pa.table({"x": [3]}), "m.t")
    assert lh.dataset("m.t").load().to_pydict() == {"x": [3]}
    lh.publish(pa.table({"x": [4]}), "m.t", mode="append")
    assert sorted(lh.dataset("m.t").load().to_pydict()["x"]) == [3, 4]


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"kind": "model", "mode": "upsert"}, InvalidInput, "mode must be one of"),
        ({"kind": "notebook"}, InvalidInput, "kind must be one of"),
        ({"mode": "upsert"}, InvalidInput, "mode must be one of"),
        ({"tags": ["a,b"]}, InvalidInput, "is not valid"),
    ],
)
def test_bad_publish_options_are_refused_before_anything_is_written(lh, kwargs, error, message):
    with pytest.raises(error, match=message):
        lh.publish(pa.table({"x": [1]}), "bad.t", **kwargs)
    assert not lh.catalog.table_exists(("bad", "t"))


def test_a_schema_mismatch_leaves_the_dataset_unchanged(lh):
    lh.publish(pa.table({"x": [1]}), "m.t")
    before = lh.dataset("m.t").table.metadata_location
    with pytest.raises(InvalidInput, match="cannot publish to m.t"):
        lh.publish(pa.table({"y": ["text"]}), "m.t", mode="append")
    assert lh.dataset("m.t").table.metadata_location == before


@pytest.mark.parametrize(
    "obj, error, message",
    [
        (object(), InvalidInput, "cannot publish a object"),
        ("nope.missing", NotFound, "does not exist"),
        ("/no/such/file.csv", NotFound, "does not exist"),
        ("ns.x'; drop table t", InvalidInput, "not a valid name"),
    ],
)
def test_unpublishable_sources_get_a_clear_error(lh, obj, error, message):
    with pytest.raises(error, match=message):
        lh.publish(obj, "m.t")


def test_create_mode_refuses_an_existing_dataset(lh):
    lh.publish(pa.table({"x": [1]}), "m.t")
    with pytest.raises(Conflict, match="already exists"):
        lh.publish(pa.table({"x": [2]}), "m.t", mode="create")


def test_publishing_a_csv_file_records_it_as_a_source(lh, tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("name,age\nann,31\nbo,42\n")
    ds = lh.publish(str(path), "people.all")
    assert ds.lineage().edges[0].source == path.as_uri()
    assert ds.stats.row_count == 2


def test_publish_magic_publishes_a_kernel_variable_and_rejects_unknown_options(lh):
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()  # whichever shell an earlier test made, or a new one
    ip.run_line_magic("load_ext", "lakelab")
    ip.user_ns["frame"] = pd.DataFrame({"a": [1, 2]})
    import lakelab

    lakelab.connect(reload=True)  # the magic uses the process default: point it at this test's home
    ds = ip.run_line_magic("publish", 'frame --as team.frame --description "two rows" --tags x,y --owner me')
    assert ds.metadata == {"kind": "table", "owner": "me", "description": "two rows", "tags": ["x", "y"]}
    from IPython.utils.capture import capture_output

    ip.display_formatter.formatters["text/html"].enabled = True  # as in a notebook frontend
    from lakelab.notebook.magics import MagicError

    with capture_output() as cap:  # each mistake fails the cell with one line
        bad_option = ip.run_cell("%publish frame --as team.frame --colour red").error_in_exec
        missing = ip.run_cell("%publish missing_var --as team.other").error_in_exec
    assert isinstance(bad_option, MagicError) and isinstance(missing, MagicError)
    assert "unrecognized arguments: --colour red" in str(bad_option)
    assert "not a variable in this kernel" in str(missing)
    assert "Traceback" not in cap.stdout and cap.stdout.count("\n") == 2
    assert not lh.catalog.table_exists(("team", "other"))


def test_republishing_keeps_the_owner_unless_a_new_one_is_given(lh):
    lh.publish(pa.table({"x": [1]}), "own.t", owner="ana")
    lh.publish(pa.table({"x": [2]}), "own.t")
    assert lh.dataset("own.t").metadata["owner"] == "ana"
    lh.publish(pa.table({"x": [3]}), "own.new")
    assert lh.dataset("own.new").metadata["owner"]  # the publishing user


def test_publishing_a_query_result_records_its_sql_and_the_snapshots_it_read(lh):
    src = lh.publish(pa.table({"x": [1, 2, 3]}), "q.src")
    result = lh.sql("SELECT x * 2 AS y FROM q.src")
    out = lh.publish(result, "q.doubled")
    summary = out.table.current_snapshot().summary
    assert summary["lakelab.sql"] == "SELECT x * 2 AS y FROM q.src"
    assert json.loads(summary[L_UPSTREAM]) == [
        {"table": "q.src", "snapshot_id": src.table.current_snapshot().snapshot_id}
    ]

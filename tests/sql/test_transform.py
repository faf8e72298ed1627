"""lh.transform: SQL and in-process Python transforms, one commit each, lineage recorded."""

from __future__ import annotations

import pyarrow as pa
import pytest

from lakelab.catalog.metadata import Lineage
from lakelab.errors import Conflict, InvalidInput, NotFound
from lakelab.write.transform import transform


@pytest.fixture
def source(lh):
    lh.catalog.create_namespace("demo")
    table = lh.catalog.create_table("demo.src", schema=pa.schema([("id", pa.int64()), ("v", pa.float64())]))
    table.append(pa.table({"id": pa.array(range(100), pa.int64()), "v": [i / 2 for i in range(100)]}))
    return lh.catalog.load_table("demo.src")


def lineage(lh, name):
    return Lineage.from_summary(lh.catalog.load_table(name).current_snapshot().summary.additional_properties)


def test_sql_transform_creates_a_dataset_with_upstream_snapshot(lh, source):
    report = lh.transform("demo.out", sql="SELECT id, v * 2 AS v2 FROM demo.src WHERE id < {{ n }}", params={"n": 10})
    assert report.rows == 10
    out = lh.catalog.load_table("demo.out")
    assert out.scan().to_arrow().column_names == ["id", "v2"] and len(out.snapshots()) == 1
    lin = lineage(lh, "demo.out")
    assert lin.operation == "transform"
    assert lin.upstream == [{"table": "demo.src", "snapshot_id": source.current_snapshot().snapshot_id}]


def test_sql_transform_modes(lh, source):
    lh.transform("demo.out", sql="SELECT id FROM demo.src WHERE id < 5")
    with pytest.raises(Conflict):
        lh.transform("demo.out", sql="SELECT id FROM demo.src")
    lh.transform("demo.out", sql="SELECT id FROM demo.src WHERE id >= 95", mode="append")
    assert lh.catalog.load_table("demo.out").scan().to_arrow().num_rows == 10
    lh.transform("demo.out", sql="SELECT id FROM demo.src WHERE id = 1", mode="overwrite")
    assert lh.catalog.load_table("demo.out").scan().to_arrow().column("id").to_pylist() == [1]
    with pytest.raises(NotFound):
        lh.transform("demo.other", sql="SELECT 1 AS id", mode="append")
    with pytest.raises(InvalidInput, match="mode"):
        lh.transform("demo.other", sql="SELECT 1 AS id", mode="upsert")


def test_sql_transform_schema_applies_to_unqualified_target_and_tables(lh, source):
    report = transform(lh, "small", sql="SELECT id FROM src WHERE id < 3", schema="demo")
    assert report.table == "demo.small"
    assert lineage(lh, "demo.small").upstream[0]["table"] == "demo.src"


def test_sql_transform_without_schema_uses_the_default_schema(lh, source):
    lh.catalog.create_namespace("default")
    report = lh.transform("plain", sql="SELECT id FROM demo.src WHERE id < 3")
    assert report.table == "default.plain" and lh.catalog.table_exists("default.plain")


def test_result_columns_must_be_valid_names(lh, source):
    with pytest.raises(InvalidInput, match="alias"):
        lh.transform("demo.out", sql='SELECT id AS "Bad Name" FROM demo.src')
    assert not lh.catalog.table_exists("demo.out")


def test_python_transform_streams_batches_through_fn_in_process(lh, source):
    def double(batch):  # a pandas DataFrame, as on a Ray workspace
        return batch.assign(v2=batch["v"] * 2)

    report = lh.transform("demo.py_out", fn=double, inputs=["demo.src"])
    assert report.rows == 100
    got = lh.catalog.load_table("demo.py_out").scan().to_arrow()
    assert sorted(got.column("v2").to_pylist())[-1] == 99.0
    lin = lineage(lh, "demo.py_out")
    assert lin.code.startswith(f"{__name__}.") and "double@" in lin.code
    assert lin.upstream[0]["table"] == "demo.src"


def test_python_transform_accepts_arrow_results(lh, source):
    lh.transform("demo.pd_out", fn=lambda df: pa.Table.from_pandas(df[df.id < 3]), inputs=["demo.src"])
    assert lh.catalog.load_table("demo.pd_out").scan().to_arrow().num_rows == 3


def test_transform_needs_exactly_one_of_sql_and_fn(lh):
    with pytest.raises(InvalidInput):
        lh.transform("demo.x")
    with pytest.raises(InvalidInput):
        lh.transform("demo.x", sql="SELECT 1", fn=lambda t: t)

"""One write path: the same awkward inputs through every way of writing a dataset give the
same schema and values, or the same clear error naming the column."""

from __future__ import annotations

import datetime as dt
import decimal
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.types import ListType, MapType, StructType

from lakelab.errors import LakelabError

UTC = dt.timezone.utc
NOON = [dt.datetime(2024, 1, 1, 12), dt.datetime(2024, 7, 1, 12)]  # in Berlin: UTC+1, then UTC+2
NOON_BERLIN_AS_UTC = [dt.datetime(2024, 1, 1, 11, tzinfo=UTC), dt.datetime(2024, 7, 1, 10, tzinfo=UTC)]


@dataclass
class Case:
    make: Callable[[], Any]
    types: dict[str, str] | None = None  # Iceberg type of each column, as the user sees it
    rows: list[dict[str, Any]] | None = None
    error_column: str | None = None  # the write fails with a LakelabError naming this column


CASES = {
    "pandas_berlin_timestamps": Case(
        lambda: pd.DataFrame({"id": [1, 2], "ts": pd.to_datetime(NOON).tz_localize("Europe/Berlin")}),
        {"id": "long", "ts": "timestamptz"},
        [{"id": 1, "ts": NOON_BERLIN_AS_UTC[0]}, {"id": 2, "ts": NOON_BERLIN_AS_UTC[1]}],
    ),
    "polars_berlin_timestamps": Case(
        lambda: pl.DataFrame({"id": [1, 2], "ts": NOON}).with_columns(
            pl.col("ts").dt.replace_time_zone("Europe/Berlin")
        ),
        {"id": "long", "ts": "timestamptz"},
        [{"id": 1, "ts": NOON_BERLIN_AS_UTC[0]}, {"id": 2, "ts": NOON_BERLIN_AS_UTC[1]}],
    ),
    "arrow_berlin_nanoseconds": Case(
        lambda: pa.table(
            {
                "id": [1, 2],
                "ts": pa.array(pd.to_datetime(NOON).tz_localize("Europe/Berlin"), pa.timestamp("ns", "Europe/Berlin")),
            }
        ),
        {"id": "long", "ts": "timestamptz"},
        [{"id": 1, "ts": NOON_BERLIN_AS_UTC[0]}, {"id": 2, "ts": NOON_BERLIN_AS_UTC[1]}],
    ),
    "pandas_naive_nanoseconds_exact": Case(
        lambda: pd.DataFrame({"ts": pd.to_datetime(["2024-01-01 12:00:00.000001"])}),
        {"ts": "timestamp"},
        [{"ts": dt.datetime(2024, 1, 1, 12, 0, 0, 1)}],
    ),
    "pandas_nanoseconds_not_exact": Case(
        lambda: pd.DataFrame({"id": [1], "ts": pd.to_datetime(["2024-01-01 12:00:00.000000001"])}), error_column="ts"
    ),
    "arrow_time_nanoseconds_exact": Case(
        lambda: pa.table({"t": pa.array([3_000_000_000], pa.time64("ns"))}), {"t": "time"}, [{"t": dt.time(0, 0, 3)}]
    ),
    "pandas_categorical": Case(
        lambda: pd.DataFrame({"c": pd.Categorical(["a", "b", "a"])}),
        {"c": "string"},
        [{"c": "a"}, {"c": "b"}, {"c": "a"}],
    ),
    "polars_categorical": Case(
        lambda: pl.DataFrame({"c": ["a", "b", "a"]}, schema={"c": pl.Categorical}),
        {"c": "string"},
        [{"c": "a"}, {"c": "b"}, {"c": "a"}],
    ),
    "pandas_nullable_int": Case(
        lambda: pd.DataFrame({"n": pd.array([1, None, 3], dtype="Int64")}),
        {"n": "long"},
        [{"n": 1}, {"n": None}, {"n": 3}],
    ),
    "arrow_small_unsigned_and_half": Case(
        lambda: pa.table(
            {
                "u8": pa.array([1, 255], pa.uint8()),
                "i16": pa.array([-2, 3], pa.int16()),
                "u32": pa.array([4, 2**32 - 1], pa.uint32()),
                "f16": pa.array(np.array([1.5, 2.0], np.float16)),
            }
        ),
        {"u8": "int", "i16": "int", "u32": "long", "f16": "float"},
        [{"u8": 1, "i16": -2, "u32": 4, "f16": 1.5}, {"u8": 255, "i16": 3, "u32": 2**32 - 1, "f16": 2.0}],
    ),
    "pandas_decimals": Case(
        lambda: pd.DataFrame({"d": [decimal.Decimal("1.23"), decimal.Decimal("4.50")]}),
        {"d": "decimal(3, 2)"},
        [{"d": decimal.Decimal("1.23")}, {"d": decimal.Decimal("4.50")}],
    ),
    "pandas_nested": Case(
        lambda: pd.DataFrame({"s": [{"x": 1, "y": "a"}, {"x": 2, "y": None}], "l": [[1, 2], []]}),
        {"s": "struct", "l": "list"},
        [{"s": {"x": 1, "y": "a"}, "l": [1, 2]}, {"s": {"x": 2, "y": None}, "l": []}],
    ),
    "polars_nested": Case(
        lambda: pl.DataFrame({"s": [{"x": 1, "y": "a"}, {"x": 2, "y": None}], "l": [[1, 2], []]}),
        {"s": "struct", "l": "list"},
        [{"s": {"x": 1, "y": "a"}, "l": [1, 2]}, {"s": {"x": 2, "y": None}, "l": []}],
    ),
    "pandas_empty": Case(
        lambda: pd.DataFrame({"a": pd.Series([], dtype="int64"), "b": pd.Series([], dtype="float64")}),
        {"a": "long", "b": "double"},
        [],
    ),
    "pandas_reserved_names": Case(
        lambda: pd.DataFrame({"select": [1], "From": [2]}),
        {"select": "long", "from": "long"},
        [{"select": 1, "from": 2}],
    ),
    "pandas_unicode_name": Case(lambda: pd.DataFrame({"id": [1], "Größe": [2]}), error_column="Größe"),
    "arrow_duration": Case(lambda: pa.table({"id": [1], "took": pa.array([5], pa.duration("s"))}), error_column="took"),
}


# -- the write paths: each writes the object as w.out ----------------------------------------
def _ingest_create(lh, obj):
    lh.ingest(obj, "w.out", mode="create")


def _ingest_append(lh, obj):
    lh.ingest(obj, "w.out", mode="create")  # an existing table of the same columns, emptied
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "did not match any records" for an empty frame
        lh.catalog.load_table("w.out").delete(AlwaysTrue())
    lh.ingest(obj, "w.out", mode="append")


def _transform_fn(lh, obj):
    lh.ingest(pa.table({"k": [1]}), "w.seed", mode="create")
    lh.transform("w.out", fn=lambda batch: obj, inputs=["w.seed"])


def _create_table_as(lh, obj):
    lh.ingest(obj, "w.src", mode="create")
    lh.sql("CREATE TABLE w.out AS SELECT * FROM w.src", engine="duckdb")


def _insert_into(lh, obj):
    lh.ingest(obj, "w.src", mode="create")
    lh.sql("CREATE TABLE w.out AS SELECT * FROM w.src WHERE false", engine="duckdb")
    lh.sql("INSERT INTO w.out SELECT * FROM w.src", engine="duckdb")


def _publish(lh, obj):
    lh.publish(obj, "w.out")


def _into_magic(lh, obj):
    lh.ingest(obj, "w.src", mode="create")
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "lakelab")
    ip.magics_manager.registry["SqlMagics"]._lh = lh
    with capture_output() as out:
        ip.run_cell("%%trino --engine duckdb --into w.out\nSELECT * FROM w.src")
    assert "wrote" in "".join(o.data.get("text/html", "") for o in out.outputs), out.stdout + out.stderr


PATHS = {
    "ingest_create": _ingest_create,
    "ingest_append": _ingest_append,
    "transform_fn": _transform_fn,
    "create_table_as": _create_table_as,
    "insert_into": _insert_into,
    "publish": _publish,
    "into_magic": _into_magic,
}


def _kind(t: Any) -> str:
    if isinstance(t, StructType):
        return "struct"
    if isinstance(t, ListType):
        return "list"
    if isinstance(t, MapType):
        return "map"
    return str(t)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("case", CASES)
def test_every_write_path_stores_awkward_inputs_alike(lh, case, path):
    c = CASES[case]
    if c.error_column is not None:
        with pytest.raises(LakelabError) as e:
            PATHS[path](lh, c.make())
        assert repr(c.error_column) in str(e.value) or c.error_column in str(e.value)
        assert not lh.catalog.table_exists("w.out") or path == "ingest_append"
        return
    PATHS[path](lh, c.make())
    table = lh.catalog.load_table("w.out")
    assert {f.name: _kind(f.field_type) for f in table.schema().fields} == c.types
    assert table.scan().to_arrow().to_pylist() == c.rows


# -- namespaces and failures -------------------------------------------------------------------
def test_ingest_transform_and_publish_write_into_nested_namespaces(lh):
    lh.ingest(pa.table({"id": [1, 2]}), "a.b.c.raw", mode="create")
    lh.transform("a.b.c.doubled", fn=lambda df: df.assign(id=df.id * 2), inputs=["a.b.c.raw"])
    lh.publish(pd.DataFrame({"id": [7]}), "a.b.c.pub", description="nested")
    assert sorted(t[-1] for t in lh.catalog.list_tables(("a", "b", "c"))) == ["doubled", "pub", "raw"]
    assert lh.catalog.load_table("a.b.c.doubled").scan().to_arrow().column("id").to_pylist() == [2, 4]
    assert lh.dataset("a.b.c.pub").metadata["description"] == "nested"


def test_a_failed_write_into_new_nested_namespaces_leaves_none_of_them(lh):
    with pytest.raises(LakelabError, match="Größe"):
        lh.ingest(pd.DataFrame({"Größe": [1]}), "x.y.z.t", mode="create")
    with pytest.raises(LakelabError, match="took"):
        lh.publish(pa.table({"took": pa.array([1], pa.duration("s"))}), "x.y.t")
    assert ("x",) not in lh.catalog.list_namespaces()


def _batches_failing_after(n_good: int) -> pa.RecordBatchReader:
    schema = pa.schema([("id", pa.int64()), ("v", pa.string())])

    def gen():
        for i in range(n_good):
            yield pa.record_batch({"id": list(range(i * 1000, (i + 1) * 1000)), "v": ["x"] * 1000}, schema=schema)
        raise ValueError("the source broke off")

    return pa.RecordBatchReader.from_batches(schema, gen())


def _data_files(lh) -> set[str]:
    return {str(p) for p in lh.config.warehouse.rglob("*.parquet")}


@pytest.mark.parametrize("writer", ["ingest", "publish"])
def test_a_failure_mid_write_leaves_the_table_unchanged_and_no_files_behind(lh, monkeypatch, writer):
    import lakelab.write.files as files

    monkeypatch.setattr(files, "CHUNK_BYTES", 1 << 12)  # several files are written before it fails
    lh.ingest(pa.table({"id": [-1], "v": ["seed"]}), "w.t", mode="create")
    before, files_before = lh.catalog.load_table("w.t").metadata_location, _data_files(lh)
    with pytest.raises(LakelabError, match="broke off"):
        if writer == "ingest":
            lh.ingest(_batches_failing_after(5), "w.t", mode="append")
        else:
            lh.publish(_batches_failing_after(5), "w.t", mode="append")
    assert lh.catalog.load_table("w.t").metadata_location == before
    assert _data_files(lh) == files_before
    with pytest.raises(LakelabError, match="broke off"):
        lh.ingest(_batches_failing_after(5), "w.new", mode="create")
    assert not lh.catalog.table_exists("w.new") and not (lh.config.warehouse / "w" / "new").exists()

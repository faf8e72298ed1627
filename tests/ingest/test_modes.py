"""Modes, partitioning, schema evolution and lineage: what each ingest commits."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from ingest_helpers import current_snapshot_id, lineage_of, parquet_files, read_rows

from lakelab.errors import Conflict, InvalidInput


def test_create_makes_a_dataset_with_the_writer_properties(lh, people):
    from lakelab.catalog.access import WRITE_PROPERTIES

    report = lh.ingest(people, "sales.people", mode="create")
    t = lh.catalog.load_table("sales.people")
    assert report.mode == "create" and t.current_snapshot().snapshot_id == report.snapshot_id
    for k, v in WRITE_PROPERTIES.items():
        assert t.properties[k] == v


def test_create_fails_when_the_dataset_exists_and_leaves_it_unchanged(lh, people):
    lh.ingest(people, "sales.people", mode="create")
    before = current_snapshot_id(lh, "sales.people")
    with pytest.raises(Conflict, match="already exists"):
        lh.ingest(people, "sales.people", mode="create")
    assert current_snapshot_id(lh, "sales.people") == before and len(read_rows(lh, "sales.people")) == 3


def test_append_adds_rows_and_creates_the_dataset_when_missing(lh, people):
    lh.ingest(people, "sales.people")
    lh.ingest(people, "sales.people", mode="append")
    assert len(read_rows(lh, "sales.people")) == 6
    assert len(lh.catalog.load_table("sales.people").snapshots()) == 2


def test_overwrite_replaces_all_rows_in_one_commit(lh, people):
    lh.ingest(people, "sales.people")
    before = lh.catalog.load_table("sales.people").metadata.last_updated_ms
    report = lh.ingest(people.slice(0, 1), "sales.people", mode="overwrite")
    assert read_rows(lh, "sales.people") == [{"id": 1, "name": "ada", "score": 1.5}]
    assert report.rows == 1
    t = lh.catalog.load_table("sales.people")
    assert t.metadata.last_updated_ms >= before
    # history: the delete and the append of one transaction both carry the lineage
    assert all(dict(s.summary.additional_properties).get("lakelab.operation") == "ingest" for s in t.snapshots())


def test_upsert_updates_matching_keys_and_inserts_new_ones(lh, people):
    lh.ingest(people, "sales.people")
    change = pa.table({"id": [2, 4], "name": ["bobby", "dee"], "score": [9.0, 4.5]})
    report = lh.ingest(change, "sales.people", mode="upsert", key="id")
    assert (report.rows_updated, report.rows_inserted) == (1, 1)
    assert read_rows(lh, "sales.people", "id") == [
        {"id": 1, "name": "ada", "score": 1.5},
        {"id": 2, "name": "bobby", "score": 9.0},
        {"id": 3, "name": "cy", "score": 3.5},
        {"id": 4, "name": "dee", "score": 4.5},
    ]
    assert lineage_of(lh, "sales.people")["lakelab.operation"] == "ingest"


def test_upsert_on_a_composite_key(lh):
    base = pa.table({"day": ["mon", "mon", "tue"], "shop": [1, 2, 1], "sold": [10, 20, 30]})
    lh.ingest(base, "sales.daily")
    lh.ingest(
        pa.table({"day": ["mon", "wed"], "shop": [2, 1], "sold": [25, 5]}),
        "sales.daily",
        mode="upsert",
        key=["day", "shop"],
    )
    rows = {(r["day"], r["shop"]): r["sold"] for r in read_rows(lh, "sales.daily")}
    assert rows == {("mon", 1): 10, ("mon", 2): 25, ("tue", 1): 30, ("wed", 1): 5}


def test_upsert_with_duplicate_keys_in_the_source_is_refused(lh, people):
    lh.ingest(people, "sales.people")
    before = current_snapshot_id(lh, "sales.people")
    with pytest.raises(InvalidInput, match="same key"):
        lh.ingest(
            pa.table({"id": [1, 1], "name": ["a", "b"], "score": [1.0, 2.0]}), "sales.people", mode="upsert", key="id"
        )
    assert current_snapshot_id(lh, "sales.people") == before


def test_upsert_needs_key_columns_that_exist(lh, people):
    with pytest.raises(InvalidInput, match="needs key"):
        lh.ingest(people, "sales.people", mode="upsert")
    with pytest.raises(InvalidInput, match="key column 'nope'"):
        lh.ingest(people, "sales.people", mode="upsert", key="nope")
    with pytest.raises(InvalidInput, match="only with mode 'upsert'"):
        lh.ingest(people, "sales.people", mode="append", key="id")


def _events() -> pa.Table:
    ts = [dt.datetime(2024, 1, 1, 8), dt.datetime(2024, 1, 1, 9), dt.datetime(2024, 2, 3, 10), dt.datetime(2025, 3, 4)]
    return pa.table({"region": ["eu", "us", "eu", "eu"], "ts": pa.array(ts, pa.timestamp("us")), "n": [1, 2, 3, 4]})


@pytest.mark.parametrize(
    "spec,field,values",
    [
        ("region", "region", {"eu", "us"}),
        ("day(ts)", "ts_day", {"2024-01-01", "2024-02-03", "2025-03-04"}),
        ("month(ts)", "ts_month", {"2024-01", "2024-02", "2025-03"}),
        ("year(ts)", "ts_year", {"2024", "2025"}),
    ],
)
def test_partition_by_sets_the_spec_and_writes_partitioned_files(lh, spec, field, values):
    report = lh.ingest(_events(), "ev.events", mode="create", partition_by=spec)
    t = lh.catalog.load_table("ev.events")
    assert [f.name for f in t.spec().fields] == [field]
    assert report.files == len(values)
    dirs = {p.parent.name for p in parquet_files(lh.config.warehouse)}
    assert dirs == {f"{field}={v}" for v in values}
    assert sorted(r["n"] for r in read_rows(lh, "ev.events")) == [1, 2, 3, 4]


def test_partition_by_several_columns_and_appending_keeps_the_spec(lh):
    lh.ingest(_events(), "ev.events", partition_by=["region", "month(ts)"])
    lh.ingest(_events(), "ev.events")  # no partition_by: the table's own spec
    t = lh.catalog.load_table("ev.events")
    assert [f.name for f in t.spec().fields] == ["region", "ts_month"]
    assert len(read_rows(lh, "ev.events")) == 8
    with pytest.raises(InvalidInput, match="partitioned by region, month\\(ts\\)"):
        lh.ingest(_events(), "ev.events", partition_by="year(ts)")


def test_bad_partition_specs_are_rejected(lh):
    with pytest.raises(InvalidInput, match="unknown partition transform"):
        lh.ingest(_events(), "ev.e1", partition_by="week(ts)")
    with pytest.raises(InvalidInput, match="not in the source"):
        lh.ingest(_events(), "ev.e2", partition_by="nope")
    with pytest.raises(InvalidInput):
        lh.ingest(_events(), "ev.e3", partition_by="day(region)")  # a transform that does not fit the type
    assert not lh.catalog.table_exists("ev.e3")


def test_new_columns_are_refused_without_evolve_and_added_with_it(lh, people):
    lh.ingest(people, "sales.people")
    before = current_snapshot_id(lh, "sales.people")
    wider = people.append_column("City", pa.array(["oslo", "rome", "lima"]))
    with pytest.raises(InvalidInput, match="columns that sales.people does not: city") as e:
        lh.ingest(wider, "sales.people")
    assert "evolve=True" in str(e.value)
    assert current_snapshot_id(lh, "sales.people") == before
    lh.ingest(wider, "sales.people", evolve=True)
    rows = read_rows(lh, "sales.people")
    assert len(rows) == 6 and sorted(r["city"] or "" for r in rows) == ["", "", "", "lima", "oslo", "rome"]


def test_missing_columns_are_filled_with_nulls_and_types_are_widened(lh, people):
    lh.ingest(people, "sales.people")
    lh.ingest(pa.table({"id": pa.array([7], pa.int32()), "Name": ["zed"]}), "sales.people")
    assert read_rows(lh, "sales.people", "id")[-1] == {"id": 7, "name": "zed", "score": None}


def test_csv_into_an_existing_table_parses_with_the_table_types(lh, tmp_path):
    lh.ingest(pa.table({"code": ["007"], "n": [1.0]}), "sales.codes")
    f = tmp_path / "codes.csv"
    f.write_text("Code,N\n042,2\n")  # would infer int64 for both on its own
    lh.ingest(str(f), "sales.codes")
    assert read_rows(lh, "sales.codes", "n") == [{"code": "007", "n": 1.0}, {"code": "042", "n": 2.0}]


def test_lineage_records_source_uris_operation_and_user(lh, csv_dir, monkeypatch):
    monkeypatch.setenv("LAKELAB_USER", "ada")
    lh.ingest(str(csv_dir / "*.csv"), "sales.people")
    lin = lineage_of(lh, "sales.people")
    assert lin["lakelab.operation"] == "ingest" and lin["lakelab.user"] == "ada"
    assert lin["lakelab.sources"] == [f"file://{csv_dir}/a.csv", f"file://{csv_dir}/b.csv"]
    from lakelab.catalog.metadata import Lineage

    snap = lh.catalog.load_table("sales.people").current_snapshot()
    back = Lineage.from_summary(dict(snap.summary.additional_properties))
    assert back.operation == "ingest" and back.sources == lin["lakelab.sources"]


def test_empty_source_creates_an_empty_dataset(lh):
    report = lh.ingest(pa.table({"id": pa.array([], pa.int64())}), "sales.empty", mode="create")
    assert report.rows == 0 and report.files == 0
    assert read_rows(lh, "sales.empty") == []


def test_concurrent_appends_all_land(lh, people):
    import threading

    import lakelab
    from lakelab.config import load_config

    lh.ingest(people, "sales.people")
    errors: list[BaseException] = []

    def append() -> None:
        other = lakelab.Lakehouse(load_config())  # another writer with its own catalog connection
        try:
            other.ingest(people, "sales.people")
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)
        finally:
            other.close()

    threads = [threading.Thread(target=append) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(read_rows(lh, "sales.people")) == 15

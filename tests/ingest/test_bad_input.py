"""Bad input: a clear lakelab error that names the problem, and nothing committed or left behind."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingest_helpers import current_snapshot_id, parquet_files, read_rows

import lakelab.io.sources as sources_mod
import lakelab.write.files as writer_mod
from lakelab.errors import InvalidInput, LakelabError, NotFound


@pytest.fixture
def small_chunks(monkeypatch):
    """Tiny blocks and chunks, so data files are written before a late error is met."""
    monkeypatch.setattr(sources_mod, "CSV_BLOCK", 1 << 14)
    monkeypatch.setattr(writer_mod, "CHUNK_BYTES", 1 << 14)


def _csv_with_bad_value_at_the_end(path, n=20_000):
    with path.open("w") as f:
        f.write("id,amount\n")
        for i in range(n):
            f.write(f"{i},{i * 2}\n")
        f.write("oops,5\n")
    return n + 2  # the bad line's number


def test_malformed_csv_names_the_file_and_line(lh, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("a,b,c\n1,2,3\n4,5\n")
    with pytest.raises(InvalidInput) as e:
        lh.ingest(str(f), "raw.bad")
    msg = str(e.value)
    assert "malformed CSV" in msg and "bad.csv" in msg and "line 3" in msg and "expected 3 columns, got 2" in msg
    assert not lh.catalog.table_exists("raw.bad")


def test_wrong_typed_value_names_file_line_and_column(lh, tmp_path, small_chunks):
    f = tmp_path / "late.csv"
    line = _csv_with_bad_value_at_the_end(f)
    with pytest.raises(InvalidInput) as e:
        lh.ingest(str(f), "raw.late", mode="create")
    msg = str(e.value)
    assert "late.csv" in msg and f"line {line}" in msg and "column 'id'" in msg and "'oops'" in msg


def test_failed_create_leaves_no_table_and_no_data_files(lh, tmp_path, small_chunks):
    f = tmp_path / "late.csv"
    _csv_with_bad_value_at_the_end(f)
    with pytest.raises(InvalidInput):
        lh.ingest(str(f), "fresh.late", mode="create")
    assert not lh.catalog.table_exists("fresh.late")
    assert parquet_files(lh.config.warehouse) == []
    assert ("fresh",) not in lh.catalog.list_namespaces()  # the namespace it made is gone too


def test_failed_append_leaves_the_table_exactly_as_it_was(lh, tmp_path, small_chunks):
    lh.ingest(pa.table({"id": [1], "amount": [2]}), "raw.late")
    before, files_before = current_snapshot_id(lh, "raw.late"), parquet_files(lh.config.warehouse)
    f = tmp_path / "late.csv"
    _csv_with_bad_value_at_the_end(f)
    with pytest.raises(InvalidInput, match="line"):
        lh.ingest(str(f), "raw.late")
    assert current_snapshot_id(lh, "raw.late") == before
    assert read_rows(lh, "raw.late") == [{"id": 1, "amount": 2}]
    assert parquet_files(lh.config.warehouse) == files_before


@pytest.mark.parametrize("mode", ["overwrite", "upsert"])
def test_failed_overwrite_or_upsert_leaves_the_table_unchanged(lh, tmp_path, mode):
    lh.ingest(pa.table({"id": [1], "amount": [2]}), "raw.t")
    before = current_snapshot_id(lh, "raw.t")
    with pytest.raises(InvalidInput, match="cannot be stored as int64"):
        lh.ingest(pa.table({"id": ["x"], "amount": [3]}), "raw.t", mode=mode, key="id" if mode == "upsert" else None)
    assert current_snapshot_id(lh, "raw.t") == before and read_rows(lh, "raw.t") == [{"id": 1, "amount": 2}]


def test_value_that_does_not_fit_the_table_type_is_named(lh):
    lh.ingest(pa.table({"id": [1]}), "raw.ints")
    with pytest.raises(InvalidInput) as e:
        lh.ingest(pa.table({"id": ["seven"]}), "raw.ints")
    assert "column 'id'" in str(e.value) and "seven" in str(e.value)


def test_missing_file_and_empty_glob_are_not_found(lh, tmp_path):
    with pytest.raises(NotFound, match="no such file"):
        lh.ingest(str(tmp_path / "nope.csv"), "raw.x")
    with pytest.raises(NotFound, match="no files match"):
        lh.ingest(str(tmp_path / "*.parquet"), "raw.x")
    assert not lh.catalog.table_exists("raw.x")


@pytest.mark.parametrize(
    "bad", ['raw."x"', "raw.x;drop table y", "raw.täble", "raw.x y", "nonamespace", "raw.1x", "raw.x'--"]
)
def test_bad_table_names_are_rejected_before_anything_happens(lh, people, bad):
    with pytest.raises(InvalidInput):
        lh.ingest(people, bad)
    assert parquet_files(lh.config.warehouse) == []


def test_unknown_mode_and_format_are_rejected(lh, people, tmp_path):
    with pytest.raises(InvalidInput, match="unknown mode 'merge'"):
        lh.ingest(people, "raw.people", mode="merge")
    with pytest.raises(InvalidInput, match="unknown format 'xml'"):
        lh.ingest(str(tmp_path), "raw.people", format="xml")


def test_unknown_file_extension_asks_for_a_format(lh, tmp_path):
    (tmp_path / "data.bin").write_text("x")
    with pytest.raises(InvalidInput, match="format="):
        lh.ingest(str(tmp_path / "data.bin"), "raw.x")


@pytest.mark.parametrize(
    "col,suggest", [("total sales", "total_sales"), ("prix €", "prix"), ("2024", "c_2024"), ('a"; drop', "a_drop")]
)
def test_invalid_column_names_are_named_with_a_suggested_rename(lh, col, suggest):
    with pytest.raises(InvalidInput) as e:
        lh.ingest(pa.table({col: [1]}), "raw.cols")
    assert repr(col) in str(e.value) and repr(suggest) in str(e.value)
    assert not lh.catalog.table_exists("raw.cols")


def test_columns_equal_after_case_folding_are_refused(lh):
    with pytest.raises(InvalidInput, match="same name"):
        lh.ingest(pa.table({"Id": [1], "ID": [2]}), "raw.cols")


def test_files_with_different_columns_are_refused(lh, tmp_path):
    (tmp_path / "a.csv").write_text("id,name\n1,a\n")
    (tmp_path / "b.csv").write_text("id,label\n2,b\n")
    with pytest.raises(InvalidInput, match="different columns") as e:
        lh.ingest(str(tmp_path / "*.csv"), "raw.mixed")
    assert "b.csv" in str(e.value) and "label" in str(e.value)
    assert not lh.catalog.table_exists("raw.mixed") and parquet_files(lh.config.warehouse) == []


def test_parquet_files_with_clashing_types_are_refused(lh, tmp_path):
    tmp_path = tmp_path / "src"
    tmp_path.mkdir()
    pq.write_table(pa.table({"id": [1]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"id": ["one"]}), tmp_path / "b.parquet")
    with pytest.raises(InvalidInput, match="incompatible"):
        lh.ingest(str(tmp_path), "raw.mixed")


def test_mixed_formats_in_a_directory_are_refused(lh, tmp_path):
    tmp_path = tmp_path / "src"
    tmp_path.mkdir()
    (tmp_path / "a.csv").write_text("id\n1\n")
    pq.write_table(pa.table({"id": [1]}), tmp_path / "b.parquet")
    with pytest.raises(InvalidInput, match="mixes formats"):
        lh.ingest(str(tmp_path), "raw.mixed")


def test_malformed_json_and_not_json_are_named(lh, tmp_path):
    (tmp_path / "a.ndjson").write_text('{"id": 1}\n{"id": \n')
    (tmp_path / "b.json").write_text("hello")
    with pytest.raises(InvalidInput, match="malformed JSON in .*a.ndjson"):
        lh.ingest(str(tmp_path / "a.ndjson"), "raw.j")
    with pytest.raises(InvalidInput, match="is not JSON"):
        lh.ingest(str(tmp_path / "b.json"), "raw.j")


def test_not_a_parquet_file_and_an_empty_csv(lh, tmp_path):
    (tmp_path / "x.parquet").write_text("not parquet")
    (tmp_path / "e.csv").write_text("")
    with pytest.raises(InvalidInput, match="not a readable Parquet"):
        lh.ingest(str(tmp_path / "x.parquet"), "raw.x")
    with pytest.raises(InvalidInput, match="empty"):
        lh.ingest(str(tmp_path / "e.csv"), "raw.x")


def test_pandas_column_of_mixed_types_is_named(lh):
    import pandas as pd

    with pytest.raises(InvalidInput, match="mixed"):
        lh.ingest(pd.DataFrame({"v": [1, "two", 3.0]}), "raw.mixed")


def test_unsupported_objects_say_what_can_be_ingested(lh):
    with pytest.raises(InvalidInput, match="cannot ingest a dict"):
        lh.ingest({"a": 1}, "raw.x")


def test_every_error_is_a_lakelab_error_with_a_code(lh, tmp_path):
    f = tmp_path / "bad.csv"
    f.write_text("a,b\n1\n")
    with pytest.raises(LakelabError) as e:
        lh.ingest(str(f), "raw.x")
    assert e.value.code == "invalid_input" and e.value.http_status == 400

"""Every kind of source lands in a dataset with the same rows: files, globs, directories, URLs,
DataFrames and Arrow objects."""

from __future__ import annotations

import json

import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from ingest_helpers import lineage_of, parquet_files, read_rows

EXPECTED = [
    {"id": 1, "name": "ada", "score": 1.5},
    {"id": 2, "name": "bob", "score": 2.5},
    {"id": 3, "name": "cy", "score": 3.5},
]


def test_csv_file_is_ingested_with_inferred_types(lh, tmp_path):
    f = tmp_path / "p.csv"
    f.write_text("id,name,score\n1,ada,1.5\n2,bob,2.5\n3,cy,3.5\n")
    report = lh.ingest(str(f), "raw.people", mode="create")
    assert report.rows == 3 and report.files == 1 and report.bytes > 0 and report.snapshot_id
    assert report.sources == [f"file://{f}"]
    assert read_rows(lh, "raw.people", "id") == EXPECTED
    schema = lh.catalog.load_table("raw.people").schema()
    assert [str(f.field_type) for f in schema.fields] == ["long", "string", "double"]


def test_parquet_file_is_ingested(lh, tmp_path, people):
    pq.write_table(people, tmp_path / "p.parquet")
    lh.ingest(tmp_path / "p.parquet", "raw.people")
    assert read_rows(lh, "raw.people", "id") == EXPECTED


def test_json_array_and_ndjson_files_are_ingested(lh, tmp_path):
    (tmp_path / "arr.json").write_text(json.dumps(EXPECTED))
    (tmp_path / "lines.ndjson").write_text("\n".join(json.dumps(r) for r in EXPECTED) + "\n")
    (tmp_path / "lines.json").write_text("\n".join(json.dumps(r) for r in EXPECTED))
    lh.ingest(str(tmp_path / "arr.json"), "raw.arr")
    lh.ingest(str(tmp_path / "lines.ndjson"), "raw.nd")
    lh.ingest(str(tmp_path / "lines.json"), "raw.nd2")
    for t in ("raw.arr", "raw.nd", "raw.nd2"):
        assert read_rows(lh, t, "id") == EXPECTED


def test_format_option_reads_files_whose_name_does_not_tell(lh, tmp_path):
    f = tmp_path / "export.dat"
    f.write_text("id,name,score\n1,ada,1.5\n")
    lh.ingest(str(f), "raw.dat", format="csv")
    assert read_rows(lh, "raw.dat") == EXPECTED[:1]


def test_gzipped_csv_is_read(lh, tmp_path):
    import gzip

    f = tmp_path / "p.csv.gz"
    f.write_bytes(gzip.compress(b"id,name,score\n1,ada,1.5\n"))
    lh.ingest(str(f), "raw.gz")
    assert read_rows(lh, "raw.gz") == EXPECTED[:1]


def test_glob_directory_and_file_url_read_every_file(lh, csv_dir):
    r1 = lh.ingest(str(csv_dir / "*.csv"), "raw.glob")
    r2 = lh.ingest(str(csv_dir), "raw.dir")
    lh.ingest(f"file://{csv_dir}/a.csv", "raw.url")
    assert read_rows(lh, "raw.glob", "id") == EXPECTED == read_rows(lh, "raw.dir", "id")
    assert read_rows(lh, "raw.url", "id") == EXPECTED[:2]
    assert r1.sources == [f"file://{csv_dir}/a.csv", f"file://{csv_dir}/b.csv"] == r2.sources
    assert r1.rows == 3


def test_parquet_files_with_promotable_types_are_unified(lh, tmp_path):
    pq.write_table(pa.table({"id": pa.array([1], pa.int32()), "v": ["a"]}), tmp_path / "1.parquet")
    pq.write_table(pa.table({"v": ["b"], "id": pa.array([2], pa.int64())}), tmp_path / "2.parquet")
    lh.ingest(str(tmp_path / "*.parquet"), "raw.pq")
    assert read_rows(lh, "raw.pq", "id") == [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}]


def test_pandas_dataframe_with_nanosecond_timestamps_and_mixed_case_columns(lh):
    df = pd.DataFrame(
        {
            "ID": [1, 2],
            "When": pd.to_datetime(["2024-01-01 10:00", "2024-01-02 11:30"]),
            "flag": pd.array([1, 2], dtype="uint8"),
        }
    )
    report = lh.ingest(df, "raw.pdf", mode="create")
    assert report.sources == [] and report.rows == 2
    rows = read_rows(lh, "raw.pdf", "id")
    assert [r["id"] for r in rows] == [1, 2]
    assert str(rows[1]["when"]) == "2024-01-02 11:30:00" and rows[0]["flag"] == 1
    assert lineage_of(lh, "raw.pdf")["lakelab.sources"] == ["python:pandas.DataFrame"]


def test_polars_dataframe_and_lazyframe(lh):
    df = pl.DataFrame({"id": [1, 2, 3], "name": ["ada", "bob", "cy"], "score": [1.5, 2.5, 3.5]})
    lh.ingest(df, "raw.pl")
    lh.ingest(df.lazy().filter(pl.col("id") > 2), "raw.pl")
    assert sorted(r["id"] for r in read_rows(lh, "raw.pl")) == [1, 2, 3, 3]


def test_arrow_table_and_streaming_record_batch_reader(lh, people):
    lh.ingest(people, "raw.arrow")
    reader = pa.RecordBatchReader.from_batches(people.schema, people.to_batches(max_chunksize=1))
    report = lh.ingest(reader, "raw.reader")
    assert report.rows == 3
    assert read_rows(lh, "raw.arrow", "id") == EXPECTED == read_rows(lh, "raw.reader", "id")


def test_query_result_object_with_to_arrow(lh, people):
    class Result:  # what lh.sql() returns: anything with .to_arrow()
        def to_arrow(self):
            return people

    lh.ingest(Result(), "raw.result")
    assert read_rows(lh, "raw.result", "id") == EXPECTED


def test_large_csv_streams_into_row_groups_and_rolls_files_at_the_target_size(lh, tmp_path, monkeypatch):
    import lakelab.io.sources as sources_mod

    monkeypatch.setattr(sources_mod, "CSV_BLOCK", 1 << 16)  # many small blocks
    f = tmp_path / "big.csv"
    with f.open("w") as out:
        out.write("id,label\n")
        for i in range(100_000):
            out.write(f"{i},row{i}\n")
    lh.ingest(pa.table({"id": [-1], "label": ["seed"]}), "raw.big")
    with lh.catalog.load_table("raw.big").transaction() as tx:
        tx.set_properties({"write.parquet.row-group-limit": "5000", "write.target-file-size-bytes": "100000"})
    report = lh.ingest(str(f), "raw.big")
    assert report.rows == 100_000 and report.files > 3
    files = parquet_files(lh.config.warehouse)
    assert len(files) == report.files + 1  # + the seed row's file
    groups = {pq.ParquetFile(p).metadata.row_group(0).num_rows for p in files}
    assert max(groups) == 5000
    t = lh.catalog.load_table("raw.big").scan().to_arrow()
    assert sorted(t.column("id").to_pylist()) == list(range(-1, 100_000))


def test_report_reads_well_as_text_and_html(lh, people):
    report = lh.ingest(people, "raw.rep")
    assert "3 rows" in repr(report) and "raw.rep" in repr(report)
    assert "<b>ingest</b>" in report._repr_html_() and "3 rows" in report._repr_html_()


def test_open_source_gives_a_streaming_reader_whose_errors_stay_clear(tmp_path, monkeypatch):
    import lakelab.io.sources as sources_mod
    from lakelab.errors import InvalidInput
    from lakelab.io.sources import open_source

    monkeypatch.setattr(sources_mod, "CSV_BLOCK", 1 << 14)
    f = tmp_path / "late.csv"
    f.write_text("id\n" + "".join(f"{i}\n" for i in range(20_000)) + "oops\n")
    reader = open_source(str(f)).to_reader()
    assert isinstance(reader, pa.RecordBatchReader) and reader.schema.names == ["id"]
    first = reader.read_next_batch()
    assert 0 < first.num_rows < 20_000  # streamed, not read whole
    with pytest.raises(InvalidInput, match="line 20002"):
        reader.read_all()


def test_unknown_url_scheme_is_a_clear_error(lh):
    from lakelab.errors import InvalidInput

    with pytest.raises(InvalidInput, match="s3://, gs:// or file://"):
        lh.ingest("ftp://example.org/data.csv", "raw.x")


def test_credentials_in_a_url_never_appear_in_errors(lh):
    from lakelab.errors import InvalidInput

    with pytest.raises(InvalidInput) as e:
        lh.ingest("ftp://user:hunter2@example.org/data.csv?token=s3cret", "raw.x")
    assert "hunter2" not in str(e.value) and "s3cret" not in str(e.value)


def test_progress_bar_shows_when_asked_and_stays_silent_when_not(lh, people, capsys, monkeypatch):
    import lakelab.io.progress as progress_mod

    monkeypatch.setattr(progress_mod, "SHOW_AFTER_S", 0)
    lh.ingest(people, "raw.quiet", progress=False)
    assert capsys.readouterr().err == ""
    lh.ingest(people, "raw.loud", progress=True)
    err = capsys.readouterr().err
    assert "ingest raw.loud" in err and "rows" in err
    lh.ingest(people, "raw.auto")  # not interactive under pytest: quiet
    assert capsys.readouterr().err == ""


def test_arrow_types_iceberg_lacks_are_stored_as_the_nearest_type(lh):
    import datetime as dt
    import decimal

    t = pa.table(
        {
            "small": pa.array([1], pa.int16()),
            "unsigned": pa.array([7], pa.uint32()),
            "oslo": pa.array([dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)], pa.timestamp("ns", tz="Europe/Oslo")),
            "price": pa.array([decimal.Decimal("1.23")], pa.decimal128(10, 2)),
            "tags": [["a", "b"]],
            "point": [{"x": 1, "label": "p"}],
            "nothing": pa.nulls(1),
            "cat": pa.array(["a"]).dictionary_encode(),
            "blob": [b"\x00"],
        }
    )
    lh.ingest(t, "raw.types", mode="create")
    schema = lh.catalog.load_table("raw.types").schema()
    assert {f.name: str(f.field_type) for f in schema.fields} == {
        "small": "int",
        "unsigned": "long",
        "oslo": "timestamptz",
        "price": "decimal(10, 2)",
        "tags": "list<string>",
        "point": "struct<11: x: optional long, 12: label: optional string>",
        "nothing": "string",
        "cat": "string",
        "blob": "binary",
    }
    row = read_rows(lh, "raw.types")[0]
    assert row["oslo"] == dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc) and row["price"] == decimal.Decimal("1.23")
    assert row["tags"] == ["a", "b"] and row["point"] == {"x": 1, "label": "p"} and row["cat"] == "a"


def test_durations_are_refused_with_a_hint(lh):
    from lakelab.errors import InvalidInput

    with pytest.raises(InvalidInput, match="cannot be stored in Iceberg"):
        lh.ingest(pa.table({"d": pa.array([1], pa.duration("s"))}), "raw.dur")

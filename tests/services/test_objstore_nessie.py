"""Writes on Nessie 0.99 (REST catalog on s3): it rejects pyiceberg 0.12's create
transaction, so lakelab creates a new table apart from its first rows (write/commit.py
`_creates_apart`) and drops it again when those rows fail."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from lakelab.errors import LakelabError

pytestmark = [pytest.mark.trino, pytest.mark.slow]


def test_ingest_creates_appends_and_a_failed_create_leaves_no_table_on_nessie(lakehouse_profile):
    run = lakehouse_profile("nessie", "s3")
    lh = run.lakehouse
    frame = pd.DataFrame({"id": range(100), "city": ["Oslo", "Lima", "Pune", "Kyiv"] * 25})
    assert lh.ingest(frame, "nes.cities", mode="create").rows == 100
    assert lh.ingest(frame, "nes.cities").rows == 100
    sql = "SELECT count(*) AS n, count(DISTINCT city) AS c FROM nes.cities"
    expect = [{"n": 200, "c": 4}]
    assert lh.sql(sql, engine="duckdb").to_pandas().to_dict("records") == expect
    assert lh.sql(sql, engine="trino").to_pandas().to_dict("records") == expect
    # Nessie keeps the history in its own commits: a table's metadata holds only the current
    # snapshot, so lakelab's time travel on Nessie reaches only that one
    assert [s.current for s in lh.dataset("nes.cities").snapshots()] == [True]

    def broken():
        yield pa.record_batch({"id": pa.array([1, 2], pa.int64())})
        raise RuntimeError("the source broke")

    reader = pa.RecordBatchReader.from_batches(pa.schema([("id", pa.int64())]), broken())
    with pytest.raises((LakelabError, RuntimeError)):
        lh.ingest(reader, "nes.broken", mode="create")
    assert not lh.catalog.table_exists("nes.broken")

"""Ingest on the shared PostgreSQL catalog (the one Trino reads) behaves the same."""

from __future__ import annotations

import pyarrow as pa
import pytest
from ingest_helpers import current_snapshot_id, lineage_of, read_rows

from lakelab.errors import Conflict, InvalidInput

pytestmark = [pytest.mark.postgres]


def test_create_append_upsert_on_postgres(pg_lh, people):
    pg_lh.ingest(people, "pg.people", mode="create", partition_by="name")
    pg_lh.ingest(people.slice(0, 1), "pg.people")
    pg_lh.ingest(pa.table({"id": [9], "name": ["zed"], "score": [0.5]}), "pg.people", mode="upsert", key="id")
    assert sorted(r["id"] for r in read_rows(pg_lh, "pg.people")) == [1, 1, 2, 3, 9]
    assert lineage_of(pg_lh, "pg.people")["lakelab.operation"] == "ingest"


def test_failed_ingests_on_postgres_leave_nothing(pg_lh, people, tmp_path):
    pg_lh.ingest(people, "pg.people")
    before = current_snapshot_id(pg_lh, "pg.people")
    with pytest.raises(Conflict):
        pg_lh.ingest(people, "pg.people", mode="create")
    with pytest.raises(InvalidInput):
        pg_lh.ingest(pa.table({"id": ["x"]}), "pg.people")
    (tmp_path / "bad.csv").write_text("id\n1\n2,3\n")
    with pytest.raises(InvalidInput, match="line 3"):
        pg_lh.ingest(str(tmp_path / "bad.csv"), "pg.fresh", mode="create")
    assert current_snapshot_id(pg_lh, "pg.people") == before
    assert not pg_lh.catalog.table_exists("pg.fresh")


def test_closing_a_lakehouse_gives_its_database_connections_back(pg_lh, people):
    import sqlalchemy

    url = pg_lh.config.catalog["uri"]
    database = url.rsplit("/", 1)[1]
    admin = sqlalchemy.create_engine(url.rsplit("/", 1)[0] + "/postgres")

    def connections() -> int:
        with admin.connect() as c:
            query = sqlalchemy.text("SELECT count(*) FROM pg_stat_activity WHERE datname = :db")
            return int(c.execute(query, {"db": database}).scalar_one())

    pg_lh.ingest(people, "pg.people")
    assert pg_lh.sql("SELECT count(*) AS n FROM pg.people", engine="duckdb").table.to_pylist() == [{"n": 3}]
    assert connections() >= 1  # the catalog's pool holds what it used
    pg_lh.close()
    assert connections() == 0
    assert pg_lh.sql("SELECT count(*) AS n FROM pg.people", engine="duckdb").table.to_pylist() == [{"n": 3}]
    admin.dispose()

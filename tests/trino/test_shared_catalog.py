"""One catalog, two engines: what pyiceberg writes Trino reads at once, and the other way round."""

from __future__ import annotations

import pyarrow as pa

from lakelab.catalog import metadata as md
from lakelab.catalog.access import WRITE_PROPERTIES


def _make(tlh, name: str, props: dict | None = None):
    table = tlh.catalog.create_table(
        name, pa.schema([("id", pa.int64()), ("city", pa.string())]), properties={**WRITE_PROPERTIES, **(props or {})}
    )
    lineage = md.Lineage(operation="ingest", sources=["file:///data/cities.csv"])
    table.append(pa.table({"id": [1, 2, 3], "city": ["Oslo", "Lima", "Pune"]}), snapshot_properties=lineage.summary())
    return table


def test_table_written_by_pyiceberg_is_queryable_from_trino_at_once(tlh, ns):
    _make(tlh, f"{ns}.cities")
    got = tlh.engine("trino").execute(f"SELECT id, city FROM {ns}.cities ORDER BY id").table
    assert got.to_pylist() == [{"id": 1, "city": "Oslo"}, {"id": 2, "city": "Lima"}, {"id": 3, "city": "Pune"}]
    tlh.catalog.load_table(f"{ns}.cities").append(pa.table({"id": [4], "city": ["Rome"]}))
    got = tlh.engine("trino").execute(f"SELECT count(*) AS n FROM {ns}.cities").table
    assert got.to_pylist() == [{"n": 4}]  # no stale metadata cache in Trino


def test_table_created_by_trino_is_visible_to_pyiceberg_duckdb_and_datasets(tlh, ns):
    trino = tlh.engine("trino")
    res = trino.execute(f"CREATE TABLE {ns}.squares AS SELECT x, x * x AS sq FROM UNNEST(sequence(1, 5)) AS t(x)")
    assert res.message == "CREATE TABLE: 5 rows"
    trino.execute(f"INSERT INTO {ns}.squares VALUES (6, 36)")
    arrow = tlh.catalog.load_table(f"{ns}.squares").scan().to_arrow().sort_by("x")
    assert arrow.column("sq").to_pylist() == [1, 4, 9, 16, 25, 36]
    local = tlh.engine("duckdb").execute(f"SELECT sum(sq) AS s FROM {ns}.squares").table
    assert local.to_pylist() == [{"s": 91}]
    names = [d["name"] for d in tlh.datasets(namespace=ns)]
    assert f"{ns}.squares" in names


def test_lakelab_properties_and_lineage_survive_trino_writes(tlh, ns):
    props = md.metadata_properties(kind="table", owner="ana", description="Cities we ship to", tags="geo,ops")
    _make(tlh, f"{ns}.cities", props)
    trino = tlh.engine("trino")
    trino.execute(f"INSERT INTO {ns}.cities VALUES (9, 'Kyiv')")
    trino.execute(f"DELETE FROM {ns}.cities WHERE id = 2")
    trino.execute(f"UPDATE {ns}.cities SET city = 'OSLO' WHERE id = 1")
    table = tlh.catalog.load_table(f"{ns}.cities")
    assert md.read_metadata(table.properties) == {
        "kind": "table",
        "owner": "ana",
        "description": "Cities we ship to",
        "tags": ["geo", "ops"],
    }
    first = table.snapshots()[0]
    assert md.Lineage.from_summary(first.summary.additional_properties).sources == ["file:///data/cities.csv"]
    # Trino wrote delete files: every engine must apply them
    want = [{"id": 1, "city": "OSLO"}, {"id": 3, "city": "Pune"}, {"id": 9, "city": "Kyiv"}]
    assert sorted(table.scan().to_arrow().to_pylist(), key=lambda r: r["id"]) == want
    for engine in ("trino", "duckdb"):
        got = tlh.engine(engine).execute(f"SELECT id, city FROM {ns}.cities ORDER BY id").table.to_pylist()
        assert got == want, engine


def test_trino_commits_name_their_query_and_user_in_the_snapshot_summary(tlh, ns):
    res = tlh.engine("trino").execute(f"CREATE TABLE {ns}.traced AS SELECT 1 AS x")
    summary = tlh.catalog.load_table(f"{ns}.traced").current_snapshot().summary.additional_properties
    assert summary.get("trino_query_id") == res.query_id
    assert summary.get("trino_user") == tlh.config.trino.user


def test_a_published_model_is_an_ordinary_table_trino_can_list(tlh, ns):
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0])
    tlh.publish(model, f"{ns}.churn", kind="model", owner="ml-team")
    tlh.publish(model, f"{ns}.churn", kind="model")
    rows = (
        tlh.engine("trino")
        .execute(f"SELECT version, bytes > 0 AS stored, length(sha256) AS sha_len FROM {ns}.churn ORDER BY version")
        .table
    )
    assert rows.to_pylist() == [
        {"version": 1, "stored": True, "sha_len": 64},
        {"version": 2, "stored": True, "sha_len": 64},
    ]
    assert abs(tlh.dataset(f"{ns}.churn").load(version=1).predict([[3.0]])[0] - 7.0) < 1e-9

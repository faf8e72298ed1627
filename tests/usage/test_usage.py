"""Usage recorded by a scripted session: what `lh.dataset(x).usage()`, search and the usage
table itself show afterwards, opt-out, switching off, and retention."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pyarrow as pa
import pytest

import lakelab
from lakelab.config import load_config
from lakelab.usage import recorder, retention


@pytest.fixture
def house(lakelab_home, monkeypatch):
    monkeypatch.setenv("LAKELAB_USAGE", "on")
    monkeypatch.delenv("LAKELAB_USAGE_OPT_OUT", raising=False)
    lakelab_home.mkdir(parents=True, exist_ok=True)
    (lakelab_home / "config.yaml").write_text("usage:\n  opt_out: [carol]\n")
    h = lakelab.Lakehouse(load_config())
    h.ingest(pa.table({"id": [1, 2, 3], "cust": [1, 2, 1]}), "sales.orders")
    h.ingest(pa.table({"id": [1, 2], "name": ["a", "b"]}), "sales.customers")
    h.ingest(pa.table({"sku": ["x"]}), "sales.products")
    yield h
    h.close()


def _session(house, monkeypatch) -> None:
    monkeypatch.setenv("LAKELAB_USER", "alice")
    for _ in range(3):
        house.sql("SELECT * FROM sales.orders")
    house.sql("select *\n  from sales.orders;")  # the same query, spelled differently
    monkeypatch.setenv("LAKELAB_USER", "bob")
    house.sql("SELECT o.id, c.name FROM sales.orders o JOIN sales.customers c ON o.cust = c.id")
    monkeypatch.setenv("LAKELAB_USER", "carol")  # opted out in the config: never kept
    for _ in range(5):
        house.sql("SELECT count(*) FROM sales.orders")
    monkeypatch.setenv("LAKELAB_USER", "alice")


def test_usage_after_a_scripted_session(house, monkeypatch):
    _session(house, monkeypatch)
    u = house.dataset("sales.orders").usage()
    assert u.queries == 5
    assert u.users == [{"user": "alice", "queries": 4}, {"user": "bob", "queries": 1}]
    assert u.frequent_queries[0] == {"sql": "SELECT * FROM sales.orders", "runs": 3, "users": 1}
    assert {"sql": "select * from sales.orders", "runs": 1, "users": 1} in u.frequent_queries
    assert u.joined_with == [{"table": "sales.customers", "queries": 1}]
    assert u.per_day == [{"day": datetime.now(timezone.utc).date().isoformat(), "queries": 5}]
    text = repr(u)
    assert "5 queries in the last 30 days" in text and "alice (4), bob (1)" in text and "carol" not in text
    assert house.dataset("sales.products").usage().queries == 0

    # the usage table is an Iceberg table the engines query; reading it is not usage itself
    rows = house.sql("SELECT user_name, engine, table_name, snapshot_id FROM lakelab_system.usage").to_arrow()
    assert set(rows.column("user_name").to_pylist()) == {"alice", "bob"}
    assert set(rows.column("engine").to_pylist()) == {"duckdb"}
    snap = house.dataset("sales.orders").table.current_snapshot().snapshot_id
    assert {r["snapshot_id"] for r in rows.to_pylist() if r["table_name"] == "sales.orders"} == {snap}
    recorder.flush()
    assert house.dataset("sales.orders").usage().queries == 5

    # hidden from search and the top-level listing; search puts the most used first among equals
    assert [d["name"] for d in house.datasets("sales")] == ["sales.orders", "sales.customers", "sales.products"]
    assert "lakelab_system" not in [n["name"] for n in lakelab.datasets.search.list_namespaces(house)]


def test_usage_can_be_switched_off_and_a_user_can_opt_out(lakelab_home, monkeypatch):
    monkeypatch.setenv("LAKELAB_USAGE", "off")
    h = lakelab.Lakehouse(load_config())
    try:
        h.ingest(pa.table({"a": [1]}), "t.one")
        h.sql("SELECT * FROM t.one")
        assert recorder.flush() == 0
        assert h.dataset("t.one").usage().queries == 0
        assert "usage recording is switched off" in repr(h.dataset("t.one").usage())
    finally:
        h.close()
    monkeypatch.setenv("LAKELAB_USAGE", "on")
    monkeypatch.setenv("LAKELAB_USAGE_OPT_OUT", "1")
    h = lakelab.Lakehouse(load_config())
    try:
        h.sql("SELECT * FROM t.one")
        assert recorder.flush() == 0 and h.dataset("t.one").usage().queries == 0
    finally:
        h.close()


def test_retention_compacts_the_table_and_drops_rows_past_it(house, monkeypatch):
    monkeypatch.setattr(retention, "COMPACT_FILES", 3)
    for _ in range(5):  # five batches, five small files: the fifth batch compacts
        house.sql("SELECT * FROM sales.orders")
        recorder.flush()
    assert retention.file_count(house) <= 2
    assert house.dataset("sales.orders").usage().queries == 5
    later = datetime.now(timezone.utc) + timedelta(days=house.config.usage.retention_days + 1)
    done = retention.compact(house, now=later)
    assert done["kept"] == 0 and done["removed"] == 5 and done["expired"] >= 1
    assert house.dataset("sales.orders").usage().queries == 0

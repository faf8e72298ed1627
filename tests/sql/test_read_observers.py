"""Every query and write tells the read listeners which tables it read at which snapshots
(usage recording and dashboard publishes build on this)."""

import pytest

from lakelab.engines import observers

pytestmark = pytest.mark.fast


def test_queries_and_writes_announce_their_reads(lh):
    lh.sql("CREATE TABLE demo.obs_a AS SELECT 1 AS x")
    seen: list[observers.ReadEvent] = []
    stop = observers.subscribe(seen.append)
    try:
        lh.sql("SELECT count(*) FROM demo.obs_a")
        lh.sql("CREATE TABLE demo.obs_b AS SELECT x FROM demo.obs_a")
    finally:
        stop()
    snap = lh.catalog.load_table("demo.obs_a").current_snapshot().snapshot_id
    assert [(e.engine, e.reads) for e in seen] == [
        ("duckdb", (observers.Read("demo.obs_a", snap),)),
        ("duckdb", (observers.Read("demo.obs_a", snap),)),
    ]
    assert seen[0].rows == 1
    lh.sql("SELECT 1")  # unsubscribed: nothing more arrives
    assert len(seen) == 2


def test_a_failing_listener_never_fails_the_query(lh):
    def broken(event):
        raise RuntimeError("listener bug")

    stop = observers.subscribe(broken)
    try:
        assert lh.sql("SELECT 41 + 1 AS v").table.column("v").to_pylist() == [42]
    finally:
        stop()

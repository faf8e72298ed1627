"""The result cache on Trino: a query over our catalog's tables is answered from the cache while
its inputs' snapshots are unchanged; a commit, a non-deterministic function, another catalog's
table or `cache=False` runs it on Trino."""

from __future__ import annotations


def test_an_unchanged_query_is_answered_from_the_cache_until_a_commit(tlh, ns):
    trino = tlh.engine("trino")
    trino.execute(f"CREATE TABLE {ns}.t AS SELECT * FROM (VALUES (1, 'a'), (2, 'b'), (3, 'c')) v(id, s)")
    sql = f"SELECT id, s FROM {ns}.t ORDER BY id"
    first = trino.execute(sql, limit=2)
    again = trino.execute(sql, limit=2)
    assert first.stats["cache"] == "miss" and first.query_id
    assert again.stats["cache"] == "hit" and again.query_id is None
    assert "from the result cache" in again.note and f"{ns}.t@" in again.note
    assert again.table.equals(first.table) and again.has_more and again.num_rows == 2
    snap = tlh.catalog.load_table(f"{ns}.t").current_snapshot().snapshot_id
    assert [(r.table, r.snapshot_id) for r in again.reads] == [(f"{ns}.t", snap)]
    trino.execute(f"INSERT INTO {ns}.t VALUES (4, 'd')")  # a new snapshot
    after = trino.execute(f"SELECT count(*) AS n FROM {ns}.t")
    assert after.stats["cache"] == "miss" and after.table.to_pylist() == [{"n": 4}]
    assert trino.execute(sql, limit=2, cache=False).stats["cache"] == "off"


def test_what_can_change_without_a_commit_is_never_cached(tlh, ns):
    trino = tlh.engine("trino")
    trino.execute(f"CREATE TABLE {ns}.t AS SELECT 1 AS id")
    for sql in (
        f"SELECT id, random() AS r FROM {ns}.t",  # non-deterministic
        f"SELECT t.id, count(*) AS nodes FROM {ns}.t, system.runtime.nodes GROUP BY t.id",  # another catalog
        "SELECT 1 AS one",  # no table of ours
    ):
        trino.execute(sql)
        assert trino.execute(sql).stats["cache"] == "off", sql


def test_the_magic_says_so_and_no_cache_reruns_on_trino(shell, tlh, ns):
    from IPython.utils.capture import capture_output

    tlh.engine("trino").execute(f"CREATE TABLE {ns}.t AS SELECT 7 AS id")
    with capture_output():
        shell.run_cell(f"%%trino\nSELECT id FROM {ns}.t")
        hit = shell.run_cell(f"%%trino\nSELECT id FROM {ns}.t").result
        rerun = shell.run_cell(f"%%trino --no-cache\nSELECT id FROM {ns}.t").result
    assert hit.engine == "trino" and hit.stats["cache"] == "hit" and hit.table.to_pylist() == [{"id": 7}]
    assert rerun.stats["cache"] == "off" and rerun.query_id

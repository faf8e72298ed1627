"""The result grid on the real Trino: sorting, filtering, paging, the profile and charts run as
Trino queries over the cell's SQL pinned to the snapshots it read; a newer request interrupts
the Trino query still running (Engine.interrupt)."""

from __future__ import annotations

import threading

from lakelab.engines.paging import ResultView
from lakelab.notebook.widgets.grid import ResultGrid, result_grid

ENDLESS = (
    "SELECT count(*) FROM UNNEST(sequence(1, 10000)) a(x) CROSS JOIN UNNEST(sequence(1, 10000)) b(y) "
    "CROSS JOIN UNNEST(sequence(1, 10000)) c(z)"
)


def make_table(tlh, ns: str) -> str:
    tlh.engine("trino").execute(
        f"CREATE TABLE {ns}.flights AS SELECT x AS id, "
        "element_at(ARRAY['AA', 'UA', 'DL'], x % 3 + 1) AS carrier, "
        "IF(x % 10 = 0, NULL, CAST(x % 17 AS double)) AS delay "
        "FROM UNNEST(sequence(0, 999)) t(x)"
    )
    return f"{ns}.flights"


def test_the_grid_sorts_filters_pages_and_profiles_on_trino_at_the_cells_snapshot(tlh, ns):
    name = make_table(tlh, ns)
    trino = tlh.engine("trino")
    result = trino.execute(f"SELECT * FROM {name}", limit=100, cache=False)
    box = result_grid(result, trino, None, None, tlh)
    assert box is not None
    grid = box.grid
    assert grid.wait()
    assert grid.total == 1000 and [c["type"] for c in grid.columns] == ["bigint", "varchar", "double"]
    assert all("FOR VERSION AS OF" in q.sql for q in grid.view.sent)  # pinned to the snapshot read

    trino.execute(f"INSERT INTO {name} VALUES (5000, 'ZZ', 99.0)")  # a later commit: not in this result
    grid.sort = [[2, "desc"], [0, "asc"]]
    assert grid.wait() and grid.error == ""
    assert [r[2] for r in grid.rows[:3]] == [16.0, 16.0, 16.0] and [r[0] for r in grid.rows[:3]] == [16, 33, 67]
    grid.filters = [{"column": 1, "op": "=", "value": "AA' OR '1'='1"}]  # a value, never SQL
    assert grid.wait() and grid.total == 0 and grid.rows == []
    grid.filters = [{"column": 1, "op": "=", "value": "AA"}]
    assert grid.wait() and grid.total == 334
    grid.offset = 300
    assert grid.wait() and len(grid.rows) == 34 and all(r[1] == "AA" for r in grid.rows)
    grid.profile_column = 2
    assert grid.wait()
    assert grid.profile["nulls"] == 34 and grid.profile["min"] == 0.0 and grid.profile["max"] == 16.0
    grid.filters = [{"column": 9, "op": "=", "value": "x"}]
    assert grid.wait() and "unknown column 9" in grid.error


def test_interrupt_cancels_the_trino_query_of_that_thread_only(tlh):
    trino = tlh.engine("trino")
    box: dict = {}

    def work() -> None:
        box["ident"] = threading.get_ident()
        try:
            trino.execute(ENDLESS)
        except BaseException as e:  # noqa: BLE001 - inspected below
            box["error"] = e

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    while not trino._running:  # the query has been sent (it runs until cancelled)
        thread.join(0.05)
    trino.interrupt(thread=box["ident"] + 1)  # another thread: nothing happens
    assert not trino._interrupted and thread.is_alive()
    while thread.is_alive():
        trino.interrupt(thread=box["ident"])
        thread.join(0.5)
    assert isinstance(box.get("error"), KeyboardInterrupt)
    assert trino.execute("SELECT 1 AS one").table.to_pylist() == [{"one": 1}]  # the engine goes on


def test_a_newer_grid_request_cancels_the_running_trino_query(tlh, ns):
    """Trino pages always sort (stable order), so over a billion-row result every request runs
    long: a newer one must cancel the one still running on the server."""
    name = make_table(tlh, ns)
    trino = tlh.engine("trino")
    sql = f"SELECT a.id, b.carrier, c.delay FROM {name} a, {name} b, {name} c"
    result = trino.execute(sql, limit=100, cache=False)
    grid = ResultGrid(ResultView.of(trino, result, None, None, tlh), first=result.table, total=10**9)
    grid.sort = [[0, "desc"]]
    while not trino._running or next(iter(trino._running.values())).query_id is None:
        grid.runner.wait(0.05)  # that query has reached Trino
    first = next(iter(trino._running.values())).query_id
    grid.sort = [[1, "desc"]]  # a newer request
    state = None
    while state not in ("FINISHED", "FAILED"):
        row = trino.execute(
            "SELECT state, error_code FROM system.runtime.queries WHERE query_id = {{ q }}", {"q": first}
        ).table.to_pylist()
        state = row[0]["state"] if row else None
    assert row[0] == {"state": "FAILED", "error_code": "USER_CANCELED"}
    while not grid.runner.wait(0.5):  # clean up: the newer request runs long too
        trino.interrupt()

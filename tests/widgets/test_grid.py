"""The result grid's state and the queries it sends, on the embedded engine (no browser)."""

from __future__ import annotations

import json

import pytest

from lakelab.engines.paging import Column, Filter, ResultView, Sort, pin
from lakelab.errors import InvalidInput
from lakelab.notebook.widgets.grid import GridResult, ResultGrid, with_grid

from .conftest import rows


def make_grid(lh, engine, sql="SELECT * FROM demo.flights", params=None, limit=100):
    result = engine.execute(sql, params, limit=limit)
    view = ResultView.of(engine, result, params, None, lh)
    total = None if result.has_more else result.num_rows
    grid = ResultGrid(view, first=result.table, total=total)
    grid.wait()
    return grid


def ids(grid):
    return [r[0] for r in grid.rows]


def test_first_page_comes_from_the_cell_result_and_the_count_from_the_engine(flights, engine):
    grid = make_grid(flights, engine)
    assert ids(grid) == list(range(50))
    assert grid.total == 1000  # more rows existed beyond -l 100: counted by the engine
    assert [c["type"] for c in grid.columns] == ["bigint", "varchar", "double"]
    assert all("count(*)" in q.sql for q in grid.view.sent)  # no page was queried


def test_sort_runs_in_the_engine_over_the_whole_result(flights, engine):
    grid = make_grid(flights, engine)
    grid.sort = [[2, "desc"], [0, "asc"]]
    grid.wait()
    assert [r[2] for r in grid.rows[:3]] == [16.0, 16.0, 16.0]
    assert ids(grid)[:3] == [16, 33, 67]  # 50 is a null delay: nulls sort last
    last = grid.view.sent[-1]
    assert "ORDER BY c2 DESC NULLS LAST, c0 ASC NULLS LAST, c1 ASC NULLS LAST" in last.sql and "LIMIT 50" in last.sql


def test_paging_to_the_last_page(flights, engine):
    grid = make_grid(flights, engine)
    grid.offset = 950
    grid.wait()
    assert ids(grid) == list(range(950, 1000))
    assert "OFFSET 950 LIMIT 50" in grid.view.sent[-1].sql


@pytest.mark.parametrize("sort", [[Sort(2, True)], [Sort(1), Sort(2)], [Sort(0, True)], [Sort(2)]])
def test_every_page_of_a_sorted_result_matches_one_full_sort(flights, engine, sort):
    view = ResultView.of(engine, engine.execute("SELECT * FROM demo.flights", limit=10), lh=flights)
    everything = view.page(0, 1000, sort).to_pylist()  # the whole result as one page
    pages = []
    for offset in range(0, 1000, 70):  # the back half is read from the other end, reversed
        pages += view.page(offset, 70, sort, total=1000).to_pylist()
    assert pages == everything


def test_filter_values_are_bound_never_spliced(flights, engine):
    grid = make_grid(flights, engine)
    grid.offset = 100
    grid.filters = [{"column": 1, "op": "=", "value": "AA' OR '1'='1"}]
    grid.wait()
    assert grid.rows == [] and grid.total == 0 and grid.offset == 0 and grid.error == ""
    sent = grid.view.sent[-1]
    assert "'1'='1" not in sent.sql and "AA' OR '1'='1" in sent.params.values()
    grid.filters = [{"column": 1, "op": "=", "value": "AA"}, {"column": 2, "op": ">=", "value": "15"}]
    grid.wait()
    assert grid.total == sum(1 for i in range(1000) if i % 3 == 0 and i % 10 and i % 17 >= 15)
    assert all(r[1] == "AA" and r[2] >= 15 for r in grid.rows)


@pytest.mark.parametrize(
    ("filters", "text"),
    [
        ([{"column": 2, "op": ">", "value": "ten"}], "'ten' is not a number"),
        ([{"column": 9, "op": "=", "value": "1"}], "unknown column 9"),
        ([{"column": 0, "op": "LIKE", "value": "1"}], "unknown filter operator 'LIKE'"),
        ([{"op": "="}], "malformed filter"),
    ],
)
def test_a_bad_filter_is_one_line_in_the_widget(flights, engine, filters, text):
    grid = make_grid(flights, engine)
    grid.filters = filters
    grid.wait()
    assert text in grid.error and "Traceback" not in grid.error and not grid.loading


def test_a_failing_query_is_one_line_in_the_widget(flights, engine):
    grid = make_grid(flights, engine, sql="SELECT id, 10 / (id - 500) AS r FROM demo.flights")
    grid.sort = [[1, "asc"]]
    grid.wait()
    assert grid.error.startswith("query failed") or "Division" in grid.error or grid.error == ""
    assert "Traceback" not in grid.error


def test_pages_read_the_snapshot_the_cell_read(flights, engine):
    grid = make_grid(flights, engine)
    flights.ingest(rows(1000), "demo.flights", mode="append")  # a commit after the cell ran
    grid.filters = [{"column": 0, "op": "<", "value": "10"}]
    grid.wait()
    assert grid.total == 10  # not 20: the grid still reads the first snapshot
    assert "FOR VERSION AS OF" in grid.view.sent[-1].sql


def test_user_parameters_stay_bound_in_every_page(flights, engine):
    grid = make_grid(flights, engine, sql="SELECT * FROM demo.flights WHERE carrier = {{ c }}", params={"c": "UA"})
    grid.offset = 50
    grid.wait()
    assert grid.total == 333 and all(r[1] == "UA" for r in grid.rows)
    assert "UA" not in grid.view.sent[-1].sql


def test_profile_is_computed_by_the_engine(flights, engine):
    grid = make_grid(flights, engine)
    grid.profile_column = 2
    grid.wait()
    p = grid.profile
    assert (p["column"], p["rows"], p["nulls"], p["distinct"], p["min"], p["max"]) == (
        "delay",
        1000,
        100,
        17,
        0.0,
        16.0,
    )
    assert p["top"][0] == {"value": None, "count": 100}
    assert len(p["histogram"]) == 20 and sum(b["count"] for b in p["histogram"]) == 900


def test_chart_builder_draws_vega_lite_and_gives_code(flights, engine):
    grid = make_grid(flights, engine)
    drawn = []
    grid._chart_listeners.append(drawn.append)
    grid.chart = {"kind": "bar", "x": 1, "y": 2, "agg": "avg"}
    grid.wait()
    spec = grid.chart_spec
    assert spec["$schema"].endswith("vega-lite/v5.json") and spec["mark"]["type"] == "bar"
    assert {v["x"] for v in spec["data"]["values"]} == {"AA", "UA", "DL"}
    assert drawn == [spec]
    scope: dict = {}
    code = grid.chart_code
    assert "avg(c2)" in code and "FOR VERSION AS OF" in code
    exec(code.replace("lakelab.connect()", "lh"), {"lh": flights}, scope)  # the copied code runs
    grid.chart = {"kind": "histogram", "x": 2, "y": None}
    grid.wait()
    assert grid.chart_spec["encoding"]["x2"]["field"] == "end"
    grid.chart = {"kind": "scatter", "x": 0, "y": None}
    grid.wait()
    assert "scatter chart needs a y column" in grid.error


def test_a_page_is_bounded_whatever_the_result_size(flights, engine):
    grid = make_grid(flights, engine, sql="SELECT f.* FROM demo.flights f CROSS JOIN demo.flights g", limit=1000)
    grid.offset = 999_950
    grid.wait()
    assert grid.total == 1_000_000 and len(grid.rows) == 50
    assert len(json.dumps(grid.rows)) < 10_000


def test_pin_keeps_explicit_versions_and_placeholders():
    sql, params, pins = pin(
        "WITH w AS (SELECT * FROM a.t WHERE x > {{ lo }}) SELECT * FROM w JOIN a.u FOR VERSION AS OF 7 ON true",
        {"lo": 3},
        [{"snapshot_id": 7}, {"snapshot_id": 11}],  # the engine's order: sqlglot's walk, outer query first
    )
    assert "a.t FOR VERSION AS OF 11" in sql and "a.u FOR VERSION AS OF 7" in sql
    assert params == {"_lk_p0": 3} and "{{ _lk_p0 }}" in sql
    assert [(p["table"], p["snapshot_id"]) for p in pins] == [("a.u", None), ("a.t", 11)]


def test_magic_result_is_still_the_result_with_the_html_table(flights, engine):
    result = with_grid(engine.execute("SELECT * FROM demo.flights", limit=10), engine, None, None, flights)
    assert isinstance(result, GridResult) and result.num_rows == 10
    bundle = result._repr_mimebundle_()
    assert "<table" in bundle["text/html"]
    assert "application/vnd.jupyter.widget-view+json" not in bundle  # no kernel here: no widget


def test_sorting_a_result_of_show_is_not_offered(flights, engine):
    result = engine.execute("SHOW TABLES FROM demo")
    from lakelab.notebook.widgets.grid import result_grid

    assert result_grid(result, engine, None, None, flights) is None
    view = ResultView(engine, "SELECT 1", {}, [Column("a", "array(integer)")])
    with pytest.raises(InvalidInput, match="cannot sort by 'a'"):
        view.page(0, 1, [Sort(0)])
    with pytest.raises(InvalidInput, match="can only be tested for null"):
        view.page(0, 1, [], [Filter(0, "=", "1")])


def test_a_newer_request_interrupts_the_page_query_still_running(flights, engine):
    """Sorting a billion-row result never ends here; going back to no sort interrupts it (the
    engine's interrupt, aimed at the grid's worker) and the grid shows the unsorted page."""
    sql = "SELECT a.id, b.carrier, c.delay FROM demo.flights a, demo.flights b, demo.flights c"
    result = engine.execute(sql, limit=100, cache=False)
    grid = ResultGrid(ResultView.of(engine, result, None, None, flights), first=result.table, total=10**9)
    grid.sort = [[0, "desc"]]  # a full sort of 10^9 rows
    while engine._owner is None:  # that query has begun
        grid.runner.wait(0.01)
    grid.sort = []
    assert grid.wait()  # within its timeout: the sort would have run for hours
    assert grid.error == "" and len(grid.rows) == 50 and not grid.loading
    assert any("ORDER BY c0 DESC" in q.sql for q in grid.view.sent)  # the sort began, and was stopped


def test_the_second_page_of_a_query_with_its_own_order_by_reads(flights, engine):
    # the walk: `ORDER BY id LIMIT 100` showed rows 1-50 and page 2 failed ("column 'id'
    # does not exist") once the result's columns were renamed c0, c1, ... around it
    grid = make_grid(flights, engine, "SELECT id, carrier FROM demo.flights ORDER BY id DESC LIMIT 100")
    grid.offset = 50
    grid.wait()
    assert grid.error == "" and ids(grid) == list(range(949, 899, -1))
    assert "ORDER BY 1 DESC LIMIT 100" in grid.view.sent[-1].sql

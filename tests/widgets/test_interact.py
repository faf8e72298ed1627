"""`%%trino --interact`: the controls a query's parameters get, and the runs a change starts."""

from __future__ import annotations

import datetime
import time

import ipywidgets as w
import pytest
from IPython.core.interactiveshell import InteractiveShell

from lakelab.errors import InvalidInput
from lakelab.notebook.widgets.interact import InteractiveQuery

SQL = "SELECT * FROM demo.flights WHERE id >= {{ lo }} AND carrier = {{ carrier }}"


def test_controls_follow_the_parameter_values(flights, engine):
    q = InteractiveQuery(
        flights,
        engine,
        SQL + " AND {{ day }} IS NOT NULL",
        {"lo": 10, "carrier": "AA", "day": datetime.date(2024, 5, 1)},
        ["lo=0:1000:10", "carrier=demo.flights.carrier", "day"],
        limit=100,
    )
    q.wait()
    assert isinstance(q.controls["lo"], w.IntSlider) and (q.controls["lo"].min, q.controls["lo"].max) == (0, 1000)
    assert list(q.controls["carrier"].options) == ["AA", "DL", "UA"]  # distinct values, from the engine
    assert isinstance(q.controls["day"], w.DatePicker)
    assert q.result.num_rows == 100 and q.result.to_pandas().id.min() == 12


def test_moving_a_slider_reruns_the_query_debounced(flights, engine):
    q = InteractiveQuery(
        flights, engine, SQL, {"lo": 10, "carrier": "AA"}, ["lo=0:1000", "carrier=demo.flights.carrier"], None
    )
    q.wait()
    for value in (100, 200, 900):  # quick moves: one run after the last
        q.controls["lo"].value = value
    q.wait()
    assert q.runs == 2
    assert q.result.to_pandas().id.min() == 900 and q.result.num_rows == 34
    grid = q.output.children[0].grid
    assert grid.total == 34 and grid.rows[0][0] == 900
    q.controls["carrier"].value = "UA"
    q.wait()
    assert set(q.result.to_pandas().carrier) == {"UA"}


def test_a_newer_run_replaces_the_one_still_going(flights, engine):
    # lo=0 counts 10^12 rows (it never ends unless cancelled); lo=999 counts 10^9
    slow = (
        "SELECT count(*) AS n FROM demo.flights a, demo.flights b, demo.flights c, demo.flights d "
        "WHERE a.id >= {{ lo }}"
    )
    q = InteractiveQuery(flights, engine, slow, {"lo": 0}, ["lo=0:1000"], None)
    deadline = time.monotonic() + 60  # a guard against a hang, not a timing assertion
    while q.runner._busy != "run" and time.monotonic() < deadline:
        time.sleep(0.01)  # the first run has left the queue: a change now must supersede it
    q.controls["lo"].value = 999  # while the first (1e9-row) run is still going
    q.wait()
    assert q.cancelled == 1 and q.runs == 2
    assert q.result.table.column(0)[0].as_py() == 1 * 1000 * 1000 * 1000


def test_interact_needs_a_parameter_the_query_uses(flights, engine):
    with pytest.raises(InvalidInput, match="no value for"):
        InteractiveQuery(flights, engine, "SELECT 1 AS x", {}, ["lo"], None)


def test_the_magic_returns_the_controls(flights):
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "lakelab")
    ip.magics_manager.registry["SqlMagics"]._lh = flights
    ip.user_ns["lo"] = 5
    res = ip.run_cell("%%trino --interact lo\nSELECT count(*) AS n FROM demo.flights WHERE id >= {{ lo }}")
    q = res.result
    assert isinstance(q, InteractiveQuery)
    q.wait()
    assert q.result.table.column(0)[0].as_py() == 995

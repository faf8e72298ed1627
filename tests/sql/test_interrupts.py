"""Ctrl-C on the embedded engine, the cases the load test cannot aim at: an interrupt that
reaches DuckDB before the statement has begun, and a statement that does not stop."""

from __future__ import annotations

import os
import signal
import threading
import time

import duckdb
import pyarrow as pa
import pytest

from lakelab.engines.base import ctrl_c

ENDLESS = (
    "SELECT count(*) FROM demo.items a, demo.items b, demo.items c, demo.items d WHERE a.id + b.id + c.id + d.id > -1"
)


@pytest.fixture
def lh(lh):
    lh.catalog.create_namespace("demo")
    table = lh.catalog.create_table("demo.items", schema=pa.schema([("id", pa.int64())]))
    table.append(pa.table({"id": pa.array(range(3000), pa.int64())}))
    return lh


def sigint_after(seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    return timer


def test_duckdb_forgets_an_interrupt_sent_before_the_statement_begins():
    """Why the engine repeats the interrupt: DuckDB clears the flag when a statement starts."""
    con = duckdb.connect()
    con.execute("CREATE TABLE t AS SELECT range AS id FROM range(300)")
    con.interrupt()
    assert con.sql("SELECT count(*) FROM t a, t b, t c").fetchall() == [(27_000_000,)]


def test_ctrl_c_before_duckdb_has_begun_the_statement_still_cancels_it(lh, monkeypatch):
    """The worker thread reaches DuckDB only after Ctrl-C (as on a busy machine): the first
    interrupt is forgotten, the repeated one stops the statement."""
    engine = lh.engine("duckdb")
    lh.sql("SELECT 1 FROM demo.items LIMIT 1", engine="duckdb")
    real_thread = threading.Thread

    class LateWorker(real_thread):
        def run(self) -> None:
            if self.name == "lakelab-duckdb":
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.5)  # the interrupt sent now is lost when DuckDB starts
            super().run()

    monkeypatch.setattr(threading, "Thread", LateWorker)
    with pytest.raises(KeyboardInterrupt):
        lh.sql(ENDLESS, engine="duckdb")
    monkeypatch.setattr(threading, "Thread", real_thread)
    assert engine.last_interrupt["interrupts_sent"] > 1 and not engine.last_interrupt["abandoned"]
    assert lh.sql("SELECT count(*) AS n FROM demo.items", engine="duckdb").table.to_pylist() == [{"n": 3000}]


def test_ctrl_c_inside_a_duckdb_call_on_the_callers_thread_is_a_keyboard_interrupt(lh):
    """DuckDB runs Python's signal handler inside its own calls and turns the KeyboardInterrupt
    into RuntimeError; inside the guard Ctrl-C is recorded and raised once the call is done."""
    con = lh.engine("duckdb").con
    with ctrl_c() as guard, pytest.raises(KeyboardInterrupt):
        with guard.native():
            timer = sigint_after(0.05)  # lands while DuckDB runs this statement
            rows = con.execute("SELECT count(*) FROM range(40000) a, range(40000) b").fetchall()
    timer.cancel()
    assert rows == [(1_600_000_000,)]  # the call itself was not cut short
    assert lh.sql("SELECT count(*) AS n FROM demo.items", engine="duckdb").table.to_pylist() == [{"n": 3000}]


def test_a_statement_that_ignores_the_interrupt_is_left_behind_and_the_engine_goes_on(lh):
    """A Python UDF holds DuckDB inside one chunk: the interrupt cannot stop it in time, so the
    caller gets KeyboardInterrupt after the grace period, the connection goes to a reaper, and
    the next query runs on a fresh connection."""
    engine = lh.engine("duckdb")
    con = engine.con
    busy = threading.Event()
    busy.set()

    def stall(x: int) -> int:
        while busy.is_set():
            time.sleep(0.01)
        return x

    con.create_function("stall", stall, ["BIGINT"], "BIGINT")
    timer = sigint_after(0.5)
    try:
        with pytest.raises(KeyboardInterrupt), engine._statement():
            engine._run("SELECT sum(stall(range)) FROM range(10)", [], None)
    finally:
        timer.cancel()
        busy.clear()  # let the abandoned statement finish
    assert engine.last_interrupt["abandoned"] is True
    assert engine._con is not con
    assert lh.sql("SELECT count(*) AS n FROM demo.items", engine="duckdb").table.to_pylist() == [{"n": 3000}]


def run_on_a_thread(fn) -> tuple[threading.Thread, dict]:
    box: dict = {}

    def work() -> None:
        box["ident"] = threading.get_ident()
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - the test inspects it
            box["error"] = e

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread, box


def test_interrupt_from_another_thread_cancels_the_statement_that_thread_runs(lh):
    engine = lh.engine("duckdb")
    thread, box = run_on_a_thread(lambda: engine.execute(ENDLESS, cache=False))
    while engine._owner is None:  # the statement has begun (no timing: it runs until cancelled)
        thread.join(0.01)
    engine.interrupt(thread=box["ident"] + 1)  # another thread's statement: this one keeps running
    assert engine._guard.pending == 0 and thread.is_alive()
    while thread.is_alive():  # repeated, as the widgets' runner does
        engine.interrupt(thread=box["ident"])
        thread.join(0.1)
    assert isinstance(box.get("error"), KeyboardInterrupt)
    assert engine.execute("SELECT count(*) AS n FROM demo.items").table.to_pylist() == [{"n": 3000}]
    engine.interrupt()  # nothing running: nothing happens
    assert engine.execute("SELECT 1 AS one", cache=False).table.to_pylist() == [{"one": 1}]

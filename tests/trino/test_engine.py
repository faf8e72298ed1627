"""The Trino engine against the real server: parameters, progress, cancel, bounded fetch,
errors, credentials and result types."""

from __future__ import annotations

import datetime
import os
import signal
import threading
import time
from decimal import Decimal

import pyarrow as pa
import pytest

from lakelab.config import TrinoConfig
from lakelab.engines.trino.engine import TrinoEngine
from lakelab.errors import EngineError, InvalidInput, Unavailable

# runs until cancelled: 10^12 rows
ENDLESS = (
    "SELECT count(*) FROM UNNEST(sequence(1, 10000)) a(x) CROSS JOIN UNNEST(sequence(1, 10000)) b(y) "
    "CROSS JOIN UNNEST(sequence(1, 10000)) c(z)"
)
MANY_ROWS = (
    "SELECT a.x * 10000 + b.y AS n FROM UNNEST(sequence(1, 10000)) a(x) CROSS JOIN UNNEST(sequence(1, 10000)) b(y)"
)


def query_state(tlh, query_id: str) -> str:
    rows = (
        tlh.engine("trino")
        .execute("SELECT state FROM system.runtime.queries WHERE query_id = {{ q }}", {"q": query_id})
        .table.to_pylist()
    )
    return rows[0]["state"] if rows else "GONE"


def wait_state(tlh, query_id: str, done=("FAILED", "FINISHED", "GONE"), within: float = 20.0) -> str:
    deadline = time.monotonic() + within
    state = query_state(tlh, query_id)
    while state not in done and time.monotonic() < deadline:
        time.sleep(0.2)
        state = query_state(tlh, query_id)
    return state


def test_parameters_are_bound_so_an_injection_attempt_stays_a_value(tlh, ns):
    trino = tlh.engine("trino")
    trino.execute(f"CREATE TABLE {ns}.users AS SELECT * FROM (VALUES (1, 'ana'), (2, 'bo')) t(id, name)")
    evil = "ana' OR '1'='1"
    got = trino.execute(f"SELECT count(*) AS n FROM {ns}.users WHERE name = {{{{ who }}}}", {"who": evil})
    assert got.table.to_pylist() == [{"n": 0}]
    assert trino.execute("SELECT {{ v }} AS v", {"v": evil}).table.to_pylist() == [{"v": evil}]
    got = trino.execute(
        f"SELECT id FROM {ns}.users WHERE name = {{{{ who }}}} AND id < {{{{ top }}}}", {"who": "bo", "top": 5}
    )
    assert got.table.to_pylist() == [{"id": 2}]


def test_positional_parameters_bind_in_order(tlh):
    got = tlh.engine("trino").execute("SELECT ? AS a, ? AS b", [1, "x"]).table
    assert got.to_pylist() == [{"a": 1, "b": "x"}]


def test_progress_reports_state_rows_and_a_link_to_the_query(tlh):
    seen: list[dict] = []
    res = tlh.engine("trino").execute(
        "SELECT count(*) AS n FROM UNNEST(sequence(1, 10000)) a(x) CROSS JOIN UNNEST(sequence(1, 1000)) b(y)",
        progress=seen.append,
    )
    assert res.table.to_pylist() == [{"n": 10_000_000}]
    assert seen and seen[-1]["state"] == "FINISHED" and seen[-1]["progress"] == 100.0
    assert {"state", "progress", "rows", "bytes", "elapsed_s", "query_id", "info_url"} <= set(seen[0])
    assert seen[-1]["query_id"] == res.query_id
    assert seen[-1]["info_url"].endswith(f"/ui/query.html?{res.query_id}")


def test_ctrl_c_cancels_the_query_on_the_server(tlh):
    """A real SIGINT, as the notebook kernel sends on Interrupt, while the query runs."""
    started = threading.Event()
    ids: list[str] = []

    def progress(stats: dict) -> None:
        if stats["state"] == "RUNNING" and stats["query_id"] and not started.is_set():
            ids.append(stats["query_id"])
            started.set()

    def interrupt() -> None:
        started.wait(60)
        os.kill(os.getpid(), signal.SIGINT)

    threading.Thread(target=interrupt, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):
        tlh.engine("trino").execute(ENDLESS, progress=progress)
    assert ids
    assert wait_state(tlh, ids[0]) == "FAILED"
    info = (
        tlh.engine("trino")
        .execute("SELECT error_code FROM system.runtime.queries WHERE query_id = {{ q }}", {"q": ids[0]})
        .table
    )
    assert info.to_pylist() == [{"error_code": "USER_CANCELED"}]


def test_interrupt_raised_inside_the_client_also_cancels(tlh):
    ids: list[str] = []

    def progress(stats: dict) -> None:
        if stats["state"] == "RUNNING" and stats["query_id"]:
            ids.append(stats["query_id"])
            raise KeyboardInterrupt

    outcome: list[BaseException] = []

    def run() -> None:
        try:
            tlh.engine("trino").execute(ENDLESS, progress=progress)
        except BaseException as e:  # noqa: BLE001 - the interrupt is what we expect here
            outcome.append(e)

    t = threading.Thread(target=run)
    t.start()
    t.join(120)
    assert outcome and isinstance(outcome[0], KeyboardInterrupt)
    assert wait_state(tlh, ids[0]) == "FAILED"


def test_bounded_preview_fetches_limit_rows_and_leaves_no_running_query(tlh):
    res = tlh.engine("trino").execute(MANY_ROWS, limit=5)
    assert res.num_rows == 5 and res.has_more is True and res.limit == 5
    assert wait_state(tlh, res.query_id) in ("FAILED", "FINISHED", "GONE")


def test_preview_of_exactly_limit_rows_says_no_more(tlh):
    res = tlh.engine("trino").execute("SELECT x FROM UNNEST(sequence(1, 5)) t(x)", limit=5)
    assert res.num_rows == 5 and res.has_more is False


def test_sql_mistake_is_an_engine_error_with_line_column_and_query_id(tlh, ns):
    with pytest.raises(EngineError) as err:
        tlh.engine("trino").execute("SELECT 1\nFROM (VALUES 1) t(x)\nWHERE nosuch = 1")
    e = err.value
    assert (e.line, e.column) == (3, 7)
    assert e.query_id and e.query_id in str(e)
    assert "nosuch" in e.message and "cannot be resolved" in e.message
    assert "Traceback" not in str(e)


def test_sql_mistake_with_parameters_points_at_the_users_text(tlh):
    with pytest.raises(EngineError) as err:
        tlh.engine("trino").execute("SELECT {{ v }}\n  , nosuch", {"v": 1})
    assert (err.value.line, err.value.column) == (2, 5)


def test_password_never_appears_in_errors_or_reprs(tlh):
    secret = "S3cret-pass-word"
    closed = TrinoConfig(host="127.0.0.1", port=1, http_scheme="https", user="ana", password=secret)
    engine = TrinoEngine(tlh, closed)
    with pytest.raises(Unavailable) as err:
        engine.execute("SELECT 1")
    for text in (str(err.value), repr(err.value), repr(engine), str(tlh.config.public())):
        assert secret not in text
    assert "127.0.0.1:1" in str(err.value)


def test_credentials_over_plain_http_are_refused(tlh):
    cfg = TrinoConfig(host="127.0.0.1", port=tlh.config.trino.port, http_scheme="http", user="ana", password="pw")
    with pytest.raises(InvalidInput, match="https"):
        TrinoEngine(tlh, cfg).execute("SELECT 1")


def test_results_arrive_with_arrow_types_matching_trino_types(tlh):
    res = tlh.engine("trino").execute(
        "SELECT 1 AS i, BIGINT '2' AS b, DECIMAL '12.50' AS d, DOUBLE '1.5' AS f, nan() AS n, 'x' AS s, "
        "DATE '2024-01-02' AS dt, TIMESTAMP '2024-01-02 03:04:05.123456' AS ts, TRUE AS ok, "
        "ARRAY[1, 2] AS arr, MAP(ARRAY['k'], ARRAY[1]) AS m, CAST(ROW(1, 'a') AS ROW(x INT, y VARCHAR)) AS r, "
        "CAST(NULL AS BIGINT) AS nothing"
    )
    t = res.table
    assert t.schema.field("i").type == pa.int32() and t.schema.field("b").type == pa.int64()
    assert t.schema.field("d").type == pa.decimal128(4, 2)
    assert t.schema.field("dt").type == pa.date32() and t.schema.field("ts").type == pa.timestamp("us")
    row = t.to_pylist()[0]
    assert row["d"] == Decimal("12.50") and row["f"] == 1.5 and row["n"] != row["n"]
    assert row["dt"] == datetime.date(2024, 1, 2)
    assert row["ts"] == datetime.datetime(2024, 1, 2, 3, 4, 5, 123456)
    assert row["arr"] == [1, 2] and row["m"] == [("k", 1)] and row["r"] == {"x": 1, "y": "a"}
    assert row["nothing"] is None and row["ok"] is True
    assert res.to_pandas().shape == (1, 13)


def test_catalog_and_schema_default_from_config_and_can_be_overridden(tlh, ns):
    trino = tlh.engine("trino")
    trino.execute(f"CREATE TABLE {ns}.here AS SELECT 1 AS x")
    assert trino.execute("SELECT x FROM here", schema=ns).table.to_pylist() == [{"x": 1}]
    assert trino.execute(f"SELECT x FROM iceberg.{ns}.here").table.to_pylist() == [{"x": 1}]
    assert trino.execute("SELECT current_catalog AS c, current_schema AS s").table.to_pylist() == [
        {"c": "iceberg", "s": "default"}
    ]

"""%%trino on the real Trino: the magic runs there by default once services are up, binds
parameters as Trino parameters, and keeps previews bounded; through a real IPython shell it
shows live progress from Trino's stats, cancels on Ctrl-C, and reports mistakes in one line
without credentials."""

from __future__ import annotations

import os
import re
import signal
import threading
import time

from IPython.utils.capture import capture_output

from lakelab.config import TrinoConfig
from lakelab.notebook.magics import MagicError
from lakelab.notebook.magics import sql as sql_magic
from lakelab.notebook.magics.sql import SqlMagics


def test_magic_runs_on_trino_by_default_with_bounded_preview(tlh):
    magic = SqlMagics(shell=None, lakehouse=tlh)
    res = magic.trino("-l 3", "SELECT x FROM UNNEST(sequence(1, 10)) t(x) ORDER BY x")
    assert res.engine == "trino"
    assert res.table.column("x").to_pylist() == [1, 2, 3] and res.has_more is True
    assert res.query_id and res.info_url


def test_magic_param_is_bound_on_trino(tlh):
    magic = SqlMagics(shell=None, lakehouse=tlh)
    res = magic.trino('--param "v=x\'--"', "SELECT {{ v }} AS v")  # options are quoted as in a shell
    assert res.engine == "trino" and res.table.to_pylist() == [{"v": "x'--"}]


def test_magic_engine_duckdb_runs_the_same_sql_locally(tlh, ns):
    tlh.engine("trino").execute(f"CREATE TABLE {ns}.nums AS SELECT * FROM (VALUES 1, 2, 3) t(n)")
    magic = SqlMagics(shell=None, lakehouse=tlh)
    sql = f"SELECT sum(n) AS s FROM {ns}.nums"
    on_trino = magic.trino("", sql)
    local = magic.trino("--engine duckdb", sql)
    assert (on_trino.engine, local.engine) == ("trino", "duckdb")
    assert on_trino.table.to_pylist() == local.table.to_pylist() == [{"s": 6}]


# -- through a real IPython shell, as a notebook runs it --------------------------------------
ENDLESS = (
    "SELECT count(*) FROM UNNEST(sequence(1, 10000)) a(x) CROSS JOIN UNNEST(sequence(1, 10000)) b(y) "
    "CROSS JOIN UNNEST(sequence(1, 10000)) c(z)"
)


def run(shell, cell: str):
    with capture_output() as out:
        res = shell.run_cell(cell)
    return res, [o.data.get("text/html", "") for o in out.outputs], out.stdout + out.stderr


def test_progress_line_updates_from_trino_stats_in_the_notebook(shell, tlh, ns, monkeypatch):
    monkeypatch.setattr(sql_magic, "PROGRESS_DELAY_S", 0.0)  # show it however fast this machine is
    tlh.engine("trino").execute(
        f"CREATE TABLE {ns}.big AS SELECT a * 1000 + b AS x "
        "FROM UNNEST(sequence(1, 300)) s(a) CROSS JOIN UNNEST(sequence(1, 1000)) t(b)"
    )
    res, html, _ = run(
        shell,
        f"%%trino\nSELECT count(*) AS n, sum(a.x % 7) AS s FROM {ns}.big a CROSS JOIN UNNEST(sequence(1, 40)) b(y)",
    )
    assert res.result.engine == "trino" and res.result.table.column("n").to_pylist() == [12_000_000]
    lines = [h for h in html if "lakelab-progress" in h]
    assert lines, "no progress line was shown"
    last = lines[-1]
    qid = res.result.query_id
    # state, %, rows, bytes, elapsed and a link to the query in Trino's UI
    assert "FINISHED" in last and "100%" in last
    assert int(re.search(r"([\d,]+) rows", last).group(1).replace(",", "")) >= 300_000  # rows Trino read
    assert re.search(r"[\d.]+ MB", last) and re.search(r"[\d.]+ s", last)
    assert f'/ui/query.html?{qid}"' in last and qid in last
    assert html[-1] == ""  # the line clears itself once the result is shown


def test_ctrl_c_in_a_cell_cancels_the_query_on_the_server(shell, tlh):
    found: list[str] = []

    def interrupt() -> None:
        watcher = tlh.engine("trino")
        deadline = time.monotonic() + 60
        while not found and time.monotonic() < deadline:
            rows = watcher.execute(
                "SELECT query_id FROM system.runtime.queries WHERE state = 'RUNNING' "
                "AND query LIKE '%sequence(1, 10000)) c(z)%' AND query NOT LIKE '%system.runtime%'"
            ).table.to_pylist()
            if rows:
                found.append(rows[0]["query_id"])
                os.kill(os.getpid(), signal.SIGINT)  # what the kernel's Interrupt sends
            time.sleep(0.2)

    t = threading.Thread(target=interrupt, daemon=True)
    t.start()
    res, _, text = run(shell, f"%%trino\n{ENDLESS}")
    t.join(5)
    assert found and text == "lakelab error: interrupted: the query was cancelled\n"
    assert isinstance(res.error_in_exec, KeyboardInterrupt)  # the cell fails; a loop around it stops too
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        info = (
            tlh.engine("trino")
            .execute("SELECT state, error_code FROM system.runtime.queries WHERE query_id = {{ q }}", {"q": found[0]})
            .table.to_pylist()
        )
        if info and info[0]["state"] == "FAILED":
            break
        time.sleep(0.2)
    assert info == [{"state": "FAILED", "error_code": "USER_CANCELED"}]


def test_sql_mistake_in_a_cell_shows_line_column_and_query_id_in_one_line(shell):
    res, html, text = run(shell, "%%trino\nSELECT 1\nFROM (VALUES 1) t(x)\nWHERE nosuch = 1")
    assert isinstance(res.error_in_exec, MagicError) and res.result is None and not any(html)
    assert "line 3, column 7" in text and re.search(r"\[query \d{8}_\d{6}_\d{5}_\w+\]", text)
    assert "Traceback" not in text and text.startswith("lakelab error: ") and text.count("\n") == 1


def test_an_unknown_table_on_trino_names_the_closest_one(shell, tlh, ns):
    tlh.sql(f"CREATE TABLE {ns}.flights AS SELECT 1 AS id", engine="trino")
    _, _, text = run(shell, f"%%trino\nSELECT * FROM {ns}.fligths")
    assert f"does not exist; did you mean {ns}.flights?" in text and text.count("\n") == 1


def test_credentials_never_appear_in_cell_output(shell, tlh):
    secret = "S3cret-pass-word-in-cell"
    saved = tlh.config.trino
    tlh.config.trino = TrinoConfig(host="127.0.0.1", port=saved.port, http_scheme="https", user="ana", password=secret)
    tlh._engines.pop("trino", None)
    try:
        _, html, text = run(shell, "%%trino\nSELECT 1 AS x")
        _, html2, text2 = run(shell, "%%trino --into x.y\nSELECT 1 AS x")
    finally:
        tlh.config.trino = saved
        tlh._engines.pop("trino", None)
    shown = "".join(html + html2) + text + text2
    assert shown.count("lakelab error: ") == 2 and "cannot reach Trino" in shown
    assert secret not in shown and "Traceback" not in shown

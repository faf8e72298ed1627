"""%ingest in a real IPython shell, and `lakelab ingest` as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd
import pytest
from ingest_helpers import current_snapshot_id, read_rows
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

import lakelab
from lakelab.notebook.magics import MagicError


@pytest.fixture
def shell(lakelab_home):
    lakelab.connect(reload=True)  # the magic uses the default lakehouse: the temp one
    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "lakelab")
    yield sh
    sh.reset()
    InteractiveShell.clear_instance()
    lakelab.connect(reload=True)


def test_ingest_magic_reads_a_kernel_dataframe_and_returns_the_report(shell):
    shell.user_ns["df"] = pd.DataFrame({"id": [1, 2], "v": ["a", "b"]})
    report = shell.run_line_magic("ingest", "df --into demo.t --mode create")
    assert report.rows == 2 and report.table == "demo.t"
    assert read_rows(lakelab.connect(), "demo.t", "id") == [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}]


def test_ingest_magic_reads_paths_with_every_option(shell, tmp_path):
    f = tmp_path / "ev.csv"
    f.write_text("id,day,v\n1,2024-01-01,a\n2,2024-01-02,b\n")
    shell.run_line_magic("ingest", f"{f} --into demo.ev --mode create --partition-by 'day(day)' --format csv")
    g = tmp_path / "more.csv"
    g.write_text("id,day,v,extra\n2,2024-01-02,bb,x\n")
    report = shell.run_line_magic("ingest", f'"{g}" --into demo.ev --mode upsert --key id --evolve --no-progress')
    assert (report.rows_updated, report.rows_inserted) == (1, 0)
    lh = lakelab.connect()
    assert [f.name for f in lh.catalog.load_table("demo.ev").spec().fields] == ["day_day"]
    assert [r["v"] for r in read_rows(lh, "demo.ev", "id")] == ["a", "bb"]


def test_ingest_magic_mistakes_fail_the_cell_with_one_line(shell, tmp_path):
    shell.user_ns["df"] = pd.DataFrame({"id": [1]})
    shell.run_line_magic("ingest", "df --into demo.t")
    before = current_snapshot_id(lakelab.connect(), "demo.t")
    for line in [
        "df --into 'demo.t;drop'",
        "df --into demo.t --mode merge",
        "df --into demo.t --bogus",
        "nosuchvar --into demo.t",
        f"{tmp_path}/missing.csv --into demo.t",
        "",
        "df",
    ]:
        with capture_output() as out:
            result = shell.run_cell(f"%ingest {line}")
        assert isinstance(result.error_in_exec, MagicError), line
        text = out.stdout + out.stderr + "".join(str(o.data) for o in out.outputs)
        assert "Traceback" not in text and text.startswith("lakelab error: ") and text.count("\n") == 1, line
    assert current_snapshot_id(lakelab.connect(), "demo.t") == before


def _cli(args: list[str], env_home) -> subprocess.CompletedProcess:
    env = {**os.environ, "LAKELAB_HOME": str(env_home)}
    return subprocess.run(
        [sys.executable, "-m", "lakelab", "ingest", *args], capture_output=True, text=True, env=env, timeout=120
    )


def test_cli_ingests_files_and_prints_the_report(lakelab_home, tmp_path):
    for i in range(2):
        (tmp_path / f"p{i}.csv").write_text(f"id,name\n{i},n{i}\n")
    r = _cli(
        [str(tmp_path / "p0.csv"), str(tmp_path / "p1.csv"), "--into", "cli.people", "--mode", "create"], lakelab_home
    )
    assert r.returncode == 0, r.stderr
    assert "create cli.people: 2 rows" in r.stdout
    lh = lakelab.Lakehouse(lakelab.config.load_config())
    assert read_rows(lh, "cli.people", "id") == [{"id": 0, "name": "n0"}, {"id": 1, "name": "n1"}]


def test_cli_reports_bad_input_in_one_line_with_a_nonzero_exit(lakelab_home, tmp_path):
    (tmp_path / "bad.csv").write_text("a,b\n1,2,3\n")
    r = _cli([str(tmp_path / "bad.csv"), "--into", "cli.bad"], lakelab_home)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "malformed CSV" in r.stderr and "line 2" in r.stderr
    r = _cli([str(tmp_path / "bad.csv"), "--into", "cli.bad", "--mode", "merge"], lakelab_home)
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_ingest_cell_runs_like_a_notebook_cell(shell):
    shell.run_cell("import pyarrow as pa\nt = pa.table({'id': [1, 2, 3]})")
    result = shell.run_cell("%ingest t --into demo.cells --mode create")
    assert result.success and result.result.rows == 3
    bad = shell.run_cell("%ingest t --into demo.cells --mode create")  # exists: the cell fails
    assert not bad.success and isinstance(bad.error_in_exec, MagicError) and "already exists" in str(bad.error_in_exec)

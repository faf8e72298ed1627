"""A failed lakelab cell fails, in a real kernel run by nbclient: one line, no traceback, an
error output, and the run stops there (the next cell never runs) — as JupyterLab's Run All
and papermill see it. Ctrl-C likewise."""

from __future__ import annotations

import threading

import nbformat
import pyarrow as pa
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

import lakelab
from lakelab.config import load_config

NEXT = 'print("the next cell ran")'
ENDLESS = (
    "%%trino\nSELECT count(*) FROM demo.items a, demo.items b, demo.items c, demo.items d "
    "WHERE a.id + b.id + c.id + d.id > -1"
)


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """One real IPython kernel for the module, on a lakehouse holding demo.items (3,000 rows)."""
    home = tmp_path_factory.mktemp("cells_home")
    mp = pytest.MonkeyPatch()
    mp.setenv("LAKELAB_HOME", str(home))  # the kernel inherits it, and PYTHONPATH
    for var in ("LAKELAB_CONFIG", "LAKELAB_ENGINE"):
        mp.delenv(var, raising=False)
    lh = lakelab.Lakehouse(load_config())
    lh.catalog.create_namespace("demo")
    table = lh.catalog.create_table("demo.items", schema=pa.schema([("id", pa.int64())]))
    table.append(pa.table({"id": pa.array(range(3000), pa.int64())}))
    lh.close()
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(home))
    try:
        nb = run(km, ["import lakelab\n%load_ext lakelab\nprint(lakelab.__file__)"])
        assert nb.cells[0].outputs[0]["text"].strip() == lakelab.__file__, "the kernel must run this checkout"
        yield km
    finally:
        km.shutdown_kernel(now=True)
        mp.undo()


def run(km: KernelManager, sources: list[str], on_start=None) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    NotebookClient(nb, km=km, timeout=300, on_cell_execute=on_start).execute()
    return nb


def fails_with_one_line(km: KernelManager, cell: str, setup: str = "", on_start=None) -> str:
    """Run [setup, cell, NEXT]: the cell must fail with one error output of one line and the run
    must stop there. Returns that line."""
    sources = ([setup] if setup else []) + [cell, NEXT]
    with pytest.raises(CellExecutionError):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
        NotebookClient(nb, km=km, timeout=300, on_cell_execute=on_start).execute()
    failed, after = nb.cells[-2], nb.cells[-1]
    errors = [o for o in failed.outputs if o["output_type"] == "error"]
    assert len(errors) == 1, failed.outputs
    lines = errors[0]["traceback"]
    assert len(lines) == 1 and "\n" not in lines[0] and "Traceback" not in lines[0], lines
    assert lines[0].startswith("lakelab error: ")
    assert after.execution_count is None and not after.outputs, "the run went on past the failed cell"
    return lines[0]


def test_an_unknown_table_fails_the_cell_with_one_line(kernel):
    line = fails_with_one_line(kernel, "%%trino\nSELECT * FROM demo.nosuch")
    assert "dataset demo.nosuch does not exist — " in line


def test_an_unknown_option_fails_the_cell_with_one_line(kernel):
    line = fails_with_one_line(kernel, "%%trino --bogus\nSELECT 1")
    assert "unrecognized arguments: --bogus" in line


def test_a_malformed_csv_fails_the_ingest_cell_with_one_line(kernel, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name,v\n1,a,x\n2,b\n")
    line = fails_with_one_line(kernel, f"%ingest {bad} --into demo.bad --mode create")
    assert "malformed CSV" in line and "bad.csv" in line and "line 3" in line


def test_a_bad_publish_fails_the_cell_with_one_line(kernel):
    line = fails_with_one_line(kernel, "%publish no_such_variable --as demo.pub")
    assert "'no_such_variable' is not a variable in this kernel" in line


def test_an_unknown_workspace_fails_the_cell_with_one_line(kernel):
    line = fails_with_one_line(kernel, "%workspace status ghost")
    assert "workspace 'ghost' does not exist" in line


def test_credentials_never_appear_in_the_line(kernel):
    secret = "S3cret-in-a-cell"
    line = fails_with_one_line(kernel, f"%ingest 'http://ana:{secret}@127.0.0.1:9/x.csv' --into demo.x")
    assert secret not in line and "127.0.0.1:9" in line


def test_ctrl_c_cancels_the_query_and_fails_the_cell_with_one_line(kernel):
    def interrupt_soon(cell, cell_index, execute_reply=None):  # nbclient hook: the cell was sent
        if "demo.items d" in cell.source:
            threading.Timer(1.0, kernel.interrupt_kernel).start()

    line = fails_with_one_line(kernel, ENDLESS, setup="%%trino\nSELECT 1 AS warm", on_start=interrupt_soon)
    assert line == "lakelab error: interrupted: the query was cancelled"
    nb = run(kernel, ["print(lakelab.connect().sql('SELECT count(*) AS n FROM demo.items').table.to_pylist())"])
    assert nb.cells[0].outputs[0]["text"].strip() == "[{'n': 3000}]"


def test_a_successful_cell_still_shows_its_result(kernel):
    nb = run(kernel, ["%%trino\nSELECT count(*) AS n FROM demo.items", NEXT])
    assert "engine: <b>duckdb</b>" in nb.cells[0].outputs[0]["data"]["text/html"]
    assert nb.cells[1].outputs[0]["text"] == "the next cell ran\n"

"""The demo seeds real datasets and the tutorial notebook runs clean, top to bottom, in a
real kernel — the way a new user meets lakelab."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import lakelab
from lakelab.cli.lab import tutorial_source
from lakelab.config import load_config
from lakelab.workspaces import WorkspaceManager

ARTIFACTS = Path(__file__).parent / "artifacts"


def _outputs_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        for v in out.get("data", {}).values():
            parts.append(v if isinstance(v, str) else str(v))
    return "\n".join(parts)


def test_demo_seeds_real_datasets_with_metadata_and_lineage(lakelab_home):
    env = {**os.environ, "LAKELAB_HOME": str(lakelab_home)}
    out = subprocess.run([sys.executable, "-m", "lakelab", "demo"], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    assert "demo.flights: 336,776 rows" in out.stdout
    lh = lakelab.Lakehouse(load_config())
    flights = lh.dataset("demo.flights")
    assert flights.metadata["owner"] == "demo" and "aviation" in flights.metadata["tags"]
    assert {"demo.flights", "demo.airlines"} <= set(lh.dataset("demo.delays_by_carrier").lineage().upstream)
    again = subprocess.run([sys.executable, "-m", "lakelab", "demo"], capture_output=True, text=True, env=env)
    assert "already present" in again.stdout


@pytest.mark.ray  # its training section starts a workspace and runs Ray Train
def test_tutorial_notebook_runs_clean(lakelab_home, tmp_path):
    env_home = str(lakelab_home)
    subprocess.run(
        [sys.executable, "-m", "lakelab", "demo"],
        check=True,
        capture_output=True,
        env={**os.environ, "LAKELAB_HOME": env_home},
    )
    nb = nbformat.read(tutorial_source(), as_version=4)
    workdir = tmp_path / "nb"
    workdir.mkdir()
    client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(workdir)}})
    os.environ["LAKELAB_HOME"] = env_home  # the kernel inherits it (monkeypatched by the fixture)
    try:
        client.execute()
    finally:  # a failed run must not leave the tutorial's workspace running
        manager = WorkspaceManager()
        for name in manager.store.names():
            manager.stop(name)
    ARTIFACTS.mkdir(exist_ok=True)
    nbformat.write(nb, ARTIFACTS / "tutorial.executed.ipynb")
    code = [c for c in nb.cells if c.cell_type == "code"]
    joined = "\n".join(_outputs_text(c) for c in code)
    assert "engine: <b>duckdb</b>" in joined  # says which engine ran
    assert "Traceback" not in joined
    # only the deliberate mistake fails: one line, in the cell tagged raises-exception, and the
    # run went on past it (nbclient stops at any other failed cell)
    failed = [(c, o) for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert len(failed) == 1, failed
    cell, error = failed[0]
    assert "raises-exception" in cell.metadata.get("tags", [])
    assert len(error["traceback"]) == 1 and "Traceback" not in error["traceback"][0]
    assert error["traceback"][0].startswith("lakelab error: dataset demo.no_such_table does not exist — ")
    assert all(c.execution_count is not None for c in code)
    lh = lakelab.Lakehouse(load_config())
    assert lh.dataset("scratch.flights_by_origin").metadata["owner"] == "tutorial"
    # time travel on a fresh run: two snapshots of scratch.routes, the older one without HPN
    travel = next(i for i, c in enumerate(code) if "snaps = " in c.source)
    assert "Snapshots(2):" in _outputs_text(code[travel])  # what the reader sees: two snapshots
    assert "HPN" not in _outputs_text(code[travel + 1]) and "JFK" in _outputs_text(code[travel + 1])
    assert lh.dataset("scratch.routes").preview(10).num_rows == 4
    trained_on = lh.dataset("demo.flights").snapshots()[-1].snapshot_id
    model = lh.dataset("ml.delay_model")
    assert model.metadata["kind"] == "model" and len(model.versions()) == 1
    edges = [(e.source, e.upstream_snapshot_id) for e in model.lineage().edges if e.target == "ml.delay_model"]
    assert edges == [("demo.flights", trained_on)]  # the model names the snapshot it was trained on
    shutil.rmtree(workdir)

"""`%load_ext lakelab` warms the first query in the background: in a fresh interpreter the
catalog and the engine's connection are open before the first cell needs them, the first cell
answers, and a broken configuration still fails that cell with its one line (the warm-up never
raises or prints)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa

import lakelab
from lakelab.config import load_config

KERNEL_LIB = Path(lakelab.__file__).parent.parent

CHILD = r"""
import json
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from lakelab.notebook import warmup
import lakelab.lakehouse as lakehouse

sh = InteractiveShell.instance()
with capture_output() as loading:
    sh.run_line_magic("load_ext", "lakelab")
warmup._thread.join()
lh = lakehouse._default
state = {
    "load_output": loading.stdout + loading.stderr,
    "catalog_open": lh is not None and "catalog" in vars(lh),
    "connection_open": lh is not None and getattr(lh._engines.get("duckdb"), "_con", None) is not None,
}
with capture_output() as out:
    res = sh.run_cell("%%trino -o df\nSELECT count(*) AS n FROM demo.items")
state["ok"] = res.success
state["n"] = int(sh.user_ns["df"]["n"][0]) if res.success else None
state["error"] = "".join(str(o) for o in [res.error_in_exec]) if not res.success else ""
state["output"] = out.stdout + out.stderr
print(json.dumps(state))
"""


def run_child(home: Path, **env: str) -> dict:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("LAKELAB_")}
    environ.update(PYTHONPATH=str(KERNEL_LIB), LAKELAB_HOME=str(home), **env)
    out = subprocess.run([sys.executable, "-c", CHILD], env=environ, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_load_ext_opens_the_catalog_and_the_engine_before_the_first_cell(lakelab_home):
    lh = lakelab.Lakehouse(load_config())
    lh.catalog.create_namespace("demo")
    lh.catalog.create_table("demo.items", schema=pa.schema([("id", pa.int64())])).append(
        pa.table({"id": pa.array(range(10), pa.int64())})
    )
    lh.close()
    state = run_child(lakelab_home)
    assert state["load_output"] == ""
    assert state["catalog_open"] and state["connection_open"]
    assert state["ok"] and state["n"] == 10


def test_a_broken_config_is_reported_by_the_first_cell_not_the_warm_up(lakelab_home, tmp_path):
    config = tmp_path / "broken.yaml"
    config.write_text("catalog:\n  type: rest\n  uri: http://127.0.0.1:9\n")
    state = run_child(lakelab_home, LAKELAB_CONFIG=str(config), LAKELAB_ENGINE="duckdb")
    assert state["load_output"] == ""  # the warm-up said nothing
    assert not state["ok"] and "lakelab error" in state["error"] and "Traceback" not in state["output"]

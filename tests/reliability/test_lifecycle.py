"""A Jupyter server killed with a workspace running (issue 8, point 5a).

SIGKILL reaches only the server process: each Ray node runs in its own process group and
survives, the realistic case of an out-of-memory kill or a crashed container shell. What a
user then sees, by design (WorkspaceManager.reconcile at server start):

- the server restarted over the same LAKELAB_HOME re-attaches the workspace: it is listed
  as running, its status and dashboard answer through REST, and stopping it ends every
  process of it;
- without a restart, `lakelab workspace list` shows it running and `lakelab workspace down
  NAME` (or `--all`) from a shell stops it from the persisted records.

Either way no Ray process of ours is left, including the worker process of an actor a
connected kernel holds (workers start their own session, so they are found by their
working directory, the node's temp dir). Times are measured and printed, not asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

import secret_scan
from lakelab.config import save_config
from lakelab.workspaces.backends.local import group_pids
from lakelab.workspaces.state import Store

sys.path.insert(0, str(Path(__file__).parents[1] / "workspaces"))
from workspace_helpers import HoldingDriver, LiveServer, kill_leftovers, ours

pytestmark = pytest.mark.ray
TOKEN = "lifecycle-jupyter-token-0123456789"


@pytest.fixture
def home(lakelab_home):
    save_config(
        {
            "workspaces": {
                "backend": "local",
                "max_workers": 1,
                "max_cpus_per_node": 1,
                "idle_timeout_s": 3600,
                "object_store_mb": 128,
            }
        }
    )
    yield lakelab_home
    left = kill_leftovers(lakelab_home / "workspaces")  # only does something when a test failed
    assert not left, f"had to kill leftover Ray processes {left}"


def start_workspace(srv: LiveServer, home: Path, name: str):
    started = time.monotonic()
    code, _, body = srv.call("POST", "workspaces", {"name": name, "cpus": 1, "workers": 0})
    assert code == 201, body
    assert json.loads(body)["state"] == "running"
    store = Store(home / "workspaces")
    rec = store.load(name)
    secret_scan.register(store.token(name), "Ray workspace token")
    print(f"workspace {name} running in {time.monotonic() - started:.1f} s")
    return rec


def assert_all_gone(rec, worker: int) -> None:
    assert group_pids(rec.head.pid) == [], "the head's process group is still alive"
    assert ours([rec.temp_dir]) == [], "Ray processes of the workspace are still alive"
    assert not psutil.pid_exists(worker) or psutil.Process(worker).status() == psutil.STATUS_ZOMBIE, (
        "the actor's worker process outlived its workspace"
    )


def cli(*args: str, home: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["LAKELAB_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "lakelab", "workspace", *args], capture_output=True, text=True, env=env, timeout=300
    )


def test_a_restarted_server_reattaches_a_workspace_that_survived_a_kill(home, tmp_path):
    first = LiveServer(home, tmp_path, TOKEN, name="server-1")
    try:
        rec = start_workspace(first, home, "life")
        kernel = HoldingDriver(home, "life", tmp_path / "driver.err")  # a notebook using it
    finally:
        first.kill()
    survivors = group_pids(rec.head.pid)
    assert survivors, "the workspace died with the server (it must run in its own process group)"

    restarted = time.monotonic()
    second = LiveServer(home, tmp_path, TOKEN, name="server-2")
    try:
        code, _, body = second.call("GET", "workspaces/life")
        consistent_s = time.monotonic() - restarted
        st = json.loads(body)
        assert code == 200 and st["state"] == "running", st
        assert st["cluster"]["node_count"] == 1 and st["cluster"]["cpus"] == 1  # live figures, not the record
        code, _, body = second.call("GET", "workspaces/life/dashboard/api/version")
        assert code == 200 and json.loads(body)["ray_version"].startswith("2.")
        assert "workspace life is running" in second.log_path.read_text()  # reconciled at start
        assert sorted(group_pids(rec.head.pid)) == sorted(survivors)  # the same processes, not a new cluster

        stopping = time.monotonic()
        code, _, body = second.call("DELETE", "workspaces/life")
        stop_s = time.monotonic() - stopping
        assert code == 200 and json.loads(body)["state"] == "stopped"
        assert_all_gone(rec, kernel.pids["worker"])
        code, _, body = second.call("GET", "workspaces")
        assert json.loads(body)["workspaces"] == []
    finally:
        kernel.close()
        second.stop()
    assert_all_gone(rec, kernel.pids["worker"])
    print(
        f"restart to consistent answer: {consistent_s:.1f} s (server start {second.start_s:.1f} s); "
        f"stop through REST: {stop_s:.1f} s"
    )


def test_workspaces_left_by_a_killed_server_are_cleaned_up_from_the_shell(home, tmp_path):
    srv = LiveServer(home, tmp_path, TOKEN)
    try:
        rec = start_workspace(srv, home, "orphan")
        kernel = HoldingDriver(home, "orphan", tmp_path / "driver.err")  # a notebook using it
    finally:
        srv.kill()
    try:
        assert group_pids(rec.head.pid)
        listing = cli("list", "--json", home=home)
        assert listing.returncode == 0, listing.stderr
        assert [(w["name"], w["state"]) for w in json.loads(listing.stdout)] == [("orphan", "running")]

        refused = cli("down", home=home)
        assert refused.returncode != 0 and "give a workspace name or --all" in refused.stderr
        assert "Traceback" not in refused.stderr and group_pids(rec.head.pid)

        started = time.monotonic()
        down = cli("down", "--all", home=home)
        cleanup_s = time.monotonic() - started
        assert down.returncode == 0, down.stderr
        assert "workspace orphan stopped" in down.stdout and "1 workspace(s) stopped" in down.stdout
        assert_all_gone(rec, kernel.pids["worker"])
    finally:
        kernel.close()
    assert "no workspaces" in cli("list", home=home).stdout
    print(f"cleanup with `lakelab workspace down --all`: {cleanup_s:.1f} s (command included)")


def test_stopping_the_server_stops_the_workspaces_it_runs(home, tmp_path):
    """SIGTERM (Ctrl-C, `jupyter server stop`, a container stop): the server's cleanup awaits
    the extension's stop hook (ExtensionApp.stop_extension), which stops every local
    workspace, including the worker of an actor a connected kernel holds."""
    srv = LiveServer(home, tmp_path, TOKEN)
    kernel = None
    try:
        rec = start_workspace(srv, home, "byserver")
        kernel = HoldingDriver(home, "byserver", tmp_path / "driver.err")
    finally:
        srv.stop()  # SIGTERM, then waits for the process to exit
    try:
        assert srv.proc.returncode == 0, srv.log_path.read_text()[-3000:]
        assert_all_gone(rec, kernel.pids["worker"])
        left = Store(home / "workspaces").load("byserver")
        assert left.state == "stopped" and left.message == "stopped with the Jupyter server"
        assert "stopped workspaces ['byserver'] with the server" in srv.log_path.read_text()
    finally:
        if kernel is not None:
            kernel.close()

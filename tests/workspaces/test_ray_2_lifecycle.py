"""Lifecycle with real clusters: two workspaces side by side, re-attachment by a new
manager (a server restart), idle culling that ends exactly the idle one, and a crashed head
marked failed with its leftover worker ended."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil
import pytest
from workspace_helpers import ours, remember, settings

from lakelab.workspaces import FAILED, RUNNING, STOPPED, WorkspaceManager
from lakelab.workspaces.backends.local import group_pids

pytestmark = pytest.mark.ray


def alive(pids: list[int]) -> list[int]:
    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.Error:
            pass
    return out


@pytest.fixture
def other_ws(manager):
    if "other" not in manager.store.names() or manager.get("other").state != RUNNING:
        manager.create("other", cpus=1, workers=0)
    remember(manager, "other")
    return "other"


def test_two_workspaces_run_side_by_side_with_their_own_ports_and_dirs(manager, main_ws, other_ws):
    a, b = manager.get(main_ws), manager.get(other_ws)
    assert a.state == b.state == RUNNING
    assert a.address != b.address and a.dashboard_port != b.dashboard_port and a.temp_dir != b.temp_dir
    blocks = [n.port_block for n in [a.head, *a.nodes, b.head]]
    assert len(set(blocks)) == 3
    assert manager.store.token(main_ws) != manager.store.token(other_ws)
    assert manager.status(main_ws)["cluster"]["node_count"] == 2
    assert manager.status(other_ws)["cluster"]["node_count"] == 1
    assert len(os.path.join(b.temp_dir, "session_2026-01-01_00-00-00_000000_12345/sockets/raylet")) < 107


def test_a_new_manager_reattaches_running_workspaces(manager, main_ws, other_ws):
    """What a restarted Jupyter server does: a fresh manager over the same state dir."""
    restarted = WorkspaceManager(settings(), root=manager.store.root)
    found = {r.name: r for r in restarted.reconcile()}
    assert found[main_ws].state == found[other_ws].state == RUNNING
    assert found[main_ws].address == manager.get(main_ws).address
    assert restarted.status(other_ws)["cluster"]["node_count"] == 1


def test_idle_culling_stops_only_the_idle_workspace(manager, main_ws, other_ws, ws_home):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["LAKELAB_HOME"] = str(ws_home)
    driver = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import lakelab, time\n"
            "lakelab.workspace('main').connect(); print('connected', flush=True)\n"
            "time.sleep(600)",
        ],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert driver.stdout.readline().strip() == "connected"
        other_pids = manager.processes(other_ws)
        main_pids = manager.processes(main_ws)
        assert other_pids and main_pids
        # judged two hours from now: 'other' has been idle that long, 'main' has a driver
        culled = manager.cull_idle(now=time.time() + 7200)
        assert culled == [other_ws]
        rec = manager.get(other_ws)
        assert rec.state == STOPPED and "idle" in rec.message
        assert alive(other_pids) == []
        assert ours([manager.store.load(other_ws).temp_dir or "/tmp/llw/none"]) == []
        assert alive(main_pids) == main_pids
        assert manager.status(main_ws)["cluster"]["node_count"] == 2
    finally:
        driver.kill()
        driver.wait()


def test_a_killed_head_is_marked_failed_and_its_worker_is_ended(manager, main_ws):
    rec = manager.store.load(main_ws)
    worker_group = rec.nodes[0].pid
    os.killpg(rec.head.pid, signal.SIGKILL)  # a crash, not a stop
    deadline = time.monotonic() + 30
    while group_pids(rec.head.pid) and time.monotonic() < deadline:
        time.sleep(0.2)
    restarted = WorkspaceManager(settings(), root=manager.store.root)
    found = {r.name: r for r in restarted.reconcile()}
    assert found[main_ws].state == FAILED
    assert "head process is gone" in found[main_ws].message
    assert group_pids(worker_group) == []
    assert ours([rec.temp_dir]) == []
    restarted.stop(main_ws)  # `down` of a failed workspace forgets it
    assert main_ws not in restarted.store.names()


def test_the_live_widget_shows_a_running_workspace_scales_it_and_stops_it(manager):
    """`lakelab.workspace(name)` in JupyterLab: the widget's status, Scale and Stop on a real cluster."""
    from lakelab.notebook.widgets.live import WorkspaceWidget
    from lakelab.workspaces.client import Workspace

    manager.create("live", cpus=1, workers=0)
    remember(manager, "live")
    live = WorkspaceWidget(Workspace("live", manager), poll_s=0)
    assert live.wait()
    assert live.state["state"] == RUNNING and "live" in live.card.value
    assert live.workers.value == 0 and not live.scale_button.disabled and not live.stop_button.disabled
    assert live.status_line.value == ""

    live.workers.value = 1
    live.scale_button.click()
    assert live.wait()
    remember(manager, "live")
    assert live.status_line.value == "", live.status_line.value  # no error shown
    assert manager.get("live").workers == 1
    assert live.state["cluster"]["node_count"] == 2  # head + the new worker, as the card shows it

    live.stop_button.click()
    assert live.wait()
    assert live.state["state"] == STOPPED and "stopped" in live.card.value and live.status_line.value == ""
    assert "live" not in manager.store.names()  # stopped and forgotten, as `%workspace down` does
    assert live.stop_button.disabled and live.scale_button.disabled  # nothing left to act on
    live.close()

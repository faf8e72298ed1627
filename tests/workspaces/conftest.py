"""Fixtures for Ray workspace tests: a manager over a temp state dir, one shared real
workspace (head + 1 worker, 1 CPU each) and a finaliser that stops everything and checks
that no Ray process of ours is left behind."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from workspace_helpers import ours, remember, settings

from lakelab.workspaces import RUNNING, WorkspaceManager
from lakelab.workspaces.backends.local import group_pids


@pytest.fixture(scope="session")
def ws_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("ws_home")
    mp = pytest.MonkeyPatch()
    mp.setenv("LAKELAB_HOME", str(home))
    for var in (
        "RAY_ADDRESS",
        "RAY_AUTH_TOKEN",
        "RAY_AUTH_TOKEN_PATH",
        "LAKELAB_CONFIG",
        "LAKELAB_WORKSPACE_BACKEND",
        "LAKELAB_WORKSPACE_ADDRESS",
    ):
        mp.delenv(var, raising=False)
    yield home
    mp.undo()


@pytest.fixture(scope="session")
def manager(ws_home):
    m = WorkspaceManager(settings(), root=ws_home / "workspaces")
    seen: dict[str, list[int]] = {}
    m._seen = seen  # type: ignore[attr-defined] - groups to force-kill if a test breaks a stop
    yield m
    temp_dirs, groups = [], set()
    for name in m.store.names():
        rec = m.store.load(name)
        temp_dirs.append(rec.temp_dir or "")
        groups |= {n.pid for n in ([rec.head] if rec.head else []) + rec.nodes}
        try:
            m.stop(name)
        except Exception:  # noqa: BLE001 - the kill below is the safety net
            pass
    for pgid in groups | {g for gs in seen.values() for g in gs}:
        if group_pids(pgid):
            os.killpg(pgid, signal.SIGKILL)
    leftovers = ours([t for t in temp_dirs if t])
    assert not leftovers, f"Ray processes left behind: {[p.pid for p in leftovers]}"


@pytest.fixture
def main_ws(manager) -> str:
    """The shared workspace 'main' (head + 1 worker), (re)started when not running."""
    name = "main"
    if name in manager.store.names() and manager.get(name).state == RUNNING:
        if manager.get(name).workers != 1:
            manager.scale(name, 1)
    else:
        if name in manager.store.names():
            manager.stop(name)
        manager.create(name, cpus=1, workers=1)
    remember(manager, name)
    return name

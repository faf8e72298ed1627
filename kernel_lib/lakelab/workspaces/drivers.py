"""Which processes (notebook kernels) are connected to a workspace, and how they let go.

A Ray driver exits when its cluster's GCS is gone (about a minute later), so stopping a
workspace under a connected kernel would kill the kernel. Instead each `Workspace.connect()`
registers its process in the workspace's directory (<root>/<name>/drivers/<pid>.json) and
starts a watcher thread; `WorkspaceManager.stop` marks the record stopping, and each watcher
that sees it calls `ray.shutdown()`, removes its registration and leaves a line for the
notebook. The stop waits (bounded) for the registrations to go before ending Ray.
"""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from lakelab.workspaces.state import RUNNING, Store

WATCH_INTERVAL_S = 0.5


def _dir(store: Store, name: str) -> Path:
    d = store.log_dir(name) / "drivers"
    d.mkdir(exist_ok=True)
    return d


def _kernel_id() -> str | None:
    """This process's Jupyter kernel id (its connection file is kernel-<id>.json), if it is one."""
    try:
        from ipykernel.connect import get_connection_file

        stem = Path(get_connection_file()).stem
    except Exception:  # noqa: BLE001 - not a kernel (a script, the CLI)
        return None
    return stem.removeprefix("kernel-") if stem.startswith("kernel-") else None


def _alive(entry: dict[str, Any]) -> bool:
    try:
        return abs(psutil.Process(int(entry["pid"])).create_time() - float(entry["create_time"])) < 1
    except (psutil.Error, KeyError, TypeError, ValueError):
        return False


def connected(store: Store, name: str) -> list[dict[str, Any]]:
    """The live processes connected to workspace `name`: pid and (for a kernel) kernel_id."""
    folder = store.root / name / "drivers"
    out = []
    for p in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            entry = json.loads(p.read_text())
        except (OSError, ValueError):
            continue
        if _alive(entry):
            out.append({"pid": entry["pid"], "kernel_id": entry.get("kernel_id")})
        else:
            p.unlink(missing_ok=True)  # a kernel that died without letting go
    return out


def wait_disconnected(store: Store, name: str, timeout_s: float) -> list[dict[str, Any]]:
    """Wait until no live process is connected (or the timeout); returns those still connected."""
    deadline = time.monotonic() + timeout_s
    left = connected(store, name)
    while left and time.monotonic() < deadline:
        time.sleep(WATCH_INTERVAL_S / 2)
        left = connected(store, name)
    return left


class _Watch:
    """This process's one registration and watcher thread (a process drives one cluster)."""

    lock = threading.Lock()
    current: tuple[Store, str, threading.Event] | None = None
    notice: str | None = None


def _unregister(store: Store, name: str) -> None:
    (_dir(store, name) / f"{os.getpid()}.json").unlink(missing_ok=True)


def register(store: Store, name: str) -> None:
    """Record this process as connected to `name` and watch for the workspace being stopped."""
    release()
    pid = os.getpid()
    entry = {"pid": pid, "create_time": psutil.Process(pid).create_time(), "kernel_id": _kernel_id()}
    path = _dir(store, name) / f"{pid}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(entry))
    tmp.replace(path)
    done = threading.Event()
    with _Watch.lock:
        _Watch.current = (store, name, done)
    threading.Thread(target=_watch, args=(store, name, done), name=f"lakelab-watch-{name}", daemon=True).start()


def release() -> None:
    """Forget this process's registration (it disconnected by itself)."""
    with _Watch.lock:
        current, _Watch.current = _Watch.current, None
    if current:
        store, name, done = current
        done.set()
        _unregister(store, name)


def _stopping(store: Store, name: str) -> bool:
    try:
        return json.loads(store.path(name).read_text()).get("state") != RUNNING
    except FileNotFoundError:
        return True
    except (OSError, ValueError):
        return False  # caught mid-write: look again


def _watch(store: Store, name: str, done: threading.Event) -> None:
    while not done.wait(WATCH_INTERVAL_S):
        if _stopping(store, name):
            _disconnect(store, name, done)
            return


def _disconnect(store: Store, name: str, done: threading.Event) -> None:
    import ray

    with _Watch.lock:
        if _Watch.current is None or _Watch.current[2] is not done:
            return  # reconnected elsewhere meanwhile
        _Watch.current = None
    try:
        ray.shutdown()
    finally:
        for var in ("LAKELAB_WORKSPACE", "LAKELAB_WORKSPACE_ADDRESS_CONNECTED"):
            os.environ.pop(var, None)
        _unregister(store, name)
        _Watch.notice = (
            f"lakelab: workspace {name!r} was stopped; this kernel disconnected from it "
            "and keeps its variables (connect again after `%workspace up`)"
        )


def take_notice() -> str | None:
    """The disconnect line not yet shown (once): the notebook prints it at its next cell
    (lakelab.notebook.notices), since a line printed from the watcher thread would go to a
    finished cell, which the notebook no longer shows."""
    notice, _Watch.notice = _Watch.notice, None
    return notice

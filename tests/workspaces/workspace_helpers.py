"""Helpers shared by the workspace tests (imported by name: tests/ has no packages)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psutil

from lakelab.config import WorkspaceConfig
from lakelab.workspaces import WorkspaceManager


def settings(**kw) -> WorkspaceConfig:
    s = WorkspaceConfig(backend="local", max_workers=2, max_cpus_per_node=1, idle_timeout_s=3600)
    s.object_store_mb = 128  # small object stores: several clusters share this machine
    for k, v in kw.items():
        setattr(s, k, v)
    return s


def ours(temp_dirs: list[str]) -> list[psutil.Process]:
    """Live processes whose command line names one of our workspaces' temp dirs."""
    found = []
    for p in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if p.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            cmd = " ".join(p.info["cmdline"] or [])
            if any(t and t in cmd for t in temp_dirs):
                found.append(p)
        except psutil.Error:
            continue
    return found


def remember(manager: WorkspaceManager, name: str) -> None:
    rec = manager.store.load(name)
    manager._seen[name] = [n.pid for n in ([rec.head] if rec.head else []) + rec.nodes]  # type: ignore[attr-defined]


def run_driver(code: str, home: Path, timeout: float = 240) -> dict:
    """Run `code` as a separate Ray driver (like a notebook kernel); it prints one JSON
    line prefixed with RESULT: which is returned."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["LAKELAB_HOME"] = str(home)
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True,
                          text=True, timeout=timeout)
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT:"):
            return json.loads(line[len("RESULT:"):])
    raise AssertionError(f"driver failed (rc={proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")

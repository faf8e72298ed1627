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
    """Live processes whose command line names one of our workspaces' temp dirs, or that run
    in one: Ray's worker processes (tasks, actors) rename themselves (`ray::Probe`) and start
    their own session, so only their working directory (the node's temp dir) gives them away."""
    found = []
    dirs = [t for t in temp_dirs if t]
    for p in psutil.process_iter(["pid", "cmdline", "status"]):
        try:
            if p.info["status"] == psutil.STATUS_ZOMBIE:
                continue
            cmd = " ".join(p.info["cmdline"] or [])
            if any(t in cmd for t in dirs) or any((p.cwd() + "/").startswith(t.rstrip("/") + "/") for t in dirs):
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
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=timeout
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT:"):
            return json.loads(line[len("RESULT:") :])
    raise AssertionError(f"driver failed (rc={proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


class LiveServer:
    """A real `jupyter server` subprocess with lakelab_server, as a user runs it, over one
    LAKELAB_HOME; its output goes to `log_path` (scanned for secrets at session end)."""

    def __init__(self, home: Path, tmp: Path, token: str, name: str = "server", start_timeout_s: float = 180):
        import socket
        import time

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.token = token
        root = tmp / "root"
        root.mkdir(exist_ok=True)
        self.log_path = tmp / f"{name}.log"
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("RAY_", "LAKELAB_TRINO_", "LAKELAB_WORKSPACE_"))
            and k not in ("LAKELAB_CONFIG", "LAKELAB_ENGINE")
        }
        env.update(LAKELAB_HOME=str(home), JUPYTER_RUNTIME_DIR=str(tmp / f"{name}-runtime"))
        started = time.monotonic()
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "jupyter",
                    "server",
                    "--no-browser",
                    f"--port={self.port}",
                    "--ip=127.0.0.1",
                    f"--IdentityProvider.token={token}",
                    f"--ServerApp.root_dir={root}",
                ]
                + (["--allow-root"] if os.geteuid() == 0 else []),
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        while True:
            try:
                if self.call("GET", "info")[0] == 200:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() - started > start_timeout_s:
                self.proc.kill()
                raise AssertionError("jupyter server did not start:\n" + self.log_path.read_text()[-3000:])
            time.sleep(0.3)
        self.start_s = time.monotonic() - started

    def call(
        self, method: str, path: str, body=None, headers: dict | None = None, auth: bool = True, timeout: float = 300
    ) -> tuple[int, dict[str, str], bytes]:
        """One request under /lakelab/api/v1/ (redirects are not followed): status, headers, body.
        `auth` sends the token header; pass auth=False and a Cookie header for a browser's call."""
        import http.client

        hdrs = dict(headers or {})
        if auth:
            hdrs["Authorization"] = f"token {self.token}"
        if body is not None and not isinstance(body, (str, bytes)):
            body = json.dumps(body)
        path = path if path.startswith("/") else f"/lakelab/api/v1/{path}"
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def login_cookies(self) -> str:
        """The cookies a browser holds after logging in with the token (no token from here on)."""
        import http.client

        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            conn.request("GET", f"/login?token={self.token}")
            resp = conn.getresponse()
            resp.read()
            cookies = [v.split(";", 1)[0] for k, v in resp.getheaders() if k.lower() == "set-cookie"]
        finally:
            conn.close()
        return "; ".join(c for c in cookies if not c.startswith("_xsrf="))

    def kill(self) -> None:
        """SIGKILL the server process only (Ray nodes run in their own process groups)."""
        self.proc.kill()
        self.proc.wait(timeout=60)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=30)


def kill_leftovers(root: Path) -> list[int]:
    """Safety net for a failed test: SIGKILL the process groups every record under `root`
    names and any process running in their temp dirs; returns what it had to kill."""
    import signal

    from lakelab.workspaces.backends.local import group_pids
    from lakelab.workspaces.state import Store

    store = Store(root)
    killed: list[int] = []
    for name in store.names():
        try:
            rec = store.load(name)
        except Exception:  # noqa: BLE001 - best effort
            continue
        for node in ([rec.head] if rec.head else []) + rec.nodes:
            if group_pids(node.pid):
                killed.append(node.pid)
                os.killpg(node.pid, signal.SIGKILL)
        for p in ours([rec.temp_dir or ""]):
            killed.append(p.pid)
            p.kill()
    return killed


HOLDING_DRIVER = """
import json, os, sys, lakelab, ray
lakelab.workspace(sys.argv[1]).connect()

@ray.remote(num_cpus=1)
class Probe:
    def pid(self):
        return os.getpid()

probe = Probe.remote()
print("RESULT:" + json.dumps({"driver": os.getpid(), "worker": ray.get(probe.pid.remote())}), flush=True)
sys.stdin.read()  # stay connected until stdin closes
"""


class HoldingDriver:
    """A kernel-like Ray driver connected to workspace `name`, holding one actor (a worker
    process) until closed; `pids` = {"driver": pid, "worker": pid}."""

    def __init__(self, home: Path, name: str, err_path: Path, timeout: float = 240):
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
        env["LAKELAB_HOME"] = str(home)
        self.err_path = err_path
        with open(err_path, "w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", HOLDING_DRIVER, name],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
            )
        line = next((ln for ln in self.proc.stdout if ln.startswith("RESULT:")), None)
        if not line:
            self.close()
            raise AssertionError("driver failed: " + err_path.read_text()[-3000:])
        self.pids = json.loads(line[len("RESULT:") :])

    def close(self) -> None:
        if self.proc.stdin and not self.proc.stdin.closed:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)

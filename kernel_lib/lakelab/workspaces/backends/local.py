"""The local backend: a real Ray head plus worker nodes as processes on this machine.

Each node is one `ray start --block` in its own process group (start_new_session), so a
workspace is stopped by signalling exactly its own groups — never `ray stop`, which ends
every Ray cluster on the host. Each workspace gets its own ports (GCS, dashboard, agents,
client server, node/object managers and a private worker-port block), a short temp dir
(unix socket paths are limited to 107 bytes) and its own token file.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psutil

from lakelab.errors import Conflict, Unavailable
from lakelab.workspaces.backends.base import Backend
from lakelab.workspaces.state import NodeProc, WorkspaceRecord
from lakelab.workspaces.status import dashboard_get

PORT_BLOCK_START, PORT_BLOCK_SIZE, PORT_BLOCKS = 20000, 100, 120  # below Linux's ephemeral range
log = logging.getLogger("lakelab.workspaces")
TEMP_ROOT = Path("/tmp/llw")
_children: dict[int, subprocess.Popen] = {}  # our own `ray start` children, reaped on every call


def _reap() -> None:
    for pid, proc in list(_children.items()):
        if proc.poll() is not None:
            del _children[pid]


def group_pids(pgid: int) -> list[int]:
    """Live (non-zombie) processes of one process group."""
    out = []
    for p in psutil.process_iter(["pid", "status"]):
        try:
            if p.info["status"] != psutil.STATUS_ZOMBIE and os.getpgid(p.info["pid"]) == pgid:
                out.append(p.info["pid"])
        except (ProcessLookupError, psutil.Error):
            continue
    return out


def session_pids(temp_dir: str | None) -> list[int]:
    """Live processes running in a workspace's temp dir: every node's `ray start` has it as
    its working directory and so do Ray's worker processes (tasks, actors), which start
    their own session and rename themselves, so neither process group nor name finds them."""
    if not temp_dir or not temp_dir.startswith(str(TEMP_ROOT) + "/"):
        return []
    prefix = temp_dir.rstrip("/") + "/"
    out = []
    for p in psutil.process_iter(["pid", "status"]):
        try:
            if p.info["status"] != psutil.STATUS_ZOMBIE and (p.cwd() + "/").startswith(prefix):
                out.append(p.info["pid"])
        except psutil.Error:
            continue
    return out


def _is_ours(node: NodeProc) -> bool:
    """The recorded leader still runs (same pid *and* start time, so a reused pid is not ours)."""
    try:
        p = psutil.Process(node.pid)
        return p.status() != psutil.STATUS_ZOMBIE and abs(p.create_time() - node.create_time) < 1.0
    except psutil.Error:
        return False


def _raylet_died(node: NodeProc) -> bool:
    """A node's raylet exited (a zombie under its `ray start`) while the node is starting."""
    for p in psutil.process_iter(["pid", "name", "status"]):
        try:
            if (
                p.info["name"] == "raylet"
                and p.info["status"] == psutil.STATUS_ZOMBIE
                and os.getpgid(p.info["pid"]) == node.pid
            ):
                return True
        except (ProcessLookupError, psutil.Error):
            continue
    return False


def _raylet_error(temp_dir: str | None) -> str:
    """The fatal line of a raylet's log (its temp dir is removed when the start is undone)."""
    lines: list[str] = []
    for log in sorted(Path(temp_dir or "/nonexistent").glob("session_latest/logs/raylet*.out")):
        lines += [ln for ln in log.read_text(errors="replace").splitlines() if "Check failed" in ln or " F " in ln]
    return lines[-1].split("Check failed:", 1)[-1].strip()[:300] if lines else "no fatal line in raylet.out"


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


class LocalBackend(Backend):
    name = "local"

    # -- ports ------------------------------------------------------------------------
    def _free_ports(self, n: int) -> list[int]:
        socks, ports = [], []
        try:
            for _ in range(n):  # hold them all open so one call never returns a port twice
                s = socket.socket()
                s.bind(("127.0.0.1", 0))
                socks.append(s)
                ports.append(s.getsockname()[1])
        finally:
            for s in socks:
                s.close()
        return ports

    def _port_block(self, taken: set[int]) -> int:
        """A worker-port block no other node of any workspace in this store uses."""
        for name in self.store.names():
            try:
                rec = self.store.load(name)
            except Exception:  # noqa: BLE001 - an unreadable record must not block others
                continue
            for node in ([rec.head] if rec.head else []) + rec.nodes:
                if _is_ours(node):
                    taken.add(node.port_block)
        for i in range(PORT_BLOCKS):
            base = PORT_BLOCK_START + i * PORT_BLOCK_SIZE
            if base not in taken:
                taken.add(base)
                return base
        raise Conflict("no free worker-port block left on this machine", hint="stop unused workspaces")

    # -- processes --------------------------------------------------------------------
    def _env(self, rec: WorkspaceRecord, dashboard_port: int | None) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
        if dashboard_port:  # Ray's own tasks (Ray Train's cleaner) look "the" cluster up: several run here
            env["RAY_API_SERVER_ADDRESS"] = f"http://127.0.0.1:{dashboard_port}"
        env.update(
            RAY_AUTH_MODE="token",
            RAY_AUTH_TOKEN_PATH=str(self.store.token_path(rec.name)),
            RAY_USAGE_STATS_ENABLED="0",
            # SIGTERM drains a node for up to 30 s by default, even an idle head
            RAY_GRACEFUL_SHUTDOWN_DRAIN_TIMEOUT_S=str(getattr(self.settings, "drain_timeout_s", 3)),
            # a busy host (2 cores shared) can take longer than Ray's 30 s to register a node
            RAY_raylet_start_wait_time_s=str(int(getattr(self.settings, "start_timeout_s", 180))),
            # ...and longer than its default to start the dashboard agent the raylet waits for
            RAY_agent_register_timeout_ms=str(int(getattr(self.settings, "start_timeout_s", 180)) * 1000),
        )
        return env

    def _spawn(self, rec: WorkspaceRecord, role: str, taken: set[int]) -> NodeProc:
        names = ["node_manager", "object_manager", "agent_listen", "agent_grpc", "runtime_env", "metrics"]
        if role == "head":
            names += ["gcs", "dashboard", "client_server"]
        ports = dict(zip(names, self._free_ports(len(names))))
        block = self._port_block(taken)
        object_store = int(getattr(self.settings, "object_store_mb", 256)) * 1024 * 1024
        cmd = [
            sys.executable,
            "-m",
            "ray.scripts.scripts",
            "start",
            "--block",
            "--disable-usage-stats",
            "--node-ip-address",
            "127.0.0.1",
            "--num-cpus",
            str(rec.cpus),
            "--object-store-memory",
            str(object_store),
            "--node-manager-port",
            str(ports["node_manager"]),
            "--object-manager-port",
            str(ports["object_manager"]),
            "--dashboard-agent-listen-port",
            str(ports["agent_listen"]),
            "--dashboard-agent-grpc-port",
            str(ports["agent_grpc"]),
            "--runtime-env-agent-port",
            str(ports["runtime_env"]),
            "--metrics-export-port",
            str(ports["metrics"]),
            "--min-worker-port",
            str(block),
            "--max-worker-port",
            str(block + PORT_BLOCK_SIZE - 1),
        ]
        if role == "head":
            cmd += [
                "--head",
                "--port",
                str(ports["gcs"]),
                "--temp-dir",
                str(rec.temp_dir),
                "--include-dashboard",
                "true",
                "--dashboard-host",
                "127.0.0.1",
                "--dashboard-port",
                str(ports["dashboard"]),
                "--ray-client-server-port",
                str(ports["client_server"]),
            ]
        else:
            cmd += ["--address", str(rec.address)]
        index = len(rec.nodes) + 1 if role == "worker" else 0
        log = self.store.log_dir(rec.name) / (f"worker-{index}.log" if role == "worker" else "head.log")
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                cmd,
                env=self._env(rec, ports["dashboard"] if role == "head" else rec.dashboard_port),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=str(rec.temp_dir),
            )
        _children[proc.pid] = proc
        return NodeProc(
            role=role,
            pid=proc.pid,
            create_time=psutil.Process(proc.pid).create_time(),
            log=str(log),
            port_block=block,
            ports=ports,
        )

    def _wait_nodes(self, rec: WorkspaceRecord, expected: int, watch: list[NodeProc]) -> None:
        """Until the dashboard reports `expected` alive nodes; fail fast if a node process exits."""
        deadline = time.monotonic() + float(getattr(self.settings, "start_timeout_s", 180))
        token = self.store.token(rec.name)
        url = self.dashboard_url(rec)
        if url is None:  # set with the head's ports before any wait
            raise Unavailable(f"workspace {rec.name!r} has no dashboard port recorded")
        while time.monotonic() < deadline:
            _reap()
            for node in watch:
                if not _is_ours(node):
                    raise Unavailable(
                        f"workspace {rec.name!r}: the {node.role} node exited during start-up: "
                        f"{self._tail(node.log, 3)}"
                    )
                if _raylet_died(node):  # `ray start` itself would wait out its whole timeout
                    raise Unavailable(
                        f"workspace {rec.name!r}: the {node.role} node's raylet died during start-up: "
                        f"{_raylet_error(rec.temp_dir)}"
                    )
            try:
                rows = dashboard_get(url, "api/v0/nodes?limit=1000", token, timeout=5)
                alive = [n for n in rows["data"]["result"]["result"] if n.get("state") == "ALIVE"]
                if len(alive) == expected:
                    return
            except (Unavailable, KeyError, TypeError):
                pass  # dashboard still starting
            time.sleep(0.5)
        raise Unavailable(
            f"workspace {rec.name!r} did not become ready with {expected} node(s) in time",
            hint=f"see its logs in {self.store.log_dir(rec.name)}",
        )

    def _stop_nodes(self, nodes: list[NodeProc]) -> None:
        """SIGTERM each node's group (ray cleans its children), SIGKILL what is left after
        the timeout, and wait until no process of those groups remains."""
        groups = [n.pid for n in nodes if _is_ours(n) or group_pids(n.pid)]
        for pgid in groups:
            try:
                os.killpg(pgid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + float(getattr(self.settings, "stop_timeout_s", 15))
        killed = False
        while True:
            _reap()
            left = [g for g in groups if group_pids(g)]
            if not left:
                return
            if time.monotonic() > deadline and not killed:
                for pgid in left:
                    try:
                        os.killpg(pgid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                killed, deadline = True, time.monotonic() + 10
            elif time.monotonic() > deadline:
                raise Unavailable(f"processes {left} did not exit after SIGKILL")
            time.sleep(0.2)

    @staticmethod
    def _tail(path: str, lines: int) -> str:
        try:
            return " | ".join(Path(path).read_text(errors="replace").strip().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    # -- Backend ----------------------------------------------------------------------
    def start(self, rec: WorkspaceRecord) -> None:
        rec.temp_dir = str(TEMP_ROOT / uuid.uuid4().hex[:8])
        Path(rec.temp_dir).mkdir(parents=True, exist_ok=True)
        taken: set[int] = set()
        try:
            rec.head = head = self._spawn(rec, "head", taken)
            rec.address = f"127.0.0.1:{head.ports['gcs']}"
            rec.dashboard_port = head.ports["dashboard"]
            self.store.save(rec)  # pids on disk first: a crash from here on leaves nothing untracked
            self._wait_nodes(rec, 1, [head])
            self._add_workers(rec, head, rec.workers, taken)
        except BaseException:
            self.stop(rec)
            raise

    def scale(self, rec: WorkspaceRecord, workers: int) -> None:
        head = rec.head
        if head is None:  # the manager scales running workspaces only; a record without a head is not one
            raise Conflict(f"workspace {rec.name!r} has no head node to scale")
        if workers < len(rec.nodes):
            drop, rec.nodes = rec.nodes[workers:], rec.nodes[:workers]
            self.store.save(rec)
            self._stop_nodes(drop)
            self._wait_nodes(rec, 1 + workers, [head])
            return
        self._add_workers(rec, head, workers, set())

    def _add_workers(self, rec: WorkspaceRecord, head: NodeProc, workers: int, taken: set[int]) -> None:
        """Start worker nodes up to `workers`, all at once, and wait for them. Workers that die
        while starting are started again one at a time: on a busy host a worker's dashboard agent
        can miss the raylet's fixed 15 s wait for its port file ("Timed out waiting for file"),
        and a node started alone makes it."""
        try:
            self._grow(rec, head, workers, taken)
        except Unavailable:
            dead = [n for n in rec.nodes if not _is_ours(n) or _raylet_died(n)]
            if not dead or not _is_ours(head) or _raylet_died(head):
                raise
            log.warning("workspace %r: %d worker(s) died while starting; starting them one by one", rec.name, len(dead))
            rec.nodes = [n for n in rec.nodes if n not in dead]
            self.store.save(rec)
            self._stop_nodes(dead)
            for count in range(len(rec.nodes) + 1, workers + 1):
                self._grow(rec, head, count, taken)

    def _grow(self, rec: WorkspaceRecord, head: NodeProc, workers: int, taken: set[int]) -> None:
        while len(rec.nodes) < workers:
            rec.nodes.append(self._spawn(rec, "worker", taken))
            self.store.save(rec)
        self._wait_nodes(rec, 1 + workers, [head, *rec.nodes])

    def _stop_stragglers(self, temp_dir: str | None) -> None:
        """Worker processes left in the temp dir after their nodes stopped: they exit by
        themselves once their raylet is gone; SIGKILL whatever still runs after a grace."""
        deadline = time.monotonic() + float(getattr(self.settings, "stop_timeout_s", 15))
        while (left := session_pids(temp_dir)) and time.monotonic() < deadline:
            time.sleep(0.2)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 10
        while session_pids(temp_dir) and time.monotonic() < deadline:
            time.sleep(0.2)

    def stop(self, rec: WorkspaceRecord) -> None:
        nodes = [*rec.nodes, *([rec.head] if rec.head else [])]
        self._stop_nodes(nodes)
        self._stop_stragglers(rec.temp_dir)
        rec.nodes, rec.head = [], None
        if rec.temp_dir and rec.temp_dir.startswith(str(TEMP_ROOT) + "/"):
            shutil.rmtree(rec.temp_dir, ignore_errors=True)

    def alive(self, rec: WorkspaceRecord) -> bool:
        return rec.head is not None and _is_ours(rec.head) and _port_open(rec.head.ports["gcs"])

    def logs(self, rec: WorkspaceRecord, lines: int = 200) -> list[str]:
        out: list[str] = []
        for log in sorted(self.store.log_dir(rec.name).glob("*.log")):
            text = log.read_text(errors="replace").splitlines()[-lines:]
            out += [f"[{log.stem}] {line}" for line in text]
        return out[-lines:]

    def processes(self, rec: WorkspaceRecord) -> list[int]:
        return [pid for n in [*([rec.head] if rec.head else []), *rec.nodes] for pid in group_pids(n.pid)]

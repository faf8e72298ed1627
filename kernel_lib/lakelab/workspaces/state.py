"""Persisted workspace records: one JSON file per workspace under $LAKELAB_HOME/workspaces/.

Every process (the Jupyter server, a kernel, the CLI) reads and writes the same records, so
the manager keeps no state of its own in memory: a restarted server finds its workspaces on
disk and reconciles them (dask-gateway's model), and `%workspace scale` in a kernel is seen
by the sidebar. Writes are atomic (rename) and each workspace has a lock file so two
processes never change one workspace at the same time.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lakelab.errors import Conflict, InvalidInput, NotFound
from lakelab.names import ident

PENDING, RUNNING, STOPPING, STOPPED, FAILED = "pending", "running", "stopping", "stopped", "failed"
STATES = (PENDING, RUNNING, STOPPING, STOPPED, FAILED)
ACTIVE = (PENDING, RUNNING, STOPPING)  # states that may own processes
MAX_NAME = 40


def workspace_name(name: str) -> str:
    """Validate a workspace name (the same identifier rules as tables, shorter)."""
    folded = ident(name, "workspace name")
    if len(folded) > MAX_NAME:
        raise InvalidInput(f"workspace name {name[:20]!r}… is longer than {MAX_NAME} characters")
    return folded


@dataclass
class NodeProc:
    """One `ray start --block` process group (the head or a worker node)."""

    role: str  # head | worker
    pid: int  # leader of its own process group (pgid == pid)
    create_time: float  # guards against pid reuse
    log: str  # this node's `ray start` output
    port_block: int  # first port of this node's worker-port range
    ports: dict[str, int] = field(default_factory=dict)


@dataclass
class WorkspaceRecord:
    name: str
    backend: str
    state: str = PENDING
    owner: str = ""
    cpus: int = 1  # CPUs per node
    workers: int = 0  # target number of worker nodes
    address: str | None = None  # GCS address host:port (or the attached address)
    dashboard_port: int | None = None
    temp_dir: str | None = None
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    last_active: float | None = None
    stopped_at: float | None = None
    message: str | None = None  # why it failed / was stopped
    head: NodeProc | None = None
    nodes: list[NodeProc] = field(default_factory=list)  # worker nodes
    ref: dict[str, Any] = field(
        default_factory=dict
    )  # where a remote backend keeps it (kuberay: namespace, cluster, uid)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WorkspaceRecord:
        data = dict(data)
        head = data.pop("head", None)
        nodes = data.pop("nodes", None) or []
        known = set(cls.__dataclass_fields__)
        rec = cls(**{k: v for k, v in data.items() if k in known})
        rec.head = NodeProc(**head) if head else None
        rec.nodes = [NodeProc(**n) for n in nodes]
        return rec

    def public(self, now: float | None = None) -> dict[str, Any]:
        """What the REST API, the CLI and the widget show (no token, no pids)."""
        now = now or time.time()
        running = self.state == RUNNING
        return {
            "name": self.name,
            "backend": self.backend,
            "state": self.state,
            "owner": self.owner,
            "cpus_per_node": self.cpus,
            "workers": self.workers,
            "address": self.address,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "uptime_s": round(now - self.started_at, 1) if running and self.started_at else None,
            "idle_s": round(now - self.last_active, 1) if running and self.last_active else None,
            "has_dashboard": bool(self.dashboard_port),
            "message": self.message,
        }


class Store:
    """The directory of records: <root>/<name>.json, <root>/<name>.token, <root>/<name>.lock,
    <root>/<name>/ (logs)."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        return self.root / f"{name}.json"

    def token_path(self, name: str) -> Path:
        return self.root / f"{name}.token"

    def log_dir(self, name: str) -> Path:
        d = self.root / name
        d.mkdir(parents=True, exist_ok=True)
        return d

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.root.glob("*.json"))

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def load(self, name: str) -> WorkspaceRecord:
        p = self.path(name)
        try:
            return WorkspaceRecord.from_json(json.loads(p.read_text()))
        except FileNotFoundError:
            raise NotFound(
                f"workspace {name!r} does not exist",
                hint="list workspaces with `%workspace list` or create one with `%workspace up NAME`",
            ) from None
        except (ValueError, TypeError) as e:
            raise Conflict(f"workspace record {p} is unreadable: {e}") from None

    def save(self, rec: WorkspaceRecord) -> None:
        p = self.path(rec.name)
        tmp = p.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(rec.to_json(), indent=1))
        tmp.replace(p)

    def delete(self, name: str) -> None:
        for p in (self.path(name), self.token_path(name)):
            p.unlink(missing_ok=True)

    def new_token(self, name: str) -> Path:
        """A fresh Ray auth token for one workspace, readable only by its owner."""
        p = self.token_path(name)
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(secrets.token_hex(32))
        return p

    def token(self, name: str) -> str:
        return self.token_path(name).read_text().strip()

    @contextlib.contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """An exclusive cross-process lock on one workspace (create, scale, stop)."""
        fd = os.open(self.root / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @contextlib.contextmanager
    def try_lock(self, name: str) -> Iterator[bool]:
        """Like lock() but never waits: yields False when another process holds it (a
        create or scale is under way, so a reconcile must not judge the record now)."""
        fd = os.open(self.root / f"{name}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

"""The backend interface: what the manager asks of a place that runs Ray clusters.

A backend turns a `WorkspaceRecord` into a running cluster and back. The manager owns the
record's lifecycle state, locking, persistence, limits and idle culling; a backend only
acts and fills in the record's runtime fields (address, dashboard_port, head/nodes). Adding
a Kubernetes (KubeRay) backend means one new class here — handlers, the CLI, the magics and
the UI only ever see the manager and `WorkspaceRecord.public()`.

Contract, method by method:

- `start(rec)`: bring up a head plus `rec.workers` worker nodes with `rec.cpus` CPUs each,
  using the token file `store.token_path(rec.name)`; return when the cluster answers and all
  nodes joined, or raise (leaving nothing running). Fill `rec.address` (what `ray.init`
  takes) and, if there is one, `rec.dashboard_port`/`dashboard_url()`.
- `scale(rec, workers)`: add or remove worker nodes until there are `workers`.
- `stop(rec)`: end every process/pod of this workspace and no other; idempotent.
- `alive(rec)`: whether the cluster still exists (used to reconcile after a restart).
- `dashboard_url(rec)`: base URL of the Ray dashboard reachable from the server, or None.
- `logs(rec, lines)`: the last lines of the workspace's own logs.
- `detail(rec)`: optional live status of the backend's own (a phase and its reason).
- `lifecycle`: False when the backend cannot create/scale/stop (attach); the manager then
  answers those requests with `Unsupported`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

from lakelab.workspaces.state import Store, WorkspaceRecord


class Backend(ABC):
    name: str = "base"
    lifecycle: bool = True

    def __init__(self, store: Store, settings: object):
        self.store = store
        self.settings = settings  # lakelab.config.WorkspaceConfig

    @abstractmethod
    def start(self, rec: WorkspaceRecord) -> None: ...

    @abstractmethod
    def scale(self, rec: WorkspaceRecord, workers: int) -> None: ...

    @abstractmethod
    def stop(self, rec: WorkspaceRecord) -> None: ...

    @abstractmethod
    def alive(self, rec: WorkspaceRecord) -> bool: ...

    def dashboard_url(self, rec: WorkspaceRecord) -> str | None:
        return f"http://127.0.0.1:{rec.dashboard_port}" if rec.dashboard_port else None

    def logs(self, rec: WorkspaceRecord, lines: int = 200) -> list[str]:
        return []

    def detail(self, rec: WorkspaceRecord) -> dict[str, Any] | None:
        """Backend-specific live status shown next to the record (kuberay: the phase read
        from the RayCluster's status and events), or None."""
        return None

    def processes(self, rec: WorkspaceRecord) -> list[int]:
        """Pids this workspace runs on this machine (for memory figures and leak checks)."""
        return []

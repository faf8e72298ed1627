"""The workspace manager: lifecycle, limits, reconciliation and idle culling.

It is an object of its own, usable without a server (the CLI, the magics and the tests use
it directly); the server builds one at load and its handlers call it in a thread. All state
lives in the `Store` on disk, so several managers (a server, a kernel, a CLI) over the same
directory agree, and a new manager after a restart re-attaches what is still running.
"""

from __future__ import annotations

import builtins
import logging
import time
from pathlib import Path
from typing import Any

from lakelab.catalog.metadata import current_user
from lakelab.config import WorkspaceConfig, lakelab_home, load_config
from lakelab.errors import Conflict, InvalidInput, LakelabError, Unavailable, Unsupported
from lakelab.workspaces import drivers
from lakelab.workspaces.backends import Backend, make_backend
from lakelab.workspaces.state import (
    ACTIVE,
    FAILED,
    PENDING,
    RUNNING,
    STOPPED,
    STOPPING,
    Store,
    WorkspaceRecord,
    workspace_name,
)
from lakelab.workspaces.status import cluster_status, is_busy

log = logging.getLogger("lakelab.workspaces")


def _int_option(value: Any, what: str, low: int, high: int) -> int:
    try:
        n = int(value)
        if n != value and not isinstance(value, str):
            raise ValueError
    except (TypeError, ValueError):
        raise InvalidInput(f"{what} must be a whole number, got {value!r}") from None
    if n < low:
        raise InvalidInput(f"{what} must be at least {low}, got {n}")
    if n > high:
        raise InvalidInput(
            f"{what} {n} is over the limit of {high}",
            hint="ask for less, or raise the limit in the workspaces section of the lakelab config",
        )
    return n


class WorkspaceManager:
    def __init__(self, settings: WorkspaceConfig | None = None, root: str | Path | None = None):
        self.settings = settings or load_config().workspaces
        self.store = Store(Path(root) if root else lakelab_home() / "workspaces")
        self._backends: dict[str, Backend] = {}

    def __repr__(self) -> str:
        return f"<WorkspaceManager backend={self.settings.backend!r} root={self.store.root}>"

    def backend(self, kind: str | None = None) -> Backend:
        kind = kind or self.settings.backend
        if kind not in self._backends:
            self._backends[kind] = make_backend(kind, self.store, self.settings)
        return self._backends[kind]

    # -- reading ----------------------------------------------------------------------
    def get(self, name: str) -> WorkspaceRecord:
        return self._refresh(self.store.load(workspace_name(name)))

    def list(self) -> builtins.list[WorkspaceRecord]:
        out = []
        for name in self.store.names():
            try:
                out.append(self._refresh(self.store.load(name)))
            except LakelabError as e:
                log.warning("skipping workspace record %s: %s", name, e)
        return out

    def status(self, name: str) -> dict[str, Any]:
        """The record's public view plus live cluster figures (nodes, CPUs, memory, tasks)."""
        rec = self.get(name)
        out = rec.public()
        impl = self.backend(rec.backend)
        url = impl.dashboard_url(rec)
        out["cluster"] = None
        if rec.state == RUNNING:
            detail = impl.detail(rec)
            if detail is not None:
                out["detail"] = detail
        if rec.state == RUNNING and url:
            try:
                out["cluster"] = cluster_status(url, self._token(rec))
            except Unavailable as e:
                out["message"] = str(e)
            else:
                if is_busy(out["cluster"]):
                    self._touch(rec.name)
        return out

    def connected(self, name: str) -> builtins.list[dict[str, Any]]:
        """The live processes (notebook kernels: pid and kernel_id) connected to the workspace."""
        return drivers.connected(self.store, workspace_name(name))

    def connect_info(self, name: str) -> dict[str, Any]:
        """What a driver needs: the address and the token file (never the token itself)."""
        rec = self.get(name)
        if rec.state != RUNNING:
            raise Conflict(
                f"workspace {rec.name!r} is {rec.state}, not running", hint=f"start it with `%workspace up {rec.name}`"
            )
        token = self.store.token_path(rec.name)
        return {
            "name": rec.name,
            "address": rec.address,
            "backend": rec.backend,
            "token_path": str(token) if token.exists() else None,
            "dashboard_url": self.backend(rec.backend).dashboard_url(rec),
        }

    def logs(self, name: str, lines: int = 200) -> builtins.list[str]:
        lines = _int_option(lines, "lines", 1, 10_000)
        rec = self.store.load(workspace_name(name))
        return self.backend(rec.backend).logs(rec, lines)

    def dashboard(self, name: str) -> tuple[str, str | None]:
        """(dashboard base URL, token) for the server's proxy; the token stays server-side."""
        rec = self.get(name)
        url = self.backend(rec.backend).dashboard_url(rec)
        if rec.state != RUNNING or not url:
            raise Conflict(f"workspace {rec.name!r} has no running dashboard (state: {rec.state})")
        return url, self._token(rec)

    def processes(self, name: str) -> builtins.list[int]:
        rec = self.store.load(workspace_name(name))
        return self.backend(rec.backend).processes(rec)

    # -- lifecycle --------------------------------------------------------------------
    def create(
        self, name: str, cpus: int | None = None, workers: int = 0, backend: str | None = None
    ) -> WorkspaceRecord:
        """Start a workspace (or restart a stopped/failed one) and wait until it is ready."""
        name = workspace_name(name)
        kind = backend or self.settings.backend
        impl = self.backend(kind)
        cpus = _int_option(1 if cpus is None else cpus, "cpus per node", 1, int(self.settings.max_cpus_per_node))
        workers = _int_option(workers, "workers", 0, int(self.settings.max_workers))
        owner = current_user()
        with self.store.lock(name):
            if self.store.exists(name):
                old = self._refresh(self.store.load(name), locked=True)
                if old.state in ACTIVE:
                    raise Conflict(
                        f"workspace {name!r} already exists and is {old.state}",
                        hint=f"connect with `%workspace connect {name}` or stop it with `%workspace down {name}`",
                    )
            self._check_user_limit(owner, name)
            rec = WorkspaceRecord(name=name, backend=kind, owner=owner, cpus=cpus, workers=workers)
            self.store.save(rec)
            if impl.lifecycle:
                self.store.new_token(name)
            try:
                self._start(impl, rec)
            except BaseException as e:
                rec.state, rec.message, rec.stopped_at = FAILED, f"start failed: {e}", time.time()
                rec.head, rec.nodes = None, []
                self.store.save(rec)
                raise
            rec.state, rec.message = RUNNING, None
            rec.started_at = rec.last_active = time.time()
            self.store.save(rec)
            return rec

    def scale(self, name: str, workers: int) -> WorkspaceRecord:
        name = workspace_name(name)
        workers = _int_option(workers, "workers", 0, int(self.settings.max_workers))
        with self.store.lock(name):
            rec = self._refresh(self.store.load(name), locked=True)
            impl = self.backend(rec.backend)
            if not impl.lifecycle:
                raise Unsupported(f"workspace {name!r} is an attached cluster: lakelab does not scale it")
            if rec.state != RUNNING:
                raise Conflict(f"workspace {name!r} is {rec.state}; only a running workspace can be scaled")
            impl.scale(rec, workers)
            rec.workers, rec.last_active = workers, time.time()
            self.store.save(rec)
            return rec

    def stop(self, name: str, *, forget: bool = True, message: str | None = None) -> WorkspaceRecord:
        """Stop exactly this workspace's processes. `forget` drops the record (a user's
        `down`); otherwise it stays, stopped, with `message` saying why (idle culling)."""
        name = workspace_name(name)
        with self.store.lock(name):
            rec = self.store.load(name)
            impl = self.backend(rec.backend)
            if rec.state in ACTIVE:
                rec.state = STOPPING
                self.store.save(rec)
                # connected kernels see `stopping` and let go first: a Ray driver whose
                # cluster vanishes under it exits, taking the kernel with it
                left = drivers.wait_disconnected(self.store, name, float(self.settings.disconnect_timeout_s))
                if left:
                    log.warning("workspace %s: processes %s did not disconnect in time", name, left)
                impl.stop(rec)
            rec.state, rec.stopped_at, rec.message = STOPPED, time.time(), message
            rec.head, rec.nodes = None, []
            if forget:
                self.store.delete(name)
            else:
                self.store.save(rec)
            return rec

    def reconcile(self) -> builtins.list[WorkspaceRecord]:
        """Check every record against reality (run at server start): live ones are
        re-attached as they are, dead ones are marked failed and their leftovers ended."""
        return self.list()

    def cull_idle(self, now: float | None = None) -> builtins.list[str]:
        """Stop running workspaces with no driver, job or task for `idle_timeout_s`."""
        timeout = float(self.settings.idle_timeout_s or 0)
        culled: list[str] = []
        for rec in self.list():
            if rec.state != RUNNING or not self.backend(rec.backend).lifecycle or timeout <= 0:
                continue
            try:
                cluster = self.status(rec.name)["cluster"]  # touches last_active when busy
                rec = self.store.load(rec.name)
            except LakelabError:
                continue
            if cluster is None or is_busy(cluster):
                continue  # busy now, or unreachable (reconcile judges that, not culling)
            now_ = now or time.time()
            if rec.last_active and now_ - rec.last_active > timeout:
                log.info("stopping idle workspace %s", rec.name)
                self.stop(rec.name, forget=False, message=f"stopped after {int(now_ - rec.last_active)} s idle")
                culled.append(rec.name)
        return culled

    def shutdown(self) -> builtins.list[str]:
        """Stop every local workspace (the server calls this on exit when configured)."""
        stopped = []
        for rec in self.list():
            if rec.state in ACTIVE and self.backend(rec.backend).lifecycle:
                self.stop(rec.name, forget=False, message="stopped with the Jupyter server")
                stopped.append(rec.name)
        return stopped

    # -- helpers ----------------------------------------------------------------------
    def _start(self, impl: Backend, rec: WorkspaceRecord) -> None:
        """Start, retrying once when the cluster itself failed to come up: Ray's internal
        start-up timeouts can trip on an overloaded host (a backend undoes a failed start)."""
        attempts = max(1, int(getattr(self.settings, "start_attempts", 2)))
        for attempt in range(1, attempts + 1):
            try:
                impl.start(rec)
                return
            except Unavailable as e:
                if attempt == attempts:
                    raise
                log.warning("workspace %s: start attempt %d failed (%s); retrying", rec.name, attempt, e)
                rec.head, rec.nodes = None, []

    def _token(self, rec: WorkspaceRecord) -> str | None:
        p = self.store.token_path(rec.name)
        return p.read_text().strip() if p.exists() else None

    def _check_user_limit(self, owner: str, name: str) -> None:
        limit = int(getattr(self.settings, "max_workspaces_per_user", 4))
        mine = [r for r in self.list() if r.owner == owner and r.state in ACTIVE and r.name != name]
        if len(mine) >= limit:
            raise Conflict(
                f"{owner} already has {len(mine)} running workspace(s), the limit is {limit}",
                hint="stop one with `%workspace down NAME`",
            )

    def _touch(self, name: str) -> None:
        with self.store.try_lock(name) as got:
            if got:
                rec = self.store.load(name)
                rec.last_active = time.time()
                self.store.save(rec)

    def _refresh(self, rec: WorkspaceRecord, locked: bool = False) -> WorkspaceRecord:
        """Bring a record in line with reality. Skipped while another process holds the
        record's lock: a create or scale in progress is not a dead cluster."""
        if rec.state not in ACTIVE:
            return rec
        impl = self.backend(rec.backend)
        if rec.state == RUNNING and impl.alive(rec):
            return rec
        if locked:
            return self._settle(rec, impl)
        with self.store.try_lock(rec.name) as got:
            if not got:
                return rec
            return self._settle(self.store.load(rec.name), impl)

    def _settle(self, rec: WorkspaceRecord, impl: Backend) -> WorkspaceRecord:
        """Nobody is working on this record (we hold its lock): a running workspace whose
        head died is failed; a pending or stopping one was abandoned by a process that
        exited half-way (a killed server or CLI). Either way its leftovers are ended."""
        if rec.state not in ACTIVE or (rec.state == RUNNING and impl.alive(rec)):
            return rec
        was = rec.state
        impl.stop(rec)
        rec.state = STOPPED if was == STOPPING else FAILED
        rec.message = {
            RUNNING: "the cluster's head process is gone",
            PENDING: "start-up was interrupted: the process starting it exited",
            STOPPING: rec.message,
        }[was]
        rec.stopped_at = time.time()
        self.store.save(rec)
        return rec


__all__ = ["FAILED", "PENDING", "RUNNING", "STOPPED", "STOPPING", "WorkspaceManager"]

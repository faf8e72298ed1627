"""The notebook's handle on a workspace: `lakelab.workspace(name)`.

    ws = lakelab.workspace("team")
    ws.connect()        # ray.* calls in this kernel now run on that cluster
    ws.status()         # nodes, CPUs, memory, running tasks (renders as a card)
    ws.scale(2); ws.stop()

Connecting sets RAY_AUTH_MODE=token and RAY_AUTH_TOKEN_PATH to the workspace's own token
file before `ray.init`, so auth is handled and the token never appears in the notebook.
"""

from __future__ import annotations

import html
import os
import time
import warnings
from collections.abc import Callable
from typing import Any

from lakelab.errors import Conflict, Unavailable
from lakelab.workspaces import drivers
from lakelab.workspaces.manager import WorkspaceManager
from lakelab.workspaces.state import workspace_name


def _gib(n: float) -> str:
    return f"{n / 2**30:.1f} GiB"


class WorkspaceStatus(dict):
    """A status mapping that renders as a small card in the notebook."""

    def _repr_html_(self) -> str:
        c = self.get("cluster") or {}
        rows = [("state", self.get("state")), ("backend", self.get("backend")), ("address", self.get("address"))]
        if c:
            rows += [
                ("nodes", c.get("node_count")),
                ("CPUs", c.get("cpus")),
                ("memory", _gib(c.get("memory_bytes", 0))),
                ("object store", _gib(c.get("object_store_bytes", 0))),
                ("running tasks", c.get("running_tasks")),
                ("drivers/jobs", c.get("running_jobs")),
            ]
        if self.get("uptime_s") is not None:
            rows.append(("uptime", f"{self['uptime_s']:.0f} s"))
        if self.get("idle_s") is not None:
            rows.append(("idle", f"{self['idle_s']:.0f} s"))
        if self.get("message"):
            rows.append(("note", self["message"]))
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(str(k))}</th>"
            f"<td style='text-align:left'>{html.escape(str(v))}</td></tr>"
            for k, v in rows
            if v is not None  # a stopped workspace has no address: say nothing rather than "None"
        )
        return (
            f"<div class='lakelab-workspace'><b>workspace {html.escape(str(self.get('name')))}</b>"
            f"<table>{body}</table></div>"
        )


def _reload_ray_auth() -> None:
    """Make Ray re-read the auth mode and token from the environment: both are cached per
    process on first use, so a kernel switching workspaces would offer the old token."""
    try:
        # ray/_raylet.pyi declares only a few of the compiled module's classes; these exist at run time
        from ray._raylet import AuthenticationTokenLoader, Config  # type: ignore[attr-defined]
    except ImportError:  # an older Ray without token auth
        return
    Config.initialize("")  # refresh the config first, then drop the cached token
    AuthenticationTokenLoader.instance().reset_cache()


class Workspace:
    def __init__(self, name: str, manager: WorkspaceManager | None = None):
        self.name = workspace_name(name)
        self._manager = manager

    @property
    def manager(self) -> WorkspaceManager:
        if self._manager is None:
            self._manager = WorkspaceManager()
        return self._manager

    def __repr__(self) -> str:
        return f"<Workspace {self.name!r}>"

    def _repr_html_(self) -> str:
        return self.status()._repr_html_()

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any] | None:
        """In JupyterLab: live status with scale and stop (notebook/widgets/live.py)."""
        from lakelab.notebook.widgets import live

        if not live.widget_frontend():
            return None
        return live.bundle(live.WorkspaceWidget(self), self._repr_html_(), repr(self))

    def up(self, cpus: int | None = None, workers: int = 0, exist_ok: bool = True) -> WorkspaceStatus:
        """Start the workspace and wait until it is ready; a running one is re-used when
        `exist_ok` (so `lakelab lab --workspace NAME` and re-running a cell are harmless)."""
        if exist_ok and self.manager.store.exists(self.name) and self.manager.get(self.name).state == "running":
            return self.status()
        self.manager.create(self.name, cpus=cpus, workers=workers)
        return self.status()

    def status(self) -> WorkspaceStatus:
        return WorkspaceStatus(self.manager.status(self.name))

    def scale(self, workers: int) -> WorkspaceStatus:
        self.manager.scale(self.name, workers)
        return self.status()

    def stop(self) -> WorkspaceStatus:
        """Stop the cluster; the workspace is then forgotten, so its last status is returned."""
        if self.is_connected():
            import ray

            drivers.release()  # this kernel lets go by itself: the stop need not wait for it
            ray.shutdown()
        rec = self.manager.stop(self.name)
        return WorkspaceStatus({**rec.public(), "cluster": None})

    def connected(self) -> list[dict[str, Any]]:
        """The processes (notebook kernels) connected to this workspace: pid and kernel_id."""
        return self.manager.connected(self.name)

    def is_connected(self) -> bool:
        import ray

        if not ray.is_initialized():
            return False
        try:
            info = self.manager.connect_info(self.name)
        except Exception:  # noqa: BLE001 - gone or stopped: not connected to it
            return False
        return (
            os.environ.get("LAKELAB_WORKSPACE") == self.name
            and os.environ.get("LAKELAB_WORKSPACE_ADDRESS_CONNECTED") == info["address"]
        )

    def connect(self, **init_kwargs: Any) -> Workspace:
        """Make `ray` calls in this process run on the workspace. Reconnects if this
        kernel was connected to another cluster."""
        info = self.manager.connect_info(self.name)
        try:
            import ray
        except ImportError:
            raise Unavailable("ray is not installed in this kernel", hint="pip install 'lakelab[ray]'") from None
        if self.is_connected():
            return self
        if ray.is_initialized():
            drivers.release()
            ray.shutdown()
        if info["token_path"]:
            os.environ["RAY_AUTH_MODE"] = "token"
            os.environ["RAY_AUTH_TOKEN_PATH"] = info["token_path"]
            os.environ.pop("RAY_AUTH_TOKEN", None)
        _reload_ray_auth()
        init_kwargs.setdefault("log_to_driver", True)
        init_kwargs.setdefault("logging_level", "warning")
        started = time.monotonic()
        try:
            ray.init(address=info["address"], **init_kwargs)
        except ConnectionError as e:
            raise Unavailable(f"cannot connect to workspace {self.name!r} at {info['address']}: {e}") from None
        except Exception as e:
            if "version mismatch" in str(e).lower():  # Ray's own check: Python or Ray differ
                raise Conflict(
                    f"workspace {self.name!r} runs other Python or Ray versions than this kernel: "
                    f"{' '.join(str(e).split())[:400]}",
                    hint="use a kernel with the cluster's Python and Ray versions",
                ) from None
            if "auth" in str(e).lower() or "token" in str(e).lower():
                raise Conflict(
                    f"workspace {self.name!r} refused this kernel's token",
                    hint="restart the kernel (a process keeps the first Ray token it loaded)",
                ) from None
            raise
        os.environ["LAKELAB_WORKSPACE"] = self.name
        os.environ["LAKELAB_WORKSPACE_ADDRESS_CONNECTED"] = info["address"]
        drivers.register(self.manager.store, self.name)  # a stop disconnects this kernel cleanly
        from lakelab.notebook.notices import show_at_next_cell

        show_at_next_cell(drivers.take_notice)  # ...and the notebook says so
        self.connect_seconds = time.monotonic() - started
        self.versions = cluster_versions()
        differ = version_mismatch(local_versions(), self.versions)
        if differ:
            warnings.warn(f"workspace {self.name!r}: {differ}", stacklevel=2)
        return self


def _probe() -> Callable[[], dict[str, str]]:
    def versions() -> dict[str, str]:  # nested: Ray sends it by value, so a cluster needs no lakelab
        import platform

        import pyarrow
        import ray

        return {"Python": platform.python_version(), "Ray": ray.__version__, "pyarrow": pyarrow.__version__}

    return versions


def local_versions() -> dict[str, str]:
    """The versions that must match for data to pass between a kernel and a cluster."""
    return _probe()()


def cluster_versions(timeout_s: float = 60.0) -> dict[str, str]:
    """The versions a worker of the connected cluster runs ({} if none answers in time)."""
    import ray

    try:
        return ray.get(ray.remote(num_cpus=0)(_probe()).remote(), timeout=timeout_s)
    except (ray.exceptions.GetTimeoutError, ray.exceptions.RayError):
        return {}


def version_mismatch(kernel: dict[str, str], cluster: dict[str, str]) -> str | None:
    """One plain sentence naming each version that differs, or None."""
    differ = [
        f"{k} {cluster[k]} on the cluster, {v} in this kernel" for k, v in kernel.items() if cluster.get(k, v) != v
    ]
    if not differ:
        return None
    return (
        "versions differ: " + "; ".join(differ) + ". Tasks and data passed between them may fail; "
        "install the cluster's versions in this kernel (or start the workspace from this environment)"
    )

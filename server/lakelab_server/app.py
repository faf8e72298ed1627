"""The extension as a Jupyter Server ExtensionApp: settings and the Lakehouse built once at
load (`initialize_settings`), the route table (`initialize_handlers`), idle culling started
once the event loop runs (`_start_jupyter_server_extension`) and workspaces stopped when the
server stops (`stop_extension`, which ServerApp awaits from its cleanup on a signal or a
shutdown request). Handlers live in handlers/ (one module per resource)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from jupyter_server.utils import url_path_join
from tornado.ioloop import PeriodicCallback
from traitlets import Int, Unicode
from traitlets.config import Configurable

API_PREFIX = "lakelab/api/v1"


class LakelabSettings(Configurable):
    """Server-side settings of the lakelab extension (c.LakelabSettings.<trait> in
    jupyter_server_config.py, or --LakelabSettings.<trait>=... on the command line)."""

    config_file = Unicode(
        None,
        allow_none=True,
        config=True,
        help="lakelab config file to use; default: $LAKELAB_CONFIG, then $LAKELAB_HOME/config.yaml",
    )
    preview_default_rows = Int(100, config=True, help="rows a preview returns when the request gives no limit")
    preview_max_rows = Int(1000, config=True, help="largest preview limit a request may ask for")
    page_size_max = Int(1000, config=True, help="largest page_size / limit for listings and search")
    executor_threads = Int(4, config=True, help="threads running blocking catalog calls off the event loop")


def routes() -> list[tuple[Any, ...]]:
    """Every route of the API as (path under the API prefix, handler[, kwargs]), in the
    order they are matched; openapi.yaml documents exactly these (tests/server/test_openapi.py)."""
    from .handlers import catalog, dashboards, info, workspaces

    return [
        (r"info", info.InfoHandler),
        (r"namespaces", catalog.NamespacesHandler),
        (r"namespaces/(?P<namespace>[^/]+)/datasets", catalog.NamespaceDatasetsHandler),
        (r"search", catalog.SearchHandler),
        (r"fingerprint", catalog.FingerprintHandler),
        (r"datasets/(?P<name>[^/]+)", catalog.DatasetHandler),
        (r"datasets/(?P<name>[^/]+)/preview", catalog.PreviewHandler),
        (r"datasets/(?P<name>[^/]+)/snapshots", catalog.SnapshotsHandler),
        (r"datasets/(?P<name>[^/]+)/lineage", catalog.LineageHandler),
        (r"datasets/(?P<name>[^/]+)/usage", catalog.UsageHandler),
        (r"datasets/(?P<name>[^/]+)/metadata", catalog.MetadataHandler),
        (r"datasets/(?P<name>[^/]+)/versions", catalog.VersionsHandler),
        (r"datasets/(?P<name>[^/]+)/versions/(?P<version>[^/]+)/report", catalog.ReportHandler),
        *workspaces.ROUTES,
        *dashboards.ROUTES,
    ]


class LakelabExtension(ExtensionApp):
    """lakelab's server extension (enabled as `lakelab_server`)."""

    name = "lakelab_server"

    def initialize_settings(self) -> None:
        import lakelab
        from lakelab.config import load_config

        from .handlers.workspaces import build_manager

        settings = LakelabSettings(parent=self.serverapp)
        self.settings["lakelab_settings"] = settings
        self.settings["lakelab_executor"] = ThreadPoolExecutor(settings.executor_threads, thread_name_prefix="lakelab")
        self.settings["lakelab"] = None
        try:
            lh = lakelab.Lakehouse(load_config(settings.config_file))
            lh.catalog  # noqa: B018 - open it now: a broken config shows in the server log at start
            self.settings["lakelab"] = lh
        except lakelab.LakelabError as e:
            # keep serving: every request answers 503 with this message (and info still works)
            self.log.error("lakelab: cannot open the lakehouse: %s", e)
            self.settings["lakelab_error"] = e
        self.settings["workspace_manager"] = build_manager(settings, self.log)
        from .handlers.dashboards import view_only_connection

        # a live dashboard's kernel refuses code sent over any websocket (handlers/dashboards.py)
        base = self.serverapp.kernel_websocket_connection_class if self.serverapp else None
        if base is not None:
            self.settings["kernel_websocket_connection_class"] = view_only_connection(base)

    def initialize_handlers(self) -> None:
        from .handlers.base import UnknownRouteHandler

        for path, handler, *kwargs in routes():
            self.handlers.append((url_path_join(API_PREFIX, path) + "/?", handler, *kwargs))
        self.handlers.append((url_path_join(API_PREFIX, "(.*)"), UnknownRouteHandler))  # last: JSON 404s
        base = self.serverapp.base_url if self.serverapp else "/"
        self.log.info("lakelab: REST API at %s", url_path_join(base, API_PREFIX))

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        """Once the event loop runs: cull idle workspaces periodically."""
        manager = self.settings.get("workspace_manager")
        interval = float(getattr(manager.settings, "cull_interval_s", 60)) if manager else 0
        if manager is None or interval <= 0 or float(manager.settings.idle_timeout_s or 0) <= 0:
            return
        executor = self.settings["lakelab_executor"]

        async def cull() -> None:
            try:
                culled = await asyncio.get_running_loop().run_in_executor(executor, manager.cull_idle)
                for name in culled:
                    self.log.info("lakelab: stopped idle workspace %s", name)
            except Exception as e:  # noqa: BLE001 - a failed round must not stop later rounds
                self.log.warning("lakelab: idle culling failed: %s", e)

        self._culler = PeriodicCallback(cull, interval * 1000)
        self._culler.start()

    async def stop_extension(self) -> None:
        """The server is stopping: stop culling, stop the local workspaces it started (unless
        `workspaces.stop_on_shutdown` is off) and release the thread pool."""
        culler = getattr(self, "_culler", None)
        if culler is not None:
            culler.stop()
        manager = self.settings.get("workspace_manager")
        executor = self.settings.get("lakelab_executor")
        if manager is not None and getattr(manager.settings, "stop_on_shutdown", True):
            try:
                stopped = await asyncio.get_running_loop().run_in_executor(executor, manager.shutdown)
                if stopped:
                    self.log.info("lakelab: stopped workspaces %s with the server", stopped)
            except Exception as e:  # noqa: BLE001 - best effort: the next start reconciles what is left
                self.log.warning("lakelab: stopping workspaces failed: %s", e)
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)
        lh = self.settings.get("lakelab")
        if lh is not None:
            lh.close()

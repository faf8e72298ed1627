"""Dashboards: publish an open notebook, freshness, the pinned view (a version's stored page,
sandboxed like a report) and the live view (the version's notebook served by Voilà in a fresh
kernel whose inputs are pinned to the version's snapshots, or "latest").

The live kernel is view-only: `ViewOnlyKernels` marks it, and `view_only_connection` (installed
as the server's kernel websocket connection class) refuses code execution on marked kernels, so
a viewer's widgets work (comm messages) but an execute request is answered with an error."""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

from jupyter_server.utils import ensure_async
from tornado import web

from lakelab.datasets import dashboards
from lakelab.datasets.dataset import Dataset
from lakelab.errors import InvalidInput, Unsupported

from .base import JSONErrors, LakelabHandler
from .catalog import REPORT_CSP

# kernels started by a live view: code execution from any websocket is refused
VIEW_ONLY_KERNELS: set[str] = set()
REFUSED = ("execute_request", "debug_request")


def _version(text: str | None) -> int | None:
    if text in (None, "", "latest"):
        return None
    try:
        return int(str(text))
    except ValueError:
        raise InvalidInput(f"version must be a whole number, got {str(text)[:40]!r}") from None


class DashboardsHandler(LakelabHandler):
    @web.authenticated
    async def get(self) -> None:
        """Every dashboard's latest version and whether it is stale."""

        def work() -> list[dashboards.Freshness]:
            from lakelab.datasets.search import MAX_PAGE_SIZE, search

            found = search(self.lakehouse, kind="dashboard", limit=MAX_PAGE_SIZE)
            return [dashboards.freshness(Dataset(self.lakehouse, self.lakehouse.table_name(d["name"]))) for d in found]

        self.reply({"dashboards": await self.run(work)})

    @web.authenticated
    async def post(self) -> None:
        """Publish a notebook (a path under the server's root, as JupyterLab names it)."""
        body = self.json_body()
        notebook, name = body.get("notebook"), body.get("name")
        if not isinstance(notebook, str) or not isinstance(name, str) or not notebook or not name:
            raise InvalidInput("give notebook (a path under the server root) and name (namespace.name)")
        root = Path(self.settings["server_root_dir"]).expanduser().resolve()
        path = (root / notebook.lstrip("/")).resolve()
        if root not in path.parents:
            raise InvalidInput(f"notebook {notebook[:200]} is outside the server's root folder")

        def work() -> dashboards.Freshness:
            from lakelab.write.publish import publish

            ds = publish(self.lakehouse, str(path), name, kind="dashboard", description=body.get("description"))
            return dashboards.freshness(ds)

        self.reply(await self.run(work))


class DashboardHandler(LakelabHandler):
    @web.authenticated
    async def get(self, name: str) -> None:
        version = _version(self.str_arg("version", 40))
        ds = Dataset(self.lakehouse, self.lakehouse.table_name(name))
        self.reply(await self.run(lambda: dashboards.freshness(ds, version)))


class DashboardPageHandler(LakelabHandler):
    """The pinned view: a version's stored page, for a sandboxed frame (as reports are)."""

    @property
    def content_security_policy(self) -> str:
        return REPORT_CSP

    @web.authenticated
    async def get(self, name: str, version: str) -> None:
        n = _version(version)
        ds = Dataset(self.lakehouse, self.lakehouse.table_name(name))
        text = await self.run(lambda: dashboards.page_html(ds, n))
        self.set_header("Cache-Control", "private, no-cache")
        self.set_header("Referrer-Policy", "no-referrer")
        self.finish(text, set_content_type="text/html; charset=utf-8")


def _voila_handler() -> type:
    try:
        from voila.tornado.handler import TornadoVoilaHandler
    except ImportError:
        return JSONErrors
    return TornadoVoilaHandler


class _LiveKernels:
    """The server's kernel manager, except that kernels it starts for a live view get the
    pins in their environment and are marked view-only."""

    def __init__(self, km: Any, env: dict[str, str]):
        self._km, self._env = km, env

    async def start_kernel(self, **kwargs: Any) -> str:
        kwargs["env"] = {**(kwargs.get("env") or os.environ), **self._env}
        kernel_id = await ensure_async(self._km.start_kernel(**kwargs))
        VIEW_ONLY_KERNELS.add(kernel_id)
        return kernel_id

    def __getattr__(self, name: str) -> Any:
        return getattr(self._km, name)


class DashboardLiveHandler(_voila_handler()):  # type: ignore[misc]
    """The live view: `?version=N` (default the latest) and `?inputs=pinned|latest`."""

    def initialize(self, **kwargs: Any) -> None:
        self._ready = "voila_jinja2_env" in self.settings
        if not self._ready:
            return
        from voila.configuration import VoilaConfiguration
        from voila.paths import collect_template_paths

        conf = VoilaConfiguration(parent=self.settings.get("serverapp"))
        paths = collect_template_paths(["voila", "nbconvert"], conf.template)
        # Voilà's own templates first: an nbconvert template of the same name in the user's data
        # dir would otherwise win and render the page without running the kernel
        paths = sorted(paths, key=lambda p: "/voila/templates" not in p.replace(os.sep, "/"))
        super().initialize(config=self.settings.get("config"), template_paths=paths, voila_configuration=conf)

    @property
    def content_security_policy(self) -> str:
        return "frame-ancestors 'self'"

    @property
    def contents_manager(self) -> Any:
        return self._contents

    @property
    def kernel_manager(self) -> Any:
        return self._kernels

    @web.authenticated
    async def get(self, name: str) -> None:
        if not self._ready:
            raise Unsupported("the live view needs Voilà's server extension", hint="pip install 'voila>=0.5,<0.6'")
        lh = self.settings.get("lakelab")
        inputs = self.get_argument("inputs", "pinned")
        if inputs not in ("pinned", "latest"):
            raise InvalidInput(f"inputs must be pinned or latest, got {inputs[:40]!r}")
        ds = Dataset(lh, lh.table_name(name))
        version = _version(self.get_argument("version", None))

        def prepare() -> tuple[Path, dict[str, int]]:
            return dashboards.notebook_path(ds, version), dashboards.pins(ds, version) if inputs == "pinned" else {}

        loop = asyncio.get_running_loop()
        path, pins = await loop.run_in_executor(self.settings["lakelab_executor"], prepare)
        from jupyter_server.services.contents.filemanager import FileContentsManager

        from lakelab.engines.run_context import PINS_ENV

        self._contents = FileContentsManager(root_dir=str(path.parent))
        self._kernels = _LiveKernels(self.settings["kernel_manager"], {PINS_ENV: json.dumps(pins)})
        self.notebook_path = path.name
        async for html in self.get_generator(path=None):
            self.write(html)
            self.flush()

    def get_login_url(self) -> str:
        # not logged in: 403 as every lakelab route answers, never a redirect to the login page
        raise web.HTTPError(403)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        JSONErrors.write_error(self, status_code, **kwargs)

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        from lakelab.errors import LakelabError

        if isinstance(exc, LakelabError):
            status_code = exc.http_status
        super().send_error(status_code, **kwargs)


def view_only_connection(base: type) -> type:
    """The server's kernel websocket connection class, refusing code execution on live-view
    kernels: the request is not forwarded and the sender gets an error reply."""

    class ViewOnlyConnection(base):
        def handle_incoming_message(self, incoming_msg: Any) -> None:
            if self.kernel_id in VIEW_ONLY_KERNELS:
                msg, channel = _parse(self, incoming_msg)
                if msg is not None and msg.get("header", {}).get("msg_type") in REFUSED:
                    self._refuse(msg, channel)
                    return
            super().handle_incoming_message(incoming_msg)

        def _refuse(self, msg: dict[str, Any], channel: str) -> None:
            from jupyter_client.session import new_id, utcnow

            kind = msg["header"]["msg_type"].replace("_request", "_reply")
            reply = {
                "header": {
                    "msg_id": new_id(),
                    "msg_type": kind,
                    "session": msg["header"].get("session", ""),
                    "username": "lakelab",
                    "date": utcnow().isoformat(),
                    "version": "5.3",
                },
                "parent_header": msg["header"],
                "metadata": {},
                "content": {
                    "status": "error",
                    "ename": "PermissionError",
                    "evalue": "this dashboard is view-only: its kernel runs no code sent by a viewer",
                    "traceback": [],
                },
                "channel": channel,
                "buffers": [],
            }
            self.log.warning("lakelab: refused %s on view-only kernel %s", msg["header"]["msg_type"], self.kernel_id)
            if self.subprotocol == "v1.kernel.websocket.jupyter.org":
                from jupyter_server.services.kernels.connection.base import serialize_msg_to_ws_v1

                self.websocket_handler.write_message(
                    serialize_msg_to_ws_v1([json.dumps(p).encode() for p in _parts(reply)], channel), binary=True
                )
            else:
                self.websocket_handler.write_message(json.dumps(reply))

    return ViewOnlyConnection


def _parts(msg: dict[str, Any]) -> list[dict[str, Any]]:
    return [msg["header"], msg["parent_header"], msg["metadata"], msg["content"]]


def _parse(conn: Any, incoming: Any) -> tuple[dict[str, Any] | None, str]:
    try:
        if conn.subprotocol == "v1.kernel.websocket.jupyter.org":
            from jupyter_server.services.kernels.connection.base import deserialize_msg_from_ws_v1

            channel, parts = deserialize_msg_from_ws_v1(incoming)
            return {"header": json.loads(parts[0])}, channel
        msg = json.loads(incoming)
        return msg, msg.get("channel", "shell")
    except (ValueError, IndexError, TypeError, AttributeError):
        return None, "shell"


ROUTES = [
    (r"dashboards", DashboardsHandler),
    (r"dashboards/(?P<name>[^/]+)", DashboardHandler),
    (r"dashboards/(?P<name>[^/]+)/versions/(?P<version>[^/]+)/page", DashboardPageHandler),
    (r"dashboards/(?P<name>[^/]+)/live", DashboardLiveHandler),
]

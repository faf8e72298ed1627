"""REST for Ray workspaces under /lakelab/api/v1/workspaces, and the Ray dashboard proxy.

Handlers stay thin: they read the request, call the one WorkspaceManager (built once at
extension load, `build_manager`) in the extension's thread pool, and reply; errors become
JSON 4xx in handlers/base.py. The dashboard proxy is jupyter-server-proxy's ProxyHandler
(HTTP and websockets): Jupyter authenticates the caller, the server adds the workspace's
Ray token as `X-Ray-Authorization` on the way in, so the browser never sees it.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote, urlsplit

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.utils import url_path_join
from jupyter_server_proxy.handlers import ProxyHandler
from tornado import web
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from lakelab.errors import InvalidInput, Unavailable
from lakelab.workspaces import WorkspaceManager

from .base import JSONErrors, LakelabHandler

API_PREFIX = "lakelab/api/v1"  # as app.API_PREFIX (not imported: app imports this module)
# request headers that are the browser's credentials for Jupyter, never Ray's business
DROP_REQUEST_HEADERS = ("Authorization", "Cookie", "X-XSRFToken", "X-Ray-Authorization")


def manager_of(handler: JupyterHandler) -> WorkspaceManager:
    mgr = handler.settings.get("workspace_manager")
    if mgr is None:
        raise Unavailable(
            "the workspace manager is not running in this server",
            hint="see the Jupyter server log for the workspaces configuration problem",
        )
    return mgr


class WorkspaceBase(LakelabHandler):
    @property
    def manager(self) -> WorkspaceManager:
        return manager_of(self)

    def limits(self) -> dict[str, Any]:
        s = self.manager.settings
        return {
            "backend": s.backend,
            "max_workers": s.max_workers,
            "max_cpus_per_node": s.max_cpus_per_node,
            "idle_timeout_s": s.idle_timeout_s,
            "max_workspaces_per_user": getattr(s, "max_workspaces_per_user", 4),
        }

    async def connected(self, name: str) -> list[dict[str, Any]]:
        """The kernels connected to the workspace, each with the notebook of its session
        (None for a process this server did not start: another server, a script)."""
        procs = await self.run(self.manager.connected, name)
        paths: dict[str, str] = {}
        if procs:
            for session in await self.session_manager.list_sessions():
                paths.setdefault(session["kernel"]["id"], session["path"])
        return [{**p, "notebook": paths.get(p["kernel_id"] or "")} for p in procs]


class WorkspacesHandler(WorkspaceBase):
    @web.authenticated
    async def get(self) -> None:
        records = await self.run(self.manager.list)
        self.reply({"workspaces": [r.public() for r in records], "limits": self.limits()})

    @web.authenticated
    async def post(self) -> None:
        body = self.json_body()
        unknown = set(body) - {"name", "cpus", "workers"}
        if unknown:
            raise InvalidInput(f"unknown field(s) {sorted(unknown)}", hint="send name, cpus, workers")
        if not isinstance(body.get("name"), str):
            raise InvalidInput("name is required: the workspace's name as text")
        rec = await self.run(self.manager.create, body["name"], cpus=body.get("cpus"), workers=body.get("workers", 0))
        self.reply(rec.public(), status=201)


class WorkspaceHandler(WorkspaceBase):
    @web.authenticated
    async def get(self, name: str) -> None:
        status = await self.run(self.manager.status, name)
        self.reply({**status, "connected": await self.connected(name)})

    @web.authenticated
    async def delete(self, name: str) -> None:
        connected = await self.connected(name)  # the stop disconnects them first
        rec = await self.run(self.manager.stop, name)
        self.reply({"name": rec.name, "state": rec.state, "disconnected": connected})


class ScaleHandler(WorkspaceBase):
    @web.authenticated
    async def post(self, name: str) -> None:
        body = self.json_body()
        if "workers" not in body:
            raise InvalidInput("workers is required: the number of worker nodes wanted")
        rec = await self.run(self.manager.scale, name, body["workers"])
        self.reply(rec.public())


class LogsHandler(WorkspaceBase):
    @web.authenticated
    async def get(self, name: str) -> None:
        lines = self.int_arg("lines", 200, 1, 10_000)
        self.reply({"name": name, "lines": await self.run(self.manager.logs, name, lines)})


class DashboardRedirectHandler(WorkspaceBase):
    """The dashboard's pages use relative links: it must be opened with a trailing slash."""

    @web.authenticated
    def get(self, name: str) -> None:
        self.redirect(self.request.path.rstrip("/") + "/", permanent=False)


class DashboardProxyHandler(JSONErrors, ProxyHandler):
    """The workspace's Ray dashboard (pages, its JSON API, websockets such as a job's log
    tail), proxied by jupyter-server-proxy.

    ProxyHandler.prepare authenticates every request (a websocket upgrade without a Jupyter
    user gets 403); the workspace is looked up before anything is forwarded, so an unknown
    or stopped one is a JSON 404/409. Jupyter's credentials (token header, cookies, XSRF
    header) are dropped and the Ray token is added as `X-Ray-Authorization: Bearer …`
    (Ray's header for proxies) on the way in; cookies Ray sets are dropped on the way out.
    Unlike ProxyHandler, a POST from a browser session needs Jupyter's XSRF token, like any
    other write to this server. GET and POST only, as openapi.yaml documents."""

    SUPPORTED_METHODS = ("GET", "POST")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # jupyter-server-proxy passes a rewrite function the arguments it names: `response` here
        self.rewrite_response = (lambda response: self._server_side_only(response),)
        self.host_allowlist = self._is_the_dashboard
        self._dashboard = urlsplit("")
        self._ray_token: str | None = None

    async def prepare(self, *args: Any, **kwargs: Any) -> None:
        await super().prepare(*args, **kwargs)
        name = self.path_kwargs["name"]
        url, self._ray_token = await self.run(manager_of(self).dashboard, name)
        self._dashboard = urlsplit(url)
        # where the dashboard is mounted, for its redirects and X-Forwarded-Prefix
        self.proxy_base = url_path_join(API_PREFIX, "workspaces", quote(name, safe=""), "dashboard")

    def check_xsrf_cookie(self) -> None:
        # ProxyHandler leaves XSRF to the proxied app; Ray's dashboard has none, so Jupyter checks
        return JupyterHandler.check_xsrf_cookie(self)

    # -- what is forwarded ----------------------------------------------------------------
    def _is_the_dashboard(self, _handler: Any, host: str) -> bool:
        return host == self._dashboard.hostname

    def proxy_request_headers(self) -> Any:
        """The caller's headers minus its Jupyter credentials, plus the workspace's Ray token."""
        headers = self.request.headers.copy()
        for name in DROP_REQUEST_HEADERS:
            headers.pop(name, None)
        if self._ray_token:
            headers["X-Ray-Authorization"] = f"Bearer {self._ray_token}"
        return headers

    def get_client_uri(self, protocol: str, host: str, port: Any, proxied_path: str) -> str:
        """The dashboard's own URL (scheme, host, port and any path it is mounted under) + the path."""
        d = self._dashboard
        secure = d.scheme == "https"
        scheme = ("wss" if secure else "ws") if protocol == "ws" else ("https" if secure else "http")
        path = quote(d.path.rstrip("/") + "/" + proxied_path.lstrip("/"), safe=":/?#[]@!$&'()*+,;=-._~")
        return f"{scheme}://{d.netloc}{path}" + (f"?{self.request.query}" if self.request.query else "")

    def _server_side_only(self, response: Any) -> None:
        """Ray's answer, minus any cookie it sets (the token cookie of /api/authenticate) and
        with Jupyter's page policy (frame-ancestors) in place of whatever Ray sent."""
        for header in ("Set-Cookie", "Content-Security-Policy"):
            if header in response.headers:
                del response.headers[header]
        response.headers["Content-Security-Policy"] = self.content_security_policy

    # -- HTTP and websocket entry points ---------------------------------------------------
    async def _forward(self, path: str) -> None:
        d = self._dashboard
        try:
            await self.proxy(d.hostname, d.port or (443 if d.scheme == "https" else 80), path)
        except web.HTTPError as e:
            if e.status_code != 599:
                raise
            raise Unavailable(f"the dashboard of workspace {self.path_kwargs['name']!r} did not answer") from None
        except OSError:
            raise Unavailable(f"the dashboard of workspace {self.path_kwargs['name']!r} did not answer") from None

    async def http_get(self, name: str, path: str) -> None:
        await self._forward(path)

    async def post(self, name: str, path: str) -> None:
        await self._forward(path)

    async def open(self, name: str, path: str) -> None:
        """Connect to the dashboard's websocket and relay messages back (ProxyHandler relays
        the other way). Not ProxyHandler.proxy_open: that one always offers permessage-deflate
        to the backend, and with it Ray's dashboard (aiohttp) closes a job's log tail without
        sending a line; this connects uncompressed."""
        d = self._dashboard
        url = self.get_client_uri("ws", d.hostname or "", d.port, path)

        def relay(message: str | bytes | None) -> None:
            self._record_activity()
            if message is None:
                self.close()
            else:
                self.write_message(message, binary=isinstance(message, bytes))

        request = HTTPRequest(url, headers=self.proxy_request_headers(), connect_timeout=60)
        self.ws = await websocket_connect(request, on_message_callback=relay, subprotocols=self._requested_subprotocols)


_NAME = r"(?P<name>[^/]+)"
ROUTES = [
    (r"workspaces", WorkspacesHandler),
    (rf"workspaces/{_NAME}/dashboard/(?P<path>.*)", DashboardProxyHandler),
    (rf"workspaces/{_NAME}/dashboard", DashboardRedirectHandler),
    (rf"workspaces/{_NAME}/scale", ScaleHandler),
    (rf"workspaces/{_NAME}/logs", LogsHandler),
    (rf"workspaces/{_NAME}", WorkspaceHandler),
]


def build_manager(settings: Any, log: logging.Logger) -> WorkspaceManager | None:
    """The one WorkspaceManager of this server, with what a previous server left running
    reconciled; None (and the reason in the log) when workspaces are misconfigured, so the
    rest of the API keeps working and workspace routes answer 503."""
    from lakelab.config import load_config

    try:
        cfg = load_config(getattr(settings, "config_file", None))
        manager = WorkspaceManager(cfg.workspaces, root=cfg.home / "workspaces")
        for rec in manager.reconcile():
            log.info("lakelab: workspace %s is %s", rec.name, rec.state)
    except Exception as e:  # noqa: BLE001 - a broken workspaces setup must not take the catalog API down
        log.error("lakelab: workspaces unavailable: %s", e)
        return None
    return manager

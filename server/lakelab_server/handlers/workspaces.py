"""REST for Ray workspaces under /lakelab/api/v1/workspaces, and the Ray dashboard proxy.

Handlers stay thin: they read the request, call the one WorkspaceManager (built once in
`setup`) in the extension's thread pool, and reply; errors become 4xx in the base class.
The dashboard proxy adds the workspace's Ray token server-side, so the browser never sees
it, and it lives under the server's base_url like every other route.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
from typing import Any

from jupyter_server.base.handlers import APIHandler
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.ioloop import PeriodicCallback

from lakelab.errors import InvalidInput
from lakelab.workspaces import WorkspaceManager

from .base import LakelabHandler

log = logging.getLogger("lakelab.workspaces")
SETTINGS_KEY = "lakelab_workspaces"
# response headers worth passing back from the dashboard (not hop-by-hop, not encoding:
# tornado's client already decompressed the body)
PASS_HEADERS = ("Cache-Control", "ETag", "Last-Modified", "Expires")


class WorkspaceBase(LakelabHandler):
    @property
    def manager(self) -> WorkspaceManager:
        mgr = self.settings.get(SETTINGS_KEY)
        if mgr is None:
            from lakelab.errors import Unavailable

            raise Unavailable(
                "the workspace manager is not running in this server",
                hint="see the Jupyter server log for the workspaces configuration problem",
            )
        return mgr

    def limits(self) -> dict[str, Any]:
        s = self.manager.settings
        return {
            "backend": s.backend,
            "max_workers": s.max_workers,
            "max_cpus_per_node": s.max_cpus_per_node,
            "idle_timeout_s": s.idle_timeout_s,
            "max_workspaces_per_user": getattr(s, "max_workspaces_per_user", 4),
        }


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
        self.reply(await self.run(self.manager.status, name))

    @web.authenticated
    async def delete(self, name: str) -> None:
        rec = await self.run(self.manager.stop, name)
        self.reply({"name": rec.name, "state": rec.state})


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


class DashboardProxyHandler(WorkspaceBase):
    @property
    def content_security_policy(self) -> str:
        # the dashboard is a page with scripts, not an API answer: Jupyter's page policy,
        # not APIHandler's "default-src 'none'"
        return super(APIHandler, self).content_security_policy

    async def _forward(self, name: str, path: str) -> None:
        base, token = await self.run(self.manager.dashboard, name)
        target = f"{base}/{path.lstrip('/')}"
        if self.request.query:
            target += "?" + self.request.query
        headers = {"Accept": self.request.headers.get("Accept", "*/*")}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if self.request.headers.get("Content-Type"):
            headers["Content-Type"] = self.request.headers["Content-Type"]
        body = self.request.body if self.request.method in ("POST", "PUT", "PATCH") else None
        resp = await AsyncHTTPClient().fetch(
            HTTPRequest(
                target,
                method=self.request.method,
                headers=headers,
                body=body,
                follow_redirects=False,
                request_timeout=60,
                allow_nonstandard_methods=True,
            ),
            raise_error=False,
        )
        if resp.code == 599:  # no answer at all
            from lakelab.errors import Unavailable

            raise Unavailable(f"the dashboard of workspace {name!r} did not answer")
        self.set_status(resp.code)
        for h in PASS_HEADERS:
            if h in resp.headers:
                self.set_header(h, resp.headers[h])
        location = resp.headers.get("Location")
        if location and "://" not in location:  # keep relative redirects inside the proxy
            self.set_header("Location", location)
        # APIHandler.finish would otherwise label every page application/json
        self.finish(resp.body or b"", set_content_type=resp.headers.get("Content-Type", "application/octet-stream"))

    @web.authenticated
    async def get(self, name: str, path: str) -> None:
        await self._forward(name, path)

    @web.authenticated
    async def post(self, name: str, path: str) -> None:
        await self._forward(name, path)


_NAME = r"(?P<name>[^/]+)"
ROUTES = [
    (r"workspaces", WorkspacesHandler),
    (rf"workspaces/{_NAME}/dashboard/(?P<path>.*)", DashboardProxyHandler),
    (rf"workspaces/{_NAME}/dashboard", DashboardRedirectHandler),
    (rf"workspaces/{_NAME}/scale", ScaleHandler),
    (rf"workspaces/{_NAME}/logs", LogsHandler),
    (rf"workspaces/{_NAME}", WorkspaceHandler),
]


# The routes above as OpenAPI 3.1 `paths` (relative to /lakelab/api/v1), to merge into
# openapi.yaml; tests/workspaces/rest checks the answers against it.
OPENAPI_PATHS_YAML = """
/workspaces:
  get:
    operationId: listWorkspaces
    summary: every workspace record (running, stopped by culling, failed) and the configured limits
    responses:
      "200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/WorkspaceList"}}}}
      "403": {$ref: "#/components/responses/Forbidden"}
  post:
    operationId: createWorkspace
    summary: start (or restart a stopped/failed) workspace and wait until all its nodes joined
    requestBody:
      required: true
      content:
        application/json:
          schema:
            type: object
            additionalProperties: false
            required: [name]
            properties:
              name: {type: string, maxLength: 40, pattern: "^[A-Za-z_][A-Za-z0-9_]*$"}
              cpus: {type: integer, minimum: 1, description: "CPUs per node, at most workspaces.max_cpus_per_node"}
              workers: {type: integer, minimum: 0, description: "worker nodes, at most workspaces.max_workers"}
    responses:
      "201": {description: running, content: {application/json: {schema: {$ref: "#/components/schemas/Workspace"}}}}
      "400": {$ref: "#/components/responses/BadInput"}
      "403": {$ref: "#/components/responses/Forbidden"}
      "409": {description: already running, or the per-user limit is reached,
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
      "503": {$ref: "#/components/responses/Unavailable"}
/workspaces/{name}:
  parameters: [{name: name, in: path, required: true, schema: {type: string, maxLength: 40}}]
  get:
    operationId: getWorkspace
    summary: the record plus live cluster figures (nodes, CPUs, memory, running tasks and drivers)
    responses:
      "200": {description: ok, content: {application/json: {schema: {$ref: "#/components/schemas/WorkspaceStatus"}}}}
      "400": {$ref: "#/components/responses/BadInput"}
      "403": {$ref: "#/components/responses/Forbidden"}
      "404": {$ref: "#/components/responses/NotFound"}
  delete:
    operationId: deleteWorkspace
    summary: stop every process of the workspace (and no other) and forget its record
    responses:
      "200": {description: stopped, content: {application/json: {schema: {type: object, properties: {name: {type: string}, state: {type: string}}}}}}
      "400": {$ref: "#/components/responses/BadInput"}
      "403": {$ref: "#/components/responses/Forbidden"}
      "404": {$ref: "#/components/responses/NotFound"}
/workspaces/{name}/scale:
  parameters: [{name: name, in: path, required: true, schema: {type: string, maxLength: 40}}]
  post:
    operationId: scaleWorkspace
    summary: add or remove worker nodes until there are `workers`
    requestBody:
      required: true
      content: {application/json: {schema: {type: object, required: [workers], properties: {workers: {type: integer, minimum: 0}}}}}
    responses:
      "200": {description: scaled, content: {application/json: {schema: {$ref: "#/components/schemas/Workspace"}}}}
      "400": {$ref: "#/components/responses/BadInput"}
      "403": {$ref: "#/components/responses/Forbidden"}
      "404": {$ref: "#/components/responses/NotFound"}
      "409": {description: not running, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
      "422": {description: an attached cluster cannot be scaled, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
/workspaces/{name}/logs:
  parameters: [{name: name, in: path, required: true, schema: {type: string, maxLength: 40}}]
  get:
    operationId: workspaceLogs
    summary: the last lines of the workspace's node logs, each prefixed with [head] / [worker-N]
    parameters: [{name: lines, in: query, schema: {type: integer, minimum: 1, maximum: 10000, default: 200}}]
    responses:
      "200": {description: ok, content: {application/json: {schema: {type: object, properties: {name: {type: string}, lines: {type: array, items: {type: string}}}}}}}
      "400": {$ref: "#/components/responses/BadInput"}
      "403": {$ref: "#/components/responses/Forbidden"}
      "404": {$ref: "#/components/responses/NotFound"}
/workspaces/{name}/dashboard/{path}:
  parameters:
    - {name: name, in: path, required: true, schema: {type: string, maxLength: 40}}
    - {name: path, in: path, required: true, schema: {type: string}}
  get:
    operationId: workspaceDashboard
    summary: the Ray dashboard, proxied; the Ray token is added server-side and never sent to the browser.
      Open it with a trailing slash (`.../dashboard/`); without one the server redirects.
    responses:
      "200": {description: the dashboard's own answer (HTML, JS, JSON)}
      "403": {$ref: "#/components/responses/Forbidden"}
      "404": {$ref: "#/components/responses/NotFound"}
      "409": {description: the workspace is not running, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
  post:
    operationId: workspaceDashboardPost
    summary: a POST to the Ray dashboard's API (e.g. job submission), proxied with the token added server-side.
      A write like any other - a browser session needs the XSRF header, which the dashboard's own page does not send.
    responses:
      "200": {description: "the dashboard's own answer"}
      "403": {$ref: "#/components/responses/Forbidden"}
      "404": {$ref: "#/components/responses/NotFound"}
      "409": {description: the workspace is not running, content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
components:
  schemas:
    Workspace:
      type: object
      required: [name, backend, state]
      properties:
        name: {type: string}
        backend: {type: string, enum: [local, attach]}
        state: {type: string, enum: [pending, running, stopping, stopped, failed]}
        owner: {type: string}
        cpus_per_node: {type: integer}
        workers: {type: integer}
        address: {type: [string, "null"]}
        created_at: {type: number}
        started_at: {type: [number, "null"]}
        uptime_s: {type: [number, "null"]}
        idle_s: {type: [number, "null"]}
        has_dashboard: {type: boolean}
        message: {type: [string, "null"], description: why it failed or was stopped}
    WorkspaceStatus:
      allOf:
        - {$ref: "#/components/schemas/Workspace"}
        - type: object
          properties:
            cluster:
              type: [object, "null"]
              properties:
                node_count: {type: integer}
                cpus: {type: number}
                memory_bytes: {type: integer}
                object_store_bytes: {type: integer}
                running_tasks: {type: integer}
                running_jobs: {type: integer}
                nodes: {type: array, items: {type: object}}
    WorkspaceList:
      type: object
      properties:
        workspaces: {type: array, items: {$ref: "#/components/schemas/Workspace"}}
        limits: {type: object}
"""


def setup(server_app) -> WorkspaceManager | None:
    """Build the manager once, reconcile what a previous server left running, cull idle
    workspaces periodically, and stop local workspaces when the server stops."""
    from lakelab.config import load_config

    web_app = server_app.web_app
    try:
        lakelab_settings = web_app.settings.get("lakelab_settings")
        cfg = load_config(getattr(lakelab_settings, "config_file", None))
        manager = WorkspaceManager(cfg.workspaces, root=cfg.home / "workspaces")
        for rec in manager.reconcile():
            server_app.log.info("lakelab: workspace %s is %s", rec.name, rec.state)
    except Exception as e:  # noqa: BLE001 - the rest of the API must keep working
        server_app.log.error("lakelab: workspaces unavailable: %s", e)
        web_app.settings[SETTINGS_KEY] = None
        return None
    web_app.settings[SETTINGS_KEY] = manager
    web_app.settings["workspace_manager"] = manager  # what the info handler reports

    interval = float(getattr(manager.settings, "cull_interval_s", 60))
    executor = web_app.settings.get("lakelab_executor")

    async def cull() -> None:
        try:
            culled = await asyncio.get_running_loop().run_in_executor(executor, manager.cull_idle)
            for name in culled:
                server_app.log.info("lakelab: stopped idle workspace %s", name)
        except Exception as e:  # noqa: BLE001 - a failed round must not stop later rounds
            server_app.log.warning("lakelab: idle culling failed: %s", e)

    if interval > 0 and float(manager.settings.idle_timeout_s or 0) > 0:
        callback = PeriodicCallback(cull, interval * 1000)
        callback.start()
        web_app.settings["lakelab_workspaces_culler"] = callback

    if getattr(manager.settings, "stop_on_shutdown", True):
        _stop_on_shutdown(server_app, manager)
    return manager


def _stop_on_shutdown(server_app, manager: WorkspaceManager) -> None:
    """A module extension has no stop hook, so chain onto the server's own cleanup (awaited
    when it stops on a signal or from the UI); atexit covers other exits."""
    done = {"stopped": False}

    def stop_all() -> None:
        if done["stopped"]:
            return
        done["stopped"] = True
        try:
            stopped = manager.shutdown()
            if stopped:
                log.info("lakelab: stopped workspaces %s with the server", stopped)
        except Exception as e:  # noqa: BLE001 - best effort at exit
            log.warning("lakelab: stopping workspaces failed: %s", e)

    original = server_app.cleanup_extensions

    async def cleanup_extensions() -> None:
        try:
            await original()
        finally:
            await asyncio.get_running_loop().run_in_executor(None, stop_all)

    server_app.cleanup_extensions = cleanup_extensions
    atexit.register(stop_all)

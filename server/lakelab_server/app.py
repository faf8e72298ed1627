"""Building the extension at server start: settings, the Lakehouse, the thread pool and the
route table. Handlers live in handlers/ (one module per resource)."""

from __future__ import annotations

import importlib
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from jupyter_server.utils import url_path_join
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


def _core_routes() -> list[tuple[str, Any]]:
    from .handlers import catalog, info

    return [
        (r"info", info.InfoHandler),
        (r"namespaces", catalog.NamespacesHandler),
        (r"namespaces/(?P<namespace>[^/]+)/datasets", catalog.NamespaceDatasetsHandler),
        (r"search", catalog.SearchHandler),
        (r"datasets/(?P<name>[^/]+)", catalog.DatasetHandler),
        (r"datasets/(?P<name>[^/]+)/preview", catalog.PreviewHandler),
        (r"datasets/(?P<name>[^/]+)/snapshots", catalog.SnapshotsHandler),
        (r"datasets/(?P<name>[^/]+)/lineage", catalog.LineageHandler),
        (r"datasets/(?P<name>[^/]+)/metadata", catalog.MetadataHandler),
        (r"datasets/(?P<name>[^/]+)/versions", catalog.VersionsHandler),
        (r"datasets/(?P<name>[^/]+)/versions/(?P<version>[^/]+)/report", catalog.ReportHandler),
    ]


def _extra_routes(server_app) -> list[tuple[str, Any]]:
    """Routes of optional resource modules (workspaces): each exports ROUTES, a list of
    (path under the API prefix, handler) pairs, and may define setup(server_app) to put
    its manager into web_app.settings."""
    try:
        mod = importlib.import_module("lakelab_server.handlers.workspaces")
    except ImportError as e:
        server_app.log.info("lakelab: workspaces API not available (%s)", e)
        return []
    hook = getattr(mod, "setup", None)
    if hook:
        hook(server_app)
    return list(getattr(mod, "ROUTES", []))


def setup(server_app) -> None:
    import lakelab
    from lakelab.config import load_config

    web_app = server_app.web_app
    settings = LakelabSettings(parent=server_app)
    web_app.settings["lakelab_settings"] = settings
    web_app.settings["lakelab_executor"] = ThreadPoolExecutor(settings.executor_threads, thread_name_prefix="lakelab")
    try:
        lh = lakelab.Lakehouse(load_config(settings.config_file))
        lh.catalog  # noqa: B018 - open it now: a broken config shows in the server log at start
        web_app.settings["lakelab"] = lh
    except lakelab.LakelabError as e:
        # keep serving: every request answers 503 with this message (and info still works)
        server_app.log.error("lakelab: cannot open the lakehouse: %s", e)
        web_app.settings["lakelab"] = None
        web_app.settings["lakelab_error"] = e

    base = web_app.settings["base_url"]
    routes = []
    for entry in _core_routes() + _extra_routes(server_app):
        path, handler, *kwargs = entry
        routes.append((url_path_join(base, API_PREFIX, path) + "/?", handler, *kwargs))
    from .handlers.base import UnknownRouteHandler

    routes.append((url_path_join(base, API_PREFIX, "(.*)"), UnknownRouteHandler))  # last: JSON 404s
    web_app.add_handlers(".*$", routes)
    server_app.log.info("lakelab: REST API at %s", url_path_join(base, API_PREFIX))

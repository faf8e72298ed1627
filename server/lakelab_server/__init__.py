"""lakelab's Jupyter Server extension: the REST API under /lakelab/api/v1/, the workspace
manager and the Ray dashboard proxy. The extension is an ExtensionApp (app.py), so the
server calls its documented start and stop hooks."""

from __future__ import annotations

__version__ = "0.1.0"


def _jupyter_server_extension_points():
    from .app import LakelabExtension

    return [{"module": "lakelab_server", "app": LakelabExtension}]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "lakelab"}]

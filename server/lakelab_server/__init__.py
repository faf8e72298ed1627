"""lakelab's Jupyter Server extension: the REST API under /lakelab/api/v1/ and the workspace manager."""

from __future__ import annotations

__version__ = "0.1.0"


def _jupyter_server_extension_points():
    return [{"module": "lakelab_server"}]


def _jupyter_labextension_paths():
    return [{"src": "labextension", "dest": "lakelab"}]


def _load_jupyter_server_extension(server_app) -> None:
    from .app import setup

    setup(server_app)

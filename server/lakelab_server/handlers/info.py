"""GET info: the frontend's version handshake and what is configured (never secrets)."""

from __future__ import annotations

from tornado import web

from .base import LakelabHandler


class InfoHandler(LakelabHandler):
    @web.authenticated
    async def get(self) -> None:
        import lakelab

        from .. import __version__

        lh = self.settings.get("lakelab")
        err = self.settings.get("lakelab_error")
        self.reply(
            {
                "api_version": "v1",
                "server_version": __version__,
                "library_version": lakelab.__version__,
                "status": "ok" if lh is not None else "unavailable",
                "problem": str(err) if err else None,
                "config": lh.config.public() if lh is not None else None,
                "engines": (["duckdb", "trino"] if lh.config.trino else ["duckdb"]) if lh is not None else [],
                "workspaces_api": self.settings.get("workspace_manager") is not None,
                "limits": {
                    "preview_max_rows": self.lakelab_settings.preview_max_rows,
                    "page_size_max": self.lakelab_settings.page_size_max,
                },
            }
        )

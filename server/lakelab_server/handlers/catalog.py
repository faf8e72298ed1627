"""Catalog browsing: namespaces, datasets (detail, preview, snapshots, lineage, metadata)
and search. Each handler parses its input, calls lakelab.datasets in a thread and replies
with the library's own value (serialised in one place: base.LakelabHandler.reply)."""

from __future__ import annotations

from typing import Any

from tornado import web

from lakelab.catalog.index import index_for
from lakelab.datasets import browse, search
from lakelab.datasets.dataset import MAX_LINEAGE_DEPTH, Dataset
from lakelab.errors import InvalidInput

from ..serialize import arrow_preview
from .base import LakelabHandler


class NamespacesHandler(LakelabHandler):
    @web.authenticated
    async def get(self) -> None:
        parent = self.str_arg("parent")
        items = await self.run(search.list_namespaces, self.lakehouse, parent)
        self.reply({"parent": parent, "namespaces": items})


class NamespaceDatasetsHandler(LakelabHandler):
    @web.authenticated
    async def get(self, namespace: str) -> None:
        size = self.int_arg("page_size", 100, 1, self.lakelab_settings.page_size_max)
        token = self.str_arg("page_token", 2000)
        page = await self.run(search.list_datasets, self.lakehouse, namespace, page_size=size, page_token=token)
        self.reply(page)


class SearchHandler(LakelabHandler):
    @web.authenticated
    async def get(self) -> None:
        limit = self.int_arg("limit", 100, 1, self.lakelab_settings.page_size_max)
        args = {k: self.str_arg(k) for k in ("kind", "owner", "tag", "namespace")}
        query = self.str_arg("q")
        want_facets = self.str_arg("facets", 10) in ("1", "true")

        def work():
            found = search.search(self.lakehouse, query, limit=limit, **args)
            body: dict[str, Any] = {"query": query, "datasets": list(found)}
            if found.corrected:
                body["corrected"] = found.corrected
            if want_facets:  # counted over what was searched: the corrected words, the same filters
                body["facets"] = search.facets(self.lakehouse, found.searched or query, **args)
            return body

        self.reply(await self.run(work))


class FingerprintHandler(LakelabHandler):
    """A value that changes when the catalog's datasets change: the sidebar polls it
    and reloads only when it moved."""

    @web.authenticated
    async def get(self) -> None:
        self.reply({"fingerprint": await self.run(lambda: index_for(self.lakehouse).fingerprint())})


class DatasetResource(LakelabHandler):
    def dataset(self, name: str) -> Dataset:
        return Dataset(self.lakehouse, self.lakehouse.table_name(name))


class DatasetHandler(DatasetResource):
    @web.authenticated
    async def get(self, name: str) -> None:
        detail = await self.run(lambda: self.dataset(name).describe())
        self.reply(detail)


class PreviewHandler(DatasetResource):
    """Rows of a dataset: the first ones (a bounded scan), or any page sorted by a column and
    read from an offset on the server (datasets/browse.py); null counts per column on request."""

    @web.authenticated
    async def get(self, name: str) -> None:
        s = self.lakelab_settings
        limit = self.int_arg("limit", min(s.preview_default_rows, s.preview_max_rows), 0, s.preview_max_rows)
        offset = self.int_arg("offset", 0, 0, 2**62)
        columns = self.str_arg("columns", 2000)
        sort, order = self.str_arg("sort", 500), self.str_arg("order", 10)
        snapshot_id, as_of = self.str_arg("snapshot_id", 40), self.str_arg("as_of", 60)
        want_nulls = self.str_arg("null_counts", 10) in ("1", "true")
        if columns is not None and not columns.strip(","):
            raise InvalidInput("columns is empty", hint="give column names separated by commas")
        if order not in (None, "asc", "desc"):
            raise InvalidInput(f"order must be asc or desc, got {order[:20]!r}")
        if (offset or sort) and (columns or as_of):
            raise InvalidInput(
                "offset and sort read whole rows of a snapshot", hint="use snapshot_id, not columns/as_of"
            )

        def work():
            d = self.dataset(name)
            sid = d._snapshot_id(snapshot_id, as_of)
            if offset or sort:
                table = browse.page(d, offset, limit, sort=sort, descending=order == "desc", snapshot_id=sid)
            else:
                table = d.preview(limit, columns=columns, snapshot_id=sid).to_arrow()
            current = d.table.current_snapshot()
            nulls = browse.null_counts(d, sid) if want_nulls else None
            return table, sid if sid is not None else (current.snapshot_id if current else None), nulls

        table, sid, nulls = await self.run(work)
        body = {"dataset": name, "snapshot_id": sid, "limit": limit, "offset": offset, **arrow_preview(table)}
        if nulls is not None:
            body["null_counts"] = nulls
        self.reply(body)


class SnapshotsHandler(DatasetResource):
    @web.authenticated
    async def get(self, name: str) -> None:
        snaps = await self.run(lambda: self.dataset(name).snapshots())
        self.reply({"dataset": name, "snapshots": snaps})


class LineageHandler(DatasetResource):
    @web.authenticated
    async def get(self, name: str) -> None:
        depth = self.int_arg("depth", 1, 1, MAX_LINEAGE_DEPTH)
        graph = await self.run(lambda: self.dataset(name).lineage(depth=depth))
        self.reply(graph)


class UsageHandler(DatasetResource):
    @web.authenticated
    async def get(self, name: str) -> None:
        days = self.int_arg("days", 30, 1, 3660)
        usage = await self.run(lambda: self.dataset(name).usage(days=days))
        self.reply(usage)


class MetadataHandler(DatasetResource):
    @web.authenticated
    async def patch(self, name: str) -> None:
        body = self.json_body()
        unknown = set(body) - {"description", "owner", "tags"}
        if unknown:
            raise InvalidInput(f"unknown field(s) {sorted(unknown)}", hint="allowed: description, owner, tags")
        for key in ("description", "owner"):
            if body.get(key) is not None and not isinstance(body[key], str):
                raise InvalidInput(f"{key} must be text")
        tags = body.get("tags")
        if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
            raise InvalidInput("tags must be a list of text")

        def work():
            d = self.dataset(name)
            d.set_metadata(description=body.get("description"), owner=body.get("owner"), tags=tags)
            return d.describe()

        self.reply(await self.run(work))


class VersionsHandler(DatasetResource):
    """A model's or report's versions, oldest first."""

    @web.authenticated
    async def get(self, name: str) -> None:
        versions = await self.run(lambda: self.dataset(name).versions())
        self.reply({"dataset": name, "versions": versions})


# A report is user-made HTML (a notebook render, plotly's JavaScript): it runs only inside an
# opaque-origin sandbox (no cookies, no XSRF token, no calls to the Jupyter API), may load
# nothing from the network, and may be framed only by JupyterLab itself.
REPORT_CSP = (
    "sandbox allow-scripts; default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
    "script-src 'unsafe-inline'; frame-ancestors 'self'"
)


class ReportHandler(DatasetResource):
    """One version of a report as an HTML page, for a sandboxed iframe."""

    @property
    def content_security_policy(self) -> str:
        return REPORT_CSP

    @web.authenticated
    async def get(self, name: str, version: str) -> None:
        from lakelab.datasets.artifacts import report_html

        try:
            n = int(version)
        except ValueError:
            raise InvalidInput(f"version must be a whole number, got {version[:40]!r}") from None
        text = await self.run(lambda: report_html(self.dataset(name), n))
        self.set_header("Cache-Control", "private, no-cache")  # re-checked on load: never a stale copy
        self.set_header("Referrer-Policy", "no-referrer")
        self.finish(text, set_content_type="text/html; charset=utf-8")

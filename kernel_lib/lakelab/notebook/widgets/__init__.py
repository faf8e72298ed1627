"""Notebook widgets (anywidget + Vega-Lite through altair): the `%%trino` result grid, the
ingest and publish forms, `--interact` parameter controls and live workspace/dataset views.
Every widget calls the same library functions the magics call."""

from __future__ import annotations

from typing import Any


def ingest(lh: Any = None, **defaults: Any):
    """A form for lh.ingest: source, target, mode, keys and partitions, schema preview, progress, report."""
    from lakelab.notebook.widgets.forms import IngestForm

    return IngestForm(lh, **defaults)


def publish(lh: Any = None, namespace: dict[str, Any] | None = None, **defaults: Any):
    """A form for lh.publish: a kernel variable, target, kind, description, owner and tags."""
    from lakelab.notebook.widgets.forms import PublishForm

    return PublishForm(lh, namespace, **defaults)


__all__ = ["ingest", "publish"]

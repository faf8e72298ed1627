"""HTML for datasets in a notebook: the dataset card and search-result lists. Escapes
everything it shows (descriptions, tags and column docs are user text)."""

from __future__ import annotations

import html
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lakelab.datasets.dataset import Dataset
    from lakelab.datasets.models import SchemaField

MAX_SNAPSHOTS_SHOWN = 10


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _when(ms: int | None) -> str:
    if not ms:
        return ""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _size(n: int | None) -> str:
    if n is None:
        return ""
    value = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return str(n)


def _table(head: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    th = "".join(f"<th style='text-align:left'>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table class='dataframe'><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _field_rows(fields: Iterable[SchemaField], depth: int = 0) -> list[list[str]]:
    rows = []
    for f in fields:
        pad = "&nbsp;" * 4 * depth
        rows.append([_e(f.id), pad + _e(f.name), _e(f.type), "" if f.required else "yes", _e(f.doc)])
        rows += _field_rows(f.fields, depth + 1)
    return rows


def dataset_card_html(ds: Dataset) -> str:
    meta, stats = ds.metadata, ds.stats
    tags = " ".join(f"<code>{_e(t)}</code>" for t in meta["tags"]) or "<i>none</i>"
    head = (
        f"<h3 style='margin:0'>{_e(ds.name)} <small>({_e(meta['kind'])})</small></h3>"
        f"<p>{_e(meta['description']) or '<i>no description</i>'}</p>"
        f"<p>owner: <b>{_e(meta['owner']) or '<i>unknown</i>'}</b> · tags: {tags}</p>"
        f"<p>{stats.row_count:,} {'rows' if meta['kind'] == 'table' else 'versions'}"
        f" · {stats.file_count:,} files · {_size(stats.total_bytes)}"
        f" · updated {_when(stats.last_updated_ms)}</p>"
    )
    schema = _table(["id", "column", "type", "nullable", "doc"], _field_rows(ds.schema))
    snaps = ds.snapshots()
    snap_rows = []
    for s in snaps[:MAX_SNAPSHOTS_SHOWN]:
        lin = s.lineage
        snap_rows.append(
            [
                _e(s.snapshot_id) + (" (current)" if s.current else ""),
                _e(_when(s.timestamp_ms)),
                _e(s.operation),
                _e(lin.operation if lin else None),
                _e(lin.user if lin else None),
                _e(s.summary.get("added-records")),
            ]
        )
    more = f"<p>… {len(snaps) - MAX_SNAPSHOTS_SHOWN} older snapshots</p>" if len(snaps) > MAX_SNAPSHOTS_SHOWN else ""
    snapshots = _table(["snapshot", "time", "operation", "by lakelab", "user", "rows added"], snap_rows) + more
    graph = ds.lineage()
    up, down = graph.upstream, graph.downstream
    lineage = (
        f"<p>upstream: {', '.join(f'<code>{_e(u)}</code>' for u in up) or '<i>none recorded</i>'}</p>"
        f"<p>downstream: {', '.join(f'<code>{_e(d)}</code>' for d in down) or '<i>none</i>'}</p>"
    )
    section = "<details{open}><summary><b>{title}</b></summary>{body}</details>"
    if meta["kind"] != "table":  # a model or report: its versions matter more than the table's schema
        versions = ds.versions()
        rows = [
            [
                _e(v.version),
                _e(v.created_at.isoformat() if v.created_at else None),
                _e(v.created_by),
                _e(_size(v.bytes)),
                _e(", ".join(v.filenames)),
                _e(", ".join(f"{k} {x}" for k, x in (v.metadata.get("libraries") or {}).items())),
                f"<code>{_e(v.sha256[:12])}</code>",
            ]
            for v in reversed(versions[-MAX_SNAPSHOTS_SHOWN:])
        ]
        body = _table(["version", "created", "by", "size", "files", "libraries", "sha256"], rows)
        return (
            "<div class='lakelab-dataset'>"
            + head
            + section.format(open=" open", title=f"Versions ({len(versions)})", body=body)
            + section.format(open="", title="Lineage", body=lineage)
            + "</div>"
        )
    return (
        "<div class='lakelab-dataset'>"
        + head
        + section.format(open=" open", title="Schema", body=schema)
        + section.format(open="", title=f"Snapshots ({len(snaps)})", body=snapshots)
        + section.format(open="", title="Lineage", body=lineage)
        + "</div>"
    )


def dataset_list_html(items: list[dict[str, Any]]) -> str:
    if not items:
        return "<p><i>no datasets found</i></p>"

    def count(d: dict[str, Any], table: bool) -> str:
        # a model's or report's table has one row per version
        return "" if d["row_count"] is None or (d["kind"] == "table") != table else f"{d['row_count']:,}"

    rows = [
        [
            f"<b>{_e(d['name'])}</b>",
            _e(d["kind"]),
            _e(d["owner"]),
            _e((d["description"] or "")[:120]),
            _e(", ".join(d["tags"])),
            _e(count(d, True)),
            _e(count(d, False)),
            _e(_when(d["last_updated_ms"])),
        ]
        for d in items
    ]
    return _table(["dataset", "kind", "owner", "description", "tags", "rows", "versions", "updated"], rows)

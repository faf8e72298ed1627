"""Helpers for ingest tests: read a dataset back, look at its snapshots and data files."""

from __future__ import annotations

import json
from pathlib import Path

import lakelab


def read_rows(lh: lakelab.Lakehouse, name: str, order_by: str | None = None) -> list[dict]:
    t = lh.catalog.load_table(name).scan().to_arrow()
    rows = t.to_pylist()
    return sorted(rows, key=lambda r: r[order_by]) if order_by else rows


def current_snapshot_id(lh: lakelab.Lakehouse, name: str) -> int | None:
    snap = lh.catalog.load_table(name).current_snapshot()
    return snap.snapshot_id if snap else None


def parquet_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*.parquet"))


def lineage_of(lh: lakelab.Lakehouse, name: str) -> dict:
    snap = lh.catalog.load_table(name).current_snapshot()
    props = dict(snap.summary.additional_properties)
    return {k: (json.loads(v) if k == "lakelab.sources" else v) for k, v in props.items() if k.startswith("lakelab.")}

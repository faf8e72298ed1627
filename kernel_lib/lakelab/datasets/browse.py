"""Browsing a dataset's rows past the first page: sorted by a column and read at an offset on
the server, and each column's null count. The dataset view's grid asks for these.

A page beyond the plain first one is the result grid's own paging (engines/paging.py) over
`SELECT * FROM <table> FOR VERSION AS OF <snapshot>` on the embedded engine: the same sort with
tie-breakers, the same pinned snapshot, the same reversed read for pages past the middle, so a
deep page never re-reads the rows before it in the browser. Null counts come from the data
files' column statistics in the snapshot's manifests: no data file is read."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

from lakelab.engines.paging import Column, ResultView, Sort, type_name
from lakelab.errors import InvalidInput
from lakelab.names import quote

if TYPE_CHECKING:
    from lakelab.datasets.dataset import Dataset

MAX_PAGE_ROWS = 1000


def page(
    ds: Dataset,
    offset: int = 0,
    limit: int = 100,
    sort: str | None = None,
    descending: bool = False,
    snapshot_id: int | str | None = None,
) -> pa.Table:
    """Rows [offset, offset + limit) of the dataset at a snapshot (default: current), ordered by
    `sort` when given (nulls last) and otherwise in the table's scan order."""
    for what, n in (("offset", offset), ("limit", limit)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise InvalidInput(f"{what} must be a whole number >= 0, got {n!r}")
    if limit > MAX_PAGE_ROWS:
        raise InvalidInput(f"limit must be at most {MAX_PAGE_ROWS:,}, got {limit:,}")
    if offset == 0 and sort is None:
        return ds.preview(limit, snapshot_id=snapshot_id).to_arrow()  # the fast first-rows read
    sid = ds._snapshot_id(snapshot_id, None)
    snap = ds.table.snapshot_by_id(sid) if sid is not None else ds.table.current_snapshot()
    if snap is None:  # no data yet
        return ds.preview(0).to_arrow()
    schema = ds.table.schemas()[snap.schema_id] if snap.schema_id is not None else ds.table.schema()
    arrow = schema.as_arrow()
    columns = [Column(f.name, type_name(f.type)) for f in arrow]
    sorts: list[Sort] = []
    if sort is not None:
        names = [c.name for c in columns]
        if sort not in names:
            raise InvalidInput(f"dataset {ds.name} has no column {sort!r}", hint=f"columns: {', '.join(names)[:300]}")
        sorts = [Sort(names.index(sort), bool(descending))]
    target = ".".join(quote(p) for p in ds.table_name.identifier)
    sql = f"SELECT * FROM {target} FOR VERSION AS OF {int(snap.snapshot_id)}"
    view = ResultView(ds.lh.engine("duckdb"), sql, {}, columns)
    records = snap.summary.get("total-records") if snap.summary else None
    total = int(records) if records is not None else None
    return view.page(offset, limit, sorts, total=total)


def null_counts(ds: Dataset, snapshot_id: int | str | None = None) -> dict[str, int | None]:
    """Nulls in each top-level column at a snapshot, summed from the data files' statistics
    (None for a column some file has no statistics for, e.g. a nested one)."""
    sid = ds._snapshot_id(snapshot_id, None)
    schema = ds.table.schema()
    fields = {f.field_id: f.name for f in schema.fields}
    counts: dict[str, int | None] = dict.fromkeys(fields.values(), 0)
    for task in ds.table.scan(snapshot_id=sid).plan_files():
        stats = task.file.null_value_counts or {}
        for fid, name in fields.items():
            have = counts[name]
            if have is None:
                continue
            n = stats.get(fid)
            counts[name] = None if n is None else have + int(n)
    return counts

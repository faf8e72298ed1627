"""A dataset as a Ray Data `Dataset`, read in parallel by the cluster's workers.

The driver plans the read with pyiceberg (one snapshot, column projection, row filter, file
pruning by statistics, delete files) and hands Ray one read task per group of data files;
each worker reads its group with pyiceberg's Arrow scan. Rows never pass through the driver.
`since=S` keeps only the data files appended after snapshot S (an incremental read), which
Ray's own `read_iceberg` cannot do.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from lakelab.engines.observers import Read, ReadEvent, notify
from lakelab.errors import InvalidInput, NotFound, Unavailable

if TYPE_CHECKING:
    from pyiceberg.table import FileScanTask

    from lakelab.datasets.dataset import Dataset

APPENDS = ("append",)  # snapshot operations `since=` can read past: they only add files


def appended_files(ds: Dataset, since: int, until: int) -> set[str]:
    """Paths of the data files the snapshots after `since` up to `until` added. Every one of
    them must be an append: an overwrite or delete changes rows `since` already had."""
    table = ds.table
    if table.snapshot_by_id(since) is None:
        raise NotFound(
            f"dataset {ds.name} has no snapshot {since} (it never existed or has expired)",
            hint="list the snapshots it has with .snapshots()",
        )
    chain = []
    snap = table.snapshot_by_id(until)
    while snap is not None and snap.snapshot_id != since:
        chain.append(snap)
        snap = table.snapshot_by_id(snap.parent_snapshot_id) if snap.parent_snapshot_id is not None else None
    if snap is None:
        raise InvalidInput(
            f"snapshot {since} is not an ancestor of snapshot {until} of dataset {ds.name}",
            hint="since= takes an earlier snapshot of the same history (.snapshots())",
        )
    paths: set[str] = set()
    for s in chain:
        op = s.summary.operation.value if s.summary else "append"
        if op not in APPENDS:
            raise InvalidInput(
                f"snapshot {s.snapshot_id} of dataset {ds.name} is an {op}, not an append: reading what "
                f"came after {since} would miss the rows it changed",
                hint="read the whole snapshot instead (leave out since=)",
            )
        for m in s.manifests(table.io):
            if m.added_snapshot_id != s.snapshot_id:
                continue
            paths |= {e.data_file.file_path for e in m.fetch_manifest_entry(table.io) if e.snapshot_id == s.snapshot_id}
    return paths


def _groups(tasks: list[FileScanTask], n: int) -> list[list[FileScanTask]]:
    """`tasks` in `n` groups of about equal bytes (largest first into the lightest group)."""
    groups: list[list[FileScanTask]] = [[] for _ in range(max(1, min(n, len(tasks))))]
    sizes = [0] * len(groups)
    for t in sorted(tasks, key=lambda t: -t.file.file_size_in_bytes):
        i = sizes.index(min(sizes))
        groups[i].append(t)
        sizes[i] += t.file.file_size_in_bytes
    return [g for g in groups if g]


def _read_group(state: Any, tasks: list[FileScanTask]) -> Iterator[pa.Table]:
    """On a worker: the rows of one group of planned files."""
    import ray
    from pyiceberg.io.pyarrow import ArrowScan

    metadata, io, projected, row_filter = ray.get(state) if isinstance(state, ray.ObjectRef) else state
    scan = ArrowScan(metadata, io, projected, row_filter, case_sensitive=True)
    for batch in scan.to_record_batches(tasks):
        if batch.num_rows:
            yield pa.Table.from_batches([batch])


def _datasource(name: str, state: Any, schema: pa.Schema, tasks: list[FileScanTask], exact: bool) -> Any:
    from ray.data.block import BlockMetadata
    from ray.data.datasource import Datasource, ReadTask

    class PlannedIcebergScan(Datasource):
        def get_name(self) -> str:
            return f"Lakelab({name})"

        def estimate_inmemory_data_size(self) -> int | None:
            return sum(t.file.file_size_in_bytes for t in tasks) or None

        def get_read_tasks(
            self, parallelism: int, per_task_row_limit: int | None = None, data_context: Any = None
        ) -> list[ReadTask]:
            out = []
            for group in _groups(tasks, parallelism):
                meta = BlockMetadata(
                    num_rows=sum(t.file.record_count for t in group) if exact else None,
                    size_bytes=sum(t.file.file_size_in_bytes for t in group),
                    input_files=tuple(t.file.file_path for t in group),
                    exec_stats=None,
                )
                out.append(
                    ReadTask(
                        partial(_read_group, state, group),
                        meta,
                        schema=schema,
                        per_task_row_limit=per_task_row_limit,
                    )
                )
            return out

    return PlannedIcebergScan()


def to_ray(
    ds: Dataset,
    snapshot_id: int | str | None = None,
    columns: Any = None,
    filter: Any = None,
    since: int | str | None = None,
) -> Any:
    """See Dataset.to_ray."""
    started = time.perf_counter()
    try:
        import ray
        import ray.data
    except ImportError:
        raise Unavailable("ray is not installed in this kernel", hint="pip install 'lakelab[ray]'") from None
    from pyiceberg.expressions import AlwaysTrue
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    sid = ds._snapshot_id(snapshot_id, None)
    if sid is None:
        current = ds.table.current_snapshot()
        sid = current.snapshot_id if current else None
    if sid is None:  # an empty table: no files, only its columns
        if since is not None:
            raise InvalidInput(f"dataset {ds.name} has no snapshots, so nothing came after {since}")
        arrow = ds.table.schema().as_arrow()
        cols = ds._columns(columns)
        empty = arrow.empty_table() if cols == ("*",) else arrow.empty_table().select(list(cols))
        notify(ReadEvent(engine="ray", reads=(Read(ds.name, None),), rows=0))
        return ray.data.from_arrow(empty)
    try:
        row_filter = filter if filter is not None else AlwaysTrue()
        scan = ds.table.scan(row_filter=row_filter, selected_fields=ds._columns(columns), snapshot_id=sid)
        tasks = list(scan.plan_files())
    except (ValueError, TypeError) as e:  # pyiceberg's parser and binder: a bad filter or column
        raise InvalidInput(
            f"cannot read {ds.name}: {str(e).splitlines()[0][:300]}",
            hint="filter is text like \"x > 5 and label = 'a'\" or a pyiceberg expression",
        ) from None
    since_id = None
    if since is not None:
        since_id = _as_int(since)
        added = appended_files(ds, since_id, sid)
        tasks = [t for t in tasks if t.file.file_path in added]
    projected = scan.projection()
    schema = schema_to_pyarrow(projected, include_field_ids=False)
    state = ray.put((ds.table.metadata, ds.table.io, projected, scan.row_filter))
    # the manifests' row counts are exact only when no filter is left to apply and nothing is deleted
    exact = isinstance(scan.row_filter, AlwaysTrue) and not any(t.delete_files for t in tasks)
    if tasks:
        out = ray.data.read_datasource(_datasource(ds.name, state, schema, tasks, exact))
    else:
        out = ray.data.from_arrow(schema.empty_table())
    extra: dict[str, object] = {"files": len(tasks)}
    if since_id is not None:
        extra["since"] = since_id
    notify(
        ReadEvent(
            engine="ray",
            reads=(Read(ds.name, sid),),
            elapsed_s=time.perf_counter() - started,
            extra=extra,
        )
    )
    return out


def _as_int(value: Any) -> int:
    if isinstance(value, bool):
        raise InvalidInput(f"since must be a snapshot id, got {value!r}")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"since must be a snapshot id, got {str(value)[:40]!r}") from None

"""Python transforms on a Ray workspace: `lh.transform(OUT, fn=..., inputs=[A, B], workspace=NAME)`.

Every input is pinned to its current snapshot when the transform starts. The first input is
read in parallel by the workspace's workers (Dataset.to_ray) and `fn` runs on its batches
there; the other inputs are lookup tables each worker reads whole, once, at their pinned
snapshots, and `fn` gets them after the batch: `fn(batch, b_frame, ...)`. Ray tasks write the
result's data files where it is computed (write/cluster.py), and the driver makes ONE commit
through the one write path, with lineage naming every input at its snapshot: no row passes
through the driver.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from pyiceberg.table import Table

from lakelab.catalog.access import load_table, table_exists
from lakelab.catalog.metadata import Lineage
from lakelab.errors import Conflict, EngineError, InvalidInput
from lakelab.names import TableName
from lakelab.workspaces.client import Workspace
from lakelab.write.report import WriteReport
from lakelab.write.transform import as_table, code_identity, write_result

if TYPE_CHECKING:
    from lakelab.lakehouse import Lakehouse

MODES = ("create", "append", "overwrite")
_LOOKUPS: dict[tuple[str, int | None], Any] = {}  # on a worker: lookup inputs read once per process


def _describe(frame: Any) -> str:
    """Which batch failed, told without dumping it: its size and its first row, shortened."""
    try:
        first = dict(list(frame.iloc[0].to_dict().items())[:4]) if len(frame) else {}
    except AttributeError:  # an Arrow batch
        first = {k: v[0] for k, v in list(frame.slice(0, 1).to_pydict().items())[:4]} if frame.num_rows else {}
    text = ", ".join(f"{k}={v!r}" for k, v in first.items())
    return f"{len(frame):,} rows, first row {text[:160]}" if first else "an empty batch"


class _BatchFn:
    """Gives `fn` the batches a kernel user expects: `Table.to_pandas()` frames with NumPy
    dtypes (Ray's own pandas batches carry Arrow dtypes, on which e.g. `%` fails), and the
    lookup inputs after the batch; turns what it returns into Arrow as every write path does
    (io/objects.py). A failure names the function, the input and the batch."""

    def __init__(self, fn: Callable, batch_format: str, source: str, lookups: list[tuple[Table, int | None]], ws: str):
        self.fn, self.batch_format, self.source, self.lookups, self.ws = fn, batch_format, source, lookups, ws
        self.name = getattr(fn, "__name__", "fn")

    def _lookup(self, table: Table, sid: int | None) -> Any:
        key = (".".join(table.name()), sid)
        if key not in _LOOKUPS:
            empty = sid is None
            rows = table.schema().as_arrow().empty_table() if empty else table.scan(snapshot_id=sid).to_arrow()
            _LOOKUPS[key] = rows.to_pandas() if self.batch_format == "pandas" else rows
        return _LOOKUPS[key]

    def __call__(self, batch: pa.Table) -> pa.Table:
        frame = batch.to_pandas() if self.batch_format == "pandas" else batch
        others = [self._lookup(table, sid) for table, sid in self.lookups]
        try:
            out = self.fn(frame, *others)
        except Exception as e:  # noqa: BLE001 - the user's code: told as one line, with where
            raise EngineError(
                f"fn {self.name} raised {type(e).__name__}: {str(e)[:300]} on workspace {self.ws!r}, "
                f"on a batch of {self.source} ({_describe(frame)})",
                hint="run fn on a small pandas frame in the kernel to debug it",
            ) from None
        return as_table(out, f"fn {self.name}")


def _detached(table: Table) -> Table:
    from pyiceberg.catalog.noop import NoopCatalog

    return Table(table.name(), table.metadata, table.metadata_location, table.io, NoopCatalog("lookup"))


def run(
    lh: Lakehouse,
    out: str,
    fn: Callable,
    inputs: Iterable[str] | str | None,
    workspace: str,
    mode: str = "create",
    batch_format: str = "pandas",
) -> WriteReport:
    """Apply `fn` (batch [, lookup frames...] -> batch) to the inputs on `workspace`, writing `out`."""
    started = time.monotonic()
    if not callable(fn):
        raise InvalidInput(f"fn must be a function taking and returning a batch, got {type(fn).__name__}")
    if mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if batch_format not in ("pandas", "pyarrow"):
        raise InvalidInput(f"batch_format must be pandas or pyarrow, got {batch_format!r}")
    names = [inputs] if isinstance(inputs, str) else list(inputs or [])
    if not names:
        raise InvalidInput("a Ray transform needs at least one input table", hint="inputs=['ns.table']")
    out_name = lh.table_name(out)
    catalog = lh.catalog
    pinned: list[tuple[TableName, int | None]] = []  # (name, snapshot id) of every input, fixed now
    for n in names:
        tname = lh.table_name(n)
        snap = load_table(catalog, tname).current_snapshot()
        if any(t == tname for t, _ in pinned):
            raise InvalidInput(f"inputs names {tname} twice", hint="give each input table once")
        pinned.append((tname, snap.snapshot_id if snap else None))
    exists = table_exists(catalog, out_name)
    if mode == "create" and exists:
        raise Conflict(f"dataset {out_name} already exists", hint="use mode='append' or mode='overwrite'")
    if mode != "create" and not exists:
        raise InvalidInput(f"dataset {out_name} does not exist, so it cannot be {mode}ed", hint="use mode='create'")

    ws = Workspace(workspace).connect()  # NotFound / Conflict for an unknown or stopped workspace
    (first, first_sid), rest = pinned[0], pinned[1:]
    label = f"{first.dotted}@{first_sid}" if first_sid else first.dotted
    # the lookup tables travel as metadata + file IO (no catalog connection): workers read their files
    lookups = [(_detached(load_table(catalog, t)), s) for t, s in rest]
    apply = _BatchFn(fn, batch_format, label, lookups, ws.name)
    if first_sid is None:  # nothing to read: fn on an empty batch gives the output's columns
        result: Any = apply(load_table(catalog, first).schema().as_arrow().empty_table())
    else:
        rows = lh.dataset(first.dotted).to_ray(snapshot_id=first_sid)
        result = rows.map_batches(apply, batch_format="pyarrow", batch_size=None)
    upstream = [{"table": t.dotted, "snapshot_id": s} for t, s in pinned]
    lineage = Lineage("transform", upstream=upstream, code=code_identity(fn), engine="ray")
    report = write_result(catalog, out_name, result, mode, lineage)
    return dataclasses.replace(report, engine="ray", workspace=ws.name, seconds=time.monotonic() - started)

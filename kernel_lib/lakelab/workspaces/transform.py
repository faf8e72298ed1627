"""Python transforms on a Ray workspace: `lh.transform(OUT, fn=..., inputs=[IN], workspace=NAME)`.

Ray Data reads the input Iceberg table at a pinned snapshot on the cluster, applies `fn` to
pandas batches there, and materialises the result. The driver then writes it through
the one write path (write/commit.py, as every transform) in ONE commit (table creation
included) whose snapshot summary carries the lineage. Ray's `write_iceberg` cannot create a table in the same
commit, so a failed write would leave an empty table behind; collecting the result to the
driver keeps "nothing committed on failure" true, at the cost of driver memory.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from lakelab.catalog.access import load_table, table_exists
from lakelab.catalog.metadata import Lineage
from lakelab.errors import Conflict, EngineError, InvalidInput
from lakelab.workspaces.client import Workspace
from lakelab.write.report import WriteReport
from lakelab.write.transform import as_table, code_identity, write_result

if TYPE_CHECKING:
    from lakelab.lakehouse import Lakehouse

MODES = ("create", "append", "overwrite")


class _BatchFn:
    """Gives `fn` the batches a kernel user expects: `Table.to_pandas()` frames with NumPy
    dtypes (Ray's own pandas batches carry Arrow dtypes, on which e.g. `%` fails), and turns
    what it returns into Arrow as every write path does (io/objects.py)."""

    def __init__(self, fn: Callable, batch_format: str):
        self.fn, self.batch_format = fn, batch_format

    def __call__(self, batch: pa.Table) -> pa.Table:
        out = self.fn(batch.to_pandas() if self.batch_format == "pandas" else batch)
        return as_table(out, f"fn {getattr(self.fn, '__name__', 'fn')}")


_EXC_LINE = re.compile(r"^\s*([A-Za-z_][\w.]*(?:Error|Exception)): (.+)$")


def _root_cause(err: BaseException) -> str:
    """The user's own exception as one line. Ray Data re-raises it as a RayTaskError whose
    cause is a bare UserCodeException; the original survives only in the remote traceback
    text, where the innermost exception comes first."""
    for line in str(err).splitlines():
        m = _EXC_LINE.match(line)
        if m and not m.group(1).endswith(("UserCodeException", "RayTaskError")):
            return f"{m.group(1).rsplit('.', 1)[-1]}: {m.group(2).strip()}"[:500]
    lines = [ln for ln in str(err).strip().splitlines() if ln.strip()]
    return f"{type(err).__name__}: {lines[-1].strip() if lines else ''}"[:500]


def _catalog_kwargs(lh: Lakehouse) -> dict[str, Any]:
    # pyiceberg's own catalog properties: every Ray worker opens the same catalog
    return {"name": lh.config.catalog_name, **{k: v for k, v in lh.config.catalog.items() if k != "name"}}


def run(
    lh: Lakehouse,
    out: str,
    fn: Callable,
    inputs: Iterable[str] | str | None,
    workspace: str,
    mode: str = "create",
    batch_format: str = "pandas",
) -> WriteReport:
    """Apply `fn` (a batch -> batch function) to the input table on `workspace`, writing `out`."""
    started = time.monotonic()
    if not callable(fn):
        raise InvalidInput(f"fn must be a function taking and returning a batch, got {type(fn).__name__}")
    if mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    if batch_format not in ("pandas", "pyarrow"):
        raise InvalidInput(f"batch_format must be pandas or pyarrow, got {batch_format!r}")
    names = [inputs] if isinstance(inputs, str) else list(inputs or [])
    if len(names) != 1:
        raise InvalidInput(
            f"a Ray transform takes exactly one input table, got {len(names)}",
            hint="join inputs with a SQL transform first, then apply fn to the result",
        )
    src_name, out_name = lh.table_name(names[0]), lh.table_name(out)
    catalog = lh.catalog
    src = load_table(catalog, src_name)
    snapshot = src.current_snapshot()
    exists = table_exists(catalog, out_name)
    if mode == "create" and exists:
        raise Conflict(f"dataset {out_name} already exists", hint="use mode='append' or mode='overwrite'")
    if mode != "create" and not exists:
        raise InvalidInput(f"dataset {out_name} does not exist, so it cannot be {mode}ed", hint="use mode='create'")

    ws = Workspace(workspace).connect()  # NotFound / Conflict for an unknown or stopped workspace
    import ray.data

    if snapshot is None:  # nothing to read: fn on an empty batch gives the output's columns
        result = _BatchFn(fn, batch_format)(src.schema().as_arrow().empty_table())
    else:
        ds = ray.data.read_iceberg(
            table_identifier=src_name.dotted, catalog_kwargs=_catalog_kwargs(lh), snapshot_id=snapshot.snapshot_id
        )
        try:
            ds = ds.map_batches(_BatchFn(fn, batch_format), batch_format="pyarrow").materialize()
            parts = [t for t in ray.get(ds.to_arrow_refs()) if t.num_columns]
        except ray.exceptions.RayError as e:
            raise EngineError(
                f"fn failed on workspace {ws.name!r}: {_root_cause(e)}",
                hint="run fn on a small pandas frame in the kernel to debug it",
            ) from None
        if not parts:
            raise InvalidInput(f"fn returned no columns for {src_name}")
        result = pa.concat_tables(parts, promote_options="permissive")

    upstream = [{"table": src_name.dotted, "snapshot_id": snapshot.snapshot_id if snapshot else None}]
    lineage = Lineage("transform", upstream=upstream, code=code_identity(fn), engine="ray")
    report = write_result(catalog, out_name, result, mode, lineage)
    return dataclasses.replace(report, engine="ray", workspace=ws.name, seconds=time.monotonic() - started)

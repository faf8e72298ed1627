"""Python transforms on a Ray workspace: `lh.transform(OUT, fn=..., inputs=[IN], workspace=NAME)`.

Ray Data reads the input Iceberg table at a pinned snapshot on the cluster, applies `fn` to
pandas batches there, and materialises the result. The driver then writes it with pyiceberg
in ONE transaction (table creation included) whose snapshot summary carries the lineage:
Ray's `write_iceberg` cannot create a table in the same commit, so a failed write would
leave an empty table behind; collecting keeps "nothing committed on failure" true.
"""
from __future__ import annotations

import hashlib
import inspect
import re
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable

import pyarrow as pa

from ..catalog import WRITE_PROPERTIES, ensure_namespace, load_table, table_exists
from ..errors import Conflict, EngineError, InvalidInput
from ..metadata import Lineage
from .client import Workspace

if TYPE_CHECKING:
    from ..lakehouse import Lakehouse

MODES = ("create", "append", "overwrite")


@dataclass
class RayTransformResult:
    table: str
    rows: int
    snapshot_id: int | None
    workspace: str
    mode: str
    elapsed_s: float

    def _repr_html_(self) -> str:
        return (f"<div>transform on workspace <b>{self.workspace}</b> wrote {self.rows:,} rows to "
                f"<b>{self.table}</b> ({self.mode}, snapshot {self.snapshot_id}) in {self.elapsed_s:.1f} s</div>")


class _BatchFn:
    """Gives `fn` the batches a kernel user expects: `Table.to_pandas()` frames with NumPy
    dtypes (Ray's own pandas batches carry Arrow dtypes, on which e.g. `%` fails), and turns
    a returned frame back into Arrow without its index."""

    def __init__(self, fn: Callable, batch_format: str):
        self.fn, self.batch_format = fn, batch_format

    def __call__(self, batch: pa.Table) -> pa.Table:
        out = self.fn(batch.to_pandas() if self.batch_format == "pandas" else batch)
        if isinstance(out, pa.Table):
            return out
        import pandas as pd

        if isinstance(out, pd.DataFrame):
            return pa.Table.from_pandas(out, preserve_index=False)
        raise TypeError(f"fn must return a pandas DataFrame or a pyarrow Table, got {type(out).__name__}")


def code_identity(fn: Callable) -> str:
    """module.qualname@sha256-prefix of the function's source (or bytecode when the source
    is not available), so lineage names exactly which code produced a snapshot."""
    name = f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', type(fn).__name__)}"
    try:
        body = inspect.getsource(fn).encode()
    except (OSError, TypeError):
        code = getattr(fn, "__code__", None)
        body = code.co_code if code is not None else repr(fn).encode()
    return f"{name}@{hashlib.sha256(body).hexdigest()[:12]}"


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


def _catalog_kwargs(lh: "Lakehouse") -> dict[str, Any]:
    # pyiceberg's own catalog properties: every Ray worker opens the same catalog
    return {"name": lh.config.catalog_name, **{k: v for k, v in lh.config.catalog.items() if k != "name"}}


def run(lh: "Lakehouse", out: str, fn: Callable, inputs: Iterable[str] | str | None, workspace: str,
        mode: str = "create", batch_format: str = "pandas") -> RayTransformResult:
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
        raise InvalidInput(f"a Ray transform takes exactly one input table, got {len(names)}",
                           hint="join inputs with a SQL transform first, then apply fn to the result")
    src_name, out_name = lh.table_name(names[0]), lh.table_name(out)
    catalog = lh.catalog
    src = load_table(catalog, src_name)
    snapshot = src.current_snapshot()
    exists = table_exists(catalog, out_name)
    if mode == "create" and exists:
        raise Conflict(f"dataset {out_name} already exists", hint="use mode='append' or mode='overwrite'")
    if mode != "create" and not exists:
        raise InvalidInput(f"dataset {out_name} does not exist, so it cannot be {mode}ed",
                           hint="use mode='create'")

    ws = Workspace(workspace).connect()  # NotFound / Conflict for an unknown or stopped workspace
    import ray.data

    if snapshot is None:  # an empty table has no snapshot to read: fn sees no batches
        result = pa.table({f.name: pa.array([], type=f.type) for f in src.schema().as_arrow()})
    else:
        ds = ray.data.read_iceberg(table_identifier=src_name.dotted, catalog_kwargs=_catalog_kwargs(lh),
                                   snapshot_id=snapshot.snapshot_id)
        try:
            ds = ds.map_batches(_BatchFn(fn, batch_format), batch_format="pyarrow").materialize()
            parts = [t for t in ray.get(ds.to_arrow_refs()) if t.num_columns]
        except ray.exceptions.RayError as e:
            raise EngineError(f"fn failed on workspace {ws.name!r}: {_root_cause(e)}",
                              hint="run fn on a small pandas frame in the kernel to debug it") from None
        if not parts:
            raise InvalidInput(f"fn returned no columns for {src_name}")
        result = pa.concat_tables(parts, promote_options="default")

    lineage = Lineage(operation="transform", code=code_identity(fn),
                      upstream=[{"table": src_name.dotted,
                                 "snapshot_id": snapshot.snapshot_id if snapshot else None}])
    summary = lineage.summary()
    summary["lakelab.workspace"] = ws.name
    try:
        _commit(catalog, out_name, mode, result, summary)
    except ValueError as e:  # pyiceberg's schema checks: the result does not fit the table
        raise InvalidInput(f"the transform's result does not fit {out_name}: {e}") from None
    written = load_table(catalog, out_name).current_snapshot()
    return RayTransformResult(table=out_name.dotted, rows=result.num_rows,
                              snapshot_id=written.snapshot_id if written else None, workspace=ws.name,
                              mode=mode, elapsed_s=time.monotonic() - started)


def _commit(catalog: Any, out_name: Any, mode: str, result: pa.Table, summary: dict[str, str]) -> None:
    """One Iceberg commit (a create-table transaction includes the first snapshot)."""
    if mode == "create":
        ensure_namespace(catalog, out_name.namespace)
        with catalog.create_table_transaction(out_name.identifier, schema=result.schema,
                                              properties=dict(WRITE_PROPERTIES)) as tx:
            tx.append(result, snapshot_properties=summary)
    else:
        table = load_table(catalog, out_name)
        with table.transaction() as tx:
            if mode == "overwrite":
                tx.overwrite(result, snapshot_properties=summary)
            else:
                tx.append(result, snapshot_properties=summary)

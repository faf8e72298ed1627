"""Transforms: a SQL query or a Python function over datasets, written as a dataset in one
Iceberg commit (commit.write) whose snapshot summary records lineage (upstream snapshots, SQL
or code, notebook, user). On Trino the statement commits in Trino, which records the lineage
(engines/trino/lineage.py)."""

from __future__ import annotations

import hashlib
import inspect
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

import pyarrow as pa

from lakelab.catalog.access import load_table, table_exists
from lakelab.catalog.metadata import Lineage
from lakelab.errors import Conflict, InvalidInput, NotFound
from lakelab.io.objects import open_object
from lakelab.names import TableName, ident, quote
from lakelab.write.commit import write
from lakelab.write.report import WriteReport
from lakelab.write.types import ALIAS_HINT

if TYPE_CHECKING:
    from lakelab.lakehouse import Lakehouse

MODES = ("create", "append", "overwrite")


def transform(
    lh: Lakehouse,
    out: str,
    *,
    sql: str | None = None,
    fn: Callable | None = None,
    inputs: Iterable[str] | None = None,
    mode: str = "create",
    engine: str | None = None,
    params: dict[str, Any] | None = None,
    schema: str | None = None,
    catalog: str | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> WriteReport:
    """Write `out` from `sql` (on the embedded engine or Trino) or from `fn` over `inputs`.
    `schema`/`catalog` are the defaults for unqualified names: the SQL's tables and `out`.
    `progress` receives the engine's query stats while SQL runs (the %%trino progress line).
    Transforms on a Ray workspace are workspaces.transform.run (Lakehouse.transform picks)."""
    name = check_request(lh, out, sql, fn, mode, schema, catalog)
    if sql is not None:
        session: dict[str, Any] = {k: v for k, v in (("catalog", catalog), ("schema", schema)) if v}
        if progress is not None:
            session["progress"] = progress
        if (engine or lh.config.engine) == "trino":
            return _trino_sql(lh, name, sql, mode, params, session)
        result = lh.engine("duckdb").execute(sql, params, **session)
        if result.message:  # a statement, not a query
            raise InvalidInput("transform sql= must be a query (SELECT / WITH)")
        upstream = [{"table": s["table"], "snapshot_id": s["snapshot_id"]} for s in result.stats.get("scans", [])]
        return write_result(
            lh.catalog, name, result.table, mode, Lineage("transform", upstream=upstream, sql=sql, engine="duckdb")
        )
    return _python(lh, name, cast(Callable, fn), list(inputs or []), mode)


def check_request(
    lh: Lakehouse, out: str, sql: str | None, fn: Callable | None, mode: str, schema: str | None, catalog: str | None
) -> TableName:
    """The target of a transform, once the request itself is known to make sense."""
    if (sql is None) == (fn is None):
        raise InvalidInput("transform needs exactly one of sql= or fn=")
    if mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    return target_name(lh, out, schema, catalog)


def default_schema(lh: Lakehouse) -> str:
    """The schema unqualified names mean when none is given (both engines use it)."""
    return lh.config.trino.schema if lh.config.trino and lh.config.trino.schema else "default"


def target_name(lh: Lakehouse, out: Any, schema: str | None = None, catalog: str | None = None) -> TableName:
    """The dataset a transform writes: `out` as given, or `schema.out` when it is unqualified.
    The target is always in the lakelab catalog."""
    if isinstance(out, str) and "." not in out.strip():
        if catalog and catalog.lower() not in lh.catalog_names:
            raise InvalidInput(
                f"{out!r} would be written to catalog {catalog!r}, but datasets are written to the lakelab catalog",
                hint=f"name the target as schema.table, e.g. demo.{out}",
            )
        out = f"{ident(schema, 'schema') if schema else default_schema(lh)}.{out.strip()}"
    return lh.table_name(out)


def write_result(
    catalog: Any,
    name: TableName,
    data: Any,
    mode: str,
    lineage: Lineage,
    *,
    columns: list[str] | None = None,
    by_position: bool = False,
) -> WriteReport:
    """Rows a query or a function made, written as SQL writes them: into an existing table
    only on append (by name, or by position for INSERT), and a number column never takes
    text. CREATE TABLE AS / INSERT, --into, Python and Ray transforms all write this way."""
    return write(
        catalog,
        name,
        data,
        mode=mode,
        lineage=lineage,
        columns=columns,
        by_position=by_position,
        same_family=True,
        must_exist=True,
        rename_hint=ALIAS_HINT,
    )


def _trino_sql(
    lh: Lakehouse, name: TableName, sql: str, mode: str, params: dict | None, session: dict[str, Any]
) -> WriteReport:
    """On Trino the statement commits there; lakelab checks the mode first, and the Trino
    engine records the lineage (upstream snapshots, this SQL) for the snapshot it made."""
    exists = table_exists(lh.catalog, name)
    if mode == "create" and exists:
        raise Conflict(f"dataset {name} already exists", hint="use mode='append' or 'overwrite'")
    engine: Any = lh.engine("trino")  # refuses when no Trino is configured
    target = f"{quote(engine.config.catalog)}.{name.sql()}"
    if mode == "append":
        if not exists:
            raise NotFound(f"dataset {name} does not exist", hint="use mode='create'")
        stmt = f"INSERT INTO {target} {sql}"
    else:
        stmt = f"CREATE {'OR REPLACE ' if mode == 'overwrite' else ''}TABLE {target} AS {sql}"
    started = time.perf_counter()
    result = engine.execute(stmt, params, lineage_sql=sql, **session)
    table = load_table(lh.catalog, name)
    snap = table.current_snapshot()
    rows = result.table.column(0)[0].as_py() if result.table.num_rows and result.table.num_columns else 0
    summary = snap.summary.additional_properties if snap and snap.summary else {}
    return WriteReport(
        table=name.dotted,
        mode=mode,
        rows=int(rows or 0),
        files=int(summary.get("added-data-files", 0)),
        bytes=int(summary.get("added-files-size", 0)),
        snapshot_id=snap.snapshot_id if snap else None,
        seconds=time.perf_counter() - started,
        operation="transform",
        engine="trino",
        query_id=result.query_id,
    )


def code_identity(fn: Callable) -> str:
    """`module.qualname@sha` of a function's source: the lineage's record of the code."""
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        source = repr(fn)
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}@{digest}"


def as_table(obj: Any, what: str) -> pa.Table:
    """What a Python transform's fn returned, as one Arrow table."""
    src = open_object(obj)
    if src is None:
        raise InvalidInput(
            f"{what} returned {type(obj).__name__}",
            hint="return a pyarrow Table/RecordBatch, a pandas or a polars DataFrame",
        )
    return pa.Table.from_batches(list(src), schema=src.schema)


def _python(lh: Lakehouse, name: TableName, fn: Callable, inputs: list[str], mode: str) -> WriteReport:
    """In-process: one input is streamed through fn as pandas DataFrame batches (the same batch
    format the Ray workspace path uses, so one fn runs in both); several inputs are passed whole."""
    if not callable(fn):
        raise InvalidInput("fn must be callable")
    if not inputs:
        raise InvalidInput("a Python transform needs inputs=[...] (the datasets fn reads)")
    tables = [load_table(lh.catalog, lh.table_name(i)) for i in inputs]
    snapshots = [s.snapshot_id if (s := t.current_snapshot()) else None for t in tables]
    upstream: list[dict[str, Any]] = [
        {"table": str(lh.table_name(i)), "snapshot_id": sid} for i, sid in zip(inputs, snapshots)
    ]
    label = f"fn {getattr(fn, '__name__', 'fn')}"
    if len(tables) == 1:
        reader = tables[0].scan(snapshot_id=snapshots[0]).to_arrow_batch_reader()
        parts = [as_table(fn(b.to_pandas()), label) for b in reader if b.num_rows]
        data = (
            pa.concat_tables(parts, promote_options="permissive")
            if parts
            else as_table(fn(reader.schema.empty_table().to_pandas()), label)
        )
    else:
        args = [t.scan(snapshot_id=sid).to_arrow().to_pandas() for t, sid in zip(tables, snapshots)]
        data = as_table(fn(*args), label)
    return write_result(
        lh.catalog, name, data, mode, Lineage("transform", upstream=upstream, code=code_identity(fn), engine="python")
    )

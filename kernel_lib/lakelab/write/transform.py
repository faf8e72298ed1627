"""Transforms: a SQL query or a Python function over datasets, written as a dataset in one
Iceberg commit whose snapshot summary records lineage (upstream snapshots, SQL or code,
notebook, user). `CREATE TABLE AS`, `INSERT` and `%%trino --into` write through here too."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from lakelab.catalog.access import WRITE_PROPERTIES, drop_namespaces, ensure_namespace, load_table, table_exists
from lakelab.catalog.metadata import Lineage
from lakelab.errors import Conflict, InvalidInput, NotFound, Unsupported
from lakelab.names import TableName, ident, quote

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
    workspace: str | None = None,
    mode: str = "create",
    engine: str | None = None,
    params: dict[str, Any] | None = None,
    schema: str | None = None,
    catalog: str | None = None,
    progress: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Write `out` from `sql` (on the embedded engine or Trino) or from `fn` over `inputs`.
    `schema`/`catalog` are the defaults for unqualified names: the SQL's tables and `out`.
    `progress` receives the engine's query stats while SQL runs (the %%trino progress line)."""
    if (sql is None) == (fn is None):
        raise InvalidInput("transform needs exactly one of sql= or fn=")
    if mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    name = target_name(lh, out, schema, catalog)
    if sql is not None:
        if workspace is not None:
            raise InvalidInput("SQL transforms run on an engine, not a workspace", hint="drop workspace=")
        session: dict[str, Any] = {k: v for k, v in (("catalog", catalog), ("schema", schema)) if v}
        if progress is not None:
            session["progress"] = progress
        if (engine or lh.config.engine) == "trino":
            return _trino_sql(lh, name, sql, mode, params, session)
        result = lh.engine("duckdb").execute(sql, params, **session)
        if result.message:  # a statement, not a query
            raise InvalidInput("transform sql= must be a query (SELECT / WITH)")
        upstream = [{"table": s["table"], "snapshot_id": s["snapshot_id"]} for s in result.stats.get("scans", [])]
        return write_query_result(lh, name, result.table, mode=mode, sql=sql, upstream=upstream)
    if workspace is not None:
        try:
            from lakelab.workspaces.transform import run
        except ImportError:
            raise Unsupported("Ray transforms need a workspace backend") from None
        return run(lh, name, fn=fn, inputs=list(inputs or []), workspace=workspace, mode=mode)
    return _python(lh, name, fn, list(inputs or []), mode)


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


def _trino_sql(
    lh: Lakehouse, name: TableName, sql: str, mode: str, params: dict | None, session: dict[str, Any]
) -> dict[str, Any]:
    """On Trino the statement commits there; lakelab checks the mode first, and the Trino
    engine records the lineage (upstream snapshots, this SQL) for the snapshot it made."""
    exists = table_exists(lh.catalog, name)
    if mode == "create" and exists:
        raise Conflict(f"dataset {name} already exists", hint="use mode='append' or 'overwrite'")
    target = f"{quote(lh.config.trino.catalog)}.{name.sql()}"
    if mode == "append":
        if not exists:
            raise NotFound(f"dataset {name} does not exist", hint="use mode='create'")
        stmt = f"INSERT INTO {target} {sql}"
    else:
        stmt = f"CREATE {'OR REPLACE ' if mode == 'overwrite' else ''}TABLE {target} AS {sql}"
    result = lh.engine("trino").execute(stmt, params, lineage_sql=sql, **session)
    table = load_table(lh.catalog, name)
    snap = table.current_snapshot()
    rows = result.table.column(0)[0].as_py() if result.table.num_rows and result.table.num_columns else None
    return {
        "table": str(name),
        "rows": rows,
        "snapshot_id": snap.snapshot_id if snap else None,
        "engine": "trino",
        "query_id": result.query_id,
    }


def _code_identity(fn: Callable) -> str:
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        source = repr(fn)
    digest = hashlib.sha256(source.encode()).hexdigest()[:12]
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}@{digest}"


def _as_arrow(obj: Any, what: str) -> pa.Table:
    if isinstance(obj, pa.Table):
        return obj
    if isinstance(obj, pa.RecordBatch):
        return pa.Table.from_batches([obj])
    if hasattr(obj, "to_arrow"):  # polars
        return obj.to_arrow()
    try:
        import pandas as pd

        if isinstance(obj, pd.DataFrame):
            return pa.Table.from_pandas(obj, preserve_index=False)
    except ImportError:  # pragma: no cover
        pass
    raise InvalidInput(
        f"{what} returned {type(obj).__name__}",
        hint="return a pyarrow Table/RecordBatch, a pandas or a polars DataFrame",
    )


def _python(lh: Lakehouse, name: TableName, fn: Callable, inputs: list[str], mode: str) -> dict[str, Any]:
    """In-process: one input is streamed through fn as pandas DataFrame batches (the same batch
    format the Ray workspace path uses, so one fn runs in both); several inputs are passed whole."""
    if not callable(fn):
        raise InvalidInput("fn must be callable")
    if not inputs:
        raise InvalidInput("a Python transform needs inputs=[...] (the datasets fn reads)")
    tables = [load_table(lh.catalog, lh.table_name(i)) for i in inputs]
    upstream = [
        {
            "table": str(lh.table_name(i)),
            "snapshot_id": t.current_snapshot().snapshot_id if t.current_snapshot() else None,
        }
        for i, t in zip(inputs, tables)
    ]
    label = f"fn {getattr(fn, '__name__', 'fn')}"
    if len(tables) == 1:
        reader = tables[0].scan(snapshot_id=upstream[0]["snapshot_id"]).to_arrow_batch_reader()
        parts = [_as_arrow(fn(b.to_pandas()), label) for b in reader if b.num_rows]
        data = (
            pa.concat_tables(parts, promote_options="permissive")
            if parts
            else _as_arrow(fn(reader.schema.empty_table().to_pandas()), label)
        )
    else:
        args = [t.scan(snapshot_id=u["snapshot_id"]).to_arrow().to_pandas() for t, u in zip(tables, upstream)]
        data = _as_arrow(fn(*args), label)
    return write_query_result(lh, name, data, mode=mode, upstream=upstream, code=_code_identity(fn))


# -- the one writer for query results ---------------------------------------------------------
def _normalise(data: pa.Table) -> pa.Table:
    """Arrow types DuckDB and users produce that Iceberg lacks -> their Iceberg-friendly kin."""
    fields = []
    for f in data.schema:
        t = f.type
        if pa.types.is_string_view(t) or pa.types.is_large_string(t):
            t = pa.string()
        elif pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
            t = pa.binary()
        elif pa.types.is_int8(t) or pa.types.is_int16(t) or pa.types.is_uint8(t) or pa.types.is_uint16(t):
            t = pa.int32()
        elif pa.types.is_uint32(t):
            t = pa.int64()
        elif pa.types.is_timestamp(t) and t.unit != "us":
            t = pa.timestamp("us", tz=t.tz)
        elif pa.types.is_dictionary(t):
            t = t.value_type
        elif pa.types.is_duration(t) or pa.types.is_interval(t):
            raise InvalidInput(
                f"result column {f.name!r} is an interval ({t}), which Iceberg cannot store",
                hint="convert it to a number, e.g. date_diff('second', a, b)",
            )
        try:
            column = ident(f.name, "column")
        except InvalidInput as e:
            raise InvalidInput(
                f"result column {f.name!r} is not a valid column name", hint="give it an alias: expression AS name"
            ) from e
        if column in {x.name for x in fields}:
            raise InvalidInput(
                f"the result has two columns named {column!r}",
                hint="give one of them another alias: expression AS name",
            )
        fields.append(pa.field(column, t, nullable=True))
    schema = pa.schema(fields)
    return data.rename_columns(schema.names).cast(schema) if schema != data.schema else data


def _family(t: pa.DataType) -> str:
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "text"
    if pa.types.is_temporal(t):
        return "time"
    return str(t)


def _align(data: pa.Table, target: pa.Schema, columns: list[str] | None, by_name: bool) -> pa.Table:
    """Fit rows to an existing table: by position (SQL INSERT) or by name (transform append)."""
    if by_name:
        missing = [n for n in data.column_names if n not in target.names]
        if missing:
            raise InvalidInput(f"columns {missing} are not in the target table", hint=f"it has {target.names}")
        columns = data.column_names
    columns = columns or target.names
    unknown = [c for c in columns if c not in target.names]
    if unknown:
        raise InvalidInput(
            f"INSERT names columns the target table does not have: {', '.join(unknown)}",
            hint=f"it has {', '.join(target.names)}",
        )
    dup = sorted({c for c in columns if columns.count(c) > 1})
    if dup:
        raise InvalidInput(f"INSERT names column {dup[0]} twice")
    if len(columns) != data.num_columns:
        raise InvalidInput(f"the query returns {data.num_columns} columns but {len(columns)} are inserted")
    arrays = []
    for field in target:
        if field.name not in columns:
            arrays.append(pa.nulls(data.num_rows, field.type))
            continue
        col = data.column(columns.index(field.name))
        if _family(col.type) != _family(field.type) and col.null_count != len(col):
            raise InvalidInput(f"column {field.name}: cannot write {col.type} into {field.type}")
        try:
            arrays.append(col.cast(field.type, safe=True))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
            raise InvalidInput(f"column {field.name}: values do not fit {field.type}: {e}") from None
    return pa.Table.from_arrays(arrays, schema=target)


def write_query_result(
    lh: Lakehouse,
    out: TableName,
    data: pa.Table,
    *,
    mode: str,
    sql: str | None = None,
    upstream: list[dict[str, Any]] | None = None,
    columns: list[str] | None = None,
    code: str | None = None,
    operation: str = "transform",
    positional: bool = False,
) -> dict[str, Any]:
    """Write rows as `out` in one commit. mode: create | create_if_not_exists | append | overwrite.
    `positional`: match columns by position (SQL INSERT), else by name.
    Lineage (upstream snapshots, SQL or code, notebook, user) goes into the snapshot summary."""
    catalog = lh.catalog
    summary = Lineage(operation=operation, upstream=upstream or [], sql=sql, code=code).summary()
    exists = table_exists(catalog, out)
    rows = data.num_rows
    if mode in ("create", "create_if_not_exists") or (mode == "overwrite" and not exists):
        if exists:
            if mode == "create_if_not_exists":
                return {"table": str(out), "rows": 0, "snapshot_id": None, "created": False}
            raise Conflict(f"dataset {out} already exists", hint="use --mode append / overwrite, or INSERT INTO")
        data = _normalise(data)
        created_ns = ensure_namespace(catalog, out.namespace)
        try:
            txn = catalog.create_table_transaction(out.identifier, schema=data.schema, properties=WRITE_PROPERTIES)
            txn.append(data, snapshot_properties=summary)
            txn.commit_transaction()
        except BaseException:
            drop_namespaces(catalog, created_ns)
            raise
    elif mode in ("append", "overwrite"):
        if not exists:
            raise NotFound(f"dataset {out} does not exist", hint="create it first (--mode create / CREATE TABLE AS)")
        table = load_table(catalog, out)
        target = table.schema().as_arrow()
        # SQL INSERT matches columns by position (as Trino does); transforms match by name
        aligned = _align(_normalise(data), target, columns, by_name=not positional)
        (table.overwrite if mode == "overwrite" else table.append)(aligned, snapshot_properties=summary)
    else:
        raise InvalidInput(f"unknown write mode {mode!r}")
    snap = load_table(catalog, out).current_snapshot()
    return {"table": str(out), "rows": rows, "snapshot_id": snap.snapshot_id if snap else None}

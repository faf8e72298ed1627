"""publish: make a result a discoverable, versioned dataset - data, metadata properties and
lineage in ONE Iceberg commit, so a failed publish leaves nothing behind.

The data write goes through pyiceberg's transaction API directly (not lh.ingest): ingest
commits on its own, and publish must put the metadata properties and the `publish`
lineage into that same commit."""
from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from pyiceberg.exceptions import CommitFailedException, NoSuchTableError, TableAlreadyExistsError

from . import metadata as md
from .catalog import WRITE_PROPERTIES, ensure_namespace, load_table, table_exists
from .errors import Conflict, InvalidInput, LakelabError, NotFound, Unsupported
from .names import TableName

if TYPE_CHECKING:
    from .datasets import Dataset
    from .lakehouse import Lakehouse

MODES = ("create", "overwrite", "append")
FILE_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".json": "json", ".ndjson": "json",
                ".jsonl": "json"}


def _read_path(path: str) -> pa.Table:
    import pyarrow.csv as pcsv
    import pyarrow.json as pjson
    import pyarrow.parquet as pq

    p = Path(path).expanduser()
    if not p.exists():
        raise NotFound(f"file {path} does not exist")
    fmt = FILE_FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise InvalidInput(f"cannot tell the format of {path}", hint="publish .parquet, .csv, .json or .ndjson files, "
                                                                      "or use %ingest for other sources")
    try:
        if fmt == "parquet":
            return pq.read_table(p)
        return pcsv.read_csv(p) if fmt == "csv" else pjson.read_json(p)
    except (pa.ArrowInvalid, OSError) as e:
        raise InvalidInput(f"cannot read {path} as {fmt}: {e}") from None


def _to_arrow(lh: "Lakehouse", obj: Any, target: TableName) -> tuple[pa.Table, md.Lineage]:
    """The data to publish and the lineage that describes where it came from."""
    lineage = md.Lineage(operation="publish")
    if isinstance(obj, str):
        if os.sep in obj or Path(obj).suffix.lower() in FILE_FORMATS:
            lineage.sources = [Path(obj).expanduser().resolve().as_uri()]
            return _read_path(obj), lineage
        name = lh.table_name(obj)
        if name == target:
            raise InvalidInput(f"{obj} is the dataset being published", hint="use lh.dataset(name).set_metadata(...) "
                                                                          "to change only its description/owner/tags")
        table = load_table(lh.catalog, name)
        snap = table.current_snapshot()
        lineage.upstream = [{"table": name.dotted, "snapshot_id": snap.snapshot_id if snap else None}]
        return table.scan().to_arrow(), lineage
    if isinstance(obj, pa.Table):
        return obj, lineage
    if isinstance(obj, pa.RecordBatchReader):
        return obj.read_all(), lineage
    if isinstance(obj, pa.RecordBatch):
        return pa.Table.from_batches([obj]), lineage
    from .engines.base import Result

    if isinstance(obj, Result):
        if obj.has_more:
            raise InvalidInput(f"this result holds only the first {obj.limit:,} rows of the query",
                               hint="re-run the query with --no-limit (or limit=None) before publishing it")
        lineage.sql = obj.sql
        # the engine lists the Iceberg snapshots the query read (stats["scans"])
        lineage.upstream = [{"table": sc["table"], "snapshot_id": sc.get("snapshot_id")}
                            for sc in (obj.stats or {}).get("scans", []) if isinstance(sc, dict) and "table" in sc]
        return obj.table, lineage
    mod = type(obj).__module__.split(".")[0]
    if mod == "pandas":
        return pa.Table.from_pandas(obj, preserve_index=False), lineage
    if mod == "polars":
        return obj.to_arrow(), lineage
    raise InvalidInput(f"cannot publish a {type(obj).__name__}",
                       hint="publish a pandas/polars DataFrame, an Arrow table, a query result, "
                            "a file path or the name of a dataset")


def _normalise(table: pa.Table) -> pa.Table:
    """Iceberg stores microsecond timestamps; pandas gives nanoseconds. Cast them (exactly,
    or refuse), and drop index-only metadata."""
    fields, changed = [], False
    for f in table.schema:
        if pa.types.is_timestamp(f.type) and f.type.unit == "ns":
            fields.append(pa.field(f.name, pa.timestamp("us", tz=f.type.tz), f.nullable))
            changed = True
        else:
            fields.append(f)
    if not changed:
        return table
    try:
        return table.cast(pa.schema(fields))
    except pa.ArrowInvalid as e:
        raise InvalidInput(f"a timestamp column has sub-microsecond values Iceberg cannot store: {e}") from None


def _create_with_data(lh: "Lakehouse", target: TableName, data: pa.Table, props: dict[str, str],
                      summary: dict[str, str]) -> None:
    ensure_namespace(lh.catalog, target.namespace)
    if len(target.namespace) == 1:  # table, data and metadata in one atomic commit
        tx = lh.catalog.create_table_transaction(target.identifier, schema=data.schema, properties=props)
        tx.append(data, snapshot_properties=summary)
        tx.commit_transaction()
        return
    # pyiceberg's create-transaction takes only one-level namespaces: create, write, and
    # drop the new empty table again if the write fails, so a failure leaves nothing
    table = lh.catalog.create_table(target.identifier, schema=data.schema, properties=props)
    try:
        table.append(data, snapshot_properties=summary)
    except BaseException:
        lh.catalog.drop_table(target.identifier)
        raise


def publish(lh: "Lakehouse", obj: Any, name: str, *, kind: str | None = None, description: str | None = None,
            owner: str | None = None, tags: Any = None, mode: str = "overwrite") -> "Dataset":
    """Write `obj` as dataset `name` with its metadata and lineage in one commit; returns the Dataset."""
    from .dataset_index import index_for
    from .datasets import Dataset

    kind = kind or "table"
    if kind in ("model", "report"):
        raise Unsupported(f"publishing a {kind} is coming in a later release", hint="publish tables for now")
    if mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    props = md.metadata_properties(kind=kind, description=description, tags=tags, owner=owner)
    target = lh.table_name(name)
    data, lineage = _to_arrow(lh, obj, target)
    data = _normalise(data)
    summary = lineage.summary()
    exists = table_exists(lh.catalog, target)
    if not exists and owner is None:
        props[md.OWNER] = md.current_user()  # a new dataset belongs to whoever publishes it
    if exists and mode == "create":
        raise Conflict(f"dataset {target} already exists", hint="use mode='overwrite' or 'append'")
    try:
        if exists:
            table = load_table(lh.catalog, target)
            with table.transaction() as tx:
                tx.set_properties(props)
                if mode == "append":
                    tx.append(data, snapshot_properties=summary)
                else:
                    tx.overwrite(data, snapshot_properties=summary)
        else:
            _create_with_data(lh, target, data, {**WRITE_PROPERTIES, **props}, summary)
    except LakelabError:
        raise
    except TableAlreadyExistsError:
        raise Conflict(f"dataset {target} was created by someone else while publishing", hint="retry") from None
    except (CommitFailedException, NoSuchTableError) as e:
        raise Conflict(f"dataset {target} changed while publishing: {e}", hint="retry") from None
    except (ValueError, TypeError, pa.ArrowInvalid, pa.ArrowTypeError) as e:
        # schema mismatch with the existing table, unsupported Arrow types, ...
        raise InvalidInput(f"cannot publish to {target}: {e}") from None
    index_for(lh).refresh(force=True)
    return Dataset(lh, target)

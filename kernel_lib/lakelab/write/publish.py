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
from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import CommitFailedException, NoSuchTableError, TableAlreadyExistsError
from pyiceberg.io.pyarrow import UnsupportedPyArrowTypeException

from lakelab.catalog import metadata as md
from lakelab.catalog.access import WRITE_PROPERTIES, drop_namespaces, ensure_namespace, load_table, table_exists
from lakelab.errors import Conflict, InvalidInput, LakelabError, NotFound
from lakelab.names import TableName, column_name

if TYPE_CHECKING:
    from lakelab.datasets.dataset import Dataset
    from lakelab.lakehouse import Lakehouse

MODES = ("create", "overwrite", "append")
FILE_FORMATS = {
    ".parquet": "parquet",
    ".pq": "parquet",
    ".csv": "csv",
    ".json": "json",
    ".ndjson": "json",
    ".jsonl": "json",
}


def _read_path(path: str) -> pa.Table:
    import pyarrow.csv as pcsv
    import pyarrow.json as pjson
    import pyarrow.parquet as pq

    p = Path(path).expanduser()
    if not p.exists():
        raise NotFound(f"file {path} does not exist")
    fmt = FILE_FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise InvalidInput(
            f"cannot tell the format of {path}",
            hint="publish .parquet, .csv, .json or .ndjson files, or use %ingest for other sources",
        )
    try:
        if fmt == "parquet":
            return pq.read_table(p)
        if fmt == "csv":
            return pcsv.read_csv(p)
        from lakelab.io.sources import DepthGuard  # pyarrow's JSON parser crashes on very deep nesting

        with p.open("rb") as raw:
            return pjson.read_json(DepthGuard(raw, p.as_uri()))
    except (pa.ArrowInvalid, OSError) as e:
        raise InvalidInput(f"cannot read {path} as {fmt}: {e}") from None


def _to_arrow(lh: Lakehouse, obj: Any, target: TableName) -> tuple[pa.Table, md.Lineage]:
    """The data to publish and the lineage that describes where it came from."""
    lineage = md.Lineage(operation="publish")
    if isinstance(obj, str):
        if os.sep in obj or Path(obj).suffix.lower() in FILE_FORMATS:
            lineage.sources = [Path(obj).expanduser().resolve().as_uri()]
            return _read_path(obj), lineage
        name = lh.table_name(obj)
        if name == target:
            raise InvalidInput(
                f"{obj} is the dataset being published",
                hint="use lh.dataset(name).set_metadata(...) to change only its description/owner/tags",
            )
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
    from lakelab.engines.base import Result

    if isinstance(obj, Result):
        if obj.has_more:
            raise InvalidInput(
                f"this result holds only the first {obj.limit:,} rows of the query",
                hint="re-run the query with --no-limit (or limit=None) before publishing it",
            )
        lineage.sql = obj.sql
        # the engine lists the Iceberg snapshots the query read (stats["scans"])
        lineage.upstream = [
            {"table": sc["table"], "snapshot_id": sc.get("snapshot_id")}
            for sc in (obj.stats or {}).get("scans", [])
            if isinstance(sc, dict) and "table" in sc
        ]
        return obj.table, lineage
    mod = type(obj).__module__.split(".")[0]
    if mod == "pandas":
        from lakelab.io.sources import _pandas_to_arrow

        return _pandas_to_arrow(obj), lineage
    if mod == "polars":
        return obj.to_arrow(), lineage
    raise InvalidInput(
        f"cannot publish a {type(obj).__name__}",
        hint="publish a pandas/polars DataFrame, an Arrow table, a query result, a file path or the name of a dataset",
    )


def _normalise(table: pa.Table) -> pa.Table:
    """Column names checked as ingest checks them (folded to lower case, valid identifiers,
    no duplicates); Iceberg stores microsecond timestamps, pandas gives nanoseconds: cast
    them (exactly, or refuse)."""
    if not table.num_columns:
        raise InvalidInput("the data has no columns", hint="a dataset needs at least one column")
    names = [column_name(n) for n in table.column_names]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InvalidInput(
            f"the data has several columns named {dup[0]!r} (once folded to lower case)", hint="rename one of them"
        )
    if names != table.column_names:
        table = table.rename_columns(names)
    fields, changed = [], False
    for f in table.schema:
        if pa.types.is_duration(f.type) or pa.types.is_interval(f.type):
            raise InvalidInput(
                f"column {f.name!r} has type {f.type}, which Iceberg cannot store",
                hint="convert durations to numbers (e.g. seconds) first",
            )
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


def _create_with_data(
    lh: Lakehouse,
    target: TableName,
    data: pa.Table,
    props: dict[str, str],
    summary: dict[str, str],
    location: str | None = None,
    created_ns: list[tuple[str, ...]] | None = None,
) -> None:
    """`created_ns`: namespaces the caller made for this table, dropped again on failure."""
    created = (created_ns or []) + ensure_namespace(lh.catalog, target.namespace)
    try:
        if len(target.namespace) == 1:  # table, data and metadata in one atomic commit
            tx = lh.catalog.create_table_transaction(
                target.identifier, schema=data.schema, location=location, properties=props
            )
            tx.append(data, snapshot_properties=summary)
            tx.commit_transaction()
            return
        # pyiceberg's create-transaction takes only one-level namespaces: create, write, and
        # drop the new empty table again if the write fails, so a failure leaves nothing
        table = lh.catalog.create_table(target.identifier, schema=data.schema, location=location, properties=props)
        try:
            table.append(data, snapshot_properties=summary)
        except BaseException:
            lh.catalog.drop_table(target.identifier)
            raise
    except BaseException:
        drop_namespaces(lh.catalog, created)
        raise


def _check_kind(lh: Lakehouse, target: TableName, kind: str) -> bool:
    """Whether `target` exists; Conflict if it is a dataset of another kind (a model never
    silently replaces a table, nor a table a model)."""
    if not table_exists(lh.catalog, target):
        return False
    have = md.read_metadata(dict(load_table(lh.catalog, target).properties))["kind"]
    if have != kind:
        raise Conflict(
            f"dataset {target} is a {have}; cannot publish a {kind} over it",
            hint=f"publish the {kind} under another name",
        )
    return True


def _remove_empty_folders(location: str, warehouse: Path) -> None:
    """After a failed first publish of a model/report: the empty folders its artifact write
    made (artifacts/, the table's and its namespace's folder), never the warehouse itself."""
    if not location.startswith("file://") and "://" in location:
        return
    path = Path(location[len("file://") :] if location.startswith("file://") else location)
    for folder in (path / "artifacts", path, path.parent):
        if folder == warehouse or warehouse not in folder.parents:
            return
        try:
            folder.rmdir()  # only ever removes an empty folder
        except OSError:
            return


def _publish_artifact(
    lh: Lakehouse, obj: Any, target: TableName, kind: str, props: dict[str, str], *, mode: str, inputs: Any
) -> None:
    """One new version of a model/report dataset: the artifact file first, then ONE commit
    adding its version row, metadata and lineage; the file is deleted if the commit fails."""
    from lakelab.datasets import artifacts as art
    from lakelab.datasets.dataset import Dataset

    if kind not in art.ARTIFACT_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(md.KINDS)}, got {kind!r}")
    exists = _check_kind(lh, target, kind)
    created_ns: list[tuple[str, ...]] = []
    if exists and mode == "create":
        raise Conflict(f"dataset {target} already exists", hint="leave mode out to add a version")
    lineage = md.Lineage(operation="publish", upstream=art.input_lineage(lh, inputs))
    artifact = art.model_artifact(obj) if kind == "model" else art.report_artifact(obj, target.dotted)
    if artifact.meta.get("source"):
        lineage.sources = [artifact.meta["source"]]
    if artifact.meta.get("format") == "notebook":
        lineage.notebook = artifact.meta["source"]
    meta = {**artifact.meta, "inputs": lineage.upstream}
    if exists:
        ds = Dataset(lh, target)
        version, location, fileio = art.next_version(ds), ds.table.location(), ds.table.io
    else:
        if not props.get(md.OWNER):
            props[md.OWNER] = md.current_user()
        created_ns = ensure_namespace(lh.catalog, target.namespace)
        # the artifact is written before the table exists, so resolve the catalog's default
        # location for the name now (pyiceberg 0.12 has no public call for it) and pin it
        location = lh.catalog._resolve_table_location(None, Catalog.namespace_to_string(target.namespace), target.name)
        version, fileio = 1, lh.catalog._load_file_io(location=location)
    # version numbers come from the state read above: a commit that lost a race must fail,
    # not be retried blindly by pyiceberg (it would add a second row with the same number)
    props[art.NO_RETRY[0]] = art.NO_RETRY[1]
    try:
        written = art.write_artifact(fileio, location, version, artifact)
    except BaseException:
        if not exists:
            _remove_empty_folders(location, lh.config.warehouse)
        drop_namespaces(lh.catalog, created_ns)
        raise
    row = art.version_row(version, written, meta)
    try:
        if exists:
            with ds.table.transaction() as tx:
                tx.set_properties(props)
                tx.append(row, snapshot_properties=lineage.summary())
        else:
            _create_with_data(
                lh,
                target,
                row,
                {**WRITE_PROPERTIES, **props},
                lineage.summary(),
                location=location,
                created_ns=created_ns,
            )
    except BaseException as e:
        art.delete_artifact(fileio, written["uri"])
        if not exists:
            _remove_empty_folders(location, lh.config.warehouse)
        if isinstance(e, TableAlreadyExistsError):
            raise Conflict(f"dataset {target} was created by someone else while publishing", hint="retry") from None
        if isinstance(e, (CommitFailedException, NoSuchTableError)):
            raise Conflict(f"dataset {target} changed while publishing: {e}", hint="retry") from None
        raise


def publish(
    lh: Lakehouse,
    obj: Any,
    name: str,
    *,
    kind: str | None = None,
    description: str | None = None,
    owner: str | None = None,
    tags: Any = None,
    mode: str = "overwrite",
    inputs: Any = None,
) -> Dataset:
    """Write `obj` as dataset `name` with its metadata and lineage in one commit; returns the Dataset.
    Models and reports (kind="model"/"report") add one version per publish (see artifacts.py);
    `inputs` names the datasets they were made from, recorded as lineage with their snapshots."""
    from lakelab.catalog.index import index_for
    from lakelab.datasets.dataset import Dataset

    kind = kind or "table"
    if mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    props = md.metadata_properties(kind=kind, description=description, tags=tags, owner=owner)
    target = lh.table_name(name)
    if kind != "table":
        _publish_artifact(lh, obj, target, kind, props, mode=mode, inputs=inputs)
        index_for(lh).refresh(force=True)
        return Dataset(lh, target)
    from lakelab.datasets.artifacts import input_lineage

    upstream = input_lineage(lh, inputs)
    data, lineage = _to_arrow(lh, obj, target)
    lineage.upstream += [u for u in upstream if u not in lineage.upstream]
    data = _normalise(data)
    summary = lineage.summary()
    exists = _check_kind(lh, target, kind)
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
    except (ValueError, TypeError, pa.ArrowInvalid, pa.ArrowTypeError, UnsupportedPyArrowTypeException) as e:
        # schema mismatch with the existing table, unsupported Arrow types, ...
        raise InvalidInput(f"cannot publish to {target}: {e}") from None
    index_for(lh).refresh(force=True)
    return Dataset(lh, target)

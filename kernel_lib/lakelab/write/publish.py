"""publish: make a result a discoverable, versioned dataset - data, metadata properties and
lineage in ONE Iceberg commit, so a failed publish leaves nothing behind.

Tables and the version rows of models and reports are written by the one write path
(commit.write), which sets the metadata properties and the `publish` lineage in the commit
that writes the rows."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyiceberg.catalog import Catalog, MetastoreCatalog

from lakelab.catalog import metadata as md
from lakelab.catalog.access import drop_namespaces, ensure_namespace, load_table, table_exists
from lakelab.errors import Conflict, InvalidInput, NotFound
from lakelab.io.objects import Source, table_source
from lakelab.io.sources import open_source
from lakelab.names import TableName
from lakelab.write.commit import write

if TYPE_CHECKING:
    from lakelab.datasets.dataset import Dataset
    from lakelab.lakehouse import Lakehouse

MODES = ("create", "overwrite", "append")
FILE_SUFFIXES = (".parquet", ".pq", ".csv", ".json", ".ndjson", ".jsonl")


def _open(lh: Lakehouse, obj: Any, target: TableName) -> tuple[Source, md.Lineage]:
    """The rows to publish, streamed, and the lineage that says where they came from: a
    file's URI (recorded by the write), a dataset's snapshot, a query's SQL and inputs."""
    lineage = md.Lineage(operation="publish")
    if isinstance(obj, str):
        if "://" in obj:  # a file on object storage (or a file:// URL)
            return open_source(obj, storage=lh.catalog.properties), lineage
        if os.sep in obj or Path(obj).suffix.lower() in FILE_SUFFIXES:
            path = Path(obj).expanduser()
            if not path.exists():
                raise NotFound(f"file {obj} does not exist")
            return open_source(str(path.resolve())), lineage
        name = lh.table_name(obj)
        if name == target:
            raise InvalidInput(
                f"{obj} is the dataset being published",
                hint="use lh.dataset(name).set_metadata(...) to change only its description/owner/tags",
            )
        table = load_table(lh.catalog, name)
        snap = table.current_snapshot()
        lineage.upstream = [{"table": name.dotted, "snapshot_id": snap.snapshot_id if snap else None}]
        reader = table.scan(snapshot_id=snap.snapshot_id if snap else None).to_arrow_batch_reader()
        return Source(reader.schema, iter(reader), [], None, name.dotted), lineage
    from lakelab.engines.base import Result

    if isinstance(obj, Result):
        lineage.sql = obj.sql
        # the engine lists the Iceberg snapshots the query read (stats["scans"])
        lineage.upstream = [
            {"table": sc["table"], "snapshot_id": sc.get("snapshot_id")}
            for sc in (obj.stats or {}).get("scans", [])
            if isinstance(sc, dict) and "table" in sc
        ]
    return open_source(obj, verb="publish", storage=lh.catalog.properties), lineage


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


def _dashboard_run(obj: Any, timeout: int | None) -> Any:
    """Run a dashboard's notebook (before anything is written: a failing cell publishes nothing)."""
    from lakelab.datasets import dashboards

    if isinstance(obj, dashboards.NotebookSource):  # a refresh re-running a stored notebook
        src = obj
    elif isinstance(obj, (str, os.PathLike)):
        src = dashboards.open_notebook(obj)
    else:
        raise InvalidInput(f"a dashboard is published from a notebook path, got a {type(obj).__name__}")
    return dashboards.run_notebook(src, timeout=timeout or dashboards.DEFAULT_TIMEOUT_S)


def _publish_artifact(
    lh: Lakehouse,
    obj: Any,
    target: TableName,
    kind: str,
    props: dict[str, str],
    *,
    mode: str,
    inputs: Any,
    timeout: int | None = None,
) -> None:
    """One new version of a model/report/dashboard dataset: the artifact file(s) first, then
    ONE commit adding its version row, metadata and lineage; the files are deleted if the
    commit fails."""
    from lakelab.datasets import artifacts as art
    from lakelab.datasets.dataset import Dataset

    if kind not in art.ARTIFACT_KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(md.KINDS)}, got {kind!r}")
    exists = _check_kind(lh, target, kind)
    created_ns: list[tuple[str, ...]] = []
    if exists and mode == "create":
        raise Conflict(f"dataset {target} already exists", hint="leave mode out to add a version")
    lineage = md.Lineage(operation="publish", upstream=art.input_lineage(lh, inputs))
    extra = None  # a dashboard's notebook, stored next to its page
    if kind == "dashboard":
        from lakelab.datasets.dashboards import artifacts as dashboard_artifacts

        run = _dashboard_run(obj, timeout)
        # the inputs are what the run read, at the snapshots it read them
        lineage.upstream += [u for u in run.inputs if u not in lineage.upstream]
        artifact, extra = dashboard_artifacts(run)
        lineage.notebook = run.source.uri
    else:
        artifact = art.model_artifact(obj) if kind == "model" else art.report_artifact(obj, target.dotted)
    if artifact.meta.get("source"):
        lineage.sources = [artifact.meta["source"]]
    if artifact.meta.get("format") == "notebook":
        lineage.notebook = artifact.meta["source"]
    meta = {**artifact.meta, "inputs": lineage.upstream}
    if exists:
        ds = Dataset(lh, target)
        base = ds.table  # the state the version number comes from: the commit must apply to it
        version, location, fileio = art.next_version(ds), base.location(), base.io
    else:
        base = None
        if not props.get(md.OWNER):
            props[md.OWNER] = md.current_user()
        created_ns = ensure_namespace(lh.catalog, target.namespace)
        location = _new_table_location(lh.catalog, target)
        version, fileio = 1, lh.catalog._load_file_io(location=location)
    # version numbers come from the state read above: a commit that lost a race must fail,
    # not be retried blindly by pyiceberg (it would add a second row with the same number)
    props[art.NO_RETRY[0]] = art.NO_RETRY[1]
    written: dict[str, Any] = {}
    try:
        written = art.write_artifact(fileio, location, version, artifact)
        if extra is not None:
            meta["notebook"] = art.write_artifact(fileio, location, version, extra)
    except BaseException:
        if written:
            art.delete_artifact(fileio, written["uri"])
        if not exists:
            _remove_empty_folders(location, lh.config.warehouse)
        drop_namespaces(lh.catalog, created_ns)
        raise
    row = table_source(art.version_row(version, written, meta), type(obj).__name__)
    try:
        write(
            lh.catalog,
            target,
            row,
            mode="append" if exists else "create",
            lineage=lineage,
            must_exist=True,
            properties=props,
            location=None if exists else location,
            base=base,
            retries=1,
        )
    except BaseException:
        art.delete_artifact(fileio, written["uri"])
        if "notebook" in meta:
            art.delete_artifact(fileio, meta["notebook"]["uri"])
        if not exists:
            _remove_empty_folders(location, lh.config.warehouse)
            drop_namespaces(lh.catalog, created_ns)
        raise


def _new_table_location(catalog: Catalog, target: TableName) -> str:
    """Where the catalog will put a new table `target`: the artifact is written before the
    table exists, so the location is resolved now and pinned. A SQL catalog computes it
    (pyiceberg 0.12 has no public call for it); a REST catalog decides it on the server, so
    it is asked with a staged create, which makes no table."""
    if isinstance(catalog, MetastoreCatalog):
        cat: Any = catalog
        return cat._resolve_table_location(None, Catalog.namespace_to_string(target.namespace), target.name)
    import pyarrow as pa

    staged = catalog.create_table_transaction(target.identifier, schema=pa.schema([("version", pa.int32())]))
    return staged.table_metadata.location


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
    timeout: int | None = None,
) -> Dataset:
    """Write `obj` as dataset `name` with its metadata and lineage in one commit; returns the Dataset.
    Models and reports (kind="model"/"report") add one version per publish (see artifacts.py);
    `inputs` names the datasets they were made from, recorded as lineage with their snapshots.
    Dashboards (kind="dashboard", a notebook path) run the notebook in a fresh kernel first
    (`timeout` seconds per cell) and record the datasets it read (datasets/dashboards.py)."""
    from lakelab.catalog.index import index_for
    from lakelab.datasets.dataset import Dataset

    kind = kind or "table"
    if mode not in MODES:
        raise InvalidInput(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
    props = md.metadata_properties(kind=kind, description=description, tags=tags, owner=owner)
    target = lh.table_name(name)
    if kind != "table":
        _publish_artifact(lh, obj, target, kind, props, mode=mode, inputs=inputs, timeout=timeout)
        index_for(lh).refresh(force=True)
        return Dataset(lh, target)
    from lakelab.datasets.artifacts import input_lineage

    src, lineage = _open(lh, obj, target)
    lineage.upstream += [u for u in input_lineage(lh, inputs) if u not in lineage.upstream]
    exists = _check_kind(lh, target, kind)
    if not exists and owner is None:
        props[md.OWNER] = md.current_user()  # a new dataset belongs to whoever publishes it
    if exists and mode == "create":
        raise Conflict(f"dataset {target} already exists", hint="use mode='overwrite' or 'append'")
    try:
        write(lh.catalog, target, src, mode=mode, lineage=lineage, properties=props)
    except InvalidInput as e:  # a schema that does not fit the dataset, a type Iceberg lacks, ...
        raise InvalidInput(f"cannot publish to {target}: {e.message}", hint=e.hint) from None
    index_for(lh).refresh(force=True)
    return Dataset(lh, target)

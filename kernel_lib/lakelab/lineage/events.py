"""OpenLineage run events for one write: naming, facets and column lineage.

Naming follows OpenLineage's conventions for Iceberg tables (as its Spark and Flink
integrations emit them): a table is named by where it is stored - `s3://bucket` + `/path`,
or `file` + `/abs/path` - with a `symlinks` facet naming it in the catalog (type TABLE), and
a `catalog` facet (framework iceberg). The snapshot a write made is the `version` facet.

Everything here runs on the emitter's background thread (openlineage.py): it may load tables
from the catalog, and a failure only loses that event.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import (
    catalog_dataset,
    column_lineage_dataset,
    dataset_version_dataset,
    error_message_run,
    external_query_run,
    job_type_job,
    output_statistics_output_dataset,
    parent_run,
    processing_engine_run,
    schema_dataset,
    source_code_location_job,
    sql_job,
    symlinks_dataset,
)
from pyiceberg.catalog import Catalog

from lakelab.catalog.metadata import Lineage, current_user, notebook_path
from lakelab.names import TableName

PRODUCER = "https://github.com/lakelab/lakelab"
JOB_NAMESPACE_ENV = "OPENLINEAGE_NAMESPACE"  # the job namespace, as other OpenLineage integrations read it


def job_namespace() -> str:
    return os.environ.get(JOB_NAMESPACE_ENV) or "lakelab"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


@dataclass
class Session:
    """The notebook (or process) session every write's run names as its parent."""

    run_id: str
    job_name: str
    started: str = field(default_factory=_now)

    def facet(self) -> parent_run.ParentRunFacet:
        return parent_run.ParentRunFacet(
            run=parent_run.Run(runId=self.run_id),
            job=parent_run.Job(namespace=job_namespace(), name=self.job_name),
        )

    def start_event(self) -> RunEvent:
        return RunEvent(
            eventType=RunState.START,
            eventTime=self.started,
            run=Run(runId=self.run_id),
            job=Job(namespace=job_namespace(), name=self.job_name, facets=_job_type("NOTEBOOK")),
            producer=PRODUCER,
        )


def session_job_name() -> str:
    nb = notebook_path()
    return f"notebook.{nb}" if nb else f"session.{current_user()}@{os.uname().nodename}"


@dataclass
class WriteRun:
    """What the background thread needs to describe one write (captured on the writer's thread)."""

    run_id: str
    catalog: Catalog
    name: TableName
    lineage: Lineage
    started: str
    cell: str | None
    query_id: str | None = None  # a Trino-committed write: the query that made the snapshot
    trino: str | None = None  # trino://host:port, for that write's symlink and query facet
    upstream_info: dict[str, TableInfo | None] | None = None  # loaded for START, reused for COMPLETE


def current_cell() -> str | None:
    """The running cell's id (JupyterLab sends it with each execute request), else `In[n]`.
    IPython is looked up, never imported: outside a kernel there is no cell."""
    ipy = sys.modules.get("IPython")
    shell = ipy.get_ipython() if ipy is not None else None
    if shell is None:
        return None
    kernel = getattr(shell, "kernel", None)
    try:
        parent = kernel.get_parent() if kernel is not None else None
        cell_id = (parent or {}).get("metadata", {}).get("cellId")
    except Exception:  # noqa: BLE001 - older kernels have no get_parent
        cell_id = None
    return str(cell_id) if cell_id else f"In[{shell.execution_count}]"


# -- naming --------------------------------------------------------------------------------
def storage_name(location: str) -> tuple[str, str]:
    """(namespace, name) for a table's location: s3://bucket + /path, or file + /path."""
    u = urlparse(location)
    if u.scheme in ("", "file"):
        return "file", os.path.abspath(u.path or location)
    scheme = {"s3a": "s3", "s3n": "s3", "gcs": "gs"}.get(u.scheme, u.scheme)
    return f"{scheme}://{u.netloc}", u.path or "/"


def catalog_namespace(catalog: Catalog) -> str:
    """The catalog as a symlink namespace: its URI when it has one, else its name."""
    uri = str(catalog.properties.get("uri", ""))
    if uri.startswith(("http://", "https://", "thrift://")):
        return uri.rstrip("/")
    return f"iceberg://{catalog.name}"


def _catalog_facet(catalog: Catalog) -> catalog_dataset.CatalogDatasetFacet:
    uri = str(catalog.properties.get("uri", ""))
    return catalog_dataset.CatalogDatasetFacet(
        framework="iceberg",
        type=str(catalog.properties.get("type") or type(catalog).__name__.replace("Catalog", "").lower()),
        name=catalog.name,
        metadataUri=uri if uri.startswith(("http://", "https://", "thrift://")) else None,
        warehouseUri=str(catalog.properties.get("warehouse") or "") or None,
        source="lakelab",
    )


def _symlinks(catalog: Catalog, dotted: str, trino: str | None, trino_catalog: str | None) -> Any:
    ids = [symlinks_dataset.Identifier(namespace=catalog_namespace(catalog), name=dotted, type="TABLE")]
    if trino and trino_catalog:  # how Trino's own OpenLineage listener names the same table
        ids.append(symlinks_dataset.Identifier(namespace=trino, name=f"{trino_catalog}.{dotted}", type="TABLE"))
    return symlinks_dataset.SymlinksDatasetFacet(identifiers=ids)


@dataclass
class TableInfo:
    namespace: str
    name: str
    columns: list[tuple[str, str]]  # (name, Iceberg type)
    facets: dict[str, Any]


def table_info(
    catalog: Catalog, dotted: str, snapshot_id: int | None, trino: str | None, trino_catalog: str | None
) -> TableInfo | None:
    """A lakehouse table as an OpenLineage dataset (None: not in this catalog)."""
    try:
        table = catalog.load_table(tuple(dotted.split(".")))
    except Exception:  # noqa: BLE001 - dropped since, or another Trino catalog
        return None
    ns, name = storage_name(table.location())
    schema = table.schema()
    if snapshot_id is not None:
        snap = table.snapshot_by_id(snapshot_id)
        if snap is not None and snap.schema_id is not None:
            schema = table.schemas().get(snap.schema_id, schema)
    columns = [(f.name, str(f.field_type)) for f in schema.fields]
    facets: dict[str, Any] = {
        "schema": schema_dataset.SchemaDatasetFacet(
            fields=[schema_dataset.SchemaDatasetFacetFields(name=n, type=t) for n, t in columns]
        ),
        "symlinks": _symlinks(catalog, dotted, trino, trino_catalog),
        "catalog": _catalog_facet(catalog),
    }
    if snapshot_id is not None:
        facets["version"] = dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion=str(snapshot_id))
    return TableInfo(ns, name, columns, facets)


def _source_dataset(uri: str) -> InputDataset:
    """A file or URL the write read (not a table)."""
    if uri.startswith("python:"):
        return InputDataset(namespace="python", name=uri.removeprefix("python:") or "object")
    ns, name = storage_name(uri)
    return InputDataset(namespace=ns, name=name)


# -- facets --------------------------------------------------------------------------------
def _job_type(kind: str) -> dict[str, Any]:
    return {"jobType": job_type_job.JobTypeJobFacet(processingType="BATCH", integration="LAKELAB", jobType=kind)}


def _job(run: WriteRun) -> Job:
    facets = _job_type(run.lineage.operation.upper())
    if run.lineage.sql:
        facets["sql"] = sql_job.SQLJobFacet(query=run.lineage.sql, dialect="trino")
    nb = run.lineage.notebook or notebook_path()
    if nb:
        url = Path(nb).absolute().as_uri() + (f"#cell={quote(run.cell, safe='')}" if run.cell else "")
        facets["sourceCodeLocation"] = source_code_location_job.SourceCodeLocationJobFacet(
            type="notebook", url=url, path=nb
        )
    return Job(namespace=job_namespace(), name=f"{run.lineage.operation}.{run.name.dotted}", facets=facets)


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:  # a source checkout on PYTHONPATH
        return "unknown"


def _run_facets(run: WriteRun, session: Session) -> dict[str, Any]:
    facets: dict[str, Any] = {
        "parent": session.facet(),
        "processing_engine": processing_engine_run.ProcessingEngineRunFacet(
            version=_version("lakelab"), name="lakelab", openlineageAdapterVersion=_version("openlineage-python")
        ),
    }
    if run.query_id:
        facets["externalQuery"] = external_query_run.ExternalQueryRunFacet(
            externalQueryId=run.query_id, source=run.trino or "trino"
        )
    return facets


def _inputs(run: WriteRun, trino_catalog: str | None) -> tuple[list[InputDataset], dict[str, TableInfo]]:
    out: list[InputDataset] = []
    infos: dict[str, TableInfo] = {}
    if run.upstream_info is None:  # the upstream tables at their snapshots: the same for START and COMPLETE
        run.upstream_info = {
            str(up.get("table", "")): table_info(
                run.catalog, str(up.get("table", "")), up.get("snapshot_id"), run.trino, trino_catalog
            )
            for up in run.lineage.upstream
        }
    for up in run.lineage.upstream:
        dotted = str(up.get("table", ""))
        info = run.upstream_info.get(dotted)
        if info is None:  # another Trino catalog (tpch, a JDBC source): as Trino names it
            out.append(InputDataset(namespace=run.trino or "trino", name=dotted))
            continue
        infos[dotted] = info
        out.append(InputDataset(namespace=info.namespace, name=info.name, facets=info.facets))
    out.extend(_source_dataset(u) for u in run.lineage.sources)
    return out, infos


def start_event(run: WriteRun, session: Session, trino_catalog: str | None) -> RunEvent:
    inputs, _ = _inputs(run, trino_catalog)
    return RunEvent(
        eventType=RunState.START,
        eventTime=run.started,
        run=Run(runId=run.run_id, facets=_run_facets(run, session)),
        job=_job(run),
        inputs=inputs,
        outputs=[],
        producer=PRODUCER,
    )


def complete_event(
    run: WriteRun, session: Session, trino_catalog: str | None, snapshot_id: int | None, stats: dict[str, int]
) -> RunEvent:
    from lakelab.lineage.columns import column_lineage

    inputs, infos = _inputs(run, trino_catalog)
    outputs: list[OutputDataset] = []
    info = table_info(run.catalog, run.name.dotted, snapshot_id, run.trino, trino_catalog)
    if info is not None:
        facets = dict(info.facets)
        if run.lineage.sql and infos:
            fields = column_lineage(run.lineage.sql, [c for c, _ in info.columns], infos)
            if fields:
                facets["columnLineage"] = column_lineage_dataset.ColumnLineageDatasetFacet(fields=fields)
        out_facets: dict[str, Any] = {
            "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet(
                rowCount=stats.get("rows"), size=stats.get("bytes"), fileCount=stats.get("files")
            )
        }
        outputs.append(OutputDataset(namespace=info.namespace, name=info.name, facets=facets, outputFacets=out_facets))
    return RunEvent(
        eventType=RunState.COMPLETE,
        eventTime=_now(),
        run=Run(runId=run.run_id, facets=_run_facets(run, session)),
        job=_job(run),
        inputs=inputs,
        outputs=outputs,
        producer=PRODUCER,
    )


def fail_event(run: WriteRun, session: Session, message: str) -> RunEvent:
    facets = _run_facets(run, session)
    facets["errorMessage"] = error_message_run.ErrorMessageRunFacet(message=message, programmingLanguage="python")
    return RunEvent(
        eventType=RunState.FAIL,
        eventTime=_now(),
        run=Run(runId=run.run_id, facets=facets),
        job=_job(run),
        inputs=[],
        outputs=[],
        producer=PRODUCER,
    )

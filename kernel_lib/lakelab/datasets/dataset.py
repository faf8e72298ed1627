"""A dataset: what the notebook (lh.dataset) and the server's REST API both call.

A `Dataset` wraps one Iceberg table: schema, metadata, stats, snapshots, lineage, a
bounded preview and a full load. Its answers are the typed values of datasets/models.py.
Finding datasets (search, namespaces, paged listing) is in datasets/search.py."""

from __future__ import annotations

import numbers
from collections import deque
from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.table import Table
from pyiceberg.types import ListType, MapType, NestedField, StructType

from lakelab.catalog import metadata as md
from lakelab.catalog.access import load_table
from lakelab.catalog.index import index_for
from lakelab.datasets.models import (
    DatasetDetails,
    DatasetStats,
    LineageEdge,
    LineageGraph,
    LineageNode,
    PartitionField,
    Preview,
    SchemaField,
    Snapshot,
    Snapshots,
    SortField,
    Versions,
)
from lakelab.engines.observers import Read, ReadEvent, notify
from lakelab.engines.run_context import pinned_snapshot
from lakelab.errors import Conflict, InvalidInput, NotFound
from lakelab.names import TableName, column_list

if TYPE_CHECKING:
    from lakelab.lakehouse import Lakehouse
    from lakelab.usage.report import Usage

MAX_PREVIEW_ROWS = 10_000
MAX_LINEAGE_DEPTH = 10


def schema_field(f: NestedField) -> SchemaField:
    """One schema field: id, name, type, required, doc and nested children."""
    t = f.field_type
    if isinstance(t, StructType):
        kind, children = "struct", list(t.fields)
    elif isinstance(t, ListType):
        kind, children = "list", [t.element_field]
    elif isinstance(t, MapType):
        kind, children = "map", [t.key_field, t.value_field]
    else:
        kind, children = str(t), []
    return SchemaField(
        id=f.field_id,
        name=f.name,
        type=kind,
        required=f.required,
        doc=f.doc,
        fields=tuple(schema_field(c) for c in children),
    )


def parse_timestamp(value: datetime | str | int | float) -> int:
    """A point in time as epoch milliseconds: datetime, ISO-8601 text or epoch ms."""
    if isinstance(value, datetime):
        dt = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return int(dt.timestamp() * 1000)
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and value == value
        and abs(value) != float("inf")
    ):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        try:
            return parse_timestamp(datetime.fromisoformat(text.replace("Z", "+00:00")))
        except (ValueError, OverflowError, OSError):
            pass
    raise InvalidInput(
        f"as_of {str(value)[:60]!r} is not a timestamp",
        hint="use ISO-8601 like 2026-01-31T12:00:00Z or epoch milliseconds",
    )


def source_node_id(source: str, target: str) -> str:
    """A source's node in a lineage graph. A file or URL is one node whoever read it; an
    in-kernel object ("python:pandas.DataFrame") names only a type, so two tables' objects are
    different sources: their nodes are told apart by the dataset they went into."""
    return f"{source}#{target}" if source.startswith("python:") else source


def source_label(node_id: str) -> str:
    """What a source node shows: a file's name, or the object's type (in-kernel object)."""
    if node_id.startswith("python:"):
        return node_id[len("python:") :].split("#", 1)[0] + " (in-kernel object)"
    return node_id.rstrip("/").rsplit("/", 1)[-1] or node_id


class Dataset:
    def __init__(self, lh: Lakehouse, name: TableName):
        self.lh = lh
        self.table_name = name

    def __repr__(self) -> str:
        return f"<Dataset {self.name}>"

    @property
    def name(self) -> str:
        return self.table_name.dotted

    @cached_property
    def table(self) -> Table:
        """The pyiceberg Table (loaded once per Dataset object)."""
        return load_table(self.lh.catalog, self.table_name)

    def refresh(self) -> Dataset:
        self.__dict__.pop("table", None)
        return self

    # -- description -------------------------------------------------------------------
    @property
    def properties(self) -> dict[str, str]:
        return dict(self.table.properties)

    @property
    def metadata(self) -> dict[str, Any]:
        return md.read_metadata(self.properties)

    @property
    def schema(self) -> tuple[SchemaField, ...]:
        return tuple(schema_field(f) for f in self.table.schema().fields)

    @property
    def partition_spec(self) -> tuple[PartitionField, ...]:
        schema = self.table.schema()
        return tuple(
            PartitionField(
                field_id=p.field_id,
                source_id=p.source_id,
                name=p.name,
                source=schema.find_column_name(p.source_id),
                transform=str(p.transform),
            )
            for p in self.table.spec().fields
        )

    @property
    def sort_order(self) -> tuple[SortField, ...]:
        schema = self.table.schema()
        return tuple(
            SortField(
                source_id=s.source_id,
                source=schema.find_column_name(s.source_id),
                transform=str(s.transform),
                direction=s.direction.name.lower(),
                null_order=s.null_order.name.lower().replace("_", "-"),
            )
            for s in self.table.sort_order().fields
        )

    @property
    def stats(self) -> DatasetStats:
        snap = self.table.current_snapshot()
        summary = snap.summary.additional_properties if snap and snap.summary else {}

        def num(key: str) -> int:
            return int(summary.get(key, 0) or 0)

        return DatasetStats(
            row_count=num("total-records"),
            file_count=num("total-data-files"),
            total_bytes=num("total-files-size"),
            current_snapshot_id=snap.snapshot_id if snap else None,
            last_updated_ms=self.table.metadata.last_updated_ms,
        )

    def snapshots(self) -> Snapshots:
        """History, newest first, with each snapshot's summary and the lakelab lineage in it."""
        out = []
        current = self.table.current_snapshot()
        props = self.properties
        for s in sorted(self.table.snapshots(), key=lambda s: s.timestamp_ms, reverse=True):
            summary = dict(s.summary.additional_properties) if s.summary else {}
            try:  # the summary, else the lakelab.lineage.<id> property of a Trino write
                lin = md.lineage_of(summary, props, s.snapshot_id)
            except (ValueError, TypeError):  # a summary written by hand or another tool
                lin = None
            out.append(
                Snapshot(
                    snapshot_id=s.snapshot_id,
                    parent_id=s.parent_snapshot_id,
                    timestamp_ms=s.timestamp_ms,
                    operation=s.summary.operation.value if s.summary else None,
                    current=current is not None and s.snapshot_id == current.snapshot_id,
                    summary={k: v for k, v in summary.items() if not k.startswith("lakelab.")},
                    lineage=lin,
                )
            )
        return Snapshots(out)

    def describe(self) -> DatasetDetails:
        """Everything about the dataset (the REST detail and the card)."""
        meta = self.metadata
        return DatasetDetails(
            name=self.name,
            namespace=".".join(self.table_name.namespace),
            table=self.table_name.name,
            kind=meta["kind"],
            owner=meta["owner"],
            description=meta["description"],
            tags=meta["tags"],
            schema=self.schema,
            partition_spec=self.partition_spec,
            sort_order=self.sort_order,
            stats=self.stats,
            # per-snapshot lineage records are shown as lineage, not as raw properties
            properties={k: v for k, v in self.properties.items() if not k.startswith(md.L_PROPERTY)},
            location=self.table.location(),
            format_version=self.table.format_version,
            versions=self.versions() if meta["kind"] != "table" else None,
        )

    # -- data ----------------------------------------------------------------------------
    def _snapshot_id(self, snapshot_id: int | str | None, as_of: Any) -> int | None:
        if snapshot_id is not None and as_of is not None:
            raise InvalidInput("give either snapshot_id or as_of, not both")
        if snapshot_id is not None:
            if isinstance(snapshot_id, bool) or not isinstance(snapshot_id, (numbers.Integral, str)):
                raise InvalidInput(f"snapshot_id must be a whole number, got {str(snapshot_id)[:40]!r}")
            try:
                sid = int(snapshot_id)
            except (TypeError, ValueError):
                raise InvalidInput(f"snapshot_id {str(snapshot_id)[:40]!r} is not a number") from None
            if self.table.snapshot_by_id(sid) is None:
                raise NotFound(f"dataset {self.name} has no snapshot {sid}", hint="list them with .snapshots()")
            return sid
        if as_of is not None:
            ms = parse_timestamp(as_of)
            snap = self.table.snapshot_as_of_timestamp(ms)
            if snap is None:
                raise NotFound(f"dataset {self.name} has no snapshot at or before {as_of}")
            return snap.snapshot_id
        return None

    def _columns(self, columns: Any) -> tuple[str, ...]:
        cols = column_list(columns)
        if cols is None:
            return ("*",)
        known = {f.name for f in self.table.schema().fields}
        unknown = [c for c in cols if c not in known]
        if unknown:
            raise InvalidInput(
                f"dataset {self.name} has no column {', '.join(unknown)}",
                hint=f"columns: {', '.join(sorted(known))[:300]}",
            )
        return tuple(cols)

    def preview(
        self, n: int = 100, columns: Any = None, snapshot_id: int | str | None = None, as_of: Any = None
    ) -> Preview:
        """The first `n` rows (bounded memory: the scan stops after `n` rows), as a `Preview`:
        the Arrow table, shown as rows with the snapshot they were read at."""
        if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= MAX_PREVIEW_ROWS:
            raise InvalidInput(f"preview size must be a whole number from 0 to {MAX_PREVIEW_ROWS:,}, got {n!r}")
        sid = self._read_snapshot(self._snapshot_id(snapshot_id, as_of))
        scan = self.table.scan(selected_fields=self._columns(columns), snapshot_id=sid, limit=n)
        fast = _first_rows_direct(scan, n)
        out = fast if fast is not None else scan.to_arrow()
        return Preview(out, self.name, self._announce(sid, out.num_rows, "preview"))

    def _read_snapshot(self, sid: int | None) -> int | None:
        """The snapshot a direct read uses: the one asked for, else the one a live dashboard
        pinned (engines/run_context.py), else None: the current one, read with the table's
        current schema (a snapshot id would read it with that snapshot's schema)."""
        return sid if sid is not None else pinned_snapshot(self.name)

    def _announce(self, sid: int | None, rows: int, how: str) -> int | None:
        """Tell the read listeners (usage, a dashboard publish) about a direct read; returns the
        snapshot it read (`sid`, or the current one when None)."""
        if sid is None:
            current = self.table.current_snapshot()
            sid = current.snapshot_id if current else None
        notify(ReadEvent(engine="dataset", reads=(Read(self.name, sid),), rows=rows, extra={"call": how}))
        return sid

    def load(self, version: int | str | None = None) -> Any:
        """A table: all rows (at snapshot `version`, default the current one) as Arrow.
        A model or report: version `version` (1, 2, ...; default the latest), checksum verified -
        the model object (joblib), the path of a file/directory artifact, or a report's HTML."""
        if self.metadata["kind"] != "table":
            from lakelab.datasets.artifacts import load_version

            return load_version(self, version)
        sid = self._read_snapshot(self._snapshot_id(version, None))
        out = self.table.scan(snapshot_id=sid).to_arrow()
        self._announce(sid, out.num_rows, "load")
        return out

    def to_ray(
        self,
        snapshot_id: int | str | None = None,
        columns: Any = None,
        filter: Any = None,
        since: int | str | None = None,
    ) -> Any:
        """The rows as a `ray.data.Dataset` read in parallel by the Ray cluster this kernel is
        connected to (`lakelab.workspace(name).connect()`), pinned to snapshot `snapshot_id`
        (default: the current one). `columns` and `filter` (text like "x > 5" or a pyiceberg
        expression) are pushed down; `since=S` reads only the rows appended after snapshot S."""
        from lakelab.datasets.to_ray import to_ray

        return to_ray(self, snapshot_id=snapshot_id, columns=columns, filter=filter, since=since)

    def versions(self) -> Versions:
        """A model's or report's versions, oldest first (version, uri, sha256, bytes, created_at,
        created_by, metadata)."""
        from lakelab.datasets.artifacts import list_versions

        return list_versions(self)

    def url(self, version: int | None = None, *, live: bool = False, inputs: str = "pinned") -> str:
        """A dashboard's pinned view (or `live=True`: its live view, inputs "pinned" or
        "latest") as a path under the Jupyter server."""
        from lakelab.datasets.dashboards import url

        return url(self, version, live=live, inputs=inputs)

    # -- lineage ------------------------------------------------------------------------
    def _upstream_edges(self) -> list[LineageEdge]:
        edges = []
        for s in self.snapshots():
            lin = s.lineage
            if not lin:
                continue
            for u in lin.upstream:
                edges.append(
                    LineageEdge(
                        source=str(u.get("table")),
                        target=self.name,
                        type="dataset",
                        operation=lin.operation,
                        snapshot_id=s.snapshot_id,
                        upstream_snapshot_id=u.get("snapshot_id"),
                    )
                )
            for src in lin.sources:
                edges.append(
                    LineageEdge(
                        source=source_node_id(src, self.name),
                        target=self.name,
                        type="source",
                        operation=lin.operation,
                        snapshot_id=s.snapshot_id,
                    )
                )
        return edges

    def usage(self, days: int = 30) -> Usage:
        """Who queries this dataset and how, over the last `days` days (usage/report.py):
        top users, frequent queries, datasets it is joined with, queries per day."""
        from lakelab.usage.report import usage

        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3660:
            raise InvalidInput(f"days must be a whole number from 1 to 3660, got {days!r}")
        self.table  # noqa: B018 - NotFound for an unknown dataset
        return usage(self.lh, self.name, days)

    def lineage(self, depth: int = 1) -> LineageGraph:
        """Upstream (from snapshot summaries) and downstream (datasets naming this one as
        upstream) up to `depth` hops."""
        if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= MAX_LINEAGE_DEPTH:
            raise InvalidInput(f"lineage depth must be from 1 to {MAX_LINEAGE_DEPTH}, got {depth!r}")
        self.table  # noqa: B018 - NotFound for an unknown dataset before walking
        index = index_for(self.lh)
        nodes: dict[str, LineageNode] = {self.name: LineageNode(self.name, "dataset", True, "self", label=self.name)}
        edges: dict[tuple[str, str, int | None], LineageEdge] = {}
        seen_up, queue = {self.name}, deque([(self, 0)])
        while queue:  # upstream
            ds, level = queue.popleft()
            for e in ds._upstream_edges():
                edges[(e.source, e.target, e.snapshot_id)] = e
                if e.source in nodes:
                    continue
                if e.type == "source":
                    nodes[e.source] = LineageNode(e.source, "source", True, "upstream", label=source_label(e.source))
                    continue
                up = self._other(e.source)
                nodes[e.source] = LineageNode(e.source, "dataset", up is not None, "upstream", label=e.source)
                if up is not None and level + 1 < depth and e.source not in seen_up:
                    seen_up.add(e.source)
                    queue.append((up, level + 1))
        frontier, level = [self.name], 0
        while frontier and level < depth:  # downstream, through the index
            nxt = []
            for name in frontier:
                for d in index.downstream(name):
                    edges.setdefault((name, d, None), LineageEdge(source=name, target=d, type="dataset"))
                    if d not in nodes:
                        nodes[d] = LineageNode(d, "dataset", True, "downstream", label=d)
                        nxt.append(d)
            frontier, level = nxt, level + 1
        # a downstream edge also seen with snapshot detail is kept once, with the detail
        detailed = {(e.source, e.target) for e in edges.values() if e.snapshot_id is not None}
        kept = tuple(e for k, e in edges.items() if k[2] is not None or (k[0], k[1]) not in detailed)
        return LineageGraph(dataset=self.name, depth=depth, nodes=tuple(nodes.values()), edges=kept)

    def _other(self, dotted: str) -> Dataset | None:
        try:
            ds = Dataset(self.lh, self.lh.table_name(dotted))
            ds.table  # noqa: B018
            return ds
        except (NotFound, InvalidInput):
            return None

    # -- metadata ---------------------------------------------------------------------
    def set_metadata(
        self, description: str | None = None, owner: str | None = None, tags: Any = None
    ) -> dict[str, Any]:
        """Change description/owner/tags in one catalog commit (kept in the metadata log)."""
        props = md.metadata_properties(description=description, owner=owner, tags=tags)
        if not props:
            raise InvalidInput("nothing to change", hint="give description, owner or tags")
        try:
            with self.table.transaction() as tx:
                tx.set_properties(props)
        except CommitFailedException as e:
            raise Conflict(
                f"dataset {self.name} changed while its metadata was being saved: {e}", hint="retry"
            ) from None
        self.refresh()
        return self.metadata

    # -- display ------------------------------------------------------------------------
    def _repr_html_(self) -> str:
        from lakelab.notebook.cards import dataset_card_html

        return dataset_card_html(self)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any] | None:
        """In JupyterLab: the card and a preview grid with a snapshot slider (notebook/widgets/live.py)."""
        from lakelab.notebook.widgets import live

        return live.dataset_bundle(self)


def _first_rows_direct(scan: Any, n: int) -> pa.Table | None:
    """The first `n` rows read straight from the first data file(s), touching only the first
    row group(s), when that is provably what the Iceberg scan would return: no delete files,
    and every selected column is a primitive stored in the file under the same field id and
    name. Otherwise None, and the caller uses pyiceberg's scan (which reads ahead many row
    groups, so its latency grows with the file). Keeps previews independent of table size."""
    import pyarrow.parquet as pq

    schema = scan.projection()
    if n == 0 or any(not f.field_type.is_primitive for f in schema.fields):
        return None
    tasks = list(scan.plan_files())
    if any(t.delete_files for t in tasks):
        return None
    want = {f.field_id: f.name for f in schema.fields}
    batches: list[pa.RecordBatch] = []
    got = 0
    for task in tasks:
        with scan.io.new_input(task.file.file_path).open() as stream:
            pf = pq.ParquetFile(stream)
            ids = {
                int(f.metadata[b"PARQUET:field_id"]): f.name
                for f in pf.schema_arrow
                if f.metadata and b"PARQUET:field_id" in f.metadata
            }
            if any(ids.get(fid) != name for fid, name in want.items()):
                return None  # renamed, added or re-typed columns: only the scan maps them correctly
            for batch in pf.iter_batches(batch_size=n - got, columns=list(want.values())):
                batches.append(batch)
                got += batch.num_rows
                if got >= n:
                    break
        if got >= n:
            break
    if not batches:
        return None
    table = pa.Table.from_batches(batches).slice(0, n)
    # the scan's output schema: the file's types, no field-id metadata, Iceberg's nullability
    target = pa.schema(
        [pa.field(f.name, table.schema.field(f.name).type, nullable=not f.required) for f in schema.fields]
    )
    try:
        return table.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None

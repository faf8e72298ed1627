"""Typed values the dataset API returns: snapshots, lineage graphs, model/report versions
and dataset details.

Small frozen dataclasses (like pyiceberg's), each readable as `repr` and as escaped HTML in
a notebook; the list types (`Snapshots`, `Versions`) are tuples with `to_pandas()`. The
server turns them into JSON in one place (lakelab_server/serialize.py); a field marked
`OMIT_NONE` (`OMIT_EMPTY`) is left out of that JSON when it is None (empty), as the REST
shapes have it.
Snapshot lineage is `catalog.metadata.Lineage`, the one type the write paths record."""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from lakelab.catalog.metadata import Lineage

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DatasetDetails",
    "DatasetStats",
    "Lineage",
    "LineageEdge",
    "LineageGraph",
    "LineageNode",
    "PartitionField",
    "Preview",
    "SchemaField",
    "Snapshot",
    "Snapshots",
    "SortField",
    "Version",
    "Versions",
]

OMIT_NONE = {"omit": "none"}  # dataclass field metadata: leave out of the JSON when None
OMIT_EMPTY = {"omit": "empty"}  # ... when empty


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _html_table(head: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    th = "".join(f"<th style='text-align:left'>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td style='text-align:left'>{_e(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table class='dataframe'><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def _when(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc) if ms else None


T = TypeVar("T")


class _Rows(tuple[T, ...]):
    """A tuple of typed rows with a DataFrame view and an HTML table in a notebook."""

    _columns: tuple[str, ...] = ()

    def rows(self) -> list[dict[str, Any]]:
        return [item.row() for item in self]  # type: ignore[attr-defined]

    def to_pandas(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame(self.rows(), columns=list(self._columns))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)}):" + "".join(f"\n  {item!r}" for item in self)

    def _repr_html_(self) -> str:
        return _html_table(self._columns, ([r[c] for c in self._columns] for r in self.rows()))


# -- snapshots ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Snapshot:
    """One Iceberg snapshot of a dataset, with the lakelab lineage recorded by the write."""

    snapshot_id: int
    parent_id: int | None
    timestamp_ms: int
    operation: str | None  # Iceberg's: append, overwrite, delete, replace
    current: bool
    summary: dict[str, str]  # Iceberg's summary without the lakelab.* keys
    lineage: Lineage | None

    @property
    def timestamp(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp_ms / 1000, tz=timezone.utc)

    def row(self) -> dict[str, Any]:
        lin = self.lineage
        return {
            "snapshot_id": self.snapshot_id,
            "parent_id": self.parent_id,
            "timestamp": self.timestamp,
            "operation": self.operation,
            "current": self.current,
            "written_by": lin.operation if lin else None,
            "user": lin.user if lin else None,
            "upstream": ", ".join(str(u.get("table")) for u in lin.upstream) if lin else "",
            "added_records": self.summary.get("added-records"),
        }

    def __repr__(self) -> str:
        by = f" by {self.lineage.operation}" if self.lineage else ""
        return (
            f"<Snapshot {self.snapshot_id}{' (current)' if self.current else ''} "
            f"{self.timestamp:%Y-%m-%d %H:%M:%S} {self.operation or '?'}{by}>"
        )

    def _repr_html_(self) -> str:
        return Snapshots([self])._repr_html_()


class Snapshots(_Rows[Snapshot]):
    """A dataset's history, newest first."""

    _columns = (
        "snapshot_id",
        "parent_id",
        "timestamp",
        "operation",
        "current",
        "written_by",
        "user",
        "upstream",
        "added_records",
    )

    @property
    def current(self) -> Snapshot | None:
        return next((s for s in self if s.current), None)


# -- lineage --------------------------------------------------------------------------------
@dataclass(frozen=True)
class LineageNode:
    id: str  # a dataset's dotted name, or a source file's URI
    type: str  # dataset | source
    exists: bool
    direction: str  # self | upstream | downstream
    label: str = ""  # what to show: the dataset's name, a file's name, an object's type


@dataclass(frozen=True)
class LineageEdge:
    """`source` flowed into `target`; snapshot ids say which snapshot of each, when recorded
    (an edge found only through the search index carries none)."""

    source: str
    target: str
    type: str  # dataset | source
    operation: str | None = None
    snapshot_id: int | None = field(default=None, metadata=OMIT_NONE)
    upstream_snapshot_id: int | None = field(default=None, metadata=OMIT_NONE)


@dataclass(frozen=True)
class LineageGraph:
    """Upstream and downstream of `dataset` up to `depth` hops."""

    dataset: str
    depth: int
    nodes: tuple[LineageNode, ...]
    edges: tuple[LineageEdge, ...]

    @property
    def upstream(self) -> list[str]:
        return [n.id for n in self.nodes if n.direction == "upstream"]

    @property
    def downstream(self) -> list[str]:
        return [n.id for n in self.nodes if n.direction == "downstream"]

    def to_pandas(self) -> pd.DataFrame:
        """The edges, one row each."""
        import pandas as pd

        names = [f.name for f in fields(LineageEdge)]
        return pd.DataFrame([{n: getattr(e, n) for n in names} for e in self.edges], columns=names)

    def _label(self, node_id: str) -> str:
        node = next((n for n in self.nodes if n.id == node_id), None)
        return node.label if node is not None and node.label else node_id

    def _edge_rows(self) -> list[tuple[str, str, str, str]]:
        """(from, to, how, which snapshots) per edge, in the words a reader wants."""
        rows = []
        for e in self.edges:
            at = f"@{e.upstream_snapshot_id}" if e.upstream_snapshot_id is not None else ""
            made = f"snapshot {e.snapshot_id}" if e.snapshot_id is not None else ""
            rows.append((self._label(e.source) + at, self._label(e.target), e.operation or e.type, made))
        return rows

    def __repr__(self) -> str:
        hops = f"{self.depth} hop{'s' if self.depth != 1 else ''}"
        lines = [
            f"<LineageGraph {self.dataset} ({hops}): {len(self.upstream)} upstream, {len(self.downstream)} downstream>"
        ]
        lines += [f"  {a} -> {b}  ({how}{', ' + made if made else ''})" for a, b, how, made in self._edge_rows()]
        return "\n".join(lines) if self.edges else lines[0] + "\n  (no lineage recorded)"

    def _repr_html_(self) -> str:
        head = f"<p>lineage of <b>{_e(self.dataset)}</b> (depth {self.depth})</p>"
        return head + _html_table(("from", "to", "how", "made"), self._edge_rows())


# -- previews -------------------------------------------------------------------------------
PREVIEW_REPR_ROWS = 20


class Preview:
    """A dataset's first rows at a snapshot: the Arrow table (every pyarrow.Table attribute
    works on it: num_rows, to_pandas, to_pylist, ...) that shows as a table of rows in a
    notebook and as a short text table in a terminal, not as an Arrow dump."""

    def __init__(self, table: Any, dataset: str, snapshot_id: int | None):
        self._table = table
        self.dataset = dataset
        self.snapshot_id = snapshot_id

    def to_arrow(self) -> Any:
        return self._table

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._table, name)

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self._table.__arrow_c_stream__(requested_schema)

    def __len__(self) -> int:
        return self._table.num_rows

    def __getitem__(self, key: Any) -> Any:
        return self._table[key]

    def __eq__(self, other: object) -> bool:
        other_table = other.to_arrow() if isinstance(other, Preview) else other
        return bool(self._table == other_table)

    __hash__ = None  # type: ignore[assignment]

    def _caption(self) -> str:
        at = f"snapshot {self.snapshot_id}" if self.snapshot_id is not None else "no snapshot (empty)"
        n = self._table.num_rows
        more = f", first {PREVIEW_REPR_ROWS} shown" if n > PREVIEW_REPR_ROWS else ""
        return f"{self.dataset} at {at}: {n:,} row{'s' if n != 1 else ''}{more}"

    def __repr__(self) -> str:
        t = self._table
        names = t.column_names
        rows = [[_short(v) for v in r.values()] for r in t.slice(0, PREVIEW_REPR_ROWS).to_pylist()]
        widths = [max([len(n)] + [len(r[i]) for r in rows]) for i, n in enumerate(names)]
        line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()
        return "\n".join([f"<Preview {self._caption()}>", line(names), *(line(r) for r in rows)])

    def _repr_html_(self) -> str:
        t = self._table.slice(0, PREVIEW_REPR_ROWS)
        return f"<p>{_e(self._caption())}</p>" + _html_table(
            self._table.column_names, ([_short(v) for v in r.values()] for r in t.to_pylist())
        )


def _short(value: Any, width: int = 30) -> str:
    text = "NULL" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


# -- model and report versions --------------------------------------------------------------
@dataclass(frozen=True)
class Version:
    """One version of a model or report: its artifact in the warehouse and how it was made."""

    version: int
    uri: str
    sha256: str
    bytes: int
    created_at: datetime | None
    created_by: str
    metadata: dict[str, Any]  # format, content_type, filenames, libraries, inputs, ...

    @property
    def filenames(self) -> list[str]:
        return list(self.metadata.get("filenames") or [self.uri.rsplit("/", 1)[-1]])

    def row(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "bytes": self.bytes,
            "format": self.metadata.get("format"),
            "files": ", ".join(self.filenames),
            "sha256": self.sha256,
            "uri": self.uri,
        }

    def __repr__(self) -> str:
        when = f" {self.created_at:%Y-%m-%d %H:%M:%S}" if self.created_at else ""
        return (
            f"<Version {self.version}{when} by {self.created_by} {self.bytes:,} bytes "
            f"{self.metadata.get('format', '?')} sha256={self.sha256[:12]}>"
        )

    def _repr_html_(self) -> str:
        return Versions([self])._repr_html_()


class Versions(_Rows[Version]):
    """A model's or report's versions, oldest first."""

    _columns = ("version", "created_at", "created_by", "bytes", "format", "files", "sha256", "uri")

    @property
    def latest(self) -> Version | None:
        return self[-1] if self else None


# -- dataset details ------------------------------------------------------------------------
@dataclass(frozen=True)
class SchemaField:
    """One column; struct, list and map columns carry their children in `fields`."""

    id: int
    name: str
    type: str
    required: bool
    doc: str | None
    fields: tuple[SchemaField, ...] = field(default=(), metadata=OMIT_EMPTY)


@dataclass(frozen=True)
class PartitionField:
    field_id: int
    source_id: int
    name: str
    source: str | None
    transform: str


@dataclass(frozen=True)
class SortField:
    source_id: int
    source: str | None
    transform: str
    direction: str  # asc | desc
    null_order: str  # nulls-first | nulls-last


@dataclass(frozen=True)
class DatasetStats:
    row_count: int
    file_count: int
    total_bytes: int
    current_snapshot_id: int | None
    last_updated_ms: int

    @property
    def last_updated(self) -> datetime | None:
        return _when(self.last_updated_ms)


@dataclass(frozen=True)
class DatasetDetails:
    """Everything about a dataset at one moment: what the REST detail and the card show."""

    name: str
    namespace: str
    table: str
    kind: str
    owner: str | None
    description: str | None
    tags: list[str]
    schema: tuple[SchemaField, ...]
    partition_spec: tuple[PartitionField, ...]
    sort_order: tuple[SortField, ...]
    stats: DatasetStats
    properties: dict[str, str]  # without the per-snapshot lakelab.lineage.* records
    location: str
    format_version: int
    versions: Versions | None = field(default=None, metadata=OMIT_NONE)  # models and reports only

    def __repr__(self) -> str:
        return (
            f"<DatasetDetails {self.name} ({self.kind}) owner={self.owner!r} tags={self.tags} "
            f"columns={len(self.schema)} rows={self.stats.row_count:,} files={self.stats.file_count}>"
        )

    def _repr_html_(self) -> str:
        head = (
            f"<p><b>{_e(self.name)}</b> ({_e(self.kind)}) · owner {_e(self.owner)} · "
            f"{self.stats.row_count:,} rows · {_e(self.location)}</p><p>{_e(self.description)}</p>"
        )
        rows = [(f.id, f.name, f.type, "" if f.required else "yes", f.doc) for f in self.schema]
        return head + _html_table(("id", "column", "type", "nullable", "doc"), rows)

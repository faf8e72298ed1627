"""How an Iceberg snapshot becomes something DuckDB reads: the plan of one table reference
(its data files, and whether DuckDB may read them directly) and the helpers that decide it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.dataset as pads
from pyiceberg.table import Table
from sqlglot import exp

from lakelab.engines.duckdb.dialect import HINT, column_types
from lakelab.engines.duckdb.translations import ViewUse
from lakelab.errors import InvalidInput, NotFound, Unsupported
from lakelab.io.filecache import FileCache
from lakelab.io.filesystems import filesystem, is_local, split, storage_properties
from lakelab.names import TableName


@dataclass
class Scan:
    """How one table reference was read (shown by --explain, asserted by tests)."""

    table: str
    snapshot_id: int | None
    path: str  # "parquet" (DuckDB reads the data files) or "arrow" (pyiceberg's scan)
    reason: str
    files: int = 0


@dataclass
class Plan:
    schema: Any  # the snapshot's schema
    files: list[str]  # local data file paths
    blocker: str | None  # why the data files must not be read directly (None: they may)
    mapping: str | None  # "names" (plain read) or "ids" (field-id schema map)
    sizes: list[int] = field(default_factory=list)  # bytes of each file (object storage: no HEAD)
    dataset: Any = None  # object storage: the pyarrow dataset, footers read once per snapshot
    columns: dict[str, str] = field(default_factory=dict)  # name -> Trino type, for the translator
    columns_key: str = ""  # `columns` as text: part of the translation cache's key
    texts: dict[str, str] = field(default_factory=dict)  # SQL pieces of its views, made once

    def text(self, key: str, make: Callable[[], str]) -> str:
        """A piece of view SQL for this snapshot, made on first use (a kept view's statement
        is compared with the new one on every query: building it is most of that cost)."""
        out = self.texts.get(key)
        if out is None:
            out = self.texts[key] = make()
        return out

    def __post_init__(self) -> None:
        if not self.columns:
            for f in self.schema.fields:
                types = column_types(f.field_type)
                self.columns[f.name] = types[1] if types else "UNKNOWN"
        self.columns_key = json.dumps(self.columns)


@dataclass
class Resolved:
    name: TableName
    table: Table
    snapshot_id: int | None


def duck_type(iceberg_type: Any) -> str:
    """The DuckDB type of a column the field-id read path maps (checked to exist by _plan)."""
    types = column_types(iceberg_type)
    if types is None:
        raise Unsupported(f"column type {iceberg_type} is {HINT}")
    return types[0]


def local_path(uri: str) -> str:
    return uri[len("file://") :] if uri.startswith("file://") else uri


def fast_path_blocker(table: Table, schema: Any, tasks: list) -> str | None:
    """Why DuckDB must not read the data files directly (None = it may)."""
    if not tasks:
        return "no data files"
    if any(t.delete_files for t in tasks):
        return "delete files present"
    if "schema.name-mapping.default" in table.properties:
        return "data files may lack field ids (name mapping)"
    return None


def remote_dataset(plan: Plan, storage: dict[str, Any]) -> pads.Dataset:
    """The snapshot's data files as one pyarrow dataset on the store. Fragments are made with
    their sizes from the manifests (no HEAD per file) and their footers read once, so later
    queries on this snapshot skip straight to the row groups their filters keep."""
    fs, _ = filesystem(plan.files[0], storage)
    fmt = pads.ParquetFileFormat()
    fragments = [fmt.make_fragment(split(f)[1], fs, file_size=n) for f, n in zip(plan.files, plan.sizes, strict=True)]
    for frag in fragments:
        frag.ensure_complete_metadata()
    return pads.FileSystemDataset(fragments, _plain(plan.schema.as_arrow()), fmt, fs)


def _plain(schema: pa.Schema) -> pa.Schema:
    """Strings as string_view: DuckDB pushes string filters into a pyarrow scanner as
    string_view scalars, which Arrow 26 does not compare with string or large_string
    columns (files written from string_view data even store that type)."""
    swap = {t: pa.string_view() for t in (pa.string(), pa.large_string())}
    swap |= {t: pa.binary_view() for t in (pa.binary(), pa.large_binary())}
    return pa.schema([f.with_type(swap.get(f.type, f.type)) for f in schema])


def needs_field_ids(table: Table, schema: Any) -> str:
    """ "names" when every schema the table ever had agrees with `schema` on each column's id,
    name and type (so every data file has exactly these column names), else "ids"."""
    mine = {f.field_id: (f.name, f.field_type) for f in schema.fields}
    names = {f.name: f.field_id for f in schema.fields}
    for other in table.metadata.schemas:
        theirs = {f.field_id: (f.name, f.field_type) for f in other.fields}
        if any(theirs.get(fid) != spec for fid, spec in mine.items()):
            return "ids"
        if any(names.get(f.name, f.field_id) != f.field_id for f in other.fields):
            return "ids"
    return "names"


def register_view(
    con: Any,
    native: Callable[[], Any],
    views: dict[str, str | None],
    view: str,
    res: Resolved,
    plan: Plan,
    use: ViewUse,
    copies: FileCache | None = None,
) -> Scan:
    """Make `view` read one table snapshot on `con`, by the fastest path that is correct for
    its files (`native`: the engine's Ctrl-C guard around DuckDB calls). `views` records what
    each view name is on this connection (its DDL, or None for a registered Arrow object): a
    view whose DDL is unchanged since an earlier statement is kept, not created again.
    `copies`: local copies of object-store files (io/filecache.py); once every file of the
    snapshot is copied, the view reads the copies as local files."""

    def define(ddl: str) -> None:
        if views.get(view) != ddl:
            with native():
                con.execute(ddl)
            views[view] = ddl

    def attach(data: Any) -> None:
        with native():
            if views.get(view) is not None:  # a view kept from an earlier statement
                con.execute(f"DROP VIEW IF EXISTS {quoted}")
            con.register(view, data)
        views[view] = None

    quoted = '"' + view + '"'
    remote = bool(plan.files) and not is_local(plan.files[0])
    paths, copied = plan.files, ""
    if plan.blocker is None and remote and copies is not None:
        local = copies.copies(plan.files, plan.sizes, storage_properties(res.table))
        if local is not None:
            paths, remote, copied = local, False, "; local copies of the store's files"

    def listed() -> str:
        return ", ".join(exp.Literal.string(f).sql("duckdb") for f in paths)

    files = listed() if copied else plan.text("files", listed)  # copies: their paths are the cache's
    if plan.blocker is None and remote and plan.mapping == "names":
        # object storage: a pyarrow dataset over the snapshot's files on pyarrow's S3/GCS
        # filesystem, as the table's FileIO reaches them; DuckDB pushes projection and
        # filters into its scanner and stops reading at a LIMIT
        if plan.dataset is None:
            plan.dataset = remote_dataset(plan, storage_properties(res.table))
        attach(plan.dataset)
        return Scan(str(res.name), res.snapshot_id, "parquet", "no delete files; one schema", len(plan.files))
    if plan.blocker is None and not remote and plan.mapping == "names":
        # every data file has exactly these columns by name: the plain reader is fastest
        cols = plan.text(
            "columns",
            lambda: ", ".join(exp.to_identifier(f.name, quoted=True).sql("duckdb") for f in plan.schema.fields),
        )
        union = ", union_by_name = true" if len(res.table.metadata.schemas) > 1 else ""
        define(f"CREATE OR REPLACE TEMP VIEW {quoted} AS SELECT {cols} FROM read_parquet([{files}]{union})")
        return Scan(str(res.name), res.snapshot_id, "parquet", "no delete files; one schema" + copied, len(plan.files))
    if plan.blocker is None and not remote:
        # renamed or added columns: resolve file columns by Iceberg field id
        entries = plan.text(
            "ids",
            lambda: ", ".join(
                f"{f.field_id}: {{name: {exp.Literal.string(f.name).sql('duckdb')}, "
                f"type: '{duck_type(f.field_type)}', default_value: NULL}}"
                for f in plan.schema.fields
            ),
        )
        define(
            f"CREATE OR REPLACE TEMP VIEW {quoted} AS SELECT * FROM read_parquet([{files}], schema=MAP {{{entries}}})"
        )
        return Scan(
            str(res.name),
            res.snapshot_id,
            "parquet",
            "no delete files; columns mapped by field id" + copied,
            len(plan.files),
        )
    schema = plan.schema
    wanted = [f.name for f in schema.fields if use.columns is None or f.name in use.columns] or [schema.fields[0].name]
    data: Any = schema.select(*wanted).as_arrow().empty_table()
    if res.snapshot_id is not None:
        # pyiceberg's streaming reader (deletes, schema evolution); a reader is read once,
        # so a view the statement scans more than once gets the whole table
        scan = res.table.scan(snapshot_id=res.snapshot_id, selected_fields=tuple(wanted))
        data = scan.to_arrow_batch_reader() if use.scans <= 1 else scan.to_arrow()
    attach(data)
    reason = plan.blocker or "files on object storage with columns mapped by field id"
    return Scan(str(res.name), res.snapshot_id, "arrow", reason, len(plan.files))


def travel(con: Any, native: Callable[[], Any], table: Table, name: TableName, version: exp.Version) -> Any:
    """The snapshot `FOR VERSION AS OF` / `FOR TIMESTAMP AS OF` names (`con` evaluates the
    timestamp as DuckDB would; `native`: the engine's Ctrl-C guard)."""
    kind = str(version.this).upper()
    value = version.args.get("expression")
    if value is None:
        raise InvalidInput(f"FOR {kind} AS OF needs a value")
    if kind == "VERSION":
        if not (isinstance(value, exp.Literal) and value.is_int):
            raise InvalidInput(f"FOR VERSION AS OF needs a snapshot id (a number), got {value.sql('trino')}")
        snap = table.snapshot_by_id(int(value.this))
        if snap is None:
            raise NotFound(
                f"snapshot {value.this} does not exist in {name}", hint=f"see lh.dataset('{name}').snapshots()"
            )
        return snap
    if kind == "TIMESTAMP":
        literal = value.this if isinstance(value, exp.Cast) else value
        if not (isinstance(literal, exp.Literal) and literal.is_string):
            raise InvalidInput(
                f"FOR TIMESTAMP AS OF needs a timestamp literal, got {value.sql('trino')}",
                hint="e.g. FOR TIMESTAMP AS OF TIMESTAMP '2024-05-01 12:00:00 UTC'",
            )
        try:
            with native():
                # fetchall: a result left unfinished blocks the connection's next statement
                rows = con.execute(f"SELECT epoch_ms(CAST(({value.sql('duckdb')}) AS TIMESTAMPTZ))").fetchall()
        except duckdb.Error as e:
            raise InvalidInput(f"FOR TIMESTAMP AS OF needs a timestamp: {e}") from None
        row = rows[0] if rows else None
        if row is None or row[0] is None:
            raise InvalidInput(f"FOR TIMESTAMP AS OF needs a timestamp, got {value.sql('trino')}")
        snap = table.snapshot_as_of_timestamp(int(row[0]))
        if snap is None:
            raise NotFound(f"{name} has no snapshot at or before {value.sql('trino')}")
        return snap
    raise Unsupported(f"FOR {kind} AS OF is {HINT}")

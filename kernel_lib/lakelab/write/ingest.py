"""Ingest: a source (files, DataFrames, Arrow) -> one atomic Iceberg commit.

The source streams through in bounded memory: batches are renamed and cast to the table's
schema, cut into row groups and written as Parquet data files (field ids and column
statistics as pyiceberg writes them) by two writer threads while the next batches are read;
partitioned tables go through pyiceberg's own partitioning writer a chunk at a time. Only
then is everything committed in one transaction, with the lineage in its snapshot summary.
A failure anywhere leaves the table as it was (no table at all for create) and removes the
data files this ingest wrote, found by its write id in their names.
"""

from __future__ import annotations

import html
import itertools
import re
import time
import uuid
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.exceptions import CommitFailedException, TableAlreadyExistsError, ValidationException
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.io.pyarrow import UnsupportedPyArrowTypeException, _dataframe_to_data_files
from pyiceberg.manifest import DataFile
from pyiceberg.table import Transaction
from pyiceberg.transforms import DayTransform, IdentityTransform, MonthTransform, YearTransform

from lakelab.catalog.access import WRITE_PROPERTIES, drop_namespaces, ensure_namespace, table_exists
from lakelab.catalog.metadata import Lineage
from lakelab.errors import Conflict, InvalidInput, LakelabError
from lakelab.io.progress import progress_bar
from lakelab.io.sources import Source, open_source
from lakelab.names import column_list, column_name, ident
from lakelab.write.files import _chunks, _Conformer, _remove_written, _write

if TYPE_CHECKING:
    from lakelab.lakehouse import Lakehouse

MODES = ("create", "append", "overwrite", "upsert")
TRANSFORMS = {"identity": IdentityTransform, "day": DayTransform, "month": MonthTransform, "year": YearTransform}
COMMIT_RETRIES = 3


@dataclass
class IngestReport:
    table: str
    mode: str
    rows: int
    files: int
    bytes: int
    snapshot_id: int | None
    seconds: float
    sources: list[str] = field(default_factory=list)
    rows_updated: int | None = None  # upsert only
    rows_inserted: int | None = None  # upsert only

    def _summary(self) -> str:
        what = f"{self.rows:,} row{'s' if self.rows != 1 else ''}"
        if self.rows_updated is not None:
            what += f" ({self.rows_updated:,} updated, {self.rows_inserted:,} inserted)"
        rate = f", {self.rows / self.seconds:,.0f} rows/s" if self.seconds > 0 and self.rows else ""
        return (
            f"{self.mode} {self.table}: {what} in {self.files} file{'s' if self.files != 1 else ''} "
            f"({_human(self.bytes)}), {self.seconds:.2f} s{rate}, snapshot {self.snapshot_id}"
        )

    def __repr__(self) -> str:
        src = f"\n  from {', '.join(self.sources[:3])}{' ...' if len(self.sources) > 3 else ''}" if self.sources else ""
        return f"IngestReport: {self._summary()}{src}"

    def _repr_html_(self) -> str:
        src = "".join(f"<li><code>{html.escape(s)}</code></li>" for s in self.sources[:10])
        more = f"<li>… {len(self.sources) - 10} more</li>" if len(self.sources) > 10 else ""
        return (
            f'<div class="lakelab-ingest"><b>ingest</b> {html.escape(self._summary())}'
            + (f"<ul style='margin:0'>{src}{more}</ul>" if src else "")
            + "</div>"
        )


def _human(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


# -- names, types, partitions ----------------------------------------------------------------
def storable_type(t: pa.DataType) -> pa.DataType:
    """The Arrow type an Iceberg column can hold for `t` (Iceberg has no unsigned, ns or view types)."""
    if pa.types.is_timestamp(t):  # Iceberg keeps microseconds, and instants in UTC
        return pa.timestamp("us", tz="UTC" if t.tz else None)
    if pa.types.is_time(t):
        return pa.time64("us")
    if pa.types.is_date64(t):
        return pa.date32()
    if t in (pa.uint8(), pa.uint16(), pa.int8(), pa.int16()):
        return pa.int32()
    if t in (pa.uint32(), pa.uint64()):
        return pa.int64()
    if t == pa.float16():
        return pa.float32()
    if pa.types.is_null(t) or t == pa.string_view():
        return pa.large_string()
    if t == pa.binary_view():
        return pa.large_binary()
    if pa.types.is_dictionary(t):
        return storable_type(t.value_type)
    if (
        pa.types.is_list(t)
        or pa.types.is_large_list(t)
        or pa.types.is_fixed_size_list(t)
        or pa.types.is_list_view(t)
        or pa.types.is_large_list_view(t)
    ):
        return pa.large_list(storable_type(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, storable_type(f.type), f.nullable) for f in t])
    if pa.types.is_map(t):
        return pa.map_(storable_type(t.key_type), storable_type(t.item_type))
    if pa.types.is_duration(t) or pa.types.is_interval(t):
        raise InvalidInput(
            f"columns of type {t} cannot be stored in Iceberg", hint="convert durations to numbers (e.g. seconds) first"
        )
    return t


def source_schema(schema: pa.Schema) -> tuple[pa.Schema, list[str]]:
    """(the schema to store, the original names in order); names validated and folded."""
    if not len(schema):
        raise InvalidInput("the source has no columns", hint="a dataset needs at least one column")
    fields, seen = [], {}
    for f in schema:
        name = column_name(f.name)
        if name in seen:
            raise InvalidInput(
                f"columns {seen[name]!r} and {f.name!r} have the same name once folded to lower case",
                hint="rename one of them",
            )
        seen[name] = f.name
        fields.append(pa.field(name, storable_type(f.type), nullable=True))
    return pa.schema(fields), list(schema.names)


def parse_partition_by(spec: str | Iterable[str] | None) -> list[tuple[str, str]]:
    """'region, day(ts)' -> [('region', 'identity'), ('ts', 'day')]."""
    if spec is None:
        return []
    if not isinstance(spec, (str, list, tuple)):
        raise InvalidInput(f"partition_by must be text like 'region,day(ts)' or a list, got {type(spec).__name__}")
    # commas inside parentheses belong to a transform's arguments: bucket(16, id) is one item
    items = [p for p in (re.split(r",(?![^()]*\))", spec) if isinstance(spec, str) else list(spec)) if str(p).strip()]
    out = []
    for item in items:
        text = str(item).strip()
        m = re.fullmatch(r"(\w+)\s*\(\s*([^()]*?)\s*\)", text)
        transform, col = (m.group(1).lower(), m.group(2)) if m else ("identity", text)
        if transform not in TRANSFORMS:
            raise InvalidInput(
                f"unknown partition transform {transform!r} in {text!r}",
                hint="use col, day(col), month(col) or year(col)",
            )
        out.append((ident(col, "partition column"), transform))
    if not out:
        raise InvalidInput("partition_by is empty")
    return out


# -- the entry point ----------------------------------------------------------------------
def _pyiceberg_error(e: Exception, table: str) -> LakelabError:
    msg = str(e).splitlines()[0] if str(e) else type(e).__name__
    if isinstance(e, (TableAlreadyExistsError,)):
        return Conflict(f"dataset {table} already exists", hint="use mode='append' or 'overwrite'")
    if isinstance(e, CommitFailedException):
        return Conflict(f"another writer changed {table} during this ingest: {msg}", hint="run the ingest again")
    if isinstance(e, ValidationException):  # pyiceberg's retry found the other writer's files in our rows
        return Conflict(
            f"another writer changed {table} during this ingest (its new files overlap the rows this "
            "upsert or overwrite replaces); nothing was written",
            hint="run the ingest again",
        )
    return InvalidInput(f"cannot ingest into {table}: {msg}")


def ingest(
    lh: Lakehouse,
    source: Any,
    table: str,
    *,
    mode: str = "append",
    partition_by: Any = None,
    key: Any = None,
    format: str | None = None,
    evolve: bool = False,
    progress: bool | None = None,
) -> IngestReport:
    """Ingest `source` into `table` in one atomic commit; see the module docstring."""
    started = time.perf_counter()
    if mode not in MODES:
        raise InvalidInput(f"unknown mode {mode!r}", hint=f"use one of {', '.join(MODES)}")
    name = lh.table_name(table)
    keys = column_list(key)
    if mode == "upsert" and not keys:
        raise InvalidInput("mode 'upsert' needs key columns", hint="pass key='id' (--key id)")
    if keys and mode != "upsert":
        raise InvalidInput(f"key columns are used only with mode 'upsert', not {mode!r}")
    parts = parse_partition_by(partition_by)
    catalog = lh.catalog
    exists = table_exists(catalog, name)
    if mode == "create" and exists:
        raise Conflict(f"dataset {name} already exists", hint="use mode='append' or 'overwrite'")

    existing = catalog.load_table(name.identifier) if exists else None
    column_types = None
    if existing is not None:  # parse CSV text straight into the table's types
        column_types = {f.name: f.type for f in existing.schema().as_arrow() if not pa.types.is_nested(f.type)}
    src = open_source(source, format=format, column_types=column_types)
    incoming, original_names = source_schema(src.schema)
    for k in keys or []:
        if k not in incoming.names:
            raise InvalidInput(f"key column {k!r} is not in the source", hint=f"columns: {', '.join(incoming.names)}")
    for col, _ in parts:
        if col not in incoming.names:
            raise InvalidInput(
                f"partition column {col!r} is not in the source", hint=f"columns: {', '.join(incoming.names)}"
            )
    lineage = Lineage(operation="ingest", sources=src.uris or [f"python:{src.label}"]).summary()

    write_uuid = uuid.uuid4()
    created_ns: list[tuple[str, ...]] = []
    tx: Transaction | None = None
    bar = progress_bar(progress, src.total_rows, f"ingest {name.dotted}")
    try:
        if existing is None:
            created_ns = ensure_namespace(catalog, name.namespace)
            tx = catalog.create_table_transaction(name.identifier, schema=incoming, properties=WRITE_PROPERTIES)
            if parts:
                with tx.update_spec() as spec:
                    for col, transform in parts:
                        spec.add_field(
                            col, TRANSFORMS[transform](), None if transform == "identity" else f"{col}_{transform}"
                        )
        else:
            tx = existing.transaction()
            _check_partitions(existing, parts, name.dotted)
            _evolve(tx, incoming, evolve, name.dotted)
        target = tx.table_metadata.schema().as_arrow()
        conform = _Conformer(src, original_names, target)

        updated = inserted = None
        if mode == "upsert" and existing is not None:
            data = _upsert_source(src, conform, keys or [], bar)
            tx, files, updated, snapshot_id = _upsert_commit(
                lh, tx, name, data, keys or [], lineage, write_uuid, evolve, incoming
            )
            rows, inserted = data.num_rows, data.num_rows - updated
        else:
            files, rows = _write(tx, src, conform, write_uuid, bar)
            snapshot_id = _commit(
                lh, tx, name, files, mode if existing is not None else "create", lineage, evolve, incoming
            )
    except BaseException as e:
        if tx is not None:
            _remove_written(tx.table_metadata.location, write_uuid)
        drop_namespaces(catalog, created_ns)
        if isinstance(e, (LakelabError, KeyboardInterrupt)) or not isinstance(e, Exception):
            raise
        if isinstance(
            e,
            (
                ValueError,
                TypeError,
                pa.ArrowException,
                CommitFailedException,
                ValidationException,
                TableAlreadyExistsError,
                OSError,
                UnsupportedPyArrowTypeException,
            ),
        ):
            raise _pyiceberg_error(e, name.dotted) from None
        raise
    finally:
        if bar is not None:
            bar.close()
    return IngestReport(
        table=name.dotted,
        mode=mode,
        rows=rows,
        files=len(files),
        bytes=sum(f.file_size_in_bytes for f in files),
        snapshot_id=snapshot_id,
        seconds=time.perf_counter() - started,
        sources=src.uris,
        rows_updated=updated,
        rows_inserted=inserted,
    )


def _check_partitions(table: Any, parts: list[tuple[str, str]], name: str) -> None:
    if not parts:
        return
    schema = table.schema()
    current = [
        (schema.find_column_name(f.source_id), str(f.transform).split("[")[0].lower()) for f in table.spec().fields
    ]
    if current != parts:
        have = ", ".join(c if t == "identity" else f"{t}({c})" for c, t in current) or "nothing"
        raise InvalidInput(
            f"dataset {name} is partitioned by {have}",
            hint="partition_by applies when a dataset is created; leave it out to use the table's own",
        )


def _evolve(tx: Transaction, incoming: pa.Schema, evolve: bool, name: str) -> None:
    have = {f.name.lower() for f in tx.table_metadata.schema().fields}
    new = [f for f in incoming if f.name not in have]
    if not new:
        return
    if not evolve:
        cols = ", ".join(f.name for f in new)
        raise InvalidInput(
            f"the source has columns that {name} does not: {cols}",
            hint="pass evolve=True (--evolve) to add them, or drop them from the source",
        )
    with tx.update_schema() as upd:
        upd.union_by_name(pa.schema(new))


def _commit(
    lh: Lakehouse,
    tx: Transaction,
    name: Any,
    files: list[DataFile],
    mode: str,
    lineage: dict[str, str],
    evolve: bool,
    incoming: pa.Schema,
) -> int | None:
    """One commit; an append or overwrite that lost a race is redone on the fresh table with the same files."""
    for attempt in range(COMMIT_RETRIES):
        if mode == "overwrite":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "did not match any records" on an empty table
                tx.delete(AlwaysTrue(), snapshot_properties=lineage)
        with tx.update_snapshot(snapshot_properties=lineage).fast_append() as app:
            for f in files:
                app.append_data_file(f)
        try:
            committed = tx.commit_transaction()
            snap = committed.current_snapshot()
            return snap.snapshot_id if snap else None
        except (CommitFailedException, ValidationException):  # validation: an overwrite saw new files
            if mode not in ("append", "overwrite") or attempt == COMMIT_RETRIES - 1:
                raise
            fresh = lh.catalog.load_table(name.identifier)
            tx = fresh.transaction()
            _evolve(tx, incoming, evolve, name.dotted)
    return None


def _match_filter(keys_table: pa.Table, keys: list[str]) -> Any:
    """A predicate selecting (a superset of) the rows whose key is in `keys_table`, for pruning."""
    from pyiceberg.expressions import And, In

    preds = [In(k, [v for v in pc.unique(keys_table.column(k)).to_pylist() if v is not None]) for k in keys]
    return preds[0] if len(preds) == 1 else And(*preds)


def _upsert_source(src: Source, conform: _Conformer, keys: list[str], bar: Any) -> pa.Table:
    """The whole source, conformed: an upsert needs all its keys to find matches (so it is
    gathered in memory), and keeps it to re-apply the merge if another writer wins the commit."""
    batches = [b for chunk, _ in _chunks(src, conform, bar) for b in chunk]
    data = pa.Table.from_batches(batches, schema=conform.target)
    if data.select(keys).group_by(keys).aggregate([]).num_rows != data.num_rows:
        raise InvalidInput(
            f"the source has several rows with the same key ({', '.join(keys)})",
            hint="make the key columns unique in the source",
        )
    return data


def _upsert_commit(
    lh: Lakehouse,
    tx: Transaction,
    name: Any,
    data: pa.Table,
    keys: list[str],
    lineage: dict[str, str],
    write_uuid: uuid.UUID,
    evolve: bool,
    incoming: pa.Schema,
) -> tuple[Transaction, list[DataFile], int, int | None]:
    """Stage and commit the upsert; when another writer committed first, pyiceberg refuses (its
    files may hold our keys), so the merge is redone on the fresh table: what a serial run does."""
    for attempt in range(COMMIT_RETRIES):
        files, updated = _stage_upsert(tx, data, keys, lineage, write_uuid)
        try:
            committed = tx.commit_transaction()
            snap = committed.current_snapshot()
            return tx, files, updated, snap.snapshot_id if snap else None
        except (CommitFailedException, ValidationException):
            if attempt == COMMIT_RETRIES - 1:
                raise
            _remove_written(tx.table_metadata.location, write_uuid)
            tx = lh.catalog.load_table(name.identifier).transaction()
            _evolve(tx, incoming, evolve, name.dotted)
    raise AssertionError("unreachable")


def _stage_upsert(
    tx: Transaction, data: pa.Table, keys: list[str], lineage: dict[str, str], write_uuid: uuid.UUID
) -> tuple[list[DataFile], int]:
    """Copy-on-write upsert in one OVERWRITE snapshot: files holding a source key are rewritten
    without those rows, and every source row is added. (pyiceberg's own upsert compares rows in
    Python and cannot see columns added in the same transaction.)"""
    from pyiceberg.io.pyarrow import ArrowScan
    from pyiceberg.table import DataScan

    key_table = data.select(keys)
    target = data.schema
    md, io, counter = tx.table_metadata, tx._table.io, itertools.count(0)
    match = _match_filter(key_table, keys)
    replaced: list[DataFile] = []
    files: list[DataFile] = []
    matched: list[pa.Table] = []
    if data.num_rows and md.current_snapshot() is not None:
        for task in DataScan(table_metadata=md, io=io, row_filter=match).plan_files():
            old = ArrowScan(table_metadata=md, io=io, projected_schema=md.schema(), row_filter=AlwaysTrue()).to_table(
                [task]
            )
            hits = old.select(keys).join(key_table, keys=keys, join_type="left semi")
            if hits.num_rows == 0:
                continue
            matched.append(hits)
            replaced.append(task.file)
            keep = old.join(key_table, keys=keys, join_type="left anti").select(target.names)
            if keep.num_rows:
                files += _dataframe_to_data_files(
                    table_metadata=md, df=keep.cast(target), io=io, write_uuid=write_uuid, counter=counter
                )
    if data.num_rows:
        files += _dataframe_to_data_files(table_metadata=md, df=data, io=io, write_uuid=write_uuid, counter=counter)
    updated = pa.concat_tables(matched).group_by(keys).aggregate([]).num_rows if matched else 0
    with tx.update_snapshot(snapshot_properties=lineage).overwrite() as ow:
        if replaced:
            ow.delete_by_predicate(match)
        for f in replaced:
            ow.delete_data_file(f)
        for f in files:
            ow.append_data_file(f)
    return files, updated

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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Iterable, Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from pyiceberg.exceptions import CommitFailedException, NoSuchNamespaceError, TableAlreadyExistsError
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.io.pyarrow import UnsupportedPyArrowTypeException, _dataframe_to_data_files
from pyiceberg.manifest import DataFile
from pyiceberg.table import Transaction
from pyiceberg.transforms import DayTransform, IdentityTransform, MonthTransform, YearTransform

from .catalog import WRITE_PROPERTIES, ensure_namespace, table_exists
from .errors import Conflict, InvalidInput, LakelabError
from .metadata import Lineage
from .names import column_list, ident
from .progress import progress_bar
from .sources import Source, open_source

if TYPE_CHECKING:
    from .lakehouse import Lakehouse

MODES = ("create", "append", "overwrite", "upsert")
TRANSFORMS = {"identity": IdentityTransform, "day": DayTransform, "month": MonthTransform, "year": YearTransform}
CHUNK_BYTES = 128 << 20   # Arrow bytes gathered before a chunk is written (bounds memory)
COMMIT_RETRIES = 3
WRITERS = 2              # data files written at once


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
    rows_updated: int | None = None   # upsert only
    rows_inserted: int | None = None  # upsert only

    def _summary(self) -> str:
        what = f"{self.rows:,} row{'s' if self.rows != 1 else ''}"
        if self.rows_updated is not None:
            what += f" ({self.rows_updated:,} updated, {self.rows_inserted:,} inserted)"
        rate = f", {self.rows / self.seconds:,.0f} rows/s" if self.seconds > 0 and self.rows else ""
        return (f"{self.mode} {self.table}: {what} in {self.files} file{'s' if self.files != 1 else ''} "
                f"({_human(self.bytes)}), {self.seconds:.2f} s{rate}, snapshot {self.snapshot_id}")

    def __repr__(self) -> str:
        src = f"\n  from {', '.join(self.sources[:3])}{' ...' if len(self.sources) > 3 else ''}" if self.sources else ""
        return f"IngestReport: {self._summary()}{src}"

    def _repr_html_(self) -> str:
        src = "".join(f"<li><code>{html.escape(s)}</code></li>" for s in self.sources[:10])
        more = f"<li>… {len(self.sources) - 10} more</li>" if len(self.sources) > 10 else ""
        return (f'<div class="lakelab-ingest"><b>ingest</b> {html.escape(self._summary())}'
                + (f"<ul style='margin:0'>{src}{more}</ul>" if src else "") + "</div>")


def _human(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


# -- names, types, partitions ----------------------------------------------------------------
def column_name(name: str) -> str:
    """A source column's name as stored: folded to lower case, or a clear error with a rename."""
    try:
        return ident(name, "column")
    except InvalidInput:
        suggestion = re.sub(r"[^a-z0-9_]+", "_", str(name).strip().lower()).strip("_") or "col"
        if suggestion[0].isdigit():
            suggestion = "c_" + suggestion
        raise InvalidInput(
            f"column {name!r} is not a valid name (letters a-z, digits and underscores only)",
            hint=f"rename it, e.g. to {suggestion!r} (pandas: df.rename(columns={{{name!r}: {suggestion!r}}}))",
        ) from None


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
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t) \
            or pa.types.is_list_view(t) or pa.types.is_large_list_view(t):
        return pa.large_list(storable_type(t.value_type))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, storable_type(f.type), f.nullable) for f in t])
    if pa.types.is_map(t):
        return pa.map_(storable_type(t.key_type), storable_type(t.item_type))
    if pa.types.is_duration(t) or pa.types.is_interval(t):
        raise InvalidInput(f"columns of type {t} cannot be stored in Iceberg",
                           hint="convert durations to numbers (e.g. seconds) first")
    return t


def source_schema(schema: pa.Schema) -> tuple[pa.Schema, list[str]]:
    """(the schema to store, the original names in order); names validated and folded."""
    fields, seen = [], {}
    for f in schema:
        name = column_name(f.name)
        if name in seen:
            raise InvalidInput(f"columns {seen[name]!r} and {f.name!r} have the same name once folded to lower case",
                               hint="rename one of them")
        seen[name] = f.name
        fields.append(pa.field(name, storable_type(f.type), nullable=True))
    return pa.schema(fields), list(schema.names)


def parse_partition_by(spec: "str | Iterable[str] | None") -> list[tuple[str, str]]:
    """'region, day(ts)' -> [('region', 'identity'), ('ts', 'day')]."""
    if spec is None:
        return []
    items = [p for p in (spec.split(",") if isinstance(spec, str) else list(spec)) if str(p).strip()]
    out = []
    for item in items:
        text = str(item).strip()
        m = re.fullmatch(r"(\w+)\s*\(\s*([^()]*?)\s*\)", text)
        transform, col = (m.group(1).lower(), m.group(2)) if m else ("identity", text)
        if transform not in TRANSFORMS:
            raise InvalidInput(f"unknown partition transform {transform!r} in {text!r}",
                               hint="use col, day(col), month(col) or year(col)")
        out.append((ident(col, "partition column"), transform))
    if not out:
        raise InvalidInput("partition_by is empty")
    return out


# -- streaming the source into conformed chunks ---------------------------------------------
class _Conformer:
    """Renames, casts and orders each source batch to the target (table) schema."""

    def __init__(self, src: Source, original_names: list[str], target: pa.Schema):
        self.src, self.target = src, target
        self.index = {column_name(n): i for i, n in enumerate(original_names)}

    def __call__(self, batch: pa.RecordBatch, rows_before: int) -> pa.RecordBatch:
        arrays = []
        for f in self.target:
            i = self.index.get(f.name)
            if i is None:
                arrays.append(pa.nulls(batch.num_rows, f.type))
                continue
            col = batch.column(i)
            if col.type != f.type:
                try:
                    col = col.cast(f.type)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as e:
                    where = self.src.label or "the source"
                    raise InvalidInput(
                        f"column {f.name!r} in {where} (rows {rows_before + 1:,}-{rows_before + batch.num_rows:,}) "
                        f"cannot be stored as {f.type}: {str(e).splitlines()[0]}",
                        hint="fix the values or the column's type") from None
            arrays.append(col)
        return pa.RecordBatch.from_arrays(arrays, schema=self.target)


def _chunks(src: Source, conform: _Conformer, progress: Any,
            limit_rows: int | None = None) -> Iterator[tuple[list[pa.RecordBatch], int]]:
    """Conformed batches gathered up to CHUNK_BYTES (or `limit_rows`); ends with a last, maybe
    empty, chunk."""
    buf: list[pa.RecordBatch] = []
    size = rows = n = 0
    for batch in src:
        if batch.num_rows == 0:
            continue
        b = conform(batch, rows)
        rows += b.num_rows
        buf.append(b)
        size += b.nbytes
        n += b.num_rows
        if progress is not None:
            progress.update(b.num_rows)
        if size >= CHUNK_BYTES or (limit_rows and n >= limit_rows):
            yield buf, rows
            buf, size, n = [], 0, 0
    yield buf, rows


class _FileWriter:
    """Rolling Parquet writer for unpartitioned tables: row groups of the table's row-group
    limit, a new file when one reaches write.target-file-size-bytes on disk. Dictionary
    encoding only where it pays (few distinct values): trying it on every high-cardinality
    column of every row group roughly doubles the encoding time."""

    def __init__(self, md: Any, io: Any, write_uuid: uuid.UUID, counter: Iterator[int], dict_cols: list[str]):
        from pyiceberg.io.pyarrow import _get_parquet_writer_kwargs
        from pyiceberg.table import TableProperties
        from pyiceberg.table.locations import load_location_provider
        from pyiceberg.utils.properties import property_as_int

        self.md, self.io, self.uuid, self.counter = md, io, write_uuid, counter
        self.kwargs = {**_get_parquet_writer_kwargs(md.properties), "use_dictionary": dict_cols,
                       "store_decimal_as_integer": True}
        self.target = property_as_int(md.properties, TableProperties.WRITE_TARGET_FILE_SIZE_BYTES,
                                      TableProperties.WRITE_TARGET_FILE_SIZE_BYTES_DEFAULT) or (512 << 20)
        self.locations = load_location_provider(table_location=md.location, table_properties=md.properties)
        self.files: list[DataFile] = []
        self.writer: pq.ParquetWriter | None = None

    def write(self, rows: pa.Table) -> None:
        if self.writer is None:
            self.path = self.locations.new_data_location(f"00000-{next(self.counter)}-{self.uuid}.parquet")
            self.out = self.io.new_output(self.path).create(overwrite=False)
            self.writer = pq.ParquetWriter(self.out, schema=rows.schema, **self.kwargs)
        self.writer.write_table(rows, row_group_size=rows.num_rows)
        if self.out.tell() >= self.target:
            self.close()

    def close(self) -> list[DataFile]:
        from pyiceberg.io.pyarrow import (compute_statistics_plan, data_file_statistics_from_parquet_metadata,
                                          parquet_path_to_id_mapping)
        from pyiceberg.manifest import DataFileContent, FileFormat
        from pyiceberg.typedef import Record

        if self.writer is None:
            return self.files
        self.writer.close()
        size = self.out.tell()
        self.out.close()
        schema = self.md.schema()
        stats = data_file_statistics_from_parquet_metadata(
            parquet_metadata=self.writer.writer.metadata,
            stats_columns=compute_statistics_plan(schema, self.md.properties),
            parquet_column_mapping=parquet_path_to_id_mapping(schema))
        self.files.append(DataFile.from_args(
            content=DataFileContent.DATA, file_path=self.path, file_format=FileFormat.PARQUET, partition=Record(),
            file_size_in_bytes=size, sort_order_id=None, spec_id=self.md.default_spec_id, equality_ids=None,
            key_metadata=None, **stats.to_serialized_dict()))
        self.writer = None
        return self.files


def _dictionary_columns(sample: pa.Table) -> list[str]:
    return [f.name for f in sample.schema if not pa.types.is_nested(f.type)
            and pc.count_distinct(sample.column(f.name)).as_py() <= sample.num_rows // 2]


def _row_groups(src: Source, conform: _Conformer, rows_per_group: int, progress: Any) -> Iterator[pa.Table]:
    buf: list[pa.RecordBatch] = []
    n = 0
    for chunk, _ in _chunks(src, conform, progress, limit_rows=rows_per_group):
        buf += chunk
        n += sum(b.num_rows for b in chunk)
        while n >= rows_per_group:
            t = pa.Table.from_batches(buf, schema=conform.target)
            yield t.slice(0, rows_per_group)
            rest = t.slice(rows_per_group)
            buf, n = rest.to_batches(), rest.num_rows
    if n:
        yield pa.Table.from_batches(buf, schema=conform.target)


def _write(tx: Transaction, src: Source, conform: _Conformer, write_uuid: uuid.UUID,
           progress: Any) -> tuple[list[DataFile], int]:
    """Write the stream as data files while it is read; WRITERS files are encoded at once (the
    Parquet encoder is single-threaded per file). Memory: a few row groups (or, for
    partitioned tables, a few chunks of CHUNK_BYTES)."""
    from pyiceberg.schema import sanitize_column_names
    from pyiceberg.table import TableProperties
    from pyiceberg.utils.properties import property_as_int

    md, io, counter = tx.table_metadata, tx._table.io, itertools.count(0)
    rows = 0
    inflight: list[Future | None] = [None] * WRITERS
    pools = [ThreadPoolExecutor(1, thread_name_prefix="lakelab-ingest") for _ in range(WRITERS)]
    writers: list[_FileWriter] = []
    files: list[DataFile] = []
    try:
        if md.spec().is_unpartitioned() and sanitize_column_names(md.schema()) == md.schema():
            group = property_as_int(md.properties, TableProperties.PARQUET_ROW_GROUP_LIMIT,
                                    TableProperties.PARQUET_ROW_GROUP_LIMIT_DEFAULT) or 1 << 20
            for i, rg in enumerate(_row_groups(src, conform, group, progress)):
                if not writers:
                    writers = [_FileWriter(md, io, write_uuid, counter, _dictionary_columns(rg.slice(0, 65536)))
                               for _ in range(WRITERS)]
                w = i % WRITERS
                if inflight[w] is not None:
                    inflight[w].result()
                inflight[w] = pools[w].submit(writers[w].write, rg)
                rows += rg.num_rows
            for w, fut in enumerate(inflight):
                if fut is not None:
                    fut.result()
                    inflight[w] = None
            files = [f for w in writers for f in w.close()]
        else:  # partitioned: pyiceberg splits each chunk by partition
            def write(chunk: list[pa.RecordBatch]) -> list[DataFile]:
                t = pa.Table.from_batches(chunk, schema=conform.target)
                return list(_dataframe_to_data_files(table_metadata=md, df=t, io=io, write_uuid=write_uuid,
                                                     counter=counter))

            for i, (chunk, rows) in enumerate(_chunks(src, conform, progress)):
                if not chunk:
                    continue
                w = i % WRITERS
                if inflight[w] is not None:
                    files += inflight[w].result()
                inflight[w] = pools[w].submit(write, chunk)
            for w, fut in enumerate(inflight):
                if fut is not None:
                    files += fut.result()
                    inflight[w] = None
    finally:
        for fut in inflight:  # a failure: let writes in flight end before the caller cleans up
            if fut is not None:
                try:
                    fut.result()
                except Exception:  # noqa: BLE001 - the first error is the one to report
                    pass
        for pool in pools:
            pool.shutdown()
    return files, rows


def _remove_written(location: str, write_uuid: uuid.UUID) -> None:
    """Delete every data file of this write (names carry the write id), partial ones too."""
    try:
        fs, root = pafs.FileSystem.from_uri(location.rstrip("/") + "/data")
        infos = fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
    except (OSError, pa.ArrowInvalid):
        return
    tag = str(write_uuid)
    for i in infos:
        if i.type == pafs.FileType.File and tag in i.base_name:
            fs.delete_file(i.path)
    if isinstance(fs, pafs.LocalFileSystem):  # leave no empty folders behind a failed create
        import os

        for dirpath, _dirs, _files in sorted(os.walk(root), key=lambda d: -len(d[0])):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass


# -- the entry point ----------------------------------------------------------------------
def _pyiceberg_error(e: Exception, table: str) -> LakelabError:
    msg = str(e).splitlines()[0] if str(e) else type(e).__name__
    if isinstance(e, (TableAlreadyExistsError,)):
        return Conflict(f"dataset {table} already exists", hint="use mode='append' or 'overwrite'")
    if isinstance(e, CommitFailedException):
        return Conflict(f"another writer changed {table} during this ingest: {msg}", hint="run the ingest again")
    return InvalidInput(f"cannot ingest into {table}: {msg}")


def ingest(lh: "Lakehouse", source: Any, table: str, *, mode: str = "append", partition_by: Any = None,
           key: Any = None, format: str | None = None, evolve: bool = False,
           progress: bool | None = None) -> IngestReport:
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
        column_types = {f.name: f.type for f in existing.schema().as_arrow()
                        if not pa.types.is_nested(f.type)}
    src = open_source(source, format=format, column_types=column_types)
    incoming, original_names = source_schema(src.schema)
    for k in keys or []:
        if k not in incoming.names:
            raise InvalidInput(f"key column {k!r} is not in the source", hint=f"columns: {', '.join(incoming.names)}")
    for col, _ in parts:
        if col not in incoming.names:
            raise InvalidInput(f"partition column {col!r} is not in the source",
                               hint=f"columns: {', '.join(incoming.names)}")
    lineage = Lineage(operation="ingest", sources=src.uris or [f"python:{src.label}"]).summary()

    write_uuid = uuid.uuid4()
    created_ns = False
    tx: Transaction | None = None
    bar = progress_bar(progress, src.total_rows, f"ingest {name.dotted}")
    try:
        if existing is None:
            try:
                catalog.load_namespace_properties(name.namespace)
            except NoSuchNamespaceError:
                created_ns = True
            ensure_namespace(catalog, name.namespace)
            tx = catalog.create_table_transaction(name.identifier, schema=incoming, properties=WRITE_PROPERTIES)
            if parts:
                with tx.update_spec() as spec:
                    for col, transform in parts:
                        spec.add_field(col, TRANSFORMS[transform](),
                                       None if transform == "identity" else f"{col}_{transform}")
        else:
            tx = existing.transaction()
            _check_partitions(existing, parts, name.dotted)
            _evolve(tx, incoming, evolve, name.dotted)
        target = tx.table_metadata.schema().as_arrow()
        conform = _Conformer(src, original_names, target)

        updated = inserted = None
        if mode == "upsert" and existing is not None:
            files, rows, updated, inserted = _upsert(tx, src, conform, keys or [], lineage, write_uuid, bar)
            snapshot_id = _commit(lh, tx, name, [], "upsert", lineage, evolve, incoming)
        else:
            files, rows = _write(tx, src, conform, write_uuid, bar)
            snapshot_id = _commit(lh, tx, name, files, mode if existing is not None else "create", lineage,
                                  evolve, incoming)
    except BaseException as e:
        if tx is not None:
            _remove_written(tx.table_metadata.location, write_uuid)
        if created_ns:
            try:
                catalog.drop_namespace(name.namespace)
            except Exception:  # noqa: BLE001 - not empty (a concurrent create): keep it
                pass
        if isinstance(e, (LakelabError, KeyboardInterrupt)) or not isinstance(e, Exception):
            raise
        if isinstance(e, (ValueError, TypeError, pa.ArrowException, CommitFailedException,
                          TableAlreadyExistsError, OSError, UnsupportedPyArrowTypeException)):
            raise _pyiceberg_error(e, name.dotted) from None
        raise
    finally:
        if bar is not None:
            bar.close()
    return IngestReport(table=name.dotted, mode=mode, rows=rows, files=len(files),
                        bytes=sum(f.file_size_in_bytes for f in files), snapshot_id=snapshot_id,
                        seconds=time.perf_counter() - started, sources=src.uris,
                        rows_updated=updated, rows_inserted=inserted)


def _check_partitions(table: Any, parts: list[tuple[str, str]], name: str) -> None:
    if not parts:
        return
    schema = table.schema()
    current = [(schema.find_column_name(f.source_id), str(f.transform).split("[")[0].lower())
               for f in table.spec().fields]
    if current != parts:
        have = ", ".join(c if t == "identity" else f"{t}({c})" for c, t in current) or "nothing"
        raise InvalidInput(f"dataset {name} is partitioned by {have}",
                           hint="partition_by applies when a dataset is created; leave it out to use the table's own")


def _evolve(tx: Transaction, incoming: pa.Schema, evolve: bool, name: str) -> None:
    have = {f.name.lower() for f in tx.table_metadata.schema().fields}
    new = [f for f in incoming if f.name not in have]
    if not new:
        return
    if not evolve:
        cols = ", ".join(f.name for f in new)
        raise InvalidInput(f"the source has columns that {name} does not: {cols}",
                           hint="pass evolve=True (--evolve) to add them, or drop them from the source")
    with tx.update_schema() as upd:
        upd.union_by_name(pa.schema(new))


def _commit(lh: "Lakehouse", tx: Transaction, name: Any, files: list[DataFile], mode: str,
            lineage: dict[str, str], evolve: bool, incoming: pa.Schema) -> int | None:
    """One commit; an append that lost a race is retried on the fresh table with the same files."""
    for attempt in range(COMMIT_RETRIES):
        if mode == "overwrite":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "did not match any records" on an empty table
                tx.delete(AlwaysTrue(), snapshot_properties=lineage)
        if mode != "upsert":  # an upsert's snapshot is staged by _upsert
            with tx.update_snapshot(snapshot_properties=lineage).fast_append() as app:
                for f in files:
                    app.append_data_file(f)
        try:
            committed = tx.commit_transaction()
            snap = committed.current_snapshot()
            return snap.snapshot_id if snap else None
        except CommitFailedException:
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


def _upsert(tx: Transaction, src: Source, conform: _Conformer, keys: list[str], lineage: dict[str, str],
            write_uuid: uuid.UUID, bar: Any) -> tuple[list[DataFile], int, int, int]:
    """Copy-on-write upsert in one OVERWRITE snapshot: files holding a source key are rewritten
    without those rows, and every source row is added. (pyiceberg's own upsert compares rows in
    Python and cannot see columns added in the same transaction.)"""
    from pyiceberg.io.pyarrow import ArrowScan
    from pyiceberg.table import DataScan

    # the keys of the whole source are needed to find matches, so it is gathered in memory
    batches = [b for chunk, _ in _chunks(src, conform, bar) for b in chunk]
    data = pa.Table.from_batches(batches, schema=conform.target)
    key_table = data.select(keys)
    if key_table.group_by(keys).aggregate([]).num_rows != data.num_rows:
        raise InvalidInput(f"the source has several rows with the same key ({', '.join(keys)})",
                           hint="make the key columns unique in the source")
    md, io, counter = tx.table_metadata, tx._table.io, itertools.count(0)
    match = _match_filter(key_table, keys)
    replaced: list[DataFile] = []
    files: list[DataFile] = []
    matched: list[pa.Table] = []
    if data.num_rows and md.current_snapshot() is not None:
        for task in DataScan(table_metadata=md, io=io, row_filter=match).plan_files():
            old = ArrowScan(table_metadata=md, io=io, projected_schema=md.schema(),
                            row_filter=AlwaysTrue()).to_table([task])
            hits = old.select(keys).join(key_table, keys=keys, join_type="left semi")
            if hits.num_rows == 0:
                continue
            matched.append(hits)
            replaced.append(task.file)
            keep = old.join(key_table, keys=keys, join_type="left anti").select(conform.target.names)
            if keep.num_rows:
                files += _dataframe_to_data_files(table_metadata=md, df=keep.cast(conform.target), io=io,
                                                  write_uuid=write_uuid, counter=counter)
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
    return files, data.num_rows, updated, data.num_rows - updated

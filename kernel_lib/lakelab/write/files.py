"""Writing a source stream as Parquet data files for one Iceberg commit.

Batches are fitted to the table's schema (types.Conformer), cut into row groups and
written by WRITERS threads while the next batches are read; partitioned tables go through
pyiceberg's own partitioning writer a chunk at a time. Every file carries the write id in
its name so a failed write can remove exactly what it wrote (`_remove_written`).
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.fs as pafs
import pyarrow.parquet as pq
from pyiceberg.io.pyarrow import _dataframe_to_data_files
from pyiceberg.manifest import DataFile
from pyiceberg.table import Transaction

from lakelab.io.filesystems import filesystem
from lakelab.io.objects import Source
from lakelab.write.types import Conformer

CHUNK_BYTES = 128 << 20  # Arrow bytes gathered before a chunk is written (bounds memory)
WRITERS = 2  # data files written at once


def _chunks(
    src: Source, conform: Conformer, progress: Any, limit_rows: int | None = None
) -> Iterator[tuple[list[pa.RecordBatch], int]]:
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
        self.kwargs = {
            **_get_parquet_writer_kwargs(md.properties),
            "use_dictionary": dict_cols,
            "store_decimal_as_integer": True,
        }
        self.target = property_as_int(
            md.properties,
            TableProperties.WRITE_TARGET_FILE_SIZE_BYTES,
            TableProperties.WRITE_TARGET_FILE_SIZE_BYTES_DEFAULT,
        ) or (512 << 20)
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
        from pyiceberg.io.pyarrow import (
            compute_statistics_plan,
            data_file_statistics_from_parquet_metadata,
            parquet_path_to_id_mapping,
        )
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
            parquet_column_mapping=parquet_path_to_id_mapping(schema),
        )
        self.files.append(
            DataFile.from_args(
                content=DataFileContent.DATA,
                file_path=self.path,
                file_format=FileFormat.PARQUET,
                partition=Record(),
                file_size_in_bytes=size,
                sort_order_id=None,
                spec_id=self.md.default_spec_id,
                equality_ids=None,
                key_metadata=None,
                **stats.to_serialized_dict(),
            )
        )
        self.writer = None
        return self.files


def _dictionary_columns(sample: pa.Table) -> list[str]:
    return [
        f.name
        for f in sample.schema
        if not pa.types.is_nested(f.type) and pc.count_distinct(sample.column(f.name)).as_py() <= sample.num_rows // 2
    ]


def _row_groups(src: Source, conform: Conformer, rows_per_group: int, progress: Any) -> Iterator[pa.Table]:
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


def _write(
    tx: Transaction, src: Source, conform: Conformer, write_uuid: uuid.UUID, progress: Any
) -> tuple[list[DataFile], int]:
    """Write the stream as the data files of transaction `tx`."""
    return write_data_files(tx.table_metadata, tx._table.io, src, conform, write_uuid, progress, itertools.count(0))


def write_data_files(
    md: Any, io: Any, src: Source, conform: Conformer, write_uuid: uuid.UUID, progress: Any, counter: itertools.count
) -> tuple[list[DataFile], int]:
    """Write the stream as data files of the table `md` (its metadata) while it is read;
    WRITERS files are encoded at once (the Parquet encoder is single-threaded per file).
    Memory: a few row groups (or, for partitioned tables, a few chunks of CHUNK_BYTES).
    `counter` numbers the files: writers sharing a write id (Ray tasks) each need their own."""
    from pyiceberg.schema import sanitize_column_names
    from pyiceberg.table import TableProperties
    from pyiceberg.utils.properties import property_as_int

    rows = 0
    inflight: list[Future | None] = [None] * WRITERS
    pools = [ThreadPoolExecutor(1, thread_name_prefix="lakelab-ingest") for _ in range(WRITERS)]
    writers: list[_FileWriter] = []
    files: list[DataFile] = []
    try:
        if md.spec().is_unpartitioned() and sanitize_column_names(md.schema()) == md.schema():
            group = (
                property_as_int(
                    md.properties,
                    TableProperties.PARQUET_ROW_GROUP_LIMIT,
                    TableProperties.PARQUET_ROW_GROUP_LIMIT_DEFAULT,
                )
                or 1 << 20
            )
            for i, rg in enumerate(_row_groups(src, conform, group, progress)):
                if not writers:
                    writers = [
                        _FileWriter(md, io, write_uuid, counter, _dictionary_columns(rg.slice(0, 65536)))
                        for _ in range(WRITERS)
                    ]
                w = i % WRITERS
                if (pending := inflight[w]) is not None:
                    pending.result()
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
                return list(
                    _dataframe_to_data_files(table_metadata=md, df=t, io=io, write_uuid=write_uuid, counter=counter)
                )

            for i, (chunk, done) in enumerate(_chunks(src, conform, progress)):
                rows = done
                if not chunk:
                    continue
                w = i % WRITERS
                if (pending := inflight[w]) is not None:
                    files += pending.result()
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


def _remove_written(
    location: str, write_uuid: uuid.UUID, *, new_table: bool = False, storage: dict[str, Any] | None = None
) -> None:
    """Delete every data file of this write (names carry the write id), partial ones too;
    for a table this write was creating, its folder too once nothing else is in it.
    `storage`: the table FileIO's properties. Raises OSError when the store cannot be listed
    or a file cannot be deleted: the caller must say that files were left behind."""
    fs, root = filesystem(location.rstrip("/") + "/data", storage)
    infos = fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
    tag = str(write_uuid)
    for i in infos:
        if i.type == pafs.FileType.File and tag in i.base_name:
            try:
                fs.delete_file(i.path)
            except FileNotFoundError:
                pass
    if isinstance(fs, pafs.LocalFileSystem):  # leave no empty folders behind a failed create
        import os

        for dirpath, _dirs, _files in sorted(os.walk(root), key=lambda d: -len(d[0])):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass
        if new_table:
            try:
                os.rmdir(os.path.dirname(root))  # only ever removes an empty folder
            except OSError:
                pass

"""Test helper: commit a real Iceberg v2 positional delete file (pyiceberg 0.12 writes deletes
copy-on-write only, but reads merge-on-read deletes; Trino and Spark write them)."""

from __future__ import annotations

import uuid

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.manifest import (
    DataFile,
    DataFileContent,
    FileFormat,
    ManifestContent,
    ManifestEntry,
    ManifestEntryStatus,
    ManifestWriterV2,
)
from pyiceberg.table import Table
from pyiceberg.table.update.snapshot import _FastAppendFiles
from pyiceberg.typedef import Record


class _DeleteManifestWriter(ManifestWriterV2):
    def content(self) -> ManifestContent:
        return ManifestContent.DELETES

    @property
    def _meta(self) -> dict[str, str]:
        return {**super()._meta, "content": "deletes"}


class _AppendDeletes(_FastAppendFiles):
    delete_files: list[DataFile] = []

    def _existing_manifests(self):
        manifests = super()._existing_manifests()
        writer = _DeleteManifestWriter(
            spec=self._transaction.table_metadata.spec(),
            schema=self.schema(),
            output_file=self.new_manifest_output(),
            snapshot_id=self._snapshot_id,
            avro_compression=self._compression,
        )
        with writer:
            for f in self.delete_files:
                writer.add(
                    ManifestEntry.from_args(
                        status=ManifestEntryStatus.ADDED,
                        snapshot_id=self._snapshot_id,
                        sequence_number=None,
                        file_sequence_number=None,
                        data_file=f,
                    )
                )
        return manifests + [writer.to_manifest_file()]


def delete_positions(table: Table, data_file_path: str, positions: list[int]) -> None:
    """Mark rows (0-based positions) of one data file deleted with a positional delete file."""
    schema = pa.schema(
        [
            pa.field("file_path", pa.string(), nullable=False, metadata={b"PARQUET:field_id": b"2147483546"}),
            pa.field("pos", pa.int64(), nullable=False, metadata={b"PARQUET:field_id": b"2147483545"}),
        ]
    )
    rows = pa.table({"file_path": [data_file_path] * len(positions), "pos": positions}, schema=schema)
    location = f"{table.location()}/data/{uuid.uuid4()}-deletes.parquet"
    path = location[len("file://") :] if location.startswith("file://") else location
    pq.write_table(rows, path)
    delete_file = DataFile.from_args(
        content=DataFileContent.POSITION_DELETES,
        file_path=location,
        file_format=FileFormat.PARQUET,
        partition=Record(),
        record_count=len(positions),
        file_size_in_bytes=len(open(path, "rb").read()),
        _table_format_version=2,
    )
    with table.transaction() as tx:
        producer = _AppendDeletes(operation=_op(), transaction=tx, io=table.io)
        producer.delete_files = [delete_file]
        producer.commit()


def _op():
    from pyiceberg.table.snapshots import Operation

    return Operation.OVERWRITE

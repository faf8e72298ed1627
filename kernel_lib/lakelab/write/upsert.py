"""Upsert: copy-on-write merge of a source into a table by key columns, in one OVERWRITE
snapshot. The source is gathered in memory (the merge needs all its keys, and keeps them to
redo the merge when another writer commits first)."""

from __future__ import annotations

import itertools
import uuid
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.io.pyarrow import _dataframe_to_data_files
from pyiceberg.manifest import DataFile
from pyiceberg.table import Transaction

from lakelab.errors import InvalidInput
from lakelab.io.objects import Source
from lakelab.write.files import _chunks
from lakelab.write.types import Conformer


def gather(src: Source, conform: Conformer, keys: list[str], bar: Any) -> pa.Table:
    """The whole source, conformed, with unique keys."""
    batches = [b for chunk, _ in _chunks(src, conform, bar) for b in chunk]
    data = pa.Table.from_batches(batches, schema=conform.target)
    if data.select(keys).group_by(keys).aggregate([]).num_rows != data.num_rows:
        raise InvalidInput(
            f"the source has several rows with the same key ({', '.join(keys)})",
            hint="make the key columns unique in the source",
        )
    return data


def _match_filter(keys_table: pa.Table, keys: list[str]) -> Any:
    """A predicate selecting (a superset of) the rows whose key is in `keys_table`, for pruning."""
    from pyiceberg.expressions import And, In, Reference

    # pyiceberg's In takes plain values at run time; its type hints want literals
    preds = [
        In(term=Reference(k), values=[v for v in pc.unique(keys_table.column(k)).to_pylist() if v is not None])  # type: ignore[arg-type]
        for k in keys
    ]
    return preds[0] if len(preds) == 1 else And(*preds)


def stage(
    tx: Transaction, data: pa.Table, keys: list[str], summary: dict[str, str], write_uuid: uuid.UUID
) -> tuple[list[DataFile], int]:
    """Stage the upsert in `tx`: files holding a source key are rewritten without those rows,
    and every source row is added; returns (files written, keys that matched). (pyiceberg's own
    upsert compares rows in Python and cannot see columns added in the same transaction.)"""
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
    with tx.update_snapshot(snapshot_properties=summary).overwrite() as ow:
        if replaced:
            ow.delete_by_predicate(match)
        for f in replaced:
            ow.delete_data_file(f)
        for f in files:
            ow.append_data_file(f)
    return files, updated

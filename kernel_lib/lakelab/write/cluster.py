"""Data files written by Ray tasks where the rows are, for the driver's one commit.

A Ray dataset given to any write (ingest, publish, a Ray transform) is written by a Ray Data
sink: each write task fits its blocks to the table (types.Conformer, the one type policy)
and writes Parquet data files with files.write_data_files, named with the write's id. The
tasks send back only the files' metadata (path, size, statistics); commit.write makes the
one commit with them, so the driver never holds the rows.

A worker that dies mid-write fails the whole write: Ray re-runs its task, which finds the
file the dead attempt began and refuses, so nothing is committed and this write's files are
removed (commit.py); what cannot be removed (the driver died too) is what `lakelab orphans`
lists. Ray Data's own `write_iceberg` commits from the sink instead, without
lineage or a conflict check.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
from pyiceberg.manifest import DataFile
from pyiceberg.table import Transaction

from lakelab.errors import EngineError
from lakelab.io.objects import Source, lakelab_error_in, root_cause
from lakelab.write.files import write_data_files
from lakelab.write.types import Conformer

FILES_PER_TASK = 1 << 20  # file numbers each write task may use (its counter starts at task * this)


def _first_file(md: Any, number: int, write_uuid: uuid.UUID) -> str:
    """Where a task's first data file goes (files._FileWriter's naming)."""
    from pyiceberg.table.locations import load_location_provider

    locations = load_location_provider(table_location=md.location, table_properties=md.properties)
    return locations.new_data_location(f"00000-{number}-{write_uuid}.parquet")


def _sink(md: Any, io: Any, schema: pa.Schema, conform: Conformer, write_uuid: uuid.UUID) -> Any:
    from ray.data.datasource import Datasink

    class DataFileSink(Datasink):
        returns: list[tuple[list[DataFile], int]] = []

        def on_write_complete(self, write_result: Any) -> None:  # on the driver: the files' metadata only
            self.returns = list(write_result.write_returns)

        def get_name(self) -> str:
            return "LakelabDataFiles"

        def write(self, blocks: Iterable[Any], ctx: Any) -> tuple[list[DataFile], int]:
            from ray.data.block import BlockAccessor

            def batches() -> Iterable[pa.RecordBatch]:
                for block in blocks:
                    yield from BlockAccessor.for_block(block).to_arrow().to_batches()

            first = ctx.task_idx * FILES_PER_TASK
            if io.new_input(_first_file(md, first, write_uuid)).exists():
                # Ray re-runs a task whose worker died; a write that lost a worker is never committed
                raise EngineError(
                    f"a Ray worker died while writing part {ctx.task_idx} of this write; nothing was committed",
                    hint="run the write again (`lakelab orphans` lists any files it left)",
                )
            src = Source(schema, iter(batches()), label="ray.data.Dataset")
            return write_data_files(md, io, src, conform, write_uuid, None, itertools.count(first))

    return DataFileSink()


def write_files(
    tx: Transaction, src: Source, conform: Conformer, write_uuid: uuid.UUID, progress: Any
) -> tuple[list[DataFile], int]:
    """Have the cluster write `src.cluster` (a ray.data.Dataset) as data files of `tx`'s table."""
    import ray

    sink = _sink(tx.table_metadata, tx._table.io, src.schema, conform, write_uuid)
    try:
        src.cluster.write_datasink(sink)  # no remote args of its own: fused with the tasks computing the rows
    except ray.exceptions.RayError as e:
        ours = lakelab_error_in(e)
        if ours is not None:  # the type policy's or a transform's own error, as in the kernel
            raise ours from None
        raise EngineError(f"a Ray task failed while writing: {root_cause(e)}") from None
    files = [f for fs, _ in sink.returns for f in fs]
    rows = sum(n for _, n in sink.returns)
    if progress is not None:
        progress.update(rows)
    return files, rows

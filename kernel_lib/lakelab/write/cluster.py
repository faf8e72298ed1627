"""Data files written by Ray tasks where the rows are, for the driver's one commit.

A Ray dataset given to any write (ingest, publish, a Ray transform) is written by a Ray Data
sink: each write task fits its blocks to the table (types.Conformer, the one type policy)
and writes Parquet data files with files.write_data_files, named with the write's id. The
tasks send back only the files' metadata (path, size, statistics); commit.write makes the
one commit with them, so the driver never holds the rows.

Each task also names the Ray node and process that wrote its files (WriteReport.nodes).

A worker that dies mid-write fails the whole write, at once: Ray Data re-runs a task whose
worker died (without end), and a re-run write task refuses before it reads a row, so the
driver gets one WorkerLost naming the table and nothing is committed. The files the write
made are left for `lakelab orphans`: Ray cancels the write's other tasks without waiting for
them, so deleting now would race with files still being finished (commit.py keeps them for
this error). Any other failed write (a transform's fn that raised, a type the policy refuses)
is cleaned up by commit.py, but only after the cluster's CPUs that the write took are free
again (bounded by SETTLE_S): the same cancelled tasks would otherwise still be writing files
while they are deleted, and the next write would find the cluster busy. Ray Data's own
`write_iceberg` commits from the sink instead, without lineage or a conflict check.
"""

from __future__ import annotations

import itertools
import time
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
SETTLE_S = 30.0  # how long a failed write waits for its cancelled tasks to end


class WorkerLost(EngineError):
    """A Ray worker (or node) died while a write task ran on it: nothing is committed and the
    files are left for `lakelab orphans` (see the module docstring)."""


def _attempt() -> int:
    """How many times Ray ran this task before (0 the first time). Ray has no public call for
    it; the core worker's is what its own retry logic counts."""
    import ray

    return int(ray._private.worker.global_worker.core_worker.get_current_task_attempt_number())  # type: ignore[attr-defined]


def _free_cpus() -> float:
    import ray

    return float(ray.available_resources().get("CPU", 0.0))


def _settle(free_before: float, timeout: float = SETTLE_S) -> None:
    """Wait until at least `free_before` CPUs are free again, or `timeout` passes. Ray has no
    public way to wait for the tasks Ray Data cancelled; CPUs are what those tasks hold."""
    deadline = time.monotonic() + timeout
    while _free_cpus() < free_before and time.monotonic() < deadline:
        time.sleep(0.2)


def _sink(md: Any, io: Any, schema: pa.Schema, conform: Conformer, write_uuid: uuid.UUID) -> Any:
    from ray.data.datasource import Datasink

    class DataFileSink(Datasink):
        returns: list[tuple[list[DataFile], int, str]] = []

        def on_write_complete(self, write_result: Any) -> None:  # on the driver: the files' metadata only
            self.returns = list(write_result.write_returns)

        def get_name(self) -> str:
            return "LakelabDataFiles"

        def write(self, blocks: Iterable[Any], ctx: Any) -> tuple[list[DataFile], int, str]:
            import os

            import ray
            from ray.data.block import BlockAccessor

            if _attempt() > 0:  # the first attempt's worker died, maybe mid-file: never retried
                raise WorkerLost(f"write task {ctx.task_idx} lost its worker")

            def batches() -> Iterable[pa.RecordBatch]:
                for block in blocks:
                    yield from BlockAccessor.for_block(block).to_arrow().to_batches()

            first = ctx.task_idx * FILES_PER_TASK
            src = Source(schema, iter(batches()), label="ray.data.Dataset")
            files, rows = write_data_files(md, io, src, conform, write_uuid, None, itertools.count(first))
            writer = f"{ray.get_runtime_context().get_node_id()}:{os.getpid()}"
            return files, rows, writer

    return DataFileSink()


def write_files(
    tx: Transaction, table: str, src: Source, conform: Conformer, write_uuid: uuid.UUID, progress: Any
) -> tuple[list[DataFile], int, list[str]]:
    """Have the cluster write `src.cluster` (a ray.data.Dataset) as data files of `tx`'s table
    (`table`, for errors): the files, their rows and the writers ("node id:pid", distinct)."""
    import ray

    sink = _sink(tx.table_metadata, tx._table.io, src.schema, conform, write_uuid)
    free_before = _free_cpus()
    try:
        src.cluster.write_datasink(sink)  # no remote args of its own: fused with the tasks computing the rows
    except ray.exceptions.RayError as e:
        ours = lakelab_error_in(e)
        died = (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError)
        if isinstance(ours, WorkerLost) or isinstance(e, died):
            raise WorkerLost(
                f"a Ray worker died while writing {table}; nothing was committed",
                hint=f"the files the write had made are left under {tx.table_metadata.location}: "
                f"`lakelab orphans {table} --older-than-minutes 0` lists them once no other write to {table} "
                "is running (add --delete to remove them); then run the write again",
            ) from None
        _settle(free_before)  # commit.py deletes the write's files next
        if ours is not None:  # the type policy's or a transform's own error, as in the kernel
            raise ours from None
        raise EngineError(f"a Ray task failed while writing: {root_cause(e)}") from None
    files = [f for fs, _, _ in sink.returns for f in fs]
    rows = sum(n for _, n, _ in sink.returns)
    if progress is not None:
        progress.update(rows)
    return files, rows, sorted({w for fs, _, w in sink.returns if fs})

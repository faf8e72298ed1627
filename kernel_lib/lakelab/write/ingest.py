"""Ingest: a source (files, globs, URLs, DataFrames, Arrow, query results) -> one atomic
Iceberg commit, through the one write path (commit.write): streamed in bounded memory,
lineage in the snapshot summary, nothing left behind on failure."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lakelab.catalog.metadata import Lineage
from lakelab.errors import InvalidInput
from lakelab.names import column_list
from lakelab.write.commit import parse_partition_by, write
from lakelab.write.report import WriteReport

if TYPE_CHECKING:
    from lakelab.lakehouse import Lakehouse

MODES = ("create", "append", "overwrite", "upsert")
IngestReport = WriteReport  # the name ingest's report had; the same class


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
) -> WriteReport:
    """Ingest `source` into `table` in one atomic commit; `append` creates a missing table."""
    if mode not in MODES:
        raise InvalidInput(f"unknown mode {mode!r}", hint=f"use one of {', '.join(MODES)}")
    name = lh.table_name(table)
    keys = column_list(key)
    if keys and mode != "upsert":
        raise InvalidInput(f"key columns are used only with mode 'upsert', not {mode!r}")
    return write(
        lh.catalog,
        name,
        source,
        mode=mode,
        lineage=Lineage(operation="ingest"),
        keys=keys,
        partition_by=parse_partition_by(partition_by),
        evolve=evolve,
        format=format,
        progress=progress,
    )

"""The engine interface and the result object every engine returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyarrow as pa


@dataclass
class Result:
    """A query result: the fetched rows (bounded by the limit) and what is known beyond them."""

    table: pa.Table
    engine: str  # "duckdb" or "trino": always shown to the user
    sql: str  # the SQL as the user wrote it (parameters not spliced)
    limit: int | None = None  # the row limit applied when fetching, None = no limit
    has_more: bool = False  # more rows exist beyond `limit`
    query_id: str | None = None
    elapsed_s: float | None = None
    info_url: str | None = None  # e.g. the query's page in Trino's UI
    stats: dict[str, Any] = field(default_factory=dict)
    message: str | None = None  # e.g. "CREATE TABLE: 25 rows" for statements

    @property
    def num_rows(self) -> int:
        return self.table.num_rows

    def to_arrow(self) -> pa.Table:
        return self.table

    def to_pandas(self):
        return self.table.to_pandas()

    def to_polars(self):
        import polars as pl

        return pl.from_arrow(self.table)

    def _repr_html_(self) -> str:
        from lakelab.notebook.display import result_html

        return result_html(self)

    def __repr__(self) -> str:
        more = " (more rows exist)" if self.has_more else ""
        return f"<Result engine={self.engine} rows={self.num_rows}{more} columns={self.table.column_names}>"


class Engine(Protocol):
    name: str

    def execute(
        self,
        sql: str,
        params: dict[str, Any] | None = None,
        *,
        limit: int | None = None,
        progress: Callable[[dict[str, Any]], None] | None = None,
    ) -> Result:
        """Run one Trino-dialect statement. `params` are bound (never spliced); `limit` bounds
        the rows fetched and sets `has_more`; `progress` is called with stats dicts
        (state, progress %, rows, bytes, elapsed_s, query_id, info_url) while it runs;
        KeyboardInterrupt cancels the query on the engine and re-raises."""
        ...

    def close(self) -> None: ...

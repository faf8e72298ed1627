"""The engine interface, the result object every engine returns, and how Ctrl-C reaches a
running statement (`ctrl_c`)."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, Protocol

import pyarrow as pa

from lakelab.engines.observers import Read, ReadEvent, notify


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
    note: str | None = None  # shown above a query's rows, e.g. that it came from the result cache
    reads: tuple[Read, ...] = ()  # the tables the statement read, at their snapshots, where known

    @property
    def num_rows(self) -> int:
        return self.table.num_rows

    def to_arrow(self) -> pa.Table:
        return self.table

    def to_pandas(self):
        # Arrow's thread pool costs more than it saves below ~100k rows (0.32 vs 0.15 ms for 10 rows)
        return self.table.to_pandas(use_threads=self.table.num_rows >= 100_000)

    def to_polars(self):
        import polars as pl

        return pl.from_arrow(self.table)

    def announce(self) -> Result:
        """Tell the read listeners (engines/observers.py) about this result; returns it."""
        notify(
            ReadEvent(
                engine=self.engine,
                reads=self.reads,
                sql=self.sql,
                rows=self.num_rows,
                elapsed_s=self.elapsed_s,
                query_id=self.query_id,
            )
        )
        return self

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
        cache: bool = True,
    ) -> Result:
        """Run one Trino-dialect statement. `params` are bound (never spliced); `limit` bounds
        the rows fetched and sets `has_more`; `progress` is called with stats dicts
        (state, progress %, rows, bytes, elapsed_s, query_id, info_url) while it runs;
        `cache=False` runs a query the result cache (engines/cache.py) could answer.
        Ctrl-C cancels the query on the engine and raises KeyboardInterrupt once it has
        stopped (see `ctrl_c`)."""
        ...

    def interrupt(self, thread: int | None = None) -> None:
        """Cancel the statement running on `thread` (a `threading.get_ident()`; None: any),
        from another thread: that `execute` raises KeyboardInterrupt once the engine has
        stopped it. With nothing running it does nothing, so callers may repeat it."""
        ...

    def close(self) -> None: ...


class CtrlC:
    """Ctrl-C (SIGINT) while an engine runs one statement; made by `ctrl_c()`.

    Python raises KeyboardInterrupt wherever the main thread happens to be. In Python code that
    is right, and it still happens here. Inside a native engine call it is not: DuckDB turns it
    into `RuntimeError("Query interrupted")` or drops it, and an interrupt that reaches DuckDB
    before the statement has begun is forgotten (DuckDB clears the flag when a statement
    starts). So inside `native(cancel)` Ctrl-C is only recorded (`pending`, `first_at`) and
    handed to `cancel`; the caller keeps cancelling until the statement has stopped, and
    leaving the block raises KeyboardInterrupt."""

    def __init__(self) -> None:
        self.pending = 0  # Ctrl-Cs not yet raised; a second one means "stop waiting"
        self.first_at: float | None = None  # time.monotonic() of the first Ctrl-C inside native()
        self._native = 0
        self._cancel: Callable[[], Any] | None = None
        self._previous: Any = signal.default_int_handler

    def _handler(self, signum: int, frame: FrameType | None) -> None:
        if not self._native:
            if callable(self._previous):
                self._previous(signum, frame)  # default_int_handler: KeyboardInterrupt here
                return
            raise KeyboardInterrupt
        self.request()

    def request(self) -> None:
        """A Ctrl-C without the signal: from another thread (`Engine.interrupt`), or the
        handler's own. Recorded, handed to `cancel`, raised when the native block ends."""
        self.pending += 1
        if self.first_at is None:
            self.first_at = time.monotonic()
        if self._cancel is not None:
            try:
                self._cancel()
            except Exception:  # noqa: BLE001 - the caller re-issues the cancel in its own loop
                pass

    @contextlib.contextmanager
    def native(self, cancel: Callable[[], Any] | None = None) -> Iterator[CtrlC]:
        """Run an engine call that must not see KeyboardInterrupt midway; a Ctrl-C received
        meanwhile is raised as KeyboardInterrupt when the block ends."""
        saved = self._cancel
        self._native += 1
        if cancel is not None:
            self._cancel = cancel
        try:
            yield self
        finally:
            self._native -= 1
            self._cancel = saved
            if not self._native and self.pending:
                self.pending = 0
                raise KeyboardInterrupt


@contextlib.contextmanager
def ctrl_c() -> Iterator[CtrlC]:
    """Route Ctrl-C through a `CtrlC` for the duration of one statement. Signals reach only the
    main thread, so elsewhere (a server thread) the guard is inert; a SIGINT that is ignored or
    left to the OS stays so."""
    guard = CtrlC()
    if threading.current_thread() is not threading.main_thread():
        yield guard
        return
    previous = signal.getsignal(signal.SIGINT)
    if previous in (signal.SIG_IGN, signal.SIG_DFL, None):
        yield guard
        return
    guard._previous = previous
    signal.signal(signal.SIGINT, guard._handler)
    try:
        yield guard
    finally:
        signal.signal(signal.SIGINT, previous)

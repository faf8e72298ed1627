"""Who hears about every read: the queries engines run and the tables datasets read.

Usage recording and a dashboard publish (which records the inputs its notebook read) subscribe
here, so engines and datasets report a read once and never import their listeners. A listener
that raises is logged and dropped from that one call: observing must never fail a query.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Read:
    """One table a query or dataset call read, at the snapshot it read (None: empty table)."""

    table: str  # "ns.name"
    snapshot_id: int | None


@dataclass(frozen=True)
class ReadEvent:
    """What was read, by which engine, how: the value every listener gets."""

    engine: str  # "duckdb", "trino" or "dataset" (a direct read such as Dataset.to_arrow)
    reads: tuple[Read, ...]
    sql: str | None = None
    rows: int | None = None
    elapsed_s: float | None = None
    query_id: str | None = None
    extra: dict[str, object] = field(default_factory=dict)


Listener = Callable[[ReadEvent], None]

_lock = threading.Lock()
_listeners: list[Listener] = []


def subscribe(listener: Listener) -> Callable[[], None]:
    """Add a listener; returns the function that removes it."""
    with _lock:
        _listeners.append(listener)

    def unsubscribe() -> None:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)

    return unsubscribe


def notify(event: ReadEvent) -> None:
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        try:
            listener(event)
        except Exception:  # a listener's failure never reaches the query
            log.warning("lakelab: a read listener failed", exc_info=True)

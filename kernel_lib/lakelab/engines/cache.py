"""Query results pinned to the snapshots they were computed from.

Re-running a query whose SQL, parameters, row limit and input snapshots are unchanged returns
the stored Arrow table without running it. The key is computed after the engine has resolved
every table reference to a snapshot, so a commit to any input (a new snapshot id) is a miss;
queries calling a non-deterministic function (`now()`, `current_date`, `random()`, `uuid()`…)
are never stored. Results live in memory (LRU, bounded in bytes) and on disk as Arrow IPC files
under `<home>/cache/results/<user>/` (bounded per user, least recently used removed first).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.ipc as ipc
from sqlglot import exp

# bump when the engine's translation changes what a cached SQL text means
FORMAT = 2
MEMORY_BYTES = 256 * 2**20
DISK_BYTES = 2 * 2**30
# the largest single result worth storing (bigger ones are cheaper to recompute than to hold)
MAX_RESULT_BYTES = 128 * 2**20

_VOLATILE_CLASSES = (
    exp.CurrentDate,
    exp.CurrentTimestamp,
    exp.CurrentTime,
    exp.CurrentDatetime,
    exp.CurrentUser,
    exp.Rand,
    exp.Uuid,
)
_VOLATILE_NAMES = {
    "now",
    "random",
    "rand",
    "uuid",
    "shuffle",
    "localtime",
    "localtimestamp",
    "current_timezone",
    "current_user",
    "current_catalog",
    "current_schema",
}


def deterministic(tree: exp.Expression) -> bool:
    """False when the query's answer can change without any input changing."""
    for node in tree.walk():
        if isinstance(node, _VOLATILE_CLASSES):
            return False
        if isinstance(node, exp.Func):
            name = node.name if isinstance(node, exp.Anonymous) else node.sql_name()
            if str(name).lower() in _VOLATILE_NAMES:
                return False
    return True


def hit_note(inputs: Iterable[tuple[str, int | None]]) -> str:
    """What a cell answered from the cache says above its rows."""
    pinned = ", ".join(f"{t}@{s}" for t, s in inputs) or "no tables"
    return f"from the result cache (inputs unchanged: {pinned}); --no-cache reruns it"


def default_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (containers): one shared bucket
        return "default"


class ResultCache:
    """An in-memory LRU in front of a per-user directory of Arrow IPC files."""

    def __init__(
        self,
        root: Path | None,
        *,
        memory_bytes: int = MEMORY_BYTES,
        disk_bytes: int = DISK_BYTES,
        max_result_bytes: int = MAX_RESULT_BYTES,
    ):
        self.root = root
        self.memory_bytes = memory_bytes
        self.disk_bytes = disk_bytes
        self.max_result_bytes = max_result_bytes
        self._memory: OrderedDict[str, pa.Table] = OrderedDict()
        self._held = 0
        self._lock = threading.Lock()

    @staticmethod
    def key(
        sql: str,
        values: Sequence[Any],
        inputs: Iterable[tuple[str, int | None]],
        limit: int | None,
        scope: str = "",
    ) -> str:
        """The statement (as the engine normalised it), its bound values, each input's table and
        snapshot id, the limit; `scope` names the catalog and the default schema."""
        text = json.dumps(
            [FORMAT, scope, sql, [repr(v) for v in values], sorted((t, s) for t, s in inputs), limit],
            default=str,
        )
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, key: str) -> pa.Table | None:
        with self._lock:
            table = self._memory.get(key)
            if table is not None:
                self._memory.move_to_end(key)
                return table
        path = self._path(key)
        if path is None or not path.exists():
            return None
        try:
            with pa.memory_map(str(path)) as source:
                table = ipc.open_file(source).read_all()
            os.utime(path)  # least recently *used* goes first
        except (OSError, pa.ArrowInvalid):
            return None  # removed or half-written by another kernel: recompute
        self._remember(key, table)
        return table

    def put(self, key: str, table: pa.Table) -> None:
        if table.nbytes > self.max_result_bytes:
            return
        self._remember(key, table)
        path = self._path(key)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            with pa.OSFile(str(tmp), "wb") as sink, ipc.new_file(sink, table.schema) as writer:
                writer.write_table(table)
            os.replace(tmp, path)
            self._trim_disk()
        except OSError:
            pass  # a full or read-only disk only costs the next run its speed

    def clear(self) -> int:
        """Forget every stored result, in memory and on disk; returns how many there were."""
        with self._lock:
            keys = set(self._memory)
            self._memory.clear()
            self._held = 0
        if self.root is not None and self.root.exists():
            for f in self.root.glob("*.arrow"):
                keys.add(f.stem)
                f.unlink(missing_ok=True)
        return len(keys)

    # -- internals -----------------------------------------------------------------------
    def _path(self, key: str) -> Path | None:
        return None if self.root is None else self.root / f"{key}.arrow"

    def _remember(self, key: str, table: pa.Table) -> None:
        with self._lock:
            if key in self._memory:
                self._memory.move_to_end(key)
                return
            self._memory[key] = table
            self._held += table.nbytes
            while self._held > self.memory_bytes and len(self._memory) > 1:
                _, old = self._memory.popitem(last=False)
                self._held -= old.nbytes

    def _trim_disk(self) -> None:
        if self.root is None:
            return
        files = []
        for f in self.root.glob("*.arrow"):
            try:
                st = f.stat()
            except OSError:
                continue
            files.append((st.st_mtime, st.st_size, f))
        total = sum(size for _, size, _ in files)
        for _, size, f in sorted(files, key=lambda x: x[0]):
            if total <= self.disk_bytes:
                break
            f.unlink(missing_ok=True)
            total -= size

"""Translations of Trino statements into DuckDB SQL, kept across cells and kernels.

Translating (qualification, type annotation, our rewrites, generation) is most of a cold
query's own time. A translation depends only on the statement's text, its default schema,
which view each table reference reads and the columns and types of those views, and the types
of the bound parameters. It is kept in memory, and as a small JSON file under
`<home>/cache/translations/<user>/`, so a notebook run again in a fresh kernel skips it.

View names belong to one connection, so a translation names its views by placeholders
(`__lk_view1__`, ...) and `Translation.sql_for` puts in the connection's names. Each key holds a
fingerprint of this package's source and sqlglot's version: a changed translator never reads
an older translation. A statement whose text holds a placeholder's prefix is translated
afresh every time and never stored.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlglot import exp

PREFIX = "__lk_view"
_PLACEHOLDER = re.compile(PREFIX + r"(\d+)__")
MEMORY_ENTRIES = 256
DISK_FILES = 4096  # a file is a few kB: about 20 MB at most per user


@dataclass(frozen=True)
class ViewUse:
    """What a statement reads from one view: for pyiceberg's Arrow scan, which columns to read
    and whether a one-pass reader will do."""

    columns: frozenset[str] | None  # None: every column
    scans: int  # how many references of the statement read the view


ALL = ViewUse(None, 1)


@dataclass(frozen=True)
class Translation:
    sql: str  # DuckDB SQL over the placeholders __lk_view1__, __lk_view2__, ...
    uses: tuple[ViewUse, ...]  # per placeholder, in order

    def sql_for(self, views: Sequence[str]) -> str:
        """The SQL over this connection's view names (`views[i]` stands for placeholder i + 1)."""
        return _PLACEHOLDER.sub(lambda m: views[int(m.group(1)) - 1], self.sql)


Maker = Callable[[Sequence[str]], "Translation"]  # translates over the view names it is given


def placeholder(i: int) -> str:
    return f"{PREFIX}{i}__"


def uses_of(tree: exp.Expression, views: Sequence[str]) -> tuple[ViewUse, ...]:
    """What the translated `tree` reads from each of `views`."""
    tables = list(tree.find_all(exp.Table))
    star = any(not isinstance(s.parent, exp.Count) for s in tree.find_all(exp.Star))
    columns = list(tree.find_all(exp.Column))
    out = []
    for view in views:
        mine = [t for t in tables if t.name == view]
        aliases = {t.alias_or_name for t in mine}
        used = None if star else frozenset(c.name for c in columns if c.table in aliases)  # star: not expanded
        out.append(ViewUse(used, len(mine)))
    return tuple(out)


def fingerprint() -> str:
    """This package's source and sqlglot's version (computed once per process)."""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        import sqlglot

        h = hashlib.sha256(sqlglot.__version__.encode())
        for f in sorted(Path(__file__).parent.glob("*.py")):
            h.update(f.read_bytes())
        _FINGERPRINT = h.hexdigest()[:16]
    return _FINGERPRINT


_FINGERPRINT: str | None = None


class Translations:
    """An in-memory LRU in front of a per-user directory of JSON files (`root` None: memory only)."""

    def __init__(self, root: Path | None, *, memory_entries: int = MEMORY_ENTRIES, disk_files: int = DISK_FILES):
        self.root = root
        self.memory_entries = memory_entries
        self.disk_files = disk_files
        self._memory: OrderedDict[str, Translation] = OrderedDict()
        self._lock = threading.Lock()
        self._files: int | None = None  # files on disk, counted at the first write and each trim
        self.last = ""  # where the last translation came from: "memory", "disk" or "new"

    @staticmethod
    def key(text: str, default_schema: str, shape: Sequence[int], columns: Sequence[str], types: Sequence[str]) -> str:
        """`shape`: the placeholder each table reference reads; `columns`: each placeholder's
        columns and types (as text); `types`: the bound parameters' types."""
        raw = json.dumps([fingerprint(), text, default_schema, list(shape), list(columns), list(types)])
        return hashlib.sha256(raw.encode()).hexdigest()

    def get(self, key: str, text: str, views: Sequence[str], make: Maker) -> Translation:
        """The translation of statement `text` over the connection's `views` (one per placeholder):
        stored, or made by `make(names)` over the placeholders and stored."""
        if PREFIX in text:  # the placeholders could not be told from the user's own text
            self.last = "new"
            return make(views)
        with self._lock:
            found = self._memory.get(key)
            if found is not None:
                self._memory.move_to_end(key)
                self.last = "memory"
        if found is None:
            found, self.last = self._read(key), "disk"
            if found is None:
                found, self.last = make([placeholder(i) for i in range(1, len(views) + 1)]), "new"
                self._write(key, found)
            with self._lock:
                self._memory[key] = found
                while len(self._memory) > self.memory_entries:
                    self._memory.popitem(last=False)
        return Translation(found.sql_for(views), found.uses)

    def clear(self) -> None:
        with self._lock:
            self._memory.clear()
        if self.root is not None and self.root.exists():
            for f in self.root.glob("*.json"):
                f.unlink(missing_ok=True)

    # -- disk --------------------------------------------------------------------------------
    def _read(self, key: str) -> Translation | None:
        if self.root is None:
            return None
        path = self.root / f"{key}.json"
        try:
            raw = json.loads(path.read_text())
            found = Translation(
                raw["sql"],
                tuple(ViewUse(None if c is None else frozenset(c), int(n)) for c, n in raw["uses"]),
            )
            os.utime(path)  # least recently *used* goes first
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent, or written by a version we do not read: translate again
        return found

    def _write(self, key: str, found: Translation) -> None:
        if self.root is None:
            return
        uses = [[None if u.columns is None else sorted(u.columns), u.scans] for u in found.uses]
        raw = {"sql": found.sql, "uses": uses}
        try:
            self.root.mkdir(parents=True, exist_ok=True, mode=0o700)  # statements are the user's own
            path = self.root / f"{key}.json"
            tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(raw))
            os.replace(tmp, path)  # another kernel reads the whole file or none of it
            self._files = self._trim() if self._files is None or self._files >= self.disk_files else self._files + 1
        except OSError:
            pass  # a full or read-only disk only costs the next kernel its speed

    def _trim(self) -> int:
        """Keep the directory at most `disk_files` files (down to 3/4 of that, least recently
        used first; other kernels' writes are seen at the next count). Returns how many are left."""
        assert self.root is not None
        files = []
        for f in self.root.glob("*.json"):
            try:
                files.append((f.stat().st_mtime, f))
            except OSError:
                continue
        if len(files) > self.disk_files:
            files.sort(key=lambda x: x[0])
            drop = len(files) - self.disk_files * 3 // 4
            for _, f in files[:drop]:
                f.unlink(missing_ok=True)
            return len(files) - drop
        return len(files)

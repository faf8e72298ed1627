"""Local copies of data files on object storage, bounded in bytes.

An Iceberg data file never changes once written: a path names one content for good (a rewrite
writes a new path). So a copy made once serves every later read, and a snapshot whose files are
all copied is read by the embedded engine exactly as local files are (DuckDB's own Parquet
reader), instead of through pyarrow's dataset scanner over the network.

- Where: `<home>/cache/files/` (`$LAKELAB_HOME/cache/files`), one file per (URI, size); the size
  is part of the key so a file that is not the one the manifest describes is never served.
- How big: `LAKELAB_FILE_CACHE_GB` (default 4; 0 turns copying off). Least recently used copies
  are removed first; a snapshot larger than a quarter of the cap is never copied (it would
  only push out everything else), and nothing is copied when the disk has under 1 GB free.
- When: the first query on a snapshot reads the store directly (with pushdown) and asks for
  copies in the background; a later query finds them and reads locally. A copy appears only
  once complete (written beside it, then renamed), so readers never see half a file, and
  several kernels may share the folder (readable by its owner only). A failed copy is
  dropped silently: the store stays the source of truth and the next query asks again.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import shutil
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from lakelab.io.filesystems import filesystem

DEFAULT_GB = 4.0
WORKERS = 4  # copies made at once (each a stream from the store)
MIN_FREE = 2**30  # leave this much of the disk free
CHUNK = 8 * 2**20


def cap_bytes() -> int:
    raw = os.environ.get("LAKELAB_FILE_CACHE_GB", "")
    try:
        gb = float(raw) if raw.strip() else DEFAULT_GB
    except ValueError:
        gb = DEFAULT_GB
    return max(0, int(gb * 2**30))


class FileCache:
    """Copies of immutable object-store files under `root`, at most `cap` bytes in all."""

    def __init__(self, root: Path, cap: int):
        self.root, self.cap = root, cap
        self._pending: set[str] = set()
        self._idle = threading.Condition()
        self._queue: queue.Queue[tuple[str, str, int, dict[str, Any]]] = queue.Queue()
        self._workers: list[threading.Thread] = []
        self._evict_lock = threading.Lock()

    def path(self, uri: str, size: int) -> Path:
        key = hashlib.sha256(f"{uri}\0{size}".encode()).hexdigest()
        return self.root / key[:2] / f"{key}.parquet"

    def copies(self, files: Sequence[str], sizes: Sequence[int], storage: Mapping[str, Any]) -> list[str] | None:
        """Local paths of all of `files` when every one is copied (marked as just used), else
        None, after asking for the missing copies in the background."""
        if self.cap <= 0 or not files or sum(sizes) > self.cap // 4:
            return None
        paths = [self.path(f, n) for f, n in zip(files, sizes, strict=True)]
        missing = [(f, n, p) for f, n, p in zip(files, sizes, paths, strict=True) if not _touch(p)]
        if not missing:
            return [str(p) for p in paths]
        for uri, size, p in missing:
            self._request(uri, str(p), size, dict(storage))
        return None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no copy is pending (True) or `timeout` seconds pass (False)."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._pending, timeout)

    def size(self) -> int:
        return sum(n for _, n, _ in _entries(self.root))

    # -- background copying ------------------------------------------------------------------
    def _request(self, uri: str, dest: str, size: int, storage: dict[str, Any]) -> None:
        with self._idle:
            if dest in self._pending:
                return
            self._pending.add(dest)
            # daemon threads: a kernel that exits does not wait for copies nobody will read
            while len(self._workers) < WORKERS:
                t = threading.Thread(target=self._work, name="lakelab-filecache", daemon=True)
                t.start()
                self._workers.append(t)
        self._queue.put((uri, dest, size, storage))

    def _work(self) -> None:
        while True:
            uri, dest, size, storage = self._queue.get()
            try:
                self._copy(uri, Path(dest), size, storage)
            except Exception:  # noqa: BLE001 - a copy is an optimisation; the store stays the source
                pass
            finally:
                with self._idle:
                    self._pending.discard(dest)
                    self._idle.notify_all()

    def _copy(self, uri: str, dest: Path, size: int, storage: dict[str, Any]) -> None:
        if dest.exists():
            return
        # the copies are as private as the store they came from: only this user may enter
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        dest.parent.mkdir(exist_ok=True)
        if shutil.disk_usage(dest.parent).free < size + MIN_FREE:
            return
        self._evict(size)
        fs, path = filesystem(uri, storage)
        part = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            with fs.open_input_stream(path) as src, open(part, "wb") as out:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
            if part.stat().st_size != size:
                return  # not the file the manifest describes: never serve it
            os.replace(part, dest)
        finally:
            part.unlink(missing_ok=True)

    def _evict(self, incoming: int) -> None:
        """Remove least recently used copies until `incoming` more bytes fit under the cap."""
        with self._evict_lock:
            for part in self.root.glob("*/.*.part"):  # a copy a killed process left half-made
                with contextlib.suppress(FileNotFoundError):
                    if time.time() - part.stat().st_mtime > 3600:
                        part.unlink()
            entries = sorted(_entries(self.root))
            total = sum(n for _, n, _ in entries)
            for _, n, p in entries:
                if total + incoming <= self.cap:
                    break
                p.unlink(missing_ok=True)
                total -= n


def _touch(p: Path) -> bool:
    """Mark a copy as just used; False when there is none."""
    try:
        os.utime(p)
        return True
    except FileNotFoundError:
        return False


def _entries(root: Path) -> list[tuple[float, int, Path]]:
    """(last use, bytes, path) of every complete copy under root."""
    out = []
    for p in root.glob("*/*.parquet"):
        try:
            st = p.stat()
        except FileNotFoundError:
            continue
        out.append((st.st_mtime, st.st_size, p))
    return out


_caches: dict[Path, FileCache] = {}
_lock = threading.Lock()


def file_cache(home: Path) -> FileCache:
    """The one cache (and one set of copying threads) per lakelab home in this process."""
    root = Path(home) / "cache" / "files"
    with _lock:
        fc = _caches.get(root)
        if fc is None:
            fc = _caches[root] = FileCache(root, cap_bytes())
        return fc

"""Local copies of object-store data files (io/filecache.py): made once in the background,
served only when complete and of the size the manifest says, bounded in bytes (least recently
used removed first). The "store" here is a folder of real Parquet files reached by file:// URI
through the same filesystem code; the copies on a real S3 store are read in test_objstore's tour."""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq

from lakelab.io.filecache import FileCache, cap_bytes


def _store(tmp_path, n: int) -> tuple[list[str], list[int]]:
    (tmp_path / "store").mkdir()
    uris, sizes = [], []
    for i in range(n):
        p = tmp_path / "store" / f"part-{i}.parquet"
        pq.write_table(pa.table({"id": list(range(i * 1000, (i + 1) * 1000))}), p)
        uris.append(f"file://{p}")
        sizes.append(p.stat().st_size)
    return uris, sizes


def test_copies_are_made_once_and_served_only_when_all_are_complete(tmp_path):
    uris, sizes = _store(tmp_path, 3)
    fc = FileCache(tmp_path / "cache", cap=100 * sum(sizes))
    assert fc.copies(uris, sizes, {}) is None  # first read: from the store; copies asked for
    assert fc.wait(60)
    local = fc.copies(uris, sizes, {})
    assert local is not None and len(local) == 3
    for uri, path in zip(uris, local, strict=True):
        assert open(path, "rb").read() == open(uri[len("file://") :], "rb").read()
    assert pq.read_table(local[2]).column("id")[0].as_py() == 2000
    assert (tmp_path / "cache").stat().st_mode & 0o777 == 0o700  # as private as the store
    # a size the manifest does not match is never served, and nothing is kept for it
    wrong = [sizes[0] + 1]
    assert fc.copies(uris[:1], wrong, {}) is None
    assert fc.wait(60)
    assert fc.copies(uris[:1], wrong, {}) is None
    assert fc.size() == sum(sizes)


def test_the_cache_stays_under_its_cap_removing_the_least_recently_used(tmp_path):
    uris, sizes = _store(tmp_path, 6)
    biggest = max(sizes)
    fc = FileCache(tmp_path / "cache", cap=4 * biggest)  # room for about 4 files; 1 per request
    for uri, size in zip(uris, sizes, strict=True):
        fc.copies([uri], [size], {})
        assert fc.wait(60)
        assert fc.size() <= fc.cap
    # the last ones copied are kept; the first ones were removed to make room
    assert fc.copies(uris[-1:], sizes[-1:], {}) is not None
    assert not fc.path(uris[0], sizes[0]).exists()
    # a snapshot bigger than a quarter of the cap is never copied (it would evict everything)
    before = fc.size()
    assert fc.copies(uris[:3], sizes[:3], {}) is None
    assert fc.wait(60) and fc.size() == before


def test_the_cap_comes_from_the_environment_and_zero_turns_copying_off(tmp_path, monkeypatch):
    monkeypatch.setenv("LAKELAB_FILE_CACHE_GB", "0.5")
    assert cap_bytes() == 2**29
    monkeypatch.setenv("LAKELAB_FILE_CACHE_GB", "0")
    uris, sizes = _store(tmp_path, 1)
    fc = FileCache(tmp_path / "cache", cap=cap_bytes())
    assert fc.copies(uris, sizes, {}) is None
    assert fc.wait(60) and not os.path.exists(tmp_path / "cache")

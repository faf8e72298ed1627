"""16 processes append to one table at once: every writer is told success or a clear
Conflict, and the table ends with exactly the successful writers' rows (none lost, none twice).
Run on the embedded SQLite catalog and on a real PostgreSQL catalog."""

from __future__ import annotations

import multiprocessing as mp
import sys
import traceback
import types
from typing import Any

import pyarrow as pa

WRITERS = 16
ROWS = 500  # per writer: enough to make each write take a moment, small enough to stay fast


def _rows(wid: int) -> pa.Table:
    return pa.table({"writer": pa.array([wid] * ROWS, pa.int64()), "n": pa.array(range(ROWS), pa.int64())})


def ingest_append(lh: Any, table: str, wid: int) -> int:
    """The default write: one `lh.ingest` append of this writer's rows."""
    return lh.ingest(_rows(wid), table, mode="append", progress=False).rows


def _writer(
    catalog: dict[str, Any], home: str, table: str, wid: int, barrier: Any, out: Any, write: Any = ingest_append
) -> None:
    """One writer process: `write(lh, table, wid)` appends rows (writer=wid, n=0..ROWS-1) once
    the barrier releases every writer; reports ok (rows), conflict (message) or error."""
    import os

    os.environ["LAKELAB_HOME"] = home
    try:
        import lakelab
        from lakelab.config import load_config
        from lakelab.errors import Conflict

        cfg = load_config()
        cfg.catalog = dict(catalog)
        lh = lakelab.Lakehouse(cfg)
        _ = lh.catalog  # open before the race so every writer starts its ingest at once
        barrier.wait(timeout=120)
        try:
            out.put((wid, "ok", write(lh, table, wid)))
        except Conflict as e:
            out.put((wid, "conflict", str(e)))
    except BaseException:  # noqa: BLE001 - anything else is a failure the test must show
        out.put((wid, "error", traceback.format_exc()))


def _race(lh: Any, table: str, writes: list[Any] | None = None) -> dict[str, list]:
    """Run one writer process per entry of `writes` (default: WRITERS ingest appends), all
    released at once; results grouped by status as (wid, detail)."""
    writes = writes or [ingest_append] * WRITERS
    lh.ingest(pa.table({"writer": pa.array([-1], pa.int64()), "n": pa.array([0], pa.int64())}), table, mode="create")
    ctx = mp.get_context("spawn")
    barrier, out = ctx.Barrier(len(writes)), ctx.Queue()
    home = str(lh.config.home)
    procs = [
        ctx.Process(target=_writer, args=(dict(lh.config.catalog), home, table, i, barrier, out, write))
        for i, write in enumerate(writes)
    ]
    # IPython tests earlier in the session swap sys.modules["__main__"] for a module that spawn
    # cannot re-import in the children; a bare __main__ tells spawn to leave it alone
    saved_main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        for p in procs:
            p.start()
    finally:
        sys.modules["__main__"] = saved_main
    results = [out.get(timeout=180) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    by: dict[str, list] = {"ok": [], "conflict": [], "error": []}
    for wid, status, detail in results:
        by[status].append((wid, detail))
    return by


def _check(lh: Any, table: str, by: dict[str, list], conflict_ok: Any = None) -> None:
    """`conflict_ok(wid, message)`: whether a conflict message is clear (default: ingest's)."""
    assert not by["error"], "writers failed without a clear error:\n" + "\n".join(d for _, d in by["error"])
    for wid, msg in by["conflict"]:
        if conflict_ok is not None:
            assert conflict_ok(wid, msg), f"writer {wid}: unclear conflict message: {msg}"
        else:
            assert "another writer changed" in msg and "run the ingest again" in msg
    assert by["ok"], "no writer succeeded"
    t = lh.catalog.load_table(lh.table_name(table).identifier).scan().to_arrow()
    counts = dict(zip(*[c.to_pylist() for c in t.group_by("writer").aggregate([("n", "count")]).columns]))
    expected = {wid: ROWS for wid, _ in by["ok"]} | {-1: 1}
    assert counts == expected, f"rows per writer {counts} != successful writers {expected}"
    distinct = t.group_by(["writer", "n"]).aggregate([]).num_rows
    assert distinct == t.num_rows, "duplicated rows"
    print(f"{table}: {len(by['ok'])} succeeded, {len(by['conflict'])} conflicted, {t.num_rows} rows")


def test_sixteen_writers_on_the_sqlite_catalog_lose_no_commit_and_duplicate_nothing(lh):
    by = _race(lh, "rel.sqlite_race")
    _check(lh, "rel.sqlite_race", by)


def test_sixteen_writers_on_the_postgresql_catalog_lose_no_commit_and_duplicate_nothing(pg_lh):
    by = _race(pg_lh, "rel.pg_race")
    _check(pg_lh, "rel.pg_race", by)

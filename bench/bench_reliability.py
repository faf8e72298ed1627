"""Ctrl-C on a Trino query: how long until the query is gone from the server.

    python bench/bench_reliability.py                 # starts its own PostgreSQL + Trino (lakelab services up)
    python bench/bench_reliability.py --runs 20
    python bench/bench_reliability.py --home DIR      # use the services already up under LAKELAB_HOME=DIR

Each run starts a query that never ends on its own (a 10^12-row cross join) through
`lh.sql(..., engine="trino")` in the main thread, waits until Trino lists it RUNNING in
`system.runtime.queries`, then sends SIGINT to this process (what a kernel's Interrupt
does), and polls `system.runtime.queries` until the query is no longer active (FAILED,
FINISHED or no longer listed). The time from the signal to that moment is the cancel
latency; the goal is under 2 s. The figure includes one polling round trip (a small query
on a Trino busy with the cross join), so it is an upper bound of the server-side time.

Prints a table (median, p95, max vs the goal) and writes bench/results/reliability.json.
`measure_cancel` is the one implementation; tests/trino/test_trino_reliability.py uses it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import pct  # bench/ is on sys.path when a benchmark runs

GOAL_S = 2.0
ACTIVE = {"QUEUED", "WAITING_FOR_RESOURCES", "DISPATCHING", "PLANNING", "STARTING", "RUNNING", "FINISHING"}


def endless_sql(marker: str) -> str:
    """A query that runs far longer than any test (10^12 rows), named by `marker` in its alias."""
    return (
        f"SELECT count(*) AS {marker} FROM UNNEST(sequence(1, 10000)) a(x) "
        "CROSS JOIN UNNEST(sequence(1, 10000)) b(y) CROSS JOIN UNNEST(sequence(1, 10000)) c(z)"
    )


def _state(lh: Any, query_id: str) -> tuple[str, str | None]:
    rows = (
        lh.engine("trino")
        .execute("SELECT state, error_code FROM system.runtime.queries WHERE query_id = {{ q }}", {"q": query_id})
        .table.to_pylist()
    )
    return (rows[0]["state"], rows[0]["error_code"]) if rows else ("GONE", None)


def measure_cancel(lh: Any, run: Callable[[str], Any], within_s: float = 30.0) -> dict[str, Any]:
    """Run `run(sql)` (lh.sql or a %%trino cell) in the calling (main) thread; once Trino
    runs the query, SIGINT this process and time how long the query stays active on the
    server. Returns query_id, interrupted (bool), gone_s (None if still active after
    `within_s`), state and error_code as Trino reports them at the end, and run's outcome."""
    marker = "cancel_" + uuid.uuid4().hex[:12]
    sql = endless_sql(marker)
    found: dict[str, Any] = {"query_id": None, "interrupted": False, "gone_s": None, "state": None, "error_code": None}
    watcher_lh = lh  # its engine keeps one connection per thread: the watcher has its own

    def watch() -> None:
        trino = watcher_lh.engine("trino")
        deadline = time.monotonic() + 120
        while found["query_id"] is None and time.monotonic() < deadline:
            rows = trino.execute(
                f"SELECT query_id FROM system.runtime.queries WHERE state = 'RUNNING' "
                f"AND query LIKE '%AS {marker} FROM%' AND query NOT LIKE '%system.runtime%'"
            ).table.to_pylist()
            if rows:
                found["query_id"] = rows[0]["query_id"]
            else:
                time.sleep(0.1)
        if found["query_id"] is None:
            return
        t0 = time.perf_counter()
        os.kill(os.getpid(), signal.SIGINT)  # what the kernel's Interrupt sends
        found["interrupted"] = True
        state, code = _state(watcher_lh, found["query_id"])
        while state in ACTIVE and time.perf_counter() - t0 < within_s:
            time.sleep(0.05)
            state, code = _state(watcher_lh, found["query_id"])
        if state not in ACTIVE:
            found["gone_s"] = time.perf_counter() - t0
        found["state"], found["error_code"] = state, code

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        found["outcome"] = run(sql)
    except KeyboardInterrupt:
        found["outcome"] = KeyboardInterrupt
    watcher.join(within_s + 130)
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--home", type=Path, help="LAKELAB_HOME whose services are already up (default: start our own)")
    args = ap.parse_args()

    own = args.home is None
    home = args.home or Path(tempfile.mkdtemp(prefix="lakelab-bench-reliability-")) / "home"
    os.environ["LAKELAB_HOME"] = str(home)
    import lakelab
    from lakelab import services
    from lakelab.config import load_config

    startup = None
    if own:
        t0 = time.perf_counter()
        services.up(home=home)
        startup = time.perf_counter() - t0
    try:
        lh = lakelab.Lakehouse(load_config(home / "config.yaml"))
        lh.sql("SELECT 1", engine="trino")  # warm: the first query pays for planning caches
        runs = []
        for i in range(args.runs):
            r = measure_cancel(lh, lambda sql: lh.sql(sql, engine="trino"))
            runs.append({k: r[k] for k in ("query_id", "gone_s", "state", "error_code")})
            shown = f"{r['gone_s']:.2f} s" if r["gone_s"] is not None else "still active after 30 s"
            print(f"run {i + 1:>2}: {r['query_id']} {r['state']} {r['error_code']}: {shown}", flush=True)
        lh.close()
    finally:
        if own:
            services.down(home=home)
            shutil.rmtree(home.parent, ignore_errors=True)
    times = [r["gone_s"] for r in runs if r["gone_s"] is not None]
    summary = {
        "runs": len(runs),
        "cancelled": sum(r["error_code"] == "USER_CANCELED" for r in runs),
        "still_active": len(runs) - len(times),
    }
    if times:
        summary |= {"median_s": statistics.median(times), "p95_s": pct(times, 95), "max_s": max(times)}
    print(
        f"\nTrino Ctrl-C: signal -> query no longer active on the server ({len(runs)} runs"
        + (f"; services started in {startup:.0f} s" if startup else "")
        + ")"
    )
    print(f"{'':<10} {'seconds':>8}  goal < {GOAL_S:.0f} s")
    for k in ("median_s", "p95_s", "max_s"):
        if k in summary:
            print(f"{k[:-2]:<10} {summary[k]:>8.2f}  {'yes' if summary[k] < GOAL_S else 'NO'}")
    print(f"cancelled (USER_CANCELED): {summary['cancelled']}/{len(runs)}, still active: {summary['still_active']}")
    out = Path(__file__).parent / "results" / "reliability.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"cancel": {"goal_s": GOAL_S, **summary, "runs_detail": runs}}, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

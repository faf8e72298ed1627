"""Result-grid benchmark on the embedded engine: a `SELECT *` over an N-row table (default 10M).

- first page: what `%%trino` does before the grid shows — run the query with the default
  1,000-row limit and build the grid from the fetched rows (goal < 300 ms);
- row count: the grid's "of N" (runs after the first page is shown);
- next page p50: a page at a random offset, unsorted (goal < 200 ms);
- new sort p50: page one of the whole result sorted by a column (goal < 200 ms);
- last page sorted: the worst page — the end of a full sort;
- repeated sort p50: a sort the user ran before, answered by the result cache (the measures
  above run with the cache off, so they time the queries);
- bytes per page: the JSON of one page of rows as the widget syncs it (goal < 1 MB).

Prints a table and writes bench/results/widgets.json.

    PYTHONPATH=kernel_lib:server python bench/bench_widgets.py            # 10M rows
    PYTHONPATH=kernel_lib:server python bench/bench_widgets.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import pct, synthetic_batches  # noqa: E402


def build(lh, rows: int) -> None:
    from lakelab.catalog.access import WRITE_PROPERTIES, ensure_namespace

    ensure_namespace(lh.catalog, ("bench",))
    batches = synthetic_batches(rows, 2_000_000)
    first = next(batches)
    table = lh.catalog.create_table(("bench", "t"), schema=first.schema, properties=WRITE_PROPERTIES)
    with table.transaction() as tx:
        tx.append(first)
        for batch in batches:
            tx.append(batch)


def timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    value = fn()
    return time.perf_counter() - t, value


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=15)
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="lakelab-bench-widgets-"))
    os.environ["LAKELAB_HOME"] = str(home)
    import lakelab
    from lakelab.config import load_config
    from lakelab.engines.paging import ResultView, Sort
    from lakelab.notebook.widgets.grid import ResultGrid, page_rows

    lh = lakelab.Lakehouse(load_config())
    t_build, _ = timed(lambda: build(lh, args.rows))
    engine = lh.engine("duckdb")
    sql = "SELECT * FROM bench.t"
    engine.execute(sql, limit=1000)  # warm: catalog load, plan cache, Parquet footers

    def first_page():
        result = engine.execute(sql, limit=1000, cache=False)  # time the query, not the result cache
        view = ResultView.of(engine, result, None, None, lh)
        grid = ResultGrid(view, first=result.table, total=None)
        return grid

    firsts, grids = [], []
    for _ in range(max(3, args.runs // 3)):
        t, grid = timed(first_page)
        firsts.append(t)
        grids.append(grid)
    for g in grids:
        g.wait()
    view = grids[-1].view
    view.session = {"cache": False}  # time the queries, not the result cache (measured apart below)
    counts = [timed(lambda: ResultView.of(engine, engine.execute(sql, limit=10), lh=lh).count())[0] for _ in range(3)]

    rnd = random.Random(0)
    nexts = [timed(lambda: view.page(rnd.randrange(0, args.rows - 50), 50))[0] for _ in range(args.runs)]
    sorts_spec = [Sort(1), Sort(1, True), Sort(3), Sort(3, True), Sort(2), Sort(0, True)]
    sorts = [timed(lambda s=s: view.page(0, 50, [s]))[0] for s in sorts_spec * max(1, args.runs // len(sorts_spec))]
    last = [timed(lambda: view.page(args.rows - 50, 50, [Sort(1)], total=args.rows))[0] for _ in range(3)]
    view.session = {}  # a sort the user already ran: answered by the result cache
    view.page(0, 50, [Sort(1, True)])
    repeats = [timed(lambda: view.page(0, 50, [Sort(1, True)]))[0] for _ in range(args.runs)]
    page = view.page(rnd.randrange(0, args.rows - 50), 50)
    page_bytes = len(json.dumps(page_rows(page)).encode())
    state_bytes = len(json.dumps({k: v for k, v in grids[-1].get_state().items() if k in ("rows", "columns")}).encode())

    report = {
        "rows": args.rows,
        "build_s": round(t_build, 1),
        "first_page_p50_ms": round(pct(firsts, 50) * 1000, 1),
        "first_page_max_ms": round(max(firsts) * 1000, 1),
        "count_p50_ms": round(pct(counts, 50) * 1000, 1),
        "next_page_p50_ms": round(pct(nexts, 50) * 1000, 1),
        "next_page_p95_ms": round(pct(nexts, 95) * 1000, 1),
        "new_sort_p50_ms": round(pct(sorts, 50) * 1000, 1),
        "new_sort_p95_ms": round(pct(sorts, 95) * 1000, 1),
        "last_page_sorted_p50_ms": round(pct(last, 50) * 1000, 1),
        "repeated_sort_p50_ms": round(pct(repeats, 50) * 1000, 1),
        "bytes_per_page": page_bytes,
        "bytes_first_state": state_bytes,
        "goals": {"first_page_ms": 300, "next_page_ms": 200, "new_sort_ms": 200, "bytes_per_page": 1_000_000},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    print(f"{'measure':<26}{'value':>14}  goal")
    rows = [
        ("first page p50", f"{report['first_page_p50_ms']} ms", "< 300 ms"),
        ("first page max", f"{report['first_page_max_ms']} ms", ""),
        ("row count p50", f"{report['count_p50_ms']} ms", "(after first page)"),
        ("next page p50", f"{report['next_page_p50_ms']} ms", "< 200 ms"),
        ("next page p95", f"{report['next_page_p95_ms']} ms", ""),
        ("new sort p50", f"{report['new_sort_p50_ms']} ms", "< 200 ms"),
        ("new sort p95", f"{report['new_sort_p95_ms']} ms", ""),
        ("last page, sorted p50", f"{report['last_page_sorted_p50_ms']} ms", ""),
        ("repeated sort p50 (cache)", f"{report['repeated_sort_p50_ms']} ms", ""),
        ("bytes per page (50 rows)", f"{page_bytes:,}", "< 1 MB"),
        ("bytes first state", f"{state_bytes:,}", ""),
    ]
    for name, value, goal in rows:
        print(f"{name:<26}{value:>14}  {goal}")
    out = HERE / "results" / "widgets.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")
    lh.close()


if __name__ == "__main__":
    main()

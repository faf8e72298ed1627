"""Ray workspaces: create->ready time and memory per workspace (head only; head + 1 worker),
and a Python transform's throughput on Ray against the same transform in pandas in the kernel.

    python bench/bench_workspaces.py --size quick     # ~200k rows
    python bench/bench_workspaces.py --size full      # ~2M rows

Memory is the RSS summed over every process of the workspace's process groups (shared
pages are counted once per process, so it overstates what the machine loses; PSS is given
too). Prints a table and writes bench/results/bench_workspaces.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import pyarrow as pa

SIZES = {"quick": 200_000, "full": 2_000_000}
RESULTS = Path(__file__).parent / "results" / "bench_workspaces.json"


def memory(pids: list[int]) -> tuple[float, float]:
    rss = pss = 0
    for pid in pids:
        try:
            p = psutil.Process(pid)
            rss += p.memory_info().rss
            pss += getattr(p.memory_full_info(), "pss", 0)
        except psutil.Error:
            continue
    return rss / 2**20, pss / 2**20


def enrich(batch):
    """The benchmark transform: a filter, arithmetic and a string column."""
    batch = batch[batch["amount"] > 10.0].copy()
    batch["amount_eur"] = batch["amount"] * 0.92
    batch["bucket"] = (batch["id"] % 16).astype("int64")
    batch["label"] = batch["city"].str.upper() + "-" + batch["bucket"].astype(str)
    return batch


def seed(lh, rows: int) -> None:
    rng = np.random.default_rng(7)
    cities = np.array(["paris", "lima", "oslo", "pune", "kyiv", "rome"])
    table = pa.table(
        {
            "id": np.arange(rows, dtype=np.int64),
            "amount": rng.uniform(0, 100, rows),
            "city": cities[rng.integers(0, len(cities), rows)],
        }
    )
    lh.catalog.create_namespace_if_not_exists("bench")
    t = lh.catalog.create_table("bench.sales", schema=table.schema)
    for start in range(0, rows, 500_000):  # several data files, so Ray has blocks to spread
        t.append(table.slice(start, 500_000))


def pandas_transform(lh) -> int:
    """The same read -> fn -> one commit, all in this process."""
    from lakelab.catalog.access import WRITE_PROPERTIES

    df = lh.catalog.load_table("bench.sales").scan().to_arrow().to_pandas()
    out = pa.Table.from_pandas(enrich(df), preserve_index=False)
    with lh.catalog.create_table_transaction(
        "bench.sales_pandas", schema=out.schema, properties=dict(WRITE_PROPERTIES)
    ) as tx:
        tx.append(out)
    return out.num_rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=sorted(SIZES), default="quick")
    args = ap.parse_args()
    rows = SIZES[args.size]
    home = Path(tempfile.mkdtemp(prefix="llw-bench-"))
    os.environ["LAKELAB_HOME"] = str(home)
    for var in ("RAY_ADDRESS", "LAKELAB_CONFIG"):
        os.environ.pop(var, None)

    import lakelab
    from lakelab.config import load_config
    from lakelab.workspaces import WorkspaceManager
    from lakelab.workspaces.transform import run

    cfg = load_config()
    mgr = WorkspaceManager(cfg.workspaces)
    results: dict = {
        "size": args.size,
        "rows": rows,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_avg_at_start": os.getloadavg()[0],
        "workspaces": [],
        "transform": {},
    }
    try:
        for label, workers in (("head only", 0), ("head + 1 worker", 1)):
            name = f"bench{workers}"
            t0 = time.perf_counter()
            mgr.create(name, cpus=1, workers=workers)
            ready = time.perf_counter() - t0
            time.sleep(2)  # let the dashboard's and agents' start-up allocations settle
            rss, pss = memory(mgr.processes(name))
            entry = {
                "workspace": label,
                "ready_s": round(ready, 2),
                "rss_mb": round(rss),
                "pss_mb": round(pss),
                "processes": len(mgr.processes(name)),
            }
            if workers == 0:
                t0 = time.perf_counter()
                mgr.stop(name)
                entry["stop_s"] = round(time.perf_counter() - t0, 2)
            results["workspaces"].append(entry)

        lh = lakelab.Lakehouse(cfg)
        seed(lh, rows)
        t0 = time.perf_counter()
        out_rows = pandas_transform(lh)
        pandas_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        res = run(lh, "bench.sales_ray", enrich, ["bench.sales"], "bench1")
        ray_s = time.perf_counter() - t0  # includes connecting the driver (first run)
        t0 = time.perf_counter()
        run(lh, "bench.sales_ray", enrich, ["bench.sales"], "bench1", mode="overwrite")
        ray_warm_s = time.perf_counter() - t0
        assert res.rows == out_rows, (res.rows, out_rows)
        results["transform"] = {
            "rows_in": rows,
            "rows_out": out_rows,
            "pandas_in_kernel_s": round(pandas_s, 2),
            "pandas_rows_per_s": round(rows / pandas_s),
            "ray_first_s": round(ray_s, 2),
            "ray_warm_s": round(ray_warm_s, 2),
            "ray_rows_per_s": round(rows / ray_warm_s),
            "ray_nodes": 2,
            "ray_cpus": 2,
        }
    finally:
        import ray

        if ray.is_initialized():
            ray.shutdown()
        for name in mgr.store.names():
            mgr.stop(name)

    print(
        f"\nRay workspaces ({args.size}, {os.cpu_count()} cores, load avg at start {results['load_avg_at_start']:.1f})"
    )
    print(f"{'workspace':<18}{'ready s':>9}{'RSS MB':>9}{'PSS MB':>9}{'procs':>7}")
    for w in results["workspaces"]:
        print(f"{w['workspace']:<18}{w['ready_s']:>9}{w['rss_mb']:>9}{w['pss_mb']:>9}{w['processes']:>7}")
    t = results["transform"]
    print(f"\ntransform over {rows:,} rows -> {t['rows_out']:,} rows (read, fn, one commit)")
    print(f"{'pandas in kernel':<22}{t['pandas_in_kernel_s']:>8} s {t['pandas_rows_per_s']:>12,} rows/s")
    print(f"{'Ray (warm), 2 nodes':<22}{t['ray_warm_s']:>8} s {t['ray_rows_per_s']:>12,} rows/s")
    print(f"{'Ray (first, +connect)':<22}{t['ray_first_s']:>8} s")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=1))
    print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

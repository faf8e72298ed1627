"""Ray on the lakehouse: a local workspace with a head and two workers (1 CPU each).

- read an N-row dataset into Ray Data: `lh.dataset(t).to_ray()` vs Ray's own
  `ray.data.read_iceberg` (both pinned to the same snapshot, materialised in the object store);
- an N-row map_batches transform written back as a dataset: `lh.transform(..., workspace=)`
  (Ray tasks write the files, one commit) vs pandas in the kernel (load, fn, `lh.ingest`);
- the driver's peak RSS above its level at the start of each phase (sampled every 50 ms).

    python bench/bench_ray_lakehouse.py --rows 2000000
    python bench/bench_ray_lakehouse.py --rows 10000000

Prints a table and writes bench/results/bench_ray_lakehouse.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).parent))
from common import synthetic_batches

RESULTS = Path(__file__).parent / "results" / "bench_ray_lakehouse.json"


def enrich(batch):
    """The benchmark transform: a filter, arithmetic and a string column."""
    batch = batch[batch["x"] > 0.1].copy()
    batch["x2"] = batch["x"] * 2.0
    batch["bucket"] = (batch["k"] % 16).astype("int64")
    batch["label"] = batch["cat"].str.upper()
    return batch


def measured(fn: Callable[[], Any]) -> tuple[Any, float, float]:
    """fn's value, its wall seconds and the driver's peak RSS above the start, in MiB."""
    me = psutil.Process()
    base = me.memory_info().rss
    peak = [base]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.05):
            peak[0] = max(peak[0], me.memory_info().rss)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    started = time.perf_counter()
    try:
        value = fn()
    finally:
        seconds = time.perf_counter() - started
        done.set()
        t.join()
    peak[0] = max(peak[0], me.memory_info().rss)
    return value, seconds, (peak[0] - base) / 2**20


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=2_000_000)
    args = ap.parse_args()
    rows = args.rows
    home = Path(tempfile.mkdtemp(prefix="llw-raylh-"))
    os.environ["LAKELAB_HOME"] = str(home)
    for var in ("RAY_ADDRESS", "LAKELAB_CONFIG"):
        os.environ.pop(var, None)

    import pyarrow as pa

    import lakelab
    from lakelab.config import load_config
    from lakelab.workspaces import WorkspaceManager
    from lakelab.workspaces.client import Workspace

    cfg = load_config()
    cfg.workspaces.max_workers = max(cfg.workspaces.max_workers, 2)
    mgr = WorkspaceManager(cfg.workspaces)
    lh = lakelab.Lakehouse(cfg)
    res: dict[str, Any] = {
        "rows": rows,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_avg_at_start": os.getloadavg()[0],
    }
    try:
        step = 500_000
        reader = pa.RecordBatchReader.from_batches(
            next(synthetic_batches(1, 1)).schema,
            (b for t in synthetic_batches(rows, step) for b in t.to_batches()),
        )
        lh.ingest(reader, "bench.events", mode="create")
        table = lh.catalog.load_table("bench.events")
        sid = table.current_snapshot().snapshot_id
        res["data_files"] = len(list(table.scan().plan_files()))
        t0 = time.perf_counter()
        mgr.create("raylh", cpus=1, workers=2)
        res["workspace_ready_s"] = round(time.perf_counter() - t0, 1)
        Workspace("raylh", mgr).connect()
        import ray
        import ray.data

        ray.data.DataContext.get_current().enable_progress_bars = False
        catalog_kwargs = {"name": cfg.catalog_name, **{k: v for k, v in cfg.catalog.items() if k != "name"}}

        def ours() -> int:
            return lh.dataset("bench.events").to_ray(snapshot_id=sid).materialize().count()

        def rays() -> int:
            ds = ray.data.read_iceberg(table_identifier="bench.events", catalog_kwargs=catalog_kwargs, snapshot_id=sid)
            return ds.materialize().count()

        for label, fn in (("to_ray", ours), ("read_iceberg", rays), ("to_ray (again)", ours)):
            n, s, mem = measured(fn)
            assert n == rows, (label, n)
            res[f"read {label}"] = {"s": round(s, 2), "rows_per_s": round(rows / s), "driver_peak_mib": round(mem)}

        def on_ray() -> int:
            return lh.transform("bench.out_ray", fn=enrich, inputs=["bench.events"], workspace="raylh").rows

        def in_kernel() -> int:
            df = lh.dataset("bench.events").load().to_pandas()
            return lh.ingest(enrich(df), "bench.out_pandas", mode="create").rows

        out_ray, s, mem = measured(on_ray)
        res["transform ray"] = {"s": round(s, 2), "rows_per_s": round(rows / s), "driver_peak_mib": round(mem)}
        out_pd, s, mem = measured(in_kernel)
        res["transform pandas"] = {"s": round(s, 2), "rows_per_s": round(rows / s), "driver_peak_mib": round(mem)}
        assert out_ray == out_pd, (out_ray, out_pd)
        res["rows_out"] = out_ray
    finally:
        import ray

        if ray.is_initialized():
            ray.shutdown()
        for name in mgr.store.names():
            mgr.stop(name)

    print(f"\nRay on the lakehouse: {rows:,} rows, {res['data_files']} data files, head + 2 workers (1 CPU each)")
    print(f"{os.cpu_count()} cores, load average at start {res['load_avg_at_start']:.1f}")
    print(f"{'phase':<26}{'seconds':>9}{'rows/s':>13}{'driver peak MiB':>17}")
    for key in ("read to_ray", "read read_iceberg", "read to_ray (again)", "transform ray", "transform pandas"):
        r = res[key]
        print(f"{key:<26}{r['s']:>9}{r['rows_per_s']:>13,}{r['driver_peak_mib']:>17}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=1))
    print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Ray on the lakehouse: a local workspace with a head and two workers (1 CPU each).

- read an N-row dataset into Ray Data: `lh.dataset(t).to_ray()` vs Ray's own
  `ray.data.read_iceberg`, both pinned to the same snapshot and consumed the same way (every
  row read by the workers and counted there, nothing held). The workers are warmed first (a
  task on every node that imports what the readers use, and one small Ray Data pipeline);
  then the two readers run alternately, RUNS times each: best and median;
- an N-row map_batches transform written back as a dataset: `lh.transform(..., workspace=)`
  (Ray tasks write the files, one commit) vs pandas in the kernel (load, fn, `lh.ingest`);
- the driver's peak memory in each phase: the kernel's resident-set high-water mark (VmHWM in
  /proc/self/status, reset at the start of each phase through /proc/self/clear_refs), given
  as the peak and as the growth above the RSS at the phase's start. Linux only.

    python bench/bench_ray_lakehouse.py --rows 2000000
    python bench/bench_ray_lakehouse.py --rows 10000000

Prints a table and writes bench/results/ray_lakehouse.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from common import synthetic_batches

RESULTS = Path(__file__).parent / "results" / "ray_lakehouse.json"
RUNS = 3  # timed runs of each reader, alternating


def enrich(batch):
    """The benchmark transform: a filter, arithmetic and a string column."""
    batch = batch[batch["x"] > 0.1].copy()
    batch["x2"] = batch["x"] * 2.0
    batch["bucket"] = (batch["k"] % 16).astype("int64")
    batch["label"] = batch["cat"].str.upper()
    return batch


def _status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def measured(fn: Callable[[], Any]) -> tuple[Any, float, dict[str, int]]:
    """fn's value, its wall seconds and the driver's RSS high-water during it (MiB): `peak`
    (VmHWM after resetting it to the current RSS) and `growth` (peak minus the RSS at the start)."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # 5: reset the peak RSS (VmHWM) to the current RSS
    base = _status_kib("VmRSS")
    started = time.perf_counter()
    value = fn()
    seconds = time.perf_counter() - started
    peak = _status_kib("VmHWM")
    return value, seconds, {"peak": round(peak / 1024), "growth": round((peak - base) / 1024)}


def _rows(batch):
    return {"n": [batch.num_rows]}


def consumed(ds: Any) -> int:
    """Every row of `ds` read by the workers, counted where it was read (the same for both
    readers: no row comes to the driver, no metadata-only count)."""
    return int(ds.map_batches(_rows, batch_format="pyarrow", batch_size=None).sum("n"))


def _imports() -> str:
    import pyarrow.parquet  # noqa: F401
    import pyiceberg.io.pyarrow  # noqa: F401
    import ray
    import ray.data

    import lakelab.datasets.to_ray
    import lakelab.write.cluster  # noqa: F401

    return ray.get_runtime_context().get_node_id()


def warm(ray: Any) -> int:
    """Start a worker process on every node and import the readers' code there, then run one
    small Ray Data pipeline (its first run starts Ray Data's own actors); the number of nodes."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    nodes = [n["NodeID"] for n in ray.nodes() if n["Alive"]]
    task = ray.remote(num_cpus=1)(_imports)
    refs = [task.options(scheduling_strategy=NodeAffinitySchedulingStrategy(n, soft=False)).remote() for n in nodes]
    assert sorted(ray.get(refs)) == sorted(nodes)
    assert consumed(ray.data.range(10_000, override_num_blocks=len(nodes) * 2)) == 10_000
    return len(nodes)


def start_workspace(mgr: Any) -> None:
    """Head + 2 workers, one worker at a time: on a busy host two worker nodes starting at once
    make a raylet give up on its dashboard agent (Ray waits 15 s for it); a failed worker is
    dropped and started again."""
    from lakelab.errors import LakelabError

    mgr.create("raylh", cpus=1, workers=1)
    for attempt in range(1, 6):
        try:
            mgr.scale("raylh", 2)
            return
        except LakelabError as e:
            print(f"adding the second worker, attempt {attempt}: {e}", file=sys.stderr)
            mgr.scale("raylh", 1)
    raise SystemExit("the second worker node did not start in 5 attempts (the host is too busy)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=2_000_000)
    args = ap.parse_args()
    rows = args.rows

    def phase(s: float, mem: dict[str, int]) -> dict[str, Any]:
        peak, growth = mem["peak"], mem["growth"]
        return {"s": round(s, 2), "rows_per_s": round(rows / s), "driver_peak_mib": peak, "driver_growth_mib": growth}

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
    cfg.workspaces.start_attempts = max(cfg.workspaces.start_attempts, 5)  # see start_workspace
    mgr = WorkspaceManager(cfg.workspaces)
    lh = lakelab.Lakehouse(cfg)
    res: dict[str, Any] = {
        "rows": rows,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_avg_at_start": os.getloadavg()[0],
    }
    try:
        t0 = time.perf_counter()  # first: a start that fails on a busy host fails before the long ingest
        start_workspace(mgr)
        res["workspace_ready_s"] = round(time.perf_counter() - t0, 1)
        step = 500_000
        reader = pa.RecordBatchReader.from_batches(
            next(synthetic_batches(1, 1)).schema,
            (b for t in synthetic_batches(rows, step) for b in t.to_batches()),
        )
        _, s, mem = measured(lambda: lh.ingest(reader, "bench.events", mode="create"))
        res["ingest (kernel, setup)"] = phase(s, mem)
        table = lh.catalog.load_table("bench.events")
        sid = table.current_snapshot().snapshot_id
        res["data_files"] = len(list(table.scan().plan_files()))
        Workspace("raylh", mgr).connect()
        import ray
        import ray.data

        ray.data.DataContext.get_current().enable_progress_bars = False
        res["nodes"] = warm(ray)
        catalog_kwargs = {"name": cfg.catalog_name, **{k: v for k, v in cfg.catalog.items() if k != "name"}}

        def ours() -> int:
            return consumed(lh.dataset("bench.events").to_ray(snapshot_id=sid))

        def rays() -> int:
            ds = ray.data.read_iceberg(table_identifier="bench.events", catalog_kwargs=catalog_kwargs, snapshot_id=sid)
            return consumed(ds)

        runs: dict[str, list[tuple[float, dict[str, int]]]] = {"to_ray": [], "read_iceberg": []}
        for _ in range(RUNS):
            for label, fn in (("to_ray", ours), ("read_iceberg", rays)):
                n, s, mem = measured(fn)
                assert n == rows, (label, n)
                runs[label].append((s, mem))
        for label, got in runs.items():
            secs = [s for s, _ in got]
            res[f"read {label}"] = {
                "s": round(min(secs), 2),
                "median_s": round(statistics.median(secs), 2),
                "runs_s": [round(s, 2) for s in secs],
                "rows_per_s": round(rows / min(secs)),
                "driver_peak_mib": max(m["peak"] for _, m in got),
                "driver_growth_mib": max(m["growth"] for _, m in got),
            }

        def on_ray() -> Any:
            return lh.transform("bench.out_ray", fn=enrich, inputs=["bench.events"], workspace="raylh")

        def in_kernel() -> int:
            df = lh.dataset("bench.events").load().to_pandas()
            return lh.ingest(enrich(df), "bench.out_pandas", mode="create").rows

        report, s, mem = measured(on_ray)
        res["transform ray"] = phase(s, mem)
        res["transform ray"]["writers"] = report.writers
        res["transform ray"]["nodes_that_wrote"] = len({w.split(":")[0] for w in report.writers})
        out_pd, s, mem = measured(in_kernel)
        res["transform pandas"] = phase(s, mem)
        assert report.rows == out_pd, (report.rows, out_pd)
        res["rows_out"] = out_pd
    finally:
        import ray

        if ray.is_initialized():
            ray.shutdown()
        for name in mgr.store.names():
            mgr.stop(name)
        shutil.rmtree(home, ignore_errors=True)

    print(f"\nRay on the lakehouse: {rows:,} rows, {res['data_files']} data files, head + 2 workers (1 CPU each)")
    print(f"{os.cpu_count()} cores, load average at start {res['load_avg_at_start']:.1f}")
    print(f"warm workers; each reader run {RUNS}x alternately, every row read and counted on the workers")
    print("driver memory: RSS high-water (VmHWM, reset per phase), peak and growth above the phase's start")
    print(f"{'phase':<24}{'best s':>8}{'median s':>10}{'rows/s':>13}{'peak MiB':>10}{'growth MiB':>12}")
    keys = ("ingest (kernel, setup)", "read to_ray", "read read_iceberg", "transform ray", "transform pandas")
    for key in keys:
        r = res[key]
        median = r.get("median_s", "")
        print(
            f"{key:<24}{r['s']:>8}{median:>10}{r['rows_per_s']:>13,}{r['driver_peak_mib']:>10}{r['driver_growth_mib']:>12}"
        )
    print(
        f"transform ray: files written by {len(res['transform ray']['writers'])} Ray workers on "
        f"{res['transform ray']['nodes_that_wrote']} of {res['nodes']} nodes; {res['rows_out']:,} rows out"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(res, indent=1))
    print(f"\nwrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

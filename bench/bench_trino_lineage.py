"""What recording lineage costs a Trino write (`INSERT INTO … SELECT` on the real local
services): the same statement timed with lineage (upstream resolved before, a properties
commit after) and without it (the planning step switched off), median of --writes each.

Prints a table and writes bench/results/trino_lineage.json.

    python bench/bench_trino_lineage.py --writes 20     # full
    python bench/bench_trino_lineage.py --writes 3      # quick
Uses the services of $LAKELAB_HOME when they are up, else starts them in a scratch home.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import pyarrow as pa

import lakelab
from lakelab import services
from lakelab.catalog.access import WRITE_PROPERTIES
from lakelab.config import load_config
from lakelab.engines.trino import lineage as trino_lineage

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--writes", type=int, default=20, help="INSERTs per variant")
    args = ap.parse_args()
    home = Path(os.environ.get("LAKELAB_HOME", ""))
    started_here = False
    if not (str(home) and (home / "config.yaml").exists() and services.status(home=home)["trino"]["reachable"]):
        home = Path(tempfile.mkdtemp(prefix="lakelab-bench-")) / "home"
        os.environ["LAKELAB_HOME"] = str(home)
        services.up(home=home)
        started_here = True
    try:
        lh = lakelab.Lakehouse(load_config(home / "config.yaml"))
        ns = "bench_" + uuid.uuid4().hex[:8]
        lh.catalog.create_namespace(ns)
        src = lh.catalog.create_table(f"{ns}.src", pa.schema([("id", pa.int64())]), properties=WRITE_PROPERTIES)
        src.append(pa.table({"id": list(range(1000))}))
        trino = lh.engine("trino")
        trino.execute(f"CREATE TABLE {ns}.dst AS SELECT id FROM {ns}.src WHERE id < 0")
        stmt = f"INSERT INTO {ns}.dst SELECT id FROM {ns}.src WHERE id < 10"
        trino.execute(stmt)  # warm-up

        def timed() -> list[float]:
            out = []
            for _ in range(args.writes):
                t0 = time.perf_counter()
                trino.execute(stmt)
                out.append((time.perf_counter() - t0) * 1000)
            return out

        with_lineage = timed()
        original = trino_lineage.plan_write
        trino_lineage.plan_write = lambda *a, **k: None
        try:
            without = timed()
        finally:
            trino_lineage.plan_write = original
        rows = {"with_lineage_ms": statistics.median(with_lineage), "without_lineage_ms": statistics.median(without)}
        rows["overhead_ms"] = rows["with_lineage_ms"] - rows["without_lineage_ms"]
        props = [k for k in lh.catalog.load_table(f"{ns}.dst").properties if k.startswith("lakelab.lineage.")]
        result = {"writes": args.writes, **rows, "lineage_properties_kept": len(props)}
        print(f"{'INSERT on Trino (median of ' + str(args.writes) + ')':40} {'ms':>9}")
        for k in ("with_lineage_ms", "without_lineage_ms", "overhead_ms"):
            print(f"{k:40} {rows[k]:9.1f}")
        print(f"{'lineage properties kept':40} {len(props):9d}")
        out = ROOT / "bench" / "results" / "trino_lineage.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps(result, indent=2))
        lh.close()
    finally:
        if started_here:
            services.down(home=home)


if __name__ == "__main__":
    main()

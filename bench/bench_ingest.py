"""Ingest benchmark: lakelab's ingest against the write limits.

(a) an N-row Parquet file -> Iceberg: lakelab vs pyarrow.parquet.write_table of the same
    data (read_table + write_table: the limit) vs plain pyiceberg append;
(b) a CSV of at least --csv-gb GB -> Iceberg: lakelab vs DuckDB's
    COPY (SELECT * FROM read_csv(...)) TO 'x.parquet'.

Every case runs in its own subprocess so its peak RSS (getrusage) is its own. Prints a
table and writes bench/results/ingest.json.

    python bench/bench_ingest.py                 # full size: 10M rows, 2 GB CSV
    python bench/bench_ingest.py --quick         # 1M rows, 0.1 GB CSV
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from common import synthetic_batches  # noqa: E402


# -- data -------------------------------------------------------------------------------
def make_parquet(path: Path, rows: int) -> None:
    import pyarrow.parquet as pq

    if path.exists() and pq.ParquetFile(path).metadata.num_rows == rows:
        return
    writer = None
    for batch in synthetic_batches(rows, 1_000_000):
        writer = writer or pq.ParquetWriter(path.with_suffix(".tmp"), schema=batch.schema)
        writer.write_table(batch)
    if writer is not None:
        writer.close()
    path.with_suffix(".tmp").rename(path)


def make_csv(path: Path, gb: float) -> int:
    """A CSV of at least `gb` GB (id, timestamp, text, float, int columns); returns its rows."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pacsv

    want = int(gb * 1e9)
    meta = path.with_suffix(".rows")
    if path.exists() and path.stat().st_size >= want and meta.exists():
        return int(meta.read_text())
    rng = np.random.default_rng(1)
    words = np.array(["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"])
    rows, step = 0, 500_000
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as f:
        header = True
        while f.tell() < want:
            ids = np.arange(rows, rows + step)
            t = pa.table(
                {
                    "id": ids,
                    "ts": pa.array(1_700_000_000_000_000 + ids * 1_000_000, pa.timestamp("us")),
                    "customer": pa.array(np.char.add(words[rng.integers(0, 8, step)], (ids % 9973).astype(str))),
                    "amount": np.round(rng.random(step) * 1000, 2),
                    "qty": rng.integers(1, 50, step),
                    "note": pa.array(words[rng.integers(0, 8, step)]),
                }
            )
            pacsv.write_csv(t, f, write_options=pacsv.WriteOptions(include_header=header))
            header = False
            rows += step
    tmp.rename(path)
    meta.write_text(str(rows))
    return rows


# -- cases (each runs in a fresh subprocess) ----------------------------------------------
def _fresh_lakehouse(home: Path):
    shutil.rmtree(home, ignore_errors=True)
    os.environ["LAKELAB_HOME"] = str(home)
    import lakelab
    from lakelab.config import load_config

    return lakelab.Lakehouse(load_config())


def run_case(case: str, src: str, work: Path) -> dict:
    import duckdb
    import pyarrow.parquet  # noqa: F401

    import lakelab.write.ingest  # noqa: F401

    ru0 = resource.getrusage(resource.RUSAGE_SELF)
    cpu0 = ru0.ru_utime + ru0.ru_stime
    t0 = time.perf_counter()
    rows = 0
    if case == "lakelab":
        lh = _fresh_lakehouse(work / "home_lakelab")
        t0 = time.perf_counter()
        report = lh.ingest(src, "bench.t", mode="create", progress=False)
        rows = report.rows
    elif case in ("write_table", "write_table_same_props"):
        import pyarrow.parquet as pq

        t = pq.read_table(src)
        kw = {"compression": "snappy", "row_group_size": 131072} if case == "write_table_same_props" else {}
        pq.write_table(t, work / f"{case}.parquet", **kw)
        rows = t.num_rows
    elif case == "pyiceberg_append":
        import pyarrow.parquet as pq

        from lakelab.catalog.access import WRITE_PROPERTIES

        lh = _fresh_lakehouse(work / "home_pyiceberg")
        t0 = time.perf_counter()
        t = pq.read_table(src)
        lh.catalog.create_namespace("bench")
        tbl = lh.catalog.create_table("bench.t", schema=t.schema, properties=WRITE_PROPERTIES)
        tbl.append(t)
        rows = t.num_rows
    elif case == "duckdb_copy":
        import duckdb

        out = work / "duckdb.parquet"
        con = duckdb.connect()
        con.execute(f"COPY (SELECT * FROM read_csv('{src}')) TO '{out}' (FORMAT parquet)")
        rows = con.execute(f"SELECT count(*) FROM read_parquet('{out}')").fetchone()[0]
    else:
        raise SystemExit(f"unknown case {case}")
    seconds = time.perf_counter() - t0
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "case": case,
        "rows": rows,
        "seconds": seconds,
        "cpu_s": ru.ru_utime + ru.ru_stime - cpu0,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def measure(case: str, src: Path, work: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--run", case, "--src", str(src), "--work", str(work)],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(f"{case} failed:\n{out.stderr}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    res["rows_per_s"] = res["rows"] / res["seconds"] if res["seconds"] else 0.0
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=10_000_000, help="rows in the Parquet source (default 10M)")
    ap.add_argument("--csv-gb", type=float, default=2.0, help="size of the generated CSV in GB (default 2)")
    ap.add_argument("--quick", action="store_true", help="small sizes: 1M rows, 0.1 GB CSV")
    ap.add_argument("--work", default="/tmp/lakelab-bench-ingest", help="where data and outputs go (not the repo)")
    ap.add_argument("--skip-csv", action="store_true")
    ap.add_argument("--run", help=argparse.SUPPRESS)
    ap.add_argument("--src", help=argparse.SUPPRESS)
    args = ap.parse_args()
    work = Path(args.work)
    if args.run:
        print(json.dumps(run_case(args.run, args.src, work)))
        return
    if args.quick:
        args.rows, args.csv_gb = 1_000_000, 0.1
    work.mkdir(parents=True, exist_ok=True)
    # the box may be shared: record its load, and CPU seconds next to wall seconds
    results: dict = {
        "host": {"python": platform.python_version(), "cpus": os.cpu_count(), "loadavg_at_start": os.getloadavg()},
        "rows": args.rows,
        "csv_gb": args.csv_gb,
        "parquet": [],
        "csv": [],
    }
    pq_src = work / f"src_{args.rows}.parquet"
    print(f"generating {args.rows:,}-row Parquet in {work} ...", flush=True)
    make_parquet(pq_src, args.rows)
    for case in ("write_table", "write_table_same_props", "pyiceberg_append", "lakelab"):
        results["parquet"].append(measure(case, pq_src, work))
    if not args.skip_csv:
        csv_src = work / f"src_{args.csv_gb:g}gb.csv"
        print(f"generating a {args.csv_gb:g} GB CSV ...", flush=True)
        make_csv(csv_src, args.csv_gb)
        results["csv_bytes"] = csv_src.stat().st_size
        for case in ("duckdb_copy", "lakelab"):
            results["csv"].append(measure(case, csv_src, work))
    limit = results["parquet"][0]["rows_per_s"]
    lk = next(r for r in results["parquet"] if r["case"] == "lakelab")["rows_per_s"]
    results["lakelab_vs_write_table"] = limit / lk if lk else None
    print()
    print(f"{'source':8} {'case':24} {'rows':>12} {'seconds':>8} {'cpu s':>7} {'rows/s':>12} {'peak RSS MB':>12}")
    for part in ("parquet", "csv"):
        for r in results[part]:
            print(
                f"{part:8} {r['case']:24} {r['rows']:>12,} {r['seconds']:>8.2f} {r['cpu_s']:>7.2f} "
                f"{r['rows_per_s']:>12,.0f} {r['peak_rss_mb']:>12,.0f}"
            )
    print(f"\nlakelab is {results['lakelab_vs_write_table']:.2f}x the time of read_table+write_table (goal <= 1.3x)")
    if results["csv"]:
        d, lkc = results["csv"][0], results["csv"][1]
        print(
            f"CSV ({results['csv_bytes'] / 1e9:.2f} GB): lakelab {lkc['seconds'] / d['seconds']:.2f}x DuckDB COPY's "
            f"time, peak RSS {lkc['peak_rss_mb']:,.0f} MB vs {d['peak_rss_mb']:,.0f} MB"
        )
    results["host"]["loadavg_at_end"] = os.getloadavg()
    print(
        f"load average at start {results['host']['loadavg_at_start'][0]:.1f}, "
        f"at end {results['host']['loadavg_at_end'][0]:.1f} ({os.cpu_count()} cpus)"
    )
    out = HERE / "results" / "ingest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

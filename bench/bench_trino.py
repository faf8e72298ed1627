"""Trino benchmarks, on the real local services (`lakelab.services.up` in a scratch home):

  1. TPC-H (22 queries, tests/sql/tpch, Trino dialect) at --sf on three engines over the same data:
       trino      Trino 476 over the Iceberg tables (shared JDBC catalog)
       embedded   lakelab's embedded engine over the same Iceberg tables
       duckdb     DuckDB on the raw tpchgen Parquet files (sqlglot-transpiled text)
  2. %%trino overhead for `SELECT 1` over the bare trino client (median of --iters; goal < 10 ms):
       bare       cursor.execute + fetchall on a trino.dbapi connection
       engine     lh.sql(..., engine="trino")
       magic      the %%trino magic function (options parsing, params, progress display)
  3. Fetch of a 1M-row, 3-column result: bare fetchall (and fetchall -> DataFrame) vs
     lakelab's engine -> DataFrame.

Prints tables and writes bench/results/trino.json.

    python bench/bench_trino.py --sf 1                   # full
    python bench/bench_trino.py --quick                  # SF 0.01, 30 iterations
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import sqlglot

import lakelab
from lakelab import services
from lakelab.catalog.access import WRITE_PROPERTIES
from lakelab.config import load_config

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "tests" / "sql" / "tpch"
TABLES = ["region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem"]
MILLION = (
    "SELECT a.x * 1000 + b.y AS n, (a.x * 1000 + b.y) * 0.5E0 AS half, 'row-' || CAST(b.y AS varchar) AS label "
    "FROM UNNEST(sequence(1, 1000)) a(x) CROSS JOIN UNNEST(sequence(1, 1000)) b(y)"
)


def raw_data(sf: float, cache: Path) -> Path:
    raw = cache / f"tpch-sf{sf:g}" / "parquet"
    if not (raw / "lineitem.parquet").exists():
        raw.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [shutil.which("tpchgen-cli") or "tpchgen-cli", "parquet", "-s", str(sf), f"--output-dir={raw}"], check=True
        )
    return raw


def timed(fn) -> tuple[float, object]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def best(fn, runs: int) -> tuple[float, object]:
    results = [timed(fn) for _ in range(runs)]
    return min(r[0] for r in results), results[-1][1]


def bench_tpch(lh: lakelab.Lakehouse, raw: Path, runs: int) -> dict:
    con = duckdb.connect()
    con.execute("CREATE SCHEMA tpch")
    for name in TABLES:
        con.execute(f"CREATE VIEW tpch.{name} AS SELECT * FROM read_parquet('{raw / (name + '.parquet')}')")
    rows = {}
    for q in sorted(QUERIES.glob("q*.sql")):
        sql = q.read_text()
        duck_sql = sqlglot.transpile(sql, read="trino", write="duckdb")[0]
        # default arguments bind this query into each timed call (a closure would see the loop's last value)
        t_trino, r1 = best(lambda sql=sql: lh.engine("trino").execute(sql), runs)
        t_emb, r2 = best(lambda sql=sql: lh.engine("duckdb").execute(sql, cache=False), runs)
        t_duck, _ = best(lambda duck_sql=duck_sql: con.execute(duck_sql).to_arrow_table(), runs)
        rows[q.stem] = {
            "trino_s": t_trino,
            "embedded_s": t_emb,
            "duckdb_raw_s": t_duck,
            "rows": r1.num_rows,
            "same_row_count": r1.num_rows == r2.num_rows,
        }
        print(f"{q.stem}  trino {t_trino:7.3f}  embedded {t_emb:7.3f}  duckdb-raw {t_duck:7.3f}", file=sys.stderr)
    total = {k: sum(r[k] for r in rows.values()) for k in ("trino_s", "embedded_s", "duckdb_raw_s")}
    return {"queries": rows, "total": total}


def bench_overhead(lh: lakelab.Lakehouse, iters: int) -> dict:
    import trino

    cfg = lh.config.trino
    conn = trino.dbapi.connect(host=cfg.host, port=cfg.port, user=cfg.user, catalog=cfg.catalog, schema=cfg.schema)

    def bare() -> None:
        cur = conn.cursor()
        cur.execute("SELECT 1")
        cur.fetchall()

    from lakelab.notebook.magics.sql import SqlMagics

    magic = SqlMagics(shell=None, lakehouse=lh)
    paths = {
        "bare": bare,
        "engine": lambda: lh.sql("SELECT 1", engine="trino"),
        "magic": lambda: magic.trino("--engine trino", "SELECT 1"),
    }
    times: dict[str, list[float]] = {k: [] for k in paths}
    for _ in range(5):  # warm up every path (JIT on the server, HTTP keep-alive)
        for fn in paths.values():
            fn()
    for _ in range(iters):  # interleaved, so server-side drift hits every path alike
        for name, fn in paths.items():
            times[name].append(timed(fn)[0])
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "iters": iters,
        "median_s": med,
        "overhead_ms": {k: (med[k] - med["bare"]) * 1000 for k in ("engine", "magic")},
    }


def bench_fetch(lh: lakelab.Lakehouse, runs: int = 2) -> dict:
    import pandas as pd

    import trino

    cfg = lh.config.trino
    conn = trino.dbapi.connect(host=cfg.host, port=cfg.port, user=cfg.user, catalog=cfg.catalog, schema=cfg.schema)

    def bare_rows():
        cur = conn.cursor()
        cur.execute(MILLION)
        return cur.fetchall()

    def bare_df():
        cur = conn.cursor()
        cur.execute(MILLION)
        rows = cur.fetchall()
        return pd.DataFrame(rows, columns=[d[0] for d in cur.description])

    def lakelab_df():
        return lh.engine("trino").execute(MILLION).to_pandas()

    out = {}
    for name, fn in (
        ("bare_fetchall", bare_rows),
        ("bare_fetchall_to_dataframe", bare_df),
        ("lakelab_to_dataframe", lakelab_df),
    ):
        secs = min(timed(fn)[0] for _ in range(runs))
        out[name] = {"seconds": secs, "rows_per_s": 1_000_000 / secs}
        print(f"fetch 1M  {name:28s} {secs:6.2f} s", file=sys.stderr)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sf", type=float, default=1.0, help="TPC-H scale factor (default 1)")
    ap.add_argument("--iters", type=int, default=200, help="SELECT 1 iterations per path (default 200)")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/lakelab-bench"), help="data + scratch home")
    ap.add_argument("--runs", type=int, default=1, help="TPC-H: best of N runs per query and engine")
    ap.add_argument("--keep", action="store_true", help="leave the services running afterwards")
    ap.add_argument("--quick", action="store_true", help="small run: --sf 0.01 --iters 30 --runs 1")
    args = ap.parse_args()
    if args.quick:
        args.sf, args.iters, args.runs = 0.01, 30, 1

    raw = raw_data(args.sf, args.cache)
    home = args.cache / f"trino-home-sf{args.sf:g}"
    if home.exists() and not services.status(home)["trino"]["running"]:
        shutil.rmtree(home)  # a fresh catalog each run: no stale registrations
    t0 = time.perf_counter()
    state = services.up(home=home, echo=lambda m: print(m, file=sys.stderr))
    up_s = time.perf_counter() - t0
    import os

    os.environ["LAKELAB_HOME"] = str(home)
    lh = lakelab.Lakehouse(load_config(home / "config.yaml"))
    try:
        if not lh.catalog.table_exists("tpch.lineitem"):
            lh.catalog.create_namespace_if_not_exists("tpch")
            for name in TABLES:
                arrow = pq.read_table(raw / f"{name}.parquet")
                lh.catalog.create_table(f"tpch.{name}", arrow.schema, properties=WRITE_PROPERTIES).append(arrow)
        result = {
            "sf": args.sf,
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
            "trino_startup_s": state.get("trino", {}).get("startup_s"),
            "services_up_s": up_s,
            "runs": args.runs,
            "tpch": bench_tpch(lh, raw, args.runs),
            "overhead_select1": bench_overhead(lh, args.iters),
            "fetch_1m": bench_fetch(lh),
        }
    finally:
        lh.close()
        if not args.keep:
            services.down(home=home)

    print(
        f"\nTPC-H sf={args.sf:g}, best of {args.runs} (seconds)\n"
        f"{'query':6} {'trino':>9} {'embedded':>9} {'duckdb-raw':>10}"
    )
    for q, r in result["tpch"]["queries"].items():
        print(f"{q:6} {r['trino_s']:9.3f} {r['embedded_s']:9.3f} {r['duckdb_raw_s']:10.3f}")
    t = result["tpch"]["total"]
    print(f"{'total':6} {t['trino_s']:9.3f} {t['embedded_s']:9.3f} {t['duckdb_raw_s']:10.3f}")
    o = result["overhead_select1"]
    print(
        f"\nSELECT 1 median over {o['iters']}: bare {o['median_s']['bare'] * 1000:.1f} ms, "
        f"engine +{o['overhead_ms']['engine']:.2f} ms, magic +{o['overhead_ms']['magic']:.2f} ms (goal < 10 ms)"
    )
    for k, v in result["fetch_1m"].items():
        print(f"fetch 1M rows  {k:28s} {v['seconds']:6.2f} s  ({v['rows_per_s']:,.0f} rows/s)")
    print(f"Trino startup {result['trino_startup_s']} s")
    out = ROOT / "bench" / "results" / "trino.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

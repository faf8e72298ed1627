"""TPC-H (22 queries, Trino dialect from tests/sql/tpch) on three paths over the same data:

  embedded   lakelab's embedded engine: lh.sql(..., engine="duckdb") over the Iceberg tables
  direct     DuckDB reading the Iceberg tables' Parquet data files directly (the limit)
  to_arrow   pyiceberg table.scan().to_arrow() of each referenced table, then DuckDB

Data: tpchgen-cli Parquet at --sf, cached under --cache (default /tmp/lakelab-bench), ingested
with pyiceberg appends using lakelab's writer properties. Prints a table and writes
bench/results/tpch.json. Each timing is the best of --runs.

    python bench/bench_tpch.py --sf 1          # the goal: embedded total within 1.3x of direct
    python bench/bench_tpch.py --sf 0.1 --runs 1   # quick
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

import lakelab
from common import best  # bench/ is on sys.path when a benchmark runs
from lakelab.catalog.access import WRITE_PROPERTIES
from lakelab.config import Config, WorkspaceConfig, default_catalog

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "tests" / "sql" / "tpch"
TABLES = ["region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem"]


def prepare(sf: float, cache: Path) -> lakelab.Lakehouse:
    data = cache / f"tpch-sf{sf:g}"
    raw = data / "parquet"
    if not (raw / "lineitem.parquet").exists():
        raw.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        subprocess.run(
            [shutil.which("tpchgen-cli") or "tpchgen-cli", "parquet", "-s", str(sf), f"--output-dir={raw}"], check=True
        )
        print(f"generated TPC-H sf={sf:g} in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    home = data / "lakehouse"
    lh = lakelab.Lakehouse(
        Config(home=home, catalog=default_catalog(home), trino=None, workspaces=WorkspaceConfig(), engine="duckdb")
    )
    if not lh.catalog.table_exists("tpch.lineitem"):
        t = time.perf_counter()
        lh.catalog.create_namespace_if_not_exists("tpch")
        for name in TABLES:
            if lh.catalog.table_exists(f"tpch.{name}"):
                lh.catalog.drop_table(f"tpch.{name}")
            arrow = pq.read_table(raw / f"{name}.parquet")
            lh.catalog.create_table(f"tpch.{name}", schema=arrow.schema, properties=WRITE_PROPERTIES).append(arrow)
        print(f"ingested into Iceberg in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    return lh


def data_files(lh: lakelab.Lakehouse, name: str) -> list[str]:
    table = lh.catalog.load_table(f"tpch.{name}")
    return [t.file.file_path.removeprefix("file://") for t in table.scan().plan_files()]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sf", type=float, default=1.0, help="TPC-H scale factor (default 1)")
    ap.add_argument("--runs", type=int, default=2, help="best of N runs per query (default 2)")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/lakelab-bench"))
    ap.add_argument("--queries", default=None, help="comma-separated subset, e.g. q01,q06")
    args = ap.parse_args()

    lh = prepare(args.sf, args.cache)
    direct = duckdb.connect()
    direct.execute("CREATE SCHEMA tpch")
    for name in TABLES:
        files = ", ".join(f"'{f}'" for f in data_files(lh, name))
        direct.execute(f"CREATE VIEW tpch.{name} AS SELECT * FROM read_parquet([{files}])")

    def via_to_arrow(sql: str) -> None:
        con = duckdb.connect()
        con.execute("CREATE SCHEMA tpch")
        for name in sorted(set(re.findall(r"tpch\.(\w+)", sql))):
            arrow = lh.catalog.load_table(f"tpch.{name}").scan().to_arrow()
            con.register(f"_{name}", arrow)
            con.execute(f"CREATE VIEW tpch.{name} AS SELECT * FROM _{name}")
        con.sql(sql).to_arrow_table()
        con.close()

    embedded = lh.engine("duckdb")
    names = sorted(p.stem for p in QUERIES.glob("q*.sql"))
    if args.queries:
        names = [n for n in names if n in args.queries.split(",")]
    rows = []
    for name in names:
        sql = (QUERIES / f"{name}.sql").read_text()
        # sql=sql binds this query into each timed call (a closure would see the loop's last value)
        # cache=False: time the query, not the result cache (engines/cache.py)
        first = best(lambda sql=sql: embedded.execute(sql, cache=False), 1)  # cold: translation not yet cached
        e = best(lambda sql=sql: embedded.execute(sql, cache=False), args.runs)
        d = best(lambda sql=sql: direct.sql(sql).to_arrow_table(), args.runs)
        a = best(lambda sql=sql: via_to_arrow(sql), args.runs)
        rows.append({"query": name, "embedded_s": e, "direct_s": d, "to_arrow_s": a, "embedded_first_s": first})
        print(f"{name}: embedded {e:.3f}s direct {d:.3f}s to_arrow {a:.3f}s", file=sys.stderr)

    totals = {k: sum(r[k] for r in rows) for k in ("embedded_s", "direct_s", "to_arrow_s", "embedded_first_s")}
    print(f"\nTPC-H sf={args.sf:g}, best of {args.runs} run(s), {platform.node()} ({platform.processor() or '?'})")
    print("embedded = best of runs (translation cached after the first); first = the cold first run")
    print(f"{'query':6} {'embedded':>10} {'first':>10} {'direct':>10} {'to_arrow':>10} {'emb/direct':>11}")
    for r in rows:
        print(
            f"{r['query']:6} {r['embedded_s']:10.3f} {r['embedded_first_s']:10.3f} {r['direct_s']:10.3f} "
            f"{r['to_arrow_s']:10.3f} {r['embedded_s'] / r['direct_s']:11.2f}"
        )
    ratio = totals["embedded_s"] / totals["direct_s"]
    print(
        f"{'total':6} {totals['embedded_s']:10.3f} {totals['embedded_first_s']:10.3f} {totals['direct_s']:10.3f} "
        f"{totals['to_arrow_s']:10.3f} {ratio:11.2f}"
    )
    print(f"goal: embedded total within 1.3x of direct -> {'met' if ratio <= 1.3 else 'NOT met'} ({ratio:.2f}x)")
    out = ROOT / "bench" / "results" / "tpch.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "benchmark": "tpch",
                "sf": args.sf,
                "runs": args.runs,
                "queries": rows,
                "totals": totals,
                "embedded_over_direct": ratio,
                "embedded_first_over_direct": totals["embedded_first_s"] / totals["direct_s"],
                "duckdb": duckdb.__version__,
            },
            indent=2,
        )
    )
    print(f"wrote {out.relative_to(ROOT)}")
    lh.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())

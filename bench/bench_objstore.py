"""The lakehouse on object storage (issue 13): lakelab on (rest catalog, s3 on versitygw)
against the same work on local files, on DuckDB by hand, on Trino, and on pyarrow alone.

  tpch      22 TPC-H queries (tests/sql/tpch): embedded engine on s3 | embedded on local files
            | DuckDB over a pyarrow dataset of the same s3 files | Trino (one worker); the
            embedded engine's first run on s3 is reported apart (it reads the store and has
            the files copied locally, io/filecache.py; later runs read the copies);
            LAKELAB_FILE_CACHE_GB=0 measures without copies
  ingest    N rows from memory: lh.ingest to s3 | pyarrow.parquet.write_table to the same bucket
  preview   lh.dataset("tpch.lineitem").preview(100) on s3: p50 / p95 of --previews calls

Goals printed against: embedded TPC-H on s3 within 1.3x of local; preview p50 < 150 ms;
ingest within 1.2x of pyarrow. Starts `lakelab services up --catalog rest --storage s3
--trino-workers 1` under a temp LAKELAB_HOME and stops it at the end, unless --home names a
home whose services already run (then they are left running). Writes
bench/results/objstore-sf<SF>.json.

    python bench/bench_objstore.py            # SF 1, 10M rows
    python bench/bench_objstore.py --quick    # SF 0.1, 1M rows, 1 run
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.dataset as pads
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import lakelab
from bench_tpch import QUERIES, TABLES, prepare
from common import best, pct
from lakelab import services
from lakelab.catalog.access import WRITE_PROPERTIES
from lakelab.config import load_config
from lakelab.errors import LakelabError
from lakelab.io.filesystems import filesystem, split

ROOT = Path(__file__).resolve().parent.parent


def load_s3(lh: lakelab.Lakehouse, sf: float, cache: Path) -> None:
    raw = cache / f"tpch-sf{sf:g}" / "parquet"
    lh.catalog.create_namespace_if_not_exists("tpch")
    for name in TABLES:
        if lh.catalog.table_exists(f"tpch.{name}"):
            if lh.catalog.load_table(f"tpch.{name}").properties.get("bench.sf") == f"{sf:g}":
                continue
            lh.catalog.purge_table(f"tpch.{name}")  # another scale factor: replace it
        arrow = pq.read_table(raw / f"{name}.parquet")
        props = {**WRITE_PROPERTIES, "bench.sf": f"{sf:g}"}
        lh.catalog.create_table(f"tpch.{name}", schema=arrow.schema, properties=props).append(arrow)


def pyarrow_duckdb(lh: lakelab.Lakehouse) -> duckdb.DuckDBPyConnection:
    """DuckDB over pyarrow datasets of each table's current data files on the store."""
    con = duckdb.connect()
    con.execute("CREATE SCHEMA tpch")
    for name in TABLES:
        table = lh.catalog.load_table(f"tpch.{name}")
        files = [t.file.file_path for t in table.scan().plan_files()]
        fs, _ = filesystem(files[0], table.io.properties)
        con.register(f"_{name}", pads.dataset([split(f)[1] for f in files], format="parquet", filesystem=fs))
        con.execute(f"CREATE VIEW tpch.{name} AS SELECT * FROM _{name}")
    return con


def rows_table(n: int) -> pa.Table:
    rng = np.random.default_rng(7)
    return pa.table(
        {
            "id": np.arange(n, dtype=np.int64),
            "amount": rng.random(n) * 1000,
            "qty": rng.integers(0, 100, n, dtype=np.int32),
            "city": pa.array(np.array(["Oslo", "Lima", "Pune", "Kyiv", "Quito"])[rng.integers(0, 5, n)]),
            "ts": pa.array(np.datetime64("2026-01-01", "us") + rng.integers(0, 10**12, n).astype("timedelta64[us]")),
        }
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="SF 0.1, 1M rows, 1 run")
    ap.add_argument("--sf", type=float, default=None)
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--runs", type=int, default=None)
    ap.add_argument("--previews", type=int, default=40)
    ap.add_argument("--home", type=Path, default=None, help="LAKELAB_HOME whose (rest, s3) services already run")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/lakelab-bench"))
    ap.add_argument("--no-trino", dest="trino", action="store_false", help="leave out the Trino column")
    ap.add_argument("--queries", default=None, help="comma-separated subset, e.g. q01,q06")
    args = ap.parse_args()
    sf = args.sf or (0.1 if args.quick else 1.0)
    n_rows = args.rows or (1_000_000 if args.quick else 10_000_000)
    runs = args.runs or (1 if args.quick else 2)

    started_here = args.home is None
    home = args.home or Path(tempfile.mkdtemp(prefix="bench-objstore-")) / "home"
    home.mkdir(parents=True, exist_ok=True)
    os.environ["LAKELAB_HOME"] = str(home)
    if started_here:
        t = time.perf_counter()
        services.up(home=home, catalog="rest", storage="s3", trino_workers=1)
        print(f"services up (rest, s3, 1 Trino worker) in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    result: dict = {"benchmark": "objstore", "sf": sf, "rows": n_rows, "runs": runs}
    try:
        local = prepare(sf, args.cache)
        s3 = lakelab.Lakehouse(load_config(home / "config.yaml"))
        t = time.perf_counter()
        load_s3(s3, sf, args.cache)
        print(f"TPC-H on s3 ready in {time.perf_counter() - t:.1f} s", file=sys.stderr)
        workers = services.status(home)["parts"]
        result["trino_workers"] = sum(1 for p in workers if p["name"].startswith("trino_worker"))
        direct = pyarrow_duckdb(s3)
        shutil.rmtree(home / "cache" / "files", ignore_errors=True)  # start without local copies
        # cache=False: time the query, not the result cache (engines/cache.py)
        emb_s3, emb_local = s3.engine("duckdb"), local.engine("duckdb")

        trino_errors: dict[str, str] = {}

        def trino_time(name: str, sql: str) -> float:
            try:
                return best(lambda: s3.sql(sql, engine="trino"), runs)
            except LakelabError as e:  # e.g. the profile's per-node memory limit at SF 1
                trino_errors[name] = str(e)[:160]
                return float("nan")

        names = sorted(p.stem for p in QUERIES.glob("q*.sql"))
        if args.queries:
            names = [n for n in names if n in args.queries.split(",")]
        rows = []
        for name in names:
            sql = (QUERIES / f"{name}.sql").read_text()
            # warm (plans and translation cached, as in a notebook) and check the answers agree
            t = time.perf_counter()
            on_s3 = emb_s3.execute(sql, cache=False).to_pandas()
            first_s3 = time.perf_counter() - t  # the first run: files read from the store
            emb_s3.file_copies.wait(600)  # the local copies it asked for (io/filecache.py)
            on_local = emb_local.execute(sql, cache=False).to_pandas()
            if not on_s3.equals(on_local):
                raise SystemExit(f"{name}: the embedded engine answers differently on s3 and on local files")
            r = {
                "query": name,
                "first_s3_s": first_s3,
                "embedded_s3_s": best(lambda sql=sql: emb_s3.execute(sql, cache=False), runs),
                "embedded_local_s": best(lambda sql=sql: emb_local.execute(sql, cache=False), runs),
                "duckdb_pyarrow_s3_s": best(lambda sql=sql: direct.sql(sql).to_arrow_table(), runs),
                "trino_s3_s": trino_time(name, sql) if args.trino else float("nan"),
            }
            rows.append(r)
            print(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else str(v) for k, v in r.items()), file=sys.stderr)
        keys = ("first_s3_s", "embedded_s3_s", "embedded_local_s", "duckdb_pyarrow_s3_s", "trino_s3_s")
        totals = {k: sum(r[k] for r in rows if k != "trino_s3_s" or r["query"] not in trino_errors) for k in keys}
        result["trino_errors"] = trino_errors
        result.update(queries=rows, totals=totals, s3_over_local=totals["embedded_s3_s"] / totals["embedded_local_s"])

        # ingest N rows from memory: lakelab vs pyarrow alone, to the same bucket
        data = rows_table(n_rows)
        fs, _ = filesystem("s3://lakelab/", s3.catalog.properties)

        def by_pyarrow() -> None:
            pq.write_table(
                data, "lakelab/bench/raw.parquet", filesystem=fs, compression="snappy", row_group_size=131072
            )

        def by_lakelab() -> None:
            s3.ingest(data, "bench.ingest", mode="overwrite")

        by_lakelab()  # the table exists from here on: overwrite is timed, not the first create
        ingest_s, pyarrow_s = best(by_lakelab, runs), best(by_pyarrow, runs)
        result["ingest"] = {"lakelab_s": ingest_s, "pyarrow_s": pyarrow_s, "ratio": ingest_s / pyarrow_s}

        ds = s3.dataset("tpch.lineitem")
        ds.preview(100)
        times = []
        for _ in range(args.previews):
            t = time.perf_counter()
            lakelab.Lakehouse(load_config(home / "config.yaml")).dataset("tpch.lineitem").preview(100)
            times.append(time.perf_counter() - t)
        warm = []
        for _ in range(args.previews):
            t = time.perf_counter()
            ds.preview(100)
            warm.append(time.perf_counter() - t)
        result["preview"] = {
            "fresh_p50_ms": pct(times, 50) * 1000,
            "fresh_p95_ms": pct(times, 95) * 1000,
            "p50_ms": pct(warm, 50) * 1000,
            "p95_ms": pct(warm, 95) * 1000,
        }
        s3.close()
        local.close()
    finally:
        if started_here:
            services.down(home=home)

    w = result["trino_workers"]
    print(f"\nobject storage: rest catalog + s3 (versitygw), TPC-H sf={sf:g}, best of {runs}, {platform.node()}")
    print(f"{'query':6} {'emb s3':>9} {'emb local':>10} {'duck+pa s3':>11} {f'trino({w}w)':>10} {'s3/local':>9}")
    for r in result["queries"]:
        print(
            f"{r['query']:6} {r['embedded_s3_s']:9.3f} {r['embedded_local_s']:10.3f} {r['duckdb_pyarrow_s3_s']:11.3f} "
            f"{r['trino_s3_s']:10.3f} {r['embedded_s3_s'] / r['embedded_local_s']:9.2f}"
        )
    t = result["totals"]
    print(
        f"{'total':6} {t['embedded_s3_s']:9.3f} {t['embedded_local_s']:10.3f} {t['duckdb_pyarrow_s3_s']:11.3f} "
        f"{t['trino_s3_s']:10.3f} {result['s3_over_local']:9.2f}"
    )
    print(
        f"first run of each query on s3 (files read from the store, copies made meanwhile): {t['first_s3_s']:.3f} s"
        f" (local copies: {os.environ.get('LAKELAB_FILE_CACHE_GB', 'default cap')})"
    )
    for name, err in result["trino_errors"].items():
        print(f"trino failed {name} (left out of its total): {err}")
    ing, pv = result["ingest"], result["preview"]
    goals = [
        (
            "embedded TPC-H on s3 within 1.3x of local",
            result["s3_over_local"] <= 1.3,
            f"{result['s3_over_local']:.2f}x",
        ),
        (
            "preview p50 < 150 ms (warm dataset)",
            pv["p50_ms"] < 150,
            f"{pv['p50_ms']:.0f} ms, p95 {pv['p95_ms']:.0f} ms",
        ),
        (
            "  (fresh Lakehouse each call)",
            pv["fresh_p50_ms"] < 150,
            f"{pv['fresh_p50_ms']:.0f} ms, p95 {pv['fresh_p95_ms']:.0f} ms",
        ),
        (
            f"ingest of {n_rows:,} rows within 1.2x of pyarrow",
            ing["ratio"] <= 1.2,
            f"{ing['lakelab_s']:.2f} s vs {ing['pyarrow_s']:.2f} s = {ing['ratio']:.2f}x",
        ),
    ]
    for what, ok, value in goals:
        print(f"goal: {what:45} {'met' if ok else 'NOT met':8} {value}")
    out = ROOT / "bench" / "results" / f"objstore-sf{sf:g}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    result["duckdb"], result["pyarrow"] = duckdb.__version__, pa.__version__
    out.write_text(json.dumps(result, indent=2))
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

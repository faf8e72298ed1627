"""Cold start: `%load_ext lakelab`, then the first `%%trino -o df` in a fresh interpreter.

Each run is a new Python process (a fresh kernel): IPython is imported first and not counted
(a kernel has it already), then it times `%load_ext lakelab`, waits --pause seconds (the user
writing the next cell; the warm-up thread works meanwhile), times the first `%%trino --no-cache
-o df` (a TPC-H query into pandas) and the same cell again (warm). With --baseline PATH (a
checkout's kernel_lib, e.g. from `git archive`) the same runs use that code too, interleaved,
so both see the same machine load. Medians of --runs. Writes bench/results/cold_start.json.

    python bench/bench_cold_start.py --sf 0.1 --runs 5 --pause 0 --pause 2 --baseline /tmp/base/kernel_lib
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from bench_tpch import QUERIES, ROOT, prepare  # bench/ is on sys.path when a benchmark runs

CHILD = r"""
import json, sys, time
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
sh = InteractiveShell.instance()
sql, pause = sys.argv[1], float(sys.argv[2])
t0 = time.perf_counter()
sh.run_line_magic("load_ext", "lakelab")
t1 = time.perf_counter()
time.sleep(pause)
with capture_output():
    t2 = time.perf_counter()
    sh.run_cell_magic("trino", "--no-cache -o df", sql)
    t3 = time.perf_counter()
    sh.run_cell_magic("trino", "--no-cache -o df", sql)
    t4 = time.perf_counter()
assert len(sh.user_ns["df"]) > 0
print(json.dumps({"load_ext_s": t1 - t0, "first_s": t3 - t2, "warm_s": t4 - t3}))
"""


def run_once(kernel_lib: Path, home: Path, sql: str, pause: float) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(kernel_lib), LAKELAB_HOME=str(home), LAKELAB_ENGINE="duckdb")
    env.pop("LAKELAB_CONFIG", None)
    out = subprocess.run(
        [sys.executable, "-c", CHILD, sql, str(pause)], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sf", type=float, default=0.1)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pause", type=float, action="append", help="seconds between load_ext and the query")
    ap.add_argument("--query", default="q06")
    ap.add_argument("--baseline", type=Path, default=None, help="another checkout's kernel_lib to compare")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/lakelab-bench"))
    args = ap.parse_args()
    pauses = args.pause or [0.0, 2.0]
    lh = prepare(args.sf, args.cache)
    home = lh.config.home
    lh.close()
    sql = (QUERIES / f"{args.query}.sql").read_text()
    variants = {"current": ROOT / "kernel_lib"}
    if args.baseline:
        variants["baseline"] = args.baseline
    samples: dict[tuple[str, float], list[dict[str, float]]] = {(v, p): [] for v in variants for p in pauses}
    for _ in range(args.runs):
        for pause in pauses:
            for variant, path in variants.items():
                samples[(variant, pause)].append(run_once(path, home, sql, pause))
    rows = []
    for (variant, pause), runs in samples.items():
        row = {"variant": variant, "pause_s": pause}
        for k in ("load_ext_s", "first_s", "warm_s"):
            row[k] = statistics.median(r[k] for r in runs)
        rows.append(row)
    print(f"\ncold start: TPC-H {args.query} sf={args.sf:g} via %%trino -o df, median of {args.runs} fresh processes")
    print(f"{'variant':9} {'pause':>6} {'load_ext':>9} {'first':>8} {'warm':>8} {'first/warm':>11}")
    for r in rows:
        print(
            f"{r['variant']:9} {r['pause_s']:6.1f} {r['load_ext_s']:9.3f} {r['first_s']:8.3f} {r['warm_s']:8.3f} "
            f"{r['first_s'] / r['warm_s']:11.1f}"
        )
    out = ROOT / "bench" / "results" / "cold_start.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"benchmark": "cold_start", "sf": args.sf, "query": args.query, "rows": rows}, indent=2))
    print(f"wrote {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

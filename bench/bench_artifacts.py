"""Model artifact benchmark: publishing and loading a model of N MB as a versioned dataset,
against the limit - joblib.dump / joblib.load of the same object to a local file (publish
adds sha256 while streaming, the Iceberg commit; load adds the verified copy).

Prints a table and writes bench/results/artifacts.json.

    python bench/bench_artifacts.py            # a 256 MB model
    python bench/bench_artifacts.py --mb 16    # quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
from pathlib import Path

from common import best  # bench/ is on sys.path when a benchmark runs

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mb", type=int, default=256, help="model size in MB (default 256)")
    ap.add_argument("--runs", type=int, default=2, help="best of this many runs (default 2)")
    args = ap.parse_args()

    import joblib
    import numpy as np

    work = Path(tempfile.mkdtemp(prefix="lakelab-bench-artifacts-"))
    os.environ["LAKELAB_HOME"] = str(work / "home")
    import lakelab
    from lakelab.config import load_config
    from lakelab.write.publish import publish

    lh = lakelab.Lakehouse(load_config())
    model = {"weights": np.random.default_rng(0).random(args.mb * 1024 * 1024 // 8), "name": "bench"}
    plain = work / "plain.joblib"
    rows = []
    dump = best(lambda: joblib.dump(model, plain), args.runs)
    pub = best(lambda: publish(lh, model, "bench.model", kind="model"), args.runs)
    load_plain = best(lambda: joblib.load(plain), args.runs)
    load_ds = best(lambda: lh.dataset("bench.model").load(), args.runs)
    size = plain.stat().st_size / 1e6
    rows.append({"case": "write", "joblib_s": dump, "lakelab_s": pub, "ratio": pub / dump})
    rows.append({"case": "read", "joblib_s": load_plain, "lakelab_s": load_ds, "ratio": load_ds / load_plain})
    print(f"model {size:,.0f} MB, best of {args.runs}, {os.cpu_count()} cores")
    print(f"{'case':<8}{'joblib s':>10}{'lakelab s':>11}{'ratio':>8}{'lakelab MB/s':>14}")
    for r in rows:
        print(
            f"{r['case']:<8}{r['joblib_s']:>10.2f}{r['lakelab_s']:>11.2f}{r['ratio']:>8.2f}"
            f"{size / r['lakelab_s']:>14,.0f}"
        )
    out = HERE / "results" / "artifacts.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "model_mb": size,
                "runs": args.runs,
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "results": rows,
            },
            indent=2,
        )
    )
    print(f"wrote {out}")
    import shutil

    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

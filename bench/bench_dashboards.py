"""Dashboard benchmark: publish time of a notebook that reads N rows, and time to first paint of
the pinned and the live view in Chromium.

Baselines in the same run: the same notebook executed by plain nbclient (what publishing adds:
the read recording, rendering, the artifacts and the Iceberg commit), and the same notebook
served by Voilà's own /voila/render (what the live view adds: the stored notebook, pins).

Prints a table and writes bench/results/dashboards.json.

    python bench/bench_dashboards.py                 # 10M rows
    python bench/bench_dashboards.py --rows 1000000  # quick
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import best, synthetic_batches  # bench/ is on sys.path when a benchmark runs

HERE = Path(__file__).resolve().parent
TOKEN = "lakelab-bench"
CELLS = (
    "import lakelab\nlh = lakelab.connect()",
    'r = lh.sql("SELECT count(*) AS n, sum(x) AS sx, avg(k) AS ak FROM bench.big")\nprint(r.table.to_pylist())',
)


def notebook(path: Path) -> Path:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell("# Bench dashboard")] + [nbformat.v4.new_code_cell(c) for c in CELLS]
    nbformat.write(nb, str(path))
    return path


def plain_run(path: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    NotebookClient(
        nb, timeout=1200, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(root: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "server",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={port}",
            f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.allow_root=True",
            "--ServerApp.jpserver_extensions={'lakelab_server': True, 'voila.server_extension': True}",
        ],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        cwd=root,
    )
    url = f"http://127.0.0.1:{port}/"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{url}api/status?token={TOKEN}", timeout=2):
                return proc, url
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    raise RuntimeError(f"jupyter server did not start: {log.read_text()[-2000:]}")


def paint(browser, url: str, text: str) -> tuple[float, float]:
    """First contentful paint (ms, the browser's own measure) and the time until `text` shows."""
    page = browser.new_page()
    t = time.perf_counter()
    page.goto(url, wait_until="commit")
    page.get_by_text(text).first.wait_for(timeout=300_000)
    shown = (time.perf_counter() - t) * 1000
    fcp = page.evaluate(
        "() => (performance.getEntriesByName('first-contentful-paint')[0] || {startTime: NaN}).startTime"
    )
    page.close()
    return float(fcp), shown


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000, help="rows the notebook reads (default 10M)")
    ap.add_argument("--runs", type=int, default=3, help="page loads per view, best taken (default 3)")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="lakelab-bench-dashboards-"))
    root = work / "notebooks"
    root.mkdir()
    os.environ["LAKELAB_HOME"] = str(work / "home")
    import lakelab
    from lakelab.config import load_config

    lh = lakelab.Lakehouse(load_config())
    t = time.perf_counter()
    first = True
    for batch in synthetic_batches(args.rows, 1_000_000):
        lh.ingest(batch, "bench.big", mode="create" if first else "append")
        first = False
    print(f"ingested {args.rows:,} rows in {time.perf_counter() - t:.1f} s")
    nb = notebook(root / "bench.ipynb")

    plain = best(lambda: plain_run(nb), 1)
    version = {"n": 0}

    def publish() -> None:
        lh.publish(str(nb), "bench.dash", kind="dashboard")
        version["n"] += 1

    pub = best(publish, 1)
    rows = [{"case": f"publish, notebook reads {args.rows:,} rows", "baseline_s": plain, "lakelab_s": pub}]

    from playwright.sync_api import sync_playwright

    proc, url = start_server(root, work / "server.log")
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium")
            expected = f"'n': {args.rows}"
            views = {
                "pinned view": f"{url}lakelab/api/v1/dashboards/bench.dash/versions/1/page?token={TOKEN}",
                "live view (Voilà, fresh kernel)": f"{url}lakelab/api/v1/dashboards/bench.dash/live?token={TOKEN}",
                "plain Voilà /voila/render": f"{url}voila/render/bench.ipynb?token={TOKEN}",
            }
            paints = {}
            for label, address in views.items():
                samples = [paint(browser, address, expected) for _ in range(args.runs)]
                paints[label] = (min(s[0] for s in samples), min(s[1] for s in samples))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    for label, (fcp, shown) in paints.items():
        rows.append({"case": label, "first_paint_ms": fcp, "numbers_shown_ms": shown})

    print(f"{args.rows:,} rows, {os.cpu_count()} cores; paints best of {args.runs}")
    print(f"{'case':<42}{'baseline s':>11}{'lakelab s':>11}{'first paint ms':>16}{'numbers shown ms':>18}")
    for r in rows:
        print(
            f"{r['case']:<42}{r.get('baseline_s', float('nan')):>11.2f}{r.get('lakelab_s', float('nan')):>11.2f}"
            f"{r.get('first_paint_ms', float('nan')):>16.0f}{r.get('numbers_shown_ms', float('nan')):>18.0f}"
        )
    out = HERE / "results" / "dashboards.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "rows": args.rows,
                "runs": args.runs,
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "results": rows,
            },
            indent=2,
        )
    )
    print(f"wrote {out}")
    lh.close()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

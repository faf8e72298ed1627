"""Catalog REST API latency through HTTP to a real `jupyter server` with lakelab_server.

    python bench/bench_server.py                      # 10,000 datasets in 100 namespaces, 10M-row table
    python bench/bench_server.py --datasets 1000 --rows 1000000   # quick run

How the catalog is built (honestly, but fast): 50 template tables with different schemas
are published with real data; every other dataset is registered in the catalog
(`register_table`, the same row any engine's commit writes) with its OWN metadata file: a
copy of a template's metadata with its own table UUID, description, owner and tags. So the
server's search index really reads 10,000 distinct metadata files; the datasets share the
templates' data files. One extra table holds --rows rows for the preview timing.

Measured (round trip on localhost, so an upper bound of server time): listing one page of
a namespace, search, and preview of the first 100 rows of the big and of a small table.
The first search after start builds the index from scratch ("index build, cold").
Also: a search with a typo (corrected), a search with facets, and preview pages read at a
random offset, plain and sorted by a column (the dataset view's grid).
Goals: list/search p50 < 150 ms, preview p50 < 100 ms, page at an offset < 300 ms, sorted page < 1 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa

from common import pct  # bench/ is on sys.path when a benchmark runs

TOKEN = "bench-token-7f3a9c"
WORDS = [
    "sales",
    "orders",
    "flights",
    "weather",
    "users",
    "events",
    "clicks",
    "sessions",
    "revenue",
    "churn",
    "inventory",
    "shipments",
    "payments",
    "fraud",
    "ratings",
    "reviews",
    "sensors",
    "logs",
    "trips",
    "prices",
]
OWNERS = ["ana", "bo", "chen", "dara", "eli", "fay", "gus", "hana"]
TAGS = ["raw", "silver", "gold", "pii", "daily", "hourly", "finance", "ml", "marketing", "ops"]


def build_catalog(home: Path, n_datasets: int, n_namespaces: int, rows: int) -> dict[str, float]:
    os.environ["LAKELAB_HOME"] = str(home)
    import lakelab
    from lakelab.config import load_config

    lh = lakelab.Lakehouse(load_config())
    t0 = time.perf_counter()
    templates = []
    rng = random.Random(7)
    for i in range(min(50, n_datasets)):
        cols = {f"{WORDS[(i + j) % len(WORDS)]}_{j}": pa.array(np.arange(10) * j) for j in range(2 + i % 6)}
        ds = lh.publish(pa.table(cols), f"templates.t{i:02d}", description=f"template {i}")
        templates.append(ds.table.metadata_location)
    for k in range(n_namespaces):
        lh.catalog.create_namespace_if_not_exists((f"ns{k:03d}",))
    t_templates = time.perf_counter() - t0

    t0 = time.perf_counter()
    raw = {loc: json.loads(Path(loc.removeprefix("file://")).read_text()) for loc in templates}
    rows_out = []
    for i in range(n_datasets - len(templates)):
        loc = templates[i % len(templates)]
        meta = dict(raw[loc])
        word = WORDS[i % len(WORDS)]
        meta["table-uuid"] = str(uuid.uuid4())
        meta["properties"] = {
            **meta["properties"],
            "lakelab.description": f"{word} data for region {i % 37}, dataset {i}",
            "lakelab.owner": rng.choice(OWNERS),
            "lakelab.tags": ",".join(rng.sample(TAGS, 2)),
        }
        path = Path(loc.removeprefix("file://")).parent / f"{i:06d}-{meta['table-uuid']}.metadata.json"
        path.write_text(json.dumps(meta))
        rows_out.append(
            {
                "catalog_name": lh.catalog.name,
                "table_namespace": f"ns{i % n_namespaces:03d}",
                "table_name": f"{word}_{i:06d}",
                "metadata_location": path.as_uri(),
                "previous_metadata_location": None,
                "iceberg_type": "TABLE",
            }
        )
    # the row SqlCatalog.register_table inserts, written in one transaction instead of 10,000
    from pyiceberg.catalog.sql import IcebergTables
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    with Session(lh.catalog.engine) as session:
        session.execute(insert(IcebergTables), rows_out)
        session.commit()
    t_register = time.perf_counter() - t0

    t0 = time.perf_counter()
    n = rows
    big = pa.table(
        {
            "id": np.arange(n, dtype=np.int64),
            "x": np.random.default_rng(1).random(n),
            "k": pa.array(np.arange(n) % 1000, pa.int32()),
            "s": pa.array(np.arange(n) % 7, pa.int64()),
        }
    )
    lh.publish(big, "bench.big", description=f"{n:,} rows for preview timing")
    del big
    t_big = time.perf_counter() - t0
    lh.close()
    return {"templates_s": t_templates, "register_s": t_register, "big_table_s": t_big}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(home: Path, extra_args: list[str] = ()) -> tuple[subprocess.Popen, str]:
    """A real `jupyter server` with lakelab_server on LAKELAB_HOME=home (token auth, log in
    home/server.log); returns the process and the API base URL once /info answers."""
    port = free_port()
    log = open(home / "server.log", "w")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "server",
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={home}",
            "--ServerApp.log_level=WARN",
            *extra_args,
        ]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        env={**os.environ, "LAKELAB_HOME": str(home), "JUPYTER_RUNTIME_DIR": str(home / "runtime")},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    api = f"http://127.0.0.1:{port}/lakelab/api/v1"
    for _ in range(240):
        if server.poll() is not None:
            raise RuntimeError(f"jupyter server exited with {server.returncode}; see {home / 'server.log'}")
        try:
            get(f"{api}/info")
            return server, api
        except OSError:
            time.sleep(0.5)
    server.terminate()
    raise RuntimeError(f"jupyter server did not answer within 120 s; see {home / 'server.log'}")


def get(url: str) -> tuple[float, dict]:
    req = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    t0 = time.perf_counter()
    with urllib.request.urlopen(req, timeout=600) as r:
        body = json.loads(r.read())
    return (time.perf_counter() - t0) * 1000, body


def typo(word: str, rng: random.Random) -> str:
    """`word` with two neighbouring letters swapped ("flights" -> "fligths")."""
    i = rng.randrange(1, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2 :]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", type=int, default=10_000)
    ap.add_argument("--namespaces", type=int, default=100)
    ap.add_argument("--rows", type=int, default=10_000_000, help="rows of the preview table")
    ap.add_argument("--requests", type=int, default=60, help="timed requests per operation")
    ap.add_argument("--keep", action="store_true", help="keep the temporary lakehouse")
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="lakelab-bench-server-"))
    server = None
    try:
        build = build_catalog(home, args.datasets, args.namespaces, args.rows)
        shutil.rmtree(home / "index", ignore_errors=True)  # the server builds its search index from scratch
        server, api = start_server(home)
        cold_ms, _ = get(f"{api}/search?q=warmup")  # builds the index from all metadata files
        rng = random.Random(11)
        ops = {
            "list namespace page (100)": lambda: (
                f"{api}/namespaces/ns{rng.randrange(args.namespaces):03d}/datasets?page_size=100"
            ),
            "list namespaces": lambda: f"{api}/namespaces",
            "search text": lambda: (
                f"{api}/search?" + urllib.parse.urlencode({"q": f"{rng.choice(WORDS)} region {rng.randrange(37)}"})
            ),
            "search tag + owner": lambda: (
                f"{api}/search?" + urllib.parse.urlencode({"tag": rng.choice(TAGS), "owner": rng.choice(OWNERS)})
            ),
            "search column name": lambda: f"{api}/search?q={rng.choice(WORDS)}_3",
            # a misspelt word: nothing matches, so the closest indexed word is searched instead
            "search typo (corrected)": lambda: f"{api}/search?q={typo(rng.choice(WORDS), rng)}",
            "search text + facets": lambda: (
                f"{api}/search?" + urllib.parse.urlencode({"q": rng.choice(WORDS), "facets": "true"})
            ),
            f"preview 100 rows of {args.rows:,}-row table": lambda: f"{api}/datasets/bench.big/preview?limit=100",
            "preview 100 rows of 10-row table": lambda: f"{api}/datasets/templates.t00/preview?limit=100",
            f"page at a random offset of {args.rows:,}": lambda: (
                f"{api}/datasets/bench.big/preview?limit=100&offset={rng.randrange(args.rows - 100)}"
            ),
            f"sorted page at a random offset of {args.rows:,}": lambda: (
                f"{api}/datasets/bench.big/preview?limit=100&sort=x&order=desc&offset={rng.randrange(args.rows - 100)}"
            ),
        }
        results = {}
        for name, make_url in ops.items():
            get(make_url())  # warm
            times = [get(make_url())[0] for _ in range(args.requests)]
            results[name] = {"p50_ms": statistics.median(times), "p95_ms": pct(times, 95), "n": len(times)}
        _, found = get(f"{api}/search?q=sales&limit=1000")
    finally:
        if server:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)

    # a sorted page sorts the whole snapshot in the engine (the grid's paging): a second, not 100 ms
    goals = {"list": 150, "search": 150, "preview": 100, "page": 300, "sorted page": 1000}
    print(
        f"\nlakelab REST API, {args.datasets:,} datasets in {args.namespaces} namespaces "
        f"(setup: templates {build['templates_s']:.1f} s, register {build['register_s']:.1f} s, "
        f"big table {build['big_table_s']:.1f} s; index build, cold: {cold_ms:,.0f} ms)"
    )
    print(f"{'operation':<42} {'p50 ms':>8} {'p95 ms':>8}  goal")
    for name, r in results.items():
        goal = max(((len(k), g) for k, g in goals.items() if name.startswith(k)), default=(0, None))[1]
        verdict = "" if goal is None else f"p50 < {goal} ms: {'yes' if r['p50_ms'] < goal else 'NO'}"
        print(f"{name:<42} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f}  {verdict}")
    print(f"(search 'sales' matched {len(found['datasets'])} datasets, capped at 1,000)")
    out = Path(__file__).parent / "results" / "bench_server.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "datasets": args.datasets,
                "namespaces": args.namespaces,
                "rows": args.rows,
                "setup_s": build,
                "index_build_cold_ms": cold_ms,
                "results": results,
                "goals_p50_ms": goals,
            },
            indent=2,
        )
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

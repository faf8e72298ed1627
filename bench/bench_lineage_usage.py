"""What OpenLineage events and usage recording cost, and search with usage ranking.

    python bench/bench_lineage_usage.py                         # 200 writes/queries, 10,000 datasets
    python bench/bench_lineage_usage.py --ops 50 --datasets 1000  # quick run

1. Cost per write and per query, in ms: small appends (`lh.ingest` of 10 rows) and small
   queries (`lh.sql`, DuckDB) with nothing on, OpenLineage only (HTTP to a stdlib receiver on
   loopback), usage only, and both. "hook" is the time spent on the caller's thread in the
   lineage and usage hooks themselves (starting/ending a run, recording a read); the events are
   built and sent and the usage rows written in the background, which shares the CPU, so the
   end-to-end p50s include that contention (and this machine's noise). After each mode the
   queues are drained; that time is shown. "own work" is the same hooks timed with the sender
   thread parked: what they cost without waiting for the GIL.
2. Search p50 over HTTP at --datasets datasets (the catalog bench_server.py builds, the same
   queries) with usage ranking (a usage table naming a fifth of the datasets) and without
   (LAKELAB_USAGE=off): two servers, asked the same searches alternately.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyarrow as pa

sys.path.insert(0, str(Path(__file__).parent))
from bench_server import OWNERS, WORDS, build_catalog, get, start_server
from common import pct

RESULTS = Path(__file__).parent / "results"


class Sink(BaseHTTPRequestHandler):
    count = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        Sink.count += 1
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def cost_per_op(ops: int) -> list[dict]:
    import lakelab
    from lakelab.config import load_config
    from lakelab.lineage import openlineage
    from lakelab.usage import recorder

    hook = {"write": 0.0, "query": 0.0}

    def timed(fn, key):
        def wrapper(*a, **k):
            t = time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                hook[key] += time.perf_counter() - t

        return wrapper

    openlineage.begin = timed(openlineage.begin, "write")
    openlineage.RunHandle.complete = timed(openlineage.RunHandle.complete, "write")
    recorder.Recorder.on_read = timed(recorder.Recorder.on_read, "query")
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    out = []
    for mode, lineage_on, usage_on in (
        ("warm-up", False, False),  # first-time imports and caches: not reported
        ("off", False, False),
        ("openlineage", True, False),
        ("usage", False, True),
        ("both", True, True),
    ):
        home = Path(tempfile.mkdtemp(prefix="lakelab-bench-lu-"))
        os.environ["LAKELAB_HOME"] = str(home)
        for var in [v for v in os.environ if v.startswith("OPENLINEAGE")]:  # the client aliases its own
            os.environ.pop(var)
        os.environ["LAKELAB_USAGE"] = "on" if usage_on else "off"
        if lineage_on:
            os.environ["OPENLINEAGE_URL"] = f"http://127.0.0.1:{receiver.server_address[1]}"
        else:
            os.environ.pop("OPENLINEAGE_URL", None)
        openlineage.reset()
        lh = lakelab.Lakehouse(load_config())
        batch = pa.table({"id": list(range(10)), "v": [float(i) for i in range(10)]})
        lh.ingest(batch, "bench.t")  # the table exists before timing
        writes, queries = [], []
        hook.update(write=0.0, query=0.0)
        for _ in range(ops):
            t = time.perf_counter()
            lh.ingest(batch, "bench.t")
            writes.append((time.perf_counter() - t) * 1000)
        for _ in range(ops):
            t = time.perf_counter()
            lh.sql("SELECT count(*) FROM bench.t")
            queries.append((time.perf_counter() - t) * 1000)
        hooks = dict(hook)
        t = time.perf_counter()
        openlineage.flush(120)
        recorder.flush()
        drain = (time.perf_counter() - t) * 1000
        out.append(
            {
                "mode": mode,
                "write_ms_p50": statistics.median(writes),
                "write_ms_mean": statistics.fmean(writes),
                "query_ms_p50": statistics.median(queries),
                "query_ms_mean": statistics.fmean(queries),
                "drain_ms": drain,
                "write_hook_ms": hooks["write"] * 1000 / ops,
                "query_hook_ms": hooks["query"] * 1000 / ops,
                "events_sent": openlineage.stats()["sent"],
                "events_dropped": openlineage.stats()["dropped"],
            }
        )
        lh.close()
        shutil.rmtree(home, ignore_errors=True)
    receiver.shutdown()
    out = [c for c in out if c["mode"] != "warm-up"]
    for var in [v for v in os.environ if v.startswith("OPENLINEAGE")]:
        os.environ.pop(var)
    openlineage.reset()
    return out


def own_work(n: int = 2000) -> dict:
    """The hooks' own cost on the caller's thread, with the background sender parked (no GIL
    contention): OpenLineage begin + complete per write, a usage row per query."""
    import lakelab
    from lakelab.catalog.metadata import Lineage
    from lakelab.config import load_config
    from lakelab.engines.observers import Read, ReadEvent
    from lakelab.lineage import openlineage
    from lakelab.usage import recorder

    home = Path(tempfile.mkdtemp(prefix="lakelab-bench-lu-own-"))
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{receiver.server_address[1]}"
    os.environ.update(LAKELAB_HOME=str(home), LAKELAB_USAGE="on", OPENLINEAGE_URL=url)
    os.environ["LAKELAB_OPENLINEAGE_QUEUE"] = str(4 * n)
    openlineage.reset()
    lh = lakelab.Lakehouse(load_config())
    cat, name = lh.catalog, lh.table_name("bench.t")
    lineage = Lineage(operation="transform", sql="SELECT 1")
    emitter, gate = openlineage._emitter(), threading.Event()
    assert emitter is not None
    emitter.submit(lambda: (gate.wait(), [])[1])  # the sender waits here, holding no GIL
    for _ in range(50):  # warm up
        run = openlineage.begin(cat, name, lineage)
        assert run is not None
        run.complete(1, {"rows": 1})
    t = time.perf_counter()
    for _ in range(n):
        run = openlineage.begin(cat, name, lineage)
        assert run is not None
        run.complete(1, {"rows": 1})
    per_write = (time.perf_counter() - t) * 1000 / n
    rec = recorder.recorder()
    assert rec is not None
    rec.conf.max_pending = rec.conf.batch_rows = 10 * n  # keep every row in memory while timing
    event = ReadEvent(engine="duckdb", reads=(Read("bench.t", 1),), sql="SELECT * FROM bench.t", rows=1, elapsed_s=0.01)
    t = time.perf_counter()
    for _ in range(n):
        rec.on_read(event)
    per_query = (time.perf_counter() - t) * 1000 / n
    with rec._lock:
        rec.pending.clear()
    emitter.queue.queue.clear()  # these events are not the point
    gate.set()
    receiver.shutdown()
    lh.close()
    for var in ("OPENLINEAGE_URL", "LAKELAB_OPENLINEAGE_QUEUE"):
        os.environ.pop(var, None)
    openlineage.reset()
    shutil.rmtree(home, ignore_errors=True)
    return {"write_ms": per_write, "query_ms": per_query, "calls": n}


def seed_usage(home: Path, n_datasets: int, n_namespaces: int) -> int:
    """Usage rows for a fifth of the datasets (Zipf-like: a few are queried a lot)."""
    import lakelab
    from lakelab.config import load_config
    from lakelab.usage.recorder import write_rows

    os.environ["LAKELAB_HOME"] = str(home)
    lh = lakelab.Lakehouse(load_config())
    rng = random.Random(3)
    now = datetime.now(timezone.utc)
    names = [f"ns{i % n_namespaces:03d}.{WORDS[i % len(WORDS)]}_{i:06d}" for i in range(n_datasets - 50)]
    used = rng.sample(names, len(names) // 5)
    rows = []
    for rank, name in enumerate(used):
        for q in range(max(1, 50 // (rank + 1))):
            rows.append(
                {
                    "ts": now - timedelta(hours=rng.randrange(24 * 30)),
                    "query_id": f"{rank}-{q}",
                    "user_name": rng.choice(OWNERS),
                    "engine": "duckdb",
                    "table_name": name,
                    "snapshot_id": None,
                    "rows": 10,
                    "elapsed_ms": 3.0,
                    "sql": f"SELECT * FROM {name}",
                    "notebook": None,
                }
            )
    write_rows(lh, rows)
    lh.close()
    return len(rows)


def search_p50(home: Path, requests: int) -> list[dict]:
    """Search p50 on two servers over the same catalog, one ranking by usage and one with
    usage off (a copy of the home: each server builds its own index), asked the same queries
    alternately so the machine's load drifts over both alike."""
    other = home.parent / "usage-off"
    shutil.copytree(home, other, ignore=shutil.ignore_patterns("index"))
    servers = {}
    try:
        for usage_on, h in ((True, home), (False, other)):
            os.environ["LAKELAB_USAGE"] = "on" if usage_on else "off"
            servers[usage_on] = start_server(h)
            get(f"{servers[usage_on][1]}/search?q=warmup")  # the index build, not timed
        rng = random.Random(11)
        queries = [
            urllib.parse.urlencode({"q": f"{rng.choice(WORDS)} region {rng.randrange(37)}"}) for _ in range(requests)
        ] + [urllib.parse.urlencode({"q": rng.choice(WORDS)}) for _ in range(requests)]
        times: dict[bool, list[float]] = {True: [], False: []}
        for i, q in enumerate(queries):
            for usage_on in (True, False) if i % 2 else (False, True):
                ms, _ = get(f"{servers[usage_on][1]}/search?{q}")
                times[usage_on].append(ms)
        out = []
        for usage_on in (False, True):
            _, top = get(f"{servers[usage_on][1]}/search?q=sales&limit=5")
            out.append(
                {
                    "usage_ranking": usage_on,
                    "search_p50_ms": statistics.median(times[usage_on]),
                    "search_p90_ms": pct(times[usage_on], 90),
                    "top_for_sales": [d["name"] for d in top["datasets"]],
                }
            )
        return out
    finally:
        for proc, _ in servers.values():
            proc.terminate()
            proc.wait(30)
        shutil.rmtree(other, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ops", type=int, default=200, help="timed writes and queries per mode")
    ap.add_argument("--datasets", type=int, default=10_000)
    ap.add_argument("--namespaces", type=int, default=100)
    ap.add_argument("--requests", type=int, default=40, help="timed searches of each kind per server")
    args = ap.parse_args()
    for var in list(os.environ):
        if var.startswith("OPENLINEAGE"):
            os.environ.pop(var)

    own = own_work()
    print(
        f"\nOwn work of the hooks on the caller's thread (sender parked, {own['calls']} calls): "
        f"{own['write_ms']:.3f} ms per write (OpenLineage), {own['query_ms']:.3f} ms per query (usage)"
    )
    costs = cost_per_op(args.ops)
    print(f"\nCost per operation, {args.ops} small appends and {args.ops} small queries (DuckDB) per mode")
    print(
        f"{'mode':<12} {'write hook':>11} {'query hook':>11} {'write p50':>10} {'write mean':>11} "
        f"{'query p50':>10} {'query mean':>11} {'drain':>8}"
    )
    base = costs[0]
    for c in costs:
        print(
            f"{c['mode']:<12} {c['write_hook_ms']:>9.3f}ms {c['query_hook_ms']:>9.3f}ms "
            f"{c['write_ms_p50']:>8.2f}ms {c['write_ms_mean']:>9.2f}ms "
            f"{c['query_ms_p50']:>8.2f}ms {c['query_ms_mean']:>9.2f}ms {c['drain_ms']:>6.0f}ms"
        )
    for c in costs[1:]:
        c["write_ms_added_p50"] = c["write_ms_p50"] - base["write_ms_p50"]
        c["query_ms_added_p50"] = c["query_ms_p50"] - base["query_ms_p50"]
        print(
            f"  {c['mode']}: +{c['write_ms_added_p50']:.2f} ms per write, +{c['query_ms_added_p50']:.2f} ms per "
            f"query (p50 vs off); events sent {c['events_sent']}, dropped {c['events_dropped']}"
        )

    home = Path(tempfile.mkdtemp(prefix="lakelab-bench-lu-search-"))
    try:
        os.environ["LAKELAB_USAGE"] = "off"
        build_catalog(home, args.datasets, args.namespaces, 1000)
        usage_rows = seed_usage(home, args.datasets, args.namespaces)
        searches = search_p50(home, args.requests)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    print(f"\nSearch over HTTP at {args.datasets:,} datasets ({usage_rows:,} usage rows), {2 * args.requests} searches")
    for s in searches:
        label = "with usage ranking" if s["usage_ranking"] else "without (usage off)"
        print(f"  {label:<22} p50 {s['search_p50_ms']:.1f} ms, p90 {s['search_p90_ms']:.1f} ms")
        print(f"    top 5 for 'sales': {', '.join(s['top_for_sales'])}")

    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "lineage_usage.json"
    out.write_text(json.dumps({"args": vars(args), "own_work": own, "cost": costs, "search": searches}, indent=2))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

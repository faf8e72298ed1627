"""The lakelab REST API under load: concurrent clients for a bounded time against a real
`jupyter server` (token auth) on a catalog of 10,000 datasets in 100 namespaces.

    python bench/bench_load.py                         # 20 clients, 60 s
    python bench/bench_load.py --seconds 600           # the long soak
    python bench/bench_load.py --clients 40 --datasets 2000
    python bench/bench_load.py --catalog-uri postgresql+psycopg2://user@host:5432/emptydb   # a PostgreSQL catalog

The catalog is built by bench_server.build_catalog (real catalog entries, each with its own
metadata file). Each client is a thread with its own keep-alive HTTP connection doing what a
sidebar user does, picked at random with these weights: list namespaces, list a page of a
namespace, search (text, tag, owner, column name), open a dataset seen in a listing (detail,
preview, snapshots, lineage) and now and then change its description (PATCH metadata; each
client only patches datasets no other client patches, so no 409 is self-inflicted).

Reported per route and overall: count, errors (any non-2xx answer or exception), p50, p95,
p99 and max latency, throughput; a table is printed and bench/results/load.json written.
`run_load` is the one implementation; tests/reliability/test_load.py runs it for ~15 s.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from bench_server import OWNERS, TAGS, TOKEN, WORDS, build_catalog, start_server
from common import pct

WEIGHTS = {
    "list namespaces": 1,
    "list namespace page": 3,
    "search text": 2,
    "search tag": 1,
    "search owner": 1,
    "search column": 1,
    "dataset detail": 3,
    "preview": 2,
    "snapshots": 1,
    "lineage": 1,
    "patch metadata": 0.2,
}


@dataclass
class Sample:
    route: str
    client: int
    ms: float
    status: int | None  # None: no answer (exception)
    error: str | None = None


@dataclass
class Client:
    """One simulated user: its own connection and random stream, and the datasets it saw."""

    cid: int
    base: urllib.parse.SplitResult
    namespaces: int
    clients: int
    samples: list[Sample] = field(default_factory=list)
    seen: list[str] = field(default_factory=list)
    patched: dict[str, str] = field(default_factory=dict)  # dataset -> the description last written
    conn: http.client.HTTPConnection | None = None

    def __post_init__(self) -> None:
        self.rng = random.Random(1000 + self.cid)

    def call(self, route: str, method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"token {TOKEN}"}
        data = None
        if body is not None:
            data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
        t0 = time.perf_counter()
        status, payload, error = None, None, None
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.base.hostname, self.base.port, timeout=120)
            self.conn.request(method, self.base.path + path, body=data, headers=headers)
            resp = self.conn.getresponse()
            raw = resp.read()
            status = resp.status
            if 200 <= status < 300:
                payload = json.loads(raw)
            else:
                error = raw[:300].decode("utf-8", "replace")
        except Exception as e:  # noqa: BLE001 - every failure is counted, then the client goes on
            error = f"{type(e).__name__}: {e}"
            if self.conn is not None:
                self.conn.close()
            self.conn = None
        self.samples.append(Sample(route, self.cid, (time.perf_counter() - t0) * 1000, status, error))
        return payload

    def step(self) -> None:
        rng = self.rng
        route = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        if route.startswith(("dataset", "preview", "snapshots", "lineage", "patch")) and not self.seen:
            route = "list namespace page"  # a user opens datasets they have seen in a listing
        ns = f"ns{rng.randrange(self.namespaces):03d}"
        if route == "list namespaces":
            self.call(route, "GET", "/namespaces")
        elif route == "list namespace page":
            page = self.call(route, "GET", f"/namespaces/{ns}/datasets?page_size=100")
            if page:
                self.seen = [d["name"] for d in page["datasets"]][:100] or self.seen
        elif route.startswith("search"):
            q = {
                "search text": {"q": f"{rng.choice(WORDS)} region {rng.randrange(37)}"},
                "search tag": {"tag": rng.choice(TAGS)},
                "search owner": {"owner": rng.choice(OWNERS)},
                "search column": {"q": f"{rng.choice(WORDS)}_{rng.randrange(6)}"},
            }[route]
            self.call(route, "GET", "/search?" + urllib.parse.urlencode(q))
        else:
            name = rng.choice(self.seen)
            quoted = urllib.parse.quote(name, safe="")
            if route == "dataset detail":
                self.call(route, "GET", f"/datasets/{quoted}")
            elif route == "preview":
                self.call(route, "GET", f"/datasets/{quoted}/preview?limit=100")
            elif route == "snapshots":
                self.call(route, "GET", f"/datasets/{quoted}/snapshots")
            elif route == "lineage":
                self.call(route, "GET", f"/datasets/{quoted}/lineage")
            else:  # only this client patches the datasets whose number falls to it
                mine = [n for n in self.seen if zlib.crc32(n.encode()) % self.clients == self.cid]
                if not mine:
                    return
                name = rng.choice(mine)
                text = f"edited by load client {self.cid} at {time.time():.6f}"
                if (
                    self.call(
                        route, "PATCH", f"/datasets/{urllib.parse.quote(name, safe='')}/metadata", {"description": text}
                    )
                    is not None
                ):
                    self.patched[name] = text

    def run(self, until: float) -> None:
        while time.monotonic() < until:
            self.step()
        if self.conn is not None:
            self.conn.close()


def run_load(api: str, clients: int = 20, seconds: float = 60, namespaces: int = 100) -> dict[str, Any]:
    """`clients` threads hammer the API at `api` for `seconds`; returns the report:
    overall and per-route figures, requests per client, the first errors seen and the
    description each PATCHed dataset was last given (to check none was lost)."""
    base = urllib.parse.urlsplit(api)
    users = [Client(i, base, namespaces, clients) for i in range(clients)]
    until = time.monotonic() + seconds
    threads = [threading.Thread(target=u.run, args=(until,), name=f"load-{i}") for i, u in enumerate(users)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    samples = [s for u in users for s in u.samples]

    def figures(group: list[Sample]) -> dict[str, Any]:
        ms = [s.ms for s in group]
        errors = [s for s in group if s.error is not None or not (200 <= (s.status or 0) < 300)]
        return {
            "count": len(group),
            "errors": len(errors),
            "p50_ms": pct(ms, 50),
            "p95_ms": pct(ms, 95),
            "p99_ms": pct(ms, 99),
            "max_ms": max(ms),
            "per_s": len(group) / wall,
        }

    routes = {r: figures([s for s in samples if s.route == r]) for r in WEIGHTS if any(s.route == r for s in samples)}
    bad = [s for s in samples if s.error is not None or not (200 <= (s.status or 0) < 300)]
    return {
        "clients": clients,
        "seconds": wall,
        "overall": figures(samples),
        "routes": routes,
        "per_client": [len(u.samples) for u in users],
        "patched": {name: text for u in users for name, text in u.patched.items()},
        "first_errors": [{"route": s.route, "status": s.status, "error": s.error} for s in bad[:20]],
    }


def process_usage(pid: int) -> dict[str, int]:
    """Resident memory (MB) and open file descriptors of a process: what a soak watches grow."""
    rss = next(
        (
            int(line.split()[1])
            for line in Path(f"/proc/{pid}/status").read_text().splitlines()
            if line.startswith("VmRSS:")
        ),
        0,
    )
    return {"rss_mb": rss // 1024, "open_fds": len(list(Path(f"/proc/{pid}/fd").iterdir()))}


def print_report(report: dict[str, Any], title: str) -> None:
    print(f"\n{title}")
    print(
        f"{'route':<22} {'count':>7} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'req/s':>7}"
    )
    for name, r in [*report["routes"].items(), ("ALL", report["overall"])]:
        print(
            f"{name:<22} {r['count']:>7} {r['errors']:>6} {r['p50_ms']:>8.1f} {r['p95_ms']:>8.1f} "
            f"{r['p99_ms']:>8.1f} {r['max_ms']:>8.1f} {r['per_s']:>7.1f}"
        )
    pc = report["per_client"]
    print(f"requests per client: min {min(pc)}, max {max(pc)}; wall {report['seconds']:.1f} s")
    for e in report["first_errors"][:5]:
        print(f"  error: {e['route']} {e['status']}: {e['error']}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--datasets", type=int, default=10_000)
    ap.add_argument("--namespaces", type=int, default=100)
    ap.add_argument(
        "--catalog-uri",
        help="SQLAlchemy URL of an empty database for the catalog (default: the embedded SQLite catalog)",
    )
    ap.add_argument("--keep", action="store_true", help="keep the temporary lakehouse")
    args = ap.parse_args()

    home = Path(tempfile.mkdtemp(prefix="lakelab-bench-load-"))
    server = None
    try:
        if args.catalog_uri:
            os.environ["LAKELAB_HOME"] = str(home)
            from lakelab.config import save_config

            save_config(
                {
                    "catalog": {
                        "name": "lakelab",
                        "type": "sql",
                        "uri": args.catalog_uri,
                        "warehouse": f"file://{home / 'warehouse'}",
                    }
                }
            )
        t0 = time.perf_counter()
        build = build_catalog(home, args.datasets, args.namespaces, rows=10_000)
        build_s = time.perf_counter() - t0
        shutil.rmtree(home / "index", ignore_errors=True)  # the server builds its search index from scratch
        server, api = start_server(home)
        t0 = time.perf_counter()
        urllib.request.urlopen(
            urllib.request.Request(
                f"{api}/search?q=warmup",  # builds the search index
                headers={"Authorization": f"token {TOKEN}"},
            ),
            timeout=600,
        ).read()
        index_s = time.perf_counter() - t0
        before = process_usage(server.pid)
        report = run_load(api, args.clients, args.seconds, args.namespaces)
        report["server_before"], report["server_after"] = before, process_usage(server.pid)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(home, ignore_errors=True)
    catalog = (
        "postgresql"
        if (args.catalog_uri or "").startswith("postgres")
        else ("sqlite" if not args.catalog_uri else args.catalog_uri.split(":", 1)[0])
    )
    report |= {
        "catalog": catalog,
        "datasets": args.datasets,
        "namespaces": args.namespaces,
        "build_s": build_s,
        "build_detail_s": build,
        "index_build_s": index_s,
    }
    print_report(
        report,
        f"lakelab REST API ({catalog} catalog), {args.clients} clients for {args.seconds:.0f} s, "
        f"{args.datasets:,} datasets in {args.namespaces} namespaces (catalog built in {build_s:.0f} s, "
        f"search index in {index_s:.1f} s)",
    )
    print(
        f"server process before -> after the load: {report['server_before']['rss_mb']} -> "
        f"{report['server_after']['rss_mb']} MB resident, {report['server_before']['open_fds']} -> "
        f"{report['server_after']['open_fds']} open files"
    )
    out = Path(__file__).parent / "results" / ("load.json" if catalog == "sqlite" else f"load_{catalog}.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    print(f"wrote {out}")
    return 0 if report["overall"]["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

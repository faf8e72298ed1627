"""The REST API under load: 20 concurrent clients for ~15 s against a real `jupyter server`
(token auth) on a catalog of 10,000 datasets in 100 namespaces, with the mix a sidebar user
makes (listings, searches, detail, preview, snapshots, lineage, metadata edits), on the
embedded SQLite catalog and on a PostgreSQL one (what `lakelab services` shares with Trino).

No request may fail (any non-2xx or exception counts), every client must get answers, and
no metadata edit made under load may be lost: each edited dataset shows the description its
client wrote last, and search finds exactly the edited ones. Latencies are printed, never
asserted; bench/bench_load.py runs the same load for longer and writes bench/results/load.json.
"""

from __future__ import annotations

import json
import shutil
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from lakelab.config import save_config

ROOT = Path(__file__).parents[2]
if str(ROOT / "bench") not in sys.path:
    sys.path.insert(0, str(ROOT / "bench"))

from bench_load import print_report, run_load  # noqa: E402
from bench_server import TOKEN, build_catalog, start_server  # noqa: E402

CLIENTS, SECONDS, DATASETS, NAMESPACES = 20, 15, 10_000, 100


def _get(api: str, path: str) -> dict:
    req = urllib.request.Request(api + path, headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return json.loads(r.read())


@pytest.fixture(params=["sqlite", "postgres"])
def catalog(request, lakelab_home) -> str:
    """The catalog the builder and the server use, written to $LAKELAB_HOME/config.yaml:
    the embedded SQLite one, or one on the real PostgreSQL (what `lakelab services` shares)."""
    if request.param == "postgres":
        save_config({"catalog": dict(request.getfixturevalue("pg_lh").config.catalog)})
    return request.param


def test_twenty_clients_on_ten_thousand_datasets_get_no_errors_and_lose_no_edit(lakelab_home, catalog):
    t0 = time.perf_counter()
    build_catalog(lakelab_home, DATASETS, NAMESPACES, rows=1000)
    build_s = time.perf_counter() - t0
    shutil.rmtree(lakelab_home / "index", ignore_errors=True)  # the server builds its own index
    server, api = start_server(lakelab_home)
    try:
        t0 = time.perf_counter()
        listed = _get(api, "/search?q=region&limit=1")  # the first search builds the index
        index_s = time.perf_counter() - t0
        assert listed["datasets"], "the built catalog is not searchable"
        report = run_load(api, CLIENTS, SECONDS, NAMESPACES)
        print_report(
            report,
            f"{catalog} catalog: {CLIENTS} clients for {SECONDS} s on {DATASETS:,} datasets "
            f"(catalog built in {build_s:.1f} s, index in {index_s:.1f} s)",
        )

        assert report["overall"]["errors"] == 0, f"errors under load: {report['first_errors']}"
        assert all(n > 0 for n in report["per_client"]), f"a client got no answer: {report['per_client']}"
        assert {"list namespace page", "search text", "dataset detail", "preview"} <= set(report["routes"])
        patched = report["patched"]
        assert patched, "no metadata edit was made under load"
        for name, text in patched.items():
            detail = _get(api, f"/datasets/{urllib.parse.quote(name, safe='')}")
            assert detail["description"] == text, f"{name}: the last edit was lost"
        found = _get(api, "/search?" + urllib.parse.urlencode({"q": "edited by load client", "limit": 1000}))
        assert {d["name"] for d in found["datasets"]} == set(patched)
        print(f"{len(patched)} datasets edited under load, all kept and searchable")
    finally:
        server.terminate()
        server.wait(timeout=30)
    log = (lakelab_home / "server.log").read_text()
    assert "Traceback" not in log, log[-3000:]


def test_an_edit_is_found_by_the_very_next_search_while_other_threads_search(lakelab_home, catalog):
    """Concurrent searches share index refreshes (dataset_index.py): that sharing must never
    hand a search a view older than the moment it was asked. Eight threads search without
    pause while the main thread edits a description and searches for it at once, 30 times."""
    import random
    import threading

    import pyarrow as pa

    import lakelab
    from lakelab.config import load_config
    from lakelab.datasets.dataset import Dataset
    from lakelab.datasets.search import search

    lh = lakelab.Lakehouse(load_config())
    names = [lh.publish(pa.table({"x": [i]}), f"fresh.t{i}").name for i in range(4)]
    stop, failures, searches = threading.Event(), [], [0]

    def search_forever() -> None:
        while not stop.is_set():
            try:
                search(lh, "fresh")
                searches[0] += 1
            except Exception as e:  # noqa: BLE001 - reported by the assertion below
                failures.append(repr(e))

    threads = [threading.Thread(target=search_forever) for _ in range(8)]
    for t in threads:
        t.start()
    missed = []
    try:
        rng = random.Random(5)
        for i in range(30):
            name = rng.choice(names)
            Dataset(lh, lh.table_name(name)).set_metadata(description=f"edit{i:03d}mark")
            found = [d["name"] for d in search(lh, f"edit{i:03d}mark")]
            if found != [name]:
                missed.append((i, name, found))
    finally:
        stop.set()
        for t in threads:
            t.join()
        lh.close()
    print(
        f"{catalog}: 30 edits, {30 - len(missed)} found by the search right after, "
        f"during {searches[0]} concurrent searches"
    )
    assert not failures, failures[:3]
    assert not missed, f"a search right after an edit missed it: {missed[:3]}"

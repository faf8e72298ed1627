"""Data in and out of a real workspace (head + 1 worker): snapshot-pinned parallel reads with
pushdown and `since=`, Ray datasets written by Ray tasks in one commit, multi-input Ray
transforms with lineage, files written on both nodes, a raising fn, and a worker killed mid-write."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from workspace_helpers import run_driver

import lakelab
from lakelab.catalog.metadata import Lineage
from lakelab.catalog.orphans import find_orphans, referenced_files
from lakelab.config import load_config

pytestmark = pytest.mark.ray


def _lh() -> lakelab.Lakehouse:
    lh = lakelab.Lakehouse(load_config())
    lh.catalog.create_namespace_if_not_exists("raydata")
    return lh


def test_reads_are_pinned_parallel_pushed_down_and_incremental_and_writes_commit_once(main_ws, ws_home):
    lh = _lh()
    first = lh.ingest(pa.table({"id": range(40_000), "g": [i % 4 for i in range(40_000)]}), "raydata.events")
    second = lh.ingest(pa.table({"id": range(40_000, 40_100), "g": [9] * 100}), "raydata.events")
    lh.ingest(pa.table({"g": [0, 1, 2, 3, 9], "name": ["a", "b", "c", "d", "z"]}), "raydata.groups")
    out = run_driver(
        """
        import json, lakelab, pathlib, ray, tempfile, time
        from lakelab.engines.observers import subscribe
        from lakelab.errors import LakelabError
        meet = pathlib.Path(tempfile.mkdtemp())  # both nodes are processes on this machine

        def together(tag):
            # a write task waits (up to 2 min) until a task of the same write runs on the other
            # node too; it passes only if Ray runs the write's tasks in parallel on both nodes
            d = meet / tag
            d.mkdir(exist_ok=True)
            (d / ray.get_runtime_context().get_node_id()).touch()
            for _ in range(1200):
                if len(list(d.iterdir())) >= 2:
                    return
                time.sleep(0.1)
        lakelab.workspace("main").connect()
        lh = lakelab.connect()
        heard = []
        subscribe(lambda e: heard.append([e.engine, [[r.table, r.snapshot_id] for r in e.reads]]))
        d = lh.dataset("raydata.events")
        pinned = d.to_ray()  # planned now: a later append is not in it
        lh.ingest(__import__("pyarrow").table({"id": [-1], "g": [5]}), "raydata.events")
        where = lambda b: {**b, "node": [ray.get_runtime_context().get_node_id()] * len(b["id"])}
        nodes = sorted(set(d.to_ray().repartition(8).map_batches(where, batch_size=None).to_pandas()["node"]))
        narrow = d.to_ray(columns=["id"], filter="id >= 39990 and id < 40005").to_pandas()
        since = d.to_ray(snapshot_id=SECOND, since=FIRST).to_pandas()
        errors = []
        for kw in ({"snapshot_id": 12345}, {"since": 12345}, {"filter": "nope > 1"}, {"columns": ["nope"]}):
            try:
                d.to_ray(**kw)
            except LakelabError as e:
                errors.append(str(e))

        def label(batch, groups):
            together("label")
            return batch.merge(groups, on="g", how="left")[["id", "g", "name"]]

        r = lh.transform("raydata.labelled", fn=label, inputs=["raydata.events", "raydata.groups"], workspace="main")

        def broken(batch, groups):
            if (batch["g"] == 9).any():
                raise KeyError("no such group")
            return batch

        try:
            lh.transform("raydata.never", fn=broken, inputs=["raydata.events", "raydata.groups"], workspace="main")
        except LakelabError as e:
            errors.append(str(e))
        def square(b):
            together("squares")
            return {"id": b["id"], "sq": b["id"] ** 2}

        squares = ray.data.range(50_000, override_num_blocks=4).map_batches(square, batch_size=None)
        w = lh.ingest(squares, "raydata.squares", mode="create")
        print("RESULT:" + json.dumps({
            "pinned": pinned.count(), "nodes": nodes, "narrow": sorted(narrow["id"].tolist()),
            "since": sorted(since["g"].unique().tolist()) + [len(since)], "errors": errors,
            "transform": r.to_dict(), "squares": w.to_dict(), "heard": heard,
        }))
    """.replace("SECOND", str(second.snapshot_id)).replace("FIRST", str(first.snapshot_id)),
        ws_home,
        timeout=600,
    )
    assert out["pinned"] == 40_100
    assert len(out["nodes"]) == 2  # read tasks ran on the head and on the worker
    assert out["narrow"] == list(range(39_990, 40_005))
    assert out["since"] == [9, 100]  # only the rows the second append added
    unknown_snapshot, unknown_since, bad_filter, bad_column, fn_error = out["errors"]
    assert "has no snapshot 12345" in unknown_snapshot
    assert "has no snapshot 12345" in unknown_since and "expired" in unknown_since
    assert "nope" in bad_filter and "nope" in bad_column
    assert "fn broken raised KeyError" in fn_error and "no such group" in fn_error
    assert "raydata.events@" in fn_error and "'main'" in fn_error and "rows, first row" in fn_error
    assert not lh.catalog.table_exists("raydata.never")
    # nor any file of it: the driver cleaned up after the tasks Ray cancelled had stopped
    time.sleep(2)  # a task still writing when the clean-up ran would have left its file by now
    assert not [p for p in lh.config.warehouse.rglob("*.parquet") if "never" in p.parts[-3:-1]]

    events_now = lh.catalog.load_table("raydata.events").current_snapshot().snapshot_id
    groups_sid = lh.catalog.load_table("raydata.groups").current_snapshot().snapshot_id
    labelled = lh.catalog.load_table("raydata.labelled")
    rows = labelled.scan().to_arrow().sort_by("id")
    assert out["transform"]["rows"] == rows.num_rows == 40_101 and len(labelled.snapshots()) == 1
    assert rows.filter(pc.equal(rows["g"], 9))["name"].to_pylist() == ["z"] * 100
    lineage = Lineage.from_summary(labelled.current_snapshot().summary.additional_properties)
    assert lineage.upstream == [
        {"table": "raydata.events", "snapshot_id": events_now},
        {"table": "raydata.groups", "snapshot_id": groups_sid},
    ]
    assert "label@" in lineage.code

    squares = lh.catalog.load_table("raydata.squares")
    got = squares.scan().to_arrow().sort_by("id")
    assert got["sq"].to_pylist() == [i * i for i in range(50_000)] and len(squares.snapshots()) == 1
    # the data files were written where the rows were: by Ray workers on both nodes, not the driver
    # (together() makes a task wait for the other node, so a busy machine cannot serialise them)
    for report in (out["transform"], out["squares"]):
        nodes = {w.split(":")[0] for w in report["writers"]}
        assert len(nodes) == 2 and set(nodes) == set(out["nodes"]), report["writers"]
    assert ["ray", [["raydata.events", second.snapshot_id]]] in out["heard"]


KILLED_WRITE = """
import json, os, sys, time, pathlib, lakelab, ray
lakelab.workspace("main").connect()
lh = lakelab.connect()
signal_dir = pathlib.Path(sys.argv[1])
data_dir = pathlib.Path(lh.catalog.load_table("raydata.target").location().removeprefix("file://")) / "data"
committed = set(data_dir.glob("*.parquet"))

def hold(batch):
    # the second block's task, once: wait until the other task has written its data file, then
    # hand our process id to the test and hold until it is killed
    if batch["id"][0] >= 1000 and not (signal_dir / "worker.pid").exists():
        for _ in range(3000):  # 5 min; if no file comes, the write ends and the test fails on it
            if set(data_dir.glob("*.parquet")) - committed:
                (signal_dir / "worker.pid").write_text(str(os.getpid()))
                time.sleep(3600)
            time.sleep(0.1)
    return batch

ds = ray.data.range(2000, override_num_blocks=2).map_batches(hold, batch_size=None)  # 2 tasks: read, map, write
try:
    lh.ingest(ds, "raydata.target", mode="append")
    print("RESULT:" + json.dumps({"error": None}))
except Exception as e:
    print("RESULT:" + json.dumps({"error": str(e), "type": type(e).__name__}))
"""


def _unreferenced(lh: lakelab.Lakehouse) -> set[str]:
    table = lh.catalog.load_table("raydata.target")
    root = table.location().removeprefix("file://")
    on_disk = {os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs}
    return {p for p in on_disk if not any(r.endswith(p) for r in referenced_files(table))}


def test_a_worker_killed_mid_write_fails_the_write_at_once_commits_nothing_and_orphans_lists_its_files(
    main_ws, ws_home, tmp_path
):
    lh = _lh()
    lh.ingest(pa.table({"id": [-1, -2]}), "raydata.target", mode="create")
    before = lh.catalog.load_table("raydata.target").current_snapshot().snapshot_id
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["LAKELAB_HOME"] = str(ws_home)
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(KILLED_WRITE), str(tmp_path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        pid_file = tmp_path / "worker.pid"
        while not pid_file.exists():  # no deadline of our own: the driver ending first fails the test
            assert proc.poll() is None, "the driver ended before a worker held: " + proc.stderr.read()[-3000:]
            time.sleep(0.2)
        written = _unreferenced(lh)  # the other task's data file(s), written before the kill
        assert written and all(p.endswith(".parquet") for p in written)
        os.kill(int(pid_file.read_text()), signal.SIGKILL)  # the worker process running the held task
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=60)
    result = json.loads(next(ln for ln in out.splitlines() if ln.startswith("RESULT:"))[len("RESULT:") :])
    assert result["type"] == "WorkerLost", err[-3000:]
    assert "a Ray worker died while writing raydata.target; nothing was committed" in result["error"]
    assert "lakelab orphans raydata.target" in result["error"]
    table = lh.catalog.load_table("raydata.target")
    assert table.current_snapshot().snapshot_id == before and table.scan().to_arrow().num_rows == 2
    left = _unreferenced(lh)
    assert written <= left
    listed = {p for p, _ in find_orphans(lh, "raydata.target", older_than_minutes=0).files}
    assert {p.removeprefix("file://") for p in listed} == left

"""Using a real workspace (head + 1 worker): tasks on both nodes, status, Ray transforms, scaling."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from workspace_helpers import run_driver

import lakelab
from lakelab.catalog.metadata import Lineage
from lakelab.config import load_config
from lakelab.errors import Conflict

pytestmark = pytest.mark.ray


def test_connected_kernel_runs_tasks_on_head_and_worker_nodes(manager, main_ws, ws_home):
    out = run_driver(
        """
        import json, time, lakelab, ray
        lakelab.workspace("main").connect()
        @ray.remote(num_cpus=1)  # each node has one CPU: tasks running at once must use both
        def where():
            time.sleep(2)
            return ray.get_runtime_context().get_node_id()
        ids = sorted(set(ray.get([where.remote() for _ in range(4)])))
        print("RESULT:" + json.dumps({"ids": ids}))
    """,
        ws_home,
    )
    nodes = manager.status(main_ws)["cluster"]["nodes"]
    assert len(out["ids"]) == 2
    assert set(out["ids"]) == {n["node_id"] for n in nodes}


def test_status_shows_nodes_cpus_memory_and_tasks(manager, main_ws):
    st = lakelab.workspace(main_ws).status()
    assert st["state"] == "running" and st["workers"] == 1
    c = st["cluster"]
    assert c["node_count"] == 2 and c["cpus"] == 2
    assert c["memory_bytes"] > 0 and c["running_tasks"] >= 0
    assert sorted(n["head"] for n in c["nodes"]) == [False, True]
    card = st._repr_html_()
    assert "nodes" in card and "CPUs" in card and "running tasks" in card
    assert manager.store.token(main_ws) not in json.dumps(st) + card  # the token is never shown


def test_creating_a_workspace_that_runs_is_a_conflict(manager, main_ws):
    with pytest.raises(Conflict, match="already exists and is running"):
        manager.create(main_ws)


def test_ray_transform_writes_the_right_rows_with_lineage_in_one_commit(main_ws, ws_home):
    lh = lakelab.Lakehouse(load_config())
    lh.catalog.create_namespace_if_not_exists("demo")
    src = lh.catalog.create_table("demo.numbers", schema=pa.schema([("x", pa.int64()), ("label", pa.string())]))
    src.append(pa.table({"x": list(range(5000)), "label": [f"n{i}" for i in range(5000)]}))
    src_snapshot = lh.catalog.load_table("demo.numbers").current_snapshot().snapshot_id
    out = run_driver(
        """
        import json, lakelab

        def evens_doubled(batch):
            batch = batch[batch["x"] % 2 == 0].copy()
            batch["y"] = batch["x"] * 10
            return batch[["x", "y", "label"]]

        lh = lakelab.connect()
        r = lh.transform("demo.evens", fn=evens_doubled, inputs=["demo.numbers"], workspace="main")
        print("RESULT:" + json.dumps(r.to_dict()))
    """,
        ws_home,
    )
    table = lh.catalog.load_table("demo.evens")
    got = table.scan().to_arrow().sort_by("x")
    assert out["rows"] == 2500 == got.num_rows
    assert got.column("x").to_pylist() == list(range(0, 5000, 2))
    assert got.column("y").to_pylist() == [x * 10 for x in range(0, 5000, 2)]
    assert got.column("label").to_pylist()[:2] == ["n0", "n2"]
    assert out["engine"] == "ray" and out["workspace"] == "main"
    assert len(table.snapshots()) == 1 and table.current_snapshot().snapshot_id == out["snapshot_id"]
    lineage = Lineage.from_summary(table.current_snapshot().summary.additional_properties)
    assert lineage.operation == "transform"
    assert lineage.upstream == [{"table": "demo.numbers", "snapshot_id": src_snapshot}]
    assert "evens_doubled@" in lineage.code


def test_failing_transform_function_is_a_clear_error_and_commits_nothing(main_ws, ws_home):
    lh = lakelab.Lakehouse(load_config())
    lh.catalog.create_namespace_if_not_exists("demo")
    if not lh.catalog.table_exists("demo.small"):
        lh.catalog.create_table("demo.small", schema=pa.schema([("x", pa.int64())])).append(pa.table({"x": [1, 2, 3]}))
    out = run_driver(
        """
        import json, lakelab
        from lakelab.errors import LakelabError

        def broken(batch):
            raise ValueError("column z is missing")

        try:
            lakelab.connect().transform("demo.never", fn=broken, inputs=["demo.small"], workspace="main")
        except LakelabError as e:
            print("RESULT:" + json.dumps({"code": e.code, "message": str(e)}))
    """,
        ws_home,
    )
    assert out["code"] == "query_failed"
    assert "ValueError: column z is missing" in out["message"] and "'main'" in out["message"]
    assert not lh.catalog.table_exists("demo.never")


def test_scaling_down_ends_the_worker_and_scaling_up_adds_one(manager, main_ws):
    before = manager.store.load(main_ws).nodes[0]
    manager.scale(main_ws, 0)
    assert manager.status(main_ws)["cluster"]["node_count"] == 1
    from lakelab.workspaces.backends.local import group_pids

    assert group_pids(before.pid) == []
    rec = manager.scale(main_ws, 1)
    assert rec.workers == 1
    assert manager.status(main_ws)["cluster"]["node_count"] == 2


def test_workspace_magic_connects_the_kernel_and_shows_status(main_ws, ws_home):
    out = run_driver(
        """
        import json, ray
        from IPython.core.interactiveshell import InteractiveShell
        sh = InteractiveShell.instance()
        sh.run_line_magic("load_ext", "lakelab")
        said = sh.run_line_magic("workspace", "connect main")
        node = ray.get(ray.remote(lambda: ray.get_runtime_context().get_node_id()).remote())
        status = sh.run_line_magic("workspace", "status")  # NAME defaults to the connected one
        print("RESULT:" + json.dumps({"said": str(said), "node": node, "nodes": status["cluster"]["node_count"],
                                      "card": status._repr_html_(), "running_jobs": status["cluster"]["running_jobs"]}))
    """,
        ws_home,
    )
    assert "connected" in out["said"] and "main" in out["said"]
    assert out["nodes"] == 2 and out["running_jobs"] >= 1  # this kernel is a driver
    assert "running tasks" in out["card"]

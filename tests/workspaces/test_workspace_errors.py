"""Bad input gets a clear lakelab error before any process starts (no Ray needed)."""

from __future__ import annotations

import subprocess
import sys
import time

import psutil
import pyarrow as pa
import pytest
from workspace_helpers import settings

import lakelab
from lakelab.errors import Conflict, InvalidInput, NotFound, Unsupported
from lakelab.workspaces import FAILED, WorkspaceManager
from lakelab.workspaces.state import NodeProc, WorkspaceRecord
from lakelab.workspaces.transform import run


@pytest.fixture
def mgr(lakelab_home):
    return WorkspaceManager(settings(), root=lakelab_home / "workspaces")


@pytest.mark.parametrize("bad", ["Bad-Name", "1abc", "", "a b", "x" * 41, "../etc"])
def test_bad_workspace_names_are_rejected(mgr, bad):
    with pytest.raises(InvalidInput, match="workspace name"):
        mgr.create(bad)
    assert mgr.store.names() == []


def test_names_are_folded_to_lower_case(mgr):
    assert lakelab.workspace("Team_A").name == "team_a"


@pytest.mark.parametrize(
    "kw, match",
    [
        ({"workers": 3}, "workers 3 is over the limit of 2"),
        ({"cpus": 2}, "cpus per node 2 is over the limit of 1"),
        ({"workers": -1}, "workers must be at least 0"),
        ({"cpus": 0}, "cpus per node must be at least 1"),
        ({"workers": "many"}, "workers must be a whole number"),
        ({"workers": 1.5}, "workers must be a whole number"),
    ],
)
def test_requests_over_the_limits_are_rejected_before_starting(mgr, kw, match):
    with pytest.raises(InvalidInput, match=match):
        mgr.create("ok_name", **kw)
    assert mgr.store.names() == []


def test_per_user_workspace_limit_is_enforced(lakelab_home):
    mgr = WorkspaceManager(settings(max_workspaces_per_user=0), root=lakelab_home / "workspaces")
    with pytest.raises(Conflict, match="the limit is 0"):
        mgr.create("one")
    assert mgr.store.names() == []


@pytest.mark.parametrize("action", ["get", "status", "stop", "logs", "connect_info", "dashboard"])
def test_unknown_workspace_is_not_found(mgr, action):
    with pytest.raises(NotFound, match="workspace 'nope' does not exist"):
        getattr(mgr, action)("nope")


def test_scaling_an_unknown_workspace_is_not_found(mgr):
    with pytest.raises(NotFound):
        mgr.scale("nope", 1)
    with pytest.raises(InvalidInput):
        mgr.scale("nope", 99)


def test_connecting_to_an_unknown_workspace_is_not_found(lakelab_home):
    with pytest.raises(NotFound, match="'ghost'"):
        lakelab.workspace("ghost").connect()


def test_unknown_backend_is_rejected(lakelab_home):
    mgr = WorkspaceManager(settings(backend="kubernetes"), root=lakelab_home / "workspaces")
    with pytest.raises(InvalidInput, match="unknown workspace backend 'kubernetes'"):
        mgr.create("k")


def test_attach_backend_needs_an_address(lakelab_home):
    mgr = WorkspaceManager(settings(backend="attach"), root=lakelab_home / "workspaces")
    with pytest.raises(InvalidInput, match="needs an address"):
        mgr.create("ext")
    assert mgr.get("ext").state == FAILED


def test_attached_cluster_is_recorded_but_never_scaled(lakelab_home):
    mgr = WorkspaceManager(settings(backend="attach", address="ray://127.0.0.1:1"), root=lakelab_home / "workspaces")
    rec = mgr.create("ext")
    assert rec.address == "ray://127.0.0.1:1"
    with pytest.raises(Unsupported):
        mgr.scale("ext", 1)
    # nothing listens there: the next look marks it failed instead of pretending it runs
    assert mgr.get("ext").state == FAILED
    mgr.stop("ext")
    assert mgr.store.names() == []


def test_record_of_a_dead_process_is_marked_failed_on_reconcile(mgr):
    """A server restart finds a record whose head died meanwhile: it becomes failed."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"], start_new_session=True)
    dead.wait()
    rec = WorkspaceRecord(
        name="crashed",
        backend="local",
        state="running",
        address="127.0.0.1:1",
        started_at=time.time(),
        temp_dir="/tmp/llw/none",
    )
    rec.head = NodeProc(
        role="head", pid=dead.pid, create_time=time.time() - 100, log="/dev/null", port_block=20000, ports={"gcs": 1}
    )
    mgr.store.save(rec)
    again = WorkspaceManager(settings(), root=mgr.store.root).reconcile()
    assert [(r.name, r.state) for r in again] == [("crashed", FAILED)]
    assert "head process is gone" in again[0].message


def test_ray_transform_input_errors_commit_nothing(lh, lakelab_home):
    lh.catalog.create_namespace("demo")
    lh.catalog.create_table("demo.src", schema=pa.schema([("x", pa.int64())]))
    double = lambda b: b
    with pytest.raises(InvalidInput, match="needs at least one input"):
        run(lh, "demo.out", double, [], "w")
    with pytest.raises(InvalidInput, match="names demo.src twice"):
        run(lh, "demo.out", double, ["demo.src", "demo.src"], "w")
    with pytest.raises(InvalidInput, match="mode must be"):
        run(lh, "demo.out", double, ["demo.src"], "w", mode="upsert")
    with pytest.raises(InvalidInput, match="fn must be a function"):
        run(lh, "demo.out", "not a function", ["demo.src"], "w")
    with pytest.raises(NotFound, match="demo.missing"):
        run(lh, "demo.out", double, ["demo.missing"], "w")
    with pytest.raises(NotFound, match="workspace 'w' does not exist"):
        run(lh, "demo.out", double, ["demo.src"], "w")
    with pytest.raises(InvalidInput, match="does not exist, so it cannot be appended"):
        run(lh, "demo.out", double, ["demo.src"], "w", mode="append")
    assert not lh.catalog.table_exists("demo.out")


def test_start_abandoned_half_way_is_failed_and_its_processes_ended(mgr):
    """A server killed during a create leaves a pending record and live processes; the next
    manager (nobody holds the record's lock) ends them and marks the record failed."""
    orphan = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        rec = WorkspaceRecord(name="halfway", backend="local", state="pending", temp_dir="/tmp/llw/none")
        rec.head = NodeProc(
            role="head",
            pid=orphan.pid,
            create_time=psutil.Process(orphan.pid).create_time(),
            log="/dev/null",
            port_block=20000,
            ports={"gcs": 1},
        )
        mgr.store.save(rec)
        found = WorkspaceManager(settings(), root=mgr.store.root).reconcile()
        assert [(r.name, r.state) for r in found] == [("halfway", FAILED)]
        assert "interrupted" in found[0].message
        assert orphan.wait(timeout=30) is not None  # ended by the reconcile, not by us
    finally:
        if orphan.poll() is None:
            orphan.kill()


def test_connect_names_each_version_that_differs_from_the_cluster():
    from lakelab.workspaces.client import local_versions, version_mismatch

    here = local_versions()
    assert set(here) == {"Python", "Ray", "pyarrow"} and version_mismatch(here, dict(here)) is None
    assert version_mismatch(here, {}) is None  # no answer from the cluster: nothing to say
    said = version_mismatch(here, {**here, "pyarrow": "1.0.0", "Python": "3.9.1"})
    assert said is not None
    assert f"Python 3.9.1 on the cluster, {here['Python']} in this kernel" in said
    assert f"pyarrow 1.0.0 on the cluster, {here['pyarrow']} in this kernel" in said and "Ray" not in said

"""Session fixtures for the `kube` tier: one kwok control plane + KubeRay operator for all
tests (tests/kube_harness.py), a namespace per test and a manager on the kuberay backend.

Pods on kwok nodes run no process: these tests check the backend's control logic (the
RayCluster it writes, the Secret, status mapping, scaling, deletion, errors) against the
real kube-apiserver, controller manager and KubeRay operator. Ray itself is tested on the
local backend (tests/workspaces/test_ray_*.py)."""

from __future__ import annotations

import json
import os
import time

import pytest

import kube_harness
from kube_harness import TIMINGS
from lakelab.config import WorkspaceConfig
from lakelab.workspaces import WorkspaceManager


@pytest.fixture(scope="session")
def kube(tmp_path_factory):
    """The running harness (built first if its binaries are not cached)."""
    workdir = tmp_path_factory.mktemp("kube")
    build_s = 0.0
    missing = kube_harness.missing_binaries()
    if missing:
        if os.environ.get("LAKELAB_KUBE_BUILD", "1") == "0":  # never a silent skip: leave the tier out instead
            pytest.fail(f"kube harness binaries missing: {missing} (run scripts/kube-build.sh, or -m 'not kube')")
        kube_harness.CACHE.mkdir(parents=True, exist_ok=True)
        build_s = kube_harness.build(workdir / "build.log")
    h = kube_harness.KubeHarness(workdir)
    try:
        h.start()
        TIMINGS.parent.mkdir(parents=True, exist_ok=True)
        with open(TIMINGS, "a") as f:
            f.write(
                json.dumps(
                    {
                        "at": time.time(),
                        "build_s": round(build_s, 1),
                        "cached": not missing,
                        **{k: round(v, 1) for k, v in h.timings.items()},
                    }
                )
                + "\n"
            )
        yield h
    finally:
        h.stop()


_n = [0]


@pytest.fixture
def ns(kube) -> str:
    _n[0] += 1
    return kube.namespace(f"ll-test-{_n[0]}-{os.getpid() % 10000}")


def kube_settings(kube, ns: str, **kw) -> WorkspaceConfig:
    s = WorkspaceConfig(
        backend="kuberay",
        namespace=ns,
        kubeconfig=str(kube.kubeconfig),
        max_workers=4,
        max_cpus_per_node=2,
        idle_timeout_s=3600,
        start_timeout_s=120,
        head_resources={"cpu": 1, "memory": "1Gi"},
        worker_resources={"memory": "1Gi"},
    )
    for k, v in kw.items():
        setattr(s, k, v)
    return s


@pytest.fixture
def make_manager(kube, ns, tmp_path):
    """Managers over one records dir (a second call = the server restarted); every
    workspace left is stopped at the end."""
    made: list[WorkspaceManager] = []

    def make(**kw) -> WorkspaceManager:
        m = WorkspaceManager(kube_settings(kube, ns, **kw), root=tmp_path / "workspaces")
        made.append(m)
        return m

    yield make
    if made:
        m = WorkspaceManager(kube_settings(kube, ns), root=tmp_path / "workspaces")
        for name in m.store.names():
            try:
                m.stop(name)
            except Exception:  # noqa: BLE001 - best effort; the cluster goes with the session
                pass

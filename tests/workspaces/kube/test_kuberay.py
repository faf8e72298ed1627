"""The kuberay backend against a real control plane: kube-apiserver + etcd +
controller manager + scheduler (kwok fake nodes) and the real KubeRay operator v1.5.0.

Pods on kwok nodes run no process, so no Ray runs here: these tests check the backend's
control logic — the RayCluster and Secret it writes, status read from the CR and events,
scaling, deletion with ownerReferences, re-attach after a restart, limits, culling's
decision and the errors a user or platform team must act on — against the real API and
operator. Ray itself stays tested on the local backend (tests/workspaces/test_ray_*.py).
Idle culling decides from the Ray dashboard's activity as on the local backend; with no
Ray in a fake pod, a stand-in dashboard (the same HTTP API, token checked) is that source.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from typing import Any

import pytest
import yaml

from kube_harness import BAD_IMAGE, TIMINGS
from lakelab.errors import Conflict, LakelabError, Unavailable
from lakelab.workspaces import FAILED, RUNNING, STOPPED
from lakelab.workspaces.backends.kuberay import GROUP, PLURAL, VERSION, ClusterRefused, cluster_name

pytestmark = [pytest.mark.kube, pytest.mark.slow]


def _api(kube):
    return kube.client("CoreV1Api"), kube.client("CustomObjectsApi")


def _cr(kube, ns, name):
    from kubernetes.client.exceptions import ApiException

    try:
        return _api(kube)[1].get_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, cluster_name(name))
    except ApiException as e:
        if e.status == 404:
            return None
        raise


def _secret(kube, ns, name):
    from kubernetes.client.exceptions import ApiException

    try:
        return _api(kube)[0].read_namespaced_secret(f"{cluster_name(name)}-ray-token", ns)
    except ApiException as e:
        if e.status == 404:
            return None
        raise


def _workers(kube, ns, name):
    pods = _api(kube)[0].list_namespaced_pod(ns, label_selector=f"ray.io/cluster={cluster_name(name)}").items
    return [
        p for p in pods if p.metadata.labels.get("ray.io/node-type") == "worker" and not p.metadata.deletion_timestamp
    ]


def test_up_running_scale_stop_and_the_token_stays_secret(kube, ns, make_manager, caplog):
    m = make_manager()
    t0 = time.monotonic()
    rec = m.create("alpha", cpus=1, workers=1)
    up_s = time.monotonic() - t0
    with open(TIMINGS, "a") as f:
        f.write(json.dumps({"at": time.time(), "workspace_up_to_running_s": round(up_s, 2)}) + "\n")
    assert rec.state == RUNNING
    token = m.store.token("alpha")

    cr = _cr(kube, ns, "alpha")
    assert cr["status"]["state"] == "ready" and cr["status"]["readyWorkerReplicas"] == 1
    assert token not in json.dumps(cr)
    env = cr["spec"]["headGroupSpec"]["template"]["spec"]["containers"][0]["env"]
    assert {
        "name": "RAY_AUTH_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": f"{cluster_name('alpha')}-ray-token", "key": "token"}},
    } in env
    secret = _secret(kube, ns, "alpha")
    assert [(o.kind, o.uid) for o in secret.metadata.owner_references] == [("RayCluster", cr["metadata"]["uid"])]

    st = m.status("alpha")
    assert st["state"] == RUNNING and st["detail"]["phase"] == "running"
    assert st["detail"]["ready_workers"] == 1
    assert token not in json.dumps(st) and token not in "\n".join(m.logs("alpha"))
    assert token not in caplog.text

    m.scale("alpha", 3)
    assert _cr(kube, ns, "alpha")["status"]["readyWorkerReplicas"] == 3 and len(_workers(kube, ns, "alpha")) == 3
    assert m.get("alpha").workers == 3
    m.scale("alpha", 1)
    assert m.status("alpha")["detail"]["ready_workers"] == 1

    m.stop("alpha")
    assert _cr(kube, ns, "alpha") is None and _secret(kube, ns, "alpha") is None
    assert "alpha" not in m.store.names()


def test_a_restarted_server_reattaches_and_limits_still_apply(kube, ns, make_manager):
    m = make_manager(max_workspaces_per_user=1)
    m.create("beta", workers=0)
    m2 = make_manager(max_workspaces_per_user=1)  # a new server process over the same records
    [rec] = m2.reconcile()
    assert rec.name == "beta" and rec.state == RUNNING
    with pytest.raises(Conflict, match="limit is 1"):
        m2.create("gamma")
    m2.scale("beta", 2)
    assert _cr(kube, ns, "beta")["status"]["readyWorkerReplicas"] == 2

    # deleted behind our back (kubectl delete): the next look marks it failed and says why
    _api(kube)[1].delete_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, cluster_name("beta"))
    m3 = make_manager()
    rec = m3.get("beta")
    assert rec.state == FAILED and "gone" in (rec.message or "")


class _Dashboard(http.server.BaseHTTPRequestHandler):
    """A stand-in for the Ray dashboard's state API (no Ray runs in a kwok pod)."""

    token = ""
    tasks = 0

    def do_GET(self):
        if self.headers.get("Authorization") != f"Bearer {self.token}":
            self.send_response(401)
            self.end_headers()
            return
        body: Any
        if "/api/v0/nodes" in self.path:
            body = {
                "data": {
                    "result": {
                        "result": [
                            {"state": "ALIVE", "node_id": "h", "is_head_node": True, "resources_total": {"CPU": 1}}
                        ]
                    }
                }
            }
        elif "/api/v0/tasks" in self.path:
            body = {"data": {"result": {"result": [{"state": "RUNNING"}] * self.tasks}}}
        else:
            body = []
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *a):
        pass


def test_idle_culling_decides_from_cluster_activity(kube, ns, make_manager):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Dashboard)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        m = make_manager(idle_timeout_s=60, dashboard_url=f"http://127.0.0.1:{srv.server_port}/{{service}}")
        m.create("idle", workers=1)
        _Dashboard.token = m.store.token("idle")
        later = time.time() + 3600
        _Dashboard.tasks = 2  # busy: a task runs
        assert m.cull_idle(now=later) == []
        assert _cr(kube, ns, "idle") is not None
        _Dashboard.tasks = 0
        assert m.cull_idle(now=later + 3600) == ["idle"]
        rec = m.get("idle")
        assert rec.state == STOPPED and "idle" in (rec.message or "")
        assert _cr(kube, ns, "idle") is None and _secret(kube, ns, "idle") is None
    finally:
        srv.shutdown()


def test_no_cluster_reachable(kube, ns, make_manager, tmp_path):
    cfg = yaml.safe_load(kube.kubeconfig.read_text())
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    for c in cfg["clusters"]:
        c["cluster"]["server"] = f"https://127.0.0.1:{port}"
    path = kube.kubeconfig.parent / "kubeconfig-nowhere"
    path.write_text(yaml.safe_dump(cfg))
    m = make_manager(kubeconfig=str(path), start_attempts=1)
    with pytest.raises(Unavailable, match="no Kubernetes cluster reachable"):
        m.create("lost")
    rec = m.store.load("lost")
    assert rec.state == FAILED and "kubeconfig" in (rec.message or "")


def test_rbac_refused_says_what_to_grant(kube, ns, make_manager):
    path = kube.user_kubeconfig(
        ns,
        "readonly",
        [
            {"apiGroups": ["ray.io"], "resources": ["rayclusters"], "verbs": ["get", "list", "watch", "delete"]},
            {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create", "get", "patch", "update", "delete"]},
        ],
    )
    m = make_manager(kubeconfig=str(path))
    with pytest.raises(ClusterRefused, match="permission denied") as e:
        m.create("denied")
    assert "rayclusters" in str(e.value) and "deploy/kuberay" in str(e.value)
    assert m.store.load("denied").state == FAILED
    assert _secret(kube, ns, "denied") is None  # the start was undone


def test_quota_exceeded_fails_with_the_quota(kube, ns, make_manager):

    kube.client("CoreV1Api").create_namespaced_resource_quota(
        ns, {"metadata": {"name": "small"}, "spec": {"hard": {"pods": "1"}}}
    )
    # the controller manager computes the quota's usage; admission judges from it
    while not kube.client("CoreV1Api").read_namespaced_resource_quota("small", ns).status.hard:
        time.sleep(0.2)
    m = make_manager()
    with pytest.raises(ClusterRefused, match="exceeded quota") as e:
        m.create("big", workers=2)
    assert "raise the quota" in str(e.value)
    rec = m.store.load("big")
    assert rec.state == FAILED and "exceeded quota" in (rec.message or "")
    assert _cr(kube, ns, "big") is None


def test_an_image_that_cannot_be_pulled_fails_instead_of_starting_forever(kube, ns, make_manager):
    m = make_manager(image=BAD_IMAGE)
    with pytest.raises(ClusterRefused, match="ErrImagePull") as e:
        m.create("badimg")
    assert "workspaces.image" in str(e.value)
    assert m.store.load("badimg").state == FAILED


def test_operator_restart_in_the_middle_of_a_scale_converges(kube, ns, make_manager):
    m = make_manager()
    m.create("steady", workers=1)
    kube.stop_operator()
    errors: list[BaseException] = []

    def scale():
        try:
            m.scale("steady", 3)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    t = threading.Thread(target=scale)
    t.start()
    try:
        while t.is_alive() and _cr(kube, ns, "steady")["spec"]["workerGroupSpecs"][0]["replicas"] != 3:
            time.sleep(0.2)
        assert not errors, errors
        assert len(_workers(kube, ns, "steady")) == 1  # nobody acts on it while the operator is down
    finally:
        kube.start_operator()
        t.join()
    assert not errors, errors
    assert _cr(kube, ns, "steady")["status"]["readyWorkerReplicas"] == 3
    assert len(_workers(kube, ns, "steady")) == 3


def test_missing_crd_says_to_install_kuberay(kube, ns, make_manager):
    """Last: it removes the CRD (and puts it back for anything after it)."""
    from kubernetes import client

    ext = kube.client("ApiextensionsV1Api")
    ext.delete_custom_resource_definition("rayclusters.ray.io")
    while True:
        try:
            ext.read_custom_resource_definition("rayclusters.ray.io")
        except client.exceptions.ApiException:
            break
        time.sleep(0.2)
    try:
        m = make_manager()
        with pytest.raises(LakelabError, match="KubeRay operator") as e:
            m.create("nocrd")
        assert "not installed" in str(e.value)
        assert m.store.load("nocrd").state == FAILED
    finally:
        kube.stop_operator()
        kube.apply_crds()
        kube.start_operator()

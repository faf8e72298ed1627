"""The kuberay backend's RayCluster manifest and configuration, without a cluster (the
`kube` tier in tests/workspaces/kube/ runs it against a real control plane)."""

from __future__ import annotations

import json

import kubernetes  # noqa: F401 - in the test extra: a missing client fails, never skips
import pytest
import yaml

from lakelab.config import load_config
from lakelab.errors import InvalidInput
from lakelab.workspaces.backends.kuberay import KubeRayBackend, cluster_name
from lakelab.workspaces.state import Store, WorkspaceRecord


@pytest.fixture
def kubeconfig(tmp_path):
    p = tmp_path / "kubeconfig"
    p.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1"}}],
                "users": [{"name": "u", "user": {"token": "not-a-ray-token"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u", "namespace": "team-a"}}],
                "current-context": "x",
            }
        )
    )
    return p


def test_config_keys_and_the_manifest_keep_the_token_out(tmp_path, kubeconfig, monkeypatch):
    cfg = tmp_path / "lakelab.yaml"
    cfg.write_text(
        yaml.safe_dump(
            {
                "workspaces": {
                    "backend": "kuberay",
                    "kubeconfig": str(kubeconfig),
                    "image": "example.org/ray:2.60.0",
                    "worker_resources": {"memory": "3Gi"},
                    "service_account": "lakelab-ray",
                }
            }
        )
    )
    settings = load_config(cfg).workspaces
    store = Store(tmp_path / "ws")
    backend = KubeRayBackend(store, settings)
    assert backend.namespace == "team-a"  # the context's namespace
    monkeypatch.setenv("LAKELAB_WORKSPACE_NAMESPACE", "team-b")
    assert load_config(cfg).workspaces.namespace == "team-b"

    rec = WorkspaceRecord(name="my_ws", backend="kuberay", owner="Ann Smith", cpus=2, workers=3)
    token = store.new_token("my_ws").read_text()
    m = backend.manifest(rec)
    assert token not in json.dumps(m)
    assert m["metadata"]["name"] == cluster_name("my_ws") == "lakelab-my-ws"
    assert m["metadata"]["labels"]["lakelab.io/owner"] == "Ann_Smith"
    head = m["spec"]["headGroupSpec"]["template"]["spec"]
    worker = m["spec"]["workerGroupSpecs"][0]
    assert worker["replicas"] == 3 and worker["groupName"] == "workers"
    assert head["serviceAccountName"] == "lakelab-ray"
    c = worker["template"]["spec"]["containers"][0]
    assert c["image"] == "example.org/ray:2.60.0"
    assert c["resources"]["limits"] == {"cpu": "2", "memory": "3Gi"}
    ref = {"secretKeyRef": {"name": "lakelab-my-ws-ray-token", "key": "token"}}
    assert {"name": "RAY_AUTH_TOKEN", "valueFrom": ref} in c["env"]
    assert {"name": "RAY_AUTH_MODE", "value": "token"} in c["env"]


def test_a_missing_kubeconfig_says_what_to_set(tmp_path):
    from lakelab.config import WorkspaceConfig

    backend = KubeRayBackend(
        Store(tmp_path / "ws"), WorkspaceConfig(backend="kuberay", kubeconfig=str(tmp_path / "nope"))
    )
    with pytest.raises(InvalidInput, match="workspaces.kubeconfig"):
        backend.namespace  # noqa: B018

"""The three ways a user starts a workspace — `lakelab workspace` in a shell, `%workspace` in a
notebook and the REST API the Workspaces panel calls — on the kuberay backend, against the real
control plane of the `kube` tier (see test_kuberay.py: kwok pods run no process, so this checks
that each surface reaches the backend and shows what the RayCluster's status says; the panel's
rendering of that API is covered in Chromium on the local backend, tests/browser/)."""

from __future__ import annotations

import html
import os
import subprocess
import sys
import time

import pytest
import requests
from IPython.core.interactiveshell import InteractiveShell

from lakelab.config import save_config
from lakelab.workspaces.backends.kuberay import GROUP, PLURAL, VERSION, cluster_name

pytestmark = [pytest.mark.kube, pytest.mark.slow]
TOKEN = "lakelab-kube-surfaces"


def _cr(kube, ns, name):
    from kubernetes.client.exceptions import ApiException

    try:
        return kube.client("CustomObjectsApi").get_namespaced_custom_object(
            GROUP, VERSION, ns, PLURAL, cluster_name(name)
        )
    except ApiException as e:
        if e.status == 404:
            return None
        raise


@pytest.fixture
def kube_home(kube, ns, lakelab_home):
    """$LAKELAB_HOME whose config says `workspaces: {backend: kuberay, ...}`, as a user writes it."""
    save_config(
        {
            "workspaces": {
                "backend": "kuberay",
                "namespace": ns,
                "kubeconfig": str(kube.kubeconfig),
                "max_workers": 2,
                "max_cpus_per_node": 2,
                "start_timeout_s": 120,
                "head_resources": {"cpu": 1, "memory": "1Gi"},
                "worker_resources": {"memory": "1Gi"},
            }
        }
    )
    return lakelab_home


def _cli(*args: str, home) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["LAKELAB_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "lakelab", "workspace", *args], env=env, capture_output=True, text=True, timeout=300
    )


def test_cli_and_magic_drive_a_raycluster(kube, ns, kube_home):
    up = _cli("up", "cli_ws", "--workers", "1", home=kube_home)
    assert up.returncode == 0, up.stdout + up.stderr
    assert "workspace cli_ws is running" in up.stdout
    cr = _cr(kube, ns, "cli_ws")
    assert cr["status"]["state"] == "ready" and cr["spec"]["workerGroupSpecs"][0]["replicas"] == 1

    sh = InteractiveShell.instance()
    try:
        sh.run_line_magic("load_ext", "lakelab")
        listing = sh.run_line_magic("workspace", "list")
        shown = html.unescape(listing._repr_html_())
        assert "cli_ws" in shown and "running" in shown  # a cluster the CLI started shows in the notebook
        assert sh.run_line_magic("workspace", "down cli_ws") == "workspace cli_ws stopped"
    finally:
        sh.reset()
        InteractiveShell.clear_instance()
    assert _cr(kube, ns, "cli_ws") is None
    listing = _cli("list", home=kube_home)
    assert listing.returncode == 0 and "cli_ws" not in listing.stdout


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def jupyter_server(kube_home, tmp_path):
    """A real `jupyter server` with lakelab_server, on loopback, for this home."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["LAKELAB_HOME"] = str(kube_home)
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "server",
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={tmp_path}",
            "--ServerApp.allow_root=True",
            "--ServerApp.jpserver_extensions={'lakelab_server': True}",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/lakelab/api/v1/workspaces"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(base, headers={"Authorization": f"token {TOKEN}"}, timeout=5).ok:
                    break
            except requests.ConnectionError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()[-3000:]
            time.sleep(0.5)
        yield base
    finally:
        proc.terminate()
        proc.wait(60)
        log.close()


def test_the_panels_rest_api_creates_scales_and_stops_a_raycluster(kube, ns, jupyter_server):
    auth = {"Authorization": f"token {TOKEN}"}
    assert requests.get(jupyter_server, timeout=10).status_code == 403  # Jupyter's authentication applies
    made = requests.post(jupyter_server, json={"name": "panel_ws", "workers": 1}, headers=auth, timeout=300)
    assert made.status_code == 201, made.text
    assert made.json()["state"] == "running"
    listed = requests.get(jupyter_server, headers=auth, timeout=30).json()
    assert [w["name"] for w in listed["workspaces"]] == ["panel_ws"]
    assert listed["limits"]["backend"] == "kuberay"

    scaled = requests.post(f"{jupyter_server}/panel_ws/scale", json={"workers": 2}, headers=auth, timeout=300)
    assert scaled.status_code == 200 and scaled.json()["workers"] == 2, scaled.text
    assert _cr(kube, ns, "panel_ws")["spec"]["workerGroupSpecs"][0]["replicas"] == 2
    status = requests.get(f"{jupyter_server}/panel_ws", headers=auth, timeout=30).json()
    assert status["state"] == "running" and status["detail"]["ready_workers"] == 2

    too_many = requests.post(f"{jupyter_server}/panel_ws/scale", json={"workers": 9}, headers=auth, timeout=30)
    assert too_many.status_code == 400 and "limit" in too_many.json()["error"]["message"]

    gone = requests.delete(f"{jupyter_server}/panel_ws", headers=auth, timeout=300)
    assert gone.status_code == 200 and gone.json()["state"] == "stopped"
    assert _cr(kube, ns, "panel_ws") is None
    assert requests.get(jupyter_server, headers=auth, timeout=30).json()["workspaces"] == []

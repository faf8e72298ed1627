"""A real Kubernetes control plane without Docker, for the `kube` test tier.

- kube-apiserver, kube-scheduler, kube-controller-manager v1.36.3 built from source and
  etcd from Debian, run by `kwokctl create cluster --runtime binary` with kwok fake nodes;
- the real KubeRay operator v1.5.0 (`go install`), run outside the cluster with its own
  kubeconfig, its CRDs applied from its Go module folder.

Binaries are built once by scripts/kube-build.sh into ${LAKELAB_CACHE:-~/.cache/lakelab}/kube
and reused. Everything listens on 127.0.0.1 only. Pods on kwok nodes run no process: this
checks control logic against the real API server and operator, not Ray itself.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("LAKELAB_CACHE") or Path.home() / ".cache/lakelab") / "kube"
BIN = CACHE / "bin"
NEEDED = ("kwok", "kwokctl", "kube-apiserver", "kube-scheduler", "kube-controller-manager", "ray-operator")
BAD_IMAGE = "registry.invalid/lakelab/no-such-ray:0"  # the image-pull Stage fails pods with it
ETCD = shutil.which("etcd") or "/usr/bin/etcd"
TIMINGS = CACHE / "timings" / "harness.jsonl"  # build/start times and workspace up -> running


def missing_binaries() -> list[str]:
    out = [b for b in NEEDED if not (BIN / b).exists()]
    if not Path(ETCD).exists():
        out.append("etcd (apt-get install etcd-server)")
    if not (CACHE / "crds/ray.io_rayclusters.yaml").exists():
        out.append("KubeRay CRDs")
    return out


def build(log: Path) -> float:
    """Run the idempotent build script; returns seconds spent (≈0 when cached)."""
    t0 = time.monotonic()
    with open(log, "ab") as out:
        subprocess.run([str(REPO / "scripts/kube-build.sh")], check=True, stdout=out, stderr=subprocess.STDOUT)
    return time.monotonic() - t0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _kwok_module_dir() -> Path:
    out = subprocess.run(
        ["/usr/local/go/bin/go", "mod", "download", "-json", "sigs.k8s.io/kwok@v0.8.0"],
        check=True,
        capture_output=True,
        text=True,
        cwd=str(CACHE),
        env={**os.environ, "GOFLAGS": "-mod=mod"},
    ).stdout
    import json

    return Path(json.loads(out)["Dir"])


def stages() -> list[dict[str, Any]]:
    """kwok's default (fast) node and pod stages, except that pods using BAD_IMAGE get the
    status a kubelet reports for an image it cannot pull (ErrImagePull) instead of Ready."""
    root = _kwok_module_dir() / "kustomize/stage"
    docs = []
    for rel in ("node/fast/node-initialize.yaml", "node/heartbeat/node-heartbeat.yaml"):
        docs.append(yaml.safe_load((root / rel).read_text()))
    for rel in ("pod-ready.yaml", "pod-complete.yaml", "pod-delete.yaml"):
        doc = yaml.safe_load((root / "pod/fast" / rel).read_text())
        if rel == "pod-ready.yaml":
            doc["spec"]["selector"]["matchExpressions"].append(
                {"key": ".spec.containers.[0].image", "operator": "NotIn", "values": [BAD_IMAGE]}
            )
        docs.append(doc)
    docs.append(
        {
            "apiVersion": "kwok.x-k8s.io/v1alpha1",
            "kind": "Stage",
            "metadata": {"name": "pod-image-pull-fails"},
            "spec": {
                "resourceRef": {"apiGroup": "v1", "kind": "Pod"},
                "selector": {
                    "matchExpressions": [
                        {"key": ".metadata.deletionTimestamp", "operator": "DoesNotExist"},
                        {"key": ".status.phase", "operator": "In", "values": ["Pending"]},
                        {"key": ".status.containerStatuses", "operator": "DoesNotExist"},
                        {"key": ".spec.containers.[0].image", "operator": "In", "values": [BAD_IMAGE]},
                    ]
                },
                "next": {
                    "statusTemplate": (
                        "phase: Pending\n"
                        "hostIP: {{ NodeIPWith .spec.nodeName | Quote }}\n"
                        "conditions:\n"
                        '- type: Ready\n  status: "False"\n  reason: ContainersNotReady\n'
                        "containerStatuses:\n"
                        "{{ range .spec.containers }}\n"
                        "- name: {{ .name | Quote }}\n  image: {{ .image | Quote }}\n  ready: false\n"
                        "  restartCount: 0\n  state:\n    waiting:\n      reason: ErrImagePull\n"
                        '      message: {{ printf "failed to pull image %s: not found" .image | Quote }}\n'
                        "{{ end }}\n"
                    )
                },
            },
        }
    )
    return docs


class KubeHarness:
    """One kwok cluster plus a KubeRay operator, started and stopped by the test session."""

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.name = f"lakelab-{uuid.uuid4().hex[:6]}"
        self.kubeconfig = self.workdir / "kubeconfig"
        self.kwok_home = self.workdir / "kwok"  # KWOK_WORKDIR: nothing in ~/.kwok
        self.operator: subprocess.Popen[bytes] | None = None
        self.operator_log = self.workdir / "operator.log"
        self.timings: dict[str, float] = {}

    # -- processes ----------------------------------------------------------------------
    def _env(self) -> dict[str, str]:
        return {**os.environ, "KWOK_WORKDIR": str(self.kwok_home), "KUBECONFIG": str(self.kubeconfig)}

    def start(self) -> KubeHarness:
        t0 = time.monotonic()
        config = self.workdir / "kwok.yaml"
        docs = [
            {
                "apiVersion": "config.kwok.x-k8s.io/v1alpha1",
                "kind": "KwokctlConfiguration",
                # The apiserver's watch cache waits for etcd's progress notifications to catch
                # up ("Too large resource version" in its log); Debian's etcd 3.4 gives it too
                # few, so watches delivered pod changes 14-46 s late and every scale waited that
                # long. Without the cache, reads and watches go to etcd directly.
                "componentsPatches": [
                    {"name": "kube-apiserver", "extraArgs": [{"key": "watch-cache", "value": "false"}]},
                ],
                "options": {
                    "bindAddress": "127.0.0.1",
                    "kubeApiserverPort": _free_port(),
                    "etcdPort": _free_port(),
                    "etcdPeerPort": _free_port(),
                },
            },
            *stages(),
        ]
        config.write_text(yaml.safe_dump_all(docs))
        cmd = [
            str(BIN / "kwokctl"),
            "create",
            "cluster",
            "--name",
            self.name,
            "--runtime",
            "binary",
            "--config",
            str(config),
            "--kubeconfig",
            str(self.kubeconfig),
            "--kube-apiserver-binary",
            str(BIN / "kube-apiserver"),
            "--kube-scheduler-binary",
            str(BIN / "kube-scheduler"),
            *(
                ["--kube-controller-manager-binary", str(BIN / "kube-controller-manager")]
                if (BIN / "kube-controller-manager").exists()
                else []
            ),
            "--kwok-controller-binary",
            str(BIN / "kwok"),
            "--etcd-binary",
            ETCD,
            "--kube-authorization",
            *(["--disable", os.environ["LAKELAB_KUBE_DISABLE"]] if os.environ.get("LAKELAB_KUBE_DISABLE") else []),
            "--wait",
            "120s",
        ]
        with open(self.workdir / "kwokctl.log", "ab") as out:
            subprocess.run(cmd, check=True, env=self._env(), stdout=out, stderr=subprocess.STDOUT)
        self.timings["control_plane_s"] = time.monotonic() - t0
        self._add_node()
        t1 = time.monotonic()
        self.apply_crds()
        self.start_operator()
        self.timings["crds_operator_s"] = time.monotonic() - t1
        self.timings["start_s"] = time.monotonic() - t0
        return self

    def stop(self) -> None:
        self.stop_operator()
        subprocess.run(
            [str(BIN / "kwokctl"), "delete", "cluster", "--name", self.name, "--kubeconfig", str(self.kubeconfig)],
            env=self._env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def start_operator(self) -> None:
        out = open(self.operator_log, "ab")
        self.operator = subprocess.Popen(
            [
                str(BIN / "ray-operator"),
                "--kubeconfig",
                str(self.kubeconfig),
                "--enable-leader-election=false",
                "--metrics-addr",
                f"127.0.0.1:{_free_port()}",
                "--health-probe-bind-address",
                f"127.0.0.1:{_free_port()}",
                "--log-stdout-encoder",
                "console",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            env=self._env(),
        )
        out.close()

    def stop_operator(self) -> None:
        if self.operator and self.operator.poll() is None:
            os.killpg(self.operator.pid, signal.SIGTERM)
            try:
                self.operator.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.operator.pid, signal.SIGKILL)
                self.operator.wait()
        self.operator = None

    # -- API helpers --------------------------------------------------------------------
    def client(self, kind: str) -> Any:
        """An API object of the kubernetes client (CoreV1Api, ...) with the admin kubeconfig."""
        from kubernetes import client

        return getattr(client, kind)(self.api())

    def api(self) -> Any:
        from kubernetes import client, config

        conf = client.Configuration()
        config.load_kube_config(config_file=str(self.kubeconfig), client_configuration=conf)
        return client.ApiClient(conf)

    def _add_node(self) -> None:

        node = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": "kwok-node-0",
                "annotations": {"node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake"},
                "labels": {"type": "kwok", "kubernetes.io/hostname": "kwok-node-0"},
            },
            "spec": {"taints": []},
            "status": {
                "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "110"},
                "capacity": {"cpu": "64", "memory": "256Gi", "pods": "110"},
            },
        }
        self.client("CoreV1Api").create_node(node)

    def apply_crds(self) -> None:
        from kubernetes.client.exceptions import ApiException

        ext = self.client("ApiextensionsV1Api")
        names = []
        for f in sorted((CACHE / "crds").glob("*.yaml")):
            body = yaml.safe_load(f.read_text())
            names.append(body["metadata"]["name"])
            try:
                ext.create_custom_resource_definition(body)
            except ApiException as e:
                if e.status != 409:
                    raise
        deadline = time.monotonic() + 120
        while names and time.monotonic() < deadline:
            crd = ext.read_custom_resource_definition(names[0])
            if any(c.type == "Established" and c.status == "True" for c in crd.status.conditions or []):
                names.pop(0)
            else:
                time.sleep(0.2)
        if names:
            raise RuntimeError(f"CRDs not established: {names}")

    def namespace(self, name: str) -> str:

        from kubernetes.client.exceptions import ApiException

        core = self.client("CoreV1Api")
        core.create_namespace({"metadata": {"name": name}})
        try:  # the controller manager's service account controller makes it too, a moment later
            core.create_namespaced_service_account(name, {"metadata": {"name": "default"}})
        except ApiException as e:
            if e.status != 409:
                raise
        return name

    def user_kubeconfig(self, namespace: str, user: str, rules: list[dict[str, Any]]) -> Path:
        """A kubeconfig for a ServiceAccount bound to a Role with exactly `rules`."""

        core, rbac = self.client("CoreV1Api"), self.client("RbacAuthorizationV1Api")
        core.create_namespaced_service_account(namespace, {"metadata": {"name": user}})
        rbac.create_namespaced_role(namespace, {"metadata": {"name": user}, "rules": rules})
        rbac.create_namespaced_role_binding(
            namespace,
            {
                "metadata": {"name": user},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": user},
                "subjects": [{"kind": "ServiceAccount", "name": user, "namespace": namespace}],
            },
        )
        tok = core.create_namespaced_service_account_token(
            user, namespace, {"spec": {"expirationSeconds": 3600}}
        ).status.token
        admin = yaml.safe_load(self.kubeconfig.read_text())
        ctx = next(c for c in admin["contexts"] if c["name"] == admin["current-context"])["context"]
        cluster = next(c for c in admin["clusters"] if c["name"] == ctx["cluster"])
        cfg = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [cluster],
            "users": [{"name": user, "user": {"token": tok}}],
            "contexts": [{"name": user, "context": {"cluster": cluster["name"], "user": user, "namespace": namespace}}],
            "current-context": user,
        }
        # a relative certificate-authority path in the admin kubeconfig stays valid next to it
        path = self.kubeconfig.parent / f"kubeconfig-{user}"
        path.write_text(yaml.safe_dump(cfg))
        return path

"""The KubeRay backend: a workspace is one `RayCluster` custom resource in a namespace.

What it creates, all labelled `app.kubernetes.io/managed-by: lakelab` and
`lakelab.io/workspace: NAME`:

- a Secret `<cluster>-ray-token` holding the workspace's Ray token (the same token as the
  local token file, so a driver reaching the head through a port-forward authenticates);
  the RayCluster's containers read it through `env.valueFrom.secretKeyRef`, so the token
  never appears in the CR, in an event, in a log line or in what the UI shows. After the
  CR exists the Secret gets an ownerReference to it: deleting the CR deletes the Secret
  (Kubernetes' garbage collector), as it does the pods and the head Service.
- a RayCluster (ray.io/v1, KubeRay operator v1.5) with one head and one worker group
  `workers` whose `replicas` is the workspace's worker count.

Status is read from the API, never guessed: the CR's `status` (state, conditions,
readyWorkerReplicas), its Warning events and its pods' container states, mapped to the
phases the local backend goes through (starting, running, scaling, failed with a reason).
Failures the user or the platform team must fix (RBAC, quota, a missing CRD, an image that
cannot be pulled) raise at once with what to fix, instead of waiting out the start timeout.
"""

from __future__ import annotations

import base64
import os
import re
import time
from pathlib import Path
from typing import Any

from lakelab.errors import Conflict, InvalidInput, LakelabError, NotFound, Unavailable
from lakelab.workspaces.backends.base import Backend
from lakelab.workspaces.backends.kube_api import ClusterRefused, KubeAccess
from lakelab.workspaces.state import WorkspaceRecord

GROUP, VERSION, PLURAL, KIND = "ray.io", "v1", "rayclusters", "RayCluster"
WORKER_GROUP = "workers"
MANAGED = {"app.kubernetes.io/managed-by": "lakelab"}
IN_CLUSTER_NS = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
# container waiting reasons that do not go away by waiting
STUCK_REASONS = {
    "ErrImagePull": "the image cannot be pulled",
    "ImagePullBackOff": "the image cannot be pulled",
    "InvalidImageName": "the image name is invalid",
    "CreateContainerConfigError": "the container's configuration is invalid",
    "CreateContainerError": "the container cannot be created",
    "CrashLoopBackOff": "the container keeps crashing",
}
STARTING, RUNNING, SCALING, FAILED, GONE = "starting", "running", "scaling", "failed", "gone"


def cluster_name(workspace: str) -> str:
    """The RayCluster's name: a DNS-1035 label derived from the workspace name."""
    name = "lakelab-" + re.sub(r"[^a-z0-9-]", "-", workspace.lower())
    return name.rstrip("-")[:50] or "lakelab-ws"


def _label_value(value: str) -> str:
    v = re.sub(r"[^A-Za-z0-9_.-]", "_", value)[:63].strip("_.-")
    return v or "unknown"


class KubeRayBackend(KubeAccess, Backend):
    name = "kuberay"

    def __init__(self, store: Any, settings: object):
        super().__init__(store, settings)
        self._client: Any = None
        self._where = "the Kubernetes API"
        self._default_ns = "default"

    def _resources(self, key: str, cpus: int) -> dict[str, Any]:
        given = self._setting(key) or {}
        if not isinstance(given, dict):
            raise InvalidInput(f"workspaces.{key} must be a mapping like {{cpu: 1, memory: 2Gi}}")
        if "requests" in given or "limits" in given:
            return given
        res = {"cpu": str(given.get("cpu", cpus)), "memory": str(given.get("memory", "2Gi"))}
        return {"requests": dict(res), "limits": dict(res)}

    def _container(self, role: str, secret: str, cpus: int) -> dict[str, Any]:
        c: dict[str, Any] = {
            "name": f"ray-{role}",
            "image": str(self._setting("image", "rayproject/ray:2.60.0")),
            "resources": self._resources(f"{role}_resources", cpus),
            "env": [
                {"name": "RAY_AUTH_MODE", "value": "token"},
                {"name": "RAY_AUTH_TOKEN", "valueFrom": {"secretKeyRef": {"name": secret, "key": "token"}}},
                {"name": "RAY_USAGE_STATS_ENABLED", "value": "0"},
            ],
        }
        if role == "head":
            c["ports"] = [
                {"name": "gcs", "containerPort": 6379},
                {"name": "dashboard", "containerPort": 8265},
                {"name": "client", "containerPort": 10001},
            ]
        return c

    def _pod_template(self, rec: WorkspaceRecord, role: str, secret: str) -> dict[str, Any]:
        spec: dict[str, Any] = {"containers": [self._container(role, secret, rec.cpus)]}
        if self._setting("service_account"):
            spec["serviceAccountName"] = self._setting("service_account")
        return {"metadata": {"labels": self._labels(rec)}, "spec": spec}

    def _labels(self, rec: WorkspaceRecord) -> dict[str, str]:
        return {**MANAGED, "lakelab.io/workspace": rec.name, "lakelab.io/owner": _label_value(rec.owner)}

    def manifest(self, rec: WorkspaceRecord) -> dict[str, Any]:
        name = cluster_name(rec.name)
        secret = f"{name}-ray-token"
        max_workers = max(int(getattr(self.settings, "max_workers", 4)), rec.workers)
        return {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": KIND,
            "metadata": {"name": name, "namespace": self.namespace, "labels": self._labels(rec)},
            "spec": {
                "rayVersion": str(self._setting("ray_version", "2.60.0")),
                "headGroupSpec": {
                    "rayStartParams": {"dashboard-host": "0.0.0.0", "num-cpus": str(rec.cpus)},
                    "template": self._pod_template(rec, "head", secret),
                },
                "workerGroupSpecs": [
                    {
                        "groupName": WORKER_GROUP,
                        "replicas": rec.workers,
                        "minReplicas": 0,
                        "maxReplicas": max_workers,
                        "rayStartParams": {"num-cpus": str(rec.cpus)},
                        "template": self._pod_template(rec, "worker", secret),
                    }
                ],
            },
        }

    # -- reading the API ---------------------------------------------------------------
    def _get_cr(self, rec: WorkspaceRecord) -> dict[str, Any] | None:
        try:
            return dict(
                self._call(
                    f"reading RayCluster {cluster_name(rec.name)}",
                    self._custom().get_namespaced_custom_object,
                    GROUP,
                    VERSION,
                    self._ns(rec),
                    PLURAL,
                    cluster_name(rec.name),
                )
            )
        except NotFound:
            return None

    def _ns(self, rec: WorkspaceRecord) -> str:
        ref = rec.ref or {}
        return str(ref.get("namespace") or self.namespace)

    def _events(self, rec: WorkspaceRecord, since: float = 0.0) -> list[Any]:
        """Events about the CR and its pods, oldest first (none when we may not read them)."""
        name = cluster_name(rec.name)
        try:
            evs = self._call("reading events", self._core().list_namespaced_event, self._ns(rec)).items
        except ClusterRefused:
            return []
        out = []
        for ev in evs:
            obj = ev.involved_object
            if not obj or not (obj.name or "").startswith(name):
                continue
            when = ev.last_timestamp or ev.event_time or ev.metadata.creation_timestamp
            if since and when is not None and when.timestamp() < since - 1:
                continue
            out.append(ev)
        return sorted(
            out, key=lambda e: (e.last_timestamp or e.event_time or e.metadata.creation_timestamp).timestamp()
        )

    def _pods(self, rec: WorkspaceRecord) -> list[Any]:
        try:
            return list(
                self._call(
                    "listing pods",
                    self._core().list_namespaced_pod,
                    self._ns(rec),
                    label_selector=f"ray.io/cluster={cluster_name(rec.name)}",
                ).items
            )
        except ClusterRefused:
            return []

    def phase(self, rec: WorkspaceRecord, since: float = 0.0) -> tuple[str, str | None, dict[str, Any]]:
        """(phase, reason, figures) as the API reports them: starting, running, scaling,
        failed (with what to fix) or gone (no CR)."""
        cr = self._get_cr(rec)
        if cr is None:
            return GONE, "the RayCluster no longer exists", {}
        status = cr.get("status") or {}
        groups = cr["spec"].get("workerGroupSpecs") or [{}]
        want = int(groups[0].get("replicas") or 0)
        figures = {
            "cluster": cr["metadata"]["name"],
            "namespace": cr["metadata"]["namespace"],
            "state": status.get("state"),
            "desired_workers": want,
            "ready_workers": int(status.get("readyWorkerReplicas") or 0),
            "head_service": (status.get("head") or {}).get("serviceName"),
        }
        for cond in status.get("conditions") or []:
            if cond.get("type") == "ReplicaFailure" and cond.get("status") == "True":
                return FAILED, self._explain(cond.get("message") or cond.get("reason") or ""), figures
        if status.get("state") == "failed":
            return FAILED, self._explain(status.get("reason") or "the operator marked the cluster failed"), figures
        for pod in self._pods(rec):
            for cs in (pod.status and pod.status.container_statuses) or []:
                waiting = cs.state and cs.state.waiting
                if waiting and waiting.reason in STUCK_REASONS:
                    what = STUCK_REASONS[waiting.reason]
                    hint = " (check workspaces.image and the registry's pull secret)" if "image" in what else ""
                    return (
                        FAILED,
                        f"pod {pod.metadata.name}: {what}: {waiting.reason}: {waiting.message or cs.image}{hint}",
                        figures,
                    )
        for ev in self._events(rec, since):
            if ev.type == "Warning" and (ev.reason or "").startswith(("FailedToCreate", "FailedCreate")):
                return FAILED, self._explain(ev.message or ev.reason), figures
        head_ready = any(
            c.get("type") == "HeadPodReady" and c.get("status") == "True" for c in status.get("conditions") or []
        )
        if status.get("state") == "ready" or head_ready:
            seen = int(status.get("observedGeneration", cr["metadata"].get("generation", 0)))
            if figures["ready_workers"] == want and seen >= int(cr["metadata"].get("generation", 0)):
                workers = [p for p in self._pods(rec) if (p.metadata.labels or {}).get("ray.io/node-type") == "worker"]
                live = [p for p in workers if not p.metadata.deletion_timestamp]
                if len(live) == want:
                    return RUNNING, None, figures
            return SCALING, None, figures
        return STARTING, status.get("reason") or None, figures

    def _explain(self, message: str) -> str:
        if "exceeded quota" in message:
            return (
                f"{message} (a ResourceQuota of namespace {self.namespace} refuses it: "
                "ask for fewer workers/CPUs or raise the quota)"
            )
        if "serviceaccount" in message and "not found" in message:
            return f"{message} (create that service account in {self.namespace} or set workspaces.service_account)"
        if "forbidden" in message:
            return f"{message} (the KubeRay operator may not create pods here: check its RBAC)"
        return message

    def _wait(self, rec: WorkspaceRecord, what: str, since: float, accept: tuple[str, ...] = (RUNNING,)) -> None:
        deadline = time.monotonic() + float(getattr(self.settings, "start_timeout_s", 180))
        phase, reason = STARTING, None
        while time.monotonic() < deadline:
            phase, reason, _ = self.phase(rec, since)
            if phase in accept:
                return
            if phase == FAILED:
                raise ClusterRefused(f"workspace {rec.name!r}: {what} failed: {reason}")
            if phase == GONE:
                raise Conflict(f"workspace {rec.name!r}: the RayCluster was deleted during {what}")
            time.sleep(0.5)
        raise Unavailable(
            f"workspace {rec.name!r} did not finish {what} in time: still {phase}" + (f" ({reason})" if reason else ""),
            hint="is the KubeRay operator running? `kubectl describe raycluster "
            f"{cluster_name(rec.name)} -n {self._ns(rec)}` shows what it waits for",
        )

    # -- Backend -----------------------------------------------------------------------
    def start(self, rec: WorkspaceRecord) -> None:
        ns, name = self.namespace, cluster_name(rec.name)
        secret = f"{name}-ray-token"
        rec.ref = {"namespace": ns, "cluster": name}
        since = time.time()
        core, custom = self._core(), self._custom()
        token = self.store.token(rec.name)
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": secret, "namespace": ns, "labels": self._labels(rec)},
            "type": "Opaque",
            "data": {"token": base64.b64encode(token.encode()).decode()},
        }
        try:
            self._call(f"creating Secret {secret}", core.create_namespaced_secret, ns, body)
        except Conflict:  # left by an interrupted start: take it over with the new token
            self._call(f"replacing Secret {secret}", core.replace_namespaced_secret, secret, ns, body)
        try:
            cr = self._call(
                f"creating RayCluster {name} in namespace {ns}",
                custom.create_namespaced_custom_object,
                GROUP,
                VERSION,
                ns,
                PLURAL,
                self.manifest(rec),
            )
            owner = {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": KIND,
                "name": name,
                "uid": cr["metadata"]["uid"],
                "blockOwnerDeletion": True,
            }
            rec.ref["uid"] = cr["metadata"]["uid"]
            self.store.save(rec)
            self._call(
                f"linking Secret {secret} to its RayCluster",
                core.patch_namespaced_secret,
                secret,
                ns,
                {"metadata": {"ownerReferences": [owner]}},
            )
            rec.address = f"{name}-head-svc.{ns}.svc:6379"
            rec.dashboard_port = 8265
            self._wait(rec, "start-up", since)
        except BaseException:
            self.stop(rec, quiet=True)
            raise

    def scale(self, rec: WorkspaceRecord, workers: int) -> None:
        """Set the worker group's replicas (a read-modify-write guarded by resourceVersion:
        the operator writes the same object) and wait until that many workers are ready."""
        since = time.time()
        name = cluster_name(rec.name)
        for attempt in range(5):
            cr = self._get_cr(rec)
            if cr is None:
                raise Conflict(f"workspace {rec.name!r}: its RayCluster no longer exists")
            group = cr["spec"]["workerGroupSpecs"][0]
            group["replicas"] = workers
            group["maxReplicas"] = max(int(group.get("maxReplicas") or 0), workers)
            cr.pop("status", None)
            try:
                self._call(
                    f"scaling RayCluster {name}",
                    self._custom().replace_namespaced_custom_object,
                    GROUP,
                    VERSION,
                    self._ns(rec),
                    PLURAL,
                    name,
                    cr,
                )
                break
            except Conflict:
                if attempt == 4:
                    raise
        self._wait(rec, f"scaling to {workers} worker(s)", since)

    def stop(self, rec: WorkspaceRecord, quiet: bool = False) -> None:
        """Delete the CR (its pods, Service and Secret go with it: ownerReferences) and wait
        until the CR and the Secret are gone; idempotent. `quiet` (undoing a failed start)
        never raises: the start's own error is the one to report."""
        from kubernetes import client

        ns, name = self._ns(rec), cluster_name(rec.name)
        secret = f"{name}-ray-token"
        core = self._core()

        def attempt(what: str, fn: Any, *args: Any, **kw: Any) -> Any:
            try:
                return self._call(what, fn, *args, **kw)
            except NotFound:
                return None
            except LakelabError:
                if quiet:
                    return None
                raise

        opts = client.V1DeleteOptions(propagation_policy="Background")
        attempt(
            f"deleting RayCluster {name}",
            self._custom().delete_namespaced_custom_object,
            GROUP,
            VERSION,
            ns,
            PLURAL,
            name,
            body=opts,
        )
        deadline = time.monotonic() + float(getattr(self.settings, "stop_timeout_s", 15)) * 2
        cr_gone = False
        while True:
            try:
                cr_gone = self._get_cr(rec) is None
            except LakelabError:
                if not quiet:
                    raise
                cr_gone = True
            sec = attempt("reading the token Secret", core.read_namespaced_secret, secret, ns)
            if cr_gone and sec is None:
                return
            if cr_gone and not (sec.metadata.owner_references or []):
                break  # never linked to the CR (an interrupted start): no collector will take it
            if time.monotonic() > deadline:
                break
            time.sleep(0.3)
        attempt(f"deleting Secret {secret}", core.delete_namespaced_secret, secret, ns)
        if not cr_gone and not quiet:
            raise Unavailable(f"workspace {rec.name!r}: RayCluster {name} is still being deleted")

    def alive(self, rec: WorkspaceRecord) -> bool:
        cr = self._get_cr(rec)
        if cr is None or cr["metadata"].get("deletionTimestamp"):
            return False
        uid = (rec.ref or {}).get("uid")
        return not uid or cr["metadata"]["uid"] == uid

    def dashboard_url(self, rec: WorkspaceRecord) -> str | None:
        """The head Service's dashboard: `workspaces.dashboard_url` (a template with
        {cluster} {namespace} {service} {workspace}, e.g. a port-forward or an ingress), else
        the Service's in-cluster DNS name when the server runs in the cluster, else None."""
        name, ns = cluster_name(rec.name), self._ns(rec)
        fields = {"cluster": name, "namespace": ns, "service": f"{name}-head-svc", "workspace": rec.name}
        template = self._setting("dashboard_url")
        if template:
            return str(template).format(**fields)
        if os.environ.get("KUBERNETES_SERVICE_HOST"):
            return "http://{service}.{namespace}.svc:8265".format(**fields)
        return None

    def logs(self, rec: WorkspaceRecord, lines: int = 200) -> list[str]:
        """The Kubernetes events of the workspace's cluster and pods (never the token)."""
        out = [
            f"[{ev.involved_object.kind.lower()}/{ev.involved_object.name}] {ev.type} {ev.reason}: {ev.message}"
            for ev in self._events(rec)
        ]
        return out[-lines:]

    def detail(self, rec: WorkspaceRecord) -> dict[str, Any] | None:
        phase, reason, figures = self.phase(rec)
        return {"phase": phase, "reason": reason, **figures}

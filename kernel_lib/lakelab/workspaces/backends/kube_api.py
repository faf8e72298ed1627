"""Reaching the Kubernetes API for the KubeRay backend: the client from kubeconfig or the
pod's service account, and the API's refusals (RBAC, quota, a missing CRD) as clear errors."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lakelab.errors import Conflict, InvalidInput, LakelabError, NotFound, Unavailable

IN_CLUSTER_NS = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")


class ClusterRefused(LakelabError):
    """The Kubernetes cluster refused the request (RBAC, quota, admission, missing API)."""

    code = "cluster_refused"
    http_status = 409


class KubeAccess:
    """The API client and its error mapping; the backend inherits it."""

    settings: object
    _client: Any
    _where: str
    _default_ns: str

    # -- client ------------------------------------------------------------------------
    def _setting(self, key: str, default: Any = None) -> Any:
        value = getattr(self.settings, key, None)
        return default if value in (None, "") else value

    def _api(self) -> Any:
        if self._client is not None:
            return self._client
        try:
            from kubernetes import client, config
            from kubernetes.config.config_exception import ConfigException
        except ImportError:
            raise Unavailable(
                "the kuberay backend needs the `kubernetes` Python client",
                hint="pip install 'lakelab[kube]' (or pip install kubernetes)",
            ) from None
        kubeconfig = self._setting("kubeconfig")
        context = self._setting("kube_context")
        in_cluster = kubeconfig == "in-cluster" or (
            kubeconfig is None
            and os.environ.get("KUBERNETES_SERVICE_HOST")
            and not os.environ.get("KUBECONFIG")
            and not Path("~/.kube/config").expanduser().exists()
        )
        try:
            if in_cluster:
                conf = client.Configuration()
                config.load_incluster_config(client_configuration=conf)
                self._where = f"the in-cluster Kubernetes API ({conf.host})"
                if IN_CLUSTER_NS.exists():
                    self._default_ns = IN_CLUSTER_NS.read_text().strip() or "default"
            else:
                path = str(Path(kubeconfig).expanduser()) if kubeconfig else None
                shown = path or os.environ.get("KUBECONFIG") or "~/.kube/config"
                if path and not Path(path).exists():
                    raise InvalidInput(
                        f"kubeconfig {path} does not exist",
                        hint="set workspaces.kubeconfig to a kubeconfig file, or 'in-cluster'",
                    )
                conf = client.Configuration()
                config.load_kube_config(config_file=path, context=context, client_configuration=conf)
                _, active = config.list_kube_config_contexts(config_file=path)
                if context:
                    contexts, _ = config.list_kube_config_contexts(config_file=path)
                    active = next((c for c in contexts if c["name"] == context), active)
                self._default_ns = (active or {}).get("context", {}).get("namespace") or "default"
                self._where = f"the Kubernetes API at {conf.host} (kubeconfig {shown})"
        except ConfigException as e:
            raise InvalidInput(
                f"cannot read the Kubernetes configuration: {e}",
                hint="set workspaces.kubeconfig (a kubeconfig path) or run the server in a pod ('in-cluster')",
            ) from None
        conf.retries = 1  # fail fast on an unreachable API, the manager reports it
        self._client = client.ApiClient(conf)
        return self._client

    @property
    def namespace(self) -> str:
        self._api()
        return str(self._setting("namespace", self._default_ns))

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        """One API call, its failures turned into errors that say what to fix."""
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        kwargs.setdefault("_request_timeout", (5, 30))
        try:
            return fn(*args, **kwargs)
        except ApiException as e:
            raise self._refusal(what, e) from None
        except (HTTPError, OSError) as e:
            raise Unavailable(
                f"no Kubernetes cluster reachable: {what} failed, {self._where} did not answer ({type(e).__name__})",
                hint="check workspaces.kubeconfig / the current context, and that the cluster is up",
            ) from None

    def _refusal(self, what: str, e: Any) -> LakelabError:
        import json

        try:
            detail = json.loads(e.body).get("message") or e.reason
        except (TypeError, ValueError, AttributeError):
            detail = e.reason
        ns = self._setting("namespace", self._default_ns)
        # a 404 naming no object is the API itself missing: the CRD is gone, or is being removed
        # (then the body can be a bare "Not Found" or Go's "404 page not found")
        missing = e.status == 404 and (
            "the server could not find the requested resource" in str(detail)
            or str(detail).strip().lower() in ("not found", "404 page not found")
        )
        if missing or "custom resource definition is terminating" in str(detail):
            return ClusterRefused(
                f"{what}: the RayCluster API (ray.io/v1) is not installed in this cluster"
                + ("" if missing else " (its CRD is being deleted)"),
                hint="the platform team must install the KubeRay operator v1.5.0 and its CRDs (see docs/kuberay.md)",
            )
        if e.status == 404:
            return NotFound(f"{what}: {detail}")
        if e.status == 401:
            return ClusterRefused(
                f"{what}: the Kubernetes API rejected our credentials ({detail})",
                hint="refresh the kubeconfig's credentials (workspaces.kubeconfig)",
            )
        if e.status == 403 and "exceeded quota" in str(detail):
            return ClusterRefused(f"{what}: {detail}", hint=f"ask for fewer resources or raise the quota of {ns}")
        if e.status == 403:
            return ClusterRefused(
                f"{what}: permission denied in namespace {ns}: {detail}",
                hint="the server's Kubernetes identity needs the Role in deploy/kuberay (rayclusters, secrets, "
                "events, pods) bound in this namespace",
            )
        if e.status == 409:
            return Conflict(f"{what}: {detail}")
        if e.status == 422:
            return InvalidInput(f"{what}: the cluster rejected the resource: {detail}")
        return Unavailable(f"{what}: Kubernetes API error {e.status}: {detail}")

    def _custom(self) -> Any:
        from kubernetes import client

        return client.CustomObjectsApi(self._api())

    def _core(self) -> Any:
        from kubernetes import client

        return client.CoreV1Api(self._api())

    # -- manifests ---------------------------------------------------------------------

"""Workspace backends, chosen by `workspaces.backend` in the lakelab config."""

from __future__ import annotations

from lakelab.errors import InvalidInput
from lakelab.workspaces.backends.base import Backend
from lakelab.workspaces.state import Store


def make_backend(kind: str, store: Store, settings: object) -> Backend:
    if kind == "local":
        from lakelab.workspaces.backends.local import LocalBackend

        return LocalBackend(store, settings)
    if kind == "attach":
        from lakelab.workspaces.backends.attach import AttachBackend

        return AttachBackend(store, settings)
    if kind == "kuberay":
        from lakelab.workspaces.backends.kuberay import KubeRayBackend

        return KubeRayBackend(store, settings)
    raise InvalidInput(f"unknown workspace backend {kind!r}", hint="use local, attach or kuberay")


__all__ = ["Backend", "make_backend"]

"""Workspace backends, chosen by `workspaces.backend` in the lakelab config."""
from __future__ import annotations

from ...errors import InvalidInput
from ..state import Store
from .base import Backend


def make_backend(kind: str, store: Store, settings: object) -> Backend:
    if kind == "local":
        from .local import LocalBackend

        return LocalBackend(store, settings)
    if kind == "attach":
        from .attach import AttachBackend

        return AttachBackend(store, settings)
    raise InvalidInput(f"unknown workspace backend {kind!r}", hint="use local or attach")


__all__ = ["Backend", "make_backend"]

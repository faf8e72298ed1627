"""The attach backend: an existing Ray cluster reached by address (`host:6379` or
`ray://host:10001`). lakelab records it so notebooks can connect and the sidebar can show
it, but never starts, scales or stops it (lifecycle = False)."""

from __future__ import annotations

import socket

from lakelab.errors import InvalidInput, Unsupported
from lakelab.workspaces.backends.base import Backend
from lakelab.workspaces.state import WorkspaceRecord


def _host_port(address: str) -> tuple[str, int]:
    rest = address.split("://", 1)[-1].rstrip("/")
    host, _, port = rest.rpartition(":")
    if not host or not port.isdigit():
        raise InvalidInput(f"Ray address {address!r} must look like host:port or ray://host:port")
    return host, int(port)


class AttachBackend(Backend):
    name = "attach"
    lifecycle = False

    def start(self, rec: WorkspaceRecord) -> None:
        address = getattr(self.settings, "address", None)
        if not address:
            raise InvalidInput(
                "the attach backend needs an address",
                hint="set workspaces.address in the lakelab config or LAKELAB_WORKSPACE_ADDRESS",
            )
        _host_port(address)
        rec.address = address
        rec.workers = 0

    def scale(self, rec: WorkspaceRecord, workers: int) -> None:
        raise Unsupported(f"workspace {rec.name!r} is an attached cluster: lakelab does not scale it")

    def stop(self, rec: WorkspaceRecord) -> None:
        pass  # not ours to stop; the manager only forgets the record

    def alive(self, rec: WorkspaceRecord) -> bool:
        try:
            host, port = _host_port(rec.address or "")
            with socket.create_connection((host, port), timeout=2):
                return True
        except (OSError, InvalidInput):
            return False

    def dashboard_url(self, rec: WorkspaceRecord) -> str | None:
        return getattr(self.settings, "dashboard_url", None)

"""Ray workspaces: named Ray clusters that notebooks connect to.

`manager.WorkspaceManager` owns the lifecycle (persisted records, limits, reconciliation,
idle culling) over a pluggable backend (`backends/`: local processes or an attached
cluster); `client.Workspace` is the notebook's handle (`lakelab.workspace(name)`);
`transform.run` runs a Python transform on a workspace with Ray Data.
"""

from __future__ import annotations

from lakelab.workspaces.manager import WorkspaceManager
from lakelab.workspaces.state import FAILED, PENDING, RUNNING, STATES, STOPPED, STOPPING, WorkspaceRecord

__all__ = ["FAILED", "PENDING", "RUNNING", "STATES", "STOPPED", "STOPPING", "WorkspaceManager", "WorkspaceRecord"]

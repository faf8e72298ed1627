"""Cluster status read from a Ray dashboard's HTTP API with the workspace's token.

The server, the CLI and the kernel widget all use this one reader. It goes over HTTP rather
than `ray.util.state` because a process can hold only one Ray auth token (the C++ token
loader caches it), while the server watches many workspaces with different tokens.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from lakelab.errors import Unavailable


def dashboard_get(base_url: str, path: str, token: str | None, timeout: float = 5.0) -> Any:
    req = urllib.request.Request(base_url.rstrip("/") + "/" + path.lstrip("/"))
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError) as e:
        # the message never carries the token: it only went into a header
        raise Unavailable(f"Ray dashboard at {base_url} did not answer {path.split('?')[0]}: {e}") from None


def _state_rows(payload: Any) -> list[dict[str, Any]]:
    return ((payload or {}).get("data") or {}).get("result", {}).get("result", []) or []


def cluster_status(base_url: str, token: str | None) -> dict[str, Any]:
    """Nodes, CPUs, memory, running tasks and running drivers/jobs of one cluster."""
    nodes = _state_rows(dashboard_get(base_url, "api/v0/nodes?detail=1&limit=1000", token))
    running_filter = urllib.parse.urlencode(
        {"filter_keys": "state", "filter_predicates": "=", "filter_values": "RUNNING", "limit": 1000}
    )
    tasks = _state_rows(dashboard_get(base_url, f"api/v0/tasks?{running_filter}", token))
    jobs = dashboard_get(base_url, "api/jobs/", token) or []
    alive = [n for n in nodes if n.get("state") == "ALIVE"]
    node_rows = [
        {
            "node_id": n.get("node_id"),
            "ip": n.get("node_ip"),
            "head": bool(n.get("is_head_node")),
            "cpus": (n.get("resources_total") or {}).get("CPU", 0),
            "memory_bytes": int((n.get("resources_total") or {}).get("memory", 0)),
            "object_store_bytes": int((n.get("resources_total") or {}).get("object_store_memory", 0)),
        }
        for n in alive
    ]
    running_jobs = [j for j in jobs if j.get("status") in ("RUNNING", "PENDING")]
    return {
        "nodes": node_rows,
        "node_count": len(node_rows),
        "cpus": sum(n["cpus"] for n in node_rows),
        "memory_bytes": sum(n["memory_bytes"] for n in node_rows),
        "object_store_bytes": sum(n["object_store_bytes"] for n in node_rows),
        "running_tasks": len(tasks),
        "running_jobs": len(running_jobs),
    }


def is_busy(status: dict[str, Any]) -> bool:
    """Busy = a driver is connected or a job/task runs (a connected driver does not reset
    Ray's own node idle time, so Ray's idle figure alone would cull a working notebook)."""
    return bool(status.get("running_jobs") or status.get("running_tasks"))

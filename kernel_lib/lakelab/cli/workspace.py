"""`lakelab workspace up|list|status|logs|down [--all]`: Ray workspaces from the shell.

Workspaces started here keep running after the command returns (each node is its own
process group); the Jupyter server and notebooks see them through the shared state dir."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("workspace", help="Ray workspaces: up, list, status, logs, down", description=__doc__)
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    up = sub.add_parser("up", help="create (or restart) a workspace and wait until it is ready")
    up.add_argument("name")
    up.add_argument("--cpus", type=int, default=None, help="CPUs per node (default 1)")
    up.add_argument("--workers", type=int, default=0, help="worker nodes besides the head (default 0)")
    ls = sub.add_parser("list", help="list workspaces and their state")
    ls.add_argument("--json", action="store_true")
    st = sub.add_parser("status", help="nodes, CPUs, memory and running tasks of a workspace")
    st.add_argument("name")
    st.add_argument("--json", action="store_true")
    lg = sub.add_parser("logs", help="the last lines of a workspace's logs")
    lg.add_argument("name")
    lg.add_argument("-n", "--lines", type=int, default=50)
    down = sub.add_parser("down", help="stop a workspace and end all of its processes")
    down.add_argument("name", nargs="?")
    down.add_argument(
        "--all",
        action="store_true",
        help="stop every workspace of this LAKELAB_HOME (e.g. left running by a killed server)",
    )
    p.set_defaults(func=run)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return (
        f"{seconds / 3600:.1f}h" if seconds >= 3600 else f"{seconds / 60:.0f}m" if seconds >= 60 else f"{seconds:.0f}s"
    )


def run(args: argparse.Namespace) -> int:
    from lakelab.workspaces import WorkspaceManager

    mgr = WorkspaceManager()
    out = sys.stdout
    if args.action == "up":
        started = time.monotonic()
        rec = mgr.create(args.name, cpus=args.cpus, workers=args.workers)
        out.write(
            f"workspace {rec.name} is running at {rec.address} ({1 + rec.workers} node(s), "
            f"{rec.cpus} CPU each; ready in {time.monotonic() - started:.1f} s)\n"
            f"connect from a notebook: lakelab.workspace({rec.name!r}).connect()\n"
        )
    elif args.action == "list":
        rows = [r.public() for r in mgr.list()]
        if args.json:
            out.write(json.dumps(rows, indent=1) + "\n")
        elif not rows:
            out.write("no workspaces: create one with `lakelab workspace up NAME`\n")
        else:
            out.write(f"{'NAME':<20} {'STATE':<9} {'BACKEND':<8} {'WORKERS':>7} {'UPTIME':>7} {'IDLE':>6}  NOTE\n")
            for w in rows:
                out.write(
                    f"{w['name']:<20} {w['state']:<9} {w['backend']:<8} {w['workers']:>7} "
                    f"{_age(w['uptime_s']):>7} {_age(w['idle_s']):>6}  {w['message'] or ''}\n"
                )
    elif args.action == "status":
        st = mgr.status(args.name)
        if args.json:
            out.write(json.dumps(st, indent=1) + "\n")
        else:
            c = st.get("cluster") or {}
            out.write(f"workspace {st['name']}: {st['state']} ({st['backend']}) at {st['address']}\n")
            if c:
                out.write(
                    f"  nodes {c['node_count']}, CPUs {c['cpus']:g}, memory {c['memory_bytes'] / 2**30:.1f} GiB, "
                    f"running tasks {c['running_tasks']}, drivers/jobs {c['running_jobs']}\n"
                )
            if st.get("message"):
                out.write(f"  note: {st['message']}\n")
    elif args.action == "logs":
        for line in mgr.logs(args.name, args.lines):
            out.write(line + "\n")
    elif args.action == "down":
        from lakelab.errors import InvalidInput

        if bool(args.name) == bool(args.all):
            raise InvalidInput("give a workspace name or --all", hint="`lakelab workspace list` shows the names")
        names = [r.name for r in mgr.list()] if args.all else [args.name]
        started = time.monotonic()
        for name in names:
            rec = mgr.stop(name)
            out.write(f"workspace {rec.name} stopped\n")
        if args.all:
            out.write(f"{len(names)} workspace(s) stopped in {time.monotonic() - started:.1f} s\n")
    return 0

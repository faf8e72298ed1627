"""%workspace up|list|status|connect|scale|down [NAME] [--cpus N] [--workers N]

Thin wrappers over lakelab.workspaces: each action is one manager/client call, and every
mistake fails the cell with one line (user_errors), never a traceback."""

from __future__ import annotations

import html
import os
from typing import Any

from IPython.core.error import UsageError as IPythonUsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from lakelab.notebook.magics import UsageError, user_errors

ACTIONS = ("up", "list", "status", "connect", "scale", "down")


class WorkspaceList(list):
    """Public workspace records that render as a table."""

    def _repr_html_(self) -> str:
        if not self:
            return "<div>no workspaces yet: create one with <code>%workspace up NAME</code></div>"
        cols = ("name", "state", "backend", "workers", "cpus_per_node", "uptime_s", "idle_s", "message")
        head = "".join(f"<th>{c}</th>" for c in cols)
        rows = "".join(
            "<tr>"
            + "".join(f"<td>{html.escape('' if w.get(c) is None else str(w.get(c)))}</td>" for c in cols)
            + "</tr>"
            for w in self
        )
        return f"<table class='lakelab-workspaces'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


class Message(str):
    def _repr_html_(self) -> str:
        return f"<div class='lakelab-workspace-message'>{html.escape(self)}</div>"


@magics_class
class WorkspaceMagics(Magics):
    @magic_arguments()
    @argument("action", choices=ACTIONS, help="what to do")
    @argument("name", nargs="?", help="the workspace (default: the one this kernel is connected to)")
    @argument("--cpus", type=int, help="CPUs per node (up)")
    @argument("--workers", type=int, help="worker nodes (up, scale)")
    @line_magic
    @user_errors
    def workspace(self, line: str) -> Any:
        """Create, list, inspect, connect to, scale and stop Ray workspaces."""
        if not line.strip():
            raise UsageError("usage: %workspace up|list|status|connect|scale|down [NAME] [--cpus N] [--workers N]")
        try:
            args = parse_argstring(self.workspace, line)
        except IPythonUsageError as e:
            raise UsageError(f"%workspace: {e}", hint="see %workspace? for the actions and options") from None
        from lakelab.workspaces.client import Workspace
        from lakelab.workspaces.manager import WorkspaceManager

        if args.action == "list":
            return WorkspaceList(r.public() for r in WorkspaceManager().list())
        name = args.name or os.environ.get("LAKELAB_WORKSPACE")
        if not name:
            raise UsageError(f"%workspace {args.action} needs a NAME", hint=f"e.g. %workspace {args.action} team")
        if args.cpus is not None and args.action != "up":
            raise UsageError("--cpus applies to %workspace up only")
        if args.workers is not None and args.action not in ("up", "scale"):
            raise UsageError("--workers applies to %workspace up and %workspace scale only")
        ws = Workspace(name)
        if args.action == "up":
            return ws.up(cpus=args.cpus, workers=args.workers or 0)
        if args.action == "status":
            return ws.status()
        if args.action == "connect":
            ws.connect()
            return Message(f"connected: ray calls in this kernel now run on workspace {ws.name}")
        if args.action == "scale":
            if args.workers is None:
                raise UsageError("%workspace scale needs --workers N")
            return ws.scale(args.workers)
        ws.stop()
        return Message(f"workspace {ws.name} stopped")

"""`lakelab dashboards status|refresh [NAME]`: which dashboards are stale (an input has a newer
snapshot than the latest version pinned), and re-running them into new versions (for cron)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("dashboards", help="dashboard freshness and refresh", description=__doc__)
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    status = sub.add_parser("status", help="each dashboard's latest version: current or stale, and why")
    status.add_argument("name", nargs="?", metavar="NAME", help="namespace.name (default: every dashboard)")
    status.set_defaults(func=run_status)
    refresh = sub.add_parser("refresh", help="re-run stale dashboards into new versions; current ones are left alone")
    refresh.add_argument("name", nargs="?", metavar="NAME", help="namespace.name (default: every dashboard)")
    refresh.add_argument("--timeout", type=int, default=None, metavar="S", help="seconds per cell (default 600)")
    refresh.set_defaults(func=run_refresh)


def _names(lh: Any, name: str | None) -> list[str]:
    from lakelab.datasets.search import MAX_PAGE_SIZE, search

    return [name] if name else [d["name"] for d in search(lh, kind="dashboard", limit=MAX_PAGE_SIZE)]


def run_status(args: argparse.Namespace) -> int:
    import lakelab
    from lakelab.cli import printable
    from lakelab.datasets.dashboards import freshness

    lh = lakelab.connect()
    for name in _names(lh, args.name):
        state = freshness(lh.dataset(name))
        why = ", ".join(f"{s.table} {s.snapshot_id} -> {s.current_snapshot_id}" for s in state.inputs if s.stale)
        print(printable(f"{name} v{state.version}: {'stale (' + why + ')' if state.stale else 'current'}"))
    return 0


def run_refresh(args: argparse.Namespace) -> int:
    import lakelab
    from lakelab.cli import printable
    from lakelab.write.refresh import refresh

    for r in refresh(lakelab.connect(), args.name, **({"timeout": args.timeout} if args.timeout else {})):
        print(printable(f"{r.dataset}: {r.action} (v{r.version})"))
    return 0

"""`lakelab services up|status|down`: local PostgreSQL + Trino sharing the catalog."""

from __future__ import annotations

import argparse


def _echo(msg: str) -> None:
    print(msg, flush=True)


def _up(args: argparse.Namespace) -> int:
    from lakelab import services

    services.up(timeout=args.timeout, echo=_echo)
    return 0


def _status(args: argparse.Namespace) -> int:
    from lakelab import services

    s = services.status()
    pg, tr = s["postgres"], s["trino"]

    def words(part: dict, name: str, where: str) -> str:
        if part["reachable"]:
            return f"{name}: running and reachable at {where}"
        if part["running"]:
            return f"{name}: process running but not answering at {where} (still starting, or see {part['log']})"
        return f"{name}: not running"

    print(words(pg, "PostgreSQL", f"127.0.0.1:{pg['port']}"))
    print(words(tr, f"Trino {tr['version'] or ''}".strip(), str(tr["url"])))
    print("lakelab config: " + ("uses these services" if s["configured"] else "embedded (services not in use)"))
    return 0 if (not s["configured"] or (pg["reachable"] and tr["reachable"])) else 1


def _down(args: argparse.Namespace) -> int:
    from lakelab import services

    services.down(echo=_echo)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "services",
        help="local PostgreSQL + Trino sharing the lakehouse catalog",
        description="Start, report or stop a local PostgreSQL and a single-node Trino "
        "whose Iceberg connector uses the same catalog and warehouse as lakelab.",
    )
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    up = sub.add_parser("up", help="start both and switch the lakelab config to them")
    up.add_argument("--timeout", type=float, default=None, help="seconds to wait for Trino (default 300)")
    up.set_defaults(func=_up)
    sub.add_parser("status", help="say what runs and answers").set_defaults(func=_status)
    sub.add_parser("down", help="stop both and restore the embedded config (data is kept)").set_defaults(func=_down)

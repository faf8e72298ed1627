"""`lakelab services up|status|down`: real local parts (object storage, an Iceberg catalog, a
Trino cluster) sharing the lakehouse catalog with the kernel."""

from __future__ import annotations

import argparse

from lakelab.errors import InvalidInput


def _echo(msg: str) -> None:
    print(msg, flush=True)


def _ports(values: list[str] | None) -> dict[str, int]:
    out = {}
    for item in values or []:
        part, _, num = item.partition("=")
        if not part or not num.isdigit():
            raise InvalidInput(f"--port wants PART=NUMBER, got {item!r}", hint="e.g. --port trino=8080")
        out[part.replace("-", "_")] = int(num)
    return out


def _up(args: argparse.Namespace) -> int:
    from lakelab import services

    services.up(
        timeout=args.timeout,
        echo=_echo,
        catalog=args.catalog,
        storage=args.storage,
        trino_workers=args.trino_workers,
        rest_impl=args.rest_impl,
        s3_impl=args.s3_impl,
        ports=_ports(args.port),
    )
    return 0


def _words(part: dict) -> str:
    where = part["url"] or f"127.0.0.1:{part['port']}"
    if part["reachable"]:
        mem = f", {part['memory_mb']:.0f} MB" if part.get("memory_mb") else ""
        return f"{part['label']}: running and reachable at {where} (pid {part['pid']}{mem})"
    if part["running"]:
        return f"{part['label']}: process running but not answering at {where} (still starting, or see {part['log']})"
    return f"{part['label']}: not running (log {part['log']})"


def _status(args: argparse.Namespace) -> int:
    from lakelab import services
    from lakelab.services.profile import Profile

    s = services.status()
    tr = s["trino"]
    for part in s["parts"]:
        if part["name"] == "trino" and tr["version"]:
            part = {**part, "label": f"Trino {tr['version']}"}
        print(_words(part))
    if not s["parts"]:
        print("PostgreSQL: not running")
        print("Trino: not running")
    if s["configured"] and s["profile"]:
        print(f"profile: {Profile.from_state(s['profile']).describe()}")
    print("lakelab config: " + ("uses these services" if s["configured"] else "embedded (services not in use)"))
    return 0 if (not s["configured"] or all(p["reachable"] for p in s["parts"])) else 1


def _down(args: argparse.Namespace) -> int:
    from lakelab import services

    services.down(echo=_echo)
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "services",
        help="local object storage, Iceberg catalog and Trino sharing the lakehouse catalog",
        description="Start, report or stop real local parts on 127.0.0.1: object storage (S3 or GCS API), "
        "an Iceberg catalog (JDBC on PostgreSQL, or REST) and a Trino cluster whose Iceberg connector "
        "uses the same catalog and storage as lakelab.",
    )
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    up = sub.add_parser(
        "up",
        help="start a profile and switch the lakelab config to it",
        description="Without flags: PostgreSQL + a single-node Trino on local files (as before).",
    )
    up.add_argument("--catalog", choices=("sql", "rest", "nessie"), default="sql", help="sql = JDBC on PostgreSQL")
    up.add_argument("--storage", choices=("local", "s3", "gcs"), default="local")
    up.add_argument("--trino-workers", type=int, default=0, metavar="N", help="worker nodes beside the coordinator")
    up.add_argument("--rest-impl", choices=("iceberg", "nessie"), default=None, help="for --catalog rest")
    up.add_argument("--s3-impl", choices=("versitygw", "s3proxy"), default=None, help="for --storage s3")
    up.add_argument(
        "--port",
        action="append",
        metavar="PART=N",
        help="fixed port for a part (s3, gcs, gcs_token, postgres, rest, trino, trino_worker_1, ...); "
        "an error if it is taken",
    )
    up.add_argument("--timeout", type=float, default=None, help="seconds to wait for Trino (default 300)")
    up.set_defaults(func=_up)
    sub.add_parser("status", help="say what runs and answers").set_defaults(func=_status)
    sub.add_parser("down", help="stop every part and restore the previous config (data is kept)").set_defaults(
        func=_down
    )

"""`lakelab orphans [TABLE...] [--delete] [--older-than-minutes N]`: list (and remove) files
under a table's location that no version of the table refers to (left by killed writers)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("orphans", help="list or remove files no table version refers to", description=__doc__)
    p.add_argument(
        "tables",
        nargs="*",
        metavar="TABLE",
        help="namespace.table (default: every table, and folders of creates that never committed)",
    )
    p.add_argument("--delete", action="store_true", help="remove the orphan files found")
    p.add_argument(
        "--older-than-minutes",
        type=float,
        default=None,
        metavar="N",
        help="only files older than N minutes (default 60: younger ones may be an ingest in flight)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import lakelab
    from lakelab.catalog.orphans import DEFAULT_MINUTES, delete_orphans, find_orphans, stray_folders, table_names

    lh = lakelab.connect()
    minutes = DEFAULT_MINUTES if args.older_than_minutes is None else args.older_than_minutes
    action = delete_orphans if args.delete else find_orphans
    total = count = 0
    for name in args.tables or table_names(lh):
        report = action(lh, name, older_than_minutes=minutes)
        print(repr(report))
        total += report.bytes
        count += report.count
    if not args.tables:  # folders of creates that never committed belong to no table
        for report in stray_folders(lh, older_than_minutes=minutes, delete=args.delete):
            print(repr(report))
            total += report.bytes
            count += report.count
    verb = "removed" if args.delete else "found"
    print(f"{count} orphan file{'s' if count != 1 else ''} {verb} ({total:,} bytes)")
    return 0

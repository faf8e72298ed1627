"""`lakelab datasets [QUERY] [--kind K] [--owner WHO] [--tag T] [--namespace NS] [--json]`

QUERY takes the sidebar's syntax too: `lakelab datasets "delays tag:nyc owner:demo"`."""

from __future__ import annotations

import argparse
import json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "datasets",
        help="find datasets by text, kind, owner or tag",
        description="Search datasets by name, description, tags, owner and column names. The query may "
        "hold filters as in the sidebar: 'delays tag:nyc owner:demo kind:table namespace:demo'.",
    )
    p.add_argument("query", nargs="?", help="words that must all appear, and kind:/owner:/tag:/namespace: filters")
    p.add_argument("--kind", choices=["table", "model", "report"])
    p.add_argument("--owner")
    p.add_argument("--tag")
    p.add_argument("--namespace", help="only this namespace and those below it")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import lakelab
    from lakelab.cli import printable
    from lakelab.datasets.search import search

    found = search(
        lakelab.connect(),
        args.query,
        kind=args.kind,
        owner=args.owner,
        tag=args.tag,
        namespace=args.namespace,
        limit=args.limit,
    )
    if args.json:
        print(json.dumps(list(found), indent=2, default=str))
        return 0
    if not found:
        print("no datasets found")
        return 0
    if found.corrected:
        print(printable(f"no dataset matched {args.query!r}; showing matches for {found.corrected!r}"))
    rows = [
        (
            d["name"],
            d["kind"],
            d["owner"] or "",
            f"{d['row_count']:,}" if d["row_count"] is not None else "",
            ",".join(d["tags"]),
            (d["description"] or "").replace("\n", " ")[:60],
        )
        for d in found
    ]
    head = ("DATASET", "KIND", "OWNER", "ROWS", "TAGS", "DESCRIPTION")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    for r in [head] + rows:
        print(printable("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip()))
    return 0

"""`lakelab sql "SELECT ..."`: run Trino SQL on the configured (or chosen) engine; with `--into TABLE`
write the result to a dataset, as `%%trino --into` does (the same transform code)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("sql", help="run a Trino SQL statement", description=__doc__)
    p.add_argument("query", help="the SQL text ({{ name }} placeholders bind --param values)")
    p.add_argument("--engine", choices=("trino", "duckdb"), default=None, help="default: the configured engine")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("-l", "--limit", type=int, default=None, help="rows to fetch (default: all)")
    p.add_argument("--into", metavar="TABLE", default=None, help="write the result to a dataset")
    p.add_argument("--mode", choices=("create", "append", "overwrite"), default=None, help="with --into")
    p.set_defaults(func=run)


def _text(v: Any) -> str:
    from lakelab.cli import printable  # a value's escape sequences are shown, not acted on

    return "NULL" if v is None else printable(str(v))


def run(args: argparse.Namespace) -> int:
    import lakelab
    from lakelab.errors import InvalidInput
    from lakelab.notebook.display import write_text
    from lakelab.notebook.magics.sql import parse_param
    from lakelab.write.transform import transform

    params = dict(parse_param(p) for p in args.param)
    lh = lakelab.connect()
    if args.mode and not args.into:
        raise InvalidInput("--mode only applies with --into TABLE")
    if args.into:
        if args.limit is not None:
            raise InvalidInput("--into writes every row of the result; it does not combine with --limit")
        report = transform(
            lh, args.into, sql=args.query, mode=args.mode or "create", engine=args.engine, params=params or None
        )
        print(f"{write_text(report)}; engine: {args.engine or lh.config.engine}", file=sys.stderr)
        return 0
    result = lh.sql(args.query, engine=args.engine, params=params or None, limit=args.limit)
    table = result.table
    out = sys.stdout
    if args.format == "csv":
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, out.buffer if hasattr(out, "buffer") else out)
        out.flush()
    elif args.format == "json":
        for row in table.to_pylist():
            out.write(json.dumps(row, default=str) + "\n")
    else:
        rows = [[_text(v) for v in r.values()] for r in table.to_pylist()]
        names = [_text(c) for c in table.column_names]
        widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(names)]
        out.write(" | ".join(c.ljust(w) for c, w in zip(names, widths)) + "\n")
        out.write("-+-".join("-" * w for w in widths) + "\n")
        for r in rows:
            out.write(" | ".join(v.ljust(w) for v, w in zip(r, widths)) + "\n")
        tail = f"({table.num_rows} row{'s' if table.num_rows != 1 else ''}"
        tail += ", more exist beyond -l" if result.has_more else ""
        print(f"{tail}; engine: {result.engine})", file=sys.stderr)
    for line in (result.message, result.note):
        if line:
            print(line, file=sys.stderr)
    return 0

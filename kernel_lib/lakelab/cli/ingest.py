"""`lakelab ingest SOURCE... --into TABLE`."""

from __future__ import annotations

import argparse

from lakelab.io.sources import FORMATS
from lakelab.write.ingest import MODES


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ingest", help="load files (CSV, Parquet, JSON/NDJSON; paths, globs, URLs) into a dataset")
    p.add_argument("source", nargs="+", help="paths, globs, directories or s3:// gs:// file:// URLs")
    p.add_argument("--into", required=True, metavar="TABLE", help="the dataset to write, namespace.table")
    p.add_argument("--mode", default="append", choices=MODES)
    p.add_argument("--key", metavar="COLS", help="key columns for --mode upsert, comma separated")
    p.add_argument("--partition-by", metavar="COLS", help="e.g. region,day(ts) (when the dataset is created)")
    p.add_argument("--format", choices=FORMATS, help="file format when the names do not tell")
    p.add_argument("--evolve", action="store_true", help="add columns the dataset does not have yet")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lakelab import connect

    source = args.source[0] if len(args.source) == 1 else list(args.source)
    report = connect().ingest(
        source,
        args.into,
        mode=args.mode,
        partition_by=args.partition_by,
        key=args.key,
        format=args.format,
        evolve=args.evolve,
        progress=False if args.no_progress else None,
    )
    print(repr(report))
    return 0

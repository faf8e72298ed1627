"""Measure a `lakelab services up` profile: start time and resident memory of each part.

    python scripts/services_footprint.py --catalog rest --storage s3 --trino-workers 1

Runs in a scratch LAKELAB_HOME, stops everything at the end; prints one line per part."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

from lakelab import services


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--catalog", default="sql")
    p.add_argument("--storage", default="local")
    p.add_argument("--trino-workers", type=int, default=0)
    p.add_argument("--s3-impl", default=None)
    p.add_argument("--settle", type=float, default=10.0, help="seconds to wait before reading memory")
    a = p.parse_args(argv)
    home = tempfile.mkdtemp(prefix="lakelab-footprint-")
    t0 = time.monotonic()
    try:
        state = services.up(
            home=home, catalog=a.catalog, storage=a.storage, trino_workers=a.trino_workers, s3_impl=a.s3_impl
        )
        total = time.monotonic() - t0
        time.sleep(a.settle)
        st = services.status(home)
        print(f"profile {a.catalog}/{a.storage}/workers={a.trino_workers}: up in {total:.1f} s")
        for part in st["parts"]:
            rec = state.get(part["name"]) or {}
            print(f"  {part['label']:<40} start {rec.get('startup_s', '-')!s:>6} s   {part['memory_mb']} MB")
    finally:
        services.down(home=home)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

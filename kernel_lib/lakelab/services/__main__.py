"""`python -m lakelab.services fetch [PART ...|all]` (used by scripts/setup.sh): install the
services' programs into the cache (${LAKELAB_CACHE:-~/.cache/lakelab}) from the package
registries, each only if missing; prints how long each took. `fetch` alone = Trino only.
`up|status|down` are the same as `lakelab services ...`."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

from lakelab.errors import LakelabError


def _parts() -> dict[str, Callable[[], Path]]:
    from lakelab.services import objectstore, rest_catalog, trino_server

    return {
        "trino": trino_server.install,
        "versitygw": lambda: objectstore.install_s3("versitygw"),
        "s3proxy": lambda: objectstore.install_s3("s3proxy"),
        "fake-gcs-server": objectstore.install_gcs,
        "iceberg-rest": rest_catalog.install_iceberg_rest,
        "nessie": rest_catalog.install_nessie,
    }


def fetch(names: list[str]) -> int:
    parts = _parts()
    names = list(parts) if names in (["all"], ["--all"]) else names or ["trino"]
    unknown = [n for n in names if n not in parts]
    if unknown:
        print(f"lakelab: error: unknown part(s) {unknown}; choose from {', '.join(parts)} or all", file=sys.stderr)
        return 2
    for name in names:
        t0 = time.monotonic()
        try:
            where = parts[name]()
        except LakelabError as e:
            print(f"lakelab: error: {name}: {e}", file=sys.stderr)
            return 2
        print(f"{name}: ready in {where} ({time.monotonic() - t0:.1f} s)", flush=True)
    return 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["fetch"]:
        return fetch(argv[1:])
    from lakelab.cli import main as cli

    return cli(["services", *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

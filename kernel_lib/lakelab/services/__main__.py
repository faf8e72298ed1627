"""`python -m lakelab.services fetch` (used by scripts/setup.sh): download and unpack Trino
into the cache; `up|status|down` are the same as `lakelab services ...`."""

from __future__ import annotations

import sys

from lakelab.errors import LakelabError


def main(argv: list[str]) -> int:
    if argv[:1] == ["fetch"]:
        from lakelab.services.trino_server import install

        try:
            print(f"Trino is ready in {install()}")
        except LakelabError as e:
            print(f"lakelab: error: {e}", file=sys.stderr)
            return 2
        return 0
    from lakelab.cli import main as cli

    return cli(["services", *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The `lakelab` command. Each command family registers itself from its own module."""

from __future__ import annotations

import argparse
import importlib
import re
import sys

from lakelab.errors import LakelabError

# modules under lakelab.cli, each with register(subparsers) adding parsers whose
# `func(args) -> int` does the work
COMMANDS = ["lab", "sql", "ingest", "demo", "doctor", "services", "workspace", "datasets", "orphans", "dashboards"]


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """Text safe to print on a terminal: control characters (escape sequences a file name,
    a description or a value may carry) shown as \\xNN instead of acted on."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lakelab", description="lakelab: a notebook-first lakehouse toolkit")
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            mod = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name and e.name.startswith(f"{__name__}."):
                continue  # family not built yet
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:  # only `lakelab lab` passes unknown options on (to jupyter lab)
        if not hasattr(args, "jupyter_args"):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.jupyter_args = [*args.jupyter_args, *extra]
    if args.version:
        from lakelab import __version__

        print(__version__)
        return 0
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except LakelabError as e:
        print(f"lakelab: error: {printable(str(e))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lakelab: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""`lakelab doctor`."""

from __future__ import annotations

import argparse
import json

from lakelab.services.doctor import run_checks


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("doctor", help="report what is configured, what is reachable and what is wrong")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    checks = run_checks()
    if args.json:
        print(json.dumps([c.__dict__ for c in checks], indent=2))
    else:
        for c in checks:
            print(c.line())
        bad = [c for c in checks if not c.ok]
        print(f"\n{len(bad)} problem(s) found." if bad else "\nall good.")
    return 1 if any(not c.ok for c in checks) else 0

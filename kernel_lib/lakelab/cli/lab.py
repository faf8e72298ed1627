"""`lakelab lab`: JupyterLab on the configured lakehouse, demo datasets seeded, the tutorial open.

The URL JupyterLab prints is the tutorial's (`--LabApp.default_url`), so opening it by hand
(a remote machine, a container) lands where `--browser` would; the Lakehouse sidebar shows
on a first start (ui/src/index.ts).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from importlib import resources
from pathlib import Path
from urllib.parse import quote

from lakelab.lakehouse import connect


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("lab", help="start JupyterLab on the configured lakehouse (seeds the demo on first run)")
    p.add_argument("--workspace", metavar="NAME", help="also bring up (or re-use) a Ray workspace with this name")
    p.add_argument("--no-demo", action="store_true", help="do not seed the demo datasets")
    p.add_argument("--root-dir", help="notebook directory (default: $LAKELAB_HOME/notebooks with the tutorial)")
    p.add_argument("jupyter_args", nargs=argparse.REMAINDER, help="further arguments for `jupyter lab`")
    p.set_defaults(func=run)


def tutorial_source() -> Path:
    return Path(str(resources.files("lakelab") / "notebook" / "tutorial.ipynb"))


def prepare(args: argparse.Namespace) -> tuple[Path, str | None]:
    """Seed what is missing and return (root dir, the notebook to open, relative to it)."""
    lh = connect()
    if not args.no_demo and not lh.catalog.table_exists(("demo", "flights")):
        from lakelab.datasets.demo import seed

        print("first run: seeding the demo datasets")
        seed(lh)
    if args.workspace:
        from lakelab.workspaces.client import Workspace

        ws = Workspace(args.workspace)
        print(f"workspace {args.workspace}: {ws.up().get('state')}")
    if args.root_dir:
        return Path(args.root_dir).resolve(), None
    root = lh.config.home / "notebooks"
    root.mkdir(parents=True, exist_ok=True)
    target = root / "tutorial.ipynb"
    if not target.exists():
        shutil.copyfile(tutorial_source(), target)
    return root, target.name


def lab_url(notebook: str | None, extra: list[str]) -> list[str]:
    """The option that makes the printed URL (and the browser) open `notebook`, unless the
    caller chose a default URL of their own."""
    if notebook is None or any(a.startswith("--LabApp.default_url") for a in extra):
        return []
    return [f"--LabApp.default_url=/lab/tree/{quote(notebook)}"]


def run(args: argparse.Namespace) -> int:
    root, notebook = prepare(args)
    extra = [a for a in args.jupyter_args if a != "--"]
    if os.geteuid() == 0 and "--allow-root" not in extra:  # containers and CI run as root
        extra.append("--allow-root")
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}", *lab_url(notebook, extra), *extra]
    print("starting:", " ".join(cmd[2:]))
    os.execv(sys.executable, cmd)
    return 0  # not reached

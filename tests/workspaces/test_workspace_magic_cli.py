"""%workspace in a real IPython shell and `lakelab workspace` as a user runs it: listing,
help and mistakes (no cluster needed), then one real workspace up/status/down by the CLI."""

from __future__ import annotations

import html
import os
import subprocess
import sys

import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from lakelab.notebook.magics import MagicError
from lakelab.workspaces import WorkspaceManager
from lakelab.workspaces.backends.local import group_pids


@pytest.fixture
def shell(lakelab_home):
    sh = InteractiveShell.instance()
    sh.run_line_magic("load_ext", "lakelab")
    yield sh
    sh.reset()
    InteractiveShell.clear_instance()


def shown(out) -> str:
    return html.unescape(out.stdout + out.stderr + "".join(str(o.data) for o in out.outputs))


def cli(*args: str, home, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["LAKELAB_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "lakelab", "workspace", *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def test_workspace_list_magic_says_how_to_create_one(shell):
    listing = shell.run_line_magic("workspace", "list")
    assert listing == [] and "%workspace up NAME" in listing._repr_html_()


@pytest.mark.parametrize(
    "line, words",
    [
        ("", "usage: %workspace"),
        ("launch team", "invalid choice"),
        ("up Bad-Name", "workspace name"),
        ("up team --workers 99", "over the limit"),
        ("up team --gpus 1", "unrecognized arguments"),
        ("status ghost", "'ghost' does not exist"),
        ("connect ghost", "'ghost' does not exist"),
        ("down ghost", "'ghost' does not exist"),
        ("scale ghost", "needs --workers"),
        ("status", "needs a NAME"),
        ("status team --cpus 2", "--cpus applies to %workspace up only"),
    ],
)
def test_workspace_magic_mistakes_are_one_line_without_traceback(shell, line, words):
    with capture_output() as out:
        result = shell.run_cell(f"%workspace {line}")
    assert isinstance(result.error_in_exec, MagicError)  # the cell fails
    text = shown(out)
    assert "Traceback" not in text and words in text and text.strip().count("\n") == 0, text
    assert WorkspaceManager().store.names() == []


def test_cli_list_and_unknown_workspace(lakelab_home):
    listing = cli("list", home=lakelab_home)
    assert listing.returncode == 0 and "no workspaces" in listing.stdout
    missing = cli("status", "ghost", home=lakelab_home)
    assert missing.returncode == 2 and "'ghost' does not exist" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad = cli("up", "Bad-Name", home=lakelab_home)
    assert bad.returncode == 2 and "workspace name" in bad.stderr and "Traceback" not in bad.stderr


@pytest.mark.ray
def test_cli_up_status_down_leaves_no_process(lakelab_home):
    try:
        up = cli("up", "shell_ws", home=lakelab_home)
        assert up.returncode == 0, up.stderr
        assert "workspace shell_ws is running" in up.stdout
        head = WorkspaceManager().store.load("shell_ws").head.pid
        assert group_pids(head)  # still running after the command returned
        status = cli("status", "shell_ws", home=lakelab_home)
        assert "nodes 1, CPUs 1" in status.stdout, status.stdout + status.stderr
        listing = cli("list", home=lakelab_home)
        assert "shell_ws" in listing.stdout and "running" in listing.stdout
        down = cli("down", "shell_ws", home=lakelab_home)
        assert down.returncode == 0 and "stopped" in down.stdout
        assert group_pids(head) == []
    finally:
        mgr = WorkspaceManager()
        for name in mgr.store.names():
            mgr.stop(name)

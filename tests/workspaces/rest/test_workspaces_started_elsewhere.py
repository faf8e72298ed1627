"""A cluster started from the CLI (another process, as a terminal user does) shows in the
server's workspace list (what the panel draws) and in `%workspace list` in a kernel."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from IPython.core.interactiveshell import InteractiveShell
from tornado.httpclient import HTTPClientError

from lakelab.workspaces import WorkspaceManager

pytestmark = pytest.mark.ray


async def test_a_cli_started_workspace_shows_in_the_panel_list_and_the_magic(jp_fetch, lakelab_home):
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_")}
    env["LAKELAB_HOME"] = str(lakelab_home)
    mgr = WorkspaceManager(root=lakelab_home / "workspaces")
    try:
        up = subprocess.run(
            [sys.executable, "-m", "lakelab", "workspace", "up", "from_cli"],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert up.returncode == 0, up.stderr
        try:
            resp = await jp_fetch("lakelab", "api", "v1", "workspaces", method="GET")
        except HTTPClientError as e:
            raise AssertionError(e.response.body) from None
        listed = {w["name"]: w["state"] for w in json.loads(resp.body)["workspaces"]}
        assert listed == {"from_cli": "running"}

        shell = InteractiveShell.instance()
        try:
            shell.run_line_magic("load_ext", "lakelab")
            listing = shell.run_line_magic("workspace", "list")
            assert [(w["name"], w["state"]) for w in listing] == [("from_cli", "running")]
            assert "from_cli" in listing._repr_html_()
        finally:
            shell.reset()
            InteractiveShell.clear_instance()
    finally:
        for name in mgr.store.names():
            mgr.stop(name)

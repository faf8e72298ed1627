"""A real Jupyter server (pytest-jupyter) with lakelab_server loaded, under pytest-jupyter's
non-root base_url (/a%40b/), whose workspaces live in the test's $LAKELAB_HOME."""

from __future__ import annotations

import pytest

# pytest-jupyter's fixtures and async hooks, for this folder only
from pytest_jupyter.jupyter_server import *  # noqa: F403

from lakelab.config import save_config


@pytest.fixture
def jp_server_config(lakelab_home):
    save_config({"workspaces": {"backend": "local", "max_workers": 1, "max_cpus_per_node": 1, "idle_timeout_s": 3600}})
    return {"ServerApp": {"jpserver_extensions": {"lakelab_server": True}}}

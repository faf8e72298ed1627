"""pytest-jupyter's fixtures and async-test hooks for the server test on object storage only
(its autouse fixtures would otherwise reach every services test)."""

from __future__ import annotations

from pytest_jupyter.jupyter_server import *  # noqa: F403

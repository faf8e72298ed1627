"""openapi.yaml is a valid OpenAPI document and describes exactly the routes the server adds."""

from __future__ import annotations

import re

from openapi_spec_validator import validate

from lakelab_server.app import _core_routes

from .conftest import SPEC


def _template(regex: str) -> str:
    return "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", regex)


def test_the_openapi_document_is_valid():
    validate(SPEC)


def test_every_route_is_documented_and_every_documented_route_exists():
    from lakelab_server.handlers import workspaces

    core = {_template(path) for path, *_ in _core_routes()}
    ws = {_template(path) for path, *_ in workspaces.ROUTES} - {"/workspaces/{name}/dashboard"}  # a redirect
    assert core | ws == set(SPEC["paths"])

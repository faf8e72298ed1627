"""openapi.yaml is a valid OpenAPI document and describes exactly the routes a running server
registers, method for method (the one route check: the auth sweep in
tests/reliability/test_auth_sweep.py walks these same routes)."""

from __future__ import annotations

import re

import pytest
from openapi_spec_validator import validate
from tornado import web

from lakelab_server.app import API_PREFIX
from lakelab_server.handlers.base import UnknownRouteHandler

from .conftest import SPEC

METHODS = ("get", "post", "put", "patch", "delete")  # OPTIONS is Jupyter's unauthenticated CORS preflight


def served_routes(web_app: web.Application, base_url: str) -> dict[str, set[str]]:
    """{route template under the API prefix: the methods its handler answers}, read from the
    server's own routing table."""
    prefix = re.escape(f"{base_url}{API_PREFIX}/")
    out: dict[str, set[str]] = {}
    for host_rule in web_app.default_router.rules:
        for rule in getattr(host_rule.target, "rules", []):
            pattern, handler = rule.matcher.regex.pattern, rule.target
            if not re.match(prefix, pattern) or handler is UnknownRouteHandler:
                continue
            path = re.sub(prefix, "/", pattern, count=1).removesuffix("$").removesuffix("/?")
            template = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", path)
            out[template] = {
                m
                for m in METHODS
                if m.upper() in handler.SUPPORTED_METHODS and getattr(handler, m) is not getattr(web.RequestHandler, m)
            }
    return out


def test_the_openapi_document_is_valid():
    validate(SPEC)


@pytest.mark.parametrize("house", ["sqlite"], indirect=True)
def test_the_served_routes_are_exactly_the_documented_ones_method_for_method(house, jp_serverapp, jp_base_url):
    served = served_routes(jp_serverapp.web_app, jp_base_url)
    documented = {path: {m for m in ops if m in METHODS} for path, ops in SPEC["paths"].items()}
    assert served == documented
    assert {"/datasets/{name}/versions/{version}/report", "/workspaces/{name}/dashboard/{path}"} <= set(served)

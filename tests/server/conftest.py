"""Server tests: a real Jupyter server (pytest-jupyter) with lakelab_server loaded, on a
real catalog - the embedded SQLite one and one on a real PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest
import yaml
from jsonschema import Draft202012Validator

# pytest-jupyter's fixtures and async-test hooks, for this folder only (a top-level
# pytest_plugins would put its autouse fixtures on every test of the suite)
from pytest_jupyter.jupyter_server import *  # noqa: F403

import lakelab
from lakelab.config import save_config

SPEC_PATH = Path(__file__).parents[2] / "server" / "lakelab_server" / "openapi.yaml"
SPEC = yaml.safe_load(SPEC_PATH.read_text())
API = "lakelab/api/v1"


@pytest.fixture(params=["sqlite", "postgres"])
def house(request, lakelab_home) -> lakelab.Lakehouse:
    """The lakehouse the server will open: its config is written to $LAKELAB_HOME so the
    server (built at extension load) finds the same catalog."""
    if request.param == "sqlite":
        return request.getfixturevalue("lh")
    pg = request.getfixturevalue("pg_lh")
    save_config({"catalog": dict(pg.config.catalog)})
    return pg


@pytest.fixture
def jp_server_config(house):
    return {
        "ServerApp": {"jpserver_extensions": {"lakelab_server": True}},
        "LakelabSettings": {"preview_max_rows": 500},
    }


def _spec_schema(path: str, method: str, status: int) -> dict | None:
    op = SPEC["paths"][path][method]
    resp = op["responses"].get(str(status))
    if resp is None:
        raise AssertionError(f"{method.upper()} {path} answered {status}, which openapi.yaml does not document")
    if "$ref" in resp:
        resp = SPEC["components"]["responses"][resp["$ref"].rsplit("/", 1)[1]]
    return resp["content"]["application/json"]["schema"]


def check_spec(path: str, method: str, status: int, body: dict) -> None:
    """Validate a response body against openapi.yaml's schema for that route and status."""
    schema = {**_spec_schema(path, method, status), "components": SPEC["components"]}
    errors = sorted(Draft202012Validator(schema).iter_errors(body), key=str)
    assert not errors, f"{method.upper()} {path} {status} does not match openapi.yaml: {errors[0].message}"


@pytest.fixture
def api(jp_fetch):
    """Call the API and check the answer against openapi.yaml: returns (status, body)."""

    async def call(
        spec_path: str, method: str = "GET", body=None, params=None, headers=None, **path_params: str
    ) -> tuple[int, dict]:
        parts = [path_params.get(p[1:-1], p) for p in spec_path.strip("/").split("/")]
        kwargs = {"method": method, "raise_error": False, "params": params or {}}
        if headers:
            kwargs["headers"] = headers
        if body is not None:
            kwargs["body"] = json.dumps(body)
        r = await jp_fetch(API, *parts, **kwargs)
        data = json.loads(r.body)
        check_spec(spec_path, method.lower(), r.code, data)
        return r.code, data

    return call


def seed(house: lakelab.Lakehouse) -> None:
    """Datasets with metadata, nested namespaces, two snapshots and a lineage chain."""
    house.publish(
        pa.table({"carrier": ["AA", "UA", "DL"], "delay_min": [5, 10, -2]}),
        "demo.flights",
        description="Flight delays by carrier",
        owner="alice",
        tags="aviation,raw",
    )
    house.publish(
        pa.table({"carrier": ["AA"], "delay_min": [7]}),
        "demo.flights",
        mode="append",
        description="Flight delays by carrier",
        owner="alice",
        tags="aviation,raw",
    )
    house.publish(
        "demo.flights", "demo.flights_clean", description="Cleaned flights", owner="bob", tags=["aviation", "gold"]
    )
    house.publish(
        pa.table({"species": ["Adelie"], "bill_mm": [39.1]}),
        "zoo.birds.penguins",
        description="Palmer penguins",
        owner="carol",
        tags="biology",
    )

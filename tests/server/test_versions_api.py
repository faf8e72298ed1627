"""Models and reports through the REST API: kind and versions in the detail, the versions
route, and reports served as HTML for a sandboxed frame."""

from __future__ import annotations

import json

import nbformat
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.linear_model import LogisticRegression
from tornado.httpclient import HTTPClientError

from lakelab.write.publish import publish

from .conftest import API, check_spec

SANDBOX = (
    "sandbox allow-scripts; default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'"
)


def seed_models(house, tmp_path) -> None:
    house.publish(pa.table({"x": [1.0, 2.0, 3.0, 4.0], "y": [0, 0, 1, 1]}), "demo.points")
    model = LogisticRegression().fit([[1.0], [2.0], [3.0], [4.0]], [0, 0, 1, 1])
    publish(house, model, "ml.points", kind="model", inputs=["demo.points"], owner="ana")
    publish(house, model, "ml.points", kind="model", inputs=["demo.points"])
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Points report <script>alert(1)</script>")]
    nbformat.write(nb, str(tmp_path / "points.ipynb"))
    publish(house, str(tmp_path / "points.ipynb"), "reports.points", kind="report", inputs=["ml.points"])
    publish(house, pd.DataFrame({"accuracy": [0.97]}), "reports.points", kind="report", inputs=["ml.points"])


async def test_a_model_detail_has_its_kind_and_versions_and_the_versions_route_lists_them(house, api, tmp_path):
    seed_models(house, tmp_path)
    status, detail = await api("/datasets/{name}", name="ml.points")
    assert status == 200 and detail["kind"] == "model" and detail["owner"] == "ana"
    assert [v["version"] for v in detail["versions"]] == [1, 2]
    status, listed = await api("/datasets/{name}/versions", name="ml.points")
    assert status == 200 and listed["versions"] == detail["versions"]
    inputs = listed["versions"][0]["metadata"]["inputs"]
    assert inputs[0]["table"] == "demo.points" and isinstance(inputs[0]["snapshot_id"], str)  # 64-bit ids as text
    status, table = await api("/datasets/{name}", name="demo.points")
    assert "versions" not in table
    status, err = await api("/datasets/{name}/versions", name="demo.points")
    assert status == 400 and "is a table, not a model or report" in err["error"]["message"]
    status, found = await api("/search", params={"kind": "report"})
    assert [d["name"] for d in found["datasets"]] == ["reports.points"]
    status, graph = await api("/datasets/{name}/lineage", name="reports.points", params={"depth": "3"})
    assert {n["id"] for n in graph["nodes"] if n["type"] == "dataset"} == {"reports.points", "ml.points", "demo.points"}


@pytest.mark.parametrize("house", ["sqlite"], indirect=True)
async def test_a_report_is_served_as_sandboxed_html(house, jp_fetch, tmp_path):
    seed_models(house, tmp_path)
    r = await jp_fetch(API, "datasets", "reports.points", "versions", "1", "report")
    assert r.code == 200 and r.headers["Content-Type"].startswith("text/html")
    csp = r.headers["Content-Security-Policy"]
    assert csp.startswith(SANDBOX) and "frame-ancestors 'self'" in csp
    assert "allow-same-origin" not in csp  # the page never shares Jupyter's origin
    body = r.body.decode()
    assert "Points report" in body and "<!DOCTYPE html>" in body
    r2 = await jp_fetch(API, "datasets", "reports.points", "versions", "2", "report")
    assert "accuracy" in r2.body.decode()


@pytest.mark.parametrize("house", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    "route, status, message",
    [
        ("datasets/reports.points/versions/9/report", 404, "has no version 9"),
        ("datasets/reports.points/versions/one/report", 400, "version must be a whole number"),
        ("datasets/ml.points/versions/1/report", 400, "is a model, not a report"),
        ("datasets/nope.nothing/versions", 404, "does not exist"),
    ],
)
async def test_bad_report_requests_get_json_errors(house, jp_fetch, tmp_path, route, status, message):
    seed_models(house, tmp_path)
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch(API, *route.split("/"))
    assert e.value.code == status
    body = json.loads(e.value.response.body)
    check_spec(
        "/datasets/{name}/versions/{version}/report" if route.endswith("report") else "/datasets/{name}/versions",
        "get",
        status,
        body,
    )
    assert message in body["error"]["message"]


@pytest.mark.parametrize("house", ["sqlite"], indirect=True)
async def test_a_tampered_report_is_refused_with_a_conflict(house, jp_fetch, tmp_path):
    from pathlib import Path
    from urllib.parse import urlparse

    seed_models(house, tmp_path)
    uri = house.dataset("reports.points").versions()[1].uri
    Path(urlparse(uri).path).write_text("<script>steal()</script>")
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch(API, "datasets", "reports.points", "versions", "2", "report")
    body = json.loads(e.value.response.body)
    assert e.value.code == 409 and body["error"]["code"] == "integrity_error"
    assert "checksum mismatch in version 2 of reports.points" in body["error"]["message"]


@pytest.mark.parametrize("house", ["sqlite"], indirect=True)
async def test_the_version_routes_refuse_unauthenticated_calls(house, jp_fetch, tmp_path):
    seed_models(house, tmp_path)
    for route in ("datasets/ml.points/versions", "datasets/reports.points/versions/1/report"):
        with pytest.raises(HTTPClientError) as e:
            await jp_fetch(API, *route.split("/"), headers={"Authorization": ""})
        assert e.value.code in (401, 403), route
        assert "Points report" not in e.value.response.body.decode()

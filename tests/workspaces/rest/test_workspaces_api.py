"""REST for workspaces through a real Jupyter server (jp_fetch), bad input as JSON 4xx, and
one real workspace driven end to end: create, status, dashboard proxy, logs, scale, delete,
and the server's own shutdown stopping what is left."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import psutil
import pytest
import yaml
from jsonschema import Draft202012Validator
from tornado.httpclient import AsyncHTTPClient, HTTPClientError

import lakelab_server
from lakelab.workspaces import WorkspaceManager
from lakelab.workspaces.backends.local import group_pids

API = ("lakelab", "api", "v1", "workspaces")
SPEC = yaml.safe_load((Path(lakelab_server.__file__).parent / "openapi.yaml").read_text())


def check_schema(name: str, value) -> None:
    """`value` matches components/schemas/NAME of openapi.yaml."""
    Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": SPEC["components"]}).validate(value)


async def call(jp_fetch, *path, method="GET", body=None, **kw):
    kwargs = {"method": method, "request_timeout": 300, **kw}  # a create waits for the cluster
    if body is not None:
        kwargs["body"] = json.dumps(body) if not isinstance(body, (str, bytes)) else body
    try:
        resp = await jp_fetch(*API, *path, **kwargs)
    except HTTPClientError as e:
        return e.code, json.loads(e.response.body)
    ctype = resp.headers.get("Content-Type", "")
    return resp.code, (json.loads(resp.body) if "json" in ctype else resp.body)


async def test_listing_shows_no_workspaces_and_the_limits(jp_fetch):
    code, body = await call(jp_fetch)
    assert code == 200
    assert body["workspaces"] == []
    check_schema("WorkspaceList", body)
    assert body["limits"]["max_workers"] == 1 and body["limits"]["backend"] == "local"


@pytest.mark.parametrize(
    "body, status, code, words",
    [
        ({"name": "Bad-Name"}, 400, "invalid_input", "workspace name"),
        ({"name": "ok", "workers": 5}, 400, "invalid_input", "over the limit of 1"),
        ({"name": "ok", "cpus": 8}, 400, "invalid_input", "over the limit of 1"),
        ({"workers": 1}, 400, "invalid_input", "name is required"),
        ({"name": "ok", "gpus": 1}, 400, "invalid_input", "unknown field"),
        ("not json", 400, "invalid_input", "not valid JSON"),
    ],
)
async def test_bad_create_requests_get_a_clear_4xx(jp_fetch, body, status, code, words):
    got, err = await call(jp_fetch, method="POST", body=body)
    assert got == status
    check_schema("Error", err)
    assert err["error"]["code"] == code and words in err["error"]["message"]


@pytest.mark.parametrize(
    "path, method, body",
    [
        (("ghost",), "GET", None),
        (("ghost",), "DELETE", None),
        (("ghost", "scale"), "POST", {"workers": 1}),
        (("ghost", "logs"), "GET", None),
        (("ghost", "dashboard/"), "GET", None),
    ],
)
async def test_unknown_workspace_is_a_404(jp_fetch, path, method, body):
    got, err = await call(jp_fetch, *path, method=method, body=body)
    assert got == 404 and err["error"]["code"] == "not_found" and "'ghost'" in err["error"]["message"]


async def test_requests_without_credentials_are_refused(jp_fetch):
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch(*API, headers={"Authorization": ""})
    assert e.value.code in (401, 403)


@pytest.mark.ray
async def test_workspace_lifecycle_through_rest_and_dashboard_proxy(jp_fetch, jp_serverapp, lakelab_home):
    mgr = WorkspaceManager(root=lakelab_home / "workspaces")
    try:
        code, rec = await call(jp_fetch, method="POST", body={"name": "web", "cpus": 1, "workers": 0})
        assert code == 201, rec
        assert rec["state"] == "running" and rec["has_dashboard"]
        check_schema("Workspace", rec)
        token = mgr.store.token("web")

        code, st = await call(jp_fetch, "web")
        assert code == 200 and st["cluster"]["node_count"] == 1 and st["cluster"]["cpus"] == 1
        check_schema("WorkspaceStatus", st)

        code, listing = await call(jp_fetch)
        assert [w["name"] for w in listing["workspaces"]] == ["web"]
        check_schema("WorkspaceList", listing)

        # the dashboard through the proxy: the server adds the token, the browser never has it
        code, page = await call(jp_fetch, "web", "dashboard/")
        assert code == 200 and b"<html" in page.lower() and token.encode() not in page
        # its relative asset links resolve through the proxy under the base_url, as a page
        script = re.search(rb'src="\./(static/js/[^"]+\.js)"', page).group(1).decode()
        asset = await jp_fetch(*API, "web", "dashboard", *script.split("/"), request_timeout=60)
        assert asset.code == 200 and "javascript" in asset.headers["Content-Type"]
        html_page = await jp_fetch(*API, "web", "dashboard/", request_timeout=60)
        assert html_page.headers["Content-Type"].startswith("text/html")
        assert "default-src 'none'" not in html_page.headers.get("Content-Security-Policy", "")
        code, version = await call(jp_fetch, "web", "dashboard", "api", "version")
        assert code == 200 and version["ray_version"].startswith("2.")
        with pytest.raises(HTTPClientError) as redirect:
            await jp_fetch(*API, "web", "dashboard", follow_redirects=False)
        assert redirect.value.code == 302
        assert redirect.value.response.headers["Location"].endswith("/a%40b/lakelab/api/v1/workspaces/web/dashboard/")

        code, logs = await call(jp_fetch, "web", "logs", params={"lines": 5})
        assert code == 200 and 0 < len(logs["lines"]) <= 5
        assert all(token not in line for line in logs["lines"])

        code, err = await call(jp_fetch, "web", "scale", method="POST", body={"workers": 3})
        assert code == 400 and "over the limit" in err["error"]["message"]
        code, err = await call(jp_fetch, method="POST", body={"name": "web"})
        assert code == 409 and err["error"]["code"] == "conflict"

        pids = mgr.processes("web")
        code, gone = await call(jp_fetch, "web", method="DELETE")
        assert code == 200 and gone["state"] == "stopped"
        assert [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != "zombie"] == []
        code, _ = await call(jp_fetch, "web")
        assert code == 404
    finally:
        for name in mgr.store.names():
            mgr.stop(name)


@pytest.mark.ray
async def test_the_dashboard_proxy_serves_get_post_and_a_websocket_of_a_real_ray_dashboard(
    jp_fetch, jp_ws_fetch, lakelab_home
):
    """Ray's dashboard needs its token on every call; through the proxy a Jupyter user lists
    jobs (GET), submits one (POST) and tails its log over a websocket, never holding the token."""
    mgr = WorkspaceManager(root=lakelab_home / "workspaces")
    try:
        code, rec = await call(jp_fetch, method="POST", body={"name": "dash", "cpus": 1, "workers": 0})
        assert code == 201, rec
        url, _token = mgr.dashboard("dash")
        direct = await AsyncHTTPClient().fetch(f"{url}/api/jobs/", raise_error=False)
        assert direct.code == 401  # without the token Ray refuses: the proxy is what adds it

        code, jobs = await call(jp_fetch, "dash", "dashboard", "api", "jobs/")
        assert code == 200 and jobs == []
        # a job that keeps printing until it is stopped, so its log is tailed while it runs
        entrypoint = "for i in $(seq 1 300); do echo lakelab-proxied-job; sleep 1; done"
        code, job = await call(
            jp_fetch, "dash", "dashboard", "api", "jobs/", method="POST", body={"entrypoint": entrypoint}
        )
        assert code == 200 and job["submission_id"], job
        jid = job["submission_id"]

        ws = await jp_ws_fetch(*API, "dash", "dashboard", "api", "jobs", jid, "logs", "tail")
        text = ""
        try:
            while "lakelab-proxied-job" not in text:
                # a guard against a hung job, not a timing assertion
                message = await asyncio.wait_for(ws.read_message(), timeout=300)
                if message is None:
                    break  # Ray closed the tail: the job ended
                text += message
        finally:
            ws.close()
        code, status = await call(jp_fetch, "dash", "dashboard", "api", "jobs", jid)
        assert "lakelab-proxied-job" in text, json.dumps(status)[:300]
        code, stopped = await call(jp_fetch, "dash", "dashboard", "api", "jobs", jid, "stop", method="POST", body="")
        assert code == 200 and stopped["stopped"] is True
    finally:
        for name in mgr.store.names():
            mgr.stop(name)


@pytest.mark.ray
async def test_stopping_the_server_stops_its_workspaces(jp_fetch, jp_serverapp, lakelab_home):
    mgr = WorkspaceManager(root=lakelab_home / "workspaces")
    try:
        code, rec = await call(jp_fetch, method="POST", body={"name": "left", "cpus": 1})
        assert code == 201, rec
        head = mgr.store.load("left").head.pid
        await jp_serverapp._cleanup()  # what the server runs when it is stopped: our stop_extension
        assert group_pids(head) == []
        assert mgr.get("left").state == "stopped"
        assert "server" in mgr.get("left").message
    finally:
        for name in mgr.store.names():
            mgr.stop(name)

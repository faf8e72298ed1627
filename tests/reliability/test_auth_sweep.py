"""Auth sweep over a real `jupyter server` (issue 8, point 4): over the server's own route
table (`lakelab_server.app.routes()`, which tests/server/test_openapi.py checks against
openapi.yaml method for method), every (route, method) refuses a call with no credentials,
every write refuses a logged-in browser call without XSRF, and neither changes anything. With one real Ray
workspace running: the dashboard proxy never shows its token (headers, bodies, redirects,
proxied 4xx/5xx), and no Ray process carries it on its command line or in its environment.
The secret-scan plugin (tests/secret_scan.py) is checked on a small session of its own."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pyarrow as pa
import pytest
from tornado import web

import lakelab
import secret_scan
from lakelab.config import load_config, save_config
from lakelab.workspaces.backends.local import group_pids
from lakelab.workspaces.state import Store
from lakelab_server.app import routes

sys.path.insert(0, str(Path(__file__).parents[1] / "workspaces"))
from workspace_helpers import HoldingDriver, LiveServer, kill_leftovers, ours

TOKEN = "auth-sweep-jupyter-token-0123456789"
METHODS = ("get", "post", "put", "patch", "delete")  # OPTIONS is Jupyter's unauthenticated CORS preflight
WRITES = {"post", "put", "patch", "delete"}
WS = "web"
# a body per write that would change something if it got through
BODIES = {
    ("/datasets/{name}/metadata", "patch"): {"owner": "mallory", "description": "defaced"},
    ("/workspaces", "post"): {"name": "intruder", "cpus": 1},
    ("/workspaces/{name}/scale", "post"): {"workers": 1},
    ("/workspaces/{name}/dashboard/{path}", "post"): {"entrypoint": "echo pwned"},
}
SAMPLE = {"namespace": "demo", "version": "1", "path": "api/jobs/"}


def template(regex: str) -> str:
    return "/" + re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", regex)


def registered() -> dict[str, set[str]]:
    """{route template: methods its handler implements}, as the server registers them."""
    out = {}
    for path, handler, *_ in routes():
        out[template(path)] = {
            m
            for m in METHODS
            if m.upper() in handler.SUPPORTED_METHODS and getattr(handler, m) is not getattr(web.RequestHandler, m)
        }
    return out


def url(route: str, name: str | None = None) -> str:
    name = name or (WS if route.startswith("/workspaces") else "demo.flights")
    return route.lstrip("/").format(name=name, **SAMPLE)


def is_json_error(body: bytes) -> bool:
    try:
        err = json.loads(body)["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return isinstance(err.get("code"), str) and isinstance(err.get("message"), str) and bool(err["message"])


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("auth_sweep")
    home = tmp / "lakelab_home"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAKELAB_HOME", str(home))
        save_config(
            {
                "workspaces": {
                    "backend": "local",
                    "max_workers": 1,
                    "max_cpus_per_node": 1,
                    "idle_timeout_s": 3600,
                    "object_store_mb": 128,
                }
            }
        )
        house = lakelab.Lakehouse(load_config())
        house.publish(
            pa.table({"carrier": ["AA", "UA"], "delay_min": [5, 10]}),
            "demo.flights",
            description="Flight delays",
            owner="alice",
            tags="aviation",
        )
        house.close()
    srv = LiveServer(home, tmp, TOKEN)
    print(f"jupyter server ready in {srv.start_s:.1f} s")
    yield srv, home
    srv.stop()
    kill_leftovers(home / "workspaces")


@pytest.fixture(scope="module")
def running(server):
    """One real workspace (head only, 1 CPU), created through REST; stopped at the end."""
    srv, home = server
    started = time.monotonic()
    code, _, body = srv.call("POST", "workspaces", {"name": WS, "cpus": 1, "workers": 0})
    assert code == 201, body
    print(f"workspace {WS} running in {time.monotonic() - started:.1f} s")
    store = Store(home / "workspaces")
    rec, token = store.load(WS), store.token(WS)
    secret_scan.register(token, "Ray workspace token")
    yield rec, token
    srv.call("DELETE", f"workspaces/{WS}")
    assert ours([rec.temp_dir]) == [] and group_pids(rec.head.pid) == []


def state(srv: LiveServer, home: Path) -> dict:
    """What a user could see change: the dataset's metadata file and properties, the
    workspace list and the running workspace's record."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LAKELAB_HOME", str(home))
        house = lakelab.Lakehouse(load_config())
        table = house.dataset("demo.flights").table
        out = {"metadata": table.metadata_location, "properties": dict(table.properties)}
        house.close()
    code, _, body = srv.call("GET", "workspaces")
    assert code == 200
    out["workspaces"] = sorted((w["name"], w["state"], w["workers"]) for w in json.loads(body)["workspaces"])
    store = Store(home / "workspaces")
    out["records"] = {
        n: (store.load(n).head.pid if store.load(n).head else None, len(store.load(n).nodes)) for n in store.names()
    }
    return out


def test_every_route_and_method_refuses_a_call_without_credentials(server, running):
    srv, home = server
    before = state(srv, home)
    calls = [(route, m) for route, methods in registered().items() for m in sorted(methods)]
    for route, method in calls:
        body = BODIES.get((route, method), {} if method in WRITES else None)
        code, headers, reply = srv.call(method.upper(), url(route), body, auth=False)
        assert code in (401, 403), (method, route, code, reply[:200])
        assert is_json_error(reply), (method, route, reply[:200])
        assert "location" not in headers  # refused, not sent to a login page
    assert state(srv, home) == before
    print(f"{len(calls)} (route, method) pairs refused without credentials")


def test_every_write_refuses_a_browser_session_without_xsrf_and_changes_nothing(server, running):
    srv, home = server
    cookies = srv.login_cookies()
    assert "username-" in cookies  # a logged-in browser session, no token from here on
    before = state(srv, home)
    writes = [(route, m) for route, methods in registered().items() for m in sorted(methods & WRITES)]
    assert {m for _, m in writes} >= {"post", "patch", "delete"}
    for route, method in writes:
        code, _, reply = srv.call(
            method.upper(), url(route), BODIES.get((route, method), {}), headers={"Cookie": cookies}, auth=False
        )
        assert code == 403 and is_json_error(reply), (method, route, code, reply[:200])
        assert b"xsrf" in reply.lower(), (method, route, reply[:200])  # says why
    assert state(srv, home) == before
    # control: the same session WITH the double-submitted XSRF token gets past the check
    # (to a 4xx of the handler itself, so nothing is changed here either)
    xsrf = "f00dfeedf00dfeedf00dfeed"
    session = {"Cookie": f"{cookies}; _xsrf={xsrf}", "X-XSRFToken": xsrf}
    for route, method in writes:
        body = {"gpus": 1} if route == "/workspaces" else {}
        code, _, reply = srv.call(
            method.upper(), url(route, name="ghost" if "{name}" in route else None), body, headers=session, auth=False
        )
        assert code in (400, 404), (method, route, code, reply[:200])
    assert state(srv, home) == before
    print(f"{len(writes)} writes refused without XSRF")


def test_the_dashboard_proxy_never_exposes_the_ray_token(server, running):
    srv, _home = server
    _rec, token = running
    seen: list[str] = []
    ws, dash = f"workspaces/{WS}", f"workspaces/{WS}/dashboard"

    def fetch(method: str, path: str, body=None, **kw) -> tuple[int, dict, bytes]:
        code, headers, reply = srv.call(method, path, body, **kw)
        seen.append(f"{method} {path.split('/', 2)[-1]} {code}")
        for k, v in headers.items():
            assert token not in k and token not in v, (method, path, k)
        assert token.encode() not in reply, (method, path, code)
        return code, headers, reply

    code, headers, page = fetch("GET", f"{dash}/")
    assert code == 200 and headers["content-type"].startswith("text/html")
    assets = sorted(set(re.findall(rb'(?:src|href)="\./([^"]+)"', page)))
    assert assets
    for asset in assets[:6]:
        assert fetch("GET", f"{dash}/{asset.decode()}")[0] == 200, asset
    for api in ("api/version", "api/v0/nodes", "api/cluster_status", "api/jobs/"):
        assert fetch("GET", f"{dash}/{api}")[0] == 200, api
    code, headers, _ = fetch("GET", dash)  # the redirect to dashboard/
    assert code == 302 and headers["location"].endswith(f"/{dash}/")
    # proxied errors: Ray's own 4xx/5xx pass through with their text, never the token
    errors = [
        fetch("GET", f"{dash}/api/jobs/no_such_job")[0],
        fetch("GET", f"{dash}/no/such/page")[0],
        fetch("POST", f"{dash}/api/jobs/", "{not json", headers={"Content-Type": "application/json"})[0],
        fetch("POST", f"{dash}/api/jobs/", {"entrypoint": 5})[0],
    ]
    assert all(400 <= c < 600 for c in errors), errors
    # our own answers about the workspace
    for path in (ws, f"{ws}/logs?lines=500", "workspaces"):
        assert fetch("GET", path)[0] == 200, path
    print("proxied:", "; ".join(seen))
    assert token not in srv.log_path.read_text(errors="replace")


def test_ray_processes_never_carry_the_token_on_their_command_line(server, running, tmp_path):
    """Other users can read every command line (ps); the token travels by a 0600 file, named
    in the environment (RAY_AUTH_TOKEN_PATH), which only the owner can read. Checked while a
    kernel-like driver is connected and holds an actor on a worker process."""
    _srv, home = server
    rec, token = running
    store = Store(home / "workspaces")
    assert stat.S_IMODE(store.token_path(WS).stat().st_mode) == 0o600
    driver = HoldingDriver(home, WS, tmp_path / "driver.err")
    try:
        procs = {p.pid: p for p in ours([rec.temp_dir])}
        procs.update({pid: psutil.Process(pid) for pid in group_pids(rec.head.pid)})
        assert driver.pids["worker"] in procs  # the actor's worker runs in the workspace's session
        procs[driver.pids["driver"]] = psutil.Process(driver.pids["driver"])
        names = set()
        for p in procs.values():
            try:
                cmd, env = " ".join(p.cmdline()), p.environ()
                names.add(p.name())
            except psutil.NoSuchProcess:
                continue
            assert token not in cmd, p.name()
            assert token not in " ".join(f"{k}={v}" for k, v in env.items()), p.name()
            assert "RAY_AUTH_TOKEN" not in env  # only the path: RAY_AUTH_TOKEN_PATH
        assert {"raylet", "gcs_server", "ray::Probe"} <= names, names  # the sweep really saw them
        print(f"{len(procs)} Ray processes checked: {sorted(names)}")
    finally:
        driver.close()
    # Ray's own session files (its temp dir, with the driver's and worker's logs) do not hold it either
    files = [f for f in Path(rec.temp_dir).rglob("*") if f.is_file()]
    assert files and not [f for f in files if token.encode() in f.read_bytes()]
    print(f"{len(files)} files in Ray's session dir scanned")


PLUGIN_TEST = """
import secret_scan

def test_prints_a_secret():
    secret_scan.register("hunter2-very-secret-value", "test secret")
    print("the value is hunter2-very-secret-value")

def test_writes_a_secret_to_a_file(tmp_path):
    secret_scan.register("another-secret-in-a-file", "file secret")
    (tmp_path / "server.log").write_text("token=another-secret-in-a-file")

def test_clean():
    print("nothing to see")
"""


def test_the_secret_scan_fails_a_test_that_prints_a_secret_and_a_session_that_logs_one(tmp_path):
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(PLUGIN_TEST))
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "secret_scan",
            "-p",
            "no:cacheprovider",
            "-rA",
            str(tmp_path / "test_inner.py"),
            "--basetemp",
            str(tmp_path / "bt"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(secret_scan.__file__).parent)},
    )
    text = out.stdout + out.stderr
    print(text[-3000:])
    assert out.returncode == 1
    assert "FAILED test_inner.py::test_prints_a_secret" in text and "Captured stdout call (test secret)" in text
    assert "1 failed, 2 passed in" in text  # reported once, in the phase that printed it
    assert re.search(r"secret in file .*server\.log: file secret", text)
    assert "hunter2-very-secret-value" not in text and "another-secret-in-a-file" not in text
    assert "<test secret hidden by secret_scan>" in text  # the captured output is shown, masked
    # the file alone (every test passing) still fails the session
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "secret_scan",
            "-p",
            "no:cacheprovider",
            "-k",
            "file or clean",
            str(tmp_path / "test_inner.py"),
            "--basetemp",
            str(tmp_path / "bt2"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(secret_scan.__file__).parent)},
    )
    text = out.stdout + out.stderr
    assert out.returncode == 1 and "2 passed" in text and "1 hit(s)" in text, text[-2000:]
    assert "another-secret-in-a-file" not in text

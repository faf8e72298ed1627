"""A real `jupyter server` process, as a user runs it: the extension is listed OK, and a
bounded schemathesis fuzz of every route in openapi.yaml finds no 5xx and no response
outside the document."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pyarrow as pa
import pytest

import lakelab
from lakelab.config import load_config

from .conftest import SPEC_PATH, seed

TOKEN = "fuzz-test-token-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_jupyter_lists_the_server_extension_as_enabled_and_ok():
    out = subprocess.run(
        [sys.executable, "-m", "jupyter", "server", "extension", "list"], capture_output=True, text=True, timeout=120
    )
    text = (out.stdout + out.stderr).replace("\x1b[32m", "").replace("\x1b[0m", "")
    assert "lakelab_server enabled" in text and "lakelab_server 0.1.0 OK" in text, text


@pytest.fixture
def live_server(lakelab_home, tmp_path):
    house = lakelab.Lakehouse(load_config())
    seed(house)
    house.publish(pa.table({"n": list(range(50))}), "demo.numbers", description="fifty numbers", tags="fuzz")
    house.close()
    port = free_port()
    root = tmp_path / "root"
    root.mkdir()
    log = open(tmp_path / "server.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter",
            "server",
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={root}",
        ]
        + (["--allow-root"] if os.geteuid() == 0 else []),
        env={**os.environ, "LAKELAB_HOME": str(lakelab_home), "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 90
    while True:
        try:
            req = urllib.request.Request(f"{url}/lakelab/api/v1/info", headers={"Authorization": f"token {TOKEN}"})
            with urllib.request.urlopen(req, timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                proc.kill()
                pytest.fail("jupyter server did not start:\n" + (tmp_path / "server.log").read_text()[-3000:])
            time.sleep(0.5)
    yield url, tmp_path / "server.log"
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


def test_unauthenticated_calls_to_a_real_server_are_refused(live_server):
    url, _ = live_server
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{url}/lakelab/api/v1/search?q=flights", timeout=10)
    assert e.value.code == 403


def test_a_bounded_fuzz_of_every_route_finds_no_server_errors(live_server, tmp_path):
    url, log = live_server
    cmd = [
        "schemathesis",
        "run",
        str(SPEC_PATH),
        "--url",
        f"{url}/lakelab/api/v1",
        "-H",
        f"Authorization: token {TOKEN}",
        "--max-examples",
        "20",
        "--seed",
        "2026",
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
        "--exclude-path-regex",
        "^/workspaces",  # starts Ray clusters: tests/workspaces covers them
        "--request-timeout",
        "30",
        "--no-color",
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env={**os.environ, "SCHEMATHESIS_HOOKS": ""})
    report = out.stdout[-6000:] + out.stderr[-2000:]
    print(report)
    assert out.returncode == 0, report + "\n--- server log ---\n" + log.read_text()[-3000:]
    assert not re.search(r"\] 5\d\d (GET|PATCH|POST|PUT|DELETE) ", log.read_text())
    assert "Test cases:" in out.stdout  # it really ran

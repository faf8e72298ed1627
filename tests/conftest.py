"""Shared fixtures: real parts only. A lakehouse in a temp dir (SQLite SqlCatalog + local
warehouse), a real PostgreSQL started from Debian's binaries, and (in their own modules)
Trino, Ray and Chromium."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import lakelab
from lakelab.config import load_config

ARTIFACTS = Path(__file__).parent / "artifacts"

# secret_scan fails any test whose output, log or error shows a registered secret;
# tiers gives every test its tier (fast, or trino/postgres/ray/browser/slow) at collection
pytest_plugins = ["secret_scan", "tiers"]

# usage recording (usage/recorder.py) writes lakelab_system.usage in the background; the tests
# that are about it (tests/usage) switch it on, elsewhere it would add a table to catalogs that
# tests count. Subprocesses (kernels, servers) inherit this.
os.environ.setdefault("LAKELAB_USAGE", "off")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lakelab_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "lakelab_home"
    monkeypatch.setenv("LAKELAB_HOME", str(home))
    for var in list(os.environ):
        if var.startswith("LAKELAB_TRINO_") or var in ("LAKELAB_CONFIG", "LAKELAB_ENGINE"):
            monkeypatch.delenv(var)
    return home


@pytest.fixture
def lh(lakelab_home) -> lakelab.Lakehouse:
    """An empty embedded lakehouse (SQLite catalog, local warehouse) in a temp dir."""
    house = lakelab.Lakehouse(load_config())
    yield house
    house.close()


def _pg_bin() -> Path | None:
    for cand in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (cand / "initdb").exists():
            return cand
    return None


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory) -> str:
    """A real PostgreSQL server for the session (Debian's binaries; .ci/run installs them)."""
    binary = _pg_bin()
    if binary is None:
        pytest.fail("PostgreSQL binaries not found: run `make test` (it installs postgresql)")
    # not under pytest's 0700 tmp dir: the postgres user must be able to enter it
    data = Path(tempfile.mkdtemp(prefix="lakelab-pg-", dir="/var/tmp")) / "data"
    port = free_port()
    as_root = os.geteuid() == 0
    run = (
        (lambda cmd: subprocess.run(["runuser", "-u", "postgres", "--"] + cmd, check=True, capture_output=True))
        if as_root
        else (lambda cmd: subprocess.run(cmd, check=True, capture_output=True))
    )
    if as_root:
        shutil.chown(data.parent, "postgres")
        os.chmod(data.parent, 0o777)
    run([str(binary / "initdb"), "-D", str(data), "-U", "lakelab", "--auth=trust", "-E", "UTF8"])
    sock = str(data.parent)
    proc = subprocess.Popen(
        (["runuser", "-u", "postgres", "--"] if as_root else [])
        + [str(binary / "postgres"), "-D", str(data), "-p", str(port), "-k", sock, "-h", "127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"postgresql+psycopg2://lakelab@127.0.0.1:{port}/postgres"
    import psycopg2

    deadline = time.time() + 90
    while True:  # ready when a query answers, not when the port opens ("starting up")
        try:
            psycopg2.connect(host="127.0.0.1", port=port, user="lakelab", dbname="postgres").close()
            break
        except psycopg2.OperationalError:
            if time.time() > deadline or proc.poll() is not None:
                pytest.fail(f"PostgreSQL did not start on port {port}")
            time.sleep(0.3)
    yield url
    proc.terminate()
    proc.wait(timeout=30)
    shutil.rmtree(data.parent, ignore_errors=True)


@pytest.fixture
def pg_lh(request, postgres_url, lakelab_home, tmp_path) -> lakelab.Lakehouse:
    """A lakehouse whose catalog is a JDBC-style SqlCatalog on the real PostgreSQL."""
    if request.node.get_closest_marker("postgres") is None:  # reached through getfixturevalue
        pytest.fail("this test uses PostgreSQL but is not marked postgres: see tests/tiers.py", pytrace=False)
    import sqlalchemy

    db = f"t{os.getpid()}_{int(time.time() * 1000) % 10**9}"
    eng = sqlalchemy.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(sqlalchemy.text(f'CREATE DATABASE "{db}"'))
    eng.dispose()
    cfg = load_config()
    cfg.catalog = {
        "name": "lakelab",
        "type": "sql",
        "uri": postgres_url.rsplit("/", 1)[0] + "/" + db,
        "warehouse": f"file://{tmp_path / 'pg_warehouse'}",
    }
    (tmp_path / "pg_warehouse").mkdir()
    house = lakelab.Lakehouse(cfg)
    yield house
    house.close()

"""The real Trino + PostgreSQL for these tests, started once per session through the same
code as `lakelab services up` (lakelab.services.up) under a temporary LAKELAB_HOME.

If Trino cannot start, the session fails with the end of its log: these tests never skip."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pyarrow as pa
import pytest

import lakelab
from lakelab import services
from lakelab.config import load_config
from lakelab.errors import LakelabError

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items):
    for item in items:  # `-m "not trino"` deselects these; CI runs them
        if HERE in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.trino)


@pytest.fixture(scope="session")
def trino_home(tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("trino") / "home"
    mp = pytest.MonkeyPatch()
    for var in list(os.environ):
        if var.startswith("LAKELAB_TRINO_") or var in ("LAKELAB_CONFIG", "LAKELAB_ENGINE"):
            mp.delenv(var)
    mp.setenv("LAKELAB_HOME", str(home))
    # a table in the embedded catalog before `up`: it must be carried over
    embedded = lakelab.Lakehouse(load_config())
    embedded.catalog.create_namespace("before")
    t = embedded.catalog.create_table("before.seed", pa.schema([("id", pa.int64())]))
    t.append(pa.table({"id": [1, 2, 3]}))
    embedded.close()
    try:
        state = services.up(home=home)
    except LakelabError as e:
        services.down(home=home)
        mp.undo()
        pytest.fail(f"lakelab services up failed: {e}", pytrace=False)
    home.joinpath("startup_s").write_text(str(state["trino"].get("startup_s")))
    yield home
    services.down(home=home)
    mp.undo()


@pytest.fixture
def tlh(trino_home, monkeypatch) -> lakelab.Lakehouse:
    """A Lakehouse on the shared catalog with Trino configured (what `up` wrote)."""
    monkeypatch.setenv("LAKELAB_HOME", str(trino_home))
    house = lakelab.Lakehouse(load_config(trino_home / "config.yaml"))
    yield house
    house.close()


@pytest.fixture
def ns(tlh) -> str:
    """A fresh namespace per test, so tests sharing the session catalog never collide."""
    name = "t_" + uuid.uuid4().hex[:10]
    tlh.catalog.create_namespace(name)
    return name


@pytest.fixture
def shell(tlh):
    """A real IPython shell with lakelab loaded, its %%trino bound to the Trino lakehouse."""
    from IPython.core.interactiveshell import InteractiveShell

    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "lakelab")
    magics = ip.magics_manager.registry["SqlMagics"]
    magics._lh, previous = tlh, magics._lh
    yield ip
    magics._lh = previous

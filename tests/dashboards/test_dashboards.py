"""Dashboards as datasets: a real notebook run in a real fresh kernel, its page and notebook
stored as a version pinned to the snapshots it read, staleness, refresh, and bad input
refused with nothing left behind."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pytest
from tests.dashboards.notebooks import orders_notebook, write_notebook

import lakelab
from lakelab.cli import main
from lakelab.datasets import dashboards
from lakelab.datasets.artifacts import fetch_verified
from lakelab.errors import Conflict, InvalidInput, NotFound
from lakelab.write.refresh import RefreshResult, refresh

ORDERS = pa.table({"id": [1, 2, 3], "amount": [10.0, 20.0, 30.0]})
REGIONS = pa.table({"region": ["north", "south"]})


@pytest.fixture
def shop(lh: lakelab.Lakehouse) -> lakelab.Lakehouse:
    lh.ingest(ORDERS, "shop.orders", mode="create")
    lh.ingest(REGIONS, "shop.regions", mode="create")
    lakelab.connect(reload=True)  # what the CLI and the magics use: this test's lakehouse
    return lh


def current(lh: lakelab.Lakehouse, name: str) -> int:
    return lh.dataset(name).table.current_snapshot().snapshot_id


def stored_files(lh: lakelab.Lakehouse, name: str) -> list[Path]:
    root = Path(lh.config.warehouse) / name.replace(".", "/")
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def test_publish_runs_the_notebook_and_pins_what_it_read_then_refresh_makes_v2(shop, tmp_path, capsys):
    nb = orders_notebook(tmp_path)
    ds = shop.publish(str(nb), "dash.orders", kind="dashboard", description="orders at a glance", tags="sales")

    v1 = ds.versions()[-1]
    assert v1.version == 1
    inputs = {i["table"]: i["snapshot_id"] for i in v1.metadata["inputs"]}
    assert inputs == {"shop.orders": current(shop, "shop.orders"), "shop.regions": current(shop, "shop.regions")}
    page = dashboards.page_html(ds)
    assert "orders=3 revenue=60.0" in page and "south" in page
    assert "lh.sql(" not in page  # the page shows outputs, not code
    assert v1.metadata["notebook"]["sha256"] == hashlib.sha256(nb.read_bytes()).hexdigest()
    assert dashboards.notebook_path(ds).read_bytes() == nb.read_bytes()
    assert {"python", "pyarrow", "duckdb"} <= set(v1.metadata["libraries"])
    # lineage: the dashboard is downstream of both inputs; search finds it by kind
    assert {e.source for e in ds.lineage().edges if e.type == "dataset"} == {"shop.orders", "shop.regions"}
    downstream = shop.dataset("shop.orders").lineage()
    assert "dash.orders" in {e.target for e in downstream.edges}
    assert [d["name"] for d in shop.datasets(kind="dashboard")] == ["dash.orders"]
    assert [d["name"] for d in shop.datasets("sales", kind="dashboard")] == ["dash.orders"]
    assert not dashboards.freshness(ds).stale
    assert ds.url() == "/lakelab/api/v1/dashboards/dash.orders/versions/1/page"
    assert ds.url(live=True, inputs="latest") == "/lakelab/api/v1/dashboards/dash.orders/live?version=1&inputs=latest"
    assert refresh(shop) == [RefreshResult("dash.orders", "current", 1)]

    old = current(shop, "shop.orders")
    shop.ingest(pa.table({"id": [4], "amount": [40.0]}), "shop.orders", mode="append")
    state = dashboards.freshness(ds)
    assert state.stale
    assert [(s.table, s.stale) for s in state.inputs] == [("shop.orders", True), ("shop.regions", False)]

    assert main(["dashboards", "status"]) == 0
    assert f"dash.orders v1: stale (shop.orders {old} -> {current(shop, 'shop.orders')})" in capsys.readouterr().out
    assert main(["dashboards", "refresh"]) == 0  # what cron runs
    assert capsys.readouterr().out.splitlines()[-1] == "dash.orders: refreshed (v2)"
    v2 = ds.versions()[-1]
    assert {i["table"]: i["snapshot_id"] for i in v2.metadata["inputs"]}["shop.orders"] == current(shop, "shop.orders")
    assert "orders=4 revenue=100.0" in dashboards.page_html(ds, 2)
    assert "orders=3 revenue=60.0" in dashboards.page_html(ds, 1)  # v1 still shows the old numbers
    assert dashboards.pins(ds, 1)["shop.orders"] == old
    assert not dashboards.freshness(ds).stale


def test_a_failing_cell_is_named_and_nothing_is_published(shop, tmp_path):
    nb = write_notebook(
        tmp_path / "bad.ipynb", "x = 1", "import lakelab\nlakelab.connect().sql('SELECT * FROM shop.nope')"
    )
    with pytest.raises(InvalidInput, match=r"code cell 2 \('import lakelab'\) of .*bad.ipynb failed while publishing"):
        shop.publish(str(nb), "dash.bad", kind="dashboard")
    with pytest.raises(NotFound):
        shop.dataset("dash.bad").describe()
    assert stored_files(shop, "dash.bad") == []


def test_a_dying_kernel_is_a_clear_error_and_nothing_is_published(shop, tmp_path):
    nb = write_notebook(tmp_path / "dies.ipynb", "import os\nos._exit(3)")
    with pytest.raises(InvalidInput, match=r"the kernel died while running code cell 1 \('import os'\)"):
        shop.publish(str(nb), "dash.dies", kind="dashboard")
    assert stored_files(shop, "dash.dies") == []


def test_bad_notebooks_and_kind_clashes_are_refused(shop, tmp_path):
    with pytest.raises(NotFound, match="notebook .*missing.ipynb does not exist"):
        shop.publish(str(tmp_path / "missing.ipynb"), "dash.x", kind="dashboard")
    broken = tmp_path / "broken.ipynb"
    broken.write_text("{not json")
    with pytest.raises(InvalidInput, match="broken.ipynb is not a valid notebook"):
        shop.publish(str(broken), "dash.x", kind="dashboard")
    with pytest.raises(InvalidInput, match="from a notebook"):
        shop.publish(str(tmp_path / "page.html"), "dash.x", kind="dashboard")
    with pytest.raises(Conflict, match="shop.orders is a table; cannot publish a dashboard over it"):
        shop.publish(str(orders_notebook(tmp_path)), "shop.orders", kind="dashboard")
    assert shop.dataset("shop.orders").metadata["kind"] == "table"
    assert stored_files(shop, "dash.x") == []


def test_a_tampered_page_is_refused(shop, tmp_path):
    ds = shop.publish(str(orders_notebook(tmp_path)), "dash.orders", kind="dashboard")
    page = fetch_verified(ds, ds.versions()[-1])
    assert page.name == dashboards.PAGE_FILE
    stored = Path(ds.versions()[-1].uri[len("file://") :])
    stored.write_text("<p>forged</p>")
    with pytest.raises(Conflict, match="checksum mismatch"):
        dashboards.page_html(ds)


def test_the_publish_magic_publishes_a_dashboard_and_fails_in_one_line(shop, tmp_path):
    from IPython.core.interactiveshell import InteractiveShell

    from lakelab.notebook.magics import MagicError

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "lakelab")
    nb = orders_notebook(tmp_path)
    ds = shell.run_line_magic("publish", f"{nb} --as dash.magic --kind dashboard --tags sales")
    assert ds.name == "dash.magic" and ds.metadata["kind"] == "dashboard" and ds.metadata["tags"] == ["sales"]
    with pytest.raises(MagicError, match="notebook .*nope.ipynb does not exist"):
        shell.run_line_magic("publish", f"{tmp_path / 'nope.ipynb'} --as dash.magic --kind dashboard")

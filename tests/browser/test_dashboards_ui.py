"""Dashboards in a real JupyterLab with Voilà (issue 15): publish a tutorial-style notebook
from the open notebook, open the pinned and the live view, append to an input, see the
dashboard go stale, refresh it with `lakelab dashboards refresh` (what cron runs), and see
version 2 pinned to the new snapshot while version 1 still shows the old numbers.
Screenshots go to tests/artifacts/."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from playwright.sync_api import Page, expect
from tests.dashboards.notebooks import orders_notebook

from .conftest import Lab, open_lab, run_command, shot
from .test_lakehouse_ui import open_sidebar, row

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

expect.set_options(timeout=60_000)


def _lakehouse(home: Path):
    import lakelab
    from lakelab.config import load_config

    old = os.environ.get("LAKELAB_HOME")
    os.environ["LAKELAB_HOME"] = str(home)
    try:
        return lakelab.Lakehouse(load_config())
    finally:
        if old is None:
            os.environ.pop("LAKELAB_HOME")
        else:
            os.environ["LAKELAB_HOME"] = old


@pytest.fixture(scope="module")
def shop_lab(tmp_path_factory) -> Iterator[tuple[Lab, Path]]:
    """Its own lakehouse (shop.orders, shop.regions) and JupyterLab, so the other browser
    tests' listings stay as they expect."""
    base = tmp_path_factory.mktemp("dashboards")
    home, root = base / "lakelab_home", base / "notebooks"
    root.mkdir()
    lh = _lakehouse(home)
    lh.ingest(pa.table({"id": [1, 2, 3], "amount": [10.0, 20.0, 30.0]}), "shop.orders", mode="create")
    lh.ingest(pa.table({"region": ["north", "south"]}), "shop.regions", mode="create")
    lh.close()
    orders_notebook(root)
    server = Lab(root, home, name="dashboards")
    yield server, home
    server.stop()


def frame_of(page: Page):
    return page.frame_locator(".jp-lakelab-dashboard:visible iframe.jp-lakelab-report-frame")


def test_publish_view_go_stale_refresh_and_keep_old_versions(page: Page, shop_lab):
    lab, home = shop_lab
    open_lab(page, lab)
    run_command(page, "docmanager:open", {"path": "orders.ipynb"})
    page.locator(".jp-NotebookPanel:visible .jp-Cell").first.wait_for()
    run_command(page, "lakelab:publish-dashboard", {"name": "dash.orders"})

    # the pinned view: the stored page, sandboxed like a report
    frame = page.locator(".jp-lakelab-dashboard:visible iframe.jp-lakelab-report-frame")
    expect(frame).to_have_count(1)
    assert frame.get_attribute("sandbox") == "allow-scripts"
    expect(frame_of(page).locator("body")).to_contain_text("orders=3 revenue=60.0")
    expect(page.locator(".jp-lakelab-report-note:visible")).to_contain_text("v1 · current")
    shot(page, "dashboard-pinned-v1")

    # the live view: Voilà runs the notebook in a fresh kernel, inputs pinned to v1's snapshots
    page.locator(".jp-lakelab-dashboard-live:visible").click()
    live = page.locator('.jp-lakelab-dashboard:visible iframe[src*="/live?version=1&inputs=pinned"]')
    expect(live).to_have_count(1)
    assert live.get_attribute("sandbox") is None  # Voilà's page talks to its kernel with the login cookie
    expect(frame_of(page).get_by_text("orders=3 revenue=60.0")).to_be_visible(timeout=120_000)
    expect(frame_of(page).locator("#loading")).to_be_hidden()  # Voilà's spinner: every cell has run
    shot(page, "dashboard-live-v1")

    # new data in an input: the dashboard is stale in the sidebar and in its dataset view
    lh = _lakehouse(home)
    lh.ingest(pa.table({"id": [4], "amount": [40.0]}), "shop.orders", mode="append")
    new_snapshot = str(lh.dataset("shop.orders").table.current_snapshot().snapshot_id)
    lh.close()
    open_sidebar(page)
    run_command(page, "lakelab:refresh")
    row(page, "dash", "namespace").click()
    expect(
        page.locator('#lakelab-sidebar .jp-lakelab-row.jp-lakelab-stale[data-lakelab-dataset="dash.orders"]')
    ).to_have_count(1)
    run_command(page, "lakelab:open-dataset", {"name": "dash.orders"})
    freshness = page.locator(".jp-lakelab-dashboard-freshness:visible")
    expect(freshness).to_have_text("v1 · stale: shop.orders has a newer snapshot")
    shot(page, "dashboard-stale")

    # cron's refresh makes version 2, pinned to the new snapshot; version 1 keeps its numbers
    env = {**os.environ, "LAKELAB_HOME": str(home)}
    out = subprocess.run(
        [sys.executable, "-m", "lakelab", "dashboards", "refresh"], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0 and out.stdout.strip() == "dash.orders: refreshed (v2)", out.stderr
    state = page.evaluate(
        """async () => (await fetch('/lakelab/api/v1/dashboards/dash.orders',
               {headers: {Authorization: 'token lakelab-browser-test'}})).json()"""
    )
    assert state["version"] == 2 and state["stale"] is False
    assert {i["table"]: i["snapshot_id"] for i in state["inputs"]}["shop.orders"] == new_snapshot
    run_command(page, "lakelab:open-dashboard", {"name": "dash.orders", "version": 2, "mode": "pinned"})
    expect(frame_of(page).locator("body")).to_contain_text("orders=4 revenue=100.0")
    expect(page.locator(".jp-lakelab-report-note:visible")).to_contain_text("v2 · current")
    shot(page, "dashboard-pinned-v2")
    run_command(page, "lakelab:open-dashboard", {"name": "dash.orders", "version": 1, "mode": "pinned"})
    expect(frame_of(page).locator("body")).to_contain_text("orders=3 revenue=60.0")
    expect(page.locator("#lakelab-sidebar .jp-lakelab-row.jp-lakelab-stale")).to_have_count(0)  # re-read on open
    shot(page, "dashboard-pinned-v1-after-refresh")
    assert page.page_errors == []  # type: ignore[attr-defined]

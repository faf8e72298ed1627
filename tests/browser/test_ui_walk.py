"""A data scientist's first walk through the UI, step by step, where they used to stop: the
first start from `lakelab lab`'s URL, "Query in notebook" landing in the notebook they are
in and running as it is, the sidebar staying current by itself, and palette commands that
ask which dataset. Real JupyterLab, real Chromium; the workspace stop is in
test_workspaces_ui.py (it needs a Ray lab). Screenshots go to tests/artifacts/."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

import pyarrow as pa
import pytest
from playwright.sync_api import Page, expect

from .conftest import Lab, free_port, new_notebook, open_lab, open_palette, run_command, shot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]
expect.set_options(timeout=30_000)
KERNEL_MS = 120_000  # a kernel start plus a first query on the shared machine


def row(page: Page, label: str, kind: str = "dataset"):
    return page.locator(f'#lakelab-sidebar .jp-lakelab-row-{kind}:has(.jp-lakelab-label:text-is("{label}"))')


def sources(page: Page, path: str) -> list[str]:
    return page.evaluate(
        """(path) => {
            for (const w of window.jupyterapp.shell.widgets('main')) {
                if (w.context && w.context.path === path) {
                    return w.content.model.sharedModel.cells.map(c => c.getSource());
                }
            }
            return null;
        }""",
        path,
    )


def dirty(page: Page, path: str) -> bool:
    return page.evaluate(
        """(path) => [...window.jupyterapp.shell.widgets('main')]
            .some(w => w.context && w.context.path === path && w.context.model.dirty)""",
        path,
    )


def current_path(page: Page) -> str | None:
    return page.evaluate("() => window.jupyterapp.shell.currentWidget?.context?.path ?? null")


# -- 11: first start -----------------------------------------------------------------------
def test_the_url_lakelab_lab_prints_opens_the_tutorial_with_the_lakehouse_sidebar(page: Page, seeded, tmp_path):
    home = seeded[0]
    port = free_port()
    env = {**os.environ, "LAKELAB_HOME": str(home), "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings")}
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(tmp_path / "workspaces")
    log = (tmp_path / "lab.log").open("w+")
    # a generated token, printed in full; the app exposed for the checks below
    args = ["--no-browser", f"--port={port}", "--ip=127.0.0.1", "--LabApp.expose_app_in_browser=True"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "lakelab", "lab", "--no-demo", "--", *args],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
    )
    try:
        url = None
        deadline = time.monotonic() + 120
        while url is None and time.monotonic() < deadline and proc.poll() is None:
            found = re.search(r"http://127\.0\.0\.1:\d+/\S+", (tmp_path / "lab.log").read_text())
            url = found.group(0) if found else time.sleep(0.5)
        assert url, (tmp_path / "lab.log").read_text()[-3000:]
        assert re.fullmatch(rf"http://127\.0\.0\.1:{port}/lab/tree/tutorial\.ipynb\?token=[0-9a-f]{{32,}}", url), url
        page.set_default_timeout(60_000)
        page.goto(url)
        page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started !== undefined")
        expect(page.locator(".jp-NotebookPanel:visible")).to_contain_text("lakelab tutorial")
        assert current_path(page) == "tutorial.ipynb"
        # the Lakehouse sidebar is the one showing, its datasets listed
        expect(page.locator("#lakelab-sidebar")).to_be_visible()
        expect(row(page, "demo", "namespace")).to_be_visible()
        shot(page, "walk-first-start")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# -- 2: Query in notebook ------------------------------------------------------------------
def test_query_in_notebook_lands_in_the_notebook_in_view_and_runs_as_it_is(page: Page, lab: Lab):
    open_lab(page, lab)
    nb = new_notebook(page)
    first = current_path(page)
    nb.locator(".jp-Cell .cm-content").first.click()
    page.keyboard.type("a = 1")
    page.keyboard.press("Escape")
    page.evaluate("() => window.jupyterapp.shell.currentWidget.context.save()")  # no rename dialog
    assert not dirty(page, first)

    # from the dataset view (the notebook is out of sight): a new notebook, not that one
    run_command(page, "lakelab:open-dataset", {"name": "demo.flights"})
    view = page.locator(".jp-lakelab-dataset:visible")
    view.locator(".jp-lakelab-schema").wait_for()
    view.locator(".jp-lakelab-query").click()
    page.wait_for_function(
        "(p) => { const path = window.jupyterapp.shell.currentWidget?.context?.path;"
        " return !!path && path.endsWith('.ipynb') && path !== p; }",
        arg=first,
    )
    second = current_path(page)
    assert second and second.endswith(".ipynb") and second != first
    expect(page.locator(".jp-NotebookPanel:visible .jp-Cell")).to_have_count(2)
    assert sources(page, second) == ["%load_ext lakelab", "%%trino\nSELECT * FROM demo.flights LIMIT 100"]
    assert sources(page, first) == ["a = 1"] and not dirty(page, first)  # untouched
    # ready to run: the query cell alone, without running the %load_ext cell first
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget?.sessionContext?.session?.kernel?.status === 'idle'"
    )
    run_command(page, "notebook:run-cell")
    out = page.locator(".jp-NotebookPanel:visible .jp-Cell").nth(1).locator(".jp-OutputArea-output").first
    expect(out).to_contain_text("dep_delay", timeout=KERNEL_MS)
    expect(page.locator(".jp-NotebookPanel:visible .jp-Cell").nth(0).locator(".jp-InputPrompt")).to_have_text("[ ]:")
    shot(page, "walk-query-new-notebook")

    # in a notebook: below its active cell, %load_ext lakelab put at the top
    page.evaluate(
        """(p) => { const w = [...window.jupyterapp.shell.widgets('main')].find(w => w.context?.path === p);
                   window.jupyterapp.shell.activateById(w.id); w.content.activeCellIndex = 0; }""",
        first,
    )
    run_command(page, "lakelab:query-in-notebook", {"name": "demo.airlines"})
    assert current_path(page) == first
    assert sources(page, first) == [
        "%load_ext lakelab",
        "a = 1",
        "%%trino\nSELECT * FROM demo.airlines LIMIT 100",
    ]
    assert sources(page, second)[-1].endswith("demo.flights LIMIT 100")  # the other one untouched
    run_command(page, "notebook:run-cell")
    out = page.locator(".jp-NotebookPanel:visible .jp-Cell").nth(2).locator(".jp-OutputArea-output").first
    expect(out).to_contain_text("American", timeout=KERNEL_MS)
    shot(page, "walk-query-active-notebook")


# -- 3: the sidebar stays current ----------------------------------------------------------
def test_the_sidebar_shows_new_datasets_by_itself_keeping_expansion_and_selection(page: Page, lab: Lab, seeded):
    import lakelab
    from lakelab.config import load_config

    open_lab(page, lab)
    expect(page.locator("#lakelab-sidebar")).to_be_visible()  # a first start in this browser
    row(page, "demo", "namespace").click()
    row(page, "flights").locator(".jp-lakelab-caret").click()
    expect(row(page, "carrier", "column")).to_be_visible()
    row(page, "airlines").click()  # selects it (and opens its view)
    expect(row(page, "airlines")).to_have_class(re.compile("jp-mod-selected"))
    expect(row(page, "walk_new")).to_have_count(0)

    # a notebook (here: this process) creates a dataset; nobody presses Refresh
    os.environ["LAKELAB_HOME"] = str(seeded[0])
    lh = lakelab.Lakehouse(load_config())
    try:
        lh.ingest(pa.table({"id": [1, 2, 3]}), "demo.walk_new", mode="create")
        expect(row(page, "walk_new")).to_be_visible()
        expect(row(page, "carrier", "column")).to_be_visible()  # flights still expanded
        expect(row(page, "airlines")).to_have_class(re.compile("jp-mod-selected"))
        shot(page, "walk-sidebar-current")
    finally:
        lh.catalog.drop_table(("demo", "walk_new"))
        lh.close()
    expect(row(page, "walk_new")).to_have_count(0)


# -- 10: palette and menus -----------------------------------------------------------------
def palette(page: Page, label: str) -> None:
    open_palette(page, label)
    page.locator("#command-palette .lm-CommandPalette-item", has_text=label).first.click()


def test_palette_commands_pick_a_dataset_and_menus_act_on_namespaces_and_columns(page: Page, lab: Lab):
    open_lab(page, lab)
    run_command(page, "lakelab:open-dataset", {"name": "demo.flights"})
    expect(page.locator(".jp-lakelab-dataset:visible")).to_be_visible()

    # the palette asks which dataset, offering the one in view first
    palette(page, "Open Preview…")
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Open Preview")
    items = dialog.locator(".jp-lakelab-picker-item")
    expect(items.first).to_have_attribute("data-value", "demo.flights")
    dialog.locator("input").fill("airl")
    expect(items).to_have_count(1)
    expect(items.first).to_have_attribute("data-value", "demo.airlines")
    shot(page, "walk-picker")
    page.keyboard.press("Enter")
    expect(page.locator(".lm-TabBar-tab.lm-mod-current", has_text="demo.airlines")).to_be_visible()

    # Open Report offers reports only
    palette(page, "Open Report…")
    expect(items.first).to_be_visible()
    assert set(items.evaluate_all("els => els.map(e => e.dataset.value)")) == {"demo.delay_report"}
    shot(page, "walk-picker-reports")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_have_count(0)

    # Open Report only where it applies; namespaces and columns have their own actions
    tab = page.locator('.lm-TabBar-tab[data-id="lakelab-sidebar"]')
    if "lm-mod-current" not in (tab.get_attribute("class") or ""):
        tab.click()
    menu = page.locator(".lm-Menu")
    row(page, "demo", "namespace").click()
    row(page, "flights").click(button="right")
    expect(menu.locator(".lm-Menu-itemLabel", has_text="Open Dataset")).to_be_visible()
    expect(menu.locator(".lm-Menu-itemLabel", has_text="Open Report")).to_have_count(0)
    page.keyboard.press("Escape")
    row(page, "delay_report").click(button="right")
    expect(menu.locator(".lm-Menu-itemLabel", has_text="Open Report")).to_be_visible()
    page.keyboard.press("Escape")
    row(page, "demo", "namespace").click(button="right")
    for label in ("Query Namespace in Notebook", "New Dataset Here", "Copy Namespace Name"):
        expect(menu.locator(".lm-Menu-itemLabel", has_text=label)).to_be_visible()
    shot(page, "walk-namespace-menu")
    page.keyboard.press("Escape")
    row(page, "flights").locator(".jp-lakelab-caret").click()
    row(page, "carrier", "column").click(button="right")
    expect(menu.locator(".lm-Menu-itemLabel", has_text="Copy Column Name")).to_be_visible()
    menu.locator(".lm-Menu-itemLabel", has_text="Query Column in Notebook").click()
    expect(page.locator(".jp-NotebookPanel:visible .jp-Cell")).to_have_count(2)
    path = current_path(page)
    assert sources(page, path) == [
        "%load_ext lakelab",
        "%%trino\nSELECT carrier, count(*) AS n\nFROM demo.flights\nGROUP BY carrier\nORDER BY n DESC\nLIMIT 100",
    ]
    shot(page, "walk-column-query")
    row(page, "demo", "namespace").click(button="right")
    menu.locator(".lm-Menu-itemLabel", has_text="New Dataset Here").click()
    assert sources(page, path)[-1].startswith("%%trino --into demo.new_dataset\n")
    row(page, "demo", "namespace").click(button="right")
    menu.locator(".lm-Menu-itemLabel", has_text="Query Namespace in Notebook").click()
    assert sources(page, path)[-1] == "%%trino\nSHOW TABLES FROM demo"

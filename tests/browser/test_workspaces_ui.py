"""The Workspaces panel in real Chromium against a real `jupyter lab` that starts real Ray
clusters (1 CPU, no workers: the machine is small and shared).

The lab gets its own LAKELAB_HOME with a workspaces config, so its state dir, ports and
Ray processes are its own; teardown stops the lab (which stops its workspaces) and then
checks that no process of any workspace it started is left.
"""

from __future__ import annotations

import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import yaml
from playwright.sync_api import Page, expect

from lakelab.workspaces.backends.local import group_pids
from lakelab.workspaces.state import Store

from .conftest import TIMEOUT, Lab, new_notebook, open_lab, run_command, shot

expect.set_options(timeout=30_000)
RAY_START_MS = 240_000  # a Ray head on a loaded 2-core machine
WS = "uiws"


class WorkspaceLab(Lab):
    """A lab plus what its workspaces left behind: process groups and temp dirs seen."""

    def __init__(self, root: Path, home: Path, base_url: str = "/"):
        super().__init__(root, home, name="wslab" if base_url == "/" else "wshub", base_url=base_url)
        self.home = home
        self.groups: set[int] = set()
        self.temp_dirs: set[str] = set()

    @property
    def store(self) -> Store:
        return Store(self.home / "workspaces")

    def remember(self, name: str) -> None:
        rec = self.store.load(name)
        self.groups |= {n.pid for n in ([rec.head] if rec.head else []) + rec.nodes}
        if rec.temp_dir:
            self.temp_dirs.add(rec.temp_dir)

    def leftovers(self) -> list[int]:
        """Live processes of the workspaces seen: in their process groups or naming their temp dirs."""
        pids = {pid for g in self.groups for pid in group_pids(g)}
        for p in psutil.process_iter(["pid", "cmdline", "status"]):
            try:
                cmd = " ".join(p.info["cmdline"] or [])
                if p.info["status"] != psutil.STATUS_ZOMBIE and any(t in cmd for t in self.temp_dirs):
                    pids.add(p.info["pid"])
            except psutil.Error:
                continue
        return sorted(pids)


def start_lab(base: Path, base_url: str = "/") -> WorkspaceLab:
    home = base / "lakelab_home"
    home.mkdir()
    (home / "config.yaml").write_text(
        yaml.safe_dump(
            {
                "workspaces": {
                    "backend": "local",
                    "max_workers": 1,
                    "max_cpus_per_node": 1,
                    "object_store_mb": 128,
                    "idle_timeout_s": 0,
                    "stop_on_shutdown": True,
                }
            }
        )
    )
    root = base / "notebooks"
    root.mkdir()
    saved = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("RAY_")}  # Lab copies os.environ
    try:
        return WorkspaceLab(root, home, base_url)
    finally:
        os.environ.update(saved)


def stop_lab(server: WorkspaceLab) -> None:
    for name in server.store.names():  # whatever a failed test left running
        server.remember(name)
    server.stop()
    left = server.leftovers()
    for pgid in server.groups:  # safety net, then fail loudly
        if group_pids(pgid):
            os.killpg(pgid, signal.SIGKILL)
    assert not left, f"Ray processes left behind by the lab's workspaces: {left}"


@pytest.fixture(scope="module")
def ws_lab(tmp_path_factory) -> Iterator[WorkspaceLab]:
    server = start_lab(tmp_path_factory.mktemp("wslab"))
    yield server
    stop_lab(server)


@pytest.fixture(scope="module")
def ws_hub(tmp_path_factory) -> Iterator[WorkspaceLab]:
    """Under a non-root base URL, as JupyterHub serves a user's lab."""
    server = start_lab(tmp_path_factory.mktemp("wshub"), base_url="/user/tester/")
    yield server
    stop_lab(server)


def open_panel(page: Page):
    tab = page.locator('.lm-TabBar-tab[data-id="lakelab-workspaces"]')
    tab.wait_for()
    if "lm-mod-current" not in (tab.get_attribute("class") or ""):
        tab.click()
    panel = page.locator("#lakelab-workspaces")
    panel.wait_for(state="visible")
    return panel


def set_theme(page: Page, dark: bool) -> None:
    run_command(page, "apputils:change-theme", {"theme": "JupyterLab Dark" if dark else "JupyterLab Light"})
    expect(page.locator("body")).to_have_attribute("data-jp-theme-light", "false" if dark else "true")
    page.wait_for_timeout(500)  # let the theme's CSS apply before the screenshot


def create(panel, name: str, cpus: str = "1", workers: str = "0") -> None:
    panel.get_by_label("workspace name").fill(name)
    panel.get_by_label("CPUs per node").fill(cpus)
    panel.get_by_label("workers", exact=True).fill(workers)
    panel.get_by_role("button", name="Create").click()


def notebook_sources(page: Page) -> list[str]:
    return page.evaluate("""() => {
        const nb = window.jupyterapp.shell.currentWidget;
        return nb.content.model.sharedModel.cells.map(c => c.getSource());
    }""")


def assert_never_sent(token: str, requests: list, responses: list) -> None:
    for r in requests:
        assert token not in r.url and token not in (r.post_data or ""), r.url
        assert token not in str(r.headers), r.url
    for r in responses:
        assert token not in str(r.headers), r.url
        try:
            body = r.body()
        except Exception:  # noqa: BLE001 - redirects and aborted loads have no body
            continue
        assert token.encode() not in body, r.url


def test_a_bad_workspace_name_shows_the_servers_message(page: Page, ws_lab: WorkspaceLab):
    open_lab(page, ws_lab)
    panel = open_panel(page)
    expect(panel.locator(".lakelab-ws-limits")).to_have_text("Limits: 1 CPU per node, 1 worker")
    create(panel, "9 bad")
    error = panel.locator(".lakelab-ws-error")
    expect(error).to_contain_text("workspace name '9 bad' is not a valid name")
    expect(error).to_contain_text("HTTP 400")
    create(panel, "toobig", workers="5")
    expect(error).to_contain_text("HTTP 4")
    expect(error).to_contain_text("worker")
    expect(panel.locator(".lakelab-ws-card")).to_have_count(0)
    shot(page, "workspaces-bad-name")
    assert ws_lab.store.names() == []


def test_create_watch_connect_dashboard_and_stop_a_workspace(page: Page, ws_lab: WorkspaceLab):
    context = page.context
    requests = []
    responses = []
    context.on("request", lambda r: requests.append(r))
    context.on("response", lambda r: responses.append(r))
    open_lab(page, ws_lab)
    new_notebook(page)

    panel = open_panel(page)
    create(panel, WS)
    card = panel.locator(f'.lakelab-ws-card[data-name="{WS}"]')
    expect(card).to_be_visible()  # at once, as pending, while Ray starts
    expect(card.locator(".lakelab-ws-state")).to_have_text("running", timeout=RAY_START_MS)
    ws_lab.remember(WS)
    assert ws_lab.leftovers(), "the running workspace has Ray processes"
    expect(card.locator(".lakelab-ws-fact-nodes dd")).to_have_text("1")
    expect(card.locator(".lakelab-ws-fact-cpus dd")).to_have_text("1")
    expect(card.locator(".lakelab-ws-fact-memory dd")).to_have_text(re.compile(r"\d+(\.\d)? (MiB|GiB)"))
    expect(card.locator(".lakelab-ws-fact-uptime dd")).not_to_have_text("-")
    shot(page, "workspaces-running-light")
    set_theme(page, dark=True)
    shot(page, "workspaces-running-dark")
    set_theme(page, dark=False)

    # connect code goes into the notebook that was active
    card.get_by_role("button", name="Connect code").click()
    expect(panel.locator(".lakelab-ws-info")).to_contain_text(f"Connect code for {WS} inserted into")
    # the new notebook's empty cell is filled rather than left above the code
    assert notebook_sources(page) == [f'import lakelab\nlakelab.workspace("{WS}").connect()']
    # ... and running it connects the notebook's kernel to the workspace (its status card)
    run_command(page, "notebook:run-cell")
    output = page.locator(".jp-NotebookPanel .jp-OutputArea-output").first
    expect(output).to_contain_text(f"workspace {WS}", timeout=RAY_START_MS)
    expect(output).to_contain_text("running")

    # the dashboard opens in a new tab through the Jupyter server's proxy
    with context.expect_page() as popup_info:
        card.get_by_role("button", name="Dashboard").click()
    dash = popup_info.value
    dash.wait_for_load_state("load")
    assert dash.url.startswith(f"{ws_lab.url}lakelab/api/v1/workspaces/{WS}/dashboard/")
    expect(dash).to_have_title(re.compile("Ray"))
    # live cluster figures: the dashboard's own API calls went through the proxy, with the token
    expect(dash.locator("body")).to_contain_text(re.compile(r"/1\.0 CPU"), timeout=TIMEOUT)
    shot(dash, "workspaces-dashboard")
    token = ws_lab.store.token(WS)
    assert len(token) >= 32
    # the Ray token never reached the browser: not in any page, request or response
    assert any("/dashboard/" in r.url for r in requests)
    for html in (dash.content(), page.content()):
        assert token not in html
    assert_never_sent(token, requests, responses)  # while the dashboard's tab still answers
    requests.clear()
    responses.clear()
    dash.close()

    x = "kept_value = 41"
    page.evaluate(
        """(src) => { const nb = window.jupyterapp.shell.currentWidget.content;
           nb.model.sharedModel.insertCell(1, {cell_type: 'code', source: src}); nb.activeCellIndex = 1; }""",
        x,
    )
    run_command(page, "notebook:run-cell")
    expect(page.locator(".jp-NotebookPanel .jp-Cell").nth(1).locator(".jp-InputPrompt")).to_have_text("[2]:")

    # Stop asks first and names the notebook whose kernel is connected
    card.get_by_role("button", name="Stop").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text(f"Stop workspace {WS}?")
    expect(dialog).to_contain_text("Connected: Untitled.ipynb")
    expect(dialog).to_contain_text("its kernel keeps running with its variables")
    shot(page, "workspaces-stop-confirm")
    dialog.get_by_role("button", name="Stop").click()
    # the card goes with the record: the panel shows what `%workspace list` shows
    expect(card).to_have_count(0, timeout=RAY_START_MS)
    expect(panel.locator(".lakelab-ws-info")).to_have_text(
        f"Stopped {WS}; disconnected Untitled.ipynb (kernels still running)."
    )
    assert ws_lab.store.names() == []
    # the kernel is alive, kept its variables, and its next cell says what happened
    page.evaluate(
        """(src) => { const nb = window.jupyterapp.shell.currentWidget.content;
           nb.model.sharedModel.insertCell(2, {cell_type: 'code', source: src}); nb.activeCellIndex = 2; }""",
        "import ray\nprint(kept_value + 1, ray.is_initialized())",
    )
    run_command(page, "notebook:run-cell")
    after = page.locator(".jp-NotebookPanel .jp-Cell").nth(2).locator(".jp-OutputArea-output")
    expect(after).to_contain_text(f"lakelab: workspace '{WS}' was stopped; this kernel disconnected from it")
    expect(after).to_contain_text("42 False")
    shot(page, "workspaces-stopped-kernel-alive")
    set_theme(page, dark=True)
    shot(page, "workspaces-stopped-dark")
    set_theme(page, dark=False)
    assert ws_lab.store.names() == []
    assert ws_lab.leftovers() == [], "no Ray process of the stopped workspace remains"

    assert_never_sent(token, requests, responses)


def test_the_dashboard_opens_under_a_non_root_base_url(page: Page, ws_hub: WorkspaceLab):
    open_lab(page, ws_hub)
    panel = open_panel(page)
    create(panel, "hubws")
    card = panel.locator('.lakelab-ws-card[data-name="hubws"]')
    expect(card.locator(".lakelab-ws-state")).to_have_text("running", timeout=RAY_START_MS)
    ws_hub.remember("hubws")
    with page.context.expect_page() as popup_info:
        card.get_by_role("button", name="Dashboard").click()
    dash = popup_info.value
    assert dash.url.startswith(f"{ws_hub.url}lakelab/api/v1/workspaces/hubws/dashboard/")
    assert "/user/tester/" in dash.url
    expect(dash.locator("body")).to_contain_text(re.compile(r"/1\.0 CPU"), timeout=TIMEOUT)
    dash.close()
    card.get_by_role("button", name="Stop").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Stop").click()
    expect(card).to_have_count(0, timeout=RAY_START_MS)
    assert ws_hub.leftovers() == []

"""Models, reports and the lineage graph in a real JupyterLab (issue 7). The seeded lakehouse
has demo.flights -> demo.delay_model (scikit-learn, published with the library) ->
demo.delay_report (a DataFrame, then a notebook). Screenshots go to tests/artifacts/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import REPORT_TITLE, Lab, open_lab, run_command, shot
from .test_lakehouse_ui import open_demo_namespace, open_sidebar, row

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

expect.set_options(timeout=30_000)


def dark(page: Page, on: bool) -> None:
    run_command(page, "apputils:change-theme", {"theme": "JupyterLab Dark" if on else "JupyterLab Light"})
    page.wait_for_function(f"() => document.body.dataset.jpThemeLight === '{'false' if on else 'true'}'")
    page.wait_for_timeout(500)  # let the theme's CSS apply before the screenshot


def current_tab(page: Page):
    return page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current .lm-TabBar-tabLabel")


def report_frame(page: Page):
    return page.locator(".jp-lakelab-report:visible iframe.jp-lakelab-report-frame")


def test_a_report_opens_from_the_sidebar_in_a_sandboxed_tab_showing_its_content(page: Page, lab: Lab):
    open_lab(page, lab)
    open_sidebar(page)
    open_demo_namespace(page)
    row(page, "delay_report").click(button="right")
    page.locator(".lm-Menu .lm-Menu-itemLabel", has_text="Open Report").first.click()
    frame = report_frame(page)
    expect(frame).to_have_count(1)
    # scripts may run, but never in the Jupyter page's origin
    assert frame.get_attribute("sandbox") == "allow-scripts"
    assert frame.get_attribute("src").endswith("lakelab/api/v1/datasets/demo.delay_report/versions/2/report")
    expect(current_tab(page)).to_have_text("demo.delay_report v2")
    # the latest version is the published notebook: its heading and its output, inside the frame
    inside = page.frame_locator(".jp-lakelab-report:visible iframe.jp-lakelab-report-frame")
    expect(inside.locator("h1", has_text=REPORT_TITLE)).to_be_visible()
    expect(inside.locator("body")).to_contain_text("mean predicted delay: 19.5")
    # the frame is an opaque origin: it cannot read the Jupyter page or its cookies
    report = next(f for f in page.frames if f.url.endswith("/versions/2/report"))
    origin = report.evaluate(
        "() => { try { return String(window.parent.document.title); } catch (e) { return 'blocked'; } }"
    )
    assert origin == "blocked"
    shot(page, "report-tab")
    dark(page, True)
    shot(page, "report-tab-dark")
    dark(page, False)
    # the tab's toolbar leads back to the dataset
    page.locator(".jp-lakelab-report-dataset:visible").click()
    expect(page.locator(".jp-lakelab-dataset:visible .jp-lakelab-dataset-name")).to_have_text("demo.delay_report")
    assert page.page_errors == []


def test_each_report_version_opens_from_the_dataset_view(page: Page, lab: Lab):
    open_lab(page, lab)
    run_command(page, "lakelab:open-dataset", {"name": "demo.delay_report"})
    view = page.locator(".jp-lakelab-dataset:visible")
    expect(view.locator(".jp-lakelab-kind-report")).to_have_text("report")
    versions = view.locator(".jp-lakelab-version")
    expect(versions).to_have_count(2)
    expect(versions.nth(0).locator(".jp-lakelab-format")).to_have_text("notebook")
    shot(page, "dataset-view-report")
    # version 1 was a DataFrame: an HTML table of the mean predicted delay per carrier
    view.locator('.jp-lakelab-version[data-version="1"] .jp-lakelab-open-version').click()
    expect(current_tab(page)).to_have_text("demo.delay_report v1")
    inside = page.frame_locator(".jp-lakelab-report:visible iframe.jp-lakelab-report-frame")
    expect(inside.locator("table")).to_contain_text("predicted")
    expect(inside.locator("table")).to_contain_text("WN")
    shot(page, "report-tab-dataframe")
    # the head's button opens the latest version
    run_command(page, "lakelab:open-dataset", {"name": "demo.delay_report"})
    page.locator(".jp-lakelab-dataset:visible .jp-lakelab-open-report").click()
    expect(current_tab(page)).to_have_text("demo.delay_report v2")


def test_open_report_on_a_dataset_that_is_not_a_report_says_so(page: Page, lab: Lab):
    open_lab(page, lab)
    run_command(page, "lakelab:open-report", {"name": "demo.delay_model"})
    expect(page.locator(".Toastify__toast", has_text="demo.delay_model is a model, not a report")).to_be_visible()
    expect(page.locator(".jp-lakelab-report")).to_have_count(0)


def node(view, name: str):
    return view.locator(f'.jp-lakelab-lineage-node[data-name="{name}"]')


def test_the_lineage_graph_draws_table_model_report_and_each_node_opens_its_dataset(page: Page, lab: Lab):
    open_lab(page, lab)
    run_command(page, "lakelab:open-dataset", {"name": "demo.delay_report"})
    view = page.locator(".jp-lakelab-dataset:visible")
    graph = view.locator(".jp-lakelab-lineage-graph")
    expect(graph).to_be_visible()
    # two hops up (the default): the model, then the table it was trained on; kinds as icons
    expect(node(view, "demo.delay_model")).to_have_attribute("data-dataset-kind", "model")
    expect(node(view, "demo.flights")).to_have_attribute("data-dataset-kind", "table")
    expect(node(view, "demo.delay_report")).to_have_attribute("data-dataset-kind", "report")
    x = {n: node(view, n).bounding_box()["x"] for n in ("demo.flights", "demo.delay_model", "demo.delay_report")}
    assert x["demo.flights"] < x["demo.delay_model"] < x["demo.delay_report"]
    expect(
        view.locator('.jp-lakelab-lineage-edge[data-source="demo.flights"][data-target="demo.delay_model"]')
    ).to_have_count(1)
    expect(
        view.locator('.jp-lakelab-lineage-edge[data-source="demo.delay_model"][data-target="demo.delay_report"]')
    ).to_have_count(1)
    view.locator(".jp-lakelab-lineage-section").scroll_into_view_if_needed()
    shot(page, "lineage-graph")
    dark(page, True)
    shot(page, "lineage-graph-dark")
    dark(page, False)
    # one hop: only the model is left upstream; three: the CSV files flights was ingested from
    depth = view.locator(".jp-lakelab-lineage-depth")
    depth.select_option("1")
    expect(node(view, "demo.flights")).to_have_count(0)
    expect(node(view, "demo.delay_model")).to_be_visible()
    depth.select_option("3")
    expect(view.locator(".jp-lakelab-lineage-source-node")).to_have_count(3)  # the notebook and two CSVs
    shot(page, "lineage-graph-depth-3")
    # a node opens its dataset, whose graph puts it in the centre
    node(view, "demo.flights").click()
    flights = page.locator(".jp-lakelab-dataset:visible")
    expect(flights.locator(".jp-lakelab-dataset-name")).to_have_text("demo.flights")
    expect(node(flights, "demo.flights")).to_have_class(re.compile("jp-mod-current"))
    expect(node(flights, "demo.delay_report")).to_have_attribute("data-direction", "downstream")
    node(flights, "demo.delay_model").click()
    expect(page.locator(".jp-lakelab-dataset:visible .jp-lakelab-dataset-name")).to_have_text("demo.delay_model")
    assert page.page_errors == []


def test_search_shows_kind_and_versions_and_filters_by_kind(page: Page, lab: Lab):
    open_lab(page, lab)
    open_sidebar(page)
    search = page.locator("#lakelab-sidebar .jp-lakelab-search")
    results = page.locator("#lakelab-sidebar .jp-lakelab-row-dataset")
    search.fill("delay")
    expect(results.locator(".jp-lakelab-label")).to_have_text(
        ["demo.delay_model", "demo.delay_report", "demo.delays_by_carrier", "demo.flights"]
    )
    model = results.filter(has_text="demo.delay_model")
    assert model.get_attribute("data-dataset-kind") == "model"
    expect(model.locator(".jp-lakelab-detail")).to_have_text("2 versions")
    search.fill("delay kind:report")
    expect(results.locator(".jp-lakelab-label")).to_have_text(["demo.delay_report"])
    shot(page, "sidebar-search-kind")
    search.fill("kind:model")
    expect(results.locator(".jp-lakelab-label")).to_have_text(["demo.delay_model"])

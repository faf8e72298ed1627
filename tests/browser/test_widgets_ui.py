"""The %%trino result grid in a real JupyterLab through Debian's Chromium: sort, page to the
end of a 1M-row result, filter, profile, chart, errors and a kernel restart. Screenshots go
to tests/artifacts/widgets-*.png."""

from __future__ import annotations

import nbformat
import pytest
from playwright.sync_api import Page, expect

from .conftest import Lab, open_lab, run_command, shot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]
expect.set_options(timeout=60_000)

MILLION = (
    "%%trino\n"
    "SELECT f.flight * 10000 + g.flight AS id, f.carrier, g.dep_delay\n"
    "FROM demo.flights f CROSS JOIN demo.flights g WHERE g.flight <= 400"
)


def open_notebook(page: Page, lab: Lab, name: str, *sources: str):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(lab.root / name))
    open_lab(page, lab)
    run_command(page, "docmanager:open", {"path": name})
    panel = page.locator(".jp-NotebookPanel:visible")
    panel.locator(".jp-Cell").first.wait_for()
    page.wait_for_function(
        "() => { const p = window.jupyterapp.shell.currentWidget; return p && p.sessionContext"
        " && p.sessionContext.session && p.sessionContext.session.kernel"
        " && p.sessionContext.session.kernel.status === 'idle'; }"
    )
    run_command(page, "notebook:run-all-cells")
    return panel


def test_grid_sorts_pages_filters_profiles_and_charts_a_million_rows_in_the_engine(page: Page, lab: Lab):
    panel = open_notebook(page, lab, "grid.ipynb", "%load_ext lakelab", MILLION)
    grid = panel.locator(".jp-lakelab-grid")
    position = grid.locator(".jp-lakelab-grid-position")
    expect(position).to_have_text("rows 1–50 of 1,000,000", timeout=180_000)
    # column headers say the type
    expect(grid.locator('th[data-column="dep_delay"] .jp-lakelab-grid-type')).to_have_text("double")
    shot(page, "widgets-grid-first-page")

    # sort by a column: the whole million, sorted by the engine
    grid.locator('th[data-column="dep_delay"] .jp-lakelab-grid-colname').click()
    expect(grid.locator('th[data-column="dep_delay"]')).to_have_attribute("aria-sort", "ascending")
    first_delay = grid.locator("tbody tr").first.locator("td").nth(3)
    expect(first_delay).to_have_text("-10")
    shot(page, "widgets-grid-sorted")

    # the last page
    grid.locator(".jp-lakelab-grid-last").click()
    expect(position).to_have_text("rows 999,951–1,000,000 of 1,000,000")
    expect(grid.locator("tbody tr")).to_have_count(50)
    expect(grid.locator("tbody tr").last.locator("td").nth(3)).to_have_text("49")
    shot(page, "widgets-grid-last-page")

    # filter: back to page one, counted again
    grid.locator(".jp-lakelab-grid-filter-column").select_option(label="carrier")
    grid.locator(".jp-lakelab-grid-filter-op").select_option("=")
    grid.locator(".jp-lakelab-grid-filter-value").fill("DL")
    grid.locator(".jp-lakelab-grid-filter-add").click()
    expect(position).to_have_text("rows 1–50 of 200,000")
    expect(grid.locator(".jp-lakelab-grid-chip")).to_contain_text("carrier = DL")
    shot(page, "widgets-grid-filtered")

    # a malformed filter is one line inside the widget
    grid.locator(".jp-lakelab-grid-filter-column").select_option(label="dep_delay")
    grid.locator(".jp-lakelab-grid-filter-op").select_option(">")
    grid.locator(".jp-lakelab-grid-filter-value").fill("ten")
    grid.locator(".jp-lakelab-grid-filter-add").click()
    expect(grid.locator(".jp-lakelab-grid-error")).to_have_text("filter on 'dep_delay' (double): 'ten' is not a number")
    grid.locator(".jp-lakelab-grid-chip").last.locator("button").click()
    expect(grid.locator(".jp-lakelab-grid-error")).to_be_hidden()

    # a profile on demand
    grid.locator('th[data-column="dep_delay"] .jp-lakelab-grid-profile-open').click()
    profile = grid.locator(".jp-lakelab-grid-profile")
    expect(profile.locator(".jp-lakelab-grid-profile-distinct")).to_have_text("60")
    expect(profile.locator(".jp-lakelab-grid-profile-nulls")).to_have_text("0")
    expect(profile.locator(".jp-lakelab-grid-hbar")).to_have_count(20)
    shot(page, "widgets-grid-profile")

    # a chart, aggregated by the engine, drawn by JupyterLab's Vega-Lite renderer
    grid.locator(".jp-lakelab-grid-chart-toggle").click()
    grid.locator(".jp-lakelab-grid-chart-kind").select_option("bar")
    grid.locator(".jp-lakelab-grid-chart-x").select_option(label="carrier")
    grid.locator(".jp-lakelab-grid-chart-y").select_option(label="dep_delay")
    grid.locator(".jp-lakelab-grid-chart-agg").select_option("avg")
    grid.locator(".jp-lakelab-grid-chart-draw").click()
    chart = panel.locator(".jp-lakelab-grid-box .vega-embed").first
    expect(chart).to_be_visible()
    grid.locator(".jp-lakelab-grid-chart-copy").click()
    expect(grid.locator(".jp-lakelab-grid-chart-code")).to_contain_text("alt.Chart(data).mark_bar()")
    chart.scroll_into_view_if_needed()
    shot(page, "widgets-grid-chart")
    assert page.page_errors == []


def test_after_a_kernel_restart_the_grid_says_to_rerun_the_cell(page: Page, lab: Lab):
    panel = open_notebook(page, lab, "restart.ipynb", "%load_ext lakelab", "%%trino\nSELECT * FROM demo.flights")
    grid = panel.locator(".jp-lakelab-grid")
    expect(grid.locator(".jp-lakelab-grid-position")).to_have_text("rows 1–50 of 2,500", timeout=180_000)
    page.evaluate("() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.restart()")
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'"
    )
    # no click needed: the banner shows as soon as the widget's kernel connection is gone
    expect(grid.locator(".jp-lakelab-grid-banner")).to_contain_text("re-run the cell")
    shot(page, "widgets-grid-kernel-restarted")


def field(panel, label: str):
    return panel.locator(f".widget-inline-hbox:has(label:text-is('{label}'))").first


def test_ingest_and_publish_through_the_forms(page: Page, lab: Lab):
    lines = ["id,region,amount"] + [f"{i},{['north', 'south'][i % 2]},{i * 1.5}" for i in range(300)]
    (lab.root / "orders.csv").write_text("\n".join(lines) + "\n")
    panel = open_notebook(
        page,
        lab,
        "forms.ipynb",
        "import lakelab\nlakelab.widgets.ingest()",
        "import pandas as pd\n"
        "weekly = pd.DataFrame({'week': [1, 2], 'sales': [10.5, 12.0]})\n"
        "lakelab.widgets.publish()",
    )
    form = panel.locator(".jp-lakelab-form").first
    form.wait_for(timeout=180_000)
    field(form, "file").locator("input").fill("orders.csv")
    form.locator("button", has_text="Preview schema").click()
    expect(form.locator(".jp-lakelab-form-schema th")).to_have_count(3)
    expect(form.locator(".jp-lakelab-form-schema")).to_contain_text("bigint")
    field(form, "namespace").locator("input").fill("sales")
    field(form, "name").locator("input").press_sequentially("Bad Name")
    expect(form).to_contain_text("is not a valid name")
    field(form, "name").locator("input").fill("orders")
    expect(form).to_contain_text("→ sales.orders")
    field(form, "partition by").locator("select").select_option("region")
    shot(page, "widgets-ingest-form")
    form.locator("button", has_text="Ingest").click()
    expect(form).to_contain_text("wrote 300 rows to sales.orders", timeout=120_000)
    shot(page, "widgets-ingest-done")

    pub = panel.locator(".jp-lakelab-form").nth(1)
    pub.wait_for(timeout=120_000)
    pub.scroll_into_view_if_needed()
    field(pub, "variable").locator("select").select_option(label="weekly (table)")
    field(pub, "namespace").locator("input").fill("reports")
    field(pub, "description").locator("textarea").fill("Weekly sales")
    field(pub, "owner").locator("input").fill("ana")
    field(pub, "tags").locator("input").fill("finance,")
    field(pub, "tags").locator("input").press("Enter")
    expect(pub.locator(".jupyter-widget-tag, .jupyter-widgets-tag, .widget-tag").first).to_contain_text("finance")
    pub.locator("button", has_text="Publish").click()
    expect(pub).to_contain_text("published weekly as reports.weekly", timeout=120_000)
    shot(page, "widgets-publish-done")
    assert page.page_errors == []


def test_moving_a_parameter_slider_reruns_the_query(page: Page, lab: Lab):
    panel = open_notebook(
        page,
        lab,
        "interact.ipynb",
        "%load_ext lakelab\nlo = 100",
        "%%trino --interact lo=0:2500:100\n"
        "SELECT count(*) AS n, min(flight) AS first FROM demo.flights WHERE flight >= {{ lo }}",
    )
    box = panel.locator(".jp-lakelab-interact")
    cell_n = box.locator(".jp-lakelab-grid tbody tr").first.locator("td").nth(1)
    expect(cell_n).to_have_text("2,401".replace(",", ""), timeout=180_000)
    shot(page, "widgets-interact-before")
    readout = box.locator(".widget-readout").first
    readout.click()
    page.keyboard.press("Control+a")
    page.keyboard.type("2000")
    page.keyboard.press("Enter")
    expect(cell_n).to_have_text("501")
    expect(box.locator(".jp-lakelab-interact-done")).to_have_text("lo=2000")
    shot(page, "widgets-interact-after")
    assert page.page_errors == []


def test_a_dataset_shows_a_preview_grid_with_a_snapshot_slider(page: Page, lab: Lab):
    panel = open_notebook(page, lab, "dataset.ipynb", "import lakelab\nlakelab.connect().dataset('demo.flights')")
    preview = panel.locator(".jp-lakelab-dataset-preview")
    position = preview.locator(".jp-lakelab-grid-position")
    expect(position).to_have_text("rows 1–50 of 2,500", timeout=180_000)
    expect(preview.locator(".widget-readout")).to_contain_text("(current)", timeout=60_000)
    preview.locator(".noUi-handle").first.focus()
    page.keyboard.press("ArrowLeft")  # the older snapshot: the first 1,500 rows
    expect(position).to_have_text("rows 1–50 of 1,500", timeout=60_000)  # a loaded machine re-queries slowly
    shot(page, "widgets-dataset-preview-older-snapshot")
    assert page.page_errors == []

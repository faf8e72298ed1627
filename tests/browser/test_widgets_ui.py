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
    grid.locator(".jp-lakelab-grid-next").click()
    expect(grid.locator(".jp-lakelab-grid-banner")).to_contain_text("re-run the cell")
    shot(page, "widgets-grid-kernel-restarted")

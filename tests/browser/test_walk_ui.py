"""The first walk through the UI, step by step, where it stopped (issue 20, points 4-9), in a
real JupyterLab through Debian's Chromium: what made each snapshot, the lineage graph, the
preview grid, the %%trino result and reprs, search and "Go to dataset", and errors.
Screenshots go to tests/artifacts/walk-*.png."""

from __future__ import annotations

import re

import nbformat
import pytest
from playwright.sync_api import Page, expect

from .conftest import Lab, open_lab, run_command, shot
from .test_lakehouse_ui import open_flights, open_sidebar

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]
expect.set_options(timeout=60_000)

DERIVED = "walk.delays_by_carrier_and_fleet_size"
CELLS = [
    "%load_ext lakelab",
    "import lakelab, pandas as pd\n"
    "lh = lakelab.connect()\n"
    'lh.ingest(pd.DataFrame({"carrier": ["AA", "UA"], "seats": [180, 150]}), "walk.fleet")\n'
    'lh.ingest(pd.DataFrame({"carrier": ["AA", "UA", "AA"], "delay": [5.0, None, 12.5]}), "walk.delays");',
    f"%%trino --into {DERIVED}\n"
    "SELECT d.carrier, avg(d.delay) AS avg_delay, max(f.seats) AS seats\n"
    "FROM walk.delays d JOIN walk.fleet f ON d.carrier = f.carrier GROUP BY d.carrier",
    "%%trino\nSELECT flight, carrier FROM demo.flights ORDER BY flight LIMIT 100",
    "%%trino --save aa\nSELECT flight, carrier FROM demo.flights WHERE carrier = 'AA'",
    f'lh.dataset("{DERIVED}").lineage()',
    'first = lh.dataset("demo.flights").snapshots()[-1].snapshot_id\n'
    'lh.dataset("demo.flights").preview(3, snapshot_id=first)',
    "%%trino\nSELEC * FROM demo.flights",
]


def kernel_idle(page: Page) -> None:
    page.wait_for_function(
        "() => { const p = window.jupyterapp.shell.currentWidget; return p && p.sessionContext"
        " && p.sessionContext.session && p.sessionContext.session.kernel"
        " && p.sessionContext.session.kernel.status === 'idle'; }"
    )


def view_call(page: Page, js: str):
    """Evaluate `js` with `v` bound to the current dataset view."""
    return page.evaluate(f"() => {{ const v = window.jupyterapp.shell.currentWidget.content; return {js}; }}")


def test_a_notebook_walk_results_reprs_errors_and_what_made_each_snapshot(page: Page, lab: Lab):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(lab.root / "walk.ipynb"))
    open_lab(page, lab)
    run_command(page, "docmanager:open", {"path": "walk.ipynb"})
    panel = page.locator(".jp-NotebookPanel:visible")
    cells = panel.locator(".jp-Cell")
    cells.first.wait_for()
    kernel_idle(page)
    run_command(page, "notebook:run-all-cells")  # stops at the last cell, which fails

    # 9: a misspelt first word is reported where it is, with the word meant; one line
    error = cells.nth(7).locator(".jp-OutputArea-output")
    expect(error).to_have_text(
        re.compile(
            r"lakelab error: SQL syntax error at line 1, column 1: "
            r"'SELEC' does not start a statement; did you mean SELECT\?"
        )
    )
    # 7: 100 rows: a bounded page, and a way to the rest
    grid = cells.nth(3).locator(".jp-lakelab-grid")
    expect(grid.locator(".jp-lakelab-grid-position")).to_have_text("rows 1–50 of 100")
    grid.locator(".jp-lakelab-grid-next").click()
    expect(grid.locator(".jp-lakelab-grid-position")).to_have_text("rows 51–100 of 100")
    grid.scroll_into_view_if_needed()
    shot(page, "walk-trino-100-rows")
    # 7: --save says what it saved, in one line, and prints no rows
    saved = cells.nth(4).locator(".jp-OutputArea-output")
    expect(saved).to_have_text(
        "saved query aa (flight, carrier): use it with %%trino --with aa; add --show to see its rows"
    )
    # 7: lineage() and preview(snapshot_id=...) read as tables, not a dict or an Arrow dump
    lineage_out = cells.nth(5).locator(".jp-OutputArea-output")
    expect(lineage_out).to_contain_text(f"lineage of {DERIVED} (depth 1)")
    expect(lineage_out.locator("td", has_text=re.compile(r"^walk\.delays@\d+$"))).to_have_count(1)
    preview_out = cells.nth(6).locator(".jp-OutputArea-output")
    expect(preview_out).to_contain_text(re.compile(r"demo\.flights at snapshot \d+: 3 rows"))
    expect(preview_out.locator("tbody tr")).to_have_count(3)
    assert "pyarrow.Table" not in preview_out.inner_text()
    cells.nth(6).scroll_into_view_if_needed()
    shot(page, "walk-notebook-results")

    # 9: column names complete after the table name in a %%trino cell
    cells.nth(7).click()
    run_command(page, "notebook:insert-cell-below")
    editor = panel.locator(".jp-Cell.jp-mod-active .cm-content")
    editor.click()
    page.keyboard.type("%%trino\nSELECT * FROM demo.flights WHERE dep_d")
    page.keyboard.press("Tab")
    expect(page.locator(".jp-Completer-item", has_text="dep_delay")).to_contain_text("column")
    shot(page, "walk-column-completion")
    page.keyboard.press("Enter")
    expect(editor).to_contain_text("WHERE dep_delay")

    # 4: the derived table's snapshot says what made it
    run_command(page, "lakelab:open-dataset", {"name": DERIVED})
    view = page.locator(".jp-lakelab-dataset:visible")
    snap = view.locator(".jp-lakelab-snapshot").first
    expect(snap.locator(".jp-lakelab-snapshot-made-by")).to_have_text(re.compile(r"^transform by \S+ on duckdb$"))
    snap.locator(".jp-lakelab-snapshot-toggle").click()
    details = view.locator(".jp-lakelab-snapshot-details").first
    expect(details.locator(".jp-lakelab-provenance-engine")).to_contain_text("duckdb")
    expect(details.locator(".jp-lakelab-provenance-notebook")).to_contain_text(re.compile(r"walk\.ipynb · In \[3\]"))
    expect(details.locator(".jp-lakelab-provenance-sql")).to_contain_text("FROM walk.delays d JOIN walk.fleet f")
    ups = details.locator(".jp-lakelab-provenance-upstream")
    expect(ups).to_have_text(["walk.delays", "walk.fleet"])
    expect(details.locator(".jp-lakelab-provenance-upstreams")).to_contain_text(re.compile(r"walk\.delays @ \d+"))
    details.scroll_into_view_if_needed()
    shot(page, "walk-snapshot-provenance")

    # 5: two tables ingested from DataFrames keep one source node each; long names are cut at
    # the end with the full name on hover; a node expands in place
    sources = view.locator(".jp-lakelab-lineage-source-node")
    expect(sources).to_have_count(2)
    assert sorted(sources.evaluate_all("ns => ns.map(n => n.dataset.name)")) == [
        "python:pandas.DataFrame#walk.delays",
        "python:pandas.DataFrame#walk.fleet",
    ]
    me = view.locator(f'.jp-lakelab-lineage-node[data-name="{DERIVED}"]')
    label = me.locator(".jp-lakelab-lineage-label").text_content()
    assert label.endswith("…") and DERIVED.startswith(label[:-1]), label
    expect(me.locator("title").first).to_have_text(DERIVED)
    view.locator(".jp-lakelab-lineage-depth").select_option("1")
    expect(sources).to_have_count(0)
    view.locator('.jp-lakelab-lineage-node[data-name="walk.fleet"] .jp-lakelab-lineage-expand').click()
    expect(sources).to_have_count(1)
    expect(view.locator('.jp-lakelab-lineage-node[data-name="python:pandas.DataFrame#walk.fleet"]')).to_be_visible()
    expect(view.locator('.jp-lakelab-lineage-node[data-name="walk.fleet"] .jp-lakelab-lineage-expand')).to_have_count(0)
    view.locator(".jp-lakelab-lineage-section").scroll_into_view_if_needed()
    shot(page, "walk-lineage-expanded")
    assert page.page_errors == []


def test_the_preview_grid_sorts_pages_by_offset_resizes_and_counts_nulls_on_the_server(page: Page, lab: Lab):
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/preview" in r.url else None)
    view = open_flights(page, lab)
    # every row is reachable: pages come from server offsets, not the first 1,000 re-read
    expect(view.locator(".jp-lakelab-preview-status")).to_have_text("2,500 rows")
    page.wait_for_function("() => window.jupyterapp.shell.currentWidget.content.previewModel?.nullCounts")
    assert view_call(page, "[0, 1, 2, 3].map(c => v.previewModel.data('column-header', 1, c))") == ["0 nulls"] * 4

    def click_header(column: int) -> None:
        x, y = view_call(
            page,
            f"""(() => {{ const g = v._grid; const r = g.node.getBoundingClientRect();
                let x = r.left + g.headerWidth;
                for (let i = 0; i < {column}; i++) x += g.columnSize('body', i);
                return [x + g.columnSize('body', {column}) / 2, r.top + 10]; }})()""",
        )
        page.mouse.click(x, y)

    click_header(3)  # dep_delay: ascending, on the server
    page.wait_for_function(
        "() => { const m = window.jupyterapp.shell.currentWidget.content.previewModel;"
        " return m && m.sort && m.sort.column === 'dep_delay' && m.data('body', 0, 3) !== '…'; }"
    )
    assert view_call(page, "v.previewModel.data('column-header', 0, 3)") == "dep_delay ▲"
    assert view_call(page, "v.previewModel.data('body', 0, 3)") == "-10"
    click_header(3)  # descending
    page.wait_for_function(
        "() => { const m = window.jupyterapp.shell.currentWidget.content.previewModel;"
        " return m.sort && m.sort.descending && m.data('body', 0, 3) !== '…'; }"
    )
    assert view_call(page, "v.previewModel.data('body', 0, 3)") == "49"
    # a row past 1,000 is one request at its offset
    view_call(page, "v.previewModel.data('body', 2450, 0)")
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.content.previewModel.data('body', 2450, 0) !== '…'"
    )
    assert any("offset=2400" in u and "sort=dep_delay" in u and "order=desc" in u for u in asked), asked
    assert not any(re.search(r"limit=2[0-9]{3}", u) for u in asked), asked
    assert view_call(page, "v.previewModel.data('body', 2499, 3)") in ("-10", "…")
    # columns resize by dragging a header edge
    before = view_call(page, "v._grid.columnSize('body', 1)")
    x, y = view_call(
        page,
        """(() => { const g = v._grid; const r = g.node.getBoundingClientRect();
            const edge = g.headerWidth + g.columnSize('body', 0) + g.columnSize('body', 1) - 1;
            return [r.left + edge, r.top + 10]; })()""",
    )
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + 90, y, steps=5)
    page.mouse.up()
    assert view_call(page, "v._grid.columnSize('body', 1)") >= before + 60
    assert view_call(page, "v.previewModel.sort.column") == "dep_delay"  # a resize is not a sort
    view.locator(".jp-lakelab-preview").scroll_into_view_if_needed()
    shot(page, "walk-preview-grid-sorted")


def test_go_to_dataset_forgives_typos_offers_facets_and_tag_suggestions(page: Page, lab: Lab):
    open_lab(page, lab)
    open_sidebar(page)
    # the sidebar: `tag:` alone suggests the tags (the search box's own dropdown)
    search = page.locator("#lakelab-sidebar .jp-lakelab-search")
    search.fill("tag:")
    options = page.locator("#lakelab-sidebar datalist option")
    expect(options.first).to_be_attached()
    assert "tag:aviation" in options.evaluate_all("os => os.map(o => o.value)")
    search.fill("")

    page.evaluate("() => { window.__walk = window.jupyterapp.commands.execute('lakelab:go-to-dataset'); }")
    dialog = page.locator(".jp-lakelab-picker-dialog")
    box = dialog.locator(".jp-lakelab-picker-input")
    expect(box).to_be_focused()
    box.fill("fligths")
    expect(dialog.locator(".jp-lakelab-picker-note")).to_have_text('No dataset matches "fligths": showing "flights".')
    expect(dialog.locator(".jp-lakelab-picker-item").first).to_have_attribute("data-value", "demo.flights")
    expect(dialog.locator('.jp-lakelab-picker-facet[data-facet="owner:ops"]')).to_have_text("ops (1)")
    shot(page, "walk-go-to-dataset-typo")

    box.fill("tag:")
    expect(dialog.locator('.jp-lakelab-picker-item[data-value="tag:aviation"]')).to_contain_text("1")
    expect(dialog.locator('.jp-lakelab-picker-item[data-value="tag:ml"]')).to_contain_text("2")
    shot(page, "walk-go-to-dataset-tags")
    dialog.locator('.jp-lakelab-picker-item[data-value="tag:ml"]').click()
    expect(box).to_have_value("tag:ml ")
    items = dialog.locator(".jp-lakelab-picker-item")
    expect(items).to_have_count(2)
    assert sorted(items.evaluate_all("is => is.map(i => i.dataset.value)")) == ["demo.delay_model", "demo.delay_report"]
    box.press("ArrowDown")
    box.press("Enter")
    view = page.locator(".jp-lakelab-dataset:visible")
    expect(view.locator(".jp-lakelab-dataset-name")).to_have_text("demo.delay_report")
    assert page.page_errors == []

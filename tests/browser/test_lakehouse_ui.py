"""The Lakehouse sidebar, dataset view, commands and %%trino highlighting in a real
JupyterLab driven through Debian's Chromium. Screenshots go to tests/artifacts/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import TOKEN, Lab, new_notebook, open_lab, open_palette, run_command, shot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

# the machine is shared: give every expectation room (they still finish as soon as they hold)
expect.set_options(timeout=30_000)


def open_sidebar(page: Page) -> None:
    tab = page.locator('.lm-TabBar-tab[data-id="lakelab-sidebar"]')
    tab.wait_for()
    if "lm-mod-current" not in (tab.get_attribute("class") or ""):
        tab.click()
    page.locator("#lakelab-sidebar").wait_for(state="visible")


def row(page: Page, label: str, kind: str = "dataset"):
    return page.locator(f'#lakelab-sidebar .jp-lakelab-row-{kind}:has(.jp-lakelab-label:text-is("{label}"))')


def open_demo_namespace(page: Page) -> None:
    row(page, "demo", "namespace").click()
    row(page, "flights").wait_for()


def test_sidebar_lists_the_datasets_with_kind_icons(page: Page, lab: Lab):
    open_lab(page, lab)
    open_sidebar(page)
    expect(row(page, "demo", "namespace")).to_be_visible()
    expect(row(page, "sales", "namespace")).to_be_visible()
    open_demo_namespace(page)
    labels = page.locator("#lakelab-sidebar .jp-lakelab-row-dataset .jp-lakelab-label").all_text_contents()
    assert labels == ["airlines", "delay_model", "delay_report", "delays_by_carrier", "flights"]
    assert row(page, "flights").get_attribute("data-dataset-kind") == "table"
    assert row(page, "delay_model").get_attribute("data-dataset-kind") == "model"
    assert row(page, "delay_report").get_attribute("data-dataset-kind") == "report"
    # models and reports say their kind and how many versions they have
    expect(row(page, "delay_model").locator(".jp-lakelab-detail")).to_have_text("2 versions")
    expect(row(page, "delay_report").locator(".jp-lakelab-detail")).to_have_text("2 versions")
    assert "model, 2 versions" in row(page, "delay_model").get_attribute("title")
    # a dataset expands into its columns with their types
    row(page, "flights").locator(".jp-lakelab-caret").click()
    expect(row(page, "dep_delay", "column").locator(".jp-lakelab-detail")).to_have_text("double")
    # nested namespaces load when opened
    row(page, "sales", "namespace").click()
    row(page, "eu", "namespace").click()
    expect(row(page, "orders")).to_be_visible()
    expect(page.locator("#lakelab-sidebar .jp-lakelab-status")).to_contain_text("engine duckdb")
    shot(page, "sidebar-tree")
    assert page.page_errors == []


def test_a_namespace_of_hundreds_of_datasets_is_drawn_as_a_window(page: Page, lab: Lab):
    open_lab(page, lab)
    open_sidebar(page)
    row(page, "bulk", "namespace").click()
    row(page, "r00000").wait_for()
    tree = page.locator("#lakelab-sidebar .jp-lakelab-tree")
    spacer_rows = lambda: tree.locator(".jp-lakelab-tree-spacer").evaluate("e => e.offsetHeight / 24")
    assert spacer_rows() >= 200  # the first page of 200 datasets is in the model...
    assert page.locator("#lakelab-sidebar .jp-lakelab-row").count() < 80  # ...but only a window is in the DOM
    for loaded in (400, 450):
        tree.evaluate("e => { e.scrollTop = e.scrollHeight; }")
        page.locator("#lakelab-sidebar .jp-lakelab-row-more").click()
        # scroll only once the page has arrived, or the window stays where the list ended
        page.wait_for_function(
            "n => document.querySelector('#lakelab-sidebar .jp-lakelab-tree-spacer').offsetHeight >= n * 24", arg=loaded
        )
        tree.evaluate("e => { e.scrollTop = e.scrollHeight; }")
    expect(row(page, "r00449")).to_be_visible()
    expect(page.locator("#lakelab-sidebar .jp-lakelab-row-more")).to_have_count(0)
    assert page.locator("#lakelab-sidebar .jp-lakelab-row").count() < 80
    expect(row(page, "r00000")).to_have_count(0)  # scrolled out of the window
    # only the tree scrolls: the search box stays in view
    assert page.locator("#lakelab-sidebar").evaluate("e => e.scrollTop") == 0
    expect(page.locator("#lakelab-sidebar .jp-lakelab-search")).to_be_in_viewport()
    shot(page, "sidebar-windowed")


def test_search_filters_the_datasets_on_the_server(page: Page, lab: Lab):
    open_lab(page, lab)
    open_sidebar(page)
    search = page.locator("#lakelab-sidebar .jp-lakelab-search")
    search.fill("airline")
    expect(page.locator("#lakelab-sidebar .jp-lakelab-row-dataset .jp-lakelab-label")).to_have_text(["demo.airlines"])
    # column names are searched too
    search.fill("origin")
    expect(page.locator("#lakelab-sidebar .jp-lakelab-row-dataset .jp-lakelab-label")).to_have_text(["demo.flights"])
    shot(page, "sidebar-search")
    search.fill("no-such-thing-anywhere")
    expect(page.locator("#lakelab-sidebar .jp-lakelab-row-empty")).to_contain_text("No datasets match")
    search.fill("")
    expect(row(page, "demo", "namespace")).to_be_visible()


def open_flights(page: Page, lab: Lab):
    open_lab(page, lab)
    open_sidebar(page)
    open_demo_namespace(page)
    row(page, "flights").click()
    view = page.locator(".jp-lakelab-dataset:visible")
    view.locator(".jp-lakelab-schema").wait_for()
    return view


def preview_cell(page: Page, r: int, c: int) -> str:
    return page.evaluate(
        """([r, c]) => {
            const w = window.jupyterapp.shell.currentWidget;
            const m = w && w.content && w.content.previewModel;
            return m ? String(m.data('body', r, c)) : null;
        }""",
        [r, c],
    )


def test_dataset_view_shows_schema_stats_lineage_and_a_preview_with_rows(page: Page, lab: Lab):
    view = open_flights(page, lab)
    expect(view.locator(".jp-lakelab-dataset-name")).to_have_text("demo.flights")
    schema = view.locator(".jp-lakelab-schema-row")
    expect(schema).to_have_count(4)
    expect(view.locator('.jp-lakelab-schema-row[data-column="dep_delay"] .jp-lakelab-col-type')).to_have_text("double")
    expect(view.locator('.jp-lakelab-schema-row[data-column="carrier"] .jp-lakelab-col-doc')).to_have_text(
        "two-letter carrier code"
    )
    expect(view.locator(".jp-lakelab-stats")).to_contain_text("2,500")
    expect(view.locator("textarea[name=description]")).to_have_value("Departures from New York airports")
    expect(view.locator(".jp-lakelab-snapshot")).to_have_count(2)
    # the lineage graph, two hops down: the derived table, the model trained on flights, its report
    downstream = view.locator('.jp-lakelab-lineage-node[data-direction="downstream"]')
    expect(downstream).to_have_count(3)
    assert sorted(downstream.evaluate_all("ns => ns.map(n => n.dataset.name)")) == [
        "demo.delay_model",
        "demo.delay_report",
        "demo.delays_by_carrier",
    ]
    expect(view.locator(".jp-lakelab-preview-status")).to_have_text(re.compile(r"^2,500 rows"))
    page.wait_for_function("""() => {
        const m = window.jupyterapp.shell.currentWidget.content.previewModel;
        return m && m.data('body', 0, 0) !== '…';
    }""")
    # Iceberg does not promise a row order across data files: check the values are rows
    assert 1 <= int(preview_cell(page, 0, 0)) <= 2500
    assert preview_cell(page, 0, 1) in {"AA", "B6", "DL", "UA", "WN"}
    assert preview_cell(page, 3, 2) in {"JFK", "LGA", "EWR"}
    shot(page, "dataset-view")
    # a lineage node opens the other dataset
    view.locator('.jp-lakelab-lineage-node[data-name="demo.delays_by_carrier"]').click()
    other = page.locator(".jp-lakelab-dataset:visible")
    expect(other.locator(".jp-lakelab-dataset-name")).to_have_text("demo.delays_by_carrier")
    upstream = other.locator('.jp-lakelab-lineage-node.jp-mod-openable[data-direction="upstream"]')
    expect(upstream).to_have_count(2)
    assert sorted(upstream.evaluate_all("ns => ns.map(n => n.dataset.name)")) == ["demo.airlines", "demo.flights"]
    assert page.page_errors == []


def test_picking_an_older_snapshot_previews_the_table_as_it_was(page: Page, lab: Lab):
    view = open_flights(page, lab)
    view.locator(".jp-lakelab-snapshot").last.locator(".jp-lakelab-preview-snapshot").click()
    expect(view.locator(".jp-lakelab-preview-title")).to_contain_text("time travel")
    expect(view.locator(".jp-lakelab-preview-status")).to_have_text(re.compile(r"^1,500 rows"))
    expect(view.locator(".jp-lakelab-snapshot.jp-mod-selected")).to_have_count(1)
    shot(page, "dataset-time-travel")


def test_scrolling_the_preview_fetches_later_pages(page: Page, lab: Lab):
    open_flights(page, lab)
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.content.previewModel?.rowCount('body') === 2500"
    )
    # asking for a far row loads only that row's page
    page.evaluate("() => window.jupyterapp.shell.currentWidget.content.previewModel.data('body', 950, 0)")
    page.wait_for_function(
        "() => window.jupyterapp.shell.currentWidget.content.previewModel.data('body', 950, 0) !== '…'"
    )
    pages = page.evaluate("() => window.jupyterapp.shell.currentWidget.content.previewModel.cachedPages")
    assert 0 in pages and 9 in pages


def test_editing_description_owner_and_tags_saves_them(page: Page, lab: Lab):
    open_lab(page, lab)
    run_command(page, "lakelab:open-dataset", {"name": "demo.airlines"})
    view = page.locator(".jp-lakelab-dataset:visible")
    view.locator("textarea[name=description]").fill("Airline names, edited in the browser")
    view.locator("input[name=tags]").fill("reference, edited")
    view.locator(".jp-lakelab-save").click()
    expect(view.locator(".jp-lakelab-save-status")).to_have_text(re.compile("Saved"))
    view.locator(".jp-lakelab-reload").click()
    expect(view.locator("textarea[name=description]")).to_have_value("Airline names, edited in the browser")
    expect(view.locator("input[name=tags]")).to_have_value("reference, edited")
    # a bad tag is refused with the server's message, visibly
    view.locator("input[name=tags]").fill("x" * 80)
    view.locator(".jp-lakelab-save").click()
    expect(view.locator(".jp-lakelab-save-status.jp-lakelab-error")).to_contain_text("Not saved")


def test_commands_are_in_the_palette_and_the_dataset_context_menu(page: Page, lab: Lab):
    open_lab(page, lab)
    open_sidebar(page)
    open_demo_namespace(page)
    row(page, "airlines").click(button="right")
    menu = page.locator(".lm-Menu")
    for label in ["Open Dataset", "Open Preview", "Query in Notebook", "Copy Dataset Name", "Copy SELECT"]:
        expect(menu.locator(".lm-Menu-itemLabel", has_text=label).first).to_be_visible()
    shot(page, "sidebar-context-menu")
    palette = open_palette(page, "Query in Notebook")
    expect(palette.locator(".lm-CommandPalette-itemLabel", has_text="Query in Notebook")).to_be_visible()


def cell_editor(page: Page, index: int):
    return page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-Cell").nth(index).locator(".cm-editor")


def test_query_in_notebook_inserts_a_trino_cell_that_runs_and_shows_a_result(page: Page, lab: Lab):
    view = open_flights(page, lab)
    view.locator(".jp-lakelab-query").click()
    nb = page.locator(".jp-NotebookPanel:visible")
    nb.wait_for()
    cells = nb.locator(".jp-Cell")
    expect(cells).to_have_count(2)
    expect(cells.nth(0).locator(".cm-content")).to_have_text("%load_ext lakelab")
    expect(cells.nth(1).locator(".cm-content")).to_have_text(
        "%%trino" + "SELECT * FROM demo.flights LIMIT 100"
    )  # lines are separate divs
    # the %%trino cell is highlighted as SQL, the Python cell is not
    sql_editor = cell_editor(page, 1)
    expect(sql_editor).to_have_attribute("data-lakelab-language", "trino-sql")
    expect(sql_editor.locator(".tok-keyword", has_text="SELECT")).to_have_count(1)
    expect(sql_editor.locator(".tok-keyword", has_text="FROM")).to_have_count(1)
    assert cell_editor(page, 0).get_attribute("data-lakelab-language") is None
    shot(page, "notebook-trino-cell")
    # run both cells on the kernel: the result table shows the dataset's columns
    page.wait_for_function(
        "() => { const p = window.jupyterapp.shell.currentWidget; return p && p.sessionContext"
        " && p.sessionContext.session && p.sessionContext.session.kernel; }"
    )
    run_command(page, "notebook:run-all-cells")
    output = cells.nth(1).locator(".jp-OutputArea-output")
    expect(output.first).to_be_visible(timeout=120_000)
    expect(output.first).to_contain_text("dep_delay", timeout=120_000)
    expect(output.first).to_contain_text("AA")
    shot(page, "notebook-trino-result")


def test_a_trino_cell_typed_by_hand_switches_to_sql_highlighting(page: Page, lab: Lab):
    open_lab(page, lab)
    nb = new_notebook(page)
    nb.locator(".jp-Cell .cm-content").first.click()
    page.keyboard.type("x = 1")
    editor = cell_editor(page, 0)
    expect(editor.locator(".cm-line")).to_have_text("x = 1")
    assert editor.get_attribute("data-lakelab-language") is None
    page.keyboard.press("Control+a")
    page.keyboard.type("%%trino\nSELECT count(*) FROM demo.airlines WHERE carrier = 'AA'")
    expect(editor).to_have_attribute("data-lakelab-language", "trino-sql")
    expect(editor.locator(".tok-keyword", has_text="WHERE")).to_have_count(1)
    expect(editor.locator(".tok-string")).to_have_text(["'AA'"])
    # removing the magic gives the cell back to Python
    page.keyboard.press("Control+Home")
    page.keyboard.press("Delete")
    expect(editor).not_to_have_attribute("data-lakelab-language", "trino-sql")


def test_dragging_a_dataset_onto_a_notebook_creates_the_trino_cell(page: Page, lab: Lab):
    open_lab(page, lab)
    nb = new_notebook(page)
    open_sidebar(page)
    open_demo_namespace(page)
    source = row(page, "airlines").bounding_box()
    target = nb.locator(".jp-Cell").first.bounding_box()
    page.mouse.move(source["x"] + 30, source["y"] + 10)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(
            source["x"] + 30 + (target["x"] + 100 - source["x"] - 30) * step / 10,
            source["y"] + 10 + (target["y"] + 10 - source["y"] - 10) * step / 10,
        )
    page.mouse.up()
    expect(nb.locator(".jp-Cell .cm-content", has_text="SELECT * FROM demo.airlines LIMIT 100")).to_have_count(1)
    shot(page, "notebook-after-drop")


def test_dark_theme_uses_the_theme_colours(page: Page, lab: Lab):
    view = open_flights(page, lab)
    run_command(page, "apputils:change-theme", {"theme": "JupyterLab Dark"})
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
    page.wait_for_timeout(500)  # let the theme's CSS apply before the screenshot
    bg = view.locator(".jp-lakelab-info").evaluate(
        "e => getComputedStyle(e.closest('.jp-lakelab-dataset')).backgroundColor"
    )
    channels = [int(x) for x in re.findall(r"\d+", bg)[:3]]
    assert max(channels) < 80, f"dataset view background {bg} is not dark"
    shot(page, "dataset-view-dark")
    run_command(page, "apputils:change-theme", {"theme": "JupyterLab Light"})
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'")


def test_missing_server_extension_is_said_plainly(page: Page, lab_without_server_extension: Lab):
    open_lab(page, lab_without_server_extension)
    open_sidebar(page)
    banner = page.locator("#lakelab-sidebar .jp-lakelab-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("lakelab server extension is not running")
    expect(page.locator("#lakelab-sidebar .jp-lakelab-search")).to_be_disabled()
    shot(page, "sidebar-missing-server-extension")


def test_a_failed_request_says_what_failed(page: Page, lab: Lab):
    open_lab(page, lab)
    run_command(page, "lakelab:open-dataset", {"name": "demo.no_such_table"})
    error = page.locator(".jp-lakelab-dataset:visible .jp-lakelab-error[role=alert]")
    expect(error).to_contain_text("Could not load dataset demo.no_such_table")
    expect(error).to_contain_text("does not exist")
    expect(error).to_contain_text("(HTTP 404)")
    shot(page, "dataset-view-error")


def put_settings(lab: Lab, raw: dict) -> None:
    import json
    import urllib.request

    req = urllib.request.Request(
        f"{lab.url}lab/api/settings/lakelab:plugin",
        method="PUT",
        data=json.dumps({"raw": json.dumps(raw)}).encode(),
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 204


def test_hidden_namespaces_setting_hides_them_from_the_sidebar(page: Page, lab: Lab):
    put_settings(lab, {"hiddenNamespaces": ["sales"]})
    try:
        open_lab(page, lab)
        open_sidebar(page)
        expect(row(page, "demo", "namespace")).to_be_visible()
        expect(row(page, "sales", "namespace")).to_have_count(0)
    finally:
        put_settings(lab, {})


def test_the_sidebar_works_under_a_jupyterhub_style_base_url(page: Page, lab_under_base_url: Lab):
    open_lab(page, lab_under_base_url)
    open_sidebar(page)
    open_demo_namespace(page)
    row(page, "airlines").click()
    view = page.locator(".jp-lakelab-dataset:visible")
    expect(view.locator(".jp-lakelab-preview-status")).to_have_text(re.compile(r"^5 rows"))
    assert "/user/tester/lab" in page.url


def test_a_model_dataset_shows_its_versions(page: Page, lab: Lab):
    open_lab(page, lab)
    run_command(page, "lakelab:open-dataset", {"name": "demo.delay_model"})
    view = page.locator(".jp-lakelab-dataset:visible")
    expect(view.locator(".jp-lakelab-kind-model")).to_have_text("model")
    versions = view.locator(".jp-lakelab-version")
    expect(versions).to_have_count(2)
    # newest first, with the libraries needed to load it and a short checksum
    expect(versions.first.locator("td").first).to_have_text("2")
    expect(versions.first.locator(".jp-lakelab-libraries")).to_contain_text("scikit-learn")
    expect(versions.first.locator(".jp-lakelab-sha")).to_have_text(re.compile(r"^[0-9a-f]{12}$"))
    assert len(versions.first.locator(".jp-lakelab-sha").get_attribute("title")) == 64
    expect(view.locator(".jp-lakelab-stats")).to_contain_text("versions")
    shot(page, "dataset-view-model")


def test_query_in_notebook_adds_to_the_active_notebook_after_its_active_cell(page: Page, lab: Lab):
    open_lab(page, lab)
    nb = new_notebook(page)
    nb.locator(".jp-Cell .cm-content").first.click()
    page.keyboard.type("x = 1")
    page.keyboard.press("Escape")
    run_command(page, "lakelab:query-in-notebook", {"name": "demo.airlines"})
    run_command(page, "lakelab:query-in-notebook", {"name": "demo.flights"})
    sources = nb.locator(".jp-Cell .cm-content")
    expect(sources).to_have_count(4)
    # the extension is loaded once, at the top; each query lands after the cell that was active
    expect(sources).to_have_text(
        [
            "%load_ext lakelab",
            "x = 1",
            "%%trinoSELECT * FROM demo.airlines LIMIT 100",
            "%%trinoSELECT * FROM demo.flights LIMIT 100",
        ]
    )

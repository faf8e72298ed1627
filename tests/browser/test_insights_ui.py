"""The dataset view's Insights section in a real JupyterLab on Debian's Chromium: the usage a
session recorded, as its reader sees it. The screenshot goes to tests/artifacts/."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import Page, expect

from .conftest import Lab, open_lab, run_command, shot

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]
expect.set_options(timeout=30_000)


def _record_usage(home) -> None:
    """Usage rows as the recorder writes them (usage/recorder.py), into the lab's lakehouse."""
    import os

    import lakelab
    from lakelab.config import load_config
    from lakelab.usage.recorder import write_rows

    old = os.environ.get("LAKELAB_HOME")
    os.environ["LAKELAB_HOME"] = str(home)
    try:
        lh = lakelab.Lakehouse(load_config())
        today = datetime.now(timezone.utc).replace(hour=9)
        rows = []
        for i, (user, days_ago, sql, tables) in enumerate(
            [
                ("alice", 1, "SELECT * FROM demo.flights", ["demo.flights"]),
                ("alice", 1, "SELECT * FROM demo.flights", ["demo.flights"]),
                ("alice", 0, "SELECT * FROM demo.flights", ["demo.flights"]),
                (
                    "bob",
                    0,
                    "SELECT f.*, a.name FROM demo.flights f JOIN demo.airlines a USING (carrier)",
                    ["demo.flights", "demo.airlines"],
                ),
            ]
        ):
            for t in tables:
                rows.append(
                    {
                        "ts": today - timedelta(days=days_ago),
                        "query_id": f"q{i}",
                        "user_name": user,
                        "engine": "duckdb",
                        "table_name": t,
                        "snapshot_id": None,
                        "rows": 10,
                        "elapsed_ms": 5.0,
                        "sql": sql,
                        "notebook": None,
                    }
                )
        write_rows(lh, rows)
        lh.close()
    finally:
        if old is None:
            os.environ.pop("LAKELAB_HOME")
        else:
            os.environ["LAKELAB_HOME"] = old


def test_insights_show_who_queries_a_dataset_and_how(page: Page, lab: Lab, seeded):
    _record_usage(seeded[0])
    open_lab(page, lab)
    run_command(page, "lakelab:open-dataset", {"name": "demo.flights"})
    view = page.locator(".jp-lakelab-dataset:visible")
    insights = view.locator(".jp-lakelab-insights")
    insights.scroll_into_view_if_needed()
    expect(insights.locator(".jp-lakelab-insights-summary")).to_have_text("4 queries in the last 30 days")
    users = insights.locator(".jp-lakelab-insights-users tbody tr")
    expect(users).to_have_count(2)
    expect(users.nth(0)).to_have_text("alice3")
    expect(users.nth(1)).to_have_text("bob1")
    expect(insights.locator(".jp-lakelab-insights-joins tbody tr")).to_have_text("demo.airlines1")
    expect(insights.locator(".jp-lakelab-insights-day")).to_have_count(2)
    first_query = insights.locator(".jp-lakelab-insights-queries tbody tr").first
    expect(first_query).to_contain_text("SELECT * FROM demo.flights")
    expect(first_query.locator("td").first).to_have_text("3")
    insights.scroll_into_view_if_needed()
    shot(page, "dataset-insights")
    # a dataset nobody queried says why: the test lab records no usage (tests/conftest.py)
    run_command(page, "lakelab:open-dataset", {"name": "demo.delay_report"})
    other = page.locator(".jp-lakelab-dataset:visible .jp-lakelab-insights")
    expect(other).to_contain_text("Usage recording is switched off for this lakehouse.")
    assert page.page_errors == []

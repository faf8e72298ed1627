"""Live objects: a dataset's preview grid with a snapshot slider; a workspace's live status."""

from __future__ import annotations

import lakelab
from lakelab.notebook.widgets.live import DatasetPreview, WorkspaceWidget

from .conftest import rows


def test_dataset_preview_walks_its_snapshots(flights):
    flights.ingest(rows(500), "demo.flights", mode="append")
    preview = DatasetPreview(flights.dataset("demo.flights"))
    preview.wait()
    assert len(preview.snapshot.options) == 2 and preview.snapshot.label.endswith("(current)")
    grid = preview.output.children[0].grid
    assert grid.total == 1500 and len(grid.rows) == 50
    preview.snapshot.value = preview.snapshot.options[0][1]  # the first snapshot
    preview.wait()
    grid = preview.output.children[0].grid
    assert grid.total == 1000
    grid.filters = [{"column": 0, "op": ">=", "value": "990"}]
    grid.wait()
    assert grid.total == 10 and "FOR VERSION AS OF" in grid.view.sent[-1].sql


def test_dataset_display_is_the_card_without_a_kernel(flights):
    assert flights.dataset("demo.flights")._repr_mimebundle_() is None  # IPython falls back to the card


def test_workspace_widget_says_what_is_wrong_in_one_line(lh):
    live = WorkspaceWidget(lakelab.workspace("nosuch"), poll_s=0)
    live.wait()
    assert "nosuch" in live.status_line.value and "Traceback" not in live.status_line.value
    live.scale(2)
    live.wait()
    assert "nosuch" in live.status_line.value

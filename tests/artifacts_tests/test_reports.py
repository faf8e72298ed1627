"""Reports as versioned datasets: a notebook rendered with nbconvert, a matplotlib figure, a
DataFrame and an HTML file; and lineage across kinds, table -> model -> report."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.linear_model import LogisticRegression

from lakelab.errors import InvalidInput
from lakelab.write.publish import publish


def notebook(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Churn review\nGentoo penguins churn least."),
        nbformat.v4.new_code_cell(
            "1 + 1",
            execution_count=1,
            outputs=[nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)],
        ),
    ]
    nbformat.write(nb, str(path))
    return path


def test_a_notebook_is_published_as_a_report_rendered_to_html_and_versioned(lh, tmp_path):
    nb = notebook(tmp_path / "review.ipynb")
    ds = publish(lh, str(nb), "reports.review", kind="report", description="quarterly review")
    html = ds.load()
    assert "Churn review" in html and "Gentoo penguins churn least." in html and "<html" in html.lower()
    assert not re.search(r"<script[^>]*src=\"https?://", html)  # self-contained: no CDN scripts
    nb2 = nbformat.read(str(nb), as_version=4)
    nb2.cells[0].source = "# Churn review, take two"
    nbformat.write(nb2, str(nb))
    publish(lh, nb, "reports.review", kind="report")
    assert "take two" in ds.load() and "take two" not in ds.load(version=1)
    v1, v2 = ds.versions()
    assert (v1.version, v2.version) == (1, 2)
    assert v1.metadata["format"] == "notebook" and v1.metadata["content_type"] == "text/html"
    assert v1.filenames == ["review.ipynb"]
    assert ds.snapshots()[0].lineage.notebook == nb.resolve().as_uri()
    assert ds.metadata["kind"] == "report" and [d["name"] for d in lh.datasets(kind="report")] == ["reports.review"]


def test_a_matplotlib_figure_a_dataframe_and_an_html_file_become_self_contained_reports(lh, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([1, 2, 3], [3, 1, 2])
    figure = publish(lh, fig, "reports.figure", kind="report").load()
    assert "<img src='data:image/png;base64," in figure  # inline: the sandbox loads nothing from the network
    plt.close(fig)
    table = publish(lh, pd.DataFrame({"carrier": ["<b>AA</b>"], "delay": [5]}), "reports.table", kind="report").load()
    assert "&lt;b&gt;AA&lt;/b&gt;" in table and "<b>AA</b>" not in table
    arrow = publish(lh, pa.table({"n": [1, 2]}), "reports.arrow", kind="report").load()
    assert "<table" in arrow
    page = tmp_path / "page.html"
    page.write_text("<html><body><h1>Hand made</h1></body></html>")
    assert "Hand made" in publish(lh, page, "reports.page", kind="report").load()


@pytest.mark.parametrize(
    "obj, error, message",
    [
        (object(), InvalidInput, "cannot make a report from a object"),
        ("notes.txt", InvalidInput, "cannot make a report from"),
    ],
)
def test_things_that_cannot_be_reports_are_refused_and_nothing_is_written(lh, tmp_path, obj, error, message):
    if isinstance(obj, str):
        (tmp_path / obj).write_text("plain")
        obj = str(tmp_path / obj)
    with pytest.raises(error, match=message):
        publish(lh, obj, "reports.bad", kind="report")
    assert not lh.catalog.table_exists(("reports", "bad"))


def test_a_broken_notebook_is_refused_with_its_name(lh, tmp_path):
    bad = tmp_path / "broken.ipynb"
    bad.write_text("{not json")
    with pytest.raises(InvalidInput, match="cannot render notebook .*broken.ipynb"):
        publish(lh, str(bad), "reports.bad", kind="report")
    assert not lh.catalog.table_exists(("reports", "bad"))


def test_lineage_crosses_kinds_from_table_to_model_to_report(lh, tmp_path):
    lh.publish(pa.table({"x": [1.0, 2.0, 3.0, 4.0], "y": [0, 0, 1, 1]}), "demo.points")
    model = LogisticRegression().fit([[1.0], [2.0], [3.0], [4.0]], [0, 0, 1, 1])
    publish(lh, model, "ml.points", kind="model", inputs=["demo.points"])
    publish(lh, notebook(tmp_path / "eval.ipynb"), "reports.points", kind="report", inputs=["ml.points"])

    graph = lh.dataset("reports.points").lineage(depth=3)
    datasets = {n.id: n.direction for n in graph.nodes if n.type == "dataset"}
    assert datasets == {"reports.points": "self", "ml.points": "upstream", "demo.points": "upstream"}
    chain = {(e.source, e.target) for e in graph.edges if e.type == "dataset"}
    assert chain == {("demo.points", "ml.points"), ("ml.points", "reports.points")}
    model_snapshot = lh.dataset("ml.points").stats.current_snapshot_id
    assert [e.upstream_snapshot_id for e in graph.edges if e.source == "ml.points"] == [model_snapshot]
    down = lh.dataset("demo.points").lineage(depth=2)
    assert set(down.downstream) == {"ml.points", "reports.points"}

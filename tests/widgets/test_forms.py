"""The ingest and publish forms: their state and what they write, on a real embedded lakehouse."""

from __future__ import annotations

import pandas as pd

from lakelab.notebook.widgets import ingest, publish
from lakelab.notebook.widgets.forms import check_target, kernel_variables


def write_csv(path, n=120):
    lines = ["id,region,amount"] + [f"{i},{['north', 'south'][i % 2]},{i * 1.5}" for i in range(n)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_target_is_validated_as_it_is_typed(lh):
    form = ingest(lh)
    form.namespace.value = "sales"
    form.name.value = "Orders 2024"
    assert "Orders 2024&#x27; is not a valid name" in form.target_status.value
    assert form.submit_button.disabled
    form.name.value = "orders"
    assert "sales.orders" in form.target_status.value and form.target() == "sales.orders"
    assert check_target("a.b", "T") == "a.b.t"


def test_schema_preview_comes_before_anything_is_written(lh, tmp_path):
    form = ingest(lh, source=str(write_csv(tmp_path / "orders.csv")), namespace="sales", name="orders")
    assert form.submit_button.disabled  # not until the schema has been seen
    form.inspect()
    assert "<th>id<br><small" in form.preview.value and "bigint" in form.preview.value
    assert form.preview.value.count("<tr>") == 1 + 5  # header and five sample rows
    assert list(form.key.options) == ["id", "region", "amount"] == list(form.partition.options)
    assert not form.submit_button.disabled
    assert ("sales",) not in lh.catalog.list_namespaces()


def test_ingest_through_the_form_writes_with_lh_ingest_and_reports(lh, tmp_path):
    form = ingest(lh, source=str(write_csv(tmp_path / "orders.csv")), namespace="sales", name="orders")
    form.inspect()
    form.partition.value = ("region",)
    form.submit()
    form.wait()
    assert form.report.rows == 120 and "wrote 120 rows to sales.orders" in form.status.value
    assert form.progress.bar_style == "success" and "120 rows" in form.progress_text.value
    table = lh.catalog.load_table("sales.orders")
    assert table.scan().to_arrow().num_rows == 120
    assert [f.name for f in table.spec().fields] == ["region"]
    assert "orders.csv" in str(table.current_snapshot().summary.additional_properties)  # lineage names the file

    # upsert needs a key; a second run with it updates rows in place
    form.mode.value = "upsert"
    assert form.submit_button.disabled
    form.key.value = ("id",)
    form.submit()
    form.wait()
    assert lh.catalog.load_table("sales.orders").scan().to_arrow().num_rows == 120


def test_a_bad_source_is_one_line_in_the_form(lh, tmp_path):
    form = ingest(lh, source=str(tmp_path / "missing.csv"), namespace="s", name="t")
    form.inspect()
    assert "missing.csv" in form.status.value and "Traceback" not in form.status.value


def test_publish_form_lists_kernel_variables_and_publishes_with_lh_publish(lh):
    from sklearn.linear_model import LinearRegression

    lh.publish(pd.DataFrame({"a": [1]}), "ref.seed", tags=["finance", "daily"])
    ns = {"df": pd.DataFrame({"x": [1, 2, 3]}), "model": LinearRegression().fit([[0], [1]], [0, 1]), "n": 3}
    assert kernel_variables(ns) == {"df": "table", "model": "model"}
    form = publish(lh, ns)
    assert [v for _, v in form.variable.options] == ["df", "model"]
    assert set(form.tag_input.options) == {"finance", "daily"}  # autocomplete from existing tags
    form.variable.value = "df"
    assert form.kind.value == "table" and form.name.value == "df"
    form.namespace.value = "reports"
    form.name.value = "weekly"
    form.description.value = "Weekly numbers"
    form.owner.value = "ana"
    form.tag_input.value = "finance"  # picked from the suggestions
    form.tag_input.value = "new-tag,"  # a new one, typed
    assert list(form.tags.value) == ["finance", "new-tag"]
    form.submit()
    form.wait()
    assert "published df as reports.weekly" in form.status.value
    meta = lh.dataset("reports.weekly").metadata
    assert (meta["description"], meta["owner"], sorted(meta["tags"])) == (
        "Weekly numbers",
        "ana",
        ["finance", "new-tag"],
    )

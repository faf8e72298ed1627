"""Dataset: description, preview, snapshots, lineage, metadata edits, search, listing."""

from __future__ import annotations

import time

import pyarrow as pa
import pytest

from lakelab.datasets.search import list_datasets, list_namespaces
from lakelab.errors import InvalidInput, NotFound


@pytest.fixture
def chain(lh):
    lh.publish(
        pa.table({"id": [1, 2, 3], "v": [0.5, 1.5, 2.5]}),
        "raw.events",
        description="Raw <events>",
        owner="ana",
        tags="raw",
    )
    lh.publish("raw.events", "mid.events", tags="silver")
    lh.publish("mid.events", "gold.events", tags="gold", description="Curated events")
    return lh


def test_lineage_walks_upstream_and_downstream_to_the_requested_depth(chain):
    mid = chain.dataset("mid.events").lineage()
    assert {n.id: n.direction for n in mid.nodes} == {
        "mid.events": "self",
        "raw.events": "upstream",
        "gold.events": "downstream",
    }
    gold = chain.dataset("gold.events").lineage(depth=2)
    assert {n.id for n in gold.nodes} == {"gold.events", "mid.events", "raw.events"}
    assert {n.id for n in chain.dataset("gold.events").lineage(depth=1).nodes} == {"gold.events", "mid.events"}


def test_preview_is_bounded_selects_columns_and_travels_in_time(chain):
    ds = chain.dataset("raw.events")
    first = ds.table.current_snapshot().snapshot_id
    time.sleep(0.01)
    chain.publish(pa.table({"id": [9], "v": [9.0]}), "raw.events", mode="append")
    ds.refresh()
    assert ds.preview(2).num_rows == 2
    assert ds.preview(10, columns=["v"]).column_names == ["v"]
    assert ds.preview(10, snapshot_id=first).num_rows == 3
    assert ds.preview(10).num_rows == 4
    assert ds.load(version=first).num_rows == 3
    with pytest.raises(NotFound, match="no snapshot 1"):
        ds.preview(5, snapshot_id=1)
    with pytest.raises(InvalidInput, match="preview size"):
        ds.preview(10**9)


def test_schema_carries_field_ids_types_docs_and_nested_fields(lh):
    t = pa.table({"point": pa.array([{"x": 1, "y": 2}]), "tags": pa.array([["a"]])})
    ds = lh.publish(t, "geo.points")
    point, tags = ds.schema
    assert point.type == "struct" and [f.name for f in point.fields] == ["x", "y"]
    assert tags.type == "list" and all(isinstance(f.id, int) for f in point.fields)


def test_metadata_edits_are_a_commit_and_show_in_search(chain):
    ds = chain.dataset("gold.events")
    before = ds.table.metadata_location
    ds.set_metadata(owner="zoe", tags=["gold", "kpi"])
    assert ds.table.metadata_location != before and ds.metadata["owner"] == "zoe"
    assert [d["name"] for d in chain.datasets(owner="zoe")] == ["gold.events"]
    assert [d["name"] for d in chain.datasets(tag="kpi")] == ["gold.events"]
    with pytest.raises(InvalidInput, match="nothing to change"):
        ds.set_metadata()


def test_search_matches_every_word_across_name_description_and_columns(chain):
    assert [d["name"] for d in chain.datasets("curated")] == ["gold.events"]
    assert [d["name"] for d in chain.datasets("events raw")] == ["raw.events"]  # "raw" in name or tag
    assert len(chain.datasets("id")) == 3  # a column every dataset has
    assert chain.datasets("100%_match") == []  # LIKE wildcards are literal text
    with pytest.raises(InvalidInput):
        chain.datasets(kind="notebook")


def test_search_sees_changes_made_by_another_process_view(chain, lakelab_home):
    import lakelab
    from lakelab.config import load_config

    other = lakelab.Lakehouse(load_config())  # e.g. the server while a kernel publishes
    assert len(other.datasets("events")) == 3
    chain.publish(pa.table({"id": [1]}), "raw.more_events")
    assert "raw.more_events" in [d["name"] for d in other.datasets("events")]
    chain.catalog.drop_table(("raw", "more_events"))
    assert "raw.more_events" not in [d["name"] for d in other.datasets("events")]


def test_listing_pages_through_a_namespace_and_rejects_forged_tokens(lh):
    for i in range(7):
        lh.publish(pa.table({"x": [i]}), f"many.t{i}")
    seen, token = [], None
    while True:
        page = list_datasets(lh, "many", page_size=3, page_token=token)
        seen += [d["name"] for d in page["datasets"]]
        token = page["next_page_token"]
        if token is None:
            break
    assert seen == [f"many.t{i}" for i in range(7)]
    with pytest.raises(InvalidInput, match="page_token"):
        list_datasets(lh, "many", page_token="not-a-token")
    with pytest.raises(NotFound):
        list_datasets(lh, "nothing_here")
    assert [n["name"] for n in list_namespaces(lh)] == ["many"]


def test_the_card_escapes_user_text(chain):
    html = chain.dataset("raw.events")._repr_html_()
    assert "Raw &lt;events&gt;" in html and "<events>" not in html
    assert "Snapshots (1)" in html and "gold" not in html.split("Lineage")[0]


def test_cli_datasets_prints_matches(chain, capsys):
    import lakelab
    from lakelab.cli import main

    lakelab.connect(reload=True)
    assert main(["datasets", "curated"]) == 0
    out = capsys.readouterr().out
    assert "gold.events" in out and "raw.events" not in out
    with pytest.raises(SystemExit) as e:  # argparse names the allowed kinds
        main(["datasets", "--kind", "dashboard"])
    assert e.value.code == 2 and "invalid choice" in capsys.readouterr().err


def test_preview_equals_the_iceberg_scan_across_files_and_schema_evolution(lh):
    ds = lh.publish(pa.table({"id": [1, 2], "name": ["a", "b"]}), "evo.t")
    lh.publish(pa.table({"id": [3], "name": ["c"]}), "evo.t", mode="append")
    table = ds.refresh().table

    def same_as_scan(**kw):
        got = lh.dataset("evo.t").preview(10, **kw)
        want = lh.dataset("evo.t").table.scan(limit=10, selected_fields=tuple(kw.get("columns") or ["*"])).to_arrow()
        assert got.schema == want.schema and sorted(got.to_pylist(), key=str) == sorted(want.to_pylist(), key=str)
        return got

    assert same_as_scan().num_rows == 3  # rows from both data files
    with table.update_schema() as update:
        update.rename_column("name", "label")
        update.add_column("score", __import__("pyiceberg.types", fromlist=["DoubleType"]).DoubleType())
    got = same_as_scan()
    assert got.column_names == ["id", "label", "score"] and set(got["label"].to_pylist()) == {"a", "b", "c"}
    assert got["score"].null_count == 3  # old files do not have the new column
    assert same_as_scan(columns=["label"]).column_names == ["label"]


def test_snapshots_lineage_and_details_are_typed_values_with_notebook_views(chain):
    """What a notebook user gets back: attributes, a readable repr, escaped HTML, a DataFrame."""
    raw = chain.dataset("raw.events")
    chain.publish(pa.table({"id": [4], "v": [3.5]}), "raw.events", mode="append")
    snaps = raw.snapshots()
    newest, oldest = snaps[0], snaps[-1]
    assert newest.current and snaps.current is newest and newest.parent_id == oldest.snapshot_id
    assert newest.lineage.operation == "publish" and newest.summary["added-records"] == "1"
    assert repr(newest).startswith(f"<Snapshot {newest.snapshot_id} (current)")
    frame = snaps.to_pandas()
    assert frame["snapshot_id"].tolist() == [s.snapshot_id for s in snaps] and frame["current"].tolist() == [
        True,
        False,
    ]

    graph = chain.dataset("mid.events").lineage()
    assert graph.upstream == ["raw.events"] and graph.downstream == ["gold.events"]
    assert repr(graph).splitlines()[1].startswith("  raw.events@") and "-> mid.events  (publish, snapshot " in repr(
        graph
    )
    assert {(e.source, e.target) for e in graph.edges} == {("raw.events", "mid.events"), ("mid.events", "gold.events")}
    assert set(graph.to_pandas()["source"]) == {"raw.events", "mid.events"}

    details = raw.describe()
    assert details.description == "Raw <events>" and details.stats.row_count == 4 and details.versions is None
    assert [f.name for f in details.schema] == ["id", "v"]
    html = details._repr_html_()
    assert "Raw &lt;events&gt;" in html and "<events>" not in html  # user text is escaped

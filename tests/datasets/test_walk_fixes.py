"""What a first walk through the UI asked of the library (issue 20, points 4-9): provenance
per snapshot, distinct lineage sources, server-side sorted/offset pages and null counts,
readable reprs, typo-tolerant search with facets and the sidebar's syntax, and errors that
point at the right place and suggest the closest name."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from lakelab.catalog.metadata import set_current_cell
from lakelab.datasets import browse
from lakelab.datasets.search import facets, parse_query, search
from lakelab.errors import EngineError, InvalidInput, NotFound


@pytest.fixture
def house(lh):
    n = 2500
    lh.ingest(
        pa.table(
            {
                "id": pa.array(range(n), pa.int64()),
                "carrier": pa.array(["AA", "UA", None, "DL", "B6"] * (n // 5)),
                "delay": pa.array([None if i % 7 == 0 else float((i * 37) % 101) for i in range(n)]),
            }
        ),
        "demo.flights",
    )
    lh.dataset("demo.flights").set_metadata(tags="nyc,aviation", owner="demo")
    lh.ingest(pa.table({"code": ["AA", "UA"], "name": ["American", "United"]}), "demo.airlines")
    lh.dataset("demo.airlines").set_metadata(tags="reference")
    set_current_cell("In [7] (cell abc-123)")
    try:
        lh.sql(
            "CREATE TABLE demo.delays AS SELECT a.name, avg(f.delay) AS d FROM demo.flights f "
            "JOIN demo.airlines a ON f.carrier = a.code GROUP BY a.name"
        )
    finally:
        set_current_cell(None)
    return lh


def test_each_snapshot_says_what_made_it(house):
    snap = house.dataset("demo.delays").snapshots()[0]
    lin = snap.lineage
    assert lin.sql.startswith("CREATE TABLE demo.delays AS SELECT") and lin.engine == "duckdb"
    assert lin.cell == "In [7] (cell abc-123)" and lin.user
    flights = house.dataset("demo.flights").snapshots()[0].snapshot_id
    assert {"table": "demo.flights", "snapshot_id": flights} in lin.upstream


def test_two_tables_made_from_python_objects_keep_their_own_source_nodes(house):
    graph = house.dataset("demo.delays").lineage(depth=2)
    sources = {n.id: n.label for n in graph.nodes if n.type == "source"}
    assert sources == {
        "python:arrow.Table#demo.flights": "arrow.Table (in-kernel object)",
        "python:arrow.Table#demo.airlines": "arrow.Table (in-kernel object)",
    }
    text = repr(graph)
    assert text.startswith("<LineageGraph demo.delays (2 hops): 4 upstream, 0 downstream>")
    assert "arrow.Table (in-kernel object) -> demo.flights  (ingest, snapshot " in text


def test_pages_sort_and_offset_on_the_server_and_null_counts_come_from_file_stats(house):
    ds = house.dataset("demo.flights")
    everything = ds.load()
    want = everything.sort_by([("delay", "descending"), ("id", "ascending")])
    nulls = pc.sum(pc.is_null(everything["delay"])).as_py()
    want = pa.concat_tables([want.filter(pc.is_valid(want["delay"])), want.filter(pc.is_null(want["delay"]))])
    page = browse.page(ds, offset=1200, limit=100, sort="delay", descending=True)
    assert page.column("id").to_pylist() == want.column("id").to_pylist()[1200:1300]
    tail = browse.page(ds, offset=2450, limit=100)  # past the first 1,000 rows, scan order
    assert tail.column("id").to_pylist() == list(range(2450, 2500))
    assert browse.null_counts(ds) == {"id": 0, "carrier": 500, "delay": nulls}
    with pytest.raises(InvalidInput, match="no column 'dealy'"):
        browse.page(ds, sort="dealy")


def test_preview_shows_rows_and_its_snapshot_not_an_arrow_dump(house):
    ds = house.dataset("demo.flights")
    sid = ds.snapshots()[0].snapshot_id
    p = ds.preview(3, snapshot_id=sid)
    assert p.num_rows == 3 and p.column_names == ["id", "carrier", "delay"] and p["id"].to_pylist() == [0, 1, 2]
    lines = repr(p).splitlines()
    assert lines[0] == f"<Preview demo.flights at snapshot {sid}: 3 rows>"
    assert lines[1].split() == ["id", "carrier", "delay"] and lines[2].split() == ["0", "AA", "NULL"]
    assert "pyarrow.Table" not in repr(p) and f"snapshot {sid}" in p._repr_html_()


def test_search_forgives_typos_counts_facets_and_reads_the_sidebar_syntax(house):
    found = search(house, "fligths")
    assert found[0]["name"] == "demo.flights" and found.corrected == "flights"
    assert search(house, "zzqqxx") == [] and search(house, "zzqqxx").corrected is None
    assert parse_query("delays tag:nyc owner:demo kind:table") == (
        "delays",
        {"tag": "nyc", "owner": "demo", "kind": "table"},
    )
    assert [d["name"] for d in search(house, "tag:nyc owner:demo")] == ["demo.flights"]
    f = facets(house)
    assert {"value": "table", "count": 3} in f["kind"]
    assert f["tag"][:3] == [
        {"value": "aviation", "count": 1},
        {"value": "nyc", "count": 1},
        {"value": "reference", "count": 1},
    ]


def test_errors_point_at_the_word_and_suggest_the_closest_name(house):
    with pytest.raises(EngineError, match=r"line 1, column 1: 'SELEC' does not start a statement; did you mean SELECT"):
        house.sql("SELEC * FROM demo.flights")
    with pytest.raises(NotFound, match=r"demo.fligths does not exist; did you mean demo.flights\?"):
        house.sql("SELECT * FROM demo.fligths")
    with pytest.raises(EngineError, match=r"column 'carier' does not exist \(line 1, column 8\); did you mean carrier"):
        house.sql("SELECT carier FROM demo.flights")


def test_the_cli_takes_the_sidebar_syntax_and_says_when_it_corrected_a_typo(house, capsys, monkeypatch):
    from lakelab.cli import main

    monkeypatch.setattr("lakelab.lakehouse._default", house)  # the CLI's lakelab.connect(), this lakehouse

    assert main(["datasets", "tag:nyc owner:demo"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["DATASET", "KIND", "OWNER"] and [ln.split()[0] for ln in lines[1:]] == [
        "demo.flights"
    ]
    assert main(["datasets", "fligths"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("no dataset matched 'fligths'; showing matches for 'flights'\nDATASET")

"""Lineage of writes Trino commits (`%%trino --into`, `lh.transform(engine="trino")`, CTAS and
INSERT statements): recorded after the commit in a `lakelab.lineage.<snapshot_id>` property and
read exactly like the lineage the embedded engine puts in snapshot summaries."""

from __future__ import annotations

import dataclasses

import pyarrow as pa
from IPython.utils.capture import capture_output

from lakelab.catalog import metadata as md
from lakelab.catalog.access import WRITE_PROPERTIES


def run(shell, cell: str) -> str:
    with capture_output() as out:
        shell.run_cell(cell)
    return "".join(o.data.get("text/html", "") for o in out.outputs) + out.stdout + out.stderr


def _source(tlh, ns: str, props: dict | None = None):
    table = tlh.catalog.create_table(
        f"{ns}.flights",
        pa.schema([("id", pa.int64()), ("origin", pa.string())]),
        properties={**WRITE_PROPERTIES, **(props or {})},
    )
    table.append(pa.table({"id": list(range(10)), "origin": ["JFK", "LGA"] * 5}))
    return tlh.catalog.load_table(f"{ns}.flights")


def _lineage(tlh, name: str) -> md.Lineage:
    """The newest snapshot's lineage as lh.dataset(...).snapshots() reports it."""
    return tlh.dataset(name).snapshots()[0].lineage


def test_into_on_trino_records_upstream_tables_and_sql(tlh, ns, shell):
    src = _source(tlh, ns)
    out = run(shell, f"%%trino --into {ns}.jfk\nSELECT * FROM {ns}.flights WHERE origin = 'JFK'")
    assert f"wrote 5 rows to {ns}.jfk" in out and "trino" in out and "Traceback" not in out
    lineage = _lineage(tlh, f"{ns}.jfk")
    assert lineage.operation == "transform" and "origin = 'JFK'" in lineage.sql
    assert lineage.upstream == [{"table": f"{ns}.flights", "snapshot_id": src.current_snapshot().snapshot_id}]
    graph = tlh.dataset(f"{ns}.jfk").lineage()
    assert set(graph.upstream) == {f"{ns}.flights"}
    # what the search index reads to answer downstream questions
    assert md.upstream_tables(tlh.catalog.load_table(f"{ns}.jfk").metadata) == {f"{ns}.flights"}


def test_lineage_reads_the_same_for_embedded_and_trino_writes(tlh, ns, shell):
    _source(tlh, ns)
    sql = f"SELECT id FROM {ns}.flights WHERE id < 3"
    run(shell, f"%%trino --engine duckdb --into {ns}.local\n{sql}")
    run(shell, f"%%trino --engine trino --into {ns}.remote\n{sql}")
    local, remote = _lineage(tlh, f"{ns}.local"), _lineage(tlh, f"{ns}.remote")
    # the same record, but for the engine that made each snapshot
    assert (local.engine, remote.engine) == ("duckdb", "trino")
    assert dataclasses.replace(local, engine=None) == dataclasses.replace(remote, engine=None)
    assert local.upstream[0]["table"] == f"{ns}.flights"


def test_upstream_snapshot_is_the_one_the_query_read(tlh, ns):
    src = _source(tlh, ns)
    before = src.current_snapshot().snapshot_id
    tlh.transform(f"{ns}.copy", sql=f"SELECT * FROM {ns}.flights", engine="trino")
    src.append(pa.table({"id": [99], "origin": ["EWR"]}))  # a later change upstream
    tlh.transform(
        f"{ns}.copy",
        sql=f"SELECT * FROM {ns}.flights FOR VERSION AS OF {before} WHERE id = 1",
        engine="trino",
        mode="append",
    )
    history = [s.lineage.upstream for s in tlh.dataset(f"{ns}.copy").snapshots()]
    assert history == [[{"table": f"{ns}.flights", "snapshot_id": before}]] * 2


def test_metadata_survives_trino_writes_with_lineage(tlh, ns, shell):
    props = md.metadata_properties(owner="ana", description="JFK flights", tags="ops,geo")
    _source(tlh, ns)
    tlh.transform(f"{ns}.jfk", sql=f"SELECT * FROM {ns}.flights WHERE origin = 'JFK'", engine="trino")
    tlh.dataset(f"{ns}.jfk").set_metadata(owner="ana", description="JFK flights", tags="ops,geo")
    run(shell, f"%%trino --into {ns}.jfk --mode append\nSELECT * FROM {ns}.flights WHERE id = 0")
    run(shell, f"%%trino --into {ns}.jfk --mode overwrite\nSELECT * FROM {ns}.flights WHERE id < 4")
    ds = tlh.dataset(f"{ns}.jfk")
    assert {k: v for k, v in ds.properties.items() if k in props} == props
    snaps = ds.snapshots()
    assert len(snaps) == 3 and all(s.lineage.upstream[0]["table"] == f"{ns}.flights" for s in snaps)
    assert ds.load().num_rows == 4


def test_ctas_and_insert_statements_on_trino_record_lineage_with_schema_default(tlh, ns, shell):
    _source(tlh, ns)
    out = run(shell, f"%%trino --schema {ns}\nCREATE TABLE lga AS SELECT id FROM flights WHERE origin = 'LGA'")
    assert "Traceback" not in out
    run(shell, f"%%trino --schema {ns}\nINSERT INTO lga SELECT id FROM flights WHERE id = 0")
    snaps = tlh.dataset(f"{ns}.lga").snapshots()
    assert [s.lineage.upstream for s in snaps] == [
        [{"table": f"{ns}.flights", "snapshot_id": snaps[0].lineage.upstream[0]["snapshot_id"]}]
    ] * 2
    assert snaps[1].lineage.sql.startswith("CREATE TABLE lga")


def test_into_on_trino_takes_the_schema_option_for_the_target_and_tables(tlh, ns, shell):
    _source(tlh, ns)
    out = run(shell, f"%%trino --schema {ns} --into small\nSELECT id FROM flights WHERE id < 2")
    assert f"wrote 2 rows to {ns}.small" in out
    assert _lineage(tlh, f"{ns}.small").upstream[0]["table"] == f"{ns}.flights"


def test_lineage_properties_keep_only_the_newest_entries(tlh, ns, monkeypatch):
    monkeypatch.setattr(md, "MAX_PROPERTY_LINEAGE", 2)
    _source(tlh, ns)
    tlh.transform(f"{ns}.grow", sql=f"SELECT id FROM {ns}.flights WHERE id = 0", engine="trino")
    for i in (1, 2):
        tlh.transform(f"{ns}.grow", sql=f"SELECT id FROM {ns}.flights WHERE id = {i}", engine="trino", mode="append")
    ds = tlh.dataset(f"{ns}.grow")
    keys = [k for k in ds.properties if k.startswith(md.L_PROPERTY)]
    snaps = ds.snapshots()
    assert sorted(keys) == sorted(md.lineage_property(s.snapshot_id) for s in snaps[:2])
    assert snaps[2].lineage.operation == "trino"  # the oldest: only what Trino's summary says
    assert "id = 2" in snaps[0].lineage.sql


def test_a_failed_trino_write_records_no_lineage_and_changes_nothing(tlh, ns, shell):
    _source(tlh, ns)
    tlh.transform(f"{ns}.t", sql=f"SELECT id FROM {ns}.flights", engine="trino")
    before = tlh.dataset(f"{ns}.t").properties
    out = run(shell, f"%%trino --into {ns}.t --mode append\nSELECT id, nosuch FROM {ns}.flights")
    assert "nosuch" in out and "Traceback" not in out
    assert tlh.dataset(f"{ns}.t").properties == before and len(tlh.dataset(f"{ns}.t").snapshots()) == 1

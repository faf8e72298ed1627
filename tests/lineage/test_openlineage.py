"""OpenLineage run events for every write, as a real receiver and the file transport get them."""

from __future__ import annotations

import json

import pyarrow as pa
import pytest
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output

from lakelab.errors import Conflict
from lakelab.lineage import openlineage

from .conftest import closed_port, schema_errors


def _chain(lh, tmp_path) -> None:
    """ingest -> %%trino --into -> publish a model, as a notebook does it."""
    csv = tmp_path / "orders.csv"
    csv.write_text("id,amount,customer\n1,2.5,a\n2,3.5,b\n3,1.0,a\n")
    lh.ingest(str(csv), "sales.orders")
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "lakelab")
    magics = ip.magics_manager.registry["SqlMagics"]
    magics._lh, previous = lh, magics._lh
    try:
        with capture_output():
            res = ip.run_cell("%%trino --into sales.doubled\nSELECT id, amount * 2 AS dbl, customer FROM sales.orders")
    finally:
        magics._lh = previous
    assert res.success
    lh.publish({"weights": [0.5, 1.5]}, "ml.scorer", kind="model", inputs=["sales.doubled"])


def _runs(events: list[dict]) -> dict[str, list[dict]]:
    by_job: dict[str, list[dict]] = {}
    for e in events:
        by_job.setdefault(e["job"]["name"], []).append(e)
    return by_job


def _symlink(ds: dict) -> str:
    return ds["facets"]["symlinks"]["identifiers"][0]["name"]


def test_ingest_into_publish_emits_valid_start_and_complete_events_to_a_receiver(
    lh, ol_env, receiver, tmp_path, monkeypatch
):
    monkeypatch.setenv("OPENLINEAGE_URL", receiver.url)
    monkeypatch.setenv("LAKELAB_NOTEBOOK", "analysis/orders.ipynb")
    _chain(lh, tmp_path)
    assert openlineage.flush(30)
    events = receiver.events
    assert openlineage.stats()["dropped"] == 0
    assert [e for e in events if schema_errors(e)] == [], [schema_errors(e) for e in events]

    runs = _runs(events)
    session = runs.pop("notebook.analysis/orders.ipynb")
    assert [e["eventType"] for e in session] == ["START"]
    session_run = session[0]["run"]["runId"]
    assert set(runs) >= {"ingest.sales.orders", "transform.sales.doubled"}
    publish_jobs = [j for j in runs if j.startswith("publish.ml.scorer")]
    assert publish_jobs, sorted(runs)
    for job, evs in runs.items():
        assert [e["eventType"] for e in evs] == ["START", "COMPLETE"], job
        assert evs[0]["run"]["runId"] == evs[1]["run"]["runId"]
        assert evs[1]["run"]["facets"]["parent"]["run"]["runId"] == session_run
        assert evs[1]["job"]["facets"]["sourceCodeLocation"]["path"] == "analysis/orders.ipynb"

    # Iceberg naming: where the table is stored, the catalog name as a symlink, the snapshot as version
    ingest = runs["ingest.sales.orders"][1]
    out = ingest["outputs"][0]
    table = lh.catalog.load_table("sales.orders")
    assert (out["namespace"], out["name"]) == ("file", table.location().removeprefix("file://"))
    assert _symlink(out) == "sales.orders"
    assert out["facets"]["version"]["datasetVersion"] == str(table.current_snapshot().snapshot_id)
    assert [f["name"] for f in out["facets"]["schema"]["fields"]] == ["id", "amount", "customer"]
    assert out["outputFacets"]["outputStatistics"]["rowCount"] == 3
    assert [i["name"] for i in ingest["inputs"]] == [str(tmp_path / "orders.csv")]

    into = runs["transform.sales.doubled"][1]
    assert [_symlink(i) for i in into["inputs"]] == ["sales.orders"]
    assert "amount * 2" in into["job"]["facets"]["sql"]["query"]
    columns = into["outputs"][0]["facets"]["columnLineage"]["fields"]
    traced = {
        col: [(f["field"], f["transformations"][0]["subtype"]) for f in v["inputFields"]] for col, v in columns.items()
    }
    assert traced == {
        "id": [("id", "IDENTITY")],
        "dbl": [("amount", "TRANSFORMATION")],
        "customer": [("customer", "IDENTITY")],
    }
    published = runs[publish_jobs[0]][1]
    assert "sales.doubled" in [_symlink(i) for i in published["inputs"] if "symlinks" in i.get("facets", {})]


def test_a_failed_write_emits_fail_through_the_file_transport(lh, ol_env, tmp_path, monkeypatch):
    log = tmp_path / "events.jsonl"
    config = tmp_path / "ol.yml"
    config.write_text(f"transport:\n  type: file\n  log_file_path: {log}\n  append: true\n")
    monkeypatch.setenv("OPENLINEAGE_CONFIG", str(config))
    lh.ingest(pa.table({"a": [1, 2]}), "sales.small")
    with pytest.raises(Conflict, match="already exists"):
        lh.ingest(pa.table({"a": [3]}), "sales.small", mode="create")
    assert openlineage.flush(30)
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e for e in events if schema_errors(e)] == []
    failed = [e for e in events if e["eventType"] == "FAIL"]
    assert len(failed) == 1
    assert "already exists" in failed[0]["run"]["facets"]["errorMessage"]["message"]
    start = [e for e in events if e["run"]["runId"] == failed[0]["run"]["runId"] and e["eventType"] == "START"]
    assert len(start) == 1


def test_a_receiver_that_is_down_or_stuck_never_fails_a_write_and_drops_are_counted(
    lh, ol_env, receiver, tmp_path, monkeypatch
):
    # down: nothing listens on the port; the client's retries are turned off to keep this short
    config = tmp_path / "openlineage.yml"  # found in the working directory, as the client looks
    config.write_text(
        f"transport:\n  type: http\n  url: http://127.0.0.1:{closed_port()}\n  timeout: 2\n  retry:\n    total: 0\n"
    )
    lh.publish(pa.table({"a": [1]}), "ops.one")
    assert lh.dataset("ops.one").stats.row_count == 1
    assert openlineage.flush(60)
    assert openlineage.stats()["dropped"] >= 2  # the session START, and this write's START and COMPLETE

    # stuck: the receiver takes a request and never answers; a queue of one fills and drops
    config.unlink()
    monkeypatch.setenv("OPENLINEAGE_URL", receiver.url)
    monkeypatch.setenv("LAKELAB_OPENLINEAGE_QUEUE", "1")
    openlineage.reset()
    receiver.hold.clear()
    for i in range(3):  # each returns while the receiver still holds the first event
        lh.publish(pa.table({"a": [i]}), f"ops.stuck_{i}")
    assert openlineage.stats()["dropped"] > 0
    receiver.hold.set()
    assert openlineage.flush(60)
    assert [lh.dataset(f"ops.stuck_{i}").stats.row_count for i in range(3)] == [1, 1, 1]


def test_a_malformed_configuration_is_one_clear_warning_at_start_and_writes_go_on(ol_env, lakelab_home, monkeypatch):
    import lakelab
    from lakelab.config import load_config

    bad = ol_env / "broken.yml"
    bad.write_text("transport: [type: http\n")
    monkeypatch.setenv("OPENLINEAGE_CONFIG", str(bad))
    with pytest.warns(UserWarning, match=r"broken\.yml is not valid YAML.*no lineage is sent, writes go on"):
        house = lakelab.Lakehouse(load_config())
    try:
        assert house.ingest(pa.table({"a": [1]}), "ok.table").rows == 1
        assert openlineage.stats()["enabled"] is False
    finally:
        house.close()


def test_nothing_configured_sends_nothing(lh, ol_env):
    lh.publish(pa.table({"a": [1]}), "quiet.table")
    assert openlineage.stats() == {"enabled": False, "sent": 0, "dropped": 0, "queued": 0}

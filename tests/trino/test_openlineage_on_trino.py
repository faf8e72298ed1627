"""OpenLineage for writes Trino commits, and the source and client tags Trino sees on lakelab's
queries (so its own OpenLineage listener's events can be joined to the notebook's run)."""

from __future__ import annotations

import json
import os

import pyarrow as pa
import requests

from lakelab.catalog.access import WRITE_PROPERTIES
from lakelab.lineage import openlineage


def test_a_trino_ctas_emits_start_and_complete_and_its_queries_carry_the_session_tags(tlh, ns, tmp_path, monkeypatch):
    for var in list(os.environ):
        if var.startswith("OPENLINEAGE"):
            monkeypatch.delenv(var)
    log = tmp_path / "openlineage.jsonl"
    config = tmp_path / "openlineage.yml"
    config.write_text(f"transport:\n  type: file\n  log_file_path: {log}\n  append: true\n")
    monkeypatch.setenv("OPENLINEAGE_CONFIG", str(config))
    openlineage.reset()
    try:
        src = tlh.catalog.create_table(
            f"{ns}.flights", pa.schema([("id", pa.int64()), ("origin", pa.string())]), properties=WRITE_PROPERTIES
        )
        src.append(pa.table({"id": list(range(10)), "origin": ["JFK", "LGA"] * 5}))
        res = tlh.sql(
            f"CREATE TABLE {ns}.jfk AS SELECT id, upper(origin) AS airport FROM {ns}.flights WHERE origin = 'JFK'",
            engine="trino",
        )
        assert openlineage.flush(30)
        events = [json.loads(line) for line in log.read_text().splitlines()]
        mine = [e for e in events if e["job"]["name"] == f"transform.{ns}.jfk"]
        assert [e["eventType"] for e in mine] == ["START", "COMPLETE"]
        done = mine[1]
        trino = tlh.config.trino
        assert done["run"]["facets"]["externalQuery"]["externalQueryId"] == res.query_id
        assert done["run"]["facets"]["parent"]["run"]["runId"] == openlineage.session_run_id()
        out = done["outputs"][0]
        snap = tlh.dataset(f"{ns}.jfk").table.current_snapshot().snapshot_id
        assert out["facets"]["version"]["datasetVersion"] == str(snap)
        assert {
            "namespace": f"trino://{trino.host}:{trino.port}",
            "name": f"{trino.catalog}.{ns}.jfk",
            "type": "TABLE",
        } in out["facets"]["symlinks"]["identifiers"]
        lineage = out["facets"]["columnLineage"]["fields"]
        assert [(f["field"], f["transformations"][0]["subtype"]) for f in lineage["id"]["inputFields"]] == [
            ("id", "IDENTITY")
        ]
        assert [f["field"] for f in lineage["airport"]["inputFields"]] == ["origin"]

        # what Trino itself recorded about the query: lakelab's source and the session's tags
        info = requests.get(
            f"{trino.url}/v1/query/{res.query_id}", headers={"X-Trino-User": trino.user}, timeout=30
        ).json()
        assert info["session"]["source"] == "lakelab"
        assert f"openlineage_parent_run_id={openlineage.session_run_id()}" in info["session"]["clientTags"]
    finally:
        openlineage.flush(30)
        openlineage.reset()

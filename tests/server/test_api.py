"""The catalog REST API, end to end through a real Jupyter server on real catalogs."""

from __future__ import annotations

import base64
import json

import pyarrow as pa
import pytest
from tornado.httpclient import HTTPClientError

from .conftest import API, seed


async def test_info_reports_versions_and_configuration_without_secrets(house, api):
    status, info = await api("/info")
    assert status == 200 and info["status"] == "ok"
    assert info["server_version"] and info["library_version"] == __import__("lakelab").__version__
    assert info["config"]["catalog"]["name"] == "lakelab" and "duckdb" in info["engines"]
    assert info["limits"]["preview_max_rows"] == 500  # from the LakelabSettings traitlets config


async def test_namespaces_list_nested_children_with_counts(house, api):
    seed(house)
    status, top = await api("/namespaces")
    assert status == 200
    by_name = {n["name"]: n for n in top["namespaces"]}
    assert set(by_name) == {"demo", "zoo"}
    assert by_name["demo"]["datasets"] == 2 and not by_name["demo"]["has_children"]
    assert by_name["zoo"]["datasets"] == 0 and by_name["zoo"]["has_children"]
    status, child = await api("/namespaces", params={"parent": "zoo"})
    assert [n["name"] for n in child["namespaces"]] == ["zoo.birds"]
    assert child["namespaces"][0]["datasets"] == 1


async def test_datasets_in_a_namespace_come_in_pages_with_an_opaque_token(house, api):
    for i in range(5):
        house.publish(pa.table({"x": [i]}), f"paged.t{i}")
    names, token, pages = [], None, 0
    while True:
        params = {"page_size": "2", **({"page_token": token} if token else {})}
        status, page = await api("/namespaces/{namespace}/datasets", namespace="paged", params=params)
        assert status == 200
        names += [d["name"] for d in page["datasets"]]
        pages += 1
        token = page["next_page_token"]
        if not token:
            break
    assert names == [f"paged.t{i}" for i in range(5)] and pages == 3


async def test_dataset_detail_has_schema_metadata_and_stats(house, api):
    seed(house)
    status, d = await api("/datasets/{name}", name="demo.flights")
    assert status == 200
    assert [(f["id"], f["name"]) for f in d["schema"]] == [(1, "carrier"), (2, "delay_min")]
    assert d["owner"] == "alice" and d["tags"] == ["aviation", "raw"] and d["kind"] == "table"
    assert d["description"] == "Flight delays by carrier"
    assert d["stats"]["row_count"] == 4 and d["stats"]["file_count"] == 2 and d["stats"]["total_bytes"] > 0
    assert d["stats"]["current_snapshot_id"] == str(house.dataset("demo.flights").table.current_snapshot().snapshot_id)
    assert d["properties"]["lakelab.owner"] == "alice"
    assert d["partition_spec"] == [] and d["sort_order"] == []


async def test_preview_selects_columns_limits_rows_and_travels_in_time(house, api):
    seed(house)
    status, p = await api(
        "/datasets/{name}/preview", name="demo.flights", params={"columns": "delay_min", "limit": "2"}
    )
    assert status == 200 and [c["name"] for c in p["columns"]] == ["delay_min"] and p["row_count"] == 2
    first = house.dataset("demo.flights").snapshots()[-1]  # oldest
    status, old = await api(
        "/datasets/{name}/preview", name="demo.flights", params={"snapshot_id": str(first.snapshot_id)}
    )
    assert status == 200 and old["row_count"] == 3 and old["snapshot_id"] == str(first.snapshot_id)
    status, asof = await api("/datasets/{name}/preview", name="demo.flights", params={"as_of": str(first.timestamp_ms)})
    assert status == 200 and asof["row_count"] == 3


async def test_snapshots_and_lineage_show_history_upstream_and_downstream(house, api):
    seed(house)
    status, s = await api("/datasets/{name}/snapshots", name="demo.flights")
    assert status == 200 and len(s["snapshots"]) == 2 and s["snapshots"][0]["current"]
    assert s["snapshots"][0]["lineage"]["operation"] == "publish"
    status, g = await api("/datasets/{name}/lineage", name="demo.flights_clean")
    assert {n["id"]: n["direction"] for n in g["nodes"]} == {"demo.flights_clean": "self", "demo.flights": "upstream"}
    status, g = await api("/datasets/{name}/lineage", name="demo.flights")
    # published from an Arrow table: the in-memory source is recorded, as ingest records it
    assert {n["id"]: n["direction"] for n in g["nodes"]} == {
        "demo.flights": "self",
        "demo.flights_clean": "downstream",
        "python:arrow.Table#demo.flights": "upstream",
    }


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"q": "penguins"}, ["zoo.birds.penguins"]),  # name
        ({"q": "cleaned"}, ["demo.flights_clean"]),  # description
        ({"q": "bill_mm"}, ["zoo.birds.penguins"]),  # column name
        ({"tag": "gold"}, ["demo.flights_clean"]),
        ({"owner": "alice"}, ["demo.flights"]),
        ({"q": "flights", "tag": "aviation"}, ["demo.flights", "demo.flights_clean"]),
        ({"namespace": "zoo"}, ["zoo.birds.penguins"]),  # nested namespaces included
        ({"q": "nothing-like-this"}, []),
    ],
)
async def test_search_finds_datasets_by_name_description_columns_tags_and_owner(house, api, params, expected):
    seed(house)
    status, r = await api("/search", params=params)
    assert status == 200 and sorted(d["name"] for d in r["datasets"]) == expected


async def test_patching_metadata_commits_it_and_search_sees_it(house, api):
    seed(house)
    before = house.dataset("demo.flights").table.metadata_location
    status, d = await api(
        "/datasets/{name}/metadata",
        name="demo.flights",
        method="PATCH",
        body={"description": "Delays, curated", "tags": ["aviation", "curated"]},
    )
    assert status == 200 and d["description"] == "Delays, curated" and d["tags"] == ["aviation", "curated"]
    assert d["owner"] == "alice"  # untouched
    after = house.dataset("demo.flights").table
    assert after.metadata_location != before and after.properties["lakelab.description"] == "Delays, curated"
    status, r = await api("/search", params={"tag": "curated"})
    assert [x["name"] for x in r["datasets"]] == ["demo.flights"]


BAD = [
    ("/namespaces", {}, {"parent": "nope"}, 404, "namespace nope does not exist"),
    ("/namespaces", {}, {"parent": "bad;name"}, 400, "not a valid name"),
    ("/namespaces/{namespace}/datasets", {"namespace": "nope"}, {}, 404, "does not exist"),
    (
        "/namespaces/{namespace}/datasets",
        {"namespace": "demo"},
        {"page_token": "garbage!"},
        400,
        "page_token is not valid",
    ),
    (
        "/namespaces/{namespace}/datasets",
        {"namespace": "demo"},
        {"page_token": base64.urlsafe_b64encode(b'{"ns":"other","after":"x"}').decode()},
        400,
        "page_token",
    ),
    ("/namespaces/{namespace}/datasets", {"namespace": "demo"}, {"page_size": "0"}, 400, "page_size must be from 1"),
    ("/datasets/{name}", {"name": "demo.missing"}, {}, 404, "dataset demo.missing does not exist"),
    ("/datasets/{name}", {"name": "nonamespace"}, {}, 400, "has no namespace"),
    ("/datasets/{name}", {"name": "demo.x'; drop table t--"}, {}, 400, "not a valid name"),
    ("/datasets/{name}/preview", {"name": "demo.flights"}, {"limit": "501"}, 400, "limit must be from 0 to 500"),
    ("/datasets/{name}/preview", {"name": "demo.flights"}, {"limit": "ten"}, 400, "whole number"),
    ("/datasets/{name}/preview", {"name": "demo.flights"}, {"snapshot_id": "12345"}, 404, "no snapshot 12345"),
    ("/datasets/{name}/preview", {"name": "demo.flights"}, {"snapshot_id": "abc"}, 400, "not a number"),
    ("/datasets/{name}/preview", {"name": "demo.flights"}, {"as_of": "yesterday"}, 400, "not a timestamp"),
    (
        "/datasets/{name}/preview",
        {"name": "demo.flights"},
        {"as_of": "2000-01-01T00:00:00Z"},
        404,
        "no snapshot at or before",
    ),
    ("/datasets/{name}/preview", {"name": "demo.flights"}, {"columns": "carrier,nope"}, 400, "no column nope"),
    ("/datasets/{name}/lineage", {"name": "demo.flights"}, {"depth": "99"}, 400, "depth must be from 1 to 10"),
    ("/datasets/{name}/snapshots", {"name": "demo.missing"}, {}, 404, "does not exist"),
    ("/search", {}, {"kind": "notebook"}, 400, "kind must be one of"),
    ("/search", {}, {"limit": "-1"}, 400, "limit must be from 1"),
]


@pytest.mark.parametrize(
    "spec_path, path, params, status, message", BAD, ids=[f"{b[0]}-{b[3]}-{i}" for i, b in enumerate(BAD)]
)
async def test_bad_input_gets_a_json_4xx_naming_the_problem(house, api, spec_path, path, params, status, message):
    seed(house)
    code, body = await api(spec_path, params=params, **path)
    assert code == status and message in body["error"]["message"], body


@pytest.mark.parametrize(
    "body, message",
    [
        ({}, "nothing to change"),
        ({"colour": "red"}, "unknown field"),
        ({"tags": "a,b"}, "tags must be a list"),
        ({"tags": ["a,b"]}, "is not valid"),
        ({"owner": 5}, "owner must be text"),
    ],
)
async def test_bad_metadata_patches_are_refused_and_change_nothing(house, api, body, message):
    seed(house)
    before = house.dataset("demo.flights").table.metadata_location
    code, reply = await api("/datasets/{name}/metadata", name="demo.flights", method="PATCH", body=body)
    assert code == 400 and message in reply["error"]["message"]
    assert house.dataset("demo.flights").table.metadata_location == before


async def test_unknown_api_routes_get_a_json_404(house, jp_fetch):
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch(API, "no", "such", "route")
    assert e.value.code == 404 and "no such lakelab API route" in json.loads(e.value.response.body)["error"]["message"]


async def test_a_body_that_is_not_json_is_refused(house, jp_fetch):
    seed(house)
    with pytest.raises(HTTPClientError) as e:
        await jp_fetch(API, "datasets", "demo.flights", "metadata", method="PATCH", body="{not json")
    assert e.value.code == 400 and "not valid JSON" in json.loads(e.value.response.body)["error"]["message"]


# every route refusing calls without credentials, and every write without XSRF (with the
# XSRF header a browser session gets through): tests/reliability/test_auth_sweep.py


async def test_the_server_stays_responsive_while_a_slow_call_runs(house, api):
    """Blocking catalog work runs in threads: info answers while previews are in flight."""
    import asyncio

    seed(house)
    slow = [asyncio.ensure_future(api("/datasets/{name}/preview", name="demo.flights")) for _ in range(8)]
    status, _ = await api("/info")
    results = await asyncio.gather(*slow)
    assert status == 200 and all(code == 200 for code, _ in results)


async def test_the_fingerprint_moves_when_datasets_change_and_only_then(house, api):
    status, first = await api("/fingerprint")
    assert status == 200 and first["fingerprint"]
    assert (await api("/fingerprint"))[1] == first  # nothing changed
    house.publish(pa.table({"id": [1]}), "demo.fresh", description="made after the sidebar loaded")
    _, second = await api("/fingerprint")
    assert second != first
    _, found = await api("/namespaces/{namespace}/datasets", namespace="demo")
    assert "demo.fresh" in [d["name"] for d in found["datasets"]]
    assert (await api("/fingerprint"))[1] == second

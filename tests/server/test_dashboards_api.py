"""Dashboards through a real Jupyter server with Voilà loaded: publish an open notebook, the
pinned page served sandboxed, staleness, the live view run by Voilà with inputs pinned or
latest, and a viewer's execute request over the kernel websocket refused."""

from __future__ import annotations

import json
import re
import sys
import uuid
from pathlib import Path

import pyarrow as pa
import pytest
from tests.dashboards.notebooks import orders_notebook

from .conftest import API

pytestmark = pytest.mark.parametrize("house", ["sqlite"], indirect=True)


@pytest.fixture
def jp_env_jupyter_path() -> Path:
    """pytest-jupyter hides the environment's share/jupyter; Voilà's page templates live there."""
    return Path(sys.prefix) / "share" / "jupyter"


@pytest.fixture
def jp_server_config(house):
    return {
        "ServerApp": {"jpserver_extensions": {"lakelab_server": True, "voila.server_extension": True}},
    }


async def test_publish_view_pinned_and_live_and_a_viewer_cannot_execute_code(
    house, jp_fetch, jp_root_dir, jp_ws_fetch, tmp_path
):
    house.ingest(pa.table({"id": [1, 2, 3], "amount": [10.0, 20.0, 30.0]}), "shop.orders", mode="create")
    house.ingest(pa.table({"region": ["north", "south"]}), "shop.regions", mode="create")
    orders_notebook(jp_root_dir)
    body = json.dumps({"notebook": "orders.ipynb", "name": "dash.orders"})
    r = await jp_fetch(API, "dashboards", method="POST", body=body)
    state = json.loads(r.body)
    assert state["dataset"] == "dash.orders" and state["version"] == 1 and state["stale"] is False

    r = await jp_fetch(API, "dashboards", "dash.orders", "versions", "1", "page")
    assert "sandbox allow-scripts" in r.headers["Content-Security-Policy"]
    assert "orders=3 revenue=60.0" in r.body.decode()

    house.ingest(pa.table({"id": [4], "amount": [40.0]}), "shop.orders", mode="append")
    listed = json.loads((await jp_fetch(API, "dashboards")).body)["dashboards"]
    assert [(d["dataset"], d["stale"]) for d in listed] == [("dash.orders", True)]

    # live (Voilà, a fresh kernel): inputs pinned to v1's snapshots show the old numbers, latest the new
    pinned = (await jp_fetch(API, "dashboards", "dash.orders", "live", params={"version": "1"})).body.decode()
    assert "orders=3 revenue=60.0" in pinned
    latest = await jp_fetch(API, "dashboards", "dash.orders", "live", params={"inputs": "latest"})
    assert "orders=4 revenue=100.0" in latest.body.decode()
    kernel_id = re.search(r'"kernelId": "([0-9a-f-]{36})"', pinned).group(1)
    ws = await jp_ws_fetch("api", "kernels", kernel_id, "channels")
    marker = tmp_path / "ran.txt"

    def request(msg_type: str, content: dict) -> dict:
        header = {
            "msg_id": uuid.uuid4().hex,
            "msg_type": msg_type,
            "session": "viewer",
            "username": "v",
            "version": "5.3",
        }
        ws.write_message(
            json.dumps(
                {
                    "header": header,
                    "parent_header": {},
                    "metadata": {},
                    "content": content,
                    "channel": "shell",
                    "buffers": [],
                }
            )
        )
        return header

    async def reply_to(header: dict) -> dict:
        while True:
            msg = json.loads(await ws.read_message())
            if msg["parent_header"].get("msg_id") == header["msg_id"] and msg["channel"] == "shell":
                return msg

    sent = request("execute_request", {"code": f"open({str(marker)!r}, 'w').write('x')", "silent": False})
    refused = await reply_to(sent)
    assert refused["content"]["status"] == "error" and "view-only" in refused["content"]["evalue"]
    info = await reply_to(request("kernel_info_request", {}))  # the kernel is alive and answers
    assert info["content"]["status"] == "ok"
    assert not marker.exists()
    ws.close()


async def test_bad_publish_requests_are_clear_4xx(house, jp_fetch, jp_root_dir):
    for route in (("dashboards",), ("dashboards", "dash.x", "live"), ("dashboards", "dash.x", "versions", "1", "page")):
        r = await jp_fetch(API, *route, headers={"Authorization": ""}, raise_error=False, follow_redirects=False)
        assert r.code == 403 and json.loads(r.body)["error"]["code"] == "forbidden"  # Jupyter's login applies
    r = await jp_fetch(API, "dashboards", "dash.x", "live", raise_error=False)
    assert r.code == 404 and "dash.x" in json.loads(r.body)["error"]["message"]

    async def post(body: dict) -> tuple[int, str]:
        r = await jp_fetch(API, "dashboards", method="POST", body=json.dumps(body), raise_error=False)
        return r.code, json.loads(r.body)["error"]["message"]

    assert await post({"notebook": "nope.ipynb", "name": "dash.x"}) == (
        404,
        f"notebook {jp_root_dir}/nope.ipynb does not exist",
    )
    code, message = await post({"notebook": "../../etc/x.ipynb", "name": "dash.x"})
    assert code == 400 and "outside the server's root folder" in message
    house.ingest(pa.table({"a": [1]}), "shop.t", mode="create")
    orders_notebook(jp_root_dir)
    code, message = await post({"notebook": "orders.ipynb", "name": "shop.t"})
    assert code == 409 and "shop.t is a table; cannot publish a dashboard over it" in message

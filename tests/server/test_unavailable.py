"""A catalog that cannot be opened: the server still starts, info says what is wrong, every
catalog route answers a JSON 503 - and the catalog password appears nowhere."""

from __future__ import annotations

import json

import pytest
from tornado.httpclient import HTTPClientError

from lakelab.config import save_config

from .conftest import API, check_spec

SECRET = "s3cret-pw-never-shown"


@pytest.fixture
def jp_server_config(lakelab_home):
    save_config(
        {
            "catalog": {
                "name": "lakelab",
                "type": "sql",
                "uri": f"postgresql+psycopg2://lakelab:{SECRET}@127.0.0.1:1/nowhere",
            }
        }
    )
    return {"ServerApp": {"jpserver_extensions": {"lakelab_server": True}}}


async def test_an_unreachable_catalog_gives_503s_without_the_password(jp_fetch):
    info = await jp_fetch(API, "info")
    body = json.loads(info.body)
    assert body["status"] == "unavailable" and "cannot open catalog" in body["problem"]
    assert SECRET not in info.body.decode()
    for parts in (["namespaces"], ["search"], ["datasets", "a.b"], ["datasets", "a.b", "preview"]):
        with pytest.raises(HTTPClientError) as e:
            await jp_fetch(API, *parts)
        assert e.value.code == 503
        text = e.value.response.body.decode()
        assert SECRET not in text and "lakelab doctor" in json.loads(text)["error"]["message"]
        check_spec("/search", "get", 503, json.loads(text))

"""The Jupyter server's REST API on object storage: a dataset preview through a real server
(pytest-jupyter) whose lakehouse is the (rest, s3) profile; no secret in any answer."""

from __future__ import annotations

import json

import pandas as pd
import pytest

pytestmark = [pytest.mark.trino, pytest.mark.slow]

PROFILE = ("rest", "s3", 1)  # test_objstore.py's fault tests' profile: the session param runs them together


@pytest.fixture
def s3_house(lakehouse_profile, profile):
    run = lakehouse_profile(*profile)  # sets LAKELAB_HOME before the server is built
    run.lakehouse.ingest(pd.DataFrame({"id": range(50), "city": ["Oslo", "Lima"] * 25}), "api.cities", mode="overwrite")
    return run


@pytest.fixture
def jp_server_config(s3_house):
    return {"ServerApp": {"jpserver_extensions": {"lakelab_server": True}}}


@pytest.mark.parametrize("profile", [PROFILE], ids=["rest-s3-1worker"], scope="session")
async def test_a_dataset_on_s3_previews_through_the_server_without_secrets(s3_house, jp_fetch):
    r = await jp_fetch("lakelab/api/v1", "datasets", "api.cities", "preview", params={"limit": "5"})
    body = json.loads(r.body)
    assert r.code == 200 and body["row_count"] == 5
    assert [c["name"] for c in body["columns"]] == ["id", "city"]
    info = (await jp_fetch("lakelab/api/v1", "info")).body.decode()
    for key, value in s3_house.lakehouse.config.catalog.items():
        if any(s in key for s in ("secret", "access-key", "token")):
            assert str(value) not in r.body.decode() + info, key

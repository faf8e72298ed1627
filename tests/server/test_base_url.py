"""Under JupyterHub the server runs below a user prefix: the API must follow the base_url."""

from __future__ import annotations

import pytest

from .conftest import seed


@pytest.fixture
def jp_base_url():
    return "/hub/user/alice/"


@pytest.mark.parametrize("house", ["sqlite"], indirect=True)
async def test_the_api_works_under_a_non_root_base_url(house, api, jp_base_url):
    seed(house)
    status, d = await api("/datasets/{name}/preview", name="demo.flights")  # jp_fetch prefixes the base url
    assert status == 200 and d["row_count"] == 4

"""A REST catalog that answers with an error (here 503, injected by a proxy in front of the real
Iceberg REST catalog of the (rest, s3) profile) reaches the user as the catalog's failure: a
JSON 503 naming the catalog from the Jupyter server, one line ending the cell in a notebook.
Before, both were pyiceberg's ServiceUnavailableError: a 500 and a traceback."""

from __future__ import annotations

import json
from urllib.parse import urlparse

import pytest
import yaml
from IPython.core.interactiveshell import InteractiveShell
from IPython.utils.capture import capture_output
from objstore_helpers import FaultProxy
from tornado.httpclient import HTTPClientError

from lakelab.notebook.magics import MagicError

pytestmark = [pytest.mark.trino, pytest.mark.slow]

PROFILE = ("rest", "s3", 1)  # the fault tests' profile: the session param runs these with them


def _namespaces(method: str, path: str) -> object:
    """The namespace listing fails; everything else (config, tables) is answered as usual."""
    return "503" if method == "GET" and urlparse(path).path.endswith("/v1/namespaces") else None


@pytest.fixture
def failing(lakehouse_profile, profile, tmp_path):
    """The profile's config with its catalog behind the failing proxy."""
    run = lakehouse_profile(*profile)
    proxy = FaultProxy(run.lakehouse.catalog.properties["uri"])
    proxy.rule = _namespaces
    config = yaml.safe_load((run.home / "config.yaml").read_text())
    config["catalog"]["uri"] = proxy.url
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    yield path
    proxy.close()


@pytest.fixture
def jp_server_config(failing):
    server = {"jpserver_extensions": {"lakelab_server": True}}
    return {"ServerApp": server, "LakelabSettings": {"config_file": str(failing)}}


@pytest.mark.parametrize("profile", [PROFILE], ids=["rest-s3-1worker"], scope="session")
async def test_a_catalog_error_answer_is_a_503_naming_the_catalog(failing, jp_fetch):
    with pytest.raises(HTTPClientError) as err:
        await jp_fetch("lakelab/api/v1", "namespaces")
    body = json.loads(err.value.response.body)
    assert err.value.code == 503 and body["error"]["code"] == "unavailable", body
    assert body["error"]["message"].startswith("the catalog failed to answer (ServiceUnavailableError"), body
    assert "lakelab services status" in body["error"]["message"], body


@pytest.mark.parametrize("profile", [PROFILE], ids=["rest-s3-1worker"], scope="session")
def test_a_catalog_error_answer_ends_the_cell_in_one_line(failing, monkeypatch):
    import lakelab

    monkeypatch.setattr("lakelab.lakehouse._default", lakelab.connect(str(failing)))  # the magic's lakehouse
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "lakelab")
    shell.magics_manager.registry["SqlMagics"]._lh = lakelab.lakehouse._default
    try:
        with capture_output() as shown, pytest.raises(MagicError) as cell:
            shell.run_cell_magic("trino", "--engine duckdb", "SHOW SCHEMAS")
    finally:
        lakelab.lakehouse._default.close()
        InteractiveShell.clear_instance()
    line = cell.value.line
    assert line.startswith("lakelab error: the catalog failed to answer (ServiceUnavailableError"), line
    assert "\n" not in line and "Traceback" not in shown.stdout + shown.stderr, line

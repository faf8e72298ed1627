"""`lakelab services up` refusals that start nothing: bad flags, ports in use."""

from __future__ import annotations

import socket

import pytest

from lakelab import services
from lakelab.cli import main as cli
from lakelab.errors import InvalidInput


@pytest.fixture
def home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("LAKELAB_HOME", str(home))
    for var in ("LAKELAB_CONFIG", "LAKELAB_ENGINE"):
        monkeypatch.delenv(var, raising=False)
    return home


def _listener(reuseport: bool = False) -> socket.socket:
    s = socket.socket()
    if reuseport:  # what Iceberg's own REST server does: a bind test alone would not notice it
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("127.0.0.1", 0))
    s.listen()
    return s


@pytest.mark.parametrize("reuseport", [False, True], ids=["plain", "so_reuseport"])
def test_a_port_in_use_is_a_clear_error_and_starts_nothing(home, reuseport):
    with _listener(reuseport) as taken:
        port = taken.getsockname()[1]
        with pytest.raises(InvalidInput, match=f"port {port} .* already in use") as err:
            services.up(home=home, catalog="rest", storage="s3", ports={"s3": port})
        assert "--port s3=N" in (err.value.hint or "")
    st = services.status(home)
    assert st["parts"] == [] and st["configured"] is False
    assert not (home / "config.yaml").exists()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"catalog": "hive"}, "unknown catalog"),
        ({"storage": "adls"}, "unknown storage"),
        ({"catalog": "nessie", "storage": "local"}, "object-store warehouse"),
        ({"rest_impl": "nessie"}, "--rest-impl needs --catalog rest"),
        ({"s3_impl": "s3proxy", "storage": "gcs"}, "--s3-impl needs --storage s3"),
        ({"trino_workers": 9}, "between 0 and"),
        ({"ports": {"ftp": 21}}, "unknown part"),
    ],
)
def test_bad_profile_flags_are_refused_before_anything_starts(home, kwargs, message):
    with pytest.raises(InvalidInput, match=message):
        services.up(home=home, **kwargs)
    assert services.status(home)["parts"] == []


def test_cli_says_what_is_wrong_with_a_port_flag(home, capsys):
    assert cli(["services", "up", "--port", "trino"]) != 0
    assert "--port wants PART=NUMBER" in capsys.readouterr().err


def test_status_without_services_says_embedded(home, capsys):
    assert cli(["services", "status"]) == 0
    out = capsys.readouterr().out
    assert "not running" in out and "embedded (services not in use)" in out

"""`lakelab services up|status|down` on the real PostgreSQL + Trino."""

from __future__ import annotations

import pyarrow as pa
import yaml

import lakelab
from lakelab import services
from lakelab.cli import main as cli
from lakelab.config import load_config


def test_up_switches_config_to_shared_catalog_and_trino(trino_home, tlh):
    cfg = tlh.config
    assert cfg.engine == "trino"
    assert cfg.catalog["uri"].startswith("postgresql+psycopg2://")
    assert cfg.catalog["warehouse"] == f"file://{trino_home / 'warehouse'}"
    assert tlh.engine().execute("SELECT 1 AS one").table.to_pylist() == [{"one": 1}]


def test_up_carries_over_tables_of_the_embedded_catalog(tlh):
    assert tlh.engine("trino").execute("SELECT sum(id) AS s FROM before.seed").table.to_pylist() == [{"s": 6}]


def test_up_again_reports_already_running(trino_home):
    state = services.up(home=trino_home)
    assert state["already_running"] is True


def test_status_says_both_are_reachable(trino_home, capsys, monkeypatch):
    monkeypatch.setenv("LAKELAB_HOME", str(trino_home))
    assert cli(["services", "status"]) == 0
    out = capsys.readouterr().out
    assert "PostgreSQL: running and reachable" in out
    assert "Trino 476: running and reachable" in out
    assert "uses these services" in out


def test_down_restores_embedded_config_and_keeps_tables_made_on_trino(tmp_path, monkeypatch, trino_home):
    home = tmp_path / "own_home"
    monkeypatch.setenv("LAKELAB_HOME", str(home))
    (home).mkdir()
    (home / "config.yaml").write_text(yaml.safe_dump({"workspaces": {"backend": "local", "max_workers": 3}}))
    assert cli(["services", "up"]) == 0
    shared = lakelab.Lakehouse(load_config())
    shared.engine("trino").execute("CREATE SCHEMA made")
    shared.engine("trino").execute("CREATE TABLE made.on_trino AS SELECT 7 AS x")
    shared.close()
    assert cli(["services", "down"]) == 0
    assert services.status(home)["trino"]["running"] is False
    assert services.status(home)["postgres"]["running"] is False
    back = lakelab.Lakehouse(load_config())
    assert back.config.engine == "duckdb" and back.config.trino is None
    assert back.config.catalog["uri"].startswith("sqlite:///")
    assert back.config.workspaces.max_workers == 3  # the user's own settings came back
    assert back.catalog.load_table("made.on_trino").scan().to_arrow() == pa.table({"x": pa.array([7], pa.int32())})


def test_missing_distribution_without_maven_is_a_clear_error(tmp_path, monkeypatch):
    import pytest

    from lakelab.errors import Unavailable
    from lakelab.services import trino_server

    monkeypatch.setenv("LAKELAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", str(tmp_path / "no-bin"))
    with pytest.raises(Unavailable, match="Maven") as err:
        trino_server.fetch(trino_server.cache_dir())
    assert str(tmp_path / "cache" / "trino") in str(err.value)


def test_up_refuses_a_catalog_it_cannot_share_and_starts_nothing(tmp_path, monkeypatch):
    import pytest

    from lakelab.errors import InvalidInput

    home = tmp_path / "rest_home"
    home.mkdir()
    monkeypatch.setenv("LAKELAB_HOME", str(home))
    (home / "config.yaml").write_text(
        yaml.safe_dump(
            {"catalog": {"name": "prod", "type": "rest", "uri": "http://127.0.0.1:1", "warehouse": "file:///tmp/w"}}
        )
    )
    with pytest.raises(InvalidInput, match="rest"):
        services.up(home=home)
    assert services.status(home)["postgres"]["running"] is False
    assert yaml.safe_load((home / "config.yaml").read_text())["catalog"]["type"] == "rest"


def test_trino_without_authentication_listens_on_this_machine_only(trino_home):
    import json

    import psutil

    state = json.loads((trino_home / "services" / "state.json").read_text())
    port = state["trino"]["port"]
    listening = [
        c.laddr.ip for c in psutil.net_connections("tcp") if c.status == psutil.CONN_LISTEN and c.laddr.port == port
    ]
    assert listening and all(ip in ("127.0.0.1", "::ffff:127.0.0.1") for ip in listening)

"""Names, config and doctor: the pieces every other part relies on."""

from __future__ import annotations

import subprocess
import sys

import pytest

from lakelab.config import load_config, redact, save_config
from lakelab.errors import InvalidInput
from lakelab.names import ident, table_name


@pytest.mark.parametrize("bad", ['a"b', "x;drop table y", "täble", "1abc", "", "a b", "a-b", "x" * 200, "a.b"])
def test_invalid_identifiers_are_rejected_with_a_reason(bad):
    with pytest.raises(InvalidInput) as e:
        ident(bad)
    assert "name" in str(e.value) or "empty" in str(e.value) or "longer" in str(e.value)


def test_identifiers_fold_to_lower_case_like_trino():
    assert ident("Flights") == "flights"
    assert table_name("Demo.Flights").dotted == "demo.flights"


def test_three_part_names_strip_the_configured_catalog():
    assert table_name("iceberg.demo.flights", catalog="iceberg").dotted == "demo.flights"
    assert table_name("a.b.c").identifier == ("a", "b", "c")  # nested namespace otherwise


def test_table_name_without_namespace_says_how_to_write_it():
    with pytest.raises(InvalidInput, match="namespace.table"):
        table_name("flights")


def test_embedded_default_needs_no_configuration(lakelab_home):
    cfg = load_config()
    assert cfg.engine == "duckdb" and cfg.trino is None
    assert cfg.catalog["uri"] == f"sqlite:///{lakelab_home / 'catalog.db'}"


def test_config_file_names_trino_and_secrets_are_never_public(lakelab_home):
    save_config(
        {
            "trino": {
                "host": "trino.example",
                "port": 443,
                "http_scheme": "https",
                "user": "ana",
                "password": "s3cret-pw",
            }
        }
    )
    cfg = load_config()
    assert cfg.engine == "trino" and cfg.trino.password == "s3cret-pw"
    assert "s3cret-pw" not in repr(cfg.public())
    assert (lakelab_home / "config.yaml").stat().st_mode & 0o077 == 0


def test_bad_config_is_a_clear_error(lakelab_home):
    lakelab_home.mkdir(parents=True)
    (lakelab_home / "config.yaml").write_text("trino: [unclosed")
    with pytest.raises(InvalidInput, match="not valid YAML"):
        load_config()
    (lakelab_home / "config.yaml").write_text("catalgo: {}")
    with pytest.raises(InvalidInput, match="unknown section"):
        load_config()


def test_redact_hides_uri_passwords():
    assert redact("postgresql://u:pw@h/db") == "postgresql://u:***@h/db"
    assert redact({"s3.secret-access-key": "k", "uri": "x"}) == {"s3.secret-access-key": "***", "uri": "x"}


def test_doctor_reports_in_plain_words(lakelab_home):
    out = subprocess.run(
        [sys.executable, "-m", "lakelab", "doctor"],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "LAKELAB_HOME": str(lakelab_home)},
    )
    assert "[ok  ] config: no config file: the embedded default" in out.stdout
    assert "catalog: lakelab (sql)" in out.stdout
    assert "Traceback" not in out.stdout + out.stderr


def test_doctor_says_what_is_wrong_with_an_unreachable_trino(lakelab_home):
    save_config({"trino": {"host": "127.0.0.1", "port": 9, "user": "ana"}})
    out = subprocess.run(
        [sys.executable, "-m", "lakelab", "doctor"],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "LAKELAB_HOME": str(lakelab_home)},
    )
    assert out.returncode == 1
    assert "[FAIL] trino: http://127.0.0.1:9 unreachable" in out.stdout
    assert "lakelab services up" in out.stdout

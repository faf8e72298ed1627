"""`lakelab sql` runs Trino SQL from the shell."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow as pa

from lakelab.config import load_config
from lakelab.lakehouse import Lakehouse


def lakelab_cli(*args: str, env_home) -> subprocess.CompletedProcess:
    import os

    env = {**os.environ, "LAKELAB_HOME": str(env_home)}
    return subprocess.run(
        [sys.executable, "-m", "lakelab", *args], capture_output=True, text=True, env=env, timeout=120
    )


def seed(lakelab_home):
    house = Lakehouse(load_config())
    house.catalog.create_namespace("demo")
    house.catalog.create_table("demo.t", schema=pa.schema([("id", pa.int64()), ("name", pa.string())])).append(
        pa.table({"id": pa.array([1, 2, 3], pa.int64()), "name": ["a", "b", None]})
    )
    house.close()


def test_sql_prints_a_table_and_says_which_engine_ran(lakelab_home):
    seed(lakelab_home)
    out = lakelab_cli("sql", "SELECT id, name FROM demo.t ORDER BY id", env_home=lakelab_home)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["id", "|", "name"] and lines[-1].split() == ["3", "|", "NULL"]
    assert "engine: duckdb" in out.stderr


def test_sql_json_and_csv_with_bound_params(lakelab_home):
    seed(lakelab_home)
    out = lakelab_cli(
        "sql",
        "SELECT id FROM demo.t WHERE id >= {{ lo }} ORDER BY id",
        "--param",
        "lo=2",
        "--format",
        "json",
        env_home=lakelab_home,
    )
    assert [json.loads(line) for line in out.stdout.splitlines()] == [{"id": 2}, {"id": 3}]
    out = lakelab_cli("sql", "SELECT name FROM demo.t WHERE id = 1", "--format", "csv", env_home=lakelab_home)
    assert out.stdout.splitlines() == ['"name"', '"a"']


def test_sql_errors_are_one_line_without_traceback(lakelab_home):
    seed(lakelab_home)
    out = lakelab_cli("sql", "SELECT greatest(1, 2)", env_home=lakelab_home)
    assert out.returncode == 2
    assert "not supported on the embedded engine" in out.stderr and "Traceback" not in out.stderr


def test_sql_into_writes_a_dataset_with_lineage_like_the_magic(lakelab_home):
    seed(lakelab_home)
    out = lakelab_cli(
        "sql",
        "SELECT id * 10 AS id FROM demo.t WHERE id >= {{ lo }}",
        "--param",
        "lo=2",
        "--into",
        "demo.tens",
        env_home=lakelab_home,
    )
    assert out.returncode == 0, out.stderr
    assert "wrote 2 rows to demo.tens" in out.stderr and "engine: duckdb" in out.stderr
    out = lakelab_cli("sql", "SELECT 1 AS id", "--into", "demo.tens", "--mode", "append", env_home=lakelab_home)
    assert "wrote 1 row to demo.tens" in out.stderr
    house = Lakehouse(load_config())
    assert sorted(house.sql("SELECT id FROM demo.tens").table.column("id").to_pylist()) == [1, 20, 30]
    edges = house.dataset("demo.tens").lineage().edges
    assert [(e.source, e.operation) for e in edges] == [("demo.t", "transform")]
    house.close()


def test_sql_into_refuses_an_existing_table_and_mode_without_into(lakelab_home):
    seed(lakelab_home)
    out = lakelab_cli("sql", "SELECT 1 AS id", "--into", "demo.t", env_home=lakelab_home)
    assert out.returncode == 2 and "already exists" in out.stderr and "--mode append" in out.stderr
    out = lakelab_cli("sql", "SELECT 1 AS id", "--mode", "append", env_home=lakelab_home)
    assert out.returncode == 2 and "--mode only applies with --into" in out.stderr
    assert "Traceback" not in out.stderr


def test_sql_table_output_shows_escape_sequences_instead_of_sending_them_to_the_terminal(lakelab_home):
    seed(lakelab_home)
    out = lakelab_cli("sql", "SELECT chr(27) || '[2J' AS v", env_home=lakelab_home)
    assert out.returncode == 0, out.stderr
    assert "\x1b" not in out.stdout and "\\x1b[2J" in out.stdout

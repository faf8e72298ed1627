"""%%trino on the real Trino: the magic runs there by default once services are up, binds
parameters as Trino parameters, and keeps previews bounded."""
from __future__ import annotations

from lakelab.magics.sql import SqlMagics


def test_magic_runs_on_trino_by_default_with_bounded_preview(tlh):
    magic = SqlMagics(shell=None, lakehouse=tlh)
    res = magic.trino("-l 3", "SELECT x FROM UNNEST(sequence(1, 10)) t(x) ORDER BY x")
    assert res.engine == "trino"
    assert res.table.column("x").to_pylist() == [1, 2, 3] and res.has_more is True
    assert res.query_id and res.info_url


def test_magic_param_is_bound_on_trino(tlh):
    magic = SqlMagics(shell=None, lakehouse=tlh)
    res = magic.trino("--param v=x'--", "SELECT {{ v }} AS v")
    assert res.engine == "trino" and res.table.to_pylist() == [{"v": "x'--"}]


def test_magic_engine_duckdb_runs_the_same_sql_locally(tlh, ns):
    tlh.engine("trino").execute(f"CREATE TABLE {ns}.nums AS SELECT * FROM (VALUES 1, 2, 3) t(n)")
    magic = SqlMagics(shell=None, lakehouse=tlh)
    sql = f"SELECT sum(n) AS s FROM {ns}.nums"
    on_trino = magic.trino("", sql)
    local = magic.trino("--engine duckdb", sql)
    assert (on_trino.engine, local.engine) == ("trino", "duckdb")
    assert on_trino.table.to_pylist() == local.table.to_pylist() == [{"s": 6}]

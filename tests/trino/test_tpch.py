"""The 22 TPC-H queries (Trino dialect, tests/sql/tpch) on Trino and on the embedded engine
over the same Iceberg tables (SF 0.01): equal answers, order-insensitive unless the query
has a top-level ORDER BY, doubles and decimals within a relative 1e-9."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from trino_compare import differences, has_top_level_order_by

from lakelab.catalog.access import WRITE_PROPERTIES

QUERIES = Path(__file__).parent.parent / "sql" / "tpch"
TABLES = ["region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem"]


@pytest.fixture(scope="session")
def tpch_shared(trino_home, tmp_path_factory) -> str:
    """TPC-H SF 0.01 from tpchgen-cli, appended with pyiceberg into namespace tpch of the shared catalog."""
    import lakelab
    from lakelab.config import load_config

    out = tmp_path_factory.mktemp("tpch_trino")
    exe = shutil.which("tpchgen-cli")
    if exe is None:
        pytest.fail("tpchgen-cli is not installed (pip install tpchgen-cli)")
    subprocess.run([exe, "parquet", "-s", "0.01", f"--output-dir={out}"], check=True, capture_output=True)
    house = lakelab.Lakehouse(load_config(trino_home / "config.yaml"))
    house.catalog.create_namespace_if_not_exists("tpch")
    for name in TABLES:
        arrow = pq.read_table(out / f"{name}.parquet")
        house.catalog.create_table(f"tpch.{name}", arrow.schema, properties=WRITE_PROPERTIES).append(arrow)
    house.close()
    return "tpch"


@pytest.mark.parametrize("qfile", sorted(QUERIES.glob("q*.sql")), ids=lambda p: p.stem)
def test_tpch_query_answers_equal_on_trino_and_embedded_engine(tlh, tpch_shared, qfile):
    sql = qfile.read_text()
    on_trino = tlh.engine("trino").execute(sql).table
    local = tlh.engine("duckdb").execute(sql).table
    assert on_trino.num_rows > 0 or qfile.stem in ("q02", "q21")
    problem = differences(on_trino, local, ordered=has_top_level_order_by(sql))
    assert problem is None, f"{qfile.stem}: {problem}"


def test_all_22_queries_are_there():
    assert len(list(QUERIES.glob("q*.sql"))) == 22

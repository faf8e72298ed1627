"""Fixtures for the SQL engine tests: a TPC-H lakehouse (tpchgen-cli Parquet ingested with plain
pyiceberg appends) shared by the module, and helpers to make real Iceberg tables."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import lakelab
from lakelab.catalog.access import WRITE_PROPERTIES
from lakelab.config import Config, WorkspaceConfig, default_catalog

TPCH_TABLES = ["region", "nation", "supplier", "customer", "part", "partsupp", "orders", "lineitem"]
QUERIES = Path(__file__).parent / "tpch"


def generate_tpch(out: Path, sf: float) -> Path:
    if not (out / "lineitem.parquet").exists():
        exe = shutil.which("tpchgen-cli")
        if exe is None:
            pytest.fail("tpchgen-cli is not installed (pip install tpchgen-cli)")
        subprocess.run([exe, "parquet", "-s", str(sf), f"--output-dir={out}"], check=True, capture_output=True)
    return out


def ingest_tpch(house: lakelab.Lakehouse, data: Path, namespace: str = "tpch") -> None:
    house.catalog.create_namespace_if_not_exists(namespace)
    for name in TPCH_TABLES:
        arrow = pq.read_table(data / f"{name}.parquet")
        table = house.catalog.create_table(f"{namespace}.{name}", schema=arrow.schema, properties=WRITE_PROPERTIES)
        table.append(arrow)


def embedded_lakehouse(home: Path) -> lakelab.Lakehouse:
    return lakelab.Lakehouse(
        Config(home=home, catalog=default_catalog(home), trino=None, workspaces=WorkspaceConfig(), engine="duckdb")
    )


@pytest.fixture(scope="session")
def tpch_data(tmp_path_factory) -> Path:
    return generate_tpch(tmp_path_factory.mktemp("tpch_sf001"), 0.01)


@pytest.fixture(scope="session")
def tpch_lh(tmp_path_factory, tpch_data) -> lakelab.Lakehouse:
    """A lakehouse holding the 8 TPC-H tables at SF 0.01 in namespace tpch."""
    house = embedded_lakehouse(tmp_path_factory.mktemp("tpch_home"))
    ingest_tpch(house, tpch_data)
    yield house
    house.close()


@pytest.fixture
def flights(lh):
    """demo.flights: ids 0-9, origins alternating JFK and LGA."""
    lh.catalog.create_namespace("demo")
    table = lh.catalog.create_table("demo.flights", schema=pa.schema([("id", pa.int64()), ("origin", pa.string())]))
    table.append(pa.table({"id": pa.array(range(10), pa.int64()), "origin": ["JFK", "LGA"] * 5}))
    return table

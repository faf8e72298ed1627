"""Widget fixtures: a real embedded lakehouse with a small table, its DuckDB engine."""

from __future__ import annotations

import pyarrow as pa
import pytest


def rows(n: int) -> pa.Table:
    return pa.table(
        {
            "id": pa.array(range(n), pa.int64()),
            "carrier": pa.array([["AA", "UA", "DL"][i % 3] for i in range(n)]),
            "delay": pa.array([float(i % 17) if i % 10 else None for i in range(n)]),
        }
    )


@pytest.fixture
def flights(lh):
    lh.ingest(rows(1000), "demo.flights", mode="create")
    return lh


@pytest.fixture
def engine(flights):
    return flights.engine("duckdb")

"""Fixtures for ingest tests: small sources on disk and in memory."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest


@pytest.fixture
def people() -> pa.Table:
    return pa.table({"id": [1, 2, 3], "name": ["ada", "bob", "cy"], "score": [1.5, 2.5, 3.5]})


@pytest.fixture
def csv_dir(tmp_path) -> Path:
    d = tmp_path / "csv"
    d.mkdir()
    (d / "a.csv").write_text("id,name,score\n1,ada,1.5\n2,bob,2.5\n")
    (d / "b.csv").write_text("id,name,score\n3,cy,3.5\n")
    return d

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


@pytest.fixture(scope="session")
def postgres_can_enter_tmp(tmp_path_factory):
    """As root, the shared postgres_url fixture runs PostgreSQL as user `postgres`, which
    cannot enter pytest's 0700 temp folders; open them for traversal (0711) right before it
    starts (other pytest sessions reset the shared folder's mode when they start).
    The lasting fix belongs in tests/conftest.py; see the ingest report."""
    import os

    if os.geteuid() == 0:
        base = tmp_path_factory.getbasetemp()
        for d in (base, base.parent):
            d.chmod(d.stat().st_mode | 0o011)

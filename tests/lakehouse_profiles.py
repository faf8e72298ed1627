"""Lakehouse profiles for tests (a pytest plugin: `pytest_plugins = ["lakehouse_profiles"]`).

`lakehouse_profile(catalog, storage, workers=0)` starts that profile through the same code as
`lakelab services up` (lakelab.services.up) under a temp LAKELAB_HOME and returns a
`ProfileRun` whose `.lakehouse` is a configured `lakelab.Lakehouse` (both engines set up).
One profile runs at a time (a 2-core machine holds one Trino cluster comfortably): asking
for another stops the previous one; the same one is reused. Everything is stopped at the end
of the session. `("sqlite", "local")` is the embedded default: no services at all.

If a profile cannot start the test fails with the end of the part's log: never a skip.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

import lakelab
from lakelab import services
from lakelab.config import load_config
from lakelab.errors import LakelabError

PROFILES: dict[str, tuple[str, str, int]] = {
    "sqlite-local": ("sqlite", "local", 0),
    "postgres-s3": ("postgres", "s3", 0),
    "rest-s3": ("rest", "s3", 0),
    "rest-gcs": ("rest", "gcs", 0),
    "rest-s3-1worker": ("rest", "s3", 1),
}
# also usable: ("nessie", "s3"), and s3_impl="s3proxy" instead of versitygw


@dataclass
class ProfileRun:
    catalog: str
    storage: str
    workers: int
    s3_impl: str | None
    home: Path
    state: dict[str, Any] = field(default_factory=dict)
    _lakehouse: lakelab.Lakehouse | None = None
    stopped: bool = False

    @property
    def embedded(self) -> bool:
        return self.catalog == "sqlite"

    @property
    def lakehouse(self) -> lakelab.Lakehouse:
        if self._lakehouse is None:
            self._lakehouse = lakelab.Lakehouse(load_config(self.home / "config.yaml"))
        return self._lakehouse

    def pids(self) -> list[int]:
        return services.pids(self.home)

    def down(self) -> dict[str, Any]:
        if self._lakehouse is not None:
            self._lakehouse.close()
            self._lakehouse = None
        if self.stopped or self.embedded:
            self.stopped = True
            return {"stopped": False, "pids": []}
        self.stopped = True
        return services.down(home=self.home)


def _up_kwargs(catalog: str, storage: str, workers: int, s3_impl: str | None) -> dict[str, Any]:
    catalog = {"postgres": "sql"}.get(catalog, catalog)
    return {"catalog": catalog, "storage": storage, "trino_workers": workers, "s3_impl": s3_impl}


def _register_secrets(home: Path) -> None:
    from secret_scan import register, scan_dir

    scan_dir(home)
    cred = home / "services" / "credentials.yaml"
    if cred.exists():
        for key, value in (yaml.safe_load(cred.read_text()) or {}).items():
            register(value, f"object-store {key}")


@pytest.fixture(scope="session")
def lakehouse_profile(tmp_path_factory):
    runs: dict[tuple[str, str, int, str | None], ProfileRun] = {}
    current: list[ProfileRun] = []
    mp = pytest.MonkeyPatch()
    for var in list(os.environ):
        if var.startswith("LAKELAB_TRINO_") or var in ("LAKELAB_CONFIG", "LAKELAB_ENGINE"):
            mp.delenv(var)

    def get(catalog: str, storage: str, workers: int = 0, s3_impl: str | None = None) -> ProfileRun:
        """catalog: sqlite (embedded) | postgres | rest | nessie; storage: local | s3 | gcs."""
        key = (catalog, storage, workers, s3_impl)
        run = runs.get(key)
        if run is not None and not run.stopped:
            mp.setenv("LAKELAB_HOME", str(run.home))
            return run
        for other in current:
            other.down()
        current.clear()
        home = tmp_path_factory.mktemp(f"profile-{catalog}-{storage}-{workers}") / "home"
        home.mkdir()
        mp.setenv("LAKELAB_HOME", str(home))
        run = ProfileRun(catalog, storage, workers, s3_impl, home)
        if not run.embedded:
            try:
                run.state = services.up(home=home, **_up_kwargs(catalog, storage, workers, s3_impl))
            except LakelabError as e:
                services.down(home=home)
                pytest.fail(f"lakelab services up {key} failed: {e}", pytrace=False)
            finally:
                _register_secrets(home)
        runs[key] = run
        current.append(run)
        return run

    yield get
    for run in runs.values():
        run.down()
    mp.undo()

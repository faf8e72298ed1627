"""Test tiers: every collected test gets one, at collection, from the rules below.

A test is in the heavy tiers it needs - `trino`, `postgres`, `ray`, `browser`, `kube`, `slow`, any
number of them - or, needing none, in `fast` (`make test-fast` runs `pytest -m fast`).
`make test` runs everything. The heavy markers come from, in this order:

- the test's own markers (`pytestmark = pytest.mark.ray` in a module, `@pytest.mark.ray`);
- its folder (`FOLDER_TIERS`): every test under tests/trino needs Trino;
- the fixtures it uses (`FIXTURE_TIERS`): `postgres_url` or `pg_lh` means PostgreSQL, the
  auth sweep's `running` (a real Ray workspace) means Ray;
- a fixture parametrised "postgres" (`house`, `catalog`: they reach `pg_lh` through
  `request.getfixturevalue`, which no static rule can see); `pg_lh` also fails any test
  that reaches it without the postgres marker, so a new dynamic use cannot slip into
  the fast tier;
- `SLOW`: tests measured at over ~20 s on the shared 2-core machine, each with its reason.

Collection fails with a clear error when a test marked `fast` by hand also needs a heavy
tier, or when a `SLOW` entry names no test file. In a fast-tier run the summary lists the
fast tests that took over `FAST_BUDGET_S`: move them to `SLOW`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

HEAVY = ("trino", "postgres", "ray", "browser", "kube", "slow")
FAST_BUDGET_S = 20.0
TESTS = Path(__file__).parent

FOLDER_TIERS = {"trino": "trino", "browser": "browser"}
# a fixture name anywhere, or "<file under tests/>::<fixture>" for a fixture of that module only
FIXTURE_TIERS = {
    "postgres_url": "postgres",
    "pg_lh": "postgres",
    "trino_home": "trino",
    "main_ws": "ray",
    "reliability/test_auth_sweep.py::running": "ray",
    "browser": "browser",
    "kube": "kube",  # tests/workspaces/kube: a kwok control plane + the KubeRay operator
}
PARAM_TIERS = {"postgres": "postgres"}  # a fixture parameter value that brings the part up

# node id prefixes (relative to tests/) -> why they are slow; a file prefix covers its tests.
# Seconds measured in one `pytest -m fast --durations` run on the shared, loaded 2-core machine.
SLOW: dict[str, str] = {
    "dashboards/test_dashboards.py::test_publish_runs_the_notebook_and_pins_what_it_read_then_refresh_makes_v2": "two "
    "notebook runs in fresh kernels: 27 s",
    "reliability/test_crashes.py": "20 kill -9s per write kind, each writer a fresh interpreter on a 600k-row CSV",
    "reliability/test_load.py": "builds 10,000 datasets, then 20 REST clients for 15 s",
    "reliability/test_concurrent_upserts.py": "16 upserting processes racing on one table: 86 s",
    "reliability/test_concurrent_writers.py": "16 writer processes racing on one table: 78 s",
    "server/test_live_server.py::test_a_bounded_fuzz_of_every_route_finds_no_server_errors": "schemathesis over "
    "every route of a real server: 34 s",
}


def _fixture_keys(item: pytest.Item) -> set[str]:
    """The fixtures a test uses, each as its name and as "<defining file>::<name>"."""
    keys: set[str] = set()
    info = getattr(item, "_fixtureinfo", None)
    for name in getattr(item, "fixturenames", ()):
        keys.add(name)
        defs = info.name2fixturedefs.get(name) if info is not None else None
        if defs:  # the last definition is the one in effect for this test
            where = defs[-1].baseid.split("::")[0].removeprefix("tests/")
            keys.add(f"{where}::{name}")
    return keys


def _heavy_tiers(item: pytest.Item) -> set[str]:
    tiers = {m.name for m in item.iter_markers() if m.name in HEAVY}
    rel = Path(str(item.path)).resolve().relative_to(TESTS.resolve())
    tiers |= {tier for folder, tier in FOLDER_TIERS.items() if rel.parts[0] == folder}
    fixtures = _fixture_keys(item)
    tiers |= {tier for key, tier in FIXTURE_TIERS.items() if key in fixtures}
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        tiers |= {PARAM_TIERS[v] for v in callspec.params.values() if isinstance(v, str) and v in PARAM_TIERS}
    node = rel.as_posix() + item.nodeid.partition("::")[1] + item.nodeid.partition("::")[2]
    if any(node == key or node.startswith((key + "::", key + "[")) for key in SLOW):
        tiers.add("slow")
    return tiers


def pytest_configure(config: pytest.Config) -> None:
    for key in SLOW:
        if not (TESTS / key.split("::")[0]).is_file():
            raise pytest.UsageError(f"tests/tiers.py: SLOW names {key!r}, which is not a test file under tests/")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # a plain (not trylast) hook: the markers must be there before `-m` deselects
    wrong = []
    for item in items:
        tiers = _heavy_tiers(item)
        if item.get_closest_marker("fast") is not None and tiers:
            wrong.append(f"{item.nodeid}: marked fast but needs {', '.join(sorted(tiers))}")
        for tier in sorted(tiers - {m.name for m in item.iter_markers()}):
            item.add_marker(getattr(pytest.mark, tier))
        if not tiers:
            item.add_marker(pytest.mark.fast)
        if not any(item.get_closest_marker(t) for t in ("fast", *HEAVY)):
            wrong.append(f"{item.nodeid}: no tier")
    if wrong:
        raise pytest.UsageError("test tiers (tests/tiers.py):\n  " + "\n  ".join(wrong))


_over_budget: list[tuple[str, float]] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call" and "fast" in report.keywords and report.duration > FAST_BUDGET_S:
        _over_budget.append((report.nodeid, report.duration))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _over_budget:
        terminalreporter.section("fast tier over budget")
        for nodeid, seconds in sorted(_over_budget, key=lambda x: -x[1]):
            terminalreporter.write_line(f"{seconds:6.1f} s  {nodeid}  (over {FAST_BUDGET_S:.0f} s: add it to SLOW)")

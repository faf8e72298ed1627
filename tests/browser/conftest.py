"""Browser-test fixtures: a seeded lakehouse, a real `jupyter lab` on it, Debian's Chromium.

Playwright never downloads a browser here: it drives /usr/bin/chromium (FIELD-NOTES), with
the flags that keep Chromium off the network.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
TOKEN = "lakelab-browser-test"
START_TIMEOUT_S = 120
BULK_DATASETS = 450


def seed_lakehouse(home: Path) -> dict[str, int]:
    """Three small datasets with lakelab metadata, written with pyiceberg directly:
    demo.flights (two appends: two snapshots for time travel, column docs), demo.airlines,
    demo.delay_model (a scikit-learn model trained on demo.flights, two versions) and
    demo.delay_report (made from the model: a DataFrame, then a notebook),
    demo.delays_by_carrier with recorded lineage, sales.eu.orders and a `bulk` namespace."""
    from pyiceberg.schema import Schema
    from pyiceberg.types import DoubleType, LongType, NestedField, StringType

    import lakelab
    from lakelab.catalog import metadata as md
    from lakelab.catalog.access import WRITE_PROPERTIES, ensure_namespace
    from lakelab.config import load_config

    old = os.environ.get("LAKELAB_HOME")
    os.environ["LAKELAB_HOME"] = str(home)
    try:
        lh = lakelab.Lakehouse(load_config())
        cat = lh.catalog
        ensure_namespace(cat, ("demo",))
        ensure_namespace(cat, ("sales", "eu"))
        ensure_namespace(cat, ("bulk",))

        carriers = ["AA", "B6", "DL", "UA", "WN"]
        n = 2500
        flights = pa.table(
            {
                "flight": pa.array(range(1, n + 1), pa.int64()),
                "carrier": pa.array([carriers[i % 5] for i in range(n)], pa.string()),
                "origin": pa.array([("JFK", "LGA", "EWR")[i % 3] for i in range(n)], pa.string()),
                "dep_delay": pa.array([float((i * 7) % 60 - 10) for i in range(n)], pa.float64()),
            }
        )
        schema = Schema(
            NestedField(1, "flight", LongType(), doc="flight number"),
            NestedField(2, "carrier", StringType(), doc="two-letter carrier code"),
            NestedField(3, "origin", StringType(), doc="departure airport"),
            NestedField(4, "dep_delay", DoubleType(), doc="departure delay, minutes"),
        )
        t = cat.create_table(
            ("demo", "flights"),
            schema=schema,
            properties={
                **WRITE_PROPERTIES,
                **md.metadata_properties(
                    kind="table", owner="ops", tags="aviation,nyc", description="Departures from New York airports"
                ),
            },
        )
        first = md.Lineage("ingest", sources=["file:///data/flights-part1.csv"], user="tester")
        t.append(flights.slice(0, 1500), snapshot_properties=first.summary())
        second = md.Lineage("ingest", sources=["file:///data/flights-part2.csv"], user="tester")
        t.append(flights.slice(1500), snapshot_properties=second.summary())
        t = cat.load_table(("demo", "flights"))

        airlines = pa.table({"carrier": carriers, "name": ["American", "JetBlue", "Delta", "United", "Southwest"]})
        a = cat.create_table(
            ("demo", "airlines"),
            schema=airlines.schema,
            properties={
                **WRITE_PROPERTIES,
                **md.metadata_properties(
                    kind="table", owner="ref-data", tags="reference", description="Airline names by carrier code"
                ),
            },
        )
        a.append(airlines, snapshot_properties=md.Lineage("ingest", user="tester").summary())
        a = cat.load_table(("demo", "airlines"))

        # a real model and report, published with the library: table -> model -> report
        publish_model_and_report(lh, home)

        derived = pa.table({"carrier": carriers, "avg_dep_delay": pa.array([1.5, 2.0, 3.25, 4.0, 5.5])})
        d = cat.create_table(
            ("demo", "delays_by_carrier"),
            schema=derived.schema,
            properties={
                **md.metadata_properties(
                    kind="table", owner="analytics", tags="derived", description="Average departure delay per carrier"
                )
            },
        )
        lineage = md.Lineage(
            "transform",
            upstream=[
                {"table": "demo.flights", "snapshot_id": t.current_snapshot().snapshot_id},
                {"table": "demo.airlines", "snapshot_id": a.current_snapshot().snapshot_id},
            ],
            sql="SELECT carrier, avg(dep_delay) FROM demo.flights GROUP BY carrier",
            user="tester",
        )
        d.append(derived, snapshot_properties=lineage.summary())

        eu = pa.table({"order_id": pa.array([1, 2, 3], pa.int64()), "amount": [9.5, 20.0, 3.0]})
        o = cat.create_table(
            ("sales", "eu", "orders"),
            schema=eu.schema,
            properties={**md.metadata_properties(kind="table", owner="sales", description="EU orders")},
        )
        o.append(eu)

        # a namespace of many datasets for the windowed tree: one real table, registered
        # again under more names (register_table: one catalog row each, no data copied)
        base = cat.create_table(("bulk", "r00000"), schema=pa.schema([("id", pa.int64())]))
        for i in range(1, BULK_DATASETS):
            cat.register_table(("bulk", f"r{i:05d}"), base.metadata_location)
        snaps = sorted(t.snapshots(), key=lambda s: s.timestamp_ms)
        lh.close()
        return {"flights_first_snapshot": snaps[0].snapshot_id, "flights_rows": n}
    finally:
        if old is None:
            os.environ.pop("LAKELAB_HOME", None)
        else:
            os.environ["LAKELAB_HOME"] = old


REPORT_TITLE = "Delay report from the published model"


def publish_model_and_report(lh, home: Path) -> None:
    """demo.delay_model v1 and v2 (scikit-learn, inputs demo.flights) and demo.delay_report
    v1 (a DataFrame) and v2 (a notebook rendered to HTML), both with inputs demo.delay_model."""
    import nbformat
    from sklearn.linear_model import LinearRegression

    frame = lh.catalog.load_table(("demo", "flights")).scan().to_pandas()
    x = frame[["flight"]].to_numpy()
    for fit_rows in (1000, len(frame)):
        model = LinearRegression().fit(x[:fit_rows], frame["dep_delay"][:fit_rows])
        lh.publish(
            model,
            "demo.delay_model",
            kind="model",
            inputs=["demo.flights"],
            owner="ml",
            tags="ml",
            description="Departure delay model",
        )
    per_carrier = frame.assign(predicted=model.predict(x)).groupby("carrier", as_index=False)["predicted"].mean()
    lh.publish(
        per_carrier,
        "demo.delay_report",
        kind="report",
        inputs=["demo.delay_model"],
        owner="ml",
        tags="ml",
        description="Departure delay report",
    )
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# {REPORT_TITLE}"),
        nbformat.v4.new_code_cell(
            "print('mean predicted delay')",
            outputs=[nbformat.v4.new_output("stream", name="stdout", text="mean predicted delay: 19.5\n")],
        ),
    ]
    path = home.parent / "delay_report.ipynb"
    nbformat.write(nb, str(path))
    lh.publish(str(path), "demo.delay_report", kind="report", inputs=["demo.delay_model"])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A running `jupyter lab` subprocess."""

    def __init__(self, root: Path, home: Path, *extra: str, name: str = "lab", base_url: str = "/"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}{base_url}"
        self.root = root
        settings = root.parent / f"{name}-settings"
        # no news / update pop-ups over the screenshots
        (settings / "@jupyterlab" / "apputils-extension").mkdir(parents=True, exist_ok=True)
        (settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
        env = {
            **os.environ,
            "LAKELAB_HOME": str(home),
            "JUPYTERLAB_SETTINGS_DIR": str(settings),
            "JUPYTERLAB_WORKSPACES_DIR": str(root.parent / f"{name}-workspaces"),
        }
        for var in list(env):
            if var.startswith("LAKELAB_TRINO_") or var in ("LAKELAB_CONFIG", "LAKELAB_ENGINE"):
                env.pop(var)
        self.log_path = root.parent / f"{name}.log"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter",
                "lab",
                "--no-browser",
                f"--port={self.port}",
                "--ip=127.0.0.1",
                f"--IdentityProvider.token={TOKEN}",
                f"--ServerApp.root_dir={root}",
                "--LabApp.expose_app_in_browser=True",
                "--ServerApp.allow_root=True",
                f"--ServerApp.base_url={base_url}",
                *extra,
            ],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=root,
        )
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited: {self.log_path.read_text()[-3000:]}")
            try:
                req = urllib.request.Request(self.url + "api/status", headers={"Authorization": f"token {TOKEN}"})
                with urllib.request.urlopen(req, timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"jupyter lab did not start: {self.log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self._log.close()


def _serve(seeded, tmp_path_factory, *extra: str, name: str = "lab", base_url: str = "/") -> Iterator[Lab]:
    """A JupyterLab on the seeded lakehouse with its own notebook folder, stopped afterwards."""
    root = tmp_path_factory.mktemp(name) / "notebooks"
    root.mkdir()
    server = Lab(root, seeded[0], *extra, name=name, base_url=base_url)
    yield server
    server.stop()


@pytest.fixture(scope="package")  # torn down before other packages: sync Playwright holds an event loop
def seeded(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    home = tmp_path_factory.mktemp("browser") / "lakelab_home"
    return home, seed_lakehouse(home)


@pytest.fixture(scope="package")  # torn down before other packages: sync Playwright holds an event loop
def lab(seeded, tmp_path_factory) -> Iterator[Lab]:
    yield from _serve(seeded, tmp_path_factory)


@pytest.fixture(scope="package")  # torn down before other packages: sync Playwright holds an event loop
def lab_without_server_extension(seeded, tmp_path_factory) -> Iterator[Lab]:
    yield from _serve(seeded, tmp_path_factory, "--ServerApp.jpserver_extensions=lakelab_server=False", name="bare")


@pytest.fixture(scope="package")  # torn down before other packages: sync Playwright holds an event loop
def lab_under_base_url(seeded, tmp_path_factory) -> Iterator[Lab]:
    """JupyterLab under a non-root base URL, as JupyterHub serves it."""
    yield from _serve(seeded, tmp_path_factory, name="hub", base_url="/user/tester/")


@pytest.fixture(scope="package")  # torn down before other packages: sync Playwright holds an event loop
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium not found: apt-get install -y chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.on("console", lambda m: print(f"console.{m.type}: {m.text}") if m.type in ("error", "warning") else None)
    pg.page_errors = errors  # type: ignore[attr-defined]
    yield pg
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
        pg.screenshot(path=str(ARTIFACTS / f"FAILED-{request.node.name}.png"))
    context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    setattr(item, f"rep_{rep.when}", rep)


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


# -- driving JupyterLab: shared by the browser test modules --------------------------------
TIMEOUT = 60_000  # ms; the machine is shared


def open_lab(page, lab: Lab, path: str = "lab") -> None:
    page.set_default_timeout(TIMEOUT)
    # ?reset: start from an empty workspace, not the tabs an earlier test left open
    page.goto(f"{lab.url}{path}?reset&token={TOKEN}")
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started !== undefined")
    page.locator("#jp-main-dock-panel").wait_for()


def run_command(page, command: str, args: dict | None = None):
    return page.evaluate("([c, a]) => window.jupyterapp.commands.execute(c, a)", [command, args or {}])


def open_palette(page, text: str):
    """The command palette opened the way a user does (Ctrl+Shift+C) with `text` typed; returns it.
    Menus are closed first: a key press while a context menu is still closing goes to the menu."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    menus = page.locator(".lm-Menu")
    while menus.count():  # Escape reaches a menu only when it has the focus (late, under load)
        menus.last.focus()
        page.keyboard.press("Escape")
        menus.last.wait_for(state="detached", timeout=10_000)
    palette = page.locator("#command-palette")
    for _ in range(3):
        page.keyboard.press("Control+Shift+C")
        try:
            palette.locator("input").wait_for(state="visible", timeout=10_000)
            break
        except PlaywrightTimeout:  # the key press was lost under load: press again
            continue
    palette.locator("input").fill(text)
    return palette


def new_notebook(page):
    """A new Python notebook, its first cell on the page; returns the notebook panel."""
    run_command(page, "notebook:create-new", {"kernelName": "python3"})
    nb = page.locator(".jp-NotebookPanel:visible")
    nb.locator(".jp-Cell").first.wait_for()
    return nb

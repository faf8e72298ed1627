"""Dashboard datasets: a notebook published as versions, each pinned to the data it showed.

A publish runs the notebook top to bottom in a fresh kernel (nbclient). The kernel records every
read it makes (engines/run_context.py) to a file, so the version knows its inputs and their
snapshots. A version is a row of the same versions table models and reports use
(artifacts.py), written by the same publish path (write/publish.py): its artifact is the
rendered page (nbconvert HTML, widget state included) and, next to it, the notebook itself;
the row's metadata holds the notebook's sha256, the inputs and the kernel's package versions.

A dashboard is stale when one of its latest version's inputs has a newer snapshot; `refresh`
re-runs stale dashboards into new versions.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lakelab.catalog.access import load_table
from lakelab.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from lakelab.datasets.artifacts import Artifact
    from lakelab.datasets.dataset import Dataset

PAGE_FILE = "dashboard.html"
NOTEBOOK_FILE = "notebook.ipynb"
DEFAULT_TIMEOUT_S = 600
_PACKAGES_MARK = "__lakelab_packages__"
# Run after the user's cells in the same kernel, then dropped from the page: the versions of
# every distribution whose modules the notebook ended up importing.
_PACKAGES_CELL = f"""
import json as _lj, sys as _ls
from importlib import metadata as _lm
_lo, _ld = {{"python": _ls.version.split()[0]}}, _lm.packages_distributions()
for _lmod in sorted({{m.split(".")[0] for m in list(_ls.modules)}}):
    for _ldist in _ld.get(_lmod, []):
        try:
            _lo[_ldist] = _lm.version(_ldist)
        except Exception:
            pass
print({_PACKAGES_MARK!r} + _lj.dumps(_lo))
"""


@dataclass
class NotebookSource:
    """The notebook to run: its bytes, the folder it runs in, and where it came from."""

    data: bytes
    cwd: Path
    uri: str
    label: str


@dataclass
class NotebookRun:
    """What one publish run produced."""

    source: NotebookSource
    page: str
    inputs: list[dict[str, Any]]
    packages: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def open_notebook(path: str | os.PathLike) -> NotebookSource:
    """A notebook file given by path; NotFound or InvalidInput naming the file."""
    p = Path(path).expanduser()
    if p.suffix.lower() != ".ipynb":
        raise InvalidInput(f"a dashboard is published from a notebook (.ipynb), got {path}")
    if not p.is_file():
        raise NotFound(f"notebook {path} does not exist")
    p = p.resolve()
    return NotebookSource(p.read_bytes(), p.parent, p.as_uri(), str(path))


def _parse(src: NotebookSource) -> Any:
    import nbformat

    try:
        nb = nbformat.reads(src.data.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except Exception as e:  # noqa: BLE001 - JSON, encoding and schema errors all mean "not a notebook"
        first = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
        raise InvalidInput(
            f"{src.label} is not a valid notebook: {first}", hint="open and save it in JupyterLab"
        ) from None
    return nb


def _cell_label(nb: Any, index: int) -> str:
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    first = next((ln for ln in nb.cells[index].source.splitlines() if ln.strip()), "")[:60]
    n = code.index(index) + 1 if index in code else index + 1
    return f"code cell {n} ({first!r})"


def run_notebook(src: NotebookSource, *, timeout: int = DEFAULT_TIMEOUT_S) -> NotebookRun:
    """Execute the notebook top to bottom in a fresh kernel; the rendered page and the reads.
    Any failing cell, a kernel that dies or a missing kernel raises InvalidInput naming it."""
    import nbformat
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    nb = _parse(src)
    user_cells = len(nb.cells)
    nb.cells.append(nbformat.v4.new_code_cell(_PACKAGES_CELL))
    kernel = (nb.metadata.get("kernelspec") or {}).get("name") or "python3"
    current = {"index": 0}

    def on_start(cell: Any, cell_index: int, **_: Any) -> None:
        current["index"] = cell_index

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=kernel,
        store_widget_state=True,
        resources={"metadata": {"path": str(src.cwd)}},
        on_cell_start=on_start,
    )
    fd, reads_path = tempfile.mkstemp(prefix="lakelab-reads-", suffix=".jsonl")
    os.close(fd)
    from lakelab.engines.run_context import RECORD_ENV

    started = time.perf_counter()
    try:
        client.execute(env={**os.environ, RECORD_ENV: reads_path})
        with open(reads_path, encoding="utf-8") as f:
            reads = [json.loads(line) for line in f if line.strip()]
    except CellExecutionError as e:
        where = _cell_label(nb, current["index"])
        what = f"{e.ename}: {e.evalue}" if getattr(e, "ename", None) else str(e).splitlines()[0]
        raise InvalidInput(
            f"{where} of {src.label} failed while publishing: {what}"[:600],
            hint="fix the cell and publish again; nothing was published",
        ) from None
    except DeadKernelError:
        raise InvalidInput(
            f"the kernel died while running {_cell_label(nb, current['index'])} of {src.label}",
            hint="the cell may use too much memory or exit the process; nothing was published",
        ) from None
    except CellTimeoutError:
        raise InvalidInput(
            f"{_cell_label(nb, current['index'])} of {src.label} ran longer than {timeout} s",
            hint="make it faster or raise the timeout; nothing was published",
        ) from None
    except NoSuchKernel:
        raise InvalidInput(
            f"{src.label} needs the kernel {kernel!r}, which is not installed", hint="jupyter kernelspec list"
        ) from None
    finally:
        os.unlink(reads_path)
    seconds = time.perf_counter() - started
    packages = _packages(nb.cells.pop())
    assert len(nb.cells) == user_cells
    return NotebookRun(src, _render(nb), _distinct(reads), packages, seconds)


def _packages(cell: Any) -> dict[str, str]:
    for out in cell.get("outputs", []):
        text = out.get("text", "")
        if out.get("output_type") == "stream" and _PACKAGES_MARK in text:
            try:
                found = json.loads(text.split(_PACKAGES_MARK, 1)[1])
            except ValueError:
                return {}
            return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}
    return {}


def _distinct(reads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One input per table: the last snapshot the run read it at (a notebook that writes and
    reads back a table shows what it read last)."""
    out: dict[str, dict[str, Any]] = {}
    for r in reads:
        if isinstance(r, dict) and isinstance(r.get("table"), str):
            out[r["table"]] = {"table": r["table"], "snapshot_id": r.get("snapshot_id")}
    return [out[t] for t in sorted(out)]


def _render(nb: Any) -> str:
    """The page: outputs only (code hidden, as in the live view), with the widget state in the
    notebook metadata embedded by nbconvert; CDN scripts dropped (the sandbox loads nothing)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True)
    body, _ = exporter.from_notebook_node(nb)
    return re.sub(r'<script[^>]*\bsrc="https?://[^"]*"[^>]*>\s*</script>', "", body)


def artifacts(run: NotebookRun) -> tuple[Artifact, Artifact]:
    """The page (the version's artifact) and the notebook stored next to it."""
    from lakelab.datasets.artifacts import Artifact

    page = run.page.encode("utf-8")
    meta = {
        "format": "dashboard",
        "content_type": "text/html",
        "filenames": [PAGE_FILE, NOTEBOOK_FILE],
        "source": run.source.uri,
        "libraries": run.packages,
        "run_seconds": round(run.seconds, 3),
    }
    notebook = Artifact(NOTEBOOK_FILE, lambda out: out.write(run.source.data), {})
    return Artifact(PAGE_FILE, lambda out: out.write(page), meta), notebook


# -- reading, freshness, refresh -----------------------------------------------------------
def _dashboard(ds: Dataset) -> None:
    if ds.metadata["kind"] != "dashboard":
        raise InvalidInput(f"dataset {ds.name} is a {ds.metadata['kind']}, not a dashboard")


def page_html(ds: Dataset, version: int | str | None = None) -> str:
    """The stored page of a version (default the latest), checksum verified."""
    from lakelab.datasets.artifacts import load_version

    _dashboard(ds)
    return load_version(ds, version)


def notebook_path(ds: Dataset, version: int | str | None = None) -> Path:
    """A verified local copy of the notebook a version ran."""
    from lakelab.datasets.artifacts import fetch_verified, get_version
    from lakelab.datasets.models import Version

    _dashboard(ds)
    v = get_version(ds, version)
    nb = v.metadata.get("notebook") or {}
    if not isinstance(nb, dict) or not nb.get("uri"):
        raise NotFound(f"version {v.version} of {ds.name} has no stored notebook")
    stored = Version(v.version, nb["uri"], nb["sha256"], nb["bytes"], v.created_at, v.created_by, {})
    return fetch_verified(ds, stored)


@dataclass(frozen=True)
class InputState:
    table: str
    snapshot_id: int | None
    current_snapshot_id: int | None
    stale: bool


@dataclass(frozen=True)
class Freshness:
    """A dashboard's latest version against its inputs now."""

    dataset: str
    version: int
    stale: bool
    inputs: tuple[InputState, ...]


def freshness(ds: Dataset, version: int | str | None = None) -> Freshness:
    from lakelab.datasets.artifacts import get_version

    _dashboard(ds)
    v = get_version(ds, version)
    states = []
    for inp in v.metadata.get("inputs") or []:
        try:
            snap = load_table(ds.lh.catalog, ds.lh.table_name(inp["table"])).current_snapshot()
        except NotFound:  # an input dropped since: nothing newer to show
            states.append(InputState(inp["table"], inp.get("snapshot_id"), None, False))
            continue
        now = snap.snapshot_id if snap else None
        states.append(InputState(inp["table"], inp.get("snapshot_id"), now, now != inp.get("snapshot_id")))
    return Freshness(ds.name, v.version, any(s.stale for s in states), tuple(states))


def pins(ds: Dataset, version: int | str | None = None) -> dict[str, int]:
    """{table: snapshot} a version read: what the live view pins its inputs to."""
    from lakelab.datasets.artifacts import get_version

    _dashboard(ds)
    inputs = get_version(ds, version).metadata.get("inputs") or []
    return {i["table"]: int(i["snapshot_id"]) for i in inputs if i.get("snapshot_id") is not None}


def url(ds: Dataset, version: int | None = None, *, live: bool = False, inputs: str = "pinned") -> str:
    """The dashboard's address under the Jupyter server (so Jupyter's login applies): the
    pinned view of `version` (default the latest), or the live view. Relative to the server's
    base URL ($JUPYTERHUB_SERVICE_PREFIX under JupyterHub, else /)."""
    from urllib.parse import quote

    from lakelab.datasets.artifacts import get_version

    _dashboard(ds)
    if inputs not in ("pinned", "latest"):
        raise InvalidInput(f"inputs must be pinned or latest, got {inputs!r}")
    n = get_version(ds, version).version
    base = os.environ.get("JUPYTERHUB_SERVICE_PREFIX", "/").rstrip("/")
    root = f"{base}/lakelab/api/v1/dashboards/{quote(ds.name)}"
    return f"{root}/live?version={n}&inputs={inputs}" if live else f"{root}/versions/{n}/page"

"""`lakelab dashboards refresh`: re-run the dashboards whose inputs have newer snapshots than
their latest version pinned, each into a new version through the one publish path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lakelab.datasets import dashboards
from lakelab.datasets.dataset import Dataset
from lakelab.datasets.search import MAX_PAGE_SIZE, search
from lakelab.write.publish import publish

if TYPE_CHECKING:
    from lakelab.lakehouse import Lakehouse


@dataclass(frozen=True)
class RefreshResult:
    dataset: str
    action: str  # "refreshed" | "current"
    version: int


def refresh(
    lh: Lakehouse, name: str | None = None, *, timeout: int = dashboards.DEFAULT_TIMEOUT_S
) -> list[RefreshResult]:
    """Re-run stale dashboards (`name`, or every dashboard) into new versions; current ones are
    left alone. Each run uses the notebook stored in the latest version, in the folder it was
    first published from when that folder still exists."""

    if name is not None:
        targets = [Dataset(lh, lh.table_name(name))]
    else:
        targets = [Dataset(lh, lh.table_name(d["name"])) for d in search(lh, kind="dashboard", limit=MAX_PAGE_SIZE)]
    out = []
    for ds in targets:
        state = dashboards.freshness(ds)
        if not state.stale:
            out.append(RefreshResult(ds.name, "current", state.version))
            continue
        copy = dashboards.notebook_path(ds, state.version)
        source = ds.versions()[-1].metadata.get("source") or copy.as_uri()
        folder = Path(source[len("file://") :]).parent if source.startswith("file://") else copy.parent
        src = dashboards.NotebookSource(copy.read_bytes(), folder if folder.is_dir() else copy.parent, source, ds.name)
        new = publish(lh, src, ds.name, kind="dashboard", timeout=timeout)
        out.append(RefreshResult(ds.name, "refreshed", new.versions()[-1].version))
    return out

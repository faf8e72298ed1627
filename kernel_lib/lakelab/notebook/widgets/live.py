"""Live objects: a workspace's status with scale and stop, and a dataset's preview grid with a
snapshot slider. They call the objects' own methods (Workspace.status/scale/stop, the engine
with `FOR VERSION AS OF`); the HTML cards stay the text/html fallback."""

from __future__ import annotations

import datetime
import html
import threading
from typing import Any

import ipywidgets as w

from lakelab.datasets.models import Snapshot
from lakelab.notebook.widgets.grid import result_grid
from lakelab.notebook.widgets.runner import Runner, message

POLL_S = 5.0
PREVIEW_ROWS = 1000


def widget_frontend() -> bool:
    from lakelab.notebook.widgets.grid import _widget_frontend

    return _widget_frontend()


def bundle(widget: w.Widget, fallback_html: str, text: str) -> dict[str, Any]:
    """A display bundle: the widget for JupyterLab, the HTML for everything else."""
    out = {"text/html": fallback_html, "text/plain": text}
    out.update({k: v for k, v in (widget._repr_mimebundle_() or {}).items() if k != "text/plain"})
    return out


def dataset_bundle(ds: Any) -> dict[str, Any] | None:
    """A dataset in JupyterLab: its card and a preview grid with a snapshot slider."""
    if not widget_frontend():
        return None
    card = ds._repr_html_()
    return bundle(w.VBox([w.HTML(card), DatasetPreview(ds)]), card, repr(ds))


class WorkspaceWidget(w.VBox):
    """Status that refreshes itself (every POLL_S while open), a worker count to scale to, stop."""

    def __init__(self, workspace: Any, poll_s: float = POLL_S):
        self.workspace = workspace
        self.runner = Runner("lakelab-workspace")
        self.card = w.HTML()
        self.workers = w.BoundedIntText(value=0, min=0, max=256, description="workers", layout=w.Layout(width="12em"))
        self.scale_button = w.Button(description="Scale", tooltip="set the number of workers")
        self.stop_button = w.Button(description="Stop", button_style="danger")
        self.refresh_button = w.Button(description="↻", tooltip="refresh", layout=w.Layout(width="3em"))
        self.status_line = w.HTML()
        self.state: dict[str, Any] = {}
        self.scale_button.on_click(lambda _: self.scale(self.workers.value))
        self.stop_button.on_click(lambda _: self.stop())
        self.refresh_button.on_click(lambda _: self.refresh())
        super().__init__(
            [
                self.card,
                w.HBox([self.workers, self.scale_button, self.stop_button, self.refresh_button]),
                self.status_line,
            ]
        )
        self.add_class("jp-lakelab-workspace-live")
        self._poll_s = poll_s
        self._timer: threading.Timer | None = None
        self.refresh()

    def _act(self, slot: str, job: Any, doing: str) -> None:
        self.status_line.value = html.escape(doing)

        def done(status: Any, error: BaseException | None) -> None:
            if error is not None:
                self.status_line.value = (
                    f"<span style='color:var(--jp-error-color1)'>{html.escape(message(error))}</span>"
                )
                return
            if status is not None:
                self.state = dict(status)
                self.card.value = status._repr_html_()
                cluster = self.state.get("cluster") or {}
                workers = max(0, int(cluster.get("node_count") or 1) - 1) if cluster else None
                if workers is not None and slot == "refresh" and not self.workers.value:
                    self.workers.value = workers
            self.status_line.value = ""
            running = self.state.get("state") not in (None, "stopped", "failed")
            self.stop_button.disabled = self.scale_button.disabled = not running
            self._schedule(running)

        self.runner.submit(slot, job, done)

    def _schedule(self, running: bool) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if running and self._poll_s > 0 and self.comm is not None:
            self._timer = threading.Timer(self._poll_s, self.refresh)
            self._timer.daemon = True
            self._timer.start()

    def refresh(self) -> None:
        self._act("refresh", self.workspace.status, "")

    def scale(self, workers: int) -> None:
        self._act("scale", lambda: self.workspace.scale(int(workers)), f"scaling to {int(workers)} workers…")

    def stop(self) -> None:
        self._act("stop", self.workspace.stop, "stopping…")

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        super().close()

    def wait(self, timeout: float | None = 120) -> bool:
        return self.runner.wait(timeout)


def _label(snap: Snapshot) -> str:
    when = datetime.datetime.fromtimestamp(snap.timestamp_ms / 1000, tz=datetime.timezone.utc)
    return f"{when:%Y-%m-%d %H:%M:%S} · {snap.snapshot_id}" + (" (current)" if snap.current else "")


class DatasetPreview(w.VBox):
    """The dataset's rows at a snapshot, as the result grid; a slider walks its history."""

    def __init__(self, dataset: Any, engine: str = "duckdb"):
        self.dataset = dataset
        self.lh = dataset.lh
        self.engine = self.lh.engine(engine)
        self.runner = Runner("lakelab-preview", self.engine.interrupt)
        snaps = sorted(dataset.snapshots(), key=lambda s: s.timestamp_ms)
        self.snapshot = w.SelectionSlider(
            options=[(_label(s), s.snapshot_id) for s in snaps] or [("no snapshots", None)],
            description="snapshot",
            continuous_update=False,
            layout=w.Layout(width="min(100%, 48em)"),
            style={"description_width": "initial"},
        )
        if snaps:
            self.snapshot.value = snaps[-1].snapshot_id
        self.status = w.HTML()
        self.output = w.VBox()
        self.result: Any = None
        self.snapshot.observe(lambda _: self.show(), names="value")
        super().__init__([self.snapshot, self.status, self.output])
        self.add_class("jp-lakelab-dataset-preview")
        self.show()

    def show(self) -> None:
        snapshot_id = self.snapshot.value
        if snapshot_id is None:
            self.output.children = [w.HTML("<i>empty: no snapshots yet</i>")]
            return
        version = f" FOR VERSION AS OF {int(snapshot_id)}"
        sql = f"SELECT * FROM {self.dataset.table_name.sql()}{version}"

        generation = self.runner.generation + 1  # what submit makes it

        def done(result: Any, error: BaseException | None) -> None:
            if isinstance(error, KeyboardInterrupt) and self.runner.generation != generation:
                return  # the slider moved on: the newer snapshot answers
            if error is not None:
                self.status.value = f"<span style='color:var(--jp-error-color1)'>{html.escape(message(error))}</span>"
                return
            self.result = result
            self.status.value = ""
            box = result_grid(result, self.engine, None, None, self.lh)
            self.output.children = [box] if box is not None else [w.HTML(result._repr_html_())]

        self.runner.submit("show", lambda: self.engine.execute(sql, limit=PREVIEW_ROWS), done, cancel_running=True)

    def wait(self, timeout: float | None = 120) -> bool:
        ok = self.runner.wait(timeout)
        grid = getattr(self.output.children[0], "grid", None) if self.output.children else None
        return ok and (grid is None or grid.wait(timeout))

"""The result grid: a `%%trino` result as an anywidget whose every page, sort, filter, profile
and chart is a query in the engine that produced it (engines/paging.py). The kernel keeps one
page; the browser gets one page."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import anywidget
import pyarrow as pa
import traitlets as t

from lakelab.engines.base import Engine, Result
from lakelab.engines.paging import (
    AGGREGATES,
    CHART_KINDS,
    FILTER_OPS,
    MAX_PAGE,
    Filter,
    ResultView,
    Sort,
)
from lakelab.errors import InvalidInput, LakelabError
from lakelab.notebook.widgets.charts import chart_code, vega_lite
from lakelab.notebook.widgets.runner import Runner, message
from lakelab.notebook.widgets.values import cell

HERE = Path(__file__).parent
PAGE_SIZE = 50


def page_rows(table: pa.Table) -> list[list[Any]]:
    return [[cell(v) for v in row.values()] for row in table.to_pylist()]


class ResultGrid(anywidget.AnyWidget):
    """State the browser sees: columns with types, one page of rows, the sort, the filters,
    the row count, an error line, the open profile and the chart builder's request."""

    _esm = HERE / "grid.js"
    _css = HERE / "grid.css"

    columns = t.List(t.Dict()).tag(sync=True)  # [{name, type, kind}]
    rows = t.List(t.List()).tag(sync=True)
    offset = t.Int(0).tag(sync=True)
    page_size = t.Int(PAGE_SIZE).tag(sync=True)
    sort = t.List(t.List()).tag(sync=True)  # [[column index, "asc" | "desc"]]
    filters = t.List(t.Dict()).tag(sync=True)  # [{column, op, value}]
    total = t.Int(-1).tag(sync=True)  # rows after filtering; -1 while counting
    loading = t.Bool(False).tag(sync=True)
    error = t.Unicode("").tag(sync=True)
    info = t.Unicode("").tag(sync=True)  # engine, time, snapshot pins
    nonce = t.Int(0).tag(sync=True)  # bumped by the browser with each request…
    ack = t.Int(0).tag(sync=True)  # …and echoed at once: no echo means the kernel is gone
    profile_column = t.Int(-1).tag(sync=True)
    profile = t.Dict().tag(sync=True)
    chart = t.Dict().tag(sync=True)  # {kind, x, y, agg}
    chart_spec = t.Dict().tag(sync=True)  # the Vega-Lite spec drawn below the grid
    chart_code = t.Unicode("").tag(sync=True)
    ops = t.List(t.Unicode(), default_value=list(FILTER_OPS)).tag(sync=True)
    kinds = t.List(t.Unicode(), default_value=list(CHART_KINDS)).tag(sync=True)
    aggregates = t.List(t.Unicode(), default_value=list(AGGREGATES)).tag(sync=True)

    def __init__(self, view: ResultView, first: pa.Table | None = None, total: int | None = None, info: str = ""):
        super().__init__()
        self.view = view
        self.runner = Runner("lakelab-grid", view.engine.interrupt)
        self._chart_listeners: list[Any] = []
        with self.hold_sync():
            self.columns = [{"name": c.name, "type": c.type, "kind": c.kind} for c in view.columns]
            self.info = info
            if first is not None:  # the rows the cell already fetched: no query for page one
                self.rows = page_rows(first.slice(0, self.page_size))
            if total is not None:
                self.total = total
        self.observe(self._on_request, names=["offset", "page_size", "sort", "filters"])
        self.observe(self._on_profile, names=["profile_column"])
        self.observe(self._on_chart, names=["chart"])
        self.observe(self._on_nonce, names=["nonce"])
        if first is None:
            self.refresh()
        elif total is None:
            self._count()

    # -- parsing the browser's state -------------------------------------------------------
    def _sorts(self) -> list[Sort]:
        out = []
        for item in self.sort:
            if not (isinstance(item, list) and len(item) == 2 and item[1] in ("asc", "desc")):
                raise InvalidInput(f"malformed sort {item!r}")
            self.view.column(item[0])
            out.append(Sort(item[0], item[1] == "desc"))
        return out

    def _filters(self) -> list[Filter]:
        out = []
        for f in self.filters:
            if not isinstance(f, dict) or "column" not in f or "op" not in f:
                raise InvalidInput(f"malformed filter {f!r}")
            out.append(Filter(f["column"], f["op"], f.get("value")))
        return out

    # -- requests --------------------------------------------------------------------------
    def _on_nonce(self, change: dict) -> None:
        self.ack = change["new"]

    def _on_request(self, change: dict) -> None:
        if change["name"] == "filters":
            self.total = -1  # counted again with the page
        if change["name"] in ("sort", "filters") and self.offset != 0:
            self.offset = 0  # observed again: that call refreshes
            return
        self.refresh()

    def refresh(self) -> None:
        """Fetch the current page (and, for new filters, the row count) in the engine."""
        self.loading = True
        try:
            sorts, filters = self._sorts(), self._filters()
            offset, size = self.offset, max(1, min(self.page_size, MAX_PAGE))
        except LakelabError as e:
            self._fail(e)
            return
        known = self.total if self.total >= 0 else None

        def job() -> tuple[list[list[Any]], int | None]:
            total = self.view.count(filters) if known is None else known
            return page_rows(self.view.page(offset, size, sorts, filters, total=total)), total

        generation = self.runner.generation + 1  # what submit makes it

        def done(value: Any, error: BaseException | None) -> None:
            if isinstance(error, KeyboardInterrupt) and self.runner.generation != generation:
                return  # interrupted for a newer request, which answers instead
            if error is not None:
                self._fail(error)
                return
            rows, total = value
            with self.hold_sync():
                self.rows = rows
                self.total = total
                self.error = ""
                self.loading = False

        self.runner.submit("page", job, done, cancel_running=True)

    def _count(self) -> None:
        filters = self._filters()

        def done(value: Any, error: BaseException | None) -> None:
            if error is None:
                self.total = int(value)

        self.runner.submit("count", lambda: self.view.count(filters), done)

    def _fail(self, error: BaseException) -> None:
        with self.hold_sync():
            self.error = message(error)
            self.loading = False

    def _on_profile(self, change: dict) -> None:
        index = change["new"]
        if index < 0:
            self.profile = {}
            return
        try:
            filters = self._filters()
        except LakelabError as e:
            self._fail(e)
            return

        def done(value: Any, error: BaseException | None) -> None:
            if error is not None:
                self.profile = {"column": index, "error": message(error)}
                return
            value["top"] = [{"value": cell(v["value"]), "count": v["count"]} for v in value["top"]]
            value["min"], value["max"] = cell(value["min"]), cell(value["max"])
            self.profile = {**value, "index": index}

        self.runner.submit("profile", lambda: self.view.profile(index, filters), done)

    def _on_chart(self, change: dict) -> None:
        req = change["new"] or {}
        if not req:
            return
        try:
            kind = str(req.get("kind"))
            x = req.get("x")
            if isinstance(x, bool) or not isinstance(x, int):
                raise InvalidInput("pick the chart's x column")
            y = req.get("y")
            y = None if y in (None, "", -1) else y
            agg = str(req.get("agg") or "count")
            filters = self._filters()
        except LakelabError as e:
            self._fail(e)
            return

        def job() -> tuple[dict, str]:
            table, query = self.view.aggregate(kind, x, y, agg, filters)
            names = {"x": self.view.column(x).name, "y": self.view.column(y).name if y is not None else None}
            spec = vega_lite(kind, table, names, agg)
            return spec, chart_code(kind, query, names, agg, self.view.engine.name)

        def done(value: Any, error: BaseException | None) -> None:
            if error is not None:
                self._fail(error)
                return
            spec, code = value
            with self.hold_sync():
                self.chart_spec = spec
                self.chart_code = code
                self.error = ""
            for listener in self._chart_listeners:
                listener(spec)

        self.runner.submit("chart", job, done)

    def wait(self, timeout: float | None = 120) -> bool:
        """Until every request has been answered (tests)."""
        return self.runner.wait(timeout)


def summary(result: Result, view: ResultView) -> str:
    parts = [f"engine: {result.engine}"]
    if result.elapsed_s is not None:
        parts.append(f"{result.elapsed_s:.2f} s")
    pinned = dict.fromkeys(f"{p['table']}@{p['snapshot_id']}" for p in view.pins if p.get("snapshot_id") is not None)
    if pinned:
        parts.append("snapshot " + ", ".join(pinned))
    if result.query_id:
        parts.append(f"query {result.query_id}")
    return " · ".join(parts)


def result_grid(result: Result, engine: Engine, params: dict[str, Any] | None, session: dict | None, lh: Any):
    """The grid (and the chart area under it) for a result, or None when the result is not a
    query the grid can page (SHOW, statements, EXPLAIN)."""
    import ipywidgets as widgets

    if result.message or result.table.num_columns == 0:
        return None
    try:
        view = ResultView.of(engine, result, params, session, lh)
    except LakelabError:
        return None
    total = result.num_rows if not result.has_more else None
    grid = ResultGrid(view, first=result.table, total=total, info=summary(result, view))
    out = widgets.Output()

    def draw(spec: dict) -> None:
        out.outputs = (
            {"output_type": "display_data", "data": {"application/vnd.vegalite.v5+json": spec}, "metadata": {}},
        )

    grid._chart_listeners.append(draw)
    note = [widgets.HTML(f"<div>{html.escape(result.note)}</div>")] if result.note else []  # e.g. a cache hit
    box = widgets.VBox([*note, grid, out])
    box.add_class("jp-lakelab-grid-box")
    box.grid = grid
    return box


class GridResult(Result):
    """A `%%trino` result that displays as the grid in a kernel with a widget frontend, with
    the plain HTML table beside it in the same bundle (nbconvert, GitHub). It is still the
    Result: `_`, `.to_pandas()` and `-o` behave as before."""

    _grid_context: tuple[Engine, dict[str, Any] | None, dict | None, Any] | None = None
    _grid: Any = None

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        from lakelab.notebook.display import result_html

        bundle: dict[str, Any] = {"text/html": result_html(self), "text/plain": repr(self)}
        if self._grid is None and self._grid_context is not None and _widget_frontend():
            engine, params, session, lh = self._grid_context
            self._grid = result_grid(self, engine, params, session, lh)
        if self._grid is not None:
            widget_bundle = self._grid._repr_mimebundle_() or {}
            bundle.update({k: v for k, v in widget_bundle.items() if k != "text/plain"})
        return bundle


def _widget_frontend() -> bool:
    """True in a Jupyter kernel (where a frontend can show widgets), not in plain IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def with_grid(result: Result, engine: Engine, params: dict[str, Any] | None, session: dict | None, lh: Any) -> Result:
    """The result, made to display as a grid (what %%trino returns)."""
    if type(result) is not Result:
        return result
    grid_result = GridResult(**{f: getattr(result, f) for f in result.__dataclass_fields__})
    grid_result._grid_context = (engine, params, session, lh)
    return grid_result

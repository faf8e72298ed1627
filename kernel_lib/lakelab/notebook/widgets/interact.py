"""`%%trino --interact NAME`: controls for the query's `{{ NAME }}` parameters. A change re-runs
the query (debounced), cancelling the run still going; the result shows as the grid.

Controls by value: a number → a slider (`NAME=MIN:MAX[:STEP]` sets its range), a date → a date
picker, `NAME=ns.table.column` → a dropdown of that column's distinct values (a query in the
same engine), other text → a text box."""

from __future__ import annotations

import datetime
import html
import re
import threading
from typing import Any

import ipywidgets as w

from lakelab.engines.base import Engine
from lakelab.errors import InvalidInput
from lakelab.names import ident, quote
from lakelab.notebook.widgets.grid import result_grid
from lakelab.notebook.widgets.runner import Runner, message

DEBOUNCE_S = 0.3
MAX_OPTIONS = 1000
_RANGE = re.compile(r"(-?[\d.]+):(-?[\d.]+)(?::([\d.]+))?\Z")


def parse_spec(spec: str) -> tuple[str, str | None]:
    name, _, rest = spec.partition("=")
    if not re.match(r"[A-Za-z_][A-Za-z0-9_]*\Z", name.strip()):
        raise InvalidInput(f"--interact {spec!r}: {name!r} is not a parameter name")
    return name.strip(), (rest.strip() or None)


def distinct_values(lh: Any, engine: Engine, column_ref: str) -> list[Any]:
    """The distinct values of `ns.table.column`, sorted, through the engine (names validated)."""
    *table, column = column_ref.split(".")
    if len(table) < 2:
        raise InvalidInput(f"{column_ref!r} must name a column as namespace.table.column")
    name = lh.table_name(".".join(table))
    col = quote(ident(column, "column"))
    sql = f"SELECT DISTINCT {col} AS v FROM {name.sql()} WHERE {col} IS NOT NULL ORDER BY 1 LIMIT {MAX_OPTIONS}"
    return engine.execute(sql).table.column(0).to_pylist()


def control(name: str, value: Any, spec: str | None, lh: Any, engine: Engine) -> w.ValueWidget:
    """The widget for one parameter, starting at its current value."""
    if spec and not _RANGE.match(spec):
        options = distinct_values(lh, engine, spec)
        if value not in options:
            value = options[0] if options else None
        return w.Dropdown(options=options, value=value, description=name)
    if isinstance(value, bool):
        return w.Checkbox(value=value, description=name)
    if isinstance(value, (int, float)):
        m = _RANGE.match(spec or "")
        if m:
            lo, hi, step = float(m.group(1)), float(m.group(2)), m.group(3)
        else:
            span = max(abs(value), 10)
            lo, hi, step = (0 if value >= 0 else value - span), value + span, None
        if isinstance(value, int) and all(float(x).is_integer() for x in (lo, hi, step or 1)):
            return w.IntSlider(
                value=value,
                min=int(lo),
                max=int(hi),
                step=int(float(step or 1)),
                description=name,
                continuous_update=False,
            )
        return w.FloatSlider(
            value=float(value),
            min=lo,
            max=hi,
            step=float(step) if step else (hi - lo) / 100,
            description=name,
            continuous_update=False,
        )
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return w.DatePicker(value=value, description=name)
    return w.Text(value="" if value is None else str(value), description=name, continuous_update=False)


class InteractiveQuery(w.VBox):
    """Controls, a status line and the latest result's grid."""

    def __init__(
        self,
        lh: Any,
        engine: Engine,
        sql: str,
        params: dict[str, Any],
        specs: list[str],
        limit: int | None,
        session: dict[str, Any] | None = None,
    ):
        self.lh, self.engine, self.sql, self.limit = lh, engine, sql, limit
        self.session = dict(session or {})
        self.params = dict(params)
        self.runner = Runner("lakelab-interact", engine.interrupt)
        self.result: Any = None
        self.runs = 0  # queries started (tests)
        self.cancelled = 0  # runs superseded before they finished
        self._generation = 0
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self.controls: dict[str, w.ValueWidget] = {}
        for spec in specs:
            name, extra = parse_spec(spec)
            if name not in params:
                raise InvalidInput(
                    f"--interact {name}: the query has no value for {{{{ {name} }}}}",
                    hint=f"use {{{{ {name} }}}} in the SQL and give it a value (--param {name}=… or a variable)",
                )
            self.controls[name] = control(name, params[name], extra, lh, engine)
            self.controls[name].observe(self._changed, names="value")
        self.status = w.HTML()
        self.output = w.VBox()
        super().__init__([w.HBox(list(self.controls.values())), self.status, self.output])
        self.add_class("jp-lakelab-interact")
        self.run()

    def _changed(self, _: Any = None) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(DEBOUNCE_S, self.run)
            self._timer.daemon = True
            self._timer.start()

    def values(self) -> dict[str, Any]:
        out = dict(self.params)
        for name, ctl in self.controls.items():
            value = ctl.value
            if isinstance(self.params.get(name), int) and isinstance(value, float) and value.is_integer():
                value = int(value)
            out[name] = value
        return out

    def run(self) -> None:
        """Run the query with the controls' values now (a change calls this after the debounce)."""
        params = self.values()
        with self._lock:
            self._generation += 1
            generation = self._generation
            self.runs += 1
        self.status.value = "<span class='jp-lakelab-interact-running'>running…</span>"

        def job() -> Any:
            return self.engine.execute(self.sql, params, limit=self.limit, **self.session)

        def done(result: Any, error: BaseException | None) -> None:
            if generation != self._generation:
                self.cancelled += 1
                return  # a newer run replaced this one
            if error is not None:
                self.status.value = f"<span style='color:var(--jp-error-color1)'>{html.escape(message(error))}</span>"
                return
            box = result_grid(result, self.engine, params, self.session, self.lh)
            shown = ", ".join(f"{k}={v}" for k, v in params.items() if k in self.controls)
            self.status.value = f"<span class='jp-lakelab-interact-done'>{html.escape(shown)}</span>"
            self.result = result
            self.output.children = [box] if box is not None else [w.HTML(result._repr_html_())]

        self.runner.submit("run", job, done, cancel_running=True)

    def wait(self, timeout: float | None = 120) -> bool:
        """Until the latest run and its grid's first requests are done (tests, scripts)."""
        timer = self._timer
        if timer is not None:
            timer.join()
        ok = self.runner.wait(timeout)
        grid = getattr(self.output.children[0], "grid", None) if self.output.children else None
        return ok and (grid is None or grid.wait(timeout))

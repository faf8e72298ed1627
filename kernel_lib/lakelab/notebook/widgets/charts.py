"""Charts from engine-aggregated series: a Vega-Lite spec made with altair (JupyterLab draws
`application/vnd.vegalite.v5+json` itself, offline) and the same chart as code to copy."""

from __future__ import annotations

import json
from typing import Any

import pyarrow as pa

from lakelab.engines.paging import Query
from lakelab.notebook.widgets.values import cell

VEGA_LITE_V5 = "https://vega.github.io/schema/vega-lite/v5.json"


def _type(arrow_type: pa.DataType) -> str:
    if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return "quantitative"
    if pa.types.is_temporal(arrow_type):
        return "temporal"
    return "nominal"


def _records(table: pa.Table) -> list[dict[str, Any]]:
    return [{k: cell(v) for k, v in row.items()} for row in table.to_pylist()]


def _chart(kind: str, data: Any, types: dict[str, str], names: dict[str, Any], agg: str) -> Any:
    import altair as alt

    chart = alt.Chart(data)
    ytitle = f"{agg}({names['y']})" if names.get("y") else "count"
    if kind == "histogram":
        return chart.mark_bar().encode(
            x=alt.X("start:Q", bin="binned", title=names["x"]),
            x2="end:Q",
            y=alt.Y("count:Q", title="rows"),
        )
    if kind == "scatter":
        return chart.mark_point().encode(
            x=alt.X(f"x:{types['x'][0].upper()}", title=names["x"]),
            y=alt.Y(f"y:{types['y'][0].upper()}", title=names["y"]),
        )
    x = alt.X(f"x:{types['x'][0].upper()}", title=names["x"], sort=None)
    y = alt.Y("y:Q", title=ytitle)
    return (chart.mark_bar() if kind == "bar" else chart.mark_line(point=True)).encode(x=x, y=y)


def vega_lite(kind: str, table: pa.Table, names: dict[str, Any], agg: str) -> dict[str, Any]:
    """The chart as a Vega-Lite v5 spec (what JupyterLab 4 renders; altair 6 writes v6, and the
    marks used here mean the same in both)."""
    import altair as alt

    types = {f.name: _type(f.type) for f in table.schema}
    spec = _chart(kind, alt.Data(values=_records(table)), types, names, agg).properties(width=480, height=240).to_dict()
    spec["$schema"] = VEGA_LITE_V5
    return spec


def chart_code(kind: str, query: Query, names: dict[str, Any], agg: str, engine: str) -> str:
    """Python that draws the same chart from the same pinned query (for the clipboard)."""
    params = ", ".join(f"{k!r}: {v!r}" for k, v in query.params.items())
    ytitle = f"{agg}({names['y']})" if names.get("y") else "count"
    if kind == "histogram":
        lo, width = query.params.get("_lk_lo", 0.0), query.params.get("_lk_w", 1.0)
        return "\n".join(
            [
                "import altair as alt",
                "import lakelab",
                "",
                f"sql = {json.dumps(query.sql)}",
                f"data = lakelab.connect().sql(sql, engine={engine!r}, params={{{params}}}).to_pandas()",
                f"data['start'] = {lo!r} + data['bucket'] * {width!r}",
                f"data['end'] = data['start'] + {width!r}",
                f'alt.Chart(data).mark_bar().encode(x=alt.X("start:Q", bin="binned", title={names["x"]!r}), '
                'x2="end:Q", y=alt.Y("n:Q", title="rows"))',
            ]
        )
    if kind == "scatter":
        enc = f'x=alt.X("x", title={names["x"]!r}), y=alt.Y("y", title={names["y"]!r})'
        mark = "mark_point()"
    else:
        enc = f'x=alt.X("x", title={names["x"]!r}, sort=None), y=alt.Y("y", title={ytitle!r})'
        mark = "mark_bar()" if kind == "bar" else "mark_line(point=True)"
    return "\n".join(
        [
            "import altair as alt",
            "import lakelab",
            "",
            f"sql = {json.dumps(query.sql)}",
            f"data = lakelab.connect().sql(sql, engine={engine!r}, params={{{params}}}).to_pandas()",
            f"alt.Chart(data).{mark}.encode({enc})",
        ]
    )

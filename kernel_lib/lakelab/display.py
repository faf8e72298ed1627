"""HTML rendering for notebook outputs (results, errors). Escapes everything it shows."""
from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .engines.base import Result

PAGE_ROWS = 50  # rows rendered inline; the rest stay in the Result


def error_html(err: BaseException) -> str:
    code = getattr(err, "code", "error")
    return (
        '<div class="lakelab-error" style="color:var(--jp-error-color1,#b00);'
        'font-family:var(--jp-code-font-family,monospace);white-space:pre-wrap">'
        f"<b>lakelab {html.escape(str(code))}:</b> {html.escape(str(err))}</div>"
    )


def result_html(result: "Result", page_rows: int = PAGE_ROWS) -> str:
    t = result.table
    shown = t.slice(0, page_rows)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in t.column_names)
    rows = []
    for rec in shown.to_pylist():
        cells = "".join(f"<td>{html.escape('NULL' if v is None else str(v))}</td>" for v in rec.values())
        rows.append(f"<tr>{cells}</tr>")
    parts = [f"{t.num_rows:,} row{'s' if t.num_rows != 1 else ''} fetched"]
    if t.num_rows > shown.num_rows:
        parts.append(f"showing first {shown.num_rows:,}")
    if result.has_more:
        parts.append(f"more rows exist beyond the limit of {result.limit:,} (use -l N or --no-limit)")
    engine = f"engine: <b>{html.escape(result.engine)}</b>"
    if result.elapsed_s is not None:
        engine += f" · {result.elapsed_s:.2f} s"
    if result.query_id:
        qid = html.escape(result.query_id)
        engine += f' · query <a href="{html.escape(result.info_url)}" target="_blank">{qid}</a>' if result.info_url else f" · query {qid}"
    msg = f"<div>{html.escape(result.message)}</div>" if result.message else ""
    return (
        f'<div class="lakelab-result">{msg}<table class="dataframe"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        f'<div class="lakelab-result-footer" style="font-size:smaller;opacity:.8">{"; ".join(parts)} · {engine}</div></div>'
    )

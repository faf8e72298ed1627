"""HTML rendering for notebook outputs (results, progress, writes). Escapes everything it shows;
errors are one line of text (notebook.magics.error_line)."""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lakelab.engines.base import Result
    from lakelab.write.report import WriteReport

PAGE_ROWS = 50  # rows rendered inline; the rest stay in the Result


def result_html(result: Result, page_rows: int = PAGE_ROWS) -> str:
    t = result.table
    shown = t.slice(0, page_rows)
    head = "".join(f"<th>{html.escape(c)}</th>" for c in t.column_names)
    rows = []
    for rec in shown.to_pylist():
        cells = "".join(f"<td>{html.escape('NULL' if v is None else str(v))}</td>" for v in rec.values())
        rows.append(f"<tr>{cells}</tr>")
    parts = [f"{t.num_rows:,} row{'s' if t.num_rows != 1 else ''} fetched"]
    if t.num_rows > shown.num_rows:
        # the rest is in the Result: say how to reach it (the grid pages it in JupyterLab)
        parts.append(
            f"showing rows 1–{shown.num_rows:,}; all {t.num_rows:,} are in the result: "
            "<code>_.to_pandas()</code>, or <code>-o NAME</code>"
        )
    if result.has_more:
        parts.append(f"more rows exist beyond the limit of {result.limit:,} (use -l N or --no-limit)")
    engine = f"engine: <b>{html.escape(result.engine)}</b>"
    if result.elapsed_s is not None:
        engine += f" · {result.elapsed_s:.2f} s"
    if result.query_id:
        qid = html.escape(result.query_id)
        engine += (
            f' · query <a href="{html.escape(result.info_url)}" target="_blank">{qid}</a>'
            if result.info_url
            else f" · query {qid}"
        )
    msg = "".join(f"<div>{html.escape(m)}</div>" for m in (result.message, result.note) if m)
    return (
        f'<div class="lakelab-result">{msg}<table class="dataframe"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
        f'<div class="lakelab-result-footer" style="font-size:smaller;opacity:.8">'
        f"{'; '.join(parts)} · {engine}</div></div>"
    )


def progress_html(stats: dict) -> str:
    """One line of live query progress from an engine's progress callback stats."""
    pct = stats.get("progress")
    bar = ""
    if isinstance(pct, (int, float)):
        pct = max(0.0, min(100.0, float(pct)))
        bar = (
            f'<progress value="{pct:.0f}" max="100" style="width:12em;vertical-align:middle"></progress> {pct:.0f}% · '
        )
    parts = [html.escape(str(stats.get("state") or "RUNNING"))]
    if stats.get("rows") is not None:
        parts.append(f"{int(stats['rows']):,} rows")
    if stats.get("bytes") is not None:
        parts.append(f"{int(stats['bytes']) / 1e6:,.1f} MB")
    if stats.get("elapsed_s") is not None:
        parts.append(f"{float(stats['elapsed_s']):.1f} s")
    link = ""
    if stats.get("info_url") and str(stats["info_url"]).startswith(("http://", "https://")):
        link = (
            f' · <a href="{html.escape(str(stats["info_url"]))}" target="_blank">'
            f"{html.escape(str(stats.get('query_id') or 'query'))}</a>"
        )
    engine = f"{html.escape(str(stats['engine']))}: " if stats.get("engine") else ""
    return f'<div class="lakelab-progress" style="font-size:smaller">{engine}{bar}{" · ".join(parts)}{link}</div>'


class ProgressDisplay:
    """An updating notebook output driven by an engine's `progress` callback. It appears only
    once a query has run for `delay_s` (quick queries don't flicker) and clears itself at the end."""

    def __init__(self, engine: str, delay_s: float = 0.5):
        self.engine = engine
        self.delay_s = delay_s
        self._handle = None

    def __call__(self, stats: dict) -> None:
        stats = {"engine": self.engine, **stats}
        if self._handle is None and float(stats.get("elapsed_s") or 0) < self.delay_s:
            return
        try:
            from IPython.display import HTML, display

            if self._handle is None:
                self._handle = display(HTML(progress_html(stats)), display_id=True)
            elif self._handle is not None:
                self._handle.update(HTML(progress_html(stats)))
        except Exception:  # noqa: BLE001 - progress is cosmetic; never fail the query for it
            pass

    def close(self) -> None:
        if self._handle is not None:
            try:
                from IPython.display import HTML

                self._handle.update(HTML(""))
            except Exception:  # noqa: BLE001
                pass
            self._handle = None


def write_text(report: WriteReport) -> str:
    """The outcome of `--into` / CREATE TABLE AS: which table, how many rows, which snapshot."""
    rows, snap = report.rows, report.snapshot_id
    text = f"wrote {rows:,} row{'' if rows == 1 else 's'} to {report.table}"
    return text + (f" (snapshot {snap})" if snap is not None else "")


def write_html(report: WriteReport, engine: str) -> str:
    """write_text for a notebook cell, with the engine in the footer."""
    text = write_text(report)
    return (
        f'<div class="lakelab-result">{html.escape(text)}'
        f'<div class="lakelab-result-footer" style="font-size:smaller;opacity:.8">engine: '
        f"<b>{html.escape(engine)}</b></div></div>"
    )

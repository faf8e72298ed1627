"""What the usage table says about a dataset (`lh.dataset(x).usage()`, the Insights tab) and
how popular each dataset is (search ranks by it when relevance ties).

The usage table is read with pyiceberg and summarised with DuckDB over the Arrow rows (fixed
SQL; the dataset name is a bound parameter). Reading it is not itself usage.
"""

from __future__ import annotations

import html
import re
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from lakelab.catalog.access import load_table, table_exists
from lakelab.usage.table import SCHEMA, USAGE_TABLE, since

if TYPE_CHECKING:
    from lakelab.lakehouse import Lakehouse

TOP = 10
POPULARITY_TTL_S = 60.0


@dataclass(frozen=True)
class Usage:
    """How a dataset is used over the last `days` days."""

    table: str
    days: int
    queries: int
    users: list[dict[str, Any]] = field(default_factory=list)  # {"user", "queries"}
    frequent_queries: list[dict[str, Any]] = field(default_factory=list)  # {"sql", "runs", "users"}
    joined_with: list[dict[str, Any]] = field(default_factory=list)  # {"table", "queries"}
    per_day: list[dict[str, Any]] = field(default_factory=list)  # {"day": "YYYY-MM-DD", "queries"}
    enabled: bool = True  # usage recording is switched on

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def __repr__(self) -> str:
        if not self.queries:
            off = "" if self.enabled else " (usage recording is switched off)"
            return f"<Usage of {self.table}: no queries in the last {self.days} days{off}>"
        lines = [f"<Usage of {self.table}: {self.queries} queries in the last {self.days} days"]
        lines.append("  top users: " + ", ".join(f"{u['user']} ({u['queries']})" for u in self.users))
        if self.joined_with:
            lines.append("  joined with: " + ", ".join(f"{j['table']} ({j['queries']})" for j in self.joined_with))
        lines.append("  frequent queries:")
        lines += [f"    {q['runs']:>4} x {_short(q['sql'], 90)}" for q in self.frequent_queries[:5]]
        lines.append("  queries per day: " + ", ".join(f"{d['day']}: {d['queries']}" for d in self.per_day[-7:]))
        return "\n".join(lines) + ">"

    def _repr_html_(self) -> str:
        e = html.escape
        if not self.queries:
            return f"<p>{e(repr(self))}</p>"

        def rows(items: list[dict[str, Any]], cols: list[str]) -> str:
            return "".join("<tr>" + "".join(f"<td>{e(str(i[c]))}</td>" for c in cols) + "</tr>" for i in items)

        return (
            f"<div><b>{e(self.table)}</b>: {self.queries} queries in the last {self.days} days"
            f"<h4>Top users</h4><table>{rows(self.users, ['user', 'queries'])}</table>"
            f"<h4>Frequent queries</h4><table>{rows(self.frequent_queries, ['runs', 'users', 'sql'])}</table>"
            f"<h4>Joined with</h4><table>{rows(self.joined_with, ['table', 'queries'])}</table>"
            f"<h4>Queries per day</h4><table>{rows(self.per_day, ['day', 'queries'])}</table></div>"
        )


def _short(sql: str, n: int) -> str:
    one = " ".join(sql.split())
    return one if len(one) <= n else one[: n - 1] + "…"


def _rows(lh: Lakehouse, days: int) -> pa.Table:
    """The usage rows of the last `days` days (empty when nothing was recorded yet)."""
    name = lh.table_name(USAGE_TABLE)
    if not table_exists(lh.catalog, name):
        return SCHEMA.empty_table()
    cutoff = datetime.now(timezone.utc) - timedelta(days=days)
    table = load_table(lh.catalog, name)
    return table.scan(row_filter=since(cutoff)).to_arrow()


def _normalize(sql: str | None) -> str:
    """One spelling per query: whitespace collapsed, a trailing semicolon dropped."""
    return re.sub(r"\s+", " ", (sql or "").strip()).rstrip(";").strip()


def usage(lh: Lakehouse, dotted: str, days: int = 30) -> Usage:
    import duckdb

    from lakelab.usage import recorder

    recorder.flush()  # the rows this process is still holding
    rows = _rows(lh, days)
    con = duckdb.connect()
    try:
        con.register("usage_rows", rows)
        mine = "FROM usage_rows WHERE table_name = $t"
        q = con.execute(f"SELECT count(DISTINCT query_id) {mine}", {"t": dotted}).fetchone()
        queries = int(q[0]) if q else 0
        users = con.execute(
            f"SELECT user_name, count(DISTINCT query_id) n {mine} GROUP BY 1 ORDER BY n DESC, 1 LIMIT {TOP}",
            {"t": dotted},
        ).fetchall()
        texts = con.execute(f"SELECT sql, user_name {mine} AND sql IS NOT NULL", {"t": dotted}).fetchall()
        joined = con.execute(
            "SELECT o.table_name, count(DISTINCT o.query_id) n FROM usage_rows o "
            "WHERE o.query_id IN (SELECT query_id FROM usage_rows WHERE table_name = $t) "
            "AND o.table_name IS NOT NULL AND o.table_name <> $t GROUP BY 1 ORDER BY n DESC, 1 LIMIT " + str(TOP),
            {"t": dotted},
        ).fetchall()
        per_day = con.execute(
            f"SELECT CAST(ts AT TIME ZONE 'UTC' AS DATE) d, count(DISTINCT query_id) {mine} GROUP BY 1 ORDER BY 1",
            {"t": dotted},
        ).fetchall()
    finally:
        con.close()
    runs: dict[str, list[str]] = {}
    for sql, user in texts:
        runs.setdefault(_normalize(sql), []).append(user)
    frequent = sorted(runs.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:TOP]
    return Usage(
        table=dotted,
        days=days,
        queries=queries,
        users=[{"user": u, "queries": int(n)} for u, n in users],
        frequent_queries=[{"sql": s, "runs": len(us), "users": len(set(us))} for s, us in frequent],
        joined_with=[{"table": t, "queries": int(n)} for t, n in joined],
        per_day=[{"day": d.isoformat() if isinstance(d, date) else str(d), "queries": int(n)} for d, n in per_day],
        enabled=lh.config.usage.enabled,
    )


# -- popularity, for search ----------------------------------------------------------------
_popularity: dict[int, tuple[float, dict[str, int]]] = {}
_pop_lock = threading.Lock()


def popularity(lh: Lakehouse) -> dict[str, int]:
    """Queries per dataset within the retention, cached for `POPULARITY_TTL_S` per lakehouse
    (search ranks by it; a minute-old count is fine for ordering ties)."""
    key = id(lh)
    now = time.monotonic()
    with _pop_lock:
        hit = _popularity.get(key)
    if hit is not None and now - hit[0] < POPULARITY_TTL_S:
        return hit[1]
    counts: dict[str, int] = {}
    try:
        rows = _rows(lh, lh.config.usage.retention_days).select(["table_name", "query_id"])
        grouped = rows.group_by("table_name").aggregate([("query_id", "count_distinct")])
        counts = {
            t: int(n)
            for t, n in zip(grouped["table_name"].to_pylist(), grouped["query_id_count_distinct"].to_pylist())
            if t is not None
        }
    except Exception:  # noqa: BLE001 - popularity only orders ties; search works without it
        counts = {}
    with _pop_lock:
        _popularity[key] = (now, counts)
    return counts


def forget_popularity(lh: Lakehouse) -> None:
    with _pop_lock:
        _popularity.pop(id(lh), None)

"""Sort, filter, page, profile and aggregate a query result as SQL in the engine that ran it.

A `ResultView` never holds the result: every page, count, profile or chart series is a new
query over the original SQL wrapped as a subquery. The subquery is *pinned*: each table it
reads carries `FOR VERSION AS OF <snapshot>` — the snapshot the engine recorded for the first
run (DuckDB: `Result.stats["scans"]`) or, when the engine records none (Trino), the table's
current snapshot when the view is made — so every page of one view reads the same data
whatever is committed meanwhile.

The result's columns are renamed `c0, c1, …` by the subquery's column aliases, so a column is
addressed by position and no result column name is ever spliced into SQL; filter values,
histogram bounds and the user's own `{{ }}` parameters are bound, never spliced. Only
integers (offsets, limits, bucket counts) that this module checks itself appear in the text.
"""

from __future__ import annotations

import datetime
import decimal
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import sqlglot
from sqlglot import exp

from lakelab.catalog.access import load_table
from lakelab.engines.base import Engine, Result
from lakelab.engines.ordering import order_by_position
from lakelab.engines.references import table_nodes
from lakelab.engines.templating import as_templates, check_value, render
from lakelab.errors import InvalidInput, LakelabError, Unsupported

FILTER_OPS = ("=", "!=", "<", "<=", ">", ">=", "contains", "is null", "is not null")
AGGREGATES = ("count", "sum", "avg", "min", "max")
CHART_KINDS = ("bar", "line", "scatter", "histogram")
MAX_PAGE = 1000
TOP_VALUES = 10
HIST_BINS = 20
BAR_LIMIT = 50
LINE_LIMIT = 1000
SCATTER_LIMIT = 5000


# -- types -----------------------------------------------------------------------------------
def type_name(t: pa.DataType) -> str:
    """An Arrow column type as Trino names it (what the grid shows in a column header)."""
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_int8(t):
        return "tinyint"
    if pa.types.is_int16(t):
        return "smallint"
    if pa.types.is_int32(t):
        return "integer"
    if pa.types.is_integer(t):
        return "bigint"
    if pa.types.is_float32(t):
        return "real"
    if pa.types.is_floating(t):
        return "double"
    if pa.types.is_decimal(t):
        return f"decimal({t.precision}, {t.scale})"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "varchar"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "varbinary"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_timestamp(t):
        digits = {"s": 0, "ms": 3, "us": 6, "ns": 9}[t.unit]
        return f"timestamp({digits})" + (" with time zone" if t.tz else "")
    if pa.types.is_time(t):
        return "time(6)"
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return f"array({type_name(t.value_type)})"
    if pa.types.is_map(t):
        return f"map({type_name(t.key_type)}, {type_name(t.item_type)})"
    if pa.types.is_struct(t):
        return "row(" + ", ".join(f"{f.name} {type_name(f.type)}" for f in t) + ")"
    return str(t)


def kind_of(type_text: str) -> str:
    """number | text | date | timestamp | boolean | binary | nested: how a column filters and charts."""
    if type_text in ("tinyint", "smallint", "integer", "bigint", "real", "double") or type_text.startswith("decimal"):
        return "number"
    if type_text == "varchar":
        return "text"
    if type_text == "date":
        return "date"
    if type_text.startswith("timestamp"):
        return "timestamp"
    if type_text == "boolean":
        return "boolean"
    if type_text == "varbinary":
        return "binary"
    return "nested"


@dataclass(frozen=True)
class Column:
    name: str
    type: str

    @property
    def kind(self) -> str:
        return kind_of(self.type)


@dataclass(frozen=True)
class Sort:
    column: int
    descending: bool = False


@dataclass(frozen=True)
class Filter:
    """`column op value`; the value is text as typed, converted for the column's type."""

    column: int
    op: str
    value: Any = None


@dataclass
class Query:
    """One statement a view sends (kept for tests, the chart's code and the bench)."""

    sql: str
    params: dict[str, Any] = field(default_factory=dict)


# -- pinning ---------------------------------------------------------------------------------
def _version(snapshot_id: int) -> exp.Version:
    return exp.Version(this="VERSION", kind="AS OF", expression=exp.Literal.number(int(snapshot_id)))


def pin(
    sql: str,
    params: dict[str, Any] | None,
    scans: Sequence[dict[str, Any]] | None,
    current_snapshot: Callable[[str], int | None] | None = None,
) -> tuple[str, dict[str, Any], list[dict[str, Any]]]:
    """`sql` with every unversioned table reference pinned to a snapshot: the one in `scans`
    (the engine's record of the first run, same order as the references) or else the one
    `current_snapshot(name)` returns now. Returns Trino SQL with `{{ _lk_pN }}` parameters,
    those parameters, and the pins [{table, snapshot_id}] (snapshot None: left unpinned)."""
    text, values = render(sql, params)
    try:
        tree = sqlglot.parse_one(text, read="trino")
    except sqlglot.errors.SqlglotError as e:
        raise InvalidInput(f"cannot page this result: {str(e).splitlines()[0]}") from None
    if not isinstance(tree, exp.Query):
        raise Unsupported("only query results (SELECT / WITH) can be sorted and paged")
    nodes = table_nodes(tree)
    pins: list[dict[str, Any]] = []
    if scans is not None and len(scans) != len(nodes):
        scans = None  # the engine saw the query differently: look the snapshots up instead
    for i, node in enumerate(nodes):
        version = node.args.get("version")
        name = ".".join(p.name for p in (node.args.get("catalog"), node.args.get("db"), node.this) if p is not None)
        if version is not None:
            pins.append({"table": name, "snapshot_id": None, "given": version.sql("trino")})
            continue
        snap = scans[i].get("snapshot_id") if scans is not None else None
        if scans is None and current_snapshot is not None:
            snap = current_snapshot(name)
        if snap is not None:
            node.set("version", _version(snap))
        pins.append({"table": name, "snapshot_id": snap})
    order_by_position(tree)
    pinned, bound = as_templates(tree.sql("trino"), values, "_lk_p")
    return pinned, bound, pins


def catalog_snapshots(lh: Any) -> Callable[[str], int | None]:
    """The current snapshot of a table as the catalog has it now (None: not an Iceberg table
    of ours, e.g. Trino's tpch catalog, or empty)."""

    def lookup(name: str) -> int | None:
        try:
            table = load_table(lh.catalog, lh.table_name(name if "." in name else f"{_default_schema(lh)}.{name}"))
        except LakelabError:
            return None
        snap = table.current_snapshot()
        return snap.snapshot_id if snap else None

    return lookup


def _default_schema(lh: Any) -> str:
    trino = getattr(lh.config, "trino", None)
    return getattr(trino, "schema", None) or "default"


# -- values ----------------------------------------------------------------------------------
_NUMBER = re.compile(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\Z")


def convert_value(value: Any, column: Column) -> Any:
    """A filter value typed in the grid, as a value of the column's kind (or a clear error)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInput(f"filter on {column.name!r} needs a value")
    text = str(value).strip()
    kind = column.kind
    try:
        if kind == "number":
            if not _NUMBER.match(text):
                raise ValueError
            if column.type.startswith("decimal"):
                return decimal.Decimal(text)
            return int(text) if re.match(r"[-+]?\d+\Z", text) else float(text)
        if kind == "date":
            return datetime.date.fromisoformat(text)
        if kind == "timestamp":
            return datetime.datetime.fromisoformat(text)
        if kind == "boolean":
            if text.lower() not in ("true", "false"):
                raise ValueError
            return text.lower() == "true"
    except ValueError:
        expected = {
            "number": "a number",
            "date": "a date like 2024-05-01",
            "timestamp": "a timestamp like 2024-05-01 12:00:00",
            "boolean": "true or false",
        }[kind]
        raise InvalidInput(f"filter on {column.name!r} ({column.type}): {text!r} is not {expected}") from None
    return text


# -- the view --------------------------------------------------------------------------------
class ResultView:
    """A pinned query result, read a page (or a summary) at a time through its engine."""

    def __init__(
        self,
        engine: Engine,
        pinned_sql: str,
        params: dict[str, Any],
        columns: Sequence[Column],
        *,
        session: dict[str, Any] | None = None,
        pins: list[dict[str, Any]] | None = None,
    ):
        self.engine = engine
        self.pinned_sql = pinned_sql
        self.params = dict(params)
        self.columns = list(columns)
        self.session = dict(session or {})
        self.pins = pins or []
        self.sent: list[Query] = []  # every statement this view ran, in order
        self._counts: dict[tuple, int] = {}

    @classmethod
    def of(
        cls,
        engine: Engine,
        result: Result,
        params: dict[str, Any] | None = None,
        session: dict[str, Any] | None = None,
        lh: Any = None,
    ) -> ResultView:
        """The view of a result `engine` returned for `result.sql` with `params`."""
        scans = result.stats.get("scans") if isinstance(result.stats, dict) else None
        lookup = catalog_snapshots(lh) if lh is not None and scans is None else None
        pinned, bound, pins = pin(result.sql, params, scans, lookup)
        columns = [Column(f.name, type_name(f.type)) for f in result.table.schema]
        return cls(engine, pinned, bound, columns, session=session, pins=pins)

    # -- SQL pieces ------------------------------------------------------------------------
    def column(self, index: Any) -> Column:
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(self.columns):
            raise InvalidInput(f"unknown column {index!r}", hint=f"the result has {len(self.columns)} columns")
        return self.columns[index]

    def _ref(self, index: int) -> str:
        self.column(index)
        return f"c{index}"

    def _from(self) -> str:
        aliases = ", ".join(f"c{i}" for i in range(len(self.columns)))
        return f"(\n{self.pinned_sql}\n) AS _lk_q ({aliases})"

    def _where(self, filters: Sequence[Filter], params: dict[str, Any], extra: Sequence[str] = ()) -> str:
        terms = list(extra)
        for f in filters:
            col = self.column(f.column)
            ref = self._ref(f.column)
            if f.op not in FILTER_OPS:
                raise InvalidInput(f"unknown filter operator {f.op!r}", hint="use one of " + ", ".join(FILTER_OPS))
            if f.op in ("is null", "is not null"):
                terms.append(f"{ref} {f.op.upper()}")
                continue
            name = f"_lk_f{len([k for k in params if k.startswith('_lk_f')])}"
            if f.op == "contains":
                if col.kind == "nested":
                    raise InvalidInput(f"filter on {col.name!r}: contains works on text, numbers and dates")
                params[name] = str(f.value if f.value is not None else "")
                if not params[name]:
                    raise InvalidInput(f"filter on {col.name!r} needs a value")
                terms.append(f"strpos(lower(CAST({ref} AS varchar)), lower({{{{ {name} }}}})) > 0")
                continue
            if col.kind in ("nested", "binary"):
                raise InvalidInput(f"filter on {col.name!r}: {col.type} columns can only be tested for null")
            if col.kind == "boolean" and f.op not in ("=", "!="):
                raise InvalidInput(f"filter on {col.name!r}: booleans compare with = or !=")
            params[name] = convert_value(f.value, col)
            op = "<>" if f.op == "!=" else f.op
            terms.append(f"{ref} {op} {{{{ {name} }}}}")
        return (" WHERE " + " AND ".join(terms)) if terms else ""

    def _keys(self, sorts: Sequence[Sort]) -> list[tuple[int, bool]]:
        """(column, descending) for the ORDER BY: the user's sort, then every other orderable
        column as a tie-breaker so a row's page never changes; [] = the engine's scan order
        (DuckDB keeps it; Trino has none, so it always gets the tie-breakers)."""
        keys: list[tuple[int, bool]] = []
        for s in sorts:
            col = self.column(s.column)
            if col.kind == "nested":
                raise InvalidInput(f"cannot sort by {col.name!r}: {col.type} values have no order")
            if all(k[0] != s.column for k in keys):
                keys.append((s.column, s.descending))
        if not keys and self.engine.name == "duckdb":
            return []
        seen = {k[0] for k in keys}
        return keys + [(i, False) for i, c in enumerate(self.columns) if i not in seen and c.kind != "nested"]

    @staticmethod
    def _order(keys: Sequence[tuple[int, bool]], flipped: bool = False) -> str:
        """ORDER BY text; nulls sort last (first when `flipped`, so a flipped order is the exact reverse)."""
        if not keys:
            return ""
        nulls = "FIRST" if flipped else "LAST"
        return " ORDER BY " + ", ".join(
            f"c{i} {'DESC' if desc != flipped else 'ASC'} NULLS {nulls}" for i, desc in keys
        )

    def _run(self, sql: str, params: dict[str, Any]) -> pa.Table:
        query = Query(sql, {**self.params, **params})
        self.sent.append(query)
        del self.sent[:-50]
        return self.engine.execute(query.sql, query.params, **self.session).table

    # -- reads -------------------------------------------------------------------------------
    def page(
        self,
        offset: int,
        size: int,
        sorts: Sequence[Sort] = (),
        filters: Sequence[Filter] = (),
        total: int | None = None,
    ) -> pa.Table:
        """Rows [offset, offset + size) of the sorted, filtered result, with the result's names.
        `total` (the filtered row count, when known) lets pages past the middle of a sorted
        result be read from the other end: the last page costs what the first one does."""
        for what, n in (("offset", offset), ("page size", size)):
            if isinstance(n, bool) or not isinstance(n, int) or n < 0:
                raise InvalidInput(f"{what} must be a non-negative integer, got {n!r}")
        size = min(size, MAX_PAGE)
        keys = self._keys(sorts)
        flipped = bool(keys) and total is not None and offset + size / 2 > total / 2 and offset < total
        if flipped:
            assert total is not None
            size = min(size, total - offset)
            offset = total - offset - size
        params: dict[str, Any] = {}
        where = self._where(filters, params)
        extra = self._threshold(keys, flipped, where, params, offset + size - 1) if sorts else None
        if extra:
            where = (where + " AND " if where else " WHERE ") + extra
        sql = f"SELECT * FROM {self._from()}{where}{self._order(keys, flipped)}"
        sql += f" OFFSET {int(offset)} LIMIT {int(size)}" if offset else f" LIMIT {int(size)}"
        table = self._run(sql, params)
        if flipped:
            table = table.take(pa.array(range(table.num_rows - 1, -1, -1), pa.int64()))
        return table.rename_columns([c.name for c in self.columns])

    def _threshold(
        self, keys: Sequence[tuple[int, bool]], flipped: bool, where: str, params: dict[str, Any], last: int
    ) -> str | None:
        """On DuckDB, a condition on the first sort column that keeps every row up to position
        `last` (and few others): found by sorting that one column alone, it spares the full
        query from sorting every column of every row. None when it cannot help."""
        if self.engine.name != "duckdb" or not keys:
            return None
        col, desc = keys[0]
        descending = desc != flipped
        nulls = "FIRST" if flipped else "LAST"
        order = f"c{col} {'DESC' if descending else 'ASC'} NULLS {nulls}"
        offset = f" OFFSET {int(last)}" if last else ""
        found = self._run(f"SELECT c{col} AS k FROM {self._from()}{where} ORDER BY {order}{offset} LIMIT 1", params)
        if found.num_rows == 0:
            return None
        value = found.column(0)[0].as_py()
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            return None  # the page reaches the nulls (or NaN): no simple bound
        try:
            check_value(value, "bound")
        except InvalidInput:
            return None
        params["_lk_t"] = value
        bound = f"c{col} {'>=' if descending else '<='} {{{{ _lk_t }}}}"
        return f"({bound} OR c{col} IS NULL)" if flipped else bound

    def count(self, filters: Sequence[Filter] = ()) -> int:
        key = tuple(filters)
        if key not in self._counts:
            params: dict[str, Any] = {}
            sql = f"SELECT count(*) AS n FROM {self._from()}{self._where(filters, params)}"
            self._counts[key] = int(self._run(sql, params).column(0)[0].as_py())
            if len(self._counts) > 64:
                self._counts.pop(next(iter(self._counts)))
        return self._counts[key]

    def profile(self, index: int, filters: Sequence[Filter] = ()) -> dict[str, Any]:
        """Nulls, distinct count, min/max, top values and (numbers) a histogram of one column."""
        col = self.column(index)
        ref = self._ref(index)
        params: dict[str, Any] = {}
        where = self._where(filters, params)
        ordered = col.kind not in ("nested",)
        stats = f"count(*) AS n, count({ref}) AS non_null"
        if ordered:
            stats += f", count(DISTINCT {ref}) AS distinct_count, min({ref}) AS lo, max({ref}) AS hi"
        row = self._run(f"SELECT {stats} FROM {self._from()}{where}", params).to_pylist()[0]
        out: dict[str, Any] = {
            "column": col.name,
            "type": col.type,
            "rows": row["n"],
            "nulls": row["n"] - row["non_null"],
            "distinct": row.get("distinct_count"),
            "min": row.get("lo"),
            "max": row.get("hi"),
            "top": [],
            "histogram": [],
        }
        if ordered:
            top = self._run(
                f"SELECT {ref} AS value, count(*) AS n FROM {self._from()}{where} "
                f"GROUP BY 1 ORDER BY 2 DESC, 1 NULLS LAST LIMIT {TOP_VALUES}",
                params,
            )
            out["top"] = [{"value": r["value"], "count": r["n"]} for r in top.to_pylist()]
        if col.kind == "number" and row["non_null"]:
            out["histogram"] = self.histogram(index, filters, lo=row["lo"], hi=row["hi"])
        return out

    def histogram(
        self, index: int, filters: Sequence[Filter] = (), bins: int = HIST_BINS, lo: Any = None, hi: Any = None
    ) -> list[dict[str, Any]]:
        """[{start, end, count}] over `bins` equal-width buckets between the column's min and max."""
        col = self.column(index)
        if col.kind != "number":
            raise InvalidInput(f"a histogram needs a numeric column; {col.name!r} is {col.type}")
        ref = self._ref(index)
        if lo is None or hi is None:
            params: dict[str, Any] = {}
            row = self._run(
                f"SELECT min({ref}) AS lo, max({ref}) AS hi FROM {self._from()}{self._where(filters, params)}", params
            ).to_pylist()[0]
            lo, hi = row["lo"], row["hi"]
        if lo is None:
            return []
        lo_f, hi_f = float(lo), float(hi)
        if not (math.isfinite(lo_f) and math.isfinite(hi_f)):
            return []
        bins = max(1, min(int(bins), 200))
        width = (hi_f - lo_f) / bins if hi_f > lo_f else 1.0
        params = {"_lk_lo": lo_f, "_lk_w": width}
        where = self._where(filters, params, extra=[f"{ref} IS NOT NULL"])
        sql = (
            f"SELECT CAST(floor((CAST({ref} AS double) - {{{{ _lk_lo }}}}) / {{{{ _lk_w }}}}) AS bigint) AS bucket, "
            f"count(*) AS n FROM {self._from()}{where} GROUP BY 1 ORDER BY 1"
        )
        counts: dict[int, int] = {}
        for r in self._run(sql, params).to_pylist():  # the maximum lands in bucket `bins`: the last one
            b = min(max(int(r["bucket"]), 0), bins - 1)
            counts[b] = counts.get(b, 0) + int(r["n"])
        return [
            {"start": lo_f + i * width, "end": lo_f + (i + 1) * width, "count": int(counts.get(i, 0))}
            for i in range(bins if hi_f > lo_f else 1)
        ]

    def aggregate(
        self,
        kind: str,
        x: int,
        y: int | None = None,
        agg: str = "count",
        filters: Sequence[Filter] = (),
    ) -> tuple[pa.Table, Query]:
        """The (bounded) series a chart draws: x/y columns named `x` and `y`, computed by the engine."""
        if kind not in CHART_KINDS:
            raise InvalidInput(f"unknown chart kind {kind!r}", hint="use one of " + ", ".join(CHART_KINDS))
        xcol = self.column(x)
        if kind == "histogram":
            bins = self.histogram(x, filters)
            table = pa.table(
                {
                    "start": [b["start"] for b in bins],
                    "end": [b["end"] for b in bins],
                    "count": [b["count"] for b in bins],
                }
            )
            return table, self.sent[-1]
        if xcol.kind == "nested":
            raise InvalidInput(f"cannot chart {xcol.name!r}: {xcol.type} values")
        params: dict[str, Any] = {}
        if kind == "scatter":
            if y is None:
                raise InvalidInput("a scatter chart needs a y column")
            ycol = self.column(y)
            if ycol.kind == "nested":
                raise InvalidInput(f"cannot chart {ycol.name!r}: {ycol.type} values")
            where = self._where(filters, params, extra=[f"c{x} IS NOT NULL", f"c{y} IS NOT NULL"])
            sql = f"SELECT c{x} AS x, c{y} AS y FROM {self._from()}{where} LIMIT {SCATTER_LIMIT}"
        else:
            if agg not in AGGREGATES:
                raise InvalidInput(f"unknown aggregate {agg!r}", hint="use one of " + ", ".join(AGGREGATES))
            if agg == "count":
                measure = "count(*)" if y is None else f"count(c{y})"
            else:
                if y is None:
                    raise InvalidInput(f"{agg} needs a y column")
                ycol = self.column(y)
                if agg in ("sum", "avg") and ycol.kind != "number":
                    raise InvalidInput(f"{agg} needs a numeric column; {ycol.name!r} is {ycol.type}")
                measure = f"{agg}(c{y})"
            where = self._where(filters, params)
            order = "2 DESC, 1" if kind == "bar" else "1"
            limit = BAR_LIMIT if kind == "bar" else LINE_LIMIT
            sql = (
                f"SELECT c{x} AS x, {measure} AS y FROM {self._from()}{where} GROUP BY 1 ORDER BY {order} LIMIT {limit}"
            )
        table = self._run(sql, params)
        return table, self.sent[-1]

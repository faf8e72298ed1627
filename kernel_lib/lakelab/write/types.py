"""The one Iceberg type policy: which Arrow type a column is stored as, how column names are
checked, and how each incoming batch is fitted to the table (`Conformer`).

Iceberg has no unsigned, 8/16-bit, half-float, nanosecond, dictionary, view or null types,
and keeps instants in UTC: each maps to its nearest Iceberg type, recursively inside
structs, lists and maps. Durations and intervals have no Iceberg type and are refused.
Values must survive the cast exactly (a nanosecond that would be dropped, a uint64 too big
for int64 is an error naming the column), never silently changed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from lakelab.errors import InvalidInput
from lakelab.names import column_name

_CAST_ERRORS = (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError)
MAX_DECIMAL_DIGITS = 38
ALIAS_HINT = "give it an alias: expression AS name"  # how a query's column is renamed


def storable_type(t: pa.DataType, column: str = "?") -> pa.DataType:
    """The Arrow type an Iceberg column holds for `t`; `column` names it in errors."""
    if pa.types.is_timestamp(t):  # microseconds; an instant (any zone) in UTC
        return pa.timestamp("us", tz="UTC" if t.tz else None)
    if pa.types.is_time(t):
        return pa.time64("us")
    if pa.types.is_date64(t):
        return pa.date32()
    if t in (pa.uint8(), pa.uint16(), pa.int8(), pa.int16()):
        return pa.int32()
    if t in (pa.uint32(), pa.uint64()):
        return pa.int64()
    if t == pa.float16():
        return pa.float32()
    if pa.types.is_null(t) or t == pa.string_view():
        return pa.large_string()
    if t == pa.binary_view():
        return pa.large_binary()
    if pa.types.is_decimal(t):
        if t.precision > MAX_DECIMAL_DIGITS:
            raise InvalidInput(
                f"column {column!r} is {t}: Iceberg decimals hold at most {MAX_DECIMAL_DIGITS} digits",
                hint="round it to fewer digits, or store it as float64 or text",
            )
        return pa.decimal128(t.precision, t.scale)
    if pa.types.is_dictionary(t):  # pandas categoricals
        return storable_type(t.value_type, column)
    if (
        pa.types.is_list(t)
        or pa.types.is_large_list(t)
        or pa.types.is_fixed_size_list(t)
        or pa.types.is_list_view(t)
        or pa.types.is_large_list_view(t)
    ):
        return pa.large_list(storable_type(t.value_type, column))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, storable_type(f.type, f"{column}.{f.name}"), f.nullable) for f in t])
    if pa.types.is_map(t):
        return pa.map_(storable_type(t.key_type, column), storable_type(t.item_type, column))
    if pa.types.is_duration(t) or pa.types.is_interval(t):
        raise InvalidInput(
            f"column {column!r} is {t}: durations and intervals cannot be stored in Iceberg",
            hint="convert it to a number, e.g. seconds (pandas: s.dt.total_seconds(); SQL: date_diff('second', a, b))",
        )
    return t


def table_schema(schema: pa.Schema, rename_hint: str | None = None) -> tuple[pa.Schema, list[str]]:
    """(the schema to store, the incoming names in order): names checked and folded to lower
    case (names.column_name), no two alike, every type storable. `rename_hint` replaces the
    advice on a bad name (a query's columns are renamed with an alias)."""
    if not len(schema):
        raise InvalidInput("the data has no columns", hint="a dataset needs at least one column")
    fields: list[pa.Field] = []
    seen: dict[str, str] = {}
    for f in schema:
        try:
            name = column_name(f.name)
        except InvalidInput as e:
            raise InvalidInput(e.message, hint=rename_hint or e.hint) from None
        if name in seen:
            what = f"two columns named {name!r}" if seen[name] == f.name else f"columns {seen[name]!r} and {f.name!r}"
            raise InvalidInput(
                f"the data has {what}: the same name once folded to lower case",
                hint=rename_hint or "rename one of them",
            )
        seen[name] = f.name
        fields.append(pa.field(name, storable_type(f.type, name), nullable=True))
    return pa.schema(fields), list(schema.names)


def family(t: pa.DataType) -> str:
    """What kind of value a type holds, as SQL's INSERT sees it: Trino refuses varchar into
    integer (so does lakelab) but widens one number type into another."""
    if pa.types.is_dictionary(t):
        return family(t.value_type)
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "number"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return "text"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_binary_view(t):
        return "binary"
    if pa.types.is_fixed_size_binary(t):
        return "binary"
    if pa.types.is_temporal(t):
        return "time"
    if pa.types.is_nested(t):
        return "nested"
    return str(t)


@dataclass
class Conformer:
    """Fits each incoming batch to the table's Arrow schema `target`: `columns[i]` is the
    batch column that fills target column i (None: nulls). `same_family`: refuse a column
    whose kind of value differs from the table's (SQL INSERT semantics) instead of casting."""

    target: pa.Schema
    columns: list[int | None]
    where: str = "the data"
    same_family: bool = False

    def __call__(self, batch: pa.RecordBatch, rows_before: int) -> pa.RecordBatch:
        arrays = []
        for f, i in zip(self.target, self.columns):
            if i is None:
                arrays.append(pa.nulls(batch.num_rows, f.type))
                continue
            col = batch.column(i)
            if col.type != f.type:
                if self.same_family and family(col.type) != family(f.type) and col.null_count != len(col):
                    raise InvalidInput(
                        f"column {f.name}: cannot write {col.type} into {f.type}",
                        hint="cast it in the query, e.g. CAST(x AS ...)",
                    )
                col = self._cast(col, f, rows_before, batch.num_rows)
            arrays.append(col)
        return pa.RecordBatch.from_arrays(arrays, schema=self.target)

    def _cast(self, col: pa.Array, f: pa.Field, rows_before: int, n: int) -> pa.Array:
        try:
            return col.cast(f.type)
        except _CAST_ERRORS as e:
            rows = f"rows {rows_before + 1:,}-{rows_before + n:,}"
            first = str(e).splitlines()[0]
            if "would lose data" in first and ("timestamp" in first or "time64" in first):
                raise InvalidInput(
                    f"column {f.name!r} in {self.where} ({rows}) has times with nanoseconds; "
                    "Iceberg stores microseconds",
                    hint="round them to microseconds first (pandas: s.dt.floor('us'))",
                ) from None
            raise InvalidInput(
                f"column {f.name!r} in {self.where} ({rows}) cannot be stored as {f.type}: {first}",
                hint="fix the values or the column's type",
            ) from None

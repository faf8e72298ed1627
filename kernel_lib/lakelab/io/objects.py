"""In-kernel objects as one stream of Arrow record batches (`Source`): the only place that
knows pandas, polars, Arrow, the Arrow C stream protocol and query results. Files, globs and
URLs are io/sources.py, which hands everything else to `open_object`.

Each kind of object is one adapter in `ADAPTERS` (a test and a converter), tried in order;
a new kind is one more entry, and every write path (ingest, transform, CREATE TABLE AS,
publish) takes it from then on.

A Ray dataset is a Source whose rows stay on the cluster (`cluster`): the write path has Ray
tasks write its data files there (write/cluster.py); only an upsert, which needs every key
in one place, streams its batches to the driver.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from lakelab.errors import EngineError, InvalidInput, LakelabError

MEMORY_BATCH = 262_144  # rows per batch when slicing in-memory tables


@dataclass
class Source:
    """A resolved source: its schema, a one-pass batch iterator, the URIs it came from."""

    schema: pa.Schema
    batches: Iterator[pa.RecordBatch]
    uris: list[str] = field(default_factory=list)
    total_rows: int | None = None
    label: str = ""
    cluster: Any = None  # a ray.data.Dataset whose blocks are written where they are

    def __iter__(self) -> Iterator[pa.RecordBatch]:
        return self.batches

    def to_reader(self) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(self.schema, self.batches)


def table_source(t: pa.Table, label: str) -> Source:
    return Source(t.schema, iter(t.to_batches(max_chunksize=MEMORY_BATCH)), [], t.num_rows, label)


def _reader_source(reader: pa.RecordBatchReader, label: str) -> Source:
    return Source(reader.schema, iter(reader), [], None, label)


def pandas_to_arrow(df: Any) -> pa.Table:
    try:
        return pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
        col = str(e).split("column ", 1)[1].split(" ", 1)[0] if "column " in str(e) else None
        raise InvalidInput(
            f"DataFrame column {col or '?'} has values of mixed or unsupported types: {e}",
            hint="convert the column to one type, e.g. df[col].astype(str)",
        ) from None


def _module(obj: Any) -> str:
    return type(obj).__module__.split(".", 1)[0]


def _from_pandas(obj: Any) -> Source:
    return table_source(pandas_to_arrow(obj), "pandas.DataFrame")


def _from_polars(obj: Any) -> Source:
    if type(obj).__name__ == "LazyFrame":
        obj = obj.collect()
    return table_source(obj.to_arrow(), "polars.DataFrame")


def _from_result(obj: Any) -> Source:
    if obj.has_more:  # a preview: writing it would silently drop the rest of the rows
        raise InvalidInput(
            f"this result holds only the first {obj.limit:,} rows of the query",
            hint="re-run the query with --no-limit (or limit=None) before writing it",
        )
    return table_source(obj.table, f"{obj.engine} result")


def lakelab_error_in(err: BaseException) -> LakelabError | None:
    """Our own error raised inside a Ray task, found in what Ray re-raised on the driver (a
    RayTaskError carries it as `cause`, Ray Data's UserCodeException as `__cause__`)."""
    seen: set[int] = set()
    e: BaseException | None = err
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        inner = getattr(e, "cause", None) or e.__cause__
        if isinstance(e, LakelabError) and not isinstance(inner, LakelabError):
            return e  # the innermost: Ray's RayTaskError(InvalidInput) is one too, wrapping it
        e = inner
    return None


_EXC_LINE = re.compile(r"^\s*([A-Za-z_][\w.]*(?:Error|Exception)): (.+)$")


def root_cause(err: BaseException) -> str:
    """The exception a Ray task raised, as one line. Ray re-raises it as a RayTaskError whose
    cause is often a bare UserCodeException; the original survives only in the remote
    traceback text, where the innermost exception comes first."""
    cause = getattr(err, "cause", None)
    if cause is not None and type(cause).__name__ not in ("UserCodeException", "RayTaskError"):
        return f"{type(cause).__name__}: {(str(cause).splitlines() or [''])[0]}"[:500]
    for line in str(err).splitlines():
        m = _EXC_LINE.match(line)
        if m and m.group(1).startswith("lakelab."):  # our own error: its message says it all
            return m.group(2).strip()[:500]
        if m and not m.group(1).endswith(("UserCodeException", "RayTaskError")):
            return f"{m.group(1).rsplit('.', 1)[-1]}: {m.group(2).strip()}"[:500]
    lines = [ln for ln in str(err).strip().splitlines() if ln.strip()]
    return f"{type(err).__name__}: {lines[-1].strip() if lines else ''}"[:500]


def _is_ray_dataset(obj: Any) -> bool:
    return _module(obj) == "ray" and hasattr(obj, "write_datasink") and hasattr(obj, "iter_batches")


def _from_ray(ds: Any) -> Source:
    try:
        schema = ds.schema(fetch_if_missing=True)  # may run the first block's tasks on the cluster
    except Exception as e:  # noqa: BLE001 - a Ray task failed: told as one line below
        ours = lakelab_error_in(e)
        if ours is not None:
            raise ours from None
        raise EngineError(f"the Ray dataset failed: {root_cause(e)}") from None
    arrow = getattr(schema, "base_schema", None)
    if not isinstance(arrow, pa.Schema):  # Ray gives a non-Arrow schema for simple (item) blocks
        raise InvalidInput(
            "this Ray dataset has no Arrow schema (it holds plain Python items)",
            hint="give its rows columns first, e.g. ds.map(lambda x: {'value': x})",
        )

    def batches() -> Iterator[pa.RecordBatch]:  # to the driver: only an upsert asks for them
        for t in ds.iter_batches(batch_format="pyarrow", batch_size=None):
            yield from t.to_batches()

    return Source(arrow, batches(), [], None, "ray.data.Dataset", cluster=ds)


def _from_to_arrow(obj: Any) -> Source | None:
    t = obj.to_arrow()  # a DuckDB relation, a user's result type, ...
    if isinstance(t, pa.RecordBatchReader):
        return _reader_source(t, type(obj).__name__)
    if isinstance(t, pa.Table):
        return table_source(t, type(obj).__name__)
    return None


def _is_result(obj: Any) -> bool:
    """A query result of ours (engines.base.Result), known by its shape: io sits below engines."""
    return all(hasattr(obj, a) for a in ("table", "engine", "has_more", "limit", "stats", "sql"))


# (test, converter) in order: the first whose test holds converts the object
ADAPTERS: list[tuple[Callable[[Any], bool], Callable[[Any], Source | None]]] = [
    (_is_ray_dataset, _from_ray),
    (lambda o: isinstance(o, pa.RecordBatchReader), lambda o: _reader_source(o, "arrow.RecordBatchReader")),
    (lambda o: isinstance(o, pa.Table), lambda o: table_source(o, "arrow.Table")),
    (lambda o: isinstance(o, pa.RecordBatch), lambda o: table_source(pa.Table.from_batches([o]), "arrow.RecordBatch")),
    (lambda o: _module(o) == "pandas" and hasattr(o, "columns"), _from_pandas),
    (
        lambda o: _module(o) == "polars" and hasattr(o, "collect" if type(o).__name__ == "LazyFrame" else "to_arrow"),
        _from_polars,
    ),
    (_is_result, _from_result),
    (
        lambda o: hasattr(o, "__arrow_c_stream__"),
        lambda o: _reader_source(pa.RecordBatchReader.from_stream(o), type(o).__name__),
    ),
    (lambda o: hasattr(o, "to_arrow"), _from_to_arrow),
]


def open_object(obj: Any) -> Source | None:
    """`obj` as a Source, or None when it is no object lakelab knows how to read."""
    if isinstance(obj, Source):
        return obj
    for test, convert in ADAPTERS:
        if test(obj):
            src = convert(obj)
            if src is not None:
                return src
    return None

"""Ingest sources: anything a user can point at, as one stream of Arrow record batches.

`open_source()` accepts local paths, globs, directories, file:// s3:// gs:// URLs (through
pyarrow.fs) and CSV / Parquet / JSON arrays / NDJSON files; in-kernel objects (DataFrames,
Arrow, query results) it hands to io/objects.py. Files are read lazily, one block at a time, so
memory stays bounded whatever their size. Errors name the file (and line, where the
reader can tell) and are lakelab.errors.* so the user sees one clear line.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.fs as pafs
import pyarrow.json as pajson
import pyarrow.parquet as pq

from lakelab.errors import InvalidInput, NotFound, Unavailable
from lakelab.io.depth import DepthGuard
from lakelab.io.files import FORMATS, SourceFile, resolve_files
from lakelab.io.objects import MEMORY_BATCH, Source, open_object

__all__ = ["FORMATS", "Source", "open_source", "resolve_files"]

CSV_BLOCK = 8 << 20  # bytes per CSV/JSON block: one record batch each
PARQUET_BATCH = 262_144  # rows per Parquet record batch
ROW_GROUP_BYTES = 256 << 20  # larger row groups are read in slices


# -- readers per format ------------------------------------------------------------------
def _open_stream(f: SourceFile):
    try:
        return f.fs.open_input_stream(f.path, compression="detect")
    except FileNotFoundError:
        raise NotFound(f"no such file: {f.uri}") from None
    except OSError as e:
        raise Unavailable(f"cannot read {f.uri}: {e}") from None


def _unreadable(f: SourceFile, e: OSError) -> InvalidInput:
    """A file that opens but cannot be decoded: a damaged or mislabelled compressed file."""
    return InvalidInput(
        f"cannot read {f.uri}: {str(e).splitlines()[0][:200] if str(e) else type(e).__name__}",
        hint="the file is damaged, or its name says .gz/.bz2/.zst/.lz4 but it is not compressed that way",
    )


def _find_line(f: SourceFile, text: str) -> int | None:
    """1-based line of the first line equal to `text` (error path only: rescans the file)."""
    with _open_stream(f) as s:
        buf, lineno, target = b"", 0, text.encode()
        while chunk := s.read(1 << 20):
            buf += chunk
            lines = buf.split(b"\n")
            buf = lines.pop()
            for line in lines:
                lineno += 1
                if line.rstrip(b"\r") == target:
                    return lineno
        if buf.rstrip(b"\r") == target:
            return lineno + 1
    return None


def _csv_header(f: SourceFile) -> list[str]:
    import csv
    import io

    try:
        with _open_stream(f) as s:
            head = s.read(1 << 16).decode("utf-8", "replace").lstrip("\ufeff")
    except OSError as e:
        raise _unreadable(f, e) from None
    return next(csv.reader(io.StringIO(head.split("\n", 1)[0])), [])


def _casts(col: pa.Array, typ: pa.DataType) -> bool:
    try:
        col.cast(typ)
        return True
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False


def _find_bad_value(f: SourceFile, column: str, typ: pa.DataType, skip_rows: int) -> tuple[int, str] | None:
    """(line, value) of the first value in `column` that does not convert to `typ`: reread
    the file with that column as text (error path only)."""
    try:
        reader = pacsv.open_csv(
            _open_stream(f),
            read_options=pacsv.ReadOptions(block_size=CSV_BLOCK),
            convert_options=pacsv.ConvertOptions(
                column_types={column: pa.string()}, include_columns=[column], strings_can_be_null=True
            ),
        )
        seen = 0
        for batch in reader:
            col = batch.column(0)
            if seen + batch.num_rows > skip_rows and not _casts(col, typ):
                for i, v in enumerate(col.to_pylist()):
                    if v is None or v == "":
                        continue
                    try:
                        pc.cast(pa.array([v]), typ)
                    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                        return seen + i + 2, v  # +1 header line, +1 for 1-based
            seen += batch.num_rows
    except (pa.ArrowInvalid, OSError):
        return None
    return None


def _csv_batches(
    f: SourceFile, column_types: dict[str, pa.DataType] | None, first_schema: pa.Schema | None
) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    bad_rows: list[Any] = []

    def on_invalid(row: Any) -> str:
        bad_rows.append(row)
        return "error"

    types: dict[str, pa.DataType] = {}
    if column_types:  # keyed by folded names; the header may spell them in any case
        types = {
            raw: column_types[raw.strip().lower()] for raw in _csv_header(f) if raw.strip().lower() in column_types
        }
    if first_schema is not None:  # later files of a glob: parse as the first file was typed
        types = {**{fld.name: fld.type for fld in first_schema}, **types}

    reader_schema: pa.Schema | None = None

    def fail(e: Exception, rows_done: int, names: list[str]) -> InvalidInput:
        msg = str(e)
        names = names or _csv_header(f)
        if bad_rows:
            row = bad_rows[0]
            line = _find_line(f, row.text)
            where = f"line {line}" if line else "a row"
            return InvalidInput(
                f"malformed CSV in {f.uri}, {where}: expected {row.expected_columns} columns, "
                f"got {row.actual_columns}: {row.text[:200]!r}",
                hint="fix the row, or check the delimiter and quoting",
            )
        if "straddling object straddles" in msg:  # one row longer than a whole read block
            return InvalidInput(
                f"a row of {f.uri} is longer than {CSV_BLOCK >> 20} MB",
                hint="split the large values into smaller ones, or load the file as Parquet",
            )
        if "conversion error" in msg and "column #" in msg:
            idx = int(msg.split("column #", 1)[1].split(":", 1)[0])
            col = names[idx] if idx < len(names) else f"#{idx}"
            typ = types.get(col) or (
                reader_schema.field(col).type
                if reader_schema is not None and col in reader_schema.names
                else pa.string()
            )
            found = _find_bad_value(f, col, typ, rows_done)
            where = f"line {found[0]}, column {col!r}: value {found[1][:80]!r}" if found else f"column {col!r}"
            if pa.types.is_string(typ) or pa.types.is_large_string(typ):
                return InvalidInput(
                    f"{f.uri}, {where} is not UTF-8 text", hint="save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)"
                )
            return InvalidInput(
                f"wrong type in {f.uri}, {where} is not a valid {typ}",
                hint="fix the value, or ingest the column as text",
            )
        return InvalidInput(f"cannot read CSV {f.uri}: {msg}")

    try:
        reader = pacsv.open_csv(
            _open_stream(f),
            read_options=pacsv.ReadOptions(block_size=CSV_BLOCK),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True),
        )
    except pa.ArrowInvalid as e:
        if "Empty CSV file" in str(e):
            raise InvalidInput(f"CSV file {f.uri} is empty", hint="a CSV needs a header line") from None
        raise fail(e, 0, []) from None
    except OSError as e:
        raise _unreadable(f, e) from None
    reader_schema = reader.schema
    try:
        names = reader_schema.names
    except UnicodeDecodeError:
        raise InvalidInput(
            f"the header line of {f.uri} is not UTF-8 text",
            hint="save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)",
        ) from None
    # pyarrow reads a text column holding non-UTF-8 bytes as binary: refuse it rather than
    # store bytes where the user has text (a later block with such bytes fails in fail())
    not_text = [fld.name for fld in reader_schema if pa.types.is_binary(fld.type) and fld.name not in types]
    if not_text:
        raise InvalidInput(
            f"column {not_text[0]!r} of {f.uri} holds bytes that are not UTF-8 text",
            hint="save the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)",
        )

    def gen() -> Iterator[pa.RecordBatch]:
        done = 0
        try:
            for batch in reader:
                done += batch.num_rows
                yield batch
        except pa.ArrowInvalid as e:
            raise fail(e, done, names) from None
        except OSError as e:
            raise _unreadable(f, e) from None

    return reader_schema, gen()


def _peek(f: SourceFile) -> bytes:
    try:
        with _open_stream(f) as s:
            head = s.read(4096)
    except OSError as e:
        raise _unreadable(f, e) from None
    return head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]


def _json_error(f: SourceFile, e: pa.ArrowInvalid) -> InvalidInput:
    if "straddling object straddles" in str(e):  # one line longer than a whole read block
        return InvalidInput(
            f"a line of {f.uri} is longer than {CSV_BLOCK >> 20} MB",
            hint="split the large values, or load the data as Parquet",
        )
    return InvalidInput(
        f"malformed JSON in {f.uri}: {e}", hint="every line must be one JSON object with the same fields and types"
    )


def _json_batches(f: SourceFile, first_schema: pa.Schema | None) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    first = _peek(f)
    if first == b"[":
        return _json_array_batches(f)
    if first not in (b"{", b""):
        raise InvalidInput(f"{f.uri} is not JSON: it must hold objects, one per line, or an array of objects")
    try:
        reader = pajson.open_json(
            DepthGuard(_open_stream(f), f.uri),
            read_options=pajson.ReadOptions(block_size=CSV_BLOCK),
            parse_options=pajson.ParseOptions(
                explicit_schema=first_schema, unexpected_field_behavior="error" if first_schema else "infer"
            ),
        )
    except pa.ArrowInvalid as e:
        raise _json_error(f, e) from None
    except OSError as e:
        raise _unreadable(f, e) from None

    def gen() -> Iterator[pa.RecordBatch]:
        try:
            yield from reader
        except pa.ArrowInvalid as e:
            raise _json_error(f, e) from None
        except OSError as e:
            raise _unreadable(f, e) from None

    return reader.schema, gen()


def _json_array_batches(f: SourceFile) -> tuple[pa.Schema, Iterator[pa.RecordBatch]]:
    # pyarrow reads only NDJSON; DuckDB streams a JSON array without loading it whole
    if not isinstance(f.fs, pafs.LocalFileSystem):
        raise InvalidInput(
            f"{f.uri}: JSON arrays are read from local files only",
            hint="use newline-delimited JSON (one object per line) for remote files",
        )
    import duckdb

    con = duckdb.connect()
    try:
        rel = con.read_json(f.path, format="array")
        reader = rel.to_arrow_reader(MEMORY_BATCH)
    except duckdb.Error as e:
        con.close()
        raise InvalidInput(f"malformed JSON in {f.uri}: {str(e).splitlines()[0]}") from None

    def gen() -> Iterator[pa.RecordBatch]:
        try:
            yield from reader
        except duckdb.Error as e:
            raise InvalidInput(f"malformed JSON in {f.uri}: {str(e).splitlines()[0]}") from None
        finally:
            con.close()

    return reader.schema, gen()


def _parquet_file(f: SourceFile) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(f.fs.open_input_file(f.path))
    except FileNotFoundError:
        raise NotFound(f"no such file: {f.uri}") from None
    except (pa.ArrowInvalid, OSError) as e:
        raise InvalidInput(f"{f.uri} is not a readable Parquet file: {e}") from None


def _conform(batch: pa.RecordBatch, schema: pa.Schema, f: SourceFile) -> pa.RecordBatch:
    """Reorder/cast one file's batch to the shared schema of a multi-file source."""
    if batch.schema.equals(schema):
        return batch
    try:
        return pa.RecordBatch.from_arrays(
            [batch.column(n).cast(schema.field(n).type) for n in schema.names], schema=schema
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        raise InvalidInput(f"{f.uri} does not match the other files: {e}") from None


def _check_same_columns(schema: pa.Schema, first: pa.Schema, f: SourceFile, first_f: SourceFile) -> None:
    if set(schema.names) != set(first.names):
        extra = sorted(set(schema.names) - set(first.names))
        missing = sorted(set(first.names) - set(schema.names))
        detail = "; ".join(
            x for x in (f"extra columns {extra}" if extra else "", f"missing columns {missing}" if missing else "") if x
        )
        raise InvalidInput(
            f"files have different columns: {f.uri} vs {first_f.uri}: {detail}",
            hint="ingest files with the same columns together",
        )


def _files_source(files: list[SourceFile], column_types: dict[str, pa.DataType] | None) -> Source:
    fmt = files[0].format
    uris = [f.uri for f in files]
    if fmt == "parquet":
        pfiles = [_parquet_file(f) for f in files[:1]]
        schemas = [pfiles[0].schema_arrow] + [_parquet_file(f).schema_arrow for f in files[1:]]
        for f, s in zip(files[1:], schemas[1:]):
            _check_same_columns(s, schemas[0], f, files[0])
        try:
            schema = pa.unify_schemas(schemas, promote_options="permissive") if len(schemas) > 1 else schemas[0]
        except (pa.ArrowInvalid, pa.ArrowTypeError) as e:
            raise InvalidInput(
                f"Parquet files have incompatible column types: {e}", hint="ingest them separately or fix the types"
            ) from None
        total = 0
        for f in files:  # footers only: cheap
            total += _parquet_file(f).metadata.num_rows if len(files) < 1000 else 0

        def gen() -> Iterator[pa.RecordBatch]:
            for f in files:
                pf = _parquet_file(f)
                try:
                    for i in range(pf.num_row_groups):
                        # whole row groups decode on several threads; huge ones stream in slices
                        if pf.metadata.row_group(i).total_byte_size <= ROW_GROUP_BYTES:
                            parts = pf.read_row_group(i).to_batches()
                        else:
                            parts = pf.iter_batches(batch_size=PARQUET_BATCH, row_groups=[i])
                        for b in parts:
                            yield _conform(b, schema, f)
                except (pa.ArrowInvalid, OSError) as e:
                    raise InvalidInput(f"cannot read Parquet file {f.uri}: {e}") from None

        return Source(schema, gen(), uris, total or None, label=files[0].uri)

    opener: Callable[[SourceFile, pa.Schema | None], tuple[pa.Schema, Iterator[pa.RecordBatch]]]
    if fmt == "csv":
        opener = lambda f, first: _csv_batches(f, column_types, first)
    else:
        opener = _json_batches
    schema, it = opener(files[0], None)

    def gen_many() -> Iterator[pa.RecordBatch]:
        yield from it
        for f in files[1:]:
            s, more = opener(f, schema)
            _check_same_columns(s, schema, f, files[0])
            for b in more:
                yield _conform(b, schema, f)

    return Source(schema, gen_many(), uris, None, label=files[0].uri)


def open_source(
    source: Any,
    format: str | None = None,
    column_types: dict[str, pa.DataType] | None = None,
    *,
    verb: str = "ingest",
    storage: Mapping[str, Any] | None = None,
) -> Source:
    """Resolve what the user passed into a bounded-memory stream of record batches.

    `column_types` (column -> Arrow type) fixes how CSV columns are parsed, e.g. as the
    target table's types; `storage`: the catalog's pyiceberg properties, for s3:// and gs://."""
    if format is not None:
        if not isinstance(format, str):
            raise InvalidInput(f"format must be text, got {type(format).__name__}", hint="use csv, parquet or json")
        format = format.lower().strip()
        if format in ("ndjson", "jsonl"):
            format = "json"
        if format not in FORMATS:
            raise InvalidInput(f"unknown format {format!r}", hint="use csv, parquet or json")
    if isinstance(source, (str, os.PathLike)) or (
        isinstance(source, (list, tuple)) and source and all(isinstance(s, (str, os.PathLike)) for s in source)
    ):
        return _files_source(resolve_files(source, format, storage), column_types)
    src = open_object(source)
    if src is not None:
        return src
    raise InvalidInput(
        f"cannot {verb} a {type(source).__name__}",
        hint="pass a path, glob, URL, pandas/polars DataFrame, Arrow table, record-batch reader or query result",
    )

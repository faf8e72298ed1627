"""Ingest sources: anything a user can point at, as one stream of Arrow record batches.

`open_source()` accepts local paths, globs, directories, file:// s3:// gs:// URLs (through
pyarrow.fs) and CSV / Parquet / JSON arrays / NDJSON files; in-kernel objects (DataFrames,
Arrow, query results) it hands to io/objects.py. Files are read lazily, one block at a time, so
memory stays bounded whatever their size. Errors name the file (and line, where the
reader can tell) and are lakelab.errors.* so the user sees one clear line.
"""

from __future__ import annotations

import fnmatch
import glob as globlib
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.fs as pafs
import pyarrow.json as pajson
import pyarrow.parquet as pq

from lakelab.config import redact
from lakelab.errors import InvalidInput, NotFound, Unavailable
from lakelab.io.filesystems import filesystem
from lakelab.io.objects import MEMORY_BATCH, Source, open_object

__all__ = ["FORMATS", "Source", "open_source", "resolve_files"]

FORMATS = ("csv", "parquet", "json")
_EXT = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".ndjson": "json",
    ".jsonl": "json",
}
_COMPRESSED = (".gz", ".bz2", ".zst", ".lz4")
CSV_BLOCK = 8 << 20  # bytes per CSV/JSON block: one record batch each
PARQUET_BATCH = 262_144  # rows per Parquet record batch
ROW_GROUP_BYTES = 256 << 20  # larger row groups are read in slices


@dataclass
class SourceFile:
    fs: pafs.FileSystem
    path: str  # path inside fs
    uri: str  # what the user and the lineage see
    size: int
    format: str

    @property
    def name(self) -> str:
        return self.uri.rsplit("/", 1)[-1]


# -- resolution: what files does the user mean? ------------------------------------------
def _is_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


def _format_of(path: str, format: str | None) -> str | None:
    if format:
        return format
    low = path.lower()
    for comp in _COMPRESSED:
        if low.endswith(comp):
            low = low[: -len(comp)]
    return _EXT.get(os.path.splitext(low)[1])


def _hidden(path: str) -> bool:
    return os.path.basename(path).startswith((".", "_"))  # _SUCCESS, .crc, ...


def _fs_for(uri: str, storage: Mapping[str, Any] | None = None) -> tuple[pafs.FileSystem, str, str]:
    """(filesystem, path in it, URI prefix) for a path or URL; object stores are reached with
    the catalog's pyiceberg properties (`storage`), as the catalog's own FileIO reaches them."""
    if "://" not in uri:
        return pafs.LocalFileSystem(), os.path.abspath(os.path.expanduser(uri)), "file://"
    scheme = uri.split("://", 1)[0].lower()
    if scheme == "file":
        return pafs.LocalFileSystem(), uri[len("file://") :], "file://"
    base = uri.split("*", 1)[0].split("?", 1)[0] if _is_glob(uri) else uri.split("?", 1)[0]
    try:
        fs, path = filesystem(base, storage)
    except (ValueError, pa.ArrowInvalid, pa.ArrowNotImplementedError) as e:
        raise InvalidInput(
            f"cannot open {safe_uri(uri)!r}: {redact(str(e))}",
            hint="use a local path or an s3://, gs:// or file:// URL",
        ) from None
    except OSError as e:
        raise Unavailable(f"cannot reach {safe_uri(uri)!r}: {redact(str(e))}") from None
    if _is_glob(uri):  # the pattern part is matched by _list
        path = uri.split("://", 1)[1]
    return fs, path, f"{scheme}://"


def safe_uri(uri: str) -> str:
    """A URI fit to show and record: no password in it, no query string (it may hold keys)."""
    if "://" not in uri:
        return uri
    return redact(uri.split("?", 1)[0])


def _list(fs: pafs.FileSystem, path: str, text: str) -> list[pafs.FileInfo]:
    infos: list[pafs.FileInfo]
    if _is_glob(path):
        parts = path.split("/")
        base_parts = []
        for p in parts:
            if _is_glob(p):
                break
            base_parts.append(p)
        base = "/".join(base_parts) or "/"
        if isinstance(fs, pafs.LocalFileSystem):
            matches = sorted(globlib.glob(path, recursive=True))
            infos = [i for i in fs.get_file_info(matches) if i.type == pafs.FileType.File]
        else:
            sel = pafs.FileSelector(base, recursive=True, allow_not_found=True)
            infos = [i for i in fs.get_file_info(sel) if i.type == pafs.FileType.File and fnmatch.fnmatch(i.path, path)]
        if not infos:
            raise NotFound(f"no files match {text!r}", hint="check the pattern and the folder")
    else:
        info = fs.get_file_info(path)
        if info.type == pafs.FileType.NotFound:
            raise NotFound(f"no such file or directory: {text}", hint="check the path")
        if info.type == pafs.FileType.Directory:
            sel = pafs.FileSelector(path, recursive=True)
            infos = sorted(
                (i for i in fs.get_file_info(sel) if i.type == pafs.FileType.File and not _hidden(i.path)),
                key=lambda i: i.path,
            )
            if not infos:
                raise NotFound(f"directory {text} has no data files")
        else:
            infos = [info]
    return infos


def resolve_files(
    spec: str | os.PathLike | list | tuple, format: str | None = None, storage: Mapping[str, Any] | None = None
) -> list[SourceFile]:
    """Expand a path, glob, directory or URL (or a list of them) into files with formats.
    `storage`: pyiceberg properties for object-store URLs (the catalog's)."""
    if isinstance(spec, (list, tuple)):
        out: list[SourceFile] = []
        for s in spec:
            out.extend(resolve_files(s, format, storage))
        if not out:
            raise InvalidInput("the list of sources is empty")
        return out
    raw = os.fspath(spec)
    text = safe_uri(raw)  # what messages and lineage show
    fs, path, prefix = _fs_for(raw, storage)
    try:
        infos = _list(fs, path, text)
    except OSError as e:  # an object store that cannot be reached or refuses us
        raise Unavailable(
            f"cannot reach {text!r}: {str(e).splitlines()[0][:300]}",
            hint="check the URL, the network and the credentials",
        ) from None
    files = []
    for i in infos:
        fmt = _format_of(i.path, format)
        if fmt is None:
            raise InvalidInput(
                f"cannot tell the format of {i.path!r} from its name",
                hint="pass format='csv', 'parquet' or 'json' (--format)",
            )
        uri = prefix + (i.path if i.path.startswith("/") or prefix != "file://" else "/" + i.path)
        files.append(SourceFile(fs, i.path, uri, i.size or 0, fmt))
    kinds = {f.format for f in files}
    if len(kinds) > 1:
        raise InvalidInput(
            f"{text!r} mixes formats ({', '.join(sorted(kinds))})",
            hint="point at one format at a time, or pass format=",
        )
    return files


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


MAX_JSON_DEPTH = 128  # as DuckDB's JSON reader (used for JSON arrays)
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"{}[]\n")
_BRACKET_STEP = np.zeros(256, np.int64)
_BRACKET_STEP[[0x7B, 0x5B]] = 1
_BRACKET_STEP[[0x7D, 0x5D]] = -1


def _json_depth(line: bytes, depth: int = 0) -> int:
    """The deepest nesting in one JSON text (brackets inside strings do not count)."""
    deepest, in_string, escaped = depth, False, False
    for c in line:
        if in_string:
            if escaped:
                escaped = False
            elif c == 0x5C:  # backslash
                escaped = True
            elif c == 0x22:
                in_string = False
        elif c == 0x22:
            in_string = True
        elif c in (0x7B, 0x5B):
            depth += 1
            deepest = max(deepest, depth)
        elif c in (0x7D, 0x5D):
            depth -= 1
    return deepest


class DepthGuard:
    """A stream wrapper refusing NDJSON nested deeper than MAX_JSON_DEPTH before pyarrow's
    recursive parser sees it: a few thousand levels crash the whole process (segfault).
    Each block is reduced to its brackets and newlines at C speed; only a line whose
    brackets could reach the limit is checked exactly (so brackets inside strings pass)."""

    def __init__(self, raw: Any, uri: str):
        self.raw, self.uri, self.carry = raw, uri, 0  # carry: open brackets of a line cut by the block end
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n)
        brackets = np.frombuffer(data.translate(None, _NOT_BRACKETS), np.uint8)
        if not len(brackets):
            return data
        depth = np.cumsum(_BRACKET_STEP[brackets])  # running bracket balance over the block
        # the balance within each line: minus the balance at the line's newline (or plus the
        # carry from the previous block, before the first newline)
        newline = np.where(brackets == 0x0A, np.arange(len(brackets)), -1)
        last = np.maximum.accumulate(newline)
        line_depth = depth - np.where(last >= 0, depth[np.maximum(last, 0)], -self.carry)
        if line_depth.max() > MAX_JSON_DEPTH:
            self._check(data)
        self.carry = max(0, int(line_depth[-1]))
        return data

    def _check(self, data: bytes) -> None:
        lines = data.split(b"\n")
        for i, line in enumerate(lines):
            start = self.carry if i == 0 else 0
            b = line.translate(None, _NOT_BRACKETS)
            opened = b.count(b"{") + b.count(b"[")
            if start + opened > MAX_JSON_DEPTH and _json_depth(line, start) > MAX_JSON_DEPTH:
                raise InvalidInput(
                    f"{self.uri} nests objects or arrays more than {MAX_JSON_DEPTH} levels deep",
                    hint="flatten the data, or load it as Parquet",
                )

    def close(self) -> None:
        self.closed = True
        self.raw.close()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False


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

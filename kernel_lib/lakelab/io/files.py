"""Which files a user means: paths, globs, directories and file:// s3:// gs:// URLs resolved
to a list of files with their format, through the catalog's storage settings."""

from __future__ import annotations

import fnmatch
import glob as globlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs

from lakelab.config import redact
from lakelab.errors import InvalidInput, NotFound, Unavailable
from lakelab.io.filesystems import filesystem

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

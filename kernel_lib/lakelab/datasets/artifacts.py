"""Model and report datasets: an Iceberg table of versions whose artifact files live in the
warehouse under the table's location (<location>/artifacts/v<N>-<token>/<file>).

Each publish writes the artifact through the table's FileIO (local paths and object stores
alike), hashing it while it streams, then appends ONE version row with its lineage in ONE
commit. If anything fails before or during the commit the artifact is deleted again, so a
failed publish leaves neither a row nor a file. Loading verifies the sha256 and only reads
URIs under the dataset's own artifacts folder: a model is a pickle, and loading a pickle runs
code, so lakelab never unpickles anything from outside the configured warehouse."""

from __future__ import annotations

import hashlib
import io as _io
import json
import os
import re
import sys
import tarfile
import tempfile
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import urlparse

import pyarrow as pa

from lakelab.catalog import metadata as md
from lakelab.datasets.models import Version, Versions
from lakelab.errors import Conflict, InvalidInput, NotFound

if TYPE_CHECKING:
    from pyiceberg.io import FileIO

    from lakelab.datasets.dataset import Dataset
    from lakelab.lakehouse import Lakehouse

ARTIFACT_KINDS = ("model", "report", "dashboard")
ARTIFACTS_DIR = "artifacts"
NO_RETRY = ("commit.retry.num-retries", "0")
CHUNK = 1 << 20
VERSION_SCHEMA = pa.schema(
    [
        pa.field("version", pa.int32(), nullable=False),
        pa.field("uri", pa.string(), nullable=False),
        pa.field("sha256", pa.string(), nullable=False),
        pa.field("bytes", pa.int64(), nullable=False),
        pa.field("created_at", pa.timestamp("us", tz="UTC"), nullable=False),
        pa.field("created_by", pa.string(), nullable=False),
        pa.field("metadata", pa.string(), nullable=False),  # JSON: format, content type, files, libraries, inputs
    ]
)
REPORT_SUFFIXES = {".ipynb", ".html", ".htm", ".png", ".svg", ".jpg", ".jpeg"}
IMAGE_TYPES = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


class IntegrityError(Conflict):
    """A stored artifact does not match the checksum recorded when it was published."""

    code = "integrity_error"


# -- writing ------------------------------------------------------------------------------
class _HashingWriter:
    """A write-only file object that hashes and counts what passes through to `out`."""

    def __init__(self, out: BinaryIO):
        self._out, self.sha, self.size = out, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        view = memoryview(data).cast("B")
        self.sha.update(view)
        self.size += len(view)
        self._out.write(view)
        return len(view)

    def flush(self) -> None:
        self._out.flush()

    def tell(self) -> int:
        return self.size


class Artifact:
    """What one version stores: a file name and a function that streams its bytes."""

    def __init__(self, filename: str, write: Callable[[Any], None], meta: dict[str, Any]):
        self.filename, self.write, self.meta = filename, write, meta


def _library_versions(obj: Any) -> dict[str, str]:
    """Versions of the packages needed to load `obj`: python, joblib and obj's own package."""
    from importlib import metadata as im

    out = {"python": ".".join(map(str, sys.version_info[:3]))}
    mods = {"joblib", type(obj).__module__.split(".")[0]}
    dists = im.packages_distributions()
    for mod in sorted(mods):
        for dist in dists.get(mod, [mod]):
            try:
                out[mod if mod == dist else f"{mod} ({dist})"] = im.version(dist)
            except im.PackageNotFoundError:
                pass
    return out


def _copy_file(path: Path) -> Callable[[Any], None]:
    def write(out: Any) -> None:
        with path.open("rb") as f:
            while chunk := f.read(CHUNK):
                out.write(chunk)

    return write


def _tar_dir(path: Path) -> Callable[[Any], None]:
    def write(out: Any) -> None:
        with tarfile.open(fileobj=out, mode="w|") as tar:  # stream mode: no seeking on object stores
            tar.add(str(path), arcname=path.name)

    return write


def _existing(path_text: str | os.PathLike) -> Path:
    p = Path(path_text).expanduser()
    if not p.exists():
        raise NotFound(f"file {path_text} does not exist")
    return p.resolve()


def model_artifact(obj: Any) -> Artifact:
    """A model: a file or directory given by path, or any picklable object (joblib)."""
    if isinstance(obj, (str, os.PathLike)):
        p = _existing(obj)
        if p.is_dir():
            files = sorted(str(f.relative_to(p)) for f in p.rglob("*") if f.is_file())
            return Artifact(
                p.name + ".tar",
                _tar_dir(p),
                {"format": "directory", "content_type": "application/x-tar", "filenames": files, "source": p.as_uri()},
            )
        return Artifact(
            p.name,
            _copy_file(p),
            {"format": "file", "content_type": "application/octet-stream", "filenames": [p.name], "source": p.as_uri()},
        )
    try:
        import joblib
    except ImportError:
        raise InvalidInput("publishing Python objects as models needs joblib", hint="pip install joblib") from None

    def write(out: Any) -> None:
        joblib.dump(obj, out)

    return Artifact(
        "model.joblib",
        write,
        {
            "format": "joblib",
            "content_type": "application/x-joblib",
            "object_type": f"{type(obj).__module__}.{type(obj).__qualname__}",
            "libraries": _library_versions(obj),
        },
    )


def _html_page(title: str, body: str) -> str:
    import html

    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title></head>"
        f"<body>{body}</body></html>"
    )


def _report_html(obj: Any, title: str) -> tuple[str, dict[str, Any]]:
    """Any supported report source rendered as one self-contained HTML page (no network:
    images inline as data: URIs, plotly's JavaScript inline)."""
    import base64

    if isinstance(obj, (str, os.PathLike)):
        p = _existing(obj)
        suffix = p.suffix.lower()
        meta = {"filenames": [p.name], "source": p.as_uri()}
        if suffix == ".ipynb":
            import nbformat
            from nbconvert import HTMLExporter

            try:
                nb = nbformat.read(str(p), as_version=4)
                body, _ = HTMLExporter().from_notebook_node(nb)
            except Exception as e:  # noqa: BLE001 - nbformat/nbconvert raise many types for a bad file
                raise InvalidInput(f"cannot render notebook {obj}: {type(e).__name__}: {e}") from None
            # a report is self-contained: drop nbconvert's CDN scripts (require.js, MathJax), which
            # the sandbox's CSP blocks anyway and which a closed network cannot load
            body = re.sub(r'<script[^>]*\bsrc="https?://[^"]*"[^>]*>\s*</script>', "", body)
            return body, {**meta, "format": "notebook"}
        if suffix in (".html", ".htm"):
            return p.read_text(encoding="utf-8", errors="replace"), {**meta, "format": "html"}
        if suffix in IMAGE_TYPES:
            data = base64.b64encode(p.read_bytes()).decode()
            return _html_page(title, f"<img src='data:{IMAGE_TYPES[suffix]};base64,{data}'>"), {
                **meta,
                "format": "image",
            }
        raise InvalidInput(
            f"cannot make a report from {obj}", hint="publish an .ipynb, .html or image file, a figure or a DataFrame"
        )
    mod = type(obj).__module__.split(".")[0]
    if mod == "matplotlib" and hasattr(obj, "savefig"):
        buf = _io.BytesIO()
        obj.savefig(buf, format="png", bbox_inches="tight")
        data = base64.b64encode(buf.getvalue()).decode()
        return _html_page(title, f"<img src='data:image/png;base64,{data}'>"), {"format": "matplotlib"}
    if mod == "plotly" and hasattr(obj, "to_html"):
        return obj.to_html(include_plotlyjs=True, full_html=True), {"format": "plotly"}
    if isinstance(obj, (pa.Table, pa.RecordBatch)):
        obj = obj.to_pandas()
    elif mod == "polars":
        obj = obj.to_pandas()
    if type(obj).__module__.split(".")[0] == "pandas" and hasattr(obj, "to_html"):
        return _html_page(title, obj.to_html(max_rows=10_000)), {"format": "dataframe"}
    raise InvalidInput(
        f"cannot make a report from a {type(obj).__name__}",
        hint="publish a notebook path, an .html file, a matplotlib or plotly figure or a DataFrame",
    )


def report_artifact(obj: Any, title: str) -> Artifact:
    text, meta = _report_html(obj, title)
    data = text.encode("utf-8")
    return Artifact("report.html", lambda out: out.write(data), {**meta, "content_type": "text/html"})


def _artifact_root(location: str) -> str:
    return location.rstrip("/") + f"/{ARTIFACTS_DIR}/"


def write_artifact(fileio: FileIO, location: str, version: int, art: Artifact) -> dict[str, Any]:
    """Stream the artifact into the warehouse; returns uri, sha256 and bytes. On failure the
    partial file is removed and the error raised as InvalidInput (e.g. an unpicklable object)."""
    uri = f"{_artifact_root(location)}v{version}-{uuid.uuid4().hex[:8]}/{art.filename}"
    stream = fileio.new_output(uri).create(overwrite=False)  # the token makes it unique: never clobber
    writer = _HashingWriter(stream)  # type: ignore[arg-type]  # FileIO streams are binary files (flush too)
    try:
        try:
            art.write(writer)
        finally:
            stream.close()
    except BaseException as e:
        delete_artifact(fileio, uri)
        if not isinstance(e, Exception) or isinstance(e, NotFound):
            raise
        pickled = art.meta.get("format") == "joblib"
        raise InvalidInput(
            f"cannot store this {art.meta.get('format', 'object')} as {uri}: {type(e).__name__}: {e}",
            hint="models must be picklable (joblib.dump), or give a file or directory path" if pickled else None,
        ) from None
    return {"uri": uri, "sha256": writer.sha.hexdigest(), "bytes": writer.size}


def delete_artifact(fileio: FileIO, uri: str) -> None:
    try:
        fileio.delete(uri)
    except (OSError, FileNotFoundError):
        pass
    parsed = urlparse(uri)
    if parsed.scheme in ("", "file"):  # local warehouse: drop the now-empty version folder too
        try:
            os.rmdir(os.path.dirname(parsed.path))
        except OSError:
            pass


def version_row(version: int, written: dict[str, Any], meta: dict[str, Any]) -> pa.Table:
    row = {
        "version": [version],
        "uri": [written["uri"]],
        "sha256": [written["sha256"]],
        "bytes": [written["bytes"]],
        "created_at": [datetime.now(timezone.utc)],
        "created_by": [md.current_user()],
        "metadata": [json.dumps(meta, sort_keys=True, default=str)],
    }
    return pa.table(row, schema=VERSION_SCHEMA)


def input_lineage(lh: Lakehouse, inputs: Any) -> list[dict[str, Any]]:
    """`inputs=` as lineage upstream entries, each with the snapshot it was current at, or
    the one it names as `ns.table@SNAPSHOT_ID` (the snapshot a model was trained on)."""
    from lakelab.catalog.access import load_table

    if inputs is None:
        return []
    if not isinstance(inputs, (str, list, tuple, set)) and not hasattr(inputs, "table_name"):
        raise InvalidInput(f"inputs must be dataset names (text or a list), got {type(inputs).__name__}")
    items = [inputs] if isinstance(inputs, str) or hasattr(inputs, "table_name") else list(inputs)
    out = []
    for item in items:
        text, _, pinned = ("" if hasattr(item, "table_name") else str(item)).partition("@")
        name = item.table_name if hasattr(item, "table_name") else lh.table_name(text)
        table = load_table(lh.catalog, name)
        if pinned:
            if not pinned.strip().isdigit() or table.snapshot_by_id(int(pinned)) is None:
                raise NotFound(
                    f"dataset {name} has no snapshot {pinned.strip()[:40]}", hint="list them with .snapshots()"
                )
            out.append({"table": name.dotted, "snapshot_id": int(pinned)})
            continue
        snap = table.current_snapshot()
        out.append({"table": name.dotted, "snapshot_id": snap.snapshot_id if snap else None})
    return out


# -- reading ------------------------------------------------------------------------------
def _rows(ds: Dataset) -> list[dict[str, Any]]:
    ds.refresh()  # a Dataset held in a notebook must see versions published since it was made
    if ds.metadata["kind"] not in ARTIFACT_KINDS:
        raise InvalidInput(
            f"dataset {ds.name} is a {ds.metadata['kind']}, not a model or report",
            hint="a table's history is ds.snapshots(); read it with ds.load()",
        )
    known = {f.name for f in ds.table.schema().fields}
    if not set(VERSION_SCHEMA.names) <= known:
        raise InvalidInput(f"dataset {ds.name} is marked {ds.metadata['kind']} but is not a table of versions")
    return ds.table.scan(selected_fields=tuple(VERSION_SCHEMA.names)).to_arrow().to_pylist()


def list_versions(ds: Dataset) -> Versions:
    """Every version, oldest first, with its metadata parsed."""
    out = []
    for r in sorted(_rows(ds), key=lambda r: r["version"]):
        try:
            meta = json.loads(r["metadata"])
        except (TypeError, ValueError):
            meta = {}
        out.append(
            Version(
                version=r["version"],
                uri=r["uri"],
                sha256=r["sha256"],
                bytes=r["bytes"],
                created_at=r["created_at"],
                created_by=r["created_by"],
                metadata=meta if isinstance(meta, dict) else {},
            )
        )
    return Versions(out)


def next_version(ds: Dataset) -> int:
    return max((r["version"] for r in _rows(ds)), default=0) + 1


def get_version(ds: Dataset, version: int | str | None) -> Version:
    versions = list_versions(ds)
    if not versions:
        raise NotFound(f"dataset {ds.name} has no versions yet")
    if version is None:
        return versions[-1]
    try:
        n = int(version)
    except (TypeError, ValueError):
        raise InvalidInput(f"version must be a whole number, got {version!r}") from None
    for v in versions:
        if v.version == n:
            return v
    raise NotFound(f"dataset {ds.name} has no version {n}", hint=f"versions are 1 to {versions[-1].version}")


def _checked_uri(ds: Dataset, v: Version) -> str:
    """Refuse any URI outside this dataset's own artifacts folder (a row written by hand or
    by another tool could point anywhere; loading a pickle from there would run its code)."""
    uri, root = v.uri, _artifact_root(ds.table.location())
    if not uri.startswith(root) or "/../" in uri or "/./" in uri or "\\" in uri:
        raise IntegrityError(
            f"version {v.version} of {ds.name} points outside the dataset's warehouse "
            f"folder ({uri[:200]}); refusing to read it"
        )
    return uri


def _cache_dir(ds: Dataset, version: int) -> Path:
    return ds.lh.config.home / "cache" / "artifacts" / ds.name / f"v{version}"


def fetch_verified(ds: Dataset, v: Version) -> Path:
    """Copy the artifact into the local cache, hashing as it streams; the cached path once its
    sha256 matches the recorded one, else IntegrityError (and the copy is removed)."""
    uri = _checked_uri(ds, v)
    target = _cache_dir(ds, v.version) / uri.rsplit("/", 1)[1]
    target.parent.mkdir(parents=True, exist_ok=True)
    sha, size = hashlib.sha256(), 0
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".part-")
    try:
        try:
            src = ds.table.io.new_input(uri).open()
        except (FileNotFoundError, OSError) as e:
            raise IntegrityError(f"the artifact of version {v.version} of {ds.name} is missing ({uri}): {e}") from None
        with os.fdopen(fd, "wb") as out, src:
            while chunk := src.read(CHUNK):
                sha.update(chunk)
                size += len(chunk)
                out.write(chunk)
        if sha.hexdigest() != v.sha256 or size != v.bytes:
            raise IntegrityError(
                f"checksum mismatch in version {v.version} of {ds.name}: {uri} has changed "
                f"since it was published (sha256 {sha.hexdigest()[:12]}…, expected "
                f"{v.sha256[:12]}…)",
                hint="the artifact was modified or corrupted; publish the model/report again",
            )
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def load_version(ds: Dataset, version: int | str | None = None) -> Any:
    """A model object (joblib), the path of a file/directory artifact, or a report's HTML."""
    v = get_version(ds, version)
    path = fetch_verified(ds, v)
    fmt = v.metadata.get("format")
    if ds.metadata["kind"] in ("report", "dashboard"):  # a page of HTML
        return path.read_text(encoding="utf-8")
    if fmt == "joblib":
        import joblib

        return joblib.load(path)  # safe only because the bytes are verified and from our warehouse
    if fmt == "directory":
        import shutil

        out = path.parent / "files"
        shutil.rmtree(out, ignore_errors=True)  # always the verified bytes, never an edited earlier copy
        with tarfile.open(path) as tar:
            tar.extractall(out, filter="data")  # "data": no absolute paths, links out, devices
        return out / path.stem
    return path


def report_html(ds: Dataset, version: int | str | None = None) -> str:
    if ds.metadata["kind"] != "report":
        raise InvalidInput(f"dataset {ds.name} is a {ds.metadata['kind']}, not a report")
    return load_version(ds, version)

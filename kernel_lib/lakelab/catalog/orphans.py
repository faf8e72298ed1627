"""Orphan files: files under a table's location that no version of the table refers to.

A writer killed mid-write (kill -9, a lost machine) leaves its Parquet files, manifests or a
new metadata file behind without committing them; nothing reads them, but they take space.
`find_orphans` lists every file under the table location and subtracts everything any
snapshot can still reach: the current and previous metadata files (metadata log), every
snapshot's manifest list, manifests and the data and delete files in them (entries of any
status, so time travel keeps working), statistics files, and for model/report datasets the
artifact files their version rows point at. Files younger than `older_than_minutes` are
kept: they may belong to a write that is still running. `delete_orphans` removes only what
the listing found, and only under the table's own location.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import pyarrow.fs as pafs
from pyiceberg.table import Table

from lakelab.catalog.access import load_table
from lakelab.config import redact
from lakelab.errors import InvalidInput, Unavailable
from lakelab.io.filesystems import filesystem, storage_properties

if TYPE_CHECKING:
    from lakelab.lakehouse import Lakehouse

DEFAULT_MINUTES = 60  # an in-flight ingest's files are young; an hour leaves room for long writes


@dataclass
class OrphanReport:
    table: str
    location: str
    files: list[tuple[str, int]] = field(default_factory=list)  # (path, bytes)
    referenced: int = 0
    kept_young: int = 0
    deleted: bool = False

    @property
    def count(self) -> int:
        return len(self.files)

    @property
    def bytes(self) -> int:
        return sum(b for _, b in self.files)

    def __repr__(self) -> str:
        verb = "removed" if self.deleted else "found"
        head = (
            f"orphans {self.table}: {verb} {self.count} file{'s' if self.count != 1 else ''} "
            f"({self.bytes:,} bytes); {self.referenced} referenced, {self.kept_young} too young to judge"
        )
        return "\n".join([head] + [f"  {p} ({b:,} bytes)" for p, b in self.files])


def _key(path: str) -> str:
    """A comparable form of a path or URI (file:///x, file:/x and /x are the same file)."""
    u = urlparse(path)
    if u.scheme in ("", "file"):
        return u.path.rstrip("/") if u.path != "/" else "/"
    return f"{u.scheme}://{u.netloc}{u.path}".rstrip("/")


def referenced_files(table: Table) -> set[str]:
    """Every file some version of `table` needs, as `_key`s."""
    md, io = table.metadata, table.io
    refs = {_key(table.metadata_location)} if table.metadata_location else set()
    refs |= {_key(e.metadata_file) for e in md.metadata_log}
    refs |= {_key(s.statistics_path) for s in md.statistics}
    refs |= {_key(s.statistics_path) for s in getattr(md, "partition_statistics", [])}
    seen_manifests: set[str] = set()
    for snap in md.snapshots:
        if snap.manifest_list:
            refs.add(_key(snap.manifest_list))
        for m in snap.manifests(io):
            if m.manifest_path in seen_manifests:
                continue
            seen_manifests.add(m.manifest_path)
            refs.add(_key(m.manifest_path))
            for entry in m.fetch_manifest_entry(io, discard_deleted=False):
                refs.add(_key(entry.data_file.file_path))
    if "uri" in {f.name for f in md.schema().fields}:  # model/report versions point at artifact files
        for snap in md.snapshots:
            rows = table.scan(snapshot_id=snap.snapshot_id, selected_fields=("uri",)).to_arrow()
            refs |= {_key(u) for u in rows.column("uri").to_pylist() if isinstance(u, str)}
    return refs


def _listing(location: str, storage: dict[str, Any] | None = None) -> tuple[pafs.FileSystem, str, list[pafs.FileInfo]]:
    """Every file under `location`, reached with the table's FileIO properties (`storage`)."""
    try:
        fs, root = filesystem(location, storage)
        infos = fs.get_file_info(pafs.FileSelector(root, recursive=True, allow_not_found=True))
    except OSError as e:
        raise Unavailable(
            f"cannot list {location}: {redact(str(e).splitlines()[0][:300])}",
            hint="check that the object store is running and reachable (`lakelab doctor`)",
        ) from None
    return fs, root.rstrip("/"), [i for i in infos if i.type == pafs.FileType.File]


def find_orphans(lh: Lakehouse, table: str, *, older_than_minutes: float = DEFAULT_MINUTES) -> OrphanReport:
    if older_than_minutes < 0:
        raise InvalidInput("--older-than-minutes must be 0 or more")
    name = lh.table_name(table)
    tbl = load_table(lh.catalog, name)
    location = tbl.location().rstrip("/")
    refs = referenced_files(tbl)
    _, _, infos = _listing(location, storage_properties(tbl))
    scheme = urlparse(location).scheme
    cutoff = time.time() - older_than_minutes * 60
    report = OrphanReport(table=name.dotted, location=location)
    for info in sorted(infos, key=lambda i: i.path):
        uri = info.path if scheme in ("", "file") else f"{scheme}://{info.path}"
        if _key(uri) in refs:
            report.referenced += 1
        elif info.mtime is not None and info.mtime.timestamp() > cutoff:
            report.kept_young += 1
        else:
            report.files.append((info.path, info.size or 0))
    return report


def delete_orphans(lh: Lakehouse, table: str, *, older_than_minutes: float = DEFAULT_MINUTES) -> OrphanReport:
    """Find and delete the orphans of `table`; the report lists what was removed."""
    report = find_orphans(lh, table, older_than_minutes=older_than_minutes)
    fs, root = filesystem(report.location, storage_properties(load_table(lh.catalog, lh.table_name(table))))
    root = root.rstrip("/")
    for path, _ in report.files:
        # a listing only yields paths under root; checked again so no bug can reach outside it
        if not path.startswith(root + "/") or "/../" in path:
            raise InvalidInput(f"refusing to delete {path}: outside the table location {root}")
        try:
            fs.delete_file(path)
        except FileNotFoundError:
            pass  # removed meanwhile: the goal is reached
    report.deleted = True
    return report


def stray_folders(
    lh: Lakehouse, *, older_than_minutes: float = DEFAULT_MINUTES, delete: bool = False
) -> list[OrphanReport]:
    """Folders left by a create that never committed (a killed CREATE TABLE AS or first ingest):
    siblings of existing table locations that look like a table (only data/ and metadata/
    inside) but are no table's location. Only files older than the cutoff count; a folder
    with any young file is left alone (its create may still be running)."""
    locations = {_key(lh.catalog.load_table(tuple(n.split("."))).location()) for n in table_names(lh)}
    reports = []
    for parent in sorted({loc.rsplit("/", 1)[0] for loc in locations if "://" not in loc}):  # local warehouses
        fs = pafs.LocalFileSystem()
        for d in fs.get_file_info(pafs.FileSelector(parent, allow_not_found=True)):
            if d.type != pafs.FileType.Directory or _key(d.path) in locations:
                continue
            kids = {k.base_name for k in fs.get_file_info(pafs.FileSelector(d.path))}
            if not kids or not kids <= {"data", "metadata"}:
                continue  # not the shape of a table folder: not ours to judge
            _, _root, infos = _listing(d.path)
            cutoff = time.time() - older_than_minutes * 60
            if any(i.mtime is not None and i.mtime.timestamp() > cutoff for i in infos):
                continue
            report = OrphanReport(
                table=f"(no table at {d.path})",
                location=d.path,
                files=[(i.path, i.size or 0) for i in sorted(infos, key=lambda i: i.path)],
            )
            if delete:
                fs.delete_dir(d.path)
                report.deleted = True
            reports.append(report)
    return reports


def table_names(lh: Lakehouse) -> list[str]:
    """Every table in every namespace (the default for `lakelab orphans` without names)."""
    cat: Any = lh.catalog
    out: list[str] = []
    todo = [tuple(ns) for ns in cat.list_namespaces()]
    while todo:
        ns = todo.pop()
        out += [".".join(t) for t in cat.list_tables(ns)]
        todo += [tuple(c) for c in cat.list_namespaces(ns) if tuple(c) != ns]
    return sorted(set(out))

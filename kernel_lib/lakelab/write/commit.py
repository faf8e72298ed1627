"""The one write path: rows from any source -> ONE atomic Iceberg commit.

Every writer (ingest, transform and `--into`, CREATE TABLE AS / INSERT on the embedded
engine, Ray transforms, publish of tables and of model/report versions) calls `write()`:

- the source is opened once (io.sources / io.objects) and streamed: batches are fitted to
  the table's schema (types.Conformer) and written as Parquet files by files._write while
  the next ones are read. Only an upsert gathers its rows (it needs all the keys);
- a new table is created in the same commit as its first rows, table properties and
  partition spec, in nested namespaces too (made as needed);
- the snapshot summary carries the lineage; table properties given are set in that commit;
- a commit that lost a race is re-applied on the fresh table (the same files; an upsert is
  merged again) up to `retries` times, then it is a Conflict;
- a failure anywhere leaves the table as it was (no table for a create): the data files
  this write made (found by its write id) and the namespaces it created are removed.
"""

from __future__ import annotations

import dataclasses
import re
import time
import uuid
import warnings
from collections.abc import Callable, Iterable
from typing import Any, Literal, cast

import pyarrow as pa
from pyiceberg.catalog import Catalog, MetastoreCatalog
from pyiceberg.exceptions import (
    CommitFailedException,
    CommitStateUnknownException,
    NoSuchTableError,
    TableAlreadyExistsError,
    ValidationException,
)
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.io.pyarrow import UnsupportedPyArrowTypeException
from pyiceberg.manifest import DataFile
from pyiceberg.table import CreateTableTransaction, StagedTable, Table, Transaction
from pyiceberg.transforms import DayTransform, IdentityTransform, MonthTransform, YearTransform

from lakelab.catalog.access import (
    WRITE_PROPERTIES,
    catalog_failure,
    drop_namespaces,
    ensure_namespace,
    load_table,
    table_exists,
)
from lakelab.catalog.metadata import Lineage
from lakelab.config import redact
from lakelab.errors import Conflict, InvalidInput, LakelabError, NotFound, Unavailable
from lakelab.io.filesystems import is_local
from lakelab.io.objects import Source
from lakelab.io.progress import progress_bar
from lakelab.io.sources import open_source
from lakelab.lineage.openlineage import emits_runs
from lakelab.names import TableName, ident
from lakelab.write import upsert
from lakelab.write.cluster import WorkerLost, write_files
from lakelab.write.files import _remove_written, _write
from lakelab.write.report import WriteReport
from lakelab.write.types import Conformer, storable_type, table_schema

MODES = ("create", "create_if_not_exists", "append", "overwrite", "upsert")
TRANSFORMS = {"identity": IdentityTransform, "day": DayTransform, "month": MonthTransform, "year": YearTransform}
COMMIT_RETRIES = 3


@emits_runs  # OpenLineage START, then COMPLETE or FAIL (lineage/openlineage.py)
def write(
    catalog: Catalog,
    name: TableName,
    data: Any,
    *,
    mode: str,
    lineage: Lineage,
    keys: list[str] | None = None,
    partition_by: list[tuple[str, str]] | None = None,
    evolve: bool = False,
    by_position: bool = False,
    columns: list[str] | None = None,
    same_family: bool = False,
    must_exist: bool = False,
    properties: dict[str, str] | None = None,
    location: str | None = None,
    base: Table | None = None,
    retries: int = COMMIT_RETRIES,
    format: str | None = None,
    progress: bool | None = False,
    rename_hint: str | None = None,
) -> WriteReport:
    """Write `data` (a Source, or anything io.sources.open_source takes) as `name` in one commit.

    mode: create | create_if_not_exists | append | overwrite | upsert (by `keys`); all but
    create and create_if_not_exists create a missing table unless `must_exist`.
    `partition_by`: [(column, transform)] for a new table (an existing one must match).
    `evolve`: add the source's new columns to an existing table (else an error).
    `by_position`: fit columns by position, as SQL INSERT does (`columns`: INSERT's list),
    else by name; `same_family`: refuse text into a number column and the like (SQL rules).
    `properties`: table properties set in the same commit; `location`: pin a new table's
    location. `base`: the table as the caller read it, when its rows depend on that state (a
    version number): the commit applies to that state or fails. `retries`: commits
    re-applied after a lost race (1: none, as for `base`)."""
    started = time.perf_counter()
    if mode not in MODES:
        raise InvalidInput(f"unknown mode {mode!r}", hint=f"use one of {', '.join(MODES)}")
    if mode == "upsert" and not keys:
        raise InvalidInput("mode 'upsert' needs key columns", hint="pass key='id' (--key id)")
    exists = base is not None or table_exists(catalog, name)
    if exists and mode in ("create", "create_if_not_exists"):
        if mode == "create_if_not_exists":
            seconds = time.perf_counter() - started
            return WriteReport(name.dotted, mode, 0, 0, 0, None, seconds, operation=lineage.operation, created=False)
        raise Conflict(
            f"dataset {name} already exists", hint="use mode='append' or 'overwrite' (--mode append / --mode overwrite)"
        )
    if not exists and must_exist and mode in ("append", "upsert"):
        raise NotFound(f"dataset {name} does not exist", hint="create it first (mode='create' / CREATE TABLE AS)")
    existing = base if base is not None else load_table(catalog, name) if exists else None
    column_types = None
    if existing is not None:  # parse CSV text straight into the table's types
        column_types = {f.name: f.type for f in existing.schema().as_arrow() if not pa.types.is_nested(f.type)}
    src = (
        data
        if isinstance(data, Source)
        else open_source(data, format=format, column_types=column_types, storage=catalog.properties)
    )
    positional = by_position and existing is not None
    if positional:  # INSERT: the names are the table's, only the types matter
        incoming = pa.schema([pa.field(f.name, storable_type(f.type, f.name)) for f in src.schema])
    else:
        incoming, _ = table_schema(src.schema, rename_hint)
    for what, cols in (("key", keys or []), ("partition", [c for c, _ in partition_by or []])):
        for c in cols:
            if c not in incoming.names:
                raise InvalidInput(
                    f"{what} column {c!r} is not in the source", hint=f"columns: {', '.join(incoming.names)}"
                )
    if not lineage.sources:  # files or URLs; else the Python object, unless the rows have other provenance
        other = lineage.upstream or lineage.sql or lineage.code
        lineage = dataclasses.replace(lineage, sources=src.uris or ([] if other else [f"python:{src.label}"]))
    summary = lineage.summary()
    props = dict(properties or {})

    def reopen(table: Table) -> Transaction:
        """A transaction on `table` with this write's schema changes and properties staged."""
        tx = table.transaction()
        if not positional:
            _evolve(tx, incoming, evolve, name.dotted)
        if props:
            tx.set_properties(props)
        return tx

    write_uuid = uuid.uuid4()
    created_ns: list[tuple[str, ...]] = []
    tx: Transaction | None = None
    bar = progress_bar(progress, src.total_rows, f"{lineage.operation} {name.dotted}")
    updated: int | None = None
    files: list[DataFile] = []
    writers: list[str] = []
    rows = 0
    snapshot_id: int | None = None
    files_done: list[DataFile] | None = None
    created_apart = False
    rows_done = 0
    try:
        if existing is None:
            created_ns = ensure_namespace(catalog, name.namespace)
            if _creates_apart(catalog):
                # the table first, empty; the rows in the next commit; dropped again on failure
                new = catalog.create_table(
                    name.identifier, schema=incoming, location=location, properties={**WRITE_PROPERTIES, **props}
                )
                created_apart = True
                tx = new.transaction()
            else:
                tx = _create_transaction(catalog, name, incoming, location, {**WRITE_PROPERTIES, **props})
            _add_partitions(tx, partition_by or [])
        else:
            _check_partitions(existing, partition_by or [], name.dotted)
            tx = reopen(existing)
        target = tx.table_metadata.schema().as_arrow()
        where = src.label or "the data"
        conform = Conformer(target, _fit(src.schema, target, positional, columns), where, same_family)
        if mode == "upsert" and existing is not None:
            rows_table = upsert.gather(src, conform, keys or [], bar)
            rows = rows_table.num_rows
            # `files` holds the staged files while the commit is sent: if its answer is lost,
            # they are what tells whether it landed (below)
            snapshot_id, updated = _commit_upsert(
                tx, rows_table, keys or [], summary, write_uuid, reopen, catalog, name, retries, files
            )
        else:
            if src.cluster is not None:  # a Ray dataset: its files are written on the cluster
                files, rows, writers = write_files(tx, name.dotted, src, conform, write_uuid, bar)
            else:
                files, rows = _write(tx, src, conform, write_uuid, bar)
            replace = mode == "overwrite" and existing is not None
            snapshot_id = _commit_files(tx, files, replace, summary, reopen, catalog, name, retries)
    except BaseException as e:
        if tx is not None and files and _outcome_unknown(e):
            # the catalog may have applied the commit: deleting its files could break the table
            found = _find_commit(catalog, name, files)
            if found is _UNKNOWN:
                raise Unavailable(
                    f"the catalog did not answer while {_gerund(lineage.operation)} {name.dotted}: the commit may or "
                    "may not have happened, and the catalog cannot be reached to tell",
                    hint=f"when it is back, look at lh.dataset({name.dotted!r}).snapshots(); if the write is not "
                    "there, run it again (`lakelab orphans` lists the files it left)",
                ) from None
            if isinstance(found, int):  # it did: the write succeeded, only its answer was lost
                snapshot_id, files_done, rows_done = found, files, rows
        if files_done is None:
            if created_apart:
                _drop_quietly(catalog, name)
            # a lost Ray worker's write keeps its files for `lakelab orphans` (write/cluster.py)
            keep = isinstance(e, WorkerLost)
            left = _clean_up(tx, write_uuid, existing is None) if tx is not None and not keep else None
            drop_namespaces(catalog, created_ns)
            if not isinstance(e, Exception):
                if left:
                    warnings.warn(f"{name.dotted}: {left}", stacklevel=2)
                raise
            location = tx.table_metadata.location if tx is not None else None
            err = e if isinstance(e, LakelabError) else _pyiceberg_error(e, name.dotted, lineage.operation, location)
            if left:
                err = _with_note(err, left)
            if err is e:
                raise
            raise err from None
        files, rows = files_done, rows_done
    finally:
        if bar is not None:
            bar.close()
    return WriteReport(
        table=name.dotted,
        mode=mode,
        rows=rows,
        files=len(files),
        bytes=sum(f.file_size_in_bytes for f in files),
        snapshot_id=snapshot_id,
        seconds=time.perf_counter() - started,
        sources=src.uris,
        rows_updated=updated,
        rows_inserted=None if updated is None else rows - updated,
        operation=lineage.operation,
        writers=writers,
    )


# -- creating ------------------------------------------------------------------------------
def _create_transaction(
    catalog: Catalog, name: TableName, schema: pa.Schema, location: str | None, properties: dict[str, str]
) -> Transaction:
    """The transaction that creates `name` with its first commit. pyiceberg 0.12's metastore
    catalogs (SqlCatalog) stage a new table as (database, table) only, refusing nested
    namespaces; their commit itself takes any depth, so a nested name is staged here the
    same way with its full identifier."""
    if len(name.namespace) == 1 or not isinstance(catalog, MetastoreCatalog):
        return catalog.create_table_transaction(
            name.identifier, schema=schema, location=location, properties=properties
        )
    from pyiceberg.partitioning import UNPARTITIONED_PARTITION_SPEC
    from pyiceberg.table import TableProperties
    from pyiceberg.table.locations import load_location_provider
    from pyiceberg.table.metadata import new_table_metadata
    from pyiceberg.table.sorting import UNSORTED_SORT_ORDER

    version = int(properties.get(TableProperties.FORMAT_VERSION, TableProperties.DEFAULT_FORMAT_VERSION))
    iceberg_schema = catalog._convert_schema_if_needed(schema, cast(Literal[1, 2, 3], version))
    location = catalog._resolve_table_location(location, Catalog.namespace_to_string(name.namespace), name.name)
    metadata_location = load_location_provider(location, properties).new_table_metadata_file_location()
    metadata = new_table_metadata(
        location=location,
        schema=iceberg_schema,
        partition_spec=UNPARTITIONED_PARTITION_SPEC,
        sort_order=UNSORTED_SORT_ORDER,
        properties=properties,
    )
    io = catalog._load_file_io(properties=properties, location=metadata_location)
    staged = StagedTable(
        identifier=name.identifier, metadata=metadata, metadata_location=metadata_location, io=io, catalog=catalog
    )
    return CreateTableTransaction(staged)


def _creates_apart(catalog: Catalog) -> bool:
    """Whether a new table must be created before its first rows are committed. Nessie (0.99)
    rejects the create transaction pyiceberg 0.12 sends (its AddSchema update has no
    last-column-id: HTTP 500), but takes a plain create. Nessie says who it is in the REST
    config pyiceberg merges into the catalog's properties (`nessie.*` keys)."""
    return not isinstance(catalog, MetastoreCatalog) and any(str(k).startswith("nessie.") for k in catalog.properties)


def _drop_quietly(catalog: Catalog, name: TableName) -> None:
    """Drop a table this write created apart from its rows (the write failed)."""
    try:
        catalog.drop_table(name.identifier)
    except NoSuchTableError:
        pass


def parse_partition_by(spec: str | Iterable[str] | None) -> list[tuple[str, str]]:
    """'region, day(ts)' -> [('region', 'identity'), ('ts', 'day')]."""
    if spec is None:
        return []
    if not isinstance(spec, (str, list, tuple)):
        raise InvalidInput(f"partition_by must be text like 'region,day(ts)' or a list, got {type(spec).__name__}")
    # commas inside parentheses belong to a transform's arguments: bucket(16, id) is one item
    items = [p for p in (re.split(r",(?![^()]*\))", spec) if isinstance(spec, str) else list(spec)) if str(p).strip()]
    out = []
    for item in items:
        text = str(item).strip()
        m = re.fullmatch(r"(\w+)\s*\(\s*([^()]*?)\s*\)", text)
        transform, col = (m.group(1).lower(), m.group(2)) if m else ("identity", text)
        if transform not in TRANSFORMS:
            raise InvalidInput(
                f"unknown partition transform {transform!r} in {text!r}",
                hint="use col, day(col), month(col) or year(col)",
            )
        out.append((ident(col, "partition column"), transform))
    if not out:
        raise InvalidInput("partition_by is empty")
    return out


def _add_partitions(tx: Transaction, parts: list[tuple[str, str]]) -> None:
    if not parts:
        return
    with tx.update_spec() as spec:
        for col, transform in parts:
            spec.add_field(col, TRANSFORMS[transform](), None if transform == "identity" else f"{col}_{transform}")


def _check_partitions(table: Table, parts: list[tuple[str, str]], name: str) -> None:
    if not parts:
        return
    schema = table.schema()
    current = [
        (str(schema.find_column_name(f.source_id)), str(f.transform).split("[")[0].lower()) for f in table.spec().fields
    ]
    if current != parts:
        have = ", ".join(c if t == "identity" else f"{t}({c})" for c, t in current) or "nothing"
        raise InvalidInput(
            f"dataset {name} is partitioned by {have}",
            hint="partition_by applies when a dataset is created; leave it out to use the table's own",
        )


# -- fitting the source to the table -----------------------------------------------------------
def _evolve(tx: Transaction, incoming: pa.Schema, evolve: bool, name: str) -> None:
    have = {f.name.lower() for f in tx.table_metadata.schema().fields}
    new = [f for f in incoming if f.name not in have]
    if not new:
        return
    if not evolve:
        cols = ", ".join(f.name for f in new)
        raise InvalidInput(
            f"the source has columns that {name} does not: {cols}",
            hint="pass evolve=True (--evolve) to add them, or drop them from the source",
        )
    with tx.update_schema() as upd:
        upd.union_by_name(pa.schema(new))


def _fit(source: pa.Schema, target: pa.Schema, positional: bool, columns: list[str] | None) -> list[int | None]:
    """For each target column, the source column that fills it (None: nulls). By name (the
    source's names folded as the table stores them) or, for SQL INSERT, by position into
    `columns` (default: all of the table's, in order)."""
    if not positional:
        index = {n.strip().lower(): i for i, n in enumerate(source.names)}
        return [index.get(f.name) for f in target]
    cols = columns or target.names
    unknown = [c for c in cols if c not in target.names]
    if unknown:
        raise InvalidInput(
            f"INSERT names columns the target table does not have: {', '.join(unknown)}",
            hint=f"it has {', '.join(target.names)}",
        )
    dup = sorted({c for c in cols if cols.count(c) > 1})
    if dup:
        raise InvalidInput(f"INSERT names column {dup[0]} twice")
    if len(cols) != len(source):
        raise InvalidInput(f"the query returns {len(source)} columns but {len(cols)} are inserted")
    return [cols.index(f.name) if f.name in cols else None for f in target]


# -- committing ------------------------------------------------------------------------------
def _commit_files(
    tx: Transaction,
    files: list[DataFile],
    replace: bool,
    summary: dict[str, str],
    reopen: Callable[[Table], Transaction],
    catalog: Catalog,
    name: TableName,
    retries: int,
) -> int | None:
    """Add `files` (replacing every row when `replace`) in one commit; a commit that lost a
    race is re-applied with the same files on the fresh table."""
    for attempt in range(max(1, retries)):
        if replace:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # "did not match any records" on an empty table
                tx.delete(AlwaysTrue(), snapshot_properties=summary)
        with tx.update_snapshot(snapshot_properties=summary).fast_append() as app:
            for f in files:
                app.append_data_file(f)
        try:
            snap = tx.commit_transaction().current_snapshot()
            return snap.snapshot_id if snap else None
        except (CommitFailedException, ValidationException):  # validation: an overwrite saw new files
            if isinstance(tx, CreateTableTransaction) or attempt >= retries - 1:
                raise
            tx = reopen(catalog.load_table(name.identifier))
    raise AssertionError("unreachable")


def _commit_upsert(
    tx: Transaction,
    data: pa.Table,
    keys: list[str],
    summary: dict[str, str],
    write_uuid: uuid.UUID,
    reopen: Callable[[Table], Transaction],
    catalog: Catalog,
    name: TableName,
    retries: int,
    files: list[DataFile],
) -> tuple[int | None, int]:
    """Stage and commit the upsert, leaving the files of the attempt sent in `files`; when
    another writer committed first, pyiceberg refuses (its files may hold our keys), so the
    merge is redone on the fresh table: what a serial run does."""
    for attempt in range(max(1, retries)):
        files[:], updated = upsert.stage(tx, data, keys, summary, write_uuid)
        try:
            snap = tx.commit_transaction().current_snapshot()
            return (snap.snapshot_id if snap else None), updated
        except (CommitFailedException, ValidationException):
            if attempt >= retries - 1:
                raise
            _remove_written(tx.table_metadata.location, write_uuid, storage=dict(tx._table.io.properties))
            files.clear()
            tx = reopen(catalog.load_table(name.identifier))
    raise AssertionError("unreachable")


_UNKNOWN = object()


def _outcome_unknown(e: BaseException) -> bool:
    """A commit whose answer was lost: the catalog may or may not have applied it."""
    import requests

    return isinstance(e, (CommitStateUnknownException, requests.ConnectionError, requests.Timeout))


def _find_commit(catalog: Catalog, name: TableName, files: list[DataFile], wait_s: float = 30.0) -> Any:
    """The snapshot that added `files` to `name`; None when none did; `_UNKNOWN` when that
    cannot be told: the catalog stays away for `wait_s` (it may be restarting), or the
    write added no file to look for."""
    paths = {f.file_path for f in files}
    deadline = time.monotonic() + wait_s
    while True:
        try:
            table = catalog.load_table(name.identifier)
            break
        except NoSuchTableError:
            return None
        except Exception:  # noqa: BLE001 - the catalog is still away: ask again until the deadline
            if time.monotonic() > deadline:
                return _UNKNOWN
            time.sleep(1.0)
    if not paths:
        return _UNKNOWN
    for snap in list(table.snapshots())[-10:][::-1]:  # ours, if any, is among the newest
        for m in snap.manifests(table.io):
            if m.added_snapshot_id != snap.snapshot_id:
                continue
            if any(e.data_file.file_path in paths for e in m.fetch_manifest_entry(table.io)):
                return snap.snapshot_id
    return None


def _clean_up(tx: Transaction, write_uuid: uuid.UUID, new_table: bool) -> str | None:
    """Remove this write's data files; a sentence saying what was left behind when that fails."""
    location = tx.table_metadata.location
    try:
        _remove_written(location, write_uuid, new_table=new_table, storage=dict(tx._table.io.properties))
    except OSError as e:
        return (
            f"the data files it wrote under {location} could not be removed "
            f"({redact(str(e).splitlines()[0][:200])}); `lakelab orphans --delete` removes them once the store is back"
        )
    return None


def _with_note(err: Exception, note: str) -> Exception:
    if isinstance(err, LakelabError):
        err.message = f"{err.message}; {note}"
        err.args = (err.message if not err.hint else f"{err.message} ({err.hint})",)
    else:
        err.add_note(note)
    return err


def _gerund(operation: str) -> str:
    return operation[:-1] + "ing" if operation.endswith("e") else operation + "ing"


def _pyiceberg_error(e: Exception, table: str, operation: str, location: str | None = None) -> Exception:
    """pyiceberg's and Arrow's errors as the user's one line; anything else unchanged."""
    import requests

    msg = redact(str(e).splitlines()[0]) if str(e) else type(e).__name__
    again = f"run the {operation} again"
    if isinstance(e, TableAlreadyExistsError):
        return Conflict(
            f"dataset {table} was created by another writer while {_gerund(operation)}; nothing was written",
            hint=again,
        )
    if isinstance(e, CommitFailedException):
        return Conflict(
            f"dataset {table} changed while {_gerund(operation)}: another writer changed it first ({msg})", hint=again
        )
    if isinstance(e, ValidationException):  # pyiceberg's retry found the other writer's files in our rows
        return Conflict(
            f"dataset {table} changed while {_gerund(operation)}: another writer changed it first (its new "
            "files overlap the rows this upsert or overwrite replaces); nothing was written",
            hint=again,
        )
    if isinstance(e, OSError) and not isinstance(e, FileNotFoundError) and location and not is_local(location):
        return Unavailable(
            f"cannot write {table}: the object store failed ({msg}); nothing was committed",
            hint=f"check that the store is running (`lakelab doctor`), then {again}",
        )
    if isinstance(e, (requests.ConnectionError, requests.Timeout)):
        return Unavailable(
            f"cannot write {table}: the catalog cannot be reached ({msg}); nothing was committed", hint=again
        )
    failed = catalog_failure(e)
    if failed is not None:
        return type(failed)(f"cannot write {table}: {failed.message}; nothing was committed", hint=failed.hint)
    if isinstance(e, (ValueError, TypeError, pa.ArrowException, OSError, UnsupportedPyArrowTypeException)):
        return InvalidInput(f"cannot write {table}: {msg}")
    return e

"""A small search index over the catalog, so search and listing stay fast on 10,000 datasets.

Loading every table's metadata per search is far too slow, so each dataset's searchable
facts (metadata properties, column names, stats, upstream tables) are kept in a SQLite
file under $LAKELAB_HOME/index/, one per catalog. The index is keyed by each table's
metadata location: a refresh lists (name, metadata_location) pairs from the catalog -
for a SqlCatalog one query on its `iceberg_tables` table - and re-reads only the metadata
files whose location changed. Any process (kernel, server, CLI) may refresh it.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
import sqlite3
import threading
import time
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.io import load_file_io
from pyiceberg.serializers import FromInputFile
from pyiceberg.types import ListType, MapType, NestedField, StructType

from lakelab.catalog.metadata import read_metadata, upstream_tables

if TYPE_CHECKING:
    from pyiceberg.table.metadata import TableMetadata

    from lakelab.lakehouse import Lakehouse

SCHEMA_VERSION = "1"
_WORD = re.compile(r"[a-z0-9]+")
GENERIC_REFRESH_S = 30.0  # non-SQL catalogs: a listing means loading every table, so throttle it

# the PostgreSQL fingerprint: a sum of 64-bit row hashes is order-free, so no sort and no
# ~1 MB string per call (2 ms instead of 23 ms on 10,000 tables; it runs on most requests)
_ROW = "table_namespace || '.' || table_name || '=' || coalesce(metadata_location, '')"
_PG_FINGERPRINT = {
    "hash": f"SELECT count(*), sum(hashtextextended({_ROW}, 0)) FROM iceberg_tables WHERE catalog_name = :c",
    "md5": f"SELECT count(*), md5(string_agg({_ROW}, ',' ORDER BY table_namespace, table_name)) "
    "FROM iceberg_tables WHERE catalog_name = :c",
}

_COLUMNS = (
    "ident",
    "namespace",
    "name",
    "metadata_location",
    "kind",
    "owner",
    "description",
    "tags",
    "columns",
    "row_count",
    "file_count",
    "total_bytes",
    "last_updated_ms",
    "snapshot_id",
    "upstream",
    "search_text",
)


def column_names(fields: Iterable[NestedField], prefix: str = "") -> list[str]:
    """Every column path (nested ones dotted), for search by column name."""
    out: list[str] = []
    for f in fields:
        path = prefix + f.name
        out.append(path)
        t = f.field_type
        if isinstance(t, StructType):
            out += column_names(t.fields, path + ".")
        elif isinstance(t, ListType) and isinstance(t.element_type, StructType):
            out += column_names(t.element_type.fields, path + ".")
        elif isinstance(t, MapType) and isinstance(t.value_type, StructType):
            out += column_names(t.value_type.fields, path + ".")
    return out


def entry_from_metadata(ident: tuple[str, ...], location: str, meta: TableMetadata) -> dict[str, Any]:
    md = read_metadata(dict(meta.properties))
    snap = meta.current_snapshot()
    summary = dict(snap.summary.additional_properties) if snap and snap.summary else {}
    upstream = upstream_tables(meta)  # lakelab summaries and Trino-write lineage properties
    cols = column_names(meta.schema().fields)
    dotted = ".".join(ident)
    text = " ".join([dotted, md["description"] or "", " ".join(md["tags"]), md["owner"] or "", " ".join(cols)])
    return {
        "ident": dotted,
        "namespace": ".".join(ident[:-1]),
        "name": ident[-1],
        "metadata_location": location,
        "kind": md["kind"],
        "owner": md["owner"],
        "description": md["description"],
        "tags": "," + ",".join(md["tags"]) + "," if md["tags"] else "",
        "columns": json.dumps(cols),
        "row_count": _int(summary.get("total-records")),
        "file_count": _int(summary.get("total-data-files")),
        "total_bytes": _int(summary.get("total-files-size")),
        "last_updated_ms": meta.last_updated_ms,
        "snapshot_id": snap.snapshot_id if snap else None,
        "upstream": "," + ",".join(sorted(upstream)) + "," if upstream else "",
        "search_text": text.lower(),
    }


def _int(v: Any) -> int | None:
    try:
        return int(v) if v is not None else None
    except ValueError:
        return None


def summary_from_row(row: sqlite3.Row) -> dict[str, Any]:
    """The public summary of one dataset (what search and listings return)."""
    return {
        "name": row["ident"],
        "namespace": row["namespace"],
        "table": row["name"],
        "kind": row["kind"],
        "owner": row["owner"],
        "description": row["description"],
        "tags": [t for t in (row["tags"] or "").split(",") if t],
        "row_count": row["row_count"],
        "file_count": row["file_count"],
        "total_bytes": row["total_bytes"],
        "last_updated_ms": row["last_updated_ms"],
        "snapshot_id": row["snapshot_id"],
        # a model/report is a table of versions: one row per version
        "versions": row["row_count"] if row["kind"] != "table" else None,
    }


def _like(text: str) -> str:
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class DatasetIndex:
    def __init__(self, lh: Lakehouse):
        self.lh = lh
        key = json.dumps(
            [lh.config.catalog_name, str(lh.config.catalog.get("uri", "")), str(lh.config.catalog.get("type", ""))]
        )
        path = lh.config.home / "index" / f"{hashlib.sha256(key.encode()).hexdigest()[:16]}.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path: Path = path
        self._lock = threading.RLock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)")
        ver = self._db.execute("SELECT v FROM meta WHERE k='version'").fetchone()
        if not ver or ver[0] != SCHEMA_VERSION:
            self._db.execute("DROP TABLE IF EXISTS datasets")
        cols = ", ".join(f"{c} {'TEXT PRIMARY KEY' if c == 'ident' else ''}" for c in _COLUMNS)
        self._db.execute(f"CREATE TABLE IF NOT EXISTS datasets ({cols})")
        self._db.execute("CREATE INDEX IF NOT EXISTS datasets_ns ON datasets(namespace, name)")
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('version', ?)", (SCHEMA_VERSION,))
        self._db.commit()
        self._known: dict[str, str] = {
            r[0]: r[1] for r in self._db.execute("SELECT ident, metadata_location FROM datasets")
        }
        self._last_generic_refresh = 0.0
        self._last_fingerprint: Any = None
        self._fresh_as_of = 0  # monotonic_ns when the newest completed refresh began
        self._pg_fingerprint = "hash"
        self._watch: sqlite3.Connection | None = None
        self._vocab: dict[int, list[str]] | None = None
        # what fingerprint() answers: a per-process nonce (a restarted server is new to a
        # client) and a count of the refreshes that changed the index
        self._nonce = secrets.token_hex(4)
        self._generation = 0

    # -- refresh -----------------------------------------------------------------------
    def _listing(self) -> dict[str, tuple[tuple[str, ...], str]]:
        """{dotted: (identifier, metadata_location)} for every table in the catalog."""
        cat = self.lh.catalog
        if isinstance(cat, SqlCatalog):
            from sqlalchemy import text

            with cat.engine.connect() as conn:
                rows = conn.execute(
                    text(
                        "SELECT table_namespace, table_name, metadata_location FROM iceberg_tables "
                        "WHERE catalog_name = :c AND (iceberg_type IS NULL OR iceberg_type = 'TABLE')"
                    ),
                    {"c": cat.name},
                ).all()
            return {f"{ns}.{t}": ((*ns.split("."), t), loc) for ns, t, loc in rows if loc}
        out: dict[str, tuple[tuple[str, ...], str]] = {}
        stack = list(cat.list_namespaces())
        while stack:
            ns = stack.pop()
            stack += cat.list_namespaces(ns)
            for ident in cat.list_tables(ns):
                out[".".join(ident)] = (tuple(ident), cat.load_table(ident).metadata_location)
        return out

    def _fingerprint(self) -> Any:
        """A cheap value that changes whenever the SqlCatalog's tables change, so most
        refreshes skip the full listing: SQLite's data_version (bumped by every commit of
        any other connection), or on PostgreSQL a hash of the listing computed in the
        database. None when unknown."""
        from sqlalchemy import text

        cat = self.lh.catalog
        if not isinstance(cat, SqlCatalog):
            return None
        dialect = cat.engine.dialect.name
        if dialect == "sqlite":
            db = cat.engine.url.database
            if not db or db == ":memory:":
                return None
            if self._watch is None:
                self._watch = sqlite3.connect(f"file:{db}?mode=ro", uri=True, check_same_thread=False)
            return self._watch.execute("PRAGMA data_version").fetchone()[0]
        if dialect == "postgresql":
            from sqlalchemy.exc import ProgrammingError

            try:
                with cat.engine.connect() as conn:
                    return tuple(conn.execute(text(_PG_FINGERPRINT[self._pg_fingerprint]), {"c": cat.name}).one())
            except ProgrammingError:  # PostgreSQL before 11 has no hashtextextended
                if self._pg_fingerprint == "md5":
                    raise
                self._pg_fingerprint = "md5"
                return self._fingerprint()
        return None

    def refresh(self, force: bool = False) -> None:
        asked = time.monotonic_ns()
        with self._lock:
            # a refresh that began after this call was made has finished while we waited for
            # the lock: it saw every change we could see, so concurrent requests share it
            # (under load one fingerprint query serves many requests instead of one each)
            if self._fresh_as_of > asked and not force:
                return
            began = time.monotonic_ns()
            if (
                not isinstance(self.lh.catalog, SqlCatalog)
                and not force
                and time.monotonic() - self._last_generic_refresh < GENERIC_REFRESH_S
            ):
                return
            fingerprint = self._fingerprint()  # taken before listing: a later change is seen next time
            if fingerprint is not None and fingerprint == self._last_fingerprint:
                self._fresh_as_of = began
                return
            listing = self._listing()
            self._last_generic_refresh = time.monotonic()
            self._last_fingerprint = fingerprint
            gone = [k for k in self._known if k not in listing]
            changed = [(k, ident, loc) for k, (ident, loc) in listing.items() if self._known.get(k) != loc]
            if not gone and not changed:
                self._fresh_as_of = began
                return
            entries = []
            for _dotted, ident, loc in changed:
                try:
                    io = load_file_io(self.lh.catalog.properties, loc)
                    meta = FromInputFile.table_metadata(io.new_input(loc))
                except Exception:  # noqa: BLE001 - an unreadable table is left out, not fatal
                    continue
                entries.append(entry_from_metadata(ident, loc, meta))
            marks = ",".join("?" * len(_COLUMNS))
            with self._db:
                self._db.executemany("DELETE FROM datasets WHERE ident = ?", [(k,) for k in gone])
                self._db.executemany(
                    f"INSERT OR REPLACE INTO datasets ({','.join(_COLUMNS)}) VALUES ({marks})",
                    [tuple(e[c] for c in _COLUMNS) for e in entries],
                )
            self._vocab = None
            for k in gone:
                self._known.pop(k, None)
            self._known.update({e["ident"]: e["metadata_location"] for e in entries})
            self._generation += 1
            self._fresh_as_of = began

    def fingerprint(self) -> str:
        """A short value that changes whenever the listed datasets change (one created or
        dropped, a commit, a metadata edit): what the sidebar polls, as cheap as a refresh
        that finds nothing new (one PRAGMA data_version on SQLite)."""
        self.refresh()
        return f"{self._nonce}.{self._generation}"

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, tuple(args)).fetchall()

    # -- queries -----------------------------------------------------------------------
    def _where(
        self, words: list[str], kind: str | None, owner: str | None, tag: str | None, namespace: str | None
    ) -> tuple[str, list[Any]]:
        where, args = [], []
        for w in words:
            where.append("search_text LIKE ? ESCAPE '\\'")
            args.append(_like(w))
        if kind:
            where.append("kind = ?")
            args.append(kind)
        if owner:
            where.append("lower(owner) = ?")
            args.append(owner.lower())
        if tag:
            where.append("lower(tags) LIKE ? ESCAPE '\\'")
            args.append(_like("," + tag.lower() + ","))
        if namespace:
            where.append("(namespace = ? OR namespace LIKE ? ESCAPE '\\')")
            args += [namespace, _like(namespace + ".")[1:]]  # itself or any namespace below it
        return (" WHERE " + " AND ".join(where) if where else ""), args

    def search(
        self,
        query: str | None = None,
        kind: str | None = None,
        owner: str | None = None,
        tag: str | None = None,
        namespace: str | None = None,
        limit: int = 100,
    ) -> list[dict[str, Any]]:
        self.refresh()
        words = (query or "").lower().split()
        where, args = self._where(words, kind, owner, tag, namespace)
        order = "ident"
        if words:
            # names that match the query first, then matches in description/tags/columns
            order = "(instr(ident, ?) = 0), ident"
        sql = f"SELECT * FROM datasets{where} ORDER BY {order} LIMIT ?"
        tail = [words[0]] if words else []
        return [summary_from_row(r) for r in self._query(sql, [*args, *tail, limit])]

    def facets(
        self,
        query: str | None = None,
        kind: str | None = None,
        owner: str | None = None,
        tag: str | None = None,
        namespace: str | None = None,
    ) -> dict[str, list[dict[str, Any]]]:
        """How many matching datasets have each kind, owner and tag."""
        self.refresh()
        where, args = self._where((query or "").lower().split(), kind, owner, tag, namespace)
        counts: dict[str, dict[str, int]] = {"kind": {}, "owner": {}, "tag": {}}
        for k, o, tags in self._query(f"SELECT kind, owner, tags FROM datasets{where}", args):
            counts["kind"][k] = counts["kind"].get(k, 0) + 1
            if o:
                counts["owner"][o] = counts["owner"].get(o, 0) + 1
            for t in (tags or "").split(","):
                if t:
                    counts["tag"][t] = counts["tag"].get(t, 0) + 1
        return {
            key: [{"value": v, "count": n} for v, n in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))]
            for key, c in counts.items()
        }

    def _vocabulary(self) -> dict[int, list[str]]:
        """Every word of every dataset's searchable text (names split at dots and underscores)
        by length, rebuilt after the index changes: what a misspelt word is matched against."""
        with self._lock:
            if self._vocab is None:
                words: set[str] = set()
                for (text,) in self._db.execute("SELECT search_text FROM datasets"):
                    words.update(w for w in _WORD.findall(text) if len(w) > 2)
                by_length: dict[int, list[str]] = {}
                for w in sorted(words):
                    by_length.setdefault(len(w), []).append(w)
                self._vocab = by_length
            return self._vocab

    def correct(self, query: str) -> str | None:
        """`query` with each word no dataset contains replaced by the closest known word
        (edit similarity, so "fligths" reads as "flights"); None when nothing is close."""
        import difflib

        self.refresh()
        vocab = self._vocabulary()
        out, changed = [], False
        words = query.lower().split()
        for w in words:
            # one word that matched nothing needs no second look; of several, keep those found
            if len(words) > 1 and self._query(
                "SELECT 1 FROM datasets WHERE search_text LIKE ? ESCAPE '\\' LIMIT 1", [_like(w)]
            ):
                out.append(w)
                continue
            # a typo changes the length by a letter or two: only those words can be close enough
            near = [v for n in range(len(w) - 2, len(w) + 3) for v in vocab.get(n, ())]
            close = difflib.get_close_matches(w, near, n=1, cutoff=0.75)
            if not close:
                return None
            out.append(close[0])
            changed = True
        return " ".join(out) if changed else None

    def list_namespace(self, namespace: str, after: str | None, limit: int) -> list[dict[str, Any]]:
        self.refresh()
        rows = self._query(
            "SELECT * FROM datasets WHERE namespace = ? AND name > ? ORDER BY name LIMIT ?",
            [namespace, after or "", limit],
        )
        return [summary_from_row(r) for r in rows]

    def counts(self) -> dict[str, int]:
        """Datasets directly in each namespace."""
        self.refresh()
        return {r[0]: r[1] for r in self._query("SELECT namespace, count(*) FROM datasets GROUP BY namespace")}

    def downstream(self, dotted: str) -> list[str]:
        self.refresh()
        return [
            r[0]
            for r in self._query(
                "SELECT ident FROM datasets WHERE upstream LIKE ? ESCAPE '\\' ORDER BY ident",
                [_like("," + dotted + ",")],
            )
        ]

    def columns_of(self, dotted: str) -> list[str]:
        """A dataset's column paths (nested ones dotted), [] when unknown."""
        self.refresh()
        rows = self._query("SELECT columns FROM datasets WHERE ident = ?", [dotted])
        return json.loads(rows[0][0]) if rows and rows[0][0] else []

    def get(self, dotted: str) -> dict[str, Any] | None:
        rows = self._query("SELECT * FROM datasets WHERE ident = ?", [dotted])
        return summary_from_row(rows[0]) if rows else None

    def close(self) -> None:
        with self._lock:
            self._db.close()
            if self._watch is not None:
                self._watch.close()


_indexes: weakref.WeakKeyDictionary[Lakehouse, DatasetIndex] = weakref.WeakKeyDictionary()
_indexes_lock = threading.Lock()


def index_for(lh: Lakehouse) -> DatasetIndex:
    """The index of this lakehouse's catalog (one per Lakehouse object, opened lazily)."""
    with _indexes_lock:
        idx = _indexes.get(lh)
        if idx is None:
            idx = _indexes[lh] = DatasetIndex(lh)
        return idx

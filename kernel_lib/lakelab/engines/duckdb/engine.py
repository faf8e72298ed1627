"""The embedded engine: Trino-dialect SQL on DuckDB over Iceberg snapshots (no DuckDB extension).

pyiceberg plans each referenced table's scan; DuckDB reads the planned Parquet files directly
when that is correct — no delete files, local files with field ids, flat columns — by name when
the schema never changed, by Iceberg field id (`read_parquet(schema=MAP{...})`) after renames or
added columns; otherwise it reads pyiceberg's Arrow scan, which applies deletes and schema
evolution. On object storage the same files are read as one pyarrow dataset per snapshot
(projection, filter and LIMIT pushdown) through the table FileIO's S3/GCS settings; there the
fallback is pyiceberg's streaming batch reader. `dialect.py` makes the SQL answer as Trino does
or refuses it. docs/embedded-engine.md has the support matrix.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from typing import Any, cast

import duckdb
import pyarrow as pa
from pyiceberg.table import Table
from sqlglot import exp

from lakelab.catalog.access import TableCache, load_table, load_tables
from lakelab.engines.base import CtrlC, Result, ctrl_c
from lakelab.engines.cache import ResultCache, deterministic, hit_note
from lakelab.engines.duckdb.dialect import (
    HINT,
    column_types,
    python_type,
    translate,
    trino_type,
)
from lakelab.engines.duckdb.functions_text import register_functions
from lakelab.engines.duckdb.running import run_statement
from lakelab.engines.duckdb.snapshots import (
    Plan,
    Resolved,
    Scan,
    fast_path_blocker,
    local_path,
    needs_field_ids,
    register_view,
)
from lakelab.engines.duckdb.statements import parse, write_target
from lakelab.engines.observers import Read
from lakelab.engines.run_context import pinned_snapshot
from lakelab.engines.templating import render
from lakelab.errors import InvalidInput, NotFound, Unsupported
from lakelab.io.filecache import file_cache
from lakelab.names import TableName, ident

_SHOW_SCHEMAS = re.compile(r"\s*SHOW\s+SCHEMAS(?:\s+(?:FROM|IN)\s+(\"?\w+\"?))?\s*;?\s*\Z", re.I)
_SHOW_TABLES = re.compile(r"\s*SHOW\s+TABLES(?:\s+(?:FROM|IN)\s+([\w\".]+))?\s*;?\s*\Z", re.I)
_DESCRIBE = re.compile(r"\s*(?:DESCRIBE|DESC|SHOW\s+COLUMNS\s+(?:FROM|IN))\s+([\w\".]+)\s*;?\s*\Z", re.I)


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, lh: Any):
        self.lh = lh
        self.default_schema = lh.config.trino.schema if lh.config.trino else "default"
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()
        self._translations: dict[tuple, tuple[exp.Expression, str]] = {}
        self._trees: dict[str, tuple[exp.Expression, str, bool]] = {}
        self._plans: dict[tuple[str, int | None], Plan] = {}
        self.last_scans: list[Scan] = []
        self._guard = CtrlC()  # the running statement's Ctrl-C guard (inert between statements)
        self._owner: int | None = None  # the thread running a statement
        self._views: dict[str, str | None] = {}  # the connection's __lk_ views (snapshots.register_view)
        # the last Ctrl-C: seconds from it until DuckDB stopped, interrupts sent, abandoned or not
        self.last_interrupt: dict[str, Any] | None = None
        self.results: ResultCache = lh.result_cache
        self._tables: TableCache | None = None  # opened with the catalog, on the first query
        self.file_copies = file_cache(lh.config.home)  # object-store files copied locally

    # -- connection ------------------------------------------------------------------------
    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            with self._guard.native():
                con = duckdb.connect(
                    ":memory:", config={"autoload_known_extensions": False, "autoinstall_known_extensions": False}
                )
                con.execute("SET enable_progress_bar = true")
                con.execute("SET enable_progress_bar_print = false")
                con.execute("SET parquet_metadata_cache = true")  # footers are immutable in Iceberg
                register_functions(con)  # Trino's formatting, JSON and URL functions (functions_text.py)
            self._con, self._views = con, {}
        return self._con

    @contextlib.contextmanager
    def _statement(self) -> Iterator[CtrlC]:
        """One statement at a time on the connection, with Ctrl-C routed through a guard: every
        DuckDB call on this thread runs inside `self._guard.native()`, because DuckDB turns a
        KeyboardInterrupt that lands inside a call into RuntimeError or loses it."""
        with self._lock, ctrl_c() as guard:
            self._guard, self._owner = guard, threading.get_ident()
            try:
                yield guard
            finally:
                self._guard, self._owner = CtrlC(), None

    def interrupt(self, thread: int | None = None) -> None:
        """Cancel the running statement as Ctrl-C does (running.py keeps interrupting DuckDB
        until it stops), if it runs on `thread` (None: whichever runs)."""
        guard, owner = self._guard, self._owner
        if owner is not None and (thread is None or thread == owner):
            guard.request()

    def warm(self) -> None:
        """Open the connection and run the translator once (the notebook's warm-up thread):
        the first real query then pays for neither."""
        self.to_duckdb_sql("SELECT 1")

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    # -- public ----------------------------------------------------------------------------
    def execute(
        self,
        sql: str,
        params: dict[str, Any] | None = None,
        *,
        limit: int | None = None,
        progress: Callable[[dict[str, Any]], None] | None = None,
        catalog: str | None = None,
        schema: str | None = None,
        cache: bool = True,
    ) -> Result:
        """Run a statement. A query whose SQL, parameters, limit and input snapshots are unchanged
        is answered from the result cache (engines/cache.py) unless `cache=False`."""
        if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):
            raise InvalidInput(f"limit must be a non-negative integer, got {limit!r}")
        started = time.monotonic()
        text, values = render(sql, params)
        self._check_catalog(catalog)
        default_schema = ident(schema, "schema") if schema else self.default_schema
        with self._statement():
            shown = self._show(text, default_schema)
            if shown is not None:
                return Result(shown, engine=self.name, sql=sql, elapsed_s=time.monotonic() - started)
            tree, normal, fixed = self._parsed(text)
            if isinstance(tree, exp.Query):
                table, has_more, hit = self._query(
                    tree, normal, values, default_schema, limit, progress, cache and fixed
                )
                return Result(
                    table,
                    engine=self.name,
                    sql=sql,
                    limit=limit,
                    has_more=has_more,
                    elapsed_s=time.monotonic() - started,
                    stats={"scans": [asdict(s) for s in self.last_scans], "cache": hit},
                    note=hit_note((s.table, s.snapshot_id) for s in self.last_scans) if hit == "hit" else None,
                    reads=tuple(Read(s.table, s.snapshot_id) for s in self.last_scans),
                ).announce()
            tree = tree.copy()  # the parsed tree is shared between runs of the same text
            if isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "TABLE":
                return self._write(sql, tree, values, default_schema, started, progress)
            if isinstance(tree, exp.Insert):
                return self._write(sql, tree, values, default_schema, started, progress)
            if isinstance(tree, exp.Describe):
                return self._describe(sql, tree.this.sql("trino"), default_schema, started)
            # the statement's own first word: sqlglot may read unknown ones as something else
            # (INSTALL x parses as the alias `INSTALL AS x`)
            first = re.match(r"\s*([A-Za-z]+)\b", text)
            kind = first.group(1).upper() if first else type(tree).__name__.upper()
            raise Unsupported(f"{kind} statements are {HINT}")

    def explain(
        self, sql: str, params: dict[str, Any] | None = None, *, catalog: str | None = None, schema: str | None = None
    ) -> Result:
        """The DuckDB SQL and plan, and how each table is read (fast Parquet path or Arrow scan)."""
        text, values = render(sql, params)
        self._check_catalog(catalog)
        with self._statement() as guard:
            tree = parse(text)
            if not isinstance(tree, exp.Query):
                raise Unsupported("--explain works on queries (SELECT / WITH)")
            try:
                duck_sql = self._prepare(tree, values, ident(schema, "schema") if schema else self.default_schema)
                with guard.native():
                    plan = self.con.execute("EXPLAIN " + duck_sql, values).fetchall()
            finally:
                self._drop_views()
        lines = [f"scan {s.table} @ {s.snapshot_id}: {s.path} ({s.reason}, {s.files} files)" for s in self.last_scans]
        lines += ["duckdb sql: " + duck_sql] + [row[1] for row in plan]
        return Result(
            pa.table({"explain": lines}),
            engine=self.name,
            sql=sql,
            stats={"scans": [asdict(s) for s in self.last_scans], "duckdb_sql": duck_sql},
        )

    def to_duckdb_sql(self, sql: str, params: dict[str, Any] | None = None) -> str:
        """The DuckDB SQL a Trino query becomes (table references left as view names)."""
        text, values = render(sql, params)
        with self._statement():
            self.con  # noqa: B018 - statements assume an open connection (views are dropped on it)
            try:
                return self._prepare(parse(text), values, self.default_schema)
            finally:
                self._drop_views()

    # -- queries -----------------------------------------------------------------------------
    def _check_catalog(self, catalog: str | None) -> None:
        if catalog is not None and catalog.lower() not in self.lh.catalog_names:
            raise NotFound(
                f"catalog {catalog!r} is not known to the embedded engine",
                hint=f"use {' or '.join(sorted(self.lh.catalog_names))}",
            )

    def _name(self, node: exp.Table, default_schema: str) -> TableName:
        parts = [p.name for p in (node.args.get("catalog"), node.args.get("db"), node.this) if p is not None]
        if len(parts) == 3 and parts[0].lower() not in self.lh.catalog_names:
            raise NotFound(
                f"catalog {parts[0]!r} is not known to the embedded engine",
                hint=f"tables are {' or '.join(sorted(self.lh.catalog_names))}.schema.table or schema.table",
            )
        if len(parts) == 1:
            parts = [default_schema, parts[0]]
        return self.lh.table_name(".".join(parts[-2:]))

    def _resolve(self, node: exp.Table, default_schema: str, loaded: dict[TableName, Table]) -> Resolved:
        name = self._name(node, default_schema)
        if name not in loaded:  # one catalog round trip per table per statement
            loaded[name] = self._table_cache().load(name)
        table = loaded[name]
        pin = pinned_snapshot(name.dotted)  # a live dashboard reading its version's inputs
        snapshot = table.snapshot_by_id(pin) if pin is not None else None
        snapshot = snapshot or table.current_snapshot()
        version = node.args.get("version")
        if version is not None:
            snapshot = self._travel(table, name, version)
        return Resolved(name, table, snapshot.snapshot_id if snapshot else None)

    def _travel(self, table: Table, name: TableName, version: exp.Version):
        kind = str(version.this).upper()
        value = version.args.get("expression")
        if value is None:
            raise InvalidInput(f"FOR {kind} AS OF needs a value")
        if kind == "VERSION":
            if not (isinstance(value, exp.Literal) and value.is_int):
                raise InvalidInput(f"FOR VERSION AS OF needs a snapshot id (a number), got {value.sql('trino')}")
            snap = table.snapshot_by_id(int(value.this))
            if snap is None:
                raise NotFound(
                    f"snapshot {value.this} does not exist in {name}", hint=f"see lh.dataset('{name}').snapshots()"
                )
            return snap
        if kind == "TIMESTAMP":
            literal = value.this if isinstance(value, exp.Cast) else value
            if not (isinstance(literal, exp.Literal) and literal.is_string):
                raise InvalidInput(
                    f"FOR TIMESTAMP AS OF needs a timestamp literal, got {value.sql('trino')}",
                    hint="e.g. FOR TIMESTAMP AS OF TIMESTAMP '2024-05-01 12:00:00 UTC'",
                )
            try:
                with self._guard.native():
                    # fetchall: a result left unfinished blocks the connection's next statement
                    rows = self.con.execute(f"SELECT epoch_ms(CAST(({value.sql('duckdb')}) AS TIMESTAMPTZ))").fetchall()
            except duckdb.Error as e:
                raise InvalidInput(f"FOR TIMESTAMP AS OF needs a timestamp: {e}") from None
            row = rows[0] if rows else None
            if row is None or row[0] is None:
                raise InvalidInput(f"FOR TIMESTAMP AS OF needs a timestamp, got {value.sql('trino')}")
            snap = table.snapshot_as_of_timestamp(int(row[0]))
            if snap is None:
                raise NotFound(f"{name} has no snapshot at or before {value.sql('trino')}")
            return snap
        raise Unsupported(f"FOR {kind} AS OF is {HINT}")

    def _table_cache(self) -> TableCache:
        if self._tables is None:
            self._tables = TableCache(self.lh.catalog)
        return self._tables

    def _parsed(self, text: str) -> tuple[exp.Expression, str, bool]:
        """The statement's tree (shared between runs: copy it before changing it), its text as
        sqlglot normalises it (the result cache's key) and whether it is deterministic."""
        parsed = self._trees.get(text)
        if parsed is None:
            tree = parse(text)
            parsed = (tree, tree.sql("trino"), deterministic(tree))
            if len(self._trees) > 128:
                self._trees.clear()
            self._trees[text] = parsed
        return parsed

    def _references(
        self, tree: exp.Expr, default_schema: str, loaded: dict[TableName, Table] | None = None
    ) -> list[tuple[exp.Table, Resolved]]:
        """Every table the statement reads, resolved to the snapshot it will read (`loaded`:
        tables already loaded for this statement, so a second walk sees the same snapshots)."""
        ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
        loaded = {} if loaded is None else loaded
        nodes = [n for n in tree.find_all(exp.Table) if n.name and (n.args.get("db") or n.name.lower() not in ctes)]
        # a remote catalog answers each table in a round trip: ask for a join's tables together
        plain = [n for n in nodes if not isinstance(n.this, exp.Func) and not isinstance(n.parent, exp.Unnest)]
        todo = {self._name(n, default_schema) for n in plain} - set(loaded)
        if len(todo) > 1 and not self._table_cache().reuses:
            loaded.update(load_tables(self.lh.catalog, todo))
        refs = []
        for node in nodes:
            if isinstance(node.this, exp.Func) or isinstance(node.parent, exp.Unnest):
                raise Unsupported(f"table functions are {HINT}")
            refs.append((node, self._resolve(node, default_schema, loaded)))
        return refs

    def _prepare(
        self,
        tree: exp.Expr,
        values: list[Any],
        default_schema: str,
        resolved: list[tuple[exp.Table, Resolved]] | None = None,
    ) -> str:
        """Register a view per table reference and return the DuckDB SQL over them."""
        if resolved is None:
            resolved = self._references(tree, default_schema)
        key_text = tree.sql("trino")  # before views replace the names: the translation's key
        schema: dict[str, dict[str, str]] = {}
        refs: dict[str, Resolved] = {}
        for node, res in resolved:
            view = f"__lk_{len(refs) + 1}"  # views live for one statement (under the lock)
            refs[view] = res
            cols = {}
            for f in self._plan(res).schema.fields:
                t = column_types(f.field_type)
                cols[f.name] = t[1] if t else "UNKNOWN"
            schema[view] = cols
            alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name))
            node.replace(exp.Table(this=exp.to_identifier(view), alias=alias))
        # translation (qualify + typing + rewrites) costs tens of ms; rerunning a cell reuses it
        key = (
            key_text,
            default_schema,
            tuple((v, str(r.name), json.dumps(schema[v])) for v, r in refs.items()),
            tuple(python_type(v).sql() for v in values),
        )
        cached = self._translations.get(key)
        if cached is None:
            translated = translate(cast(exp.Expression, tree), schema, values)
            cached = (translated, translated.sql("duckdb"))
            if len(self._translations) > 128:
                self._translations.clear()
            self._translations[key] = cached
        self.last_scans = [self._register(view, res, cached[0]) for view, res in refs.items()]
        return cached[1]

    def _plan(self, res: Resolved) -> Plan:
        """Files and read path for one table snapshot; cached by metadata file, so repeated
        queries skip manifest reading (a new commit means a new metadata file)."""
        key = (res.table.metadata_location, res.snapshot_id)
        plan = self._plans.get(key)
        if plan is None:
            scan = res.table.scan(snapshot_id=res.snapshot_id)
            schema = scan.projection()
            tasks = list(scan.plan_files()) if res.snapshot_id is not None else []
            blocker = fast_path_blocker(res.table, schema, tasks)
            files = [local_path(t.file.file_path) for t in tasks]
            mapping = needs_field_ids(res.table, schema) if blocker is None else None
            if mapping == "ids" and any(column_types(f.field_type) is None for f in schema.fields):
                blocker = "nested or uncommon column types after schema changes"
            plan = Plan(schema, files, blocker, mapping, [t.file.file_size_in_bytes for t in tasks])
            if len(self._plans) > 256:
                self._plans.clear()
            self._plans[key] = plan
        return plan

    def _register(self, view: str, res: Resolved, tree: exp.Expression) -> Scan:
        return register_view(
            self.con, self._guard.native, self._views, view, res, self._plan(res), tree, self.file_copies
        )

    def _drop_views(self) -> None:
        """Let go of the Arrow data registered for this statement. Views over Parquet files stay
        (a few hundred bytes each): the next statement over the same snapshots reuses them."""
        if self._con is None:
            return
        try:
            with self._guard.native():
                for view, ddl in list(self._views.items()):
                    if ddl is None:
                        self._con.unregister(view)
                        del self._views[view]
        except duckdb.Error:
            self._reset()  # the connection is in a state we do not know: start afresh

    def _reset(self) -> None:
        con, self._con = self._con, None
        if con is not None:
            try:
                con.interrupt()
                con.close()
            except duckdb.Error:
                pass

    def _query(
        self,
        tree: exp.Expression,
        normal: str,
        values: list[Any],
        default_schema: str,
        limit: int | None,
        progress: Callable | None,
        cache: bool = True,
    ) -> tuple[pa.Table, bool, str]:
        hit, key, cached = "off", None, None
        loaded: dict[TableName, Table] = {}
        refs = self._references(tree, default_schema, loaded)
        if cache:
            # keyed on the statement and its inputs pinned to snapshots, before any view or
            # translation: a hit costs the catalog look-ups and nothing else
            inputs = [(str(r.name), r.snapshot_id) for _, r in refs]
            catalog = self.lh.config.catalog
            scope = f"{catalog.get('uri')}|{catalog.get('warehouse')}|{default_schema}"
            key = self.results.key(normal, values, inputs, limit, scope)
            cached = self.results.get(key)
        if cached is not None:
            table, hit = cached, "hit"
            self.last_scans = [Scan(str(r.name), r.snapshot_id, "cache", "inputs unchanged", 0) for _, r in refs]
        else:
            work = tree.copy()  # views replace its table names
            try:
                duck_sql = self._prepare(work, values, default_schema, self._references(work, default_schema, loaded))
                if limit is not None:
                    duck_sql = f"SELECT * FROM ({duck_sql}) LIMIT {int(limit) + 1}"
                table = self._run(duck_sql, values, progress)
            finally:
                self._drop_views()
            if key:
                self.results.put(key, table)
                hit = "miss"
        if limit is not None and table.num_rows > limit:
            return table.slice(0, limit), True, hit
        return table, False, hit

    def _run(self, duck_sql: str, values: list[Any], progress: Callable | None) -> pa.Table:
        """Run on a worker thread; this thread reports progress and answers Ctrl-C (running.py)."""
        con = self.con

        def forget() -> None:  # a statement that ignores the interrupt keeps its connection
            if self._con is con:
                self._con = None

        def noted(info: dict[str, Any]) -> None:
            self.last_interrupt = info

        return run_statement(con, duck_sql, values, self._guard, progress, self.name, forget, noted)

    # -- statements ---------------------------------------------------------------------------
    def _show(self, text: str, default_schema: str) -> pa.Table | None:
        if m := _SHOW_SCHEMAS.match(text):
            if m.group(1):
                self._check_catalog(m.group(1).strip('"'))
            names = sorted(".".join(ns) for ns in self.lh.catalog.list_namespaces())
            return pa.table({"Schema": pa.array(names, pa.string())})
        if m := _SHOW_TABLES.match(text):
            parts = [p.strip('"') for p in (m.group(1) or default_schema).split(".")]
            if len(parts) == 2:
                self._check_catalog(parts[0])
                parts = parts[1:]
            ns = (ident(parts[0], "schema"),)
            try:
                tables = sorted(t[-1] for t in self.lh.catalog.list_tables(ns))
            except Exception:  # noqa: BLE001 - pyiceberg raises NoSuchNamespaceError
                raise NotFound(f"schema {ns[0]!r} does not exist", hint="SHOW SCHEMAS lists them") from None
            return pa.table({"Table": pa.array(tables, pa.string())})
        if m := _DESCRIBE.match(text):
            return self._describe_table(m.group(1), default_schema)
        return None

    def _describe(self, sql: str, name: str, default_schema: str, started: float) -> Result:
        return Result(
            self._describe_table(name, default_schema), engine=self.name, sql=sql, elapsed_s=time.monotonic() - started
        )

    def _describe_table(self, name: str, default_schema: str) -> pa.Table:
        parts = [p.strip('"') for p in name.split(".")]
        if len(parts) == 1:
            parts = [default_schema, parts[0]]
        if len(parts) == 3:
            self._check_catalog(parts[0])
        tname = self.lh.table_name(".".join(parts[-2:]))
        schema = load_table(self.lh.catalog, tname).schema()
        rows = [(f.name, trino_type(f.field_type), "", f.doc or "") for f in schema.fields]
        return pa.table(
            {
                k: pa.array([r[i] for r in rows], pa.string())
                for i, k in enumerate(("Column", "Type", "Extra", "Comment"))
            }
        )

    def _write(
        self,
        sql: str,
        tree: exp.Expression,
        values: list[Any],
        default_schema: str,
        started: float,
        progress: Callable | None,
    ) -> Result:
        from lakelab.catalog.metadata import Lineage
        from lakelab.write.transform import write_result

        parts, query, mode, columns = write_target(tree)
        if len(parts) == 3:
            self._check_catalog(parts[0])
        out = self.lh.table_name(".".join(parts[-2:] if len(parts) > 1 else [default_schema, parts[0]]))
        try:
            duck_sql = self._prepare(query, values, default_schema)
            reads = tuple(Read(s.table, s.snapshot_id) for s in self.last_scans)
            upstream = [{"table": r.table, "snapshot_id": r.snapshot_id} for r in reads]
            data = self._run(duck_sql, values, progress)
        finally:
            self._drop_views()
        report = write_result(
            self.lh.catalog,
            out,
            data,
            mode,
            Lineage("transform", upstream=upstream, sql=sql, engine="duckdb"),
            columns=columns,
            by_position=isinstance(tree, exp.Insert),
        )
        verb = "CREATE TABLE" if isinstance(tree, exp.Create) else "INSERT"
        return Result(
            pa.table({"rows": pa.array([report.rows], pa.int64())}),
            engine=self.name,
            sql=sql,
            elapsed_s=time.monotonic() - started,
            message=f"{verb} {out}: {report.rows:,} rows",
            stats=report.to_dict(),
            reads=reads,
        ).announce()

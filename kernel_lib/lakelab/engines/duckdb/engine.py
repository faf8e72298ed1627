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
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict
from typing import Any, cast

import duckdb
import pyarrow as pa
from pyiceberg.table import Table
from sqlglot import exp

from lakelab.catalog.access import TableCache, load_tables
from lakelab.engines.base import CtrlC, Result, ctrl_c
from lakelab.engines.cache import ResultCache, hit_note
from lakelab.engines.duckdb.dialect import (
    HINT,
    column_types,
    python_type,
    translate,
)
from lakelab.engines.duckdb.functions_text import register_functions
from lakelab.engines.duckdb.metadata_statements import describe_table, show
from lakelab.engines.duckdb.running import run_statement
from lakelab.engines.duckdb.snapshots import (
    Plan,
    Resolved,
    Scan,
    fast_path_blocker,
    local_path,
    needs_field_ids,
    register_view,
    travel,
)
from lakelab.engines.duckdb.statements import Parsed, parse, write_target
from lakelab.engines.duckdb.translations import ALL, Translation, Translations, ViewUse, uses_of
from lakelab.engines.observers import Read
from lakelab.engines.references import is_table_function, table_nodes
from lakelab.engines.run_context import pinned_snapshot
from lakelab.engines.templating import render
from lakelab.errors import InvalidInput, NotFound, Unsupported
from lakelab.io.filecache import file_cache
from lakelab.io.filesystems import is_local
from lakelab.names import TableName, ident

MAX_VIEWS = 256  # table snapshots whose views a connection keeps


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, lh: Any):
        self.lh = lh
        self.default_schema = lh.config.trino.schema if lh.config.trino else "default"
        self._con: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()
        # translations to DuckDB SQL, in memory and on disk for later kernels (translations.py)
        self.translations: Translations = lh.translations
        self._trees: dict[str, Parsed] = {}
        self._plans: dict[tuple[str, int | None], Plan] = {}
        self.last_scans: list[Scan] = []
        self.last_run_s = 0.0  # the last query's time in DuckDB (0 on a cache hit); the rest is ours
        self._guard = CtrlC()  # the running statement's Ctrl-C guard (inert between statements)
        self._owner: int | None = None  # the thread running a statement
        self._views: dict[str, str | None] = {}  # the connection's __lk_ views (snapshots.register_view)
        self._stable: dict[tuple[str, int | None], str] = {}  # (table, snapshot) -> its Parquet view
        self._named = 0
        self._closed = False  # close() was called (a warm-up still preparing tables stops)
        self._started = 0  # statements begun: a prefetch stops once the user runs one
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
        self._started += 1  # a prefetch still running gives way (see prefetch)
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
        self._closed = True
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
            shown = show(self.lh, text, default_schema, self._check_catalog)
            if shown is not None:
                return Result(shown, engine=self.name, sql=sql, elapsed_s=time.monotonic() - started)
            parsed = self._parsed(text)
            tree = parsed.tree
            if isinstance(tree, exp.Query):
                table, has_more, hit = self._query(parsed, values, default_schema, limit, progress, cache)
                return Result(
                    table,
                    engine=self.name,
                    sql=sql,
                    limit=limit,
                    has_more=has_more,
                    elapsed_s=time.monotonic() - started,
                    stats={
                        "scans": [asdict(s) for s in self.last_scans],
                        "cache": hit,
                        "run_s": self.last_run_s,
                        "translation": self.translations.last if hit != "hit" else "",
                    },
                    note=hit_note((s.table, s.snapshot_id) for s in self.last_scans) if hit == "hit" else None,
                    reads=tuple(Read(s.table, s.snapshot_id) for s in self.last_scans),
                ).announce()
            tree = tree.copy()  # the parsed tree is shared between runs of the same text
            if isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "TABLE":
                return self._write(sql, tree, values, default_schema, started, progress)
            if isinstance(tree, exp.Insert):
                return self._write(sql, tree, values, default_schema, started, progress)
            if isinstance(tree, exp.Describe):
                described = describe_table(self.lh, tree.this.sql("trino"), default_schema, self._check_catalog)
                return Result(described, engine=self.name, sql=sql, elapsed_s=time.monotonic() - started)
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

    def _resolve(self, node: exp.Table, name: TableName, loaded: dict[TableName, Table]) -> Resolved:
        if name not in loaded:  # one catalog round trip per table per statement
            loaded[name] = self._table_cache().load(name)
        table = loaded[name]
        version = node.args.get("version")
        snapshot = (
            travel(self.con, self._guard.native, table, name, version)
            if version is not None
            else self._current(name, table)
        )
        return Resolved(name, table, snapshot.snapshot_id if snapshot else None)

    @staticmethod
    def _current(name: TableName, table: Table) -> Any:
        pin = pinned_snapshot(name.dotted)  # a live dashboard reading its version's inputs
        snapshot = table.snapshot_by_id(pin) if pin is not None else None
        return snapshot or table.current_snapshot()

    def _table_cache(self) -> TableCache:
        if self._tables is None:
            self._tables = TableCache(self.lh.catalog)
        return self._tables

    def _parsed(self, text: str) -> Parsed:
        """The statement's tree and what is known about it (shared between runs)."""
        parsed = self._trees.get(text)
        if parsed is None:
            parsed = Parsed(text, parse(text))
            if len(self._trees) > 128:
                self._trees.clear()
            self._trees[text] = parsed
        return parsed

    def _references(
        self, tree: exp.Expr, default_schema: str, parsed: Parsed | None = None
    ) -> list[tuple[exp.Table, Resolved]]:
        """Every table the statement reads, resolved to the snapshot it will read (`parsed`:
        where the references of a statement run again are remembered)."""
        loaded: dict[TableName, Table] = {}
        found = parsed.tables.get(default_schema) if parsed else None
        if found is None:
            found = table_nodes(tree), []
            for n in found[0]:
                if is_table_function(n):
                    raise Unsupported(f"table functions are {HINT}")
                found[1].append(self._name(n, default_schema))
            if parsed:
                parsed.tables[default_schema] = found
        nodes, names = found
        # each table is a round trip to the catalog: ask for a statement's tables together
        todo = set(names)
        if self._table_cache().reuses:
            loaded.update(self._table_cache().load_many(sorted(todo, key=str)))
        elif len(todo) > 1:
            loaded.update(load_tables(self.lh.catalog, todo))
        return [(node, self._resolve(node, name, loaded)) for node, name in zip(nodes, names, strict=True)]

    def _prepare(
        self,
        tree: exp.Expr,
        values: list[Any],
        default_schema: str,
        resolved: list[tuple[exp.Table, Resolved]] | None = None,
        text: str | None = None,
    ) -> str:
        """Make a view per table reference and return the DuckDB SQL over them (`tree` is left
        as it is; `text`: what identifies the tree, when the caller has it: its SQL text)."""
        if resolved is None:
            resolved = self._references(tree, default_schema)
        views: list[str] = []  # one per reference, in tree order
        used: dict[str, tuple[Resolved, Plan]] = {}
        for i, (_, res) in enumerate(resolved, 1):
            plan = self._plan(res)
            views.append(self._view_name(res, plan, i))
            used.setdefault(views[-1], (res, plan))
        distinct = list(dict.fromkeys(views))  # view i + 1 is placeholder i + 1 in the translation
        slot = {v: i for i, v in enumerate(distinct)}
        text = text or tree.sql("trino")
        key = self.translations.key(
            text,
            default_schema,
            [slot[v] + 1 for v in views],
            [used[v][1].columns_key for v in distinct],
            [python_type(v).sql() for v in values],
        )

        def make(names: Sequence[str]) -> Translation:  # names: placeholders, or `distinct` itself
            work = tree.copy()  # `names` replace its table names
            for node, view in zip(table_nodes(work), views, strict=True):
                alias = node.args.get("alias") or exp.TableAlias(this=exp.to_identifier(node.name))
                node.replace(exp.Table(this=exp.to_identifier(names[slot[view]]), alias=alias))
            schema = {name: used[v][1].columns for name, v in zip(names, distinct, strict=True)}
            translated = translate(cast(exp.Expression, work), schema, values)
            # no tree copy (it was half of what a cold _prepare spent besides translating): the
            # tree is dropped once its views' uses are read
            return Translation(translated.sql("duckdb", copy=False), uses_of(translated, names))

        found = self.translations.get(key, text, distinct, make)
        scans = {v: self._register(v, *used[v], use) for v, use in zip(distinct, found.uses, strict=True)}
        self.last_scans = [scans[v] for v in views]
        return found.sql

    def _view_name(self, res: Resolved, plan: Plan, position: int) -> str:
        """A table snapshot DuckDB reads from its Parquet files gets a view of its own, kept on
        the connection for every later statement over it (statements over the same tables then
        create no views, and the translation cache sees the same names); one read through
        pyiceberg's Arrow scan gets a name for this reference only (its data lives one statement)."""
        if plan.blocker is not None:
            return f"__lk_{position}"
        key = (str(res.name), res.snapshot_id)
        name = self._stable.get(key)
        if name is None:
            if len(self._stable) >= MAX_VIEWS:
                self._forget_views()
            self._named += 1  # never reused: a name stays one table snapshot's within a statement
            name = self._stable[key] = f"__lk_t{self._named}"
        return name

    def _forget_views(self) -> None:
        """Drop every kept view (so there are never more than MAX_VIEWS); one the running
        statement has named already is made again when it is registered."""
        if self._con is not None:
            with self._guard.native():
                for view, ddl in list(self._views.items()):
                    if ddl is not None:
                        self._con.execute(f'DROP VIEW IF EXISTS "{view}"')
                        del self._views[view]
        self._stable.clear()

    def prefetch(self, names: Iterable[TableName], budget_s: float = 2.0) -> int:
        """Load, plan and make the views of these tables before any query needs them (the
        notebook's warm-up, while the user writes a cell): a first query over them then reads
        no metadata and creates no view. One table at a time under the statement lock; stops
        after `budget_s`, or as soon as a statement begins (the user is running cells: each
        prepares what it reads, as without a prefetch, and nothing competes with it). Returns
        how many were prepared."""
        deadline, done, begun = time.monotonic() + budget_s, 0, self._started
        for name in names:
            if time.monotonic() > deadline:
                break
            with self._lock:
                if self._closed or self._started != begun:  # closed, or the user runs a statement
                    break
                table = self._table_cache().load(name)
                snapshot = self._current(name, table)
                res = Resolved(name, table, snapshot.snapshot_id if snapshot else None)
                plan = self._plan(res)
                if plan.blocker is None and plan.files and is_local(plan.files[0]):
                    self._register(self._view_name(res, plan, 0), res, plan, ALL)
                    done += 1
        return done

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

    def _register(self, view: str, res: Resolved, plan: Plan, use: ViewUse) -> Scan:
        return register_view(self.con, self._guard.native, self._views, view, res, plan, use, self.file_copies)

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
        parsed: Parsed,
        values: list[Any],
        default_schema: str,
        limit: int | None,
        progress: Callable | None,
        cache: bool = True,
    ) -> tuple[pa.Table, bool, str]:
        hit, key, cached = "off", None, None
        tree, self.last_run_s = parsed.tree, 0.0
        refs = self._references(tree, default_schema, parsed)
        if cache and parsed.deterministic:
            # keyed on the statement and its inputs pinned to snapshots, before any view or
            # translation: a hit costs the catalog look-ups and nothing else
            inputs = [(str(r.name), r.snapshot_id) for _, r in refs]
            catalog = self.lh.config.catalog
            scope = f"{catalog.get('uri')}|{catalog.get('warehouse')}|{default_schema}"
            key = self.results.key(parsed.normal, values, inputs, limit, scope)
            cached = self.results.get(key)
        if cached is not None:
            table, hit = cached, "hit"
            self.last_scans = [Scan(str(r.name), r.snapshot_id, "cache", "inputs unchanged", 0) for _, r in refs]
        else:
            try:
                duck_sql = self._prepare(tree, values, default_schema, refs, parsed.text)
                if limit is not None:
                    duck_sql = f"SELECT * FROM ({duck_sql}) LIMIT {int(limit) + 1}"
                began = time.perf_counter()
                table = self._run(duck_sql, values, progress)
                self.last_run_s = time.perf_counter() - began
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

"""The %%trino cell magic: options on the magic line, Trino SQL in the body.

A thin wrapper over lh.engine(...).execute / lakelab.transform: it binds `{{ name }}` values
(from --param or the notebook namespace), composes saved queries as CTEs, shows a live progress
line and a bounded result that says which engine ran, and completes table names."""

from __future__ import annotations

import inspect
import re
import shlex
import time
from typing import Any

from IPython.core.error import UsageError as IPythonUsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class, no_var_expand
from IPython.core.magic_arguments import argument, magic_arguments

from lakelab.engines.templating import template_names
from lakelab.errors import InvalidInput, NotFound
from lakelab.names import ident
from lakelab.notebook.display import ProgressDisplay, write_html
from lakelab.notebook.magics import UsageError, user_errors

DEFAULT_LIMIT = 1000
PROGRESS_DELAY_S = 0.5  # the progress line appears once a query has run this long (no flicker)
_WITH = re.compile(r"\A\s*WITH\s+(?!RECURSIVE\b)", re.I)
_INT = re.compile(r"-?\d+\Z")
_FLOAT = re.compile(r"-?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][-+]?\d+)\Z")


def parse_param(text: str) -> tuple[str, Any]:
    """--param NAME=VALUE; integers and decimals become numbers, the rest stays text."""
    name, sep, value = text.partition("=")
    if not sep:
        raise UsageError(f"--param {text!r} must look like NAME=VALUE")
    name = name.strip()
    if not re.match(r"[A-Za-z_][A-Za-z0-9_]*\Z", name):
        raise UsageError(f"--param name {name!r} is not a valid variable name")
    if _INT.match(value):
        return name, int(value)
    if _FLOAT.match(value):
        return name, float(value)
    return name, value


def compose(sql: str, saved: dict[str, str], names: list[str]) -> str:
    """Prepend saved queries as CTEs (`--with a --with b`)."""
    if not names:
        return sql
    ctes = []
    for raw in names:
        name = ident(raw, "saved query name")
        if name not in saved:
            raise NotFound(
                f"no saved query named {name!r}",
                hint=f"save one with --save {name}" + (f"; saved: {', '.join(sorted(saved))}" if saved else ""),
            )
        ctes.append(f'"{name}" AS (\n{saved[name]}\n)')
    head = "WITH " + ",\n".join(ctes)
    m = _WITH.match(sql)
    return f"{head},\n{sql[m.end() :]}" if m else f"{head}\n{sql}"


def convert(result: Any, fmt: str) -> Any:
    return {"pandas": result.to_pandas, "polars": result.to_polars, "arrow": result.to_arrow}[fmt]()


@magics_class
class SqlMagics(Magics):
    def __init__(self, shell: Any = None, lakehouse: Any = None):
        super().__init__(shell)
        self._lh = lakehouse
        self.saved: dict[str, str] = {}

    @property
    def lh(self):
        if self._lh is None:
            from lakelab.notebook.warmup import lakehouse

            self._lh = lakehouse()
        return self._lh

    @no_var_expand
    @cell_magic
    @magic_arguments()
    @argument("-o", "--output", metavar="NAME", help="store the result (bounded by -l) in this variable")
    @argument("-l", "--limit", type=int, default=None, help=f"rows to fetch (default {DEFAULT_LIMIT})")
    @argument("--no-limit", action="store_true", help="fetch every row")
    @argument("--no-cache", action="store_true", help="run the query even if its inputs are unchanged")
    @argument("--engine", choices=("trino", "duckdb"), default=None, help="default: the configured engine")
    @argument("--catalog", default=None)
    @argument("--schema", default=None)
    @argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a {{ NAME }} value; quote it as in a shell when it holds spaces or quotes",
    )
    @argument("--into", metavar="TABLE", default=None, help="write the result to a dataset")
    @argument("--mode", choices=("create", "append", "overwrite"), default=None, help="with --into")
    @argument(
        "--save", metavar="NAME", default=None, help="save this query for --with (checked, not shown; add --show)"
    )
    @argument("--show", action="store_true", help="with --save: also run the query and show the result")
    @argument(
        "--with", dest="with_", action="append", default=[], metavar="NAME", help="prepend a saved query as a CTE"
    )
    @argument("--explain", action="store_true", help="show the plan instead of running")
    @argument(
        "--interact",
        action="append",
        default=[],
        metavar="NAME",
        help="controls for {{ NAME }} (NAME=MIN:MAX or ns.t.col)",
    )
    @argument("--format", choices=("pandas", "polars", "arrow"), default="pandas", help="type of -o")
    @user_errors
    def trino(self, line: str, cell: str = "") -> Any:
        """Run Trino SQL (on Trino, or the embedded DuckDB engine when none is configured)."""
        try:  # shell-style quoting, so --param n="two words" is one value
            args = self.trino.parser.parse_args(shlex.split(line))
        except (IPythonUsageError, ValueError) as e:  # ValueError: an unclosed quote
            raise UsageError(f"%%trino: {e}", hint="see %%trino? for the options") from None
        sql = (cell or "").strip().rstrip(";").strip()
        if not sql:
            raise UsageError("%%trino: the cell has no SQL (options go on the %%trino line, SQL below it)")
        if args.limit is not None and (args.no_limit or args.limit < 0):
            raise UsageError("%%trino: use either -l N (N >= 0) or --no-limit")
        if args.mode and not args.into:
            raise UsageError("%%trino: --mode only applies with --into TABLE")
        if args.output is not None and not args.output.isidentifier():
            raise UsageError(f"%%trino: -o {args.output!r} is not a valid variable name")
        sql = compose(sql, self.saved, args.with_)
        if args.save:
            self.saved[ident(args.save, "saved query name")] = sql
        params = self._params(sql, args.param)
        engine_name = args.engine or self.lh.config.engine
        if args.into:
            return self._into(args, sql, params, engine_name)
        engine = self.lh.engine(engine_name)
        session = self._session(engine, args)
        if args.no_cache:
            session["cache"] = False
        if args.explain:
            return self._explain(engine, sql, params, session)
        limit = None if args.no_limit else (DEFAULT_LIMIT if args.limit is None else args.limit)
        if args.save and not (args.show or args.output or args.interact):
            return self._saved(engine, args.save, sql, params, session)
        if args.interact:  # controls that re-run the query (notebook/widgets/interact.py)
            from lakelab.notebook.widgets.interact import InteractiveQuery

            return InteractiveQuery(self.lh, engine, sql, params, args.interact, limit, session)
        progress = ProgressDisplay(engine.name, PROGRESS_DELAY_S)
        try:
            result = engine.execute(sql, params, limit=limit, progress=progress, **session)
        finally:
            progress.close()
        from lakelab.notebook.widgets.grid import with_grid  # anywidget: loaded by the warm-up

        result = with_grid(result, engine, params, session, self.lh)  # the grid in JupyterLab
        if args.output:
            if self.shell is None:
                raise UsageError("%%trino: -o needs an IPython shell")
            self.shell.user_ns[args.output] = convert(result, args.format)
            self._show(result)
            return None
        return result

    @line_magic
    @user_errors
    def sql_cache(self, line: str) -> None:
        """%sql_cache clear: forget every stored query result and translation (this kernel's and on disk)."""
        if line.strip() != "clear":
            raise UsageError("usage: %sql_cache clear", hint="it forgets every result the cache holds")
        n = self.lh.clear_result_cache()
        print(f"lakelab: result cache cleared ({n} result{'s' if n != 1 else ''})")

    # -- pieces ------------------------------------------------------------------------------
    def _saved(self, engine: Any, name: str, sql: str, params: dict[str, Any], session: dict[str, Any]) -> None:
        """--save without --show: the query runs for no rows (so a broken query fails now, not
        in the cell that uses it) and one line says what was saved."""
        try:
            result = engine.execute(sql, params, limit=0, **session)
        except BaseException:
            self.saved.pop(ident(name, "saved query name"), None)
            raise
        cols = result.table.column_names
        shown = ", ".join(cols[:8]) + (f", … ({len(cols)} columns)" if len(cols) > 8 else "")
        print(f"saved query {name} ({shown}): use it with %%trino --with {name}; add --show to see its rows")
        return None

    def _params(self, sql: str, given: list[str]) -> dict[str, Any]:
        ns = self.shell.user_ns if self.shell is not None else {}
        params = {n: ns[n] for n in template_names(sql) if n in ns}
        params.update(parse_param(p) for p in given)
        return params

    @staticmethod
    def _session(engine: Any, args: Any) -> dict[str, Any]:
        session = {k: v for k, v in (("catalog", args.catalog), ("schema", args.schema)) if v}
        if session and not {"catalog", "schema"} <= set(inspect.signature(engine.execute).parameters):
            raise InvalidInput(f"the {engine.name} engine does not take --catalog/--schema")
        return session

    def _explain(self, engine: Any, sql: str, params: dict[str, Any], session: dict[str, Any]) -> Any:
        if hasattr(engine, "explain"):
            return engine.explain(sql, params, **session)
        return engine.execute("EXPLAIN " + sql, params, **session)

    def _into(self, args: Any, sql: str, params: dict[str, Any], engine_name: str) -> None:
        from lakelab.write.transform import transform

        if args.explain or args.output:
            raise UsageError("%%trino: --into writes a table; it does not combine with --explain or -o")
        progress = ProgressDisplay(engine_name, PROGRESS_DELAY_S)
        try:
            report = transform(
                self.lh,
                args.into,
                sql=sql,
                mode=args.mode or "create",
                engine=engine_name,
                params=params,
                schema=args.schema,
                catalog=args.catalog,
                progress=progress,
            )
        finally:
            progress.close()
        self._display_html(write_html(report, engine_name))
        return None

    @staticmethod
    def _display_html(text: str) -> None:
        from IPython.display import HTML, display

        display(HTML(text))

    def _show(self, result: Any) -> None:
        from IPython.display import display

        display(result)


# -- table-name completion ------------------------------------------------------------------
_CACHE: dict[str, Any] = {"at": 0.0, "names": []}
CACHE_S = 30.0


def table_names(lh: Any) -> list[str]:
    """`namespace.table` for every table in the catalog (cached briefly: completion is hot)."""
    now = time.monotonic()
    if now - _CACHE["at"] > CACHE_S or _CACHE.get("lh") is not lh:
        names = []
        for ns in lh.catalog.list_namespaces():
            names.append(".".join(ns))
            names.extend(".".join(t) for t in lh.catalog.list_tables(ns))
        _CACHE.update(at=now, names=sorted(names), lh=lh)
    return _CACHE["names"]


_TABLE_REF = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+([A-Za-z_][\w]*(?:\.[A-Za-z_][\w]*)+)", re.I)


def column_names(lh: Any, sql: str) -> list[str]:
    """The columns of every `namespace.table` the cell's SQL reads (FROM/JOIN), from the
    search index: what completes after a table name is written."""
    from lakelab.catalog.index import index_for

    index = index_for(lh)
    out: list[str] = []
    for name in dict.fromkeys(m.group(1).lower() for m in _TABLE_REF.finditer(sql)):
        out += [c for c in index.columns_of(name) if c not in out]
    return out


def make_matcher(get_lh: Any):
    from IPython.core.completer import SimpleCompletion, context_matcher

    @context_matcher()
    def trino_tables(context):
        first = context.full_text.lstrip().split("\n", 1)[0]
        if not first.startswith("%%trino") or context.cursor_line == 0:
            return {"completions": [], "suppress": False}
        token = context.token.rsplit(" ", 1)[-1]
        try:
            lh = get_lh()
            names = table_names(lh)
            columns = column_names(lh, context.full_text) if "." not in token else []
        except Exception:  # noqa: BLE001 - completion must never raise into the editor
            names, columns = [], []
        low = token.lower()
        matches = [SimpleCompletion(c, type="column") for c in columns if c.lower().startswith(low)]
        matches += [SimpleCompletion(n, type="table") for n in names if n.startswith(low)]
        return {"completions": matches, "suppress": bool(matches)}

    return trino_tables


def on_load(ipython: Any) -> None:
    """Register the %%trino table-name completer (called by lakelab.magics)."""
    magics = ipython.magics_manager.registry.get("SqlMagics")
    completer = getattr(ipython, "Completer", None)
    if completer is None or magics is None:
        return
    if not any(getattr(m, "__qualname__", "").endswith("trino_tables") for m in completer.custom_matchers):
        completer.custom_matchers.append(make_matcher(lambda: magics.lh))

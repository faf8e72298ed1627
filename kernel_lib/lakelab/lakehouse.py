"""The Lakehouse: the one object the notebook, the CLI and the server all use.

It only wires the configured parts together; each primitive lives in its own module
(write/ingest.py, write/transform.py, write/publish.py - all writing through write/commit.py -,
datasets/, engines/)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from pyiceberg.catalog import Catalog

from lakelab.catalog.access import open_catalog
from lakelab.config import Config, load_config
from lakelab.errors import InvalidInput, NotFound
from lakelab.names import TableName, table_name

if TYPE_CHECKING:
    from lakelab.datasets.dataset import Dataset
    from lakelab.engines.base import Engine, Result
    from lakelab.engines.cache import ResultCache
    from lakelab.engines.duckdb.translations import Translations
    from lakelab.write.report import WriteReport


class Lakehouse:
    def __init__(self, config: Config | None = None):
        self.config = config or load_config()
        from lakelab.engines.run_context import apply_environment

        apply_environment()  # a dashboard's kernel: record reads / pin inputs (no-op elsewhere)
        self._engines: dict[str, Engine] = {}
        self._lock = threading.Lock()
        from lakelab.lineage import openlineage

        openlineage.check()  # a malformed OpenLineage config warns now, not at the first write
        from lakelab.usage import recorder

        recorder.attach(self)  # this process's queries are recorded here (usage/recorder.py)

    def __repr__(self) -> str:
        return f"<Lakehouse catalog={self.config.catalog_name!r} engine={self.config.engine!r} home={self.config.home}>"

    @cached_property
    def catalog(self) -> Catalog:
        """The pyiceberg Catalog itself."""
        return open_catalog(self.config)

    @cached_property
    def result_cache(self) -> ResultCache:
        """Query results pinned to their inputs' snapshots, shared by both engines
        (engines/cache.py): in memory, and on disk under <home>/cache/results/<user>/."""
        from lakelab.engines.cache import ResultCache, default_user

        return ResultCache(self.config.home / "cache" / "results" / default_user())

    @cached_property
    def translations(self) -> Translations:
        """The embedded engine's Trino -> DuckDB translations (engines/duckdb/translations.py):
        in memory, and on disk under <home>/cache/translations/<user>/ for later kernels."""
        from lakelab.engines.cache import default_user
        from lakelab.engines.duckdb.translations import Translations

        return Translations(self.config.home / "cache" / "translations" / default_user())

    def clear_result_cache(self) -> int:
        """Forget every stored query result and translation, in this process and on disk;
        returns how many results there were."""
        self.translations.clear()
        return self.result_cache.clear()

    @property
    def catalog_names(self) -> frozenset[str]:
        """Names a query may use for this catalog: pyiceberg's, and Trino's catalog for it."""
        names = {self.config.catalog_name.lower()}
        if self.config.trino:
            names.add(self.config.trino.catalog.lower())
        return frozenset(names)

    def table_name(self, name: str | TableName) -> TableName:
        return table_name(name, catalog=self.catalog_names)

    # -- engines -----------------------------------------------------------------------
    def engine(self, name: str | None = None) -> Engine:
        name = name or self.config.engine
        with self._lock:
            if name not in self._engines:
                if name == "duckdb":
                    from lakelab.engines.duckdb.engine import DuckDBEngine

                    self._engines[name] = DuckDBEngine(self)
                elif name == "trino":
                    if not self.config.trino:
                        raise InvalidInput(
                            "no Trino is configured",
                            hint="run `lakelab services up` or add a trino section to the config; "
                            "--engine duckdb runs locally",
                        )
                    from lakelab.engines.trino.engine import TrinoEngine

                    self._engines[name] = TrinoEngine(self)
                else:
                    raise InvalidInput(f"unknown engine {name!r}", hint="use trino or duckdb")
            return self._engines[name]

    def sql(
        self,
        sql: str,
        engine: str | None = None,
        params: dict[str, Any] | None = None,
        limit: int | None = None,
        progress: Callable[[dict[str, Any]], None] | None = None,
        cache: bool = True,
    ) -> Result:
        """Run Trino-dialect SQL. `{{ name }}` placeholders bind `params`; see templating.py.
        A query whose inputs are unchanged since it last ran is answered from the result cache
        unless `cache=False`."""
        return self.engine(engine).execute(sql, params, limit=limit, progress=progress, cache=cache)

    # -- the three primitives ----------------------------------------------------------
    def ingest(
        self,
        source: Any,
        table: str,
        mode: str = "append",
        partition_by: Any = None,
        key: Any = None,
        format: str | None = None,
        evolve: bool = False,
        progress: bool | None = None,
    ) -> WriteReport:
        from lakelab.write.ingest import ingest

        return ingest(
            self,
            source,
            table,
            mode=mode,
            partition_by=partition_by,
            key=key,
            format=format,
            evolve=evolve,
            progress=progress,
        )

    def transform(
        self,
        out: str,
        sql: str | None = None,
        fn: Callable | None = None,
        inputs: Iterable[str] | None = None,
        workspace: str | None = None,
        mode: str = "create",
        engine: str | None = None,
        params: dict[str, Any] | None = None,
        schema: str | None = None,
        catalog: str | None = None,
    ) -> WriteReport:
        """`schema`/`catalog`: defaults for unqualified table names in `out` and the SQL.
        With `workspace`, `fn` runs on that Ray workspace (SQL runs on an engine)."""
        from lakelab.write.transform import check_request, transform

        if workspace is not None:
            if sql is not None:
                raise InvalidInput("SQL transforms run on an engine, not a workspace", hint="drop workspace=")
            from lakelab.workspaces.transform import run

            name = check_request(self, out, sql, fn, mode, schema, catalog)
            return run(
                self, name.dotted, fn=cast(Callable, fn), inputs=list(inputs or []), workspace=workspace, mode=mode
            )
        return transform(
            self,
            out,
            sql=sql,
            fn=fn,
            inputs=inputs,
            mode=mode,
            engine=engine,
            params=params,
            schema=schema,
            catalog=catalog,
        )

    def publish(
        self,
        obj: Any,
        name: str,
        kind: str | None = None,
        description: str | None = None,
        owner: str | None = None,
        tags: Any = None,
        mode: str = "overwrite",
        inputs: Any = None,
    ):
        """`inputs`: datasets the object was made from (recorded as lineage with their snapshots)."""
        from lakelab.write.publish import publish

        return publish(
            self, obj, name, kind=kind, description=description, owner=owner, tags=tags, mode=mode, inputs=inputs
        )

    # -- discovery ---------------------------------------------------------------------
    def datasets(
        self,
        query: str | None = None,
        kind: str | None = None,
        owner: str | None = None,
        tag: str | None = None,
        namespace: str | None = None,
        limit: int = 100,
    ):
        from lakelab.datasets.search import search

        return search(self, query=query, kind=kind, owner=owner, tag=tag, namespace=namespace, limit=limit)

    def dataset(self, name: str) -> Dataset:
        from lakelab.datasets.dataset import Dataset

        return Dataset(self, self.table_name(name))

    def close(self) -> None:
        from lakelab.usage import recorder

        recorder.detach(self)
        for e in self._engines.values():
            e.close()
        self._engines.clear()
        if "catalog" in self.__dict__:  # opened (a cached_property)
            from lakelab.catalog.access import close_catalog

            close_catalog(self.catalog)


_default: Lakehouse | None = None


def connect(config: Config | str | None = None, *, reload: bool = False) -> Lakehouse:
    """The configured lakehouse (or the embedded default). Cached per process unless a
    config is passed or `reload` is set."""
    global _default
    if isinstance(config, str) and not Path(config).expanduser().exists():  # a typo must not mean "defaults"
        raise NotFound(f"config file {config} does not exist", hint="check the path, or call connect() for the default")
    if config is not None:
        return Lakehouse(load_config(config) if isinstance(config, str) else config)
    if _default is None or reload:
        _default = Lakehouse()
    return _default

"""Opening the configured pyiceberg catalog (the embedded SQLite SqlCatalog by default)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.exceptions import (
    BadRequestError,
    ForbiddenError,
    NoSuchNamespaceError,
    NoSuchTableError,
    OAuthError,
    RESTError,
    UnauthorizedError,
)
from pyiceberg.table import Table
from requests.adapters import HTTPAdapter

from lakelab.config import Config, redact
from lakelab.errors import InvalidInput, LakelabError, NotFound, Unavailable
from lakelab.io import fileio
from lakelab.names import TableName

AUTH_ERRORS = (UnauthorizedError, ForbiddenError, OAuthError)

# Writer settings measured to read fastest from DuckDB and Trino (FIELD-NOTES: snappy and
# 128k-row groups read at 0.95x of the generator's own files; ZSTD at 1.27x).
WRITE_PROPERTIES = {
    "write.parquet.compression-codec": "snappy",
    "write.parquet.row-group-limit": "131072",
}


def open_catalog(config: Config) -> Catalog:
    props: dict[str, Any] = {k: v for k, v in config.catalog.items() if k != "name"}
    props.setdefault("py-io-impl", fileio.NAME)  # PyArrowFileIO with a bound on GCS retries
    if config.catalog.get("type", "sql") == "sql" and str(props.get("uri", "")).startswith("sqlite:///"):
        config.home.mkdir(parents=True, exist_ok=True)
        config.warehouse.mkdir(parents=True, exist_ok=True)
    try:
        catalog = load_catalog(config.catalog_name, **props)
    except AUTH_ERRORS as e:
        raise refused(e, config.catalog_name) from None
    except Exception as e:  # noqa: BLE001 - any driver error means "cannot open"
        raise Unavailable(
            f"cannot open catalog {config.catalog_name!r} ({redact(props.get('uri', props.get('type', '?')))}): "
            f"{type(e).__name__}: {redact(str(e))}",
            hint="check the catalog section of the lakelab config, or run `lakelab doctor`",
        ) from None
    _bound_requests(catalog)
    return catalog


REST_TIMEOUT_S = (10.0, 60.0)  # connect, read


class _TimeoutAdapter(HTTPAdapter):
    """Requests without a timeout of their own get REST_TIMEOUT_S."""

    def send(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        if not args and kwargs.get("timeout") is None:  # Session.send passes its options by keyword
            kwargs["timeout"] = REST_TIMEOUT_S
        return super().send(request, *args, **kwargs)


def _bound_requests(catalog: Catalog) -> None:
    """pyiceberg's REST client sends every call without a timeout, so a catalog that hangs hangs
    the notebook. Measured: Iceberg's REST server with its GCS store down took 644 s to answer a
    table look-up with a 500 (Iceberg retries the metadata read 20 times, each retried by the GCS
    client). A call that times out is reported as the catalog's failure (catalog_failure), and a
    commit whose answer is lost is looked for before anything is cleaned up (write/commit.py)."""
    session = getattr(catalog, "_session", None)
    if session is not None and hasattr(session, "mount"):
        adapter = _TimeoutAdapter()
        session.mount("http://", adapter)
        session.mount("https://", adapter)


def close_catalog(catalog: Catalog) -> None:
    """Release the catalog's database connections: pyiceberg's SqlCatalog keeps a pool of up to
    15 per catalog, open until the garbage collector finds it, and a server that opens many
    lakehouses would run the database out of connections. The catalog stays usable (it
    connects again on its next call)."""
    dispose = getattr(getattr(catalog, "engine", None), "dispose", None)
    if callable(dispose):
        dispose()


def load_table(catalog: Catalog, name: TableName) -> Table:
    try:
        with answered(catalog):
            return catalog.load_table(name.identifier)
    except (NoSuchTableError, NoSuchNamespaceError):
        near = closest_tables(catalog, name.identifier)
        raise NotFound(
            f"dataset {name} does not exist" + (f"; did you mean {' or '.join(near)}?" if near else ""),
            hint="list datasets with lh.datasets() or create it with %ingest",
        ) from None


@contextlib.contextmanager
def answered(catalog: Catalog) -> Iterator[None]:
    """Calls to `catalog` inside: its failures (catalog_failure) raised as the user's error."""
    try:
        yield
    except Exception as e:
        failed = catalog_failure(e, catalog.name, connections=True)
        if failed is None:
            raise
        raise failed from None


def catalog_failure(e: BaseException, catalog: str | None = None, connections: bool = False) -> LakelabError | None:
    """A REST catalog's error answer as the user's one line; None for any other error.
    `connections`: also a refused or timed-out connection (only where the call was certainly
    the catalog's: Trino's client raises the same requests errors).

    A REST catalog reads and writes table metadata in the object store, so a store that is down
    reaches the user as the catalog's 500; the hint says where to look."""
    import requests

    which = f"the catalog {catalog!r}" if catalog else "the catalog"
    text = f"{type(e).__name__}: {redact(str(e).splitlines()[0])}" if str(e) else type(e).__name__
    if isinstance(e, AUTH_ERRORS):
        return refused(e, catalog)
    if isinstance(e, BadRequestError):
        return InvalidInput(f"{which} refused the request ({text})")
    hint = (
        "it, or the object store it keeps metadata in, may be down: `lakelab services status` shows the "
        "services lakelab started and `lakelab doctor` checks the config; then run it again"
    )
    if connections and isinstance(e, requests.ConnectTimeout):
        return Unavailable(f"{which} could not be reached within {REST_TIMEOUT_S[0]:g} s", hint=hint)
    if connections and isinstance(e, requests.Timeout):
        return Unavailable(f"{which} did not answer within {REST_TIMEOUT_S[1]:g} s", hint=hint)
    if isinstance(e, RESTError) or (connections and isinstance(e, requests.ConnectionError)):
        return Unavailable(f"{which} failed to answer ({text})", hint=hint)
    return None


def refused(e: BaseException, catalog: str | None) -> Unavailable:
    """A REST catalog (or its OAuth2 server) refused lakelab's credentials: say so, and which
    settings to look at, never their values (the server's own text is redacted as well)."""
    return Unavailable(
        f"the catalog{f' {catalog!r}' if catalog else ''} refused the credentials in the lakelab config "
        f"({type(e).__name__}: {redact(str(e))})",
        hint="check `token` (a bearer token), or `credential` (client_id:client_secret) with `oauth2-server-uri`, "
        "in the catalog section of the lakelab config; an expired token must be replaced",
    )


def load_tables(catalog: Catalog, names: Iterable[TableName]) -> dict[TableName, Table]:
    """Several tables at once: concurrently, since each is a round trip to a remote catalog."""
    todo = sorted(set(names), key=str)
    if len(todo) <= 1:
        return {n: load_table(catalog, n) for n in todo}
    with ThreadPoolExecutor(max_workers=min(8, len(todo)), thread_name_prefix="lakelab-load") as pool:
        return dict(zip(todo, pool.map(lambda n: load_table(catalog, n), todo), strict=True))


class TableCache:
    """Loaded tables, reused while the catalog still points at the same metadata file.

    Loading a table reads and parses its metadata JSON, which is most of what a repeated query
    spends before it runs. A SQL catalog says where the metadata is now with one indexed row,
    so a table whose metadata location has not moved is answered from here; other catalogs are
    asked every time (a REST catalog's answer already carries the metadata)."""

    def __init__(self, catalog: Catalog, size: int = 256):
        self.catalog = catalog
        self.size = size
        self._tables: dict[TableName, Table] = {}
        self._query: Any = None

    @property
    def reuses(self) -> bool:
        """Whether tables are answered from here (a SQL catalog) or asked for every time."""
        from pyiceberg.catalog.sql import SqlCatalog

        return isinstance(self.catalog, SqlCatalog)

    def load(self, name: TableName) -> Table:
        return self.load_many([name])[name]

    def load_many(self, names: Iterable[TableName]) -> dict[TableName, Table]:
        """Several tables, with one look-up of where their metadata is now (a statement's
        tables together: one round trip, not one per table)."""
        todo = list(dict.fromkeys(names))
        locations = self._locations(todo)
        out = {}
        for name in todo:
            cached = self._tables.get(name)
            location = locations.get(name)
            if location is not None and cached is not None and cached.metadata_location == location:
                out[name] = cached
                continue
            table = load_table(self.catalog, name)
            if len(self._tables) >= self.size:
                self._tables.clear()
            self._tables[name] = out[name] = table
        return out

    def _locations(self, names: list[TableName]) -> dict[TableName, str]:
        from pyiceberg.catalog.sql import SqlCatalog
        from sqlalchemy import bindparam, text

        if not names or not isinstance(self.catalog, SqlCatalog):
            return {}
        if self._query is None:  # one text statement, compiled once (an ORM select costs ms)
            self._query = text(
                "SELECT table_namespace, table_name, metadata_location FROM iceberg_tables "
                "WHERE catalog_name = :c AND table_name IN :t"
            ).bindparams(bindparam("t", expanding=True))
        wanted = {(self.catalog.namespace_to_string(n.namespace), n.name): n for n in names}
        binds = {"c": self.catalog.name, "t": sorted({n.name for n in names})}
        try:
            with self.catalog.engine.connect() as conn:
                rows = conn.execute(self._query, binds).fetchall()
        except Exception:  # noqa: BLE001 - load_table asks again and reports the problem
            return {}
        return {wanted[(ns, t)]: loc for ns, t, loc in rows if (ns, t) in wanted and loc}


def closest(word: str, candidates: Iterable[str], n: int = 2) -> list[str]:
    """The candidates closest to a misspelt `word` (edit similarity), best first."""
    import difflib

    by_lower: dict[str, str] = {}
    for c in candidates:
        by_lower.setdefault(c.lower(), c)
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=n, cutoff=0.6)
    score = [difflib.SequenceMatcher(None, word.lower(), f).ratio() for f in found]
    # only near-ties of the best: "demo.fligths" suggests demo.flights, not demo.airports too
    return [by_lower[f] for f, r in zip(found, score) if r >= score[0] - 0.05]


def closest_tables(catalog: Catalog, identifier: tuple[str, ...], n: int = 2) -> list[str]:
    """Existing tables whose dotted names are closest to `identifier`: the tables of its
    namespace, or of every namespace when that namespace does not exist (a typo in it)."""
    ns = tuple(identifier[:-1])
    try:
        try:
            tables = catalog.list_tables(ns)
        except NoSuchNamespaceError:
            tables = [t for other in catalog.list_namespaces() for t in catalog.list_tables(other)]
    except Exception:  # noqa: BLE001 - a suggestion must never replace the real error
        return []
    return closest(".".join(identifier), (".".join(t) for t in tables), n)


def table_exists(catalog: Catalog, name: TableName) -> bool:
    try:
        with answered(catalog):
            return catalog.table_exists(name.identifier)
    except NoSuchNamespaceError:
        return False


def ensure_namespace(catalog: Catalog, namespace: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Create each missing level (so nested namespaces list the way users expect); returns
    those it created, for drop_namespaces when the write that needed them fails."""
    created = []
    for i in range(1, len(namespace) + 1):
        try:
            catalog.load_namespace_properties(namespace[:i])
        except NoSuchNamespaceError:
            catalog.create_namespace_if_not_exists(namespace[:i])
            created.append(namespace[:i])
    return created


def drop_namespaces(catalog: Catalog, created: list[tuple[str, ...]]) -> None:
    """Undo ensure_namespace after a failed write: drop what it created, deepest first."""
    for ns in reversed(created):
        try:
            catalog.drop_namespace(ns)
        except Exception:  # noqa: BLE001 - not empty (a concurrent writer uses it): keep it
            pass

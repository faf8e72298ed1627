"""The Trino engine: Trino SQL on a Trino server through the `trino` DBAPI client.

- parameters travel as Trino parameters (`EXECUTE IMMEDIATE ... USING`), never spliced;
- progress comes from the query stats the client receives with every poll;
- Ctrl-C (KeyboardInterrupt) cancels the query on the server before re-raising (a query the
  client has not yet polled is never dispatched by Trino, so an early Ctrl-C leaves nothing);
- a bounded fetch reads `limit + 1` rows (to know whether more exist) and cancels the rest;
- errors become `EngineError` with the query id, line and column; credentials never appear.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from itertools import islice
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from lakelab.config import TrinoConfig, redact
from lakelab.engines.base import Result, ctrl_c
from lakelab.engines.cache import hit_note
from lakelab.engines.observers import Read
from lakelab.engines.trino import inputs as trino_inputs
from lakelab.engines.trino import lineage as trino_lineage
from lakelab.errors import Conflict, EngineError, InvalidInput, LakelabError, Unavailable
from lakelab.lineage.openlineage import client_tags

if TYPE_CHECKING:
    from lakelab.lakehouse import Lakehouse

Progress = Callable[[dict[str, Any]], None]

_SIMPLE = {
    "bigint": pa.int64(),
    "integer": pa.int32(),
    "smallint": pa.int16(),
    "tinyint": pa.int8(),
    "double": pa.float64(),
    "real": pa.float32(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "json": pa.string(),
    "uuid": pa.string(),
    "ipaddress": pa.string(),
}
_DECIMAL = re.compile(r"decimal\((\d+),\s*(\d+)\)\Z")
_TIMESTAMP = re.compile(r"timestamp(?:\((\d+)\))?\Z")


def arrow_type(type_code: str) -> pa.DataType | None:
    """The Arrow type for a Trino type name whose raw JSON value converts column-wise;
    None means "map each value with the client's mapper and let Arrow infer"."""
    t = type_code.lower()
    if t in _SIMPLE:
        return _SIMPLE[t]
    if t.startswith(("varchar", "char")):
        return pa.string()
    m = _DECIMAL.match(t)
    if m:
        p, s = int(m.group(1)), int(m.group(2))
        return pa.decimal128(p, s) if p <= 38 else pa.decimal256(p, s)
    m = _TIMESTAMP.match(t)
    if m:
        return pa.timestamp("ns" if int(m.group(1) or 3) > 6 else "us")
    return None


def _column(values: list[Any], type_code: str, column_info: dict[str, Any]) -> pa.Array:
    target = arrow_type(type_code)
    if target is not None:
        try:
            if pa.types.is_integer(target) or pa.types.is_boolean(target) or pa.types.is_string(target):
                return pa.array(values, target)
            if pa.types.is_floating(target):
                try:
                    return pa.array(values, target)
                except (pa.ArrowInvalid, pa.ArrowTypeError):  # "NaN", "Infinity" come as text
                    return pa.array([float(v) if isinstance(v, str) else v for v in values], target)
            # decimals, dates and timestamps arrive as text: one vectorised cast is far
            # faster than the client's per-value conversion
            return pa.array(values, pa.string()).cast(target)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            pass
    from trino.mapper import RowMapperFactory

    mapper = RowMapperFactory().create(columns=[column_info], legacy_primitive_types=False)
    mapped = [_plain(r[0]) for r in mapper.map([[v] for v in values])] if mapper else values
    try:
        if type_code.lower().startswith("map("):  # dicts would otherwise infer as structs
            keys = pa.array([k for m in mapped if m for k in m.keys()])
            items = pa.array([v for m in mapped if m for v in m.values()])
            offsets, n = [0], 0
            for m in mapped:
                n += len(m or ())
                offsets.append(n)
            mask = pa.array([m is None for m in mapped])
            return pa.MapArray.from_arrays(pa.array(offsets, pa.int32()), keys, items, mask=mask)
        return pa.array(mapped)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pa.array([None if v is None else str(v) for v in mapped], pa.string())


def _plain(v: Any) -> Any:
    """Rows (named tuples) as dicts, so Arrow builds structs; recursively through arrays."""
    names = getattr(v, "_names", None)
    if names is not None:
        return {(n or f"field{i}"): _plain(x) for i, (n, x) in enumerate(zip(names, v))}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


def to_arrow(
    rows: Sequence[Sequence[Any]], description: Sequence[Sequence[Any]] | None, columns: list[dict[str, Any]] | None
) -> pa.Table:
    if not description:
        return pa.table({})
    names = _unique([d[0] for d in description])
    # itemgetter per column: zip(*rows) over a million rows is ~10x slower
    cols = [list(map(itemgetter(i), rows)) for i in range(len(names))]
    info = columns or [{"type": d[1]} for d in description]
    arrays = [_column(c, str(d[1]), ci) for c, d, ci in zip(cols, description, info)]
    return pa.Table.from_arrays(arrays, names=names)


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        if n in seen:
            seen[n] += 1
            out.append(f"{n}_{seen[n]}")
        else:
            seen[n] = 0
            out.append(n)
    return out


def _bind(sql: str, params: Any) -> tuple[str, list[Any]]:
    """`{{ name }}` + a mapping -> `?` + values (templating.py); a list binds `?` directly."""
    if params is None or isinstance(params, dict):
        if "{{" not in sql and not params:
            return sql, []
        from lakelab.engines import templating

        rendered = templating.render(sql, params or {})
        return rendered[0], list(rendered[1])
    if isinstance(params, (list, tuple)):
        return sql, list(params)
    raise InvalidInput(f"params must be a mapping (for {{{{ name }}}}) or a list (for ?), got {type(params).__name__}")


# the client's connection errors embed whole request reprs; say only what went wrong
_REASONS = [
    ("connection refused", "connection refused"),
    ("timed out", "timed out"),
    ("name or service not known", "unknown host"),
    ("ssl", "TLS handshake failed"),
    ("certificate", "TLS certificate not trusted"),
]
# Trino's Iceberg commit lost to another writer after Iceberg's own retries, e.g. "Failed to
# commit the transaction during insert: Failed to update table due to concurrent updates"
_LOST_COMMIT = re.compile(
    r"concurrent (update|modification|commit)|CommitFailedException|"
    r"found conflicting files|cannot commit.*changed",
    re.I,
)


class TrinoEngine:
    name = "trino"

    def __init__(self, lh: Lakehouse, config: TrinoConfig | None = None):
        self.lh = lh
        config = config or lh.config.trino
        if config is None:
            raise InvalidInput("no Trino is configured", hint="run `lakelab services up`")
        self.config: TrinoConfig = config
        self._local = threading.local()  # one client connection per thread: requests sessions are not shared
        self._all: list[Any] = []
        self._running: dict[int, Any] = {}  # thread ident -> the cursor of the query it runs
        self._interrupted: dict[int, bool] = {}  # threads whose query interrupt() cancelled
        self._secrets = [s for s in (self.config.password, self.config.jwt) if s]

    def __repr__(self) -> str:
        return f"<TrinoEngine {self.config.url} user={self.config.user!r} catalog={self.config.catalog!r}>"

    # -- connection ----------------------------------------------------------------------
    def _connection(self, catalog: str | None = None, schema: str | None = None):
        import trino

        c = self.config
        auth = None
        if c.password or c.jwt:
            if c.http_scheme != "https":
                raise InvalidInput(
                    "Trino credentials (password or JWT) are only sent over https",
                    hint="set trino.http_scheme: https in the lakelab config",
                )
            auth = (
                trino.auth.JWTAuthentication(c.jwt)
                if c.jwt
                else trino.auth.BasicAuthentication(c.user, c.password or "")
            )
        kwargs = {
            "host": c.host,
            "port": c.port,
            "user": c.user,
            "http_scheme": c.http_scheme,
            "auth": auth,
            "catalog": catalog or c.catalog,
            "schema": schema or c.schema,
            "source": "lakelab",
            "client_tags": client_tags(),  # Trino's OpenLineage listener events join the notebook's run
            "session_properties": dict(c.session_properties or {}),
            "verify": c.verify,
            "legacy_primitive_types": True,
            "request_timeout": 60.0,
            "max_attempts": 1,
        }
        if catalog or schema:
            return trino.dbapi.connect(**kwargs)
        conn = getattr(self._local, "conn", None)
        if conn is None:  # one HTTP session, reused: connection setup dominates tiny queries
            conn = self._local.conn = trino.dbapi.connect(**kwargs)
            self._all.append(conn)
        return conn

    def interrupt(self, thread: int | None = None) -> None:
        """Cancel the query running on `thread` (None: every running query) on the server."""
        for ident, cur in list(self._running.items()):
            if thread is None or thread == ident:
                self._interrupted[ident] = True
                self._cancel(cur)

    def warm(self) -> None:
        """Import the client (the notebook's warm-up thread); connections are per thread."""
        import trino.dbapi
        import trino.mapper  # noqa: F401

    def close(self) -> None:
        for conn in self._all:
            conn.close()
        self._all.clear()
        self._local = threading.local()

    # -- queries -------------------------------------------------------------------------
    def execute(
        self,
        sql: str,
        params: Any = None,
        *,
        limit: int | None = None,
        progress: Progress | None = None,
        catalog: str | None = None,
        schema: str | None = None,
        lineage_sql: str | None = None,
        cache: bool = True,
    ) -> Result:
        """`lineage_sql`: the text lineage records for a CTAS/INSERT (default `sql`). A query
        reading only our catalog's tables is answered from the result cache while their
        snapshots, the SQL, parameters and limit are unchanged (`cache=False`: run it)."""
        if limit is not None and limit < 0:
            raise InvalidInput(f"limit must be >= 0, got {limit}")
        statement, values = _bind(sql.strip().rstrip(";"), params)
        if not statement.strip():
            raise InvalidInput("the SQL text is empty")
        # upstream snapshots are resolved BEFORE the write runs: what the query is about to read
        write = trino_lineage.plan_write(self.lh, statement, catalog, schema) if self.lh is not None else None
        key, pinned = self._cache_key(statement, values, limit, catalog, schema) if cache else (None, [])
        stored = self.lh.result_cache.get(key) if key else None
        if stored is not None:
            return self._from_cache(sql, stored, limit, pinned)
        conn = self._connection(catalog, schema)
        cur = conn.cursor(stats_callback=self._reporter(progress) if progress else None)
        t0 = time.perf_counter()
        me = threading.get_ident()
        self._running[me] = cur
        try:
            self._start(cur, statement, values)
            it = getattr(cur, "_iterator", None) or iter(cur.fetchone, None)
            if limit is None:
                rows = list(it)
                has_more = False
            else:
                rows = list(islice(it, limit + 1))  # stored whole: a cached answer knows has_more
                has_more = len(rows) > limit
                if has_more:  # stop the server producing rows nobody will read
                    self._cancel(cur)
            fetched = to_arrow(rows, cur.description, self._columns(cur))
            table = fetched.slice(0, limit) if has_more else fetched
        except KeyboardInterrupt:
            # a second Ctrl-C must not cut the cancel request short: it is raised after it
            with ctrl_c() as guard, guard.native():
                self._cancel(cur)
            raise
        except LakelabError:
            raise
        except Exception as e:  # noqa: BLE001 - every client failure becomes a domain error
            if me in self._interrupted:  # interrupt() cancelled it: as Ctrl-C would have
                if write is not None and write.run is not None:
                    write.run.fail(KeyboardInterrupt("cancelled"))
                raise KeyboardInterrupt from None
            err = self._error(e, cur, write.target.dotted if write is not None else None)
            if write is not None and write.run is not None:
                write.run.fail(err)
            raise err from None
        finally:
            self._running.pop(me, None)
            cancelled = self._interrupted.pop(me, None)
            if conn is not getattr(self._local, "conn", None):
                conn.close()
        update = getattr(cur, "update_type", None)
        if cancelled and not update:  # interrupted as the query finished: still a cancelled run
            raise KeyboardInterrupt
        stats = dict(cur.stats or {})
        message = None
        if update:
            n = table.column(0)[0].as_py() if table.num_rows == 1 and table.num_columns == 1 else None
            message = f"{update}: {n} rows" if n is not None else str(update)
        if write is not None and update:
            stats["lineage_snapshot_id"] = trino_lineage.record(self.lh, write, cur.query_id, lineage_sql or sql)
        if progress:
            progress(self._stats(stats, cur, final=True))
        if key and not update:
            self.lh.result_cache.put(key, fetched)
        stats["cache"] = "miss" if key and not update else "off"
        return Result(
            table=table,
            engine=self.name,
            sql=sql,
            limit=limit,
            has_more=has_more,
            query_id=cur.query_id,
            elapsed_s=time.perf_counter() - t0,
            info_url=cur.info_uri,
            stats=stats,
            message=message,
            # a write's upstream is known from its plan, a cacheable query's from its key
            reads=tuple(Read(u["table"], u.get("snapshot_id")) for u in write.upstream)
            if write
            else tuple(Read(t, s) for t, s in pinned),
        ).announce()

    def _cache_key(
        self, statement: str, values: list[Any], limit: int | None, catalog: str | None, schema: str | None
    ) -> tuple[str | None, list[tuple[str, int | None]]]:
        """The result cache's key for a query over our catalog's tables at their current
        snapshots, or None (a write, another catalog, a non-deterministic function...)."""
        if self.lh is None:
            return None, []
        resolved = trino_inputs.pinned_inputs(self.lh, statement, catalog, schema)
        if resolved is None:
            return None, []
        normal, pinned = resolved
        c = self.config
        session = sorted((c.session_properties or {}).items())
        # what else decides the answer: the server, who asks (access rules), the session
        scope = json.dumps(
            [self.name, c.url, c.user, catalog or c.catalog, schema or c.schema, session],
            default=str,
        )
        return self.lh.result_cache.key(normal, values, pinned, limit, scope), pinned

    def _from_cache(
        self, sql: str, stored: pa.Table, limit: int | None, pinned: list[tuple[str, int | None]]
    ) -> Result:
        has_more = limit is not None and stored.num_rows > limit
        return Result(
            table=stored.slice(0, limit) if has_more else stored,
            engine=self.name,
            sql=sql,
            limit=limit,
            has_more=has_more,
            elapsed_s=0.0,
            stats={"cache": "hit"},
            note=hit_note(pinned),
            reads=tuple(Read(t, s) for t, s in pinned),
        ).announce()

    @staticmethod
    def _start(cur, statement: str, values: list[Any]) -> None:
        from trino.exceptions import TrinoQueryError

        deadline = time.monotonic() + 15
        while True:
            try:
                cur.execute(statement, values or None)
                return
            except TrinoQueryError as e:
                # a just-started server rejects scans until its node list refreshes (~5 s);
                # nothing ran, so retrying is safe
                if e.error_name != "NO_NODES_AVAILABLE" or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    @staticmethod
    def _columns(cur) -> list[dict[str, Any]] | None:
        query = getattr(cur, "_query", None)
        return getattr(query, "columns", None)

    @staticmethod
    def _cancel(cur) -> None:
        try:
            cur.cancel()
        except Exception:  # noqa: BLE001 - already finished or unreachable: nothing to cancel
            pass

    def _reporter(self, progress: Progress) -> Callable[[dict[str, Any]], None]:
        def report(stats: dict[str, Any]) -> None:
            progress(self._stats(stats, None))

        return report

    def _stats(self, stats: dict[str, Any], cur, final: bool = False) -> dict[str, Any]:
        qid = stats.get("queryId") or (cur.query_id if cur is not None else None)
        pct = stats.get("progressPercentage")
        return {
            "state": stats.get("state"),
            "progress": 100.0 if final and stats.get("state") == "FINISHED" else pct,
            "rows": stats.get("processedRows"),
            "bytes": stats.get("processedBytes"),
            "elapsed_s": (stats.get("elapsedTimeMillis") or 0) / 1000.0,
            "query_id": qid,
            "info_url": f"{self.config.url}/ui/query.html?{qid}" if qid else None,
            "final": final,
        }

    def _clean(self, text: str) -> str:
        text = redact(str(text))
        for s in self._secrets:
            text = text.replace(s, "***")
        return text

    def _error(self, e: Exception, cur, target: str | None = None) -> LakelabError:
        """A domain error for a client failure; Trino's query errors carry query_id, line,
        column and error_name as attributes."""
        from trino import exceptions as tx

        qid = getattr(e, "query_id", None) or getattr(cur, "query_id", None)
        if isinstance(e, tx.TrinoQueryError):
            where = e.error_location
            # Trino prefixes "line L:C: "; we say it in words once, after the message
            msg = re.sub(r"^line \d+:\d+: ", "", self._clean(e.message))
            if e.error_name == "TRANSACTION_CONFLICT" or _LOST_COMMIT.search(msg):
                # the commit is all-or-nothing: the table is as it was, the statement can be re-run
                conflict: Any = Conflict(
                    f"another writer changed {target or 'the table'} while Trino committed this "
                    f"statement, so the table is unchanged (Trino: {msg})" + (f" [query {qid}]" if qid else ""),
                    hint="run it again",
                )
                conflict.query_id = qid
                return conflict
            if e.error_name == "TABLE_NOT_FOUND" and self.lh is not None:
                msg += _closest_table(self.lh, msg)
            loc = f" at line {where[0]}, column {where[1]}" if where else ""
            err: Any = EngineError(
                f"Trino: {msg}{loc} [query {qid}]" if qid else f"Trino: {msg}{loc}",
                hint="fix the SQL" if e.error_type == "USER_ERROR" else None,
            )
            err.query_id, err.line, err.column = qid, (where or (None, None))[0], (where or (None, None))[1]
            err.error_name = e.error_name
            return err
        if isinstance(e, tx.HttpError) and " 401" in f" {e}":
            return Unavailable(
                f"Trino at {self.config.url} refused the credentials (HTTP 401)",
                hint="check trino.user and the password/JWT in the lakelab config",
            )
        if isinstance(e, (tx.TrinoConnectionError, tx.HttpError, OSError)) or type(e).__module__.startswith(
            ("requests", "urllib3")
        ):
            text = str(e).lower()
            reason = next((why for key, why in _REASONS if key in text), type(e).__name__)
            return Unavailable(
                f"cannot reach Trino at {self.config.url}: {reason}",
                hint="is it running? `lakelab services status` says",
            )
        return EngineError(self._clean(f"Trino client error: {type(e).__name__}: {e}"))


_MISSING_TABLE = re.compile(r"Table '([^']+)' does not exist")


def _closest_table(lh: Lakehouse, message: str) -> str:
    """ "; did you mean demo.flights?" for Trino's unknown table, from our catalog's tables."""
    from lakelab.catalog.access import closest_tables

    m = _MISSING_TABLE.search(message)
    parts = tuple(m.group(1).split(".")[-2:]) if m else ()
    near = closest_tables(lh.catalog, parts) if len(parts) == 2 else []
    return f"; did you mean {' or '.join(near)}?" if near else ""

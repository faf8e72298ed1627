"""The tables a Trino statement reads, resolved through our catalog to the snapshots they have
now: the upstream of a write's lineage (lineage.py) and the inputs a cached query's key pins
(engine.py). sqlglot reads the statement; what it cannot read is left to Trino, unresolved."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import sqlglot
from sqlglot import exp

from lakelab.catalog.access import load_table
from lakelab.engines.references import is_table_function, table_nodes
from lakelab.errors import LakelabError

if TYPE_CHECKING:
    from lakelab.lakehouse import Lakehouse


def _parts(node: exp.Table) -> list[str]:
    return [p.name.lower() for p in (node.args.get("catalog"), node.args.get("db"), node.this) if p is not None]


def qualify(lh: Lakehouse, node: exp.Table, catalog: str | None, schema: str | None) -> tuple[str, list[str]]:
    """(catalog, [schema, table]) of a table reference under the session's defaults."""
    assert lh.config.trino is not None
    parts = _parts(node)
    if len(parts) == 1:
        parts = [(schema or lh.config.trino.schema or "default").lower(), *parts]
    if len(parts) == 2:
        parts = [(catalog or lh.config.trino.catalog).lower(), *parts]
    return parts[0], parts[1:]


def references(query: exp.Expression) -> list[exp.Table]:
    """The table references of a query, CTE names and table functions left out."""
    return [node for node in table_nodes(query) if not is_table_function(node)]


def upstream(lh: Lakehouse, node: exp.Table, catalog: str | None, schema: str | None) -> dict[str, Any] | None:
    """{"table", "snapshot_id"} of one reference: a table of another Trino catalog is named
    with no snapshot; one of ours that pyiceberg cannot load (a view, a missing table) is None."""
    assert lh.config.trino is not None
    cat, parts = qualify(lh, node, catalog, schema)
    if cat != lh.config.trino.catalog.lower():
        return {"table": ".".join([cat, *parts]), "snapshot_id": None}
    try:
        name = lh.table_name(".".join(parts))
        table = load_table(lh.catalog, name)
    except LakelabError:
        return None
    version = node.args.get("version")
    value = version.args.get("expression") if version is not None else None
    if version is None:
        snap = table.current_snapshot()
        return {"table": name.dotted, "snapshot_id": snap.snapshot_id if snap else None}
    if str(version.this).upper() == "VERSION" and isinstance(value, exp.Literal) and value.is_int:
        return {"table": name.dotted, "snapshot_id": int(value.this)}
    return {"table": name.dotted, "snapshot_id": None}  # FOR TIMESTAMP AS OF: not resolved here


def pinned_inputs(
    lh: Lakehouse, statement: str, catalog: str | None, schema: str | None
) -> tuple[str, list[tuple[str, int | None]]] | None:
    """(the query as sqlglot normalises it, its inputs at their snapshots) when the query reads
    our tables, only ours, at known snapshots, and nothing in it is non-deterministic;
    None otherwise (another catalog, a view, time travel by timestamp, not a query, SQL sqlglot
    cannot read): such a query is never served from the result cache."""
    from lakelab.engines.cache import deterministic

    if lh.config.trino is None:
        return None
    try:
        tree = sqlglot.parse_one(statement, read="trino")
    except sqlglot.errors.SqlglotError:
        return None
    if not isinstance(tree, exp.Query) or not deterministic(cast(exp.Expression, tree)):
        return None
    ours = lh.config.trino.catalog.lower()
    inputs = []
    for node in references(cast(exp.Expression, tree)):
        version = node.args.get("version")
        if version is not None and str(version.this).upper() != "VERSION":
            return None
        if qualify(lh, node, catalog, schema)[0] != ours:
            return None
        entry = upstream(lh, node, catalog, schema)
        if entry is None:
            return None
        inputs.append((entry["table"], entry["snapshot_id"]))
    if not inputs:  # a query over no table of ours: nothing of ours to pin it to
        return None
    return tree.sql("trino"), inputs

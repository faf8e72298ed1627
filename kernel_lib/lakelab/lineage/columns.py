"""Column lineage from a write's SQL, where sqlglot can derive it.

Each output column is traced (sqlglot.lineage, with the upstream tables' schemas so that
`SELECT *` resolves) to the upstream columns it is computed from. SQL sqlglot cannot read, or a
column it cannot trace, gives no entry for that column: never a guess.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import sqlglot
from openlineage.client.facet_v2 import column_lineage_dataset as cl
from sqlglot import exp
from sqlglot.lineage import lineage

if TYPE_CHECKING:
    from lakelab.lineage.events import TableInfo

log = logging.getLogger(__name__)
MAX_COLUMNS = 200  # tracing is per column; a very wide table keeps its first ones


def _query(sql: str) -> exp.Query | None:
    try:
        tree = sqlglot.parse_one(sql, read="trino")
    except sqlglot.errors.SqlglotError:
        return None
    if isinstance(tree, (exp.Create, exp.Insert)):
        tree = tree.expression
    return tree if isinstance(tree, exp.Query) else None


def _subtype(node: Any) -> str:
    """IDENTITY for a column copied as it is, AGGREGATION under an aggregate, else TRANSFORMATION."""
    e = node.expression.this if isinstance(node.expression, exp.Alias) else node.expression
    if isinstance(e, exp.Column):
        return "IDENTITY"
    if e is not None and e.find(exp.AggFunc) is not None:
        return "AGGREGATION"
    return "TRANSFORMATION"


def column_lineage(sql: str, outputs: list[str], upstream: dict[str, TableInfo]) -> dict[str, cl.Fields]:
    """{output column: the upstream columns it comes from}, for the columns sqlglot can trace."""
    query = _query(sql)
    if query is None:
        return {}
    schema: dict[str, Any] = {}
    by_parts: dict[tuple[str, ...], TableInfo] = {}
    for dotted, info in upstream.items():
        parts = tuple(dotted.lower().split("."))
        level = schema
        for p in parts[:-1]:
            level = level.setdefault(p, {})
        level[parts[-1]] = dict(info.columns)
        by_parts[parts] = info
    out: dict[str, cl.Fields] = {}
    for col in outputs[:MAX_COLUMNS]:
        try:
            root = lineage(col, query, schema=schema, dialect="trino")
        except Exception:  # noqa: BLE001 - sqlglot cannot trace this one (e.g. a star over an unknown table)
            continue
        subtype = _subtype(root)
        fields: list[cl.InputField] = []
        for node in root.walk():
            if node.downstream or not isinstance(node.expression, exp.Table):
                continue
            table = node.expression
            parts = tuple(p.name.lower() for p in (table.args.get("db"), table.this) if p is not None)
            found = next((i for k, i in by_parts.items() if k[-len(parts) :] == parts), None) if parts else None
            if found is None:
                continue
            field = node.name.split(".")[-1]
            entry = cl.InputField(
                namespace=found.namespace,
                name=found.name,
                field=field,
                transformations=[cl.Transformation(type="DIRECT", subtype=subtype)],
            )
            if all((f.name, f.field) != (entry.name, entry.field) for f in fields):
                fields.append(entry)
        if fields:
            out[col] = cl.Fields(inputFields=fields)
    return out

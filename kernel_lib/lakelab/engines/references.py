"""The tables a parsed statement reads: one walk shared by the engines, the result grid's
pinning and Trino's lineage, so they all agree on what is a table (not a CTE's name)."""

from __future__ import annotations

from typing import Any

from sqlglot import exp


def table_nodes(tree: Any) -> list[exp.Table]:
    """Every table reference in tree order (the order the DuckDB engine scans them), CTE names
    left out; table functions and UNNEST are kept (callers refuse or skip them)."""
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    return [n for n in tree.find_all(exp.Table) if n.name and (n.args.get("db") or n.name.lower() not in ctes)]


def is_table_function(node: exp.Table) -> bool:
    return isinstance(node.this, exp.Func) or isinstance(node.parent, exp.Unnest)

"""A query's ORDER BY by position, so it survives being wrapped as a renamed subquery."""

from __future__ import annotations

from typing import Any

from sqlglot import exp


def order_by_position(tree: Any) -> None:
    """The query's own ORDER BY keys that are output columns, as positions (`ORDER BY flight`
    -> `ORDER BY 1`): inside the view's `AS _lk_q (c0, …)` subquery a key by name no longer
    resolves once the columns are renamed, so every page past the first would fail."""
    order = tree.args.get("order")
    selects = tree.selects if isinstance(tree, exp.Select) else []
    if order is None or not selects or any(isinstance(p, exp.Star) or p.is_star for p in selects):
        return
    names = [p.alias_or_name for p in selects]
    texts = [p.unalias().sql("trino") for p in selects]
    for ordered in order.expressions:
        key = ordered.this
        hit = None
        if isinstance(key, exp.Column) and not key.table and names.count(key.name) == 1:
            hit = names.index(key.name)
        elif key.sql("trino") in texts:
            hit = texts.index(key.sql("trino"))
        if hit is not None:
            ordered.set("this", exp.Literal.number(hit + 1))

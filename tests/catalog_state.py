"""What "nothing committed" means in the reliability tests: a fingerprint of the catalog."""

from __future__ import annotations

from typing import Any


def fingerprint(lh: Any) -> dict[str, Any]:
    """Every namespace and table: metadata location, current snapshot and properties."""
    cat, out, todo = lh.catalog, {}, list(lh.catalog.list_namespaces())
    while todo:
        ns = tuple(todo.pop())
        out[".".join(ns)] = "namespace"
        todo.extend(cat.list_namespaces(ns))
        for ident in cat.list_tables(ns):
            t = cat.load_table(ident)
            snap = t.current_snapshot()
            out[".".join(ident)] = (t.metadata_location, snap.snapshot_id if snap else None, dict(t.properties))
    return out

"""Lineage for the writes Trino commits (`CREATE TABLE AS`, `INSERT`, `%%trino --into`,
`lh.transform(..., engine="trino")`).

Trino writes the snapshot, so lakelab cannot put its lineage into that snapshot's summary
(pyiceberg cannot amend an existing snapshot). Instead:

1. before the statement runs, `plan_write` finds the target and the upstream tables with the
   snapshot ids they have *now* (what the query is about to read), and remembers the target's
   `lakelab.*` properties;
2. after Trino commits, `record` finds the snapshot that query made (Trino names its query id
   in the summary) and stores the lineage in a properties-only commit under
   `lakelab.lineage.<snapshot_id>` (metadata.lineage_property), keeping the newest
   `metadata.MAX_PROPERTY_LINEAGE` entries, and restores lakelab metadata a
   `CREATE OR REPLACE` dropped.

Readers use `metadata.lineage_of`, which looks in the summary first and then the property, so
embedded and Trino writes read the same.
"""

from __future__ import annotations

import random
import re
import time
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlglot
from pyiceberg.exceptions import CommitFailedException
from sqlglot import exp

from lakelab.catalog import metadata as md
from lakelab.catalog.access import load_table, table_exists
from lakelab.engines.trino import inputs
from lakelab.errors import LakelabError
from lakelab.names import TableName

if TYPE_CHECKING:
    from lakelab.lakehouse import Lakehouse

# CTAS / INSERT, after any leading comments
_WRITE = re.compile(
    r"\s*(?:(?:--[^\n]*(?:\n|\Z)|/\*.*?\*/)\s*)*(CREATE\s+(OR\s+REPLACE\s+)?TABLE|INSERT\s+INTO)\b", re.I | re.S
)
# the lineage commit changes only properties, which pyiceberg does not retry itself; with many
# writers on one table, immediate retries all lose, so wait as Iceberg's commit retries do:
# doubling from 50 ms up to 1 s, with jitter (about 5 s in all before giving up)
COMMIT_ATTEMPTS = 10
RETRY_WAIT_S = (0.05, 1.0)


@dataclass
class PlannedWrite:
    target: TableName
    upstream: list[dict[str, Any]]
    kept: dict[str, str] = field(default_factory=dict)  # the target's lakelab.* properties before
    run: Any = None  # its OpenLineage run (lineage/openlineage.py), None when lineage is off


def plan_write(lh: Lakehouse, statement: str, catalog: str | None, schema: str | None) -> PlannedWrite | None:
    """The target and upstream snapshots of a CTAS/INSERT into the lakelab catalog, or None
    (not a write, another catalog, or SQL sqlglot cannot read: Trino still runs it)."""
    if not _WRITE.match(statement) or lh.config.trino is None:
        return None
    try:
        tree = sqlglot.parse_one(statement, read="trino")
    except sqlglot.errors.SqlglotError:
        return None
    if isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "TABLE":
        target, query = tree.this, tree.expression
    elif isinstance(tree, exp.Insert):
        target, query = tree.this, tree.expression
    else:
        return None
    if isinstance(target, exp.Schema):
        target = target.this
    if not isinstance(target, exp.Table) or query is None:
        return None
    cat, parts = inputs.qualify(lh, target, catalog, schema)
    if cat != lh.config.trino.catalog.lower():
        return None
    try:
        name = lh.table_name(".".join(parts))
    except LakelabError:
        return None
    upstream: list[dict[str, Any]] = []
    for node in inputs.references(query):
        entry = inputs.upstream(lh, node, catalog, schema)
        if entry is not None and entry not in upstream:
            upstream.append(entry)
    kept: dict[str, str] = {}
    if table_exists(lh.catalog, name):
        kept = {k: v for k, v in load_table(lh.catalog, name).properties.items() if k.startswith("lakelab.")}
    return PlannedWrite(name, upstream, kept, _begin_run(lh, name, upstream, statement))


def _begin_run(lh: Lakehouse, name: TableName, upstream: list[dict[str, Any]], sql: str) -> Any:
    from lakelab.lineage import openlineage

    t = lh.config.trino
    trino = f"trino://{t.host}:{t.port}" if t is not None else None
    lineage = md.Lineage(operation="transform", upstream=upstream, sql=sql)
    return openlineage.begin(lh.catalog, name, lineage, trino=trino, trino_catalog=t.catalog if t else None)


def record(lh: Lakehouse, plan: PlannedWrite, query_id: str | None, sql: str) -> int | None:
    """Store the lineage of the snapshot query `query_id` made; returns that snapshot id.
    The write itself has committed: a failure here warns instead of raising."""
    lineage = md.Lineage(operation="transform", upstream=plan.upstream, sql=sql, engine="trino")
    for attempt in range(COMMIT_ATTEMPTS):
        try:
            table = load_table(lh.catalog, plan.target)
            snaps = sorted(table.snapshots(), key=lambda s: s.timestamp_ms, reverse=True)
            mine = next(
                (
                    s
                    for s in snaps
                    if s.summary is not None and s.summary.additional_properties.get("trino_query_id") == query_id
                ),
                None,
            )
            if mine is None:
                if plan.run is not None:
                    plan.run.complete(None, {}, query_id)
                return None  # e.g. an INSERT of zero rows commits no snapshot
            props = dict(table.properties)
            updates = {k: v for k, v in plan.kept.items() if k not in props and not k.startswith(md.L_PROPERTY)}
            updates.update({k: v for k, v in plan.kept.items() if k.startswith(md.L_PROPERTY) and k not in props})
            updates[md.lineage_property(mine.snapshot_id)] = lineage.property_value()
            merged = {**props, **updates}
            drop = md.lineage_properties_to_drop(merged, [s.snapshot_id for s in snaps])
            with table.transaction() as tx:
                tx.set_properties({k: v for k, v in updates.items() if k not in drop})
                present = [k for k in drop if k in props]
                if present:
                    tx.remove_properties(*present)
            if plan.run is not None:
                plan.run.complete(mine.snapshot_id, _stats(mine.summary), query_id)
            return mine.snapshot_id
        except CommitFailedException:
            if attempt == COMMIT_ATTEMPTS - 1:
                break
            time.sleep(min(RETRY_WAIT_S[0] * 2**attempt, RETRY_WAIT_S[1]) * random.uniform(0.5, 1.5))
    if plan.run is not None:
        plan.run.complete(None, {}, query_id)
    warnings.warn(
        f"lakelab: the write to {plan.target} committed, but its lineage could not be recorded "
        "(the table kept changing)",
        stacklevel=3,
    )
    return None


def _stats(summary: Any) -> dict[str, int]:
    """Rows, files and bytes a Trino snapshot added, from its summary."""
    props = summary.additional_properties if summary is not None else {}
    keys = {"rows": "added-records", "files": "added-data-files", "bytes": "added-files-size"}
    return {k: int(props[v]) for k, v in keys.items() if str(props.get(v, "")).isdigit()}

"""SHOW SCHEMAS, SHOW TABLES and DESCRIBE on the embedded engine: answered from the catalog,
in Trino's column names, without DuckDB."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from lakelab.catalog.access import load_table
from lakelab.engines.duckdb.dialect import trino_type
from lakelab.errors import NotFound
from lakelab.names import ident

_SHOW_SCHEMAS = re.compile(r"\s*SHOW\s+SCHEMAS(?:\s+(?:FROM|IN)\s+(\"?\w+\"?))?\s*;?\s*\Z", re.I)
_SHOW_TABLES = re.compile(r"\s*SHOW\s+TABLES(?:\s+(?:FROM|IN)\s+([\w\".]+))?\s*;?\s*\Z", re.I)
_DESCRIBE = re.compile(r"\s*(?:DESCRIBE|DESC|SHOW\s+COLUMNS\s+(?:FROM|IN))\s+([\w\".]+)\s*;?\s*\Z", re.I)


def show(lh: Any, text: str, default_schema: str, check_catalog: Callable[[str], None]) -> pa.Table | None:
    """The answer to a SHOW/DESCRIBE statement, or None when `text` is not one."""
    if m := _SHOW_SCHEMAS.match(text):
        if m.group(1):
            check_catalog(m.group(1).strip('"'))
        names = sorted(".".join(ns) for ns in lh.catalog.list_namespaces())
        return pa.table({"Schema": pa.array(names, pa.string())})
    if m := _SHOW_TABLES.match(text):
        parts = [p.strip('"') for p in (m.group(1) or default_schema).split(".")]
        if len(parts) == 2:
            check_catalog(parts[0])
            parts = parts[1:]
        ns = (ident(parts[0], "schema"),)
        try:
            tables = sorted(t[-1] for t in lh.catalog.list_tables(ns))
        except Exception:  # noqa: BLE001 - pyiceberg raises NoSuchNamespaceError
            raise NotFound(f"schema {ns[0]!r} does not exist", hint="SHOW SCHEMAS lists them") from None
        return pa.table({"Table": pa.array(tables, pa.string())})
    if m := _DESCRIBE.match(text):
        return describe_table(lh, m.group(1), default_schema, check_catalog)
    return None


def describe_table(lh: Any, name: str, default_schema: str, check_catalog: Callable[[str], None]) -> pa.Table:
    parts = [p.strip('"') for p in name.split(".")]
    if len(parts) == 1:
        parts = [default_schema, parts[0]]
    if len(parts) == 3:
        check_catalog(parts[0])
    tname = lh.table_name(".".join(parts[-2:]))
    schema = load_table(lh.catalog, tname).schema()
    rows = [(f.name, trino_type(f.field_type), "", f.doc or "") for f in schema.fields]
    return pa.table(
        {k: pa.array([r[i] for r in rows], pa.string()) for i, k in enumerate(("Column", "Type", "Extra", "Comment"))}
    )

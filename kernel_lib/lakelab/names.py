"""Identifiers: the only way a name reaches a catalog call or a SQL string.

Names follow Trino's rules for unquoted identifiers as the Iceberg connector stores them:
lower case ASCII letters, digits and underscores, not starting with a digit. Upper case
input is folded (as Trino folds it); anything else is rejected with a message that says
what was wrong, so a name never needs quoting tricks and never carries SQL.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from lakelab.errors import InvalidInput

_IDENT = re.compile(r"[a-z_][a-z0-9_]*\Z")
MAX_IDENT = 128


def ident(part: str, what: str = "identifier") -> str:
    """Validate and normalise one identifier (namespace, table or column name)."""
    if not isinstance(part, str):
        raise InvalidInput(f"{what} must be text, got {type(part).__name__}")
    folded = part.strip().lower()
    if not folded:
        raise InvalidInput(f"{what} is empty")
    if len(folded) > MAX_IDENT:
        raise InvalidInput(f"{what} {part[:40]!r}… is longer than {MAX_IDENT} characters")
    if not _IDENT.match(folded):
        raise InvalidInput(
            f"{what} {part!r} is not a valid name",
            hint="use letters a-z, digits and underscores, not starting with a digit",
        )
    return folded


def quote(part: str) -> str:
    """A validated identifier, double-quoted for SQL (Trino and DuckDB agree on this)."""
    return '"' + ident(part) + '"'


@dataclass(frozen=True)
class TableName:
    """A table identifier: namespace parts plus a name. `catalog` is the optional first part
    of a three-part Trino name (catalog.schema.table); it is kept only to check it."""

    namespace: tuple[str, ...]
    name: str
    catalog: str | None = None

    @property
    def identifier(self) -> tuple[str, ...]:
        return (*self.namespace, self.name)

    @property
    def dotted(self) -> str:
        return ".".join(self.identifier)

    def sql(self) -> str:
        return ".".join('"' + p + '"' for p in self.identifier)

    def __str__(self) -> str:
        return self.dotted


def table_name(text: str | TableName | tuple[str, ...], *, catalog: str | Iterable[str] | None = None) -> TableName:
    """Parse `ns.table` (or `catalog.ns.table` when `catalog` names the configured catalog,
    or one of several names of it).

    Nested namespaces are written a.b.table; a first part equal to a catalog name is
    stripped, as Trino users write iceberg.ns.table.
    """
    if isinstance(text, TableName):
        return text
    parts = list(text) if isinstance(text, tuple) else (text.split(".") if isinstance(text, str) else None)
    if parts is None:
        raise InvalidInput(f"table name must be text like 'namespace.table', got {type(text).__name__}")
    if len(parts) < 2:
        raise InvalidInput(
            f"table name {str(text)[:80]!r} has no namespace", hint="write it as namespace.table, e.g. demo.flights"
        )
    if any(not isinstance(p, str) or not p.strip() for p in parts):
        raise InvalidInput(
            f"table name {str(text)[:80]!r} has an empty part",
            hint="write it as namespace.table with letters a-z, digits and underscores; paths and '..' are not names",
        )
    parts = [ident(p, "name part") for p in parts]
    cat = None
    catalogs = {catalog.lower()} if isinstance(catalog, str) else {c.lower() for c in catalog or ()}
    if len(parts) >= 3 and parts[0] in catalogs:
        cat, parts = parts[0], parts[1:]
    return TableName(tuple(parts[:-1]), parts[-1], cat)


def namespace_name(text: str | tuple[str, ...]) -> tuple[str, ...]:
    parts = list(text) if isinstance(text, tuple) else str(text).split(".")
    if len(parts) > 1 and any(not isinstance(p, str) or not p.strip() for p in parts):
        raise InvalidInput(
            f"namespace {str(text)[:80]!r} has an empty part",
            hint="write nested namespaces as a.b with letters a-z, digits and underscores",
        )
    return tuple(ident(p, "namespace") for p in parts)


def column_list(text: str | list[str] | tuple[str, ...] | None) -> list[str] | None:
    """'a,b' or ['a','b'] -> validated column names (None passes through)."""
    if text is None:
        return None
    if not isinstance(text, (str, list, tuple)):
        raise InvalidInput(f"columns must be text like 'a,b' or a list of names, got {type(text).__name__}")
    items = text.split(",") if isinstance(text, str) else list(text)
    cols = [ident(c, "column") for c in items if str(c).strip()]
    if not cols:
        raise InvalidInput("column list is empty")
    return cols


def column_name(name: str) -> str:
    """A source column's name as stored: folded to lower case, or a clear error with a rename."""
    try:
        return ident(name, "column")
    except InvalidInput:
        if isinstance(name, str) and not name.strip():
            raise InvalidInput(
                "a column has an empty name", hint="give every column a name (in a CSV file: the header line)"
            ) from None
        if not isinstance(name, str) or len(name.strip()) > MAX_IDENT:
            raise  # wrong type or too long: ident's own message says so
        suggestion = re.sub(r"[^a-z0-9_]+", "_", str(name).strip().lower()).strip("_") or "col"
        if suggestion[0].isdigit():
            suggestion = "c_" + suggestion
        raise InvalidInput(
            f"column {name!r} is not a valid name (letters a-z, digits and underscores only)",
            hint=f"rename it, e.g. to {suggestion!r} (pandas: df.rename(columns={{{name!r}: {suggestion!r}}}))",
        ) from None

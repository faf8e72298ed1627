"""Trino statements as trees: parsing one statement, and what a CREATE TABLE AS / INSERT
writes (its target's name parts, the query, the write mode and the INSERT column list)."""

from __future__ import annotations

import functools
import re
from typing import Any, cast

import sqlglot
from sqlglot import exp

from lakelab.engines.duckdb.dialect import HINT, typed_decimal_literals, unify_values_decimals
from lakelab.errors import EngineError, InvalidInput, Unsupported
from lakelab.names import ident

# words a Trino statement can start with; any other first word is the syntax error, at its place
STATEMENT_WORDS = (
    "SELECT WITH VALUES TABLE INSERT CREATE DROP DELETE UPDATE MERGE ALTER EXPLAIN SHOW DESCRIBE DESC USE SET "
    "RESET CALL COMMENT GRANT REVOKE ANALYZE PREPARE EXECUTE DEALLOCATE START COMMIT ROLLBACK TRUNCATE REFRESH"
).split()
_FIRST_WORD = re.compile(r"\A(?:\s|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*([A-Za-z_][A-Za-z0-9_]*)", re.S)


def _first_word_error(text: str) -> EngineError | None:
    """A statement that starts with an unknown word (`SELEC * FROM t`): reported at that word,
    with the statement word it is closest to, rather than where the parser gave up."""
    import difflib

    m = _FIRST_WORD.match(text)
    if not m or m.group(1).upper() in STATEMENT_WORDS:
        return None
    word, at = m.group(1), m.start(1)
    line = text.count("\n", 0, at) + 1
    col = at - (text.rfind("\n", 0, at) + 1) + 1
    near = difflib.get_close_matches(word.upper(), STATEMENT_WORDS, n=1, cutoff=0.6)
    return EngineError(
        f"SQL syntax error at line {line}, column {col}: {word!r} does not start a statement"
        + (f"; did you mean {near[0]}?" if near else "")
    )


def parse(text: str) -> exp.Expression:
    """One Trino statement as a sqlglot tree, or a clear syntax error."""
    try:
        trees = [t for t in sqlglot.parse(text, read="trino") if t is not None]
    except sqlglot.errors.ParseError as e:
        first = _first_word_error(text)
        if first is not None:
            raise first from None
        err = e.errors[0] if e.errors else {}
        where = f" at line {err.get('line')}, column {err.get('col')}" if err.get("line") else ""
        raise EngineError(f"SQL syntax error{where}: {err.get('description', str(e))}") from None
    except sqlglot.errors.TokenError as e:
        raise EngineError(f"SQL syntax error: {e}") from None
    if len(trees) != 1:
        raise InvalidInput(f"expected one SQL statement, got {len(trees)}", hint="run statements one at a time")
    tree = cast(exp.Expression, trees[0])
    typed_decimal_literals(tree)  # before the tree's text keys the translation cache
    unify_values_decimals(tree)
    return tree


def write_target(tree: exp.Expression) -> tuple[list[str], exp.Query, str, list[str] | None]:
    """(target name parts, query, mode, INSERT column list) of a CREATE TABLE AS or INSERT."""
    query: Any
    if isinstance(tree, exp.Create):
        target, query = tree.this, tree.expression
        if not isinstance(query, exp.Query):
            raise Unsupported(
                f"CREATE TABLE without AS SELECT is {HINT}", hint="use CREATE TABLE ... AS SELECT, or lh.ingest"
            )
        if tree.args.get("properties"):
            raise Unsupported(f"CREATE TABLE ... WITH (properties) is {HINT}")
        mode = "create_if_not_exists" if tree.args.get("exists") else "create"
        columns = None
    else:
        target, query = tree.this, tree.expression
        columns = None
        if isinstance(target, exp.Schema):
            columns = [ident(c.name, "column") for c in target.expressions]
            target = target.this
        if isinstance(query, exp.Values):
            query = exp.select("*").from_(query.copy())
        if not isinstance(query, exp.Query):
            raise Unsupported(f"this INSERT form is {HINT}")
        mode = "append"
    if not isinstance(target, exp.Table):
        raise InvalidInput("CREATE TABLE / INSERT INTO need a table name")
    parts = [p.name for p in (target.args.get("catalog"), target.args.get("db"), target.this) if p is not None]
    return parts, query, mode, columns


class Parsed:
    """One statement's text and tree, parsed once and shared between its runs (copy the tree
    before changing it), with what later runs need again: whether it is deterministic, its
    text as sqlglot normalises it (the result cache's key; made on first use) and, per default
    schema, its table references and their names."""

    def __init__(self, text: str, tree: exp.Expression):
        from lakelab.engines.cache import deterministic

        self.text = text
        self.tree = tree
        self.deterministic = deterministic(tree)
        self.tables: dict[str, tuple[list[exp.Table], list[Any]]] = {}

    @functools.cached_property
    def normal(self) -> str:
        return self.tree.sql("trino")

"""`{{ name }}` parameters and `{{ name | ident }}` identifiers in SQL text.

`{{ name }}` becomes a `?` placeholder and its value goes to the engine as a bound parameter
(DuckDB binds it; the Trino engine sends it as a Trino parameter), so a value can never change
the statement's structure. `{{ name | ident }}` inserts a validated, double-quoted identifier
(dotted names are validated part by part through lakelab.names). Anything else between
braces — other filters, expressions, missing values, braces inside quotes — is an error.
"""

from __future__ import annotations

import datetime
import decimal
import re
from collections.abc import Iterator, Mapping
from typing import Any

from lakelab.errors import InvalidInput
from lakelab.names import ident

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_VALUE_TYPES = (type(None), bool, int, float, str, decimal.Decimal, datetime.date, datetime.datetime)


def _segments(sql: str) -> Iterator[tuple[str, str]]:
    """Split SQL into ("code" | "quoted", text) pieces: string literals, quoted identifiers
    and comments are "quoted" (templates inside them are refused, never half-substituted)."""
    i, n, start = 0, len(sql), 0
    while i < n:
        c = sql[i]
        end = None
        if c in "'\"":
            j = i + 1
            while j < n:
                if sql[j] == c:
                    if j + 1 < n and sql[j + 1] == c:  # doubled quote escapes itself
                        j += 2
                        continue
                    break
                j += 1
            end = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            end = n if j < 0 else j
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            end = n if j < 0 else j + 2
        if end is None:
            i += 1
            continue
        if start < i:
            yield "code", sql[start:i]
        yield "quoted", sql[i:end]
        i = start = end
    if start < n:
        yield "code", sql[start:]


_TEMPLATE = re.compile(r"\{\{(.*?)\}\}", re.S)


def template_names(sql: str) -> list[str]:
    """The variable names a SQL text refers to in {{ }} (in order, without duplicates)."""
    out: list[str] = []
    for m in _TEMPLATE.finditer(sql):
        name = m.group(1).split("|", 1)[0].strip()
        if _NAME.match(name) and name not in out:
            out.append(name)
    return out


def quote_ident(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise InvalidInput(f"{{{{ {name} | ident }}}} needs text, got {type(value).__name__}")
    return ".".join('"' + ident(p, f"identifier in {{{{ {name} | ident }}}}") + '"' for p in value.split("."))


def check_value(value: Any, name: str) -> Any:
    if not isinstance(value, _VALUE_TYPES):
        raise InvalidInput(
            f"parameter {{{{ {name} }}}} has a value of type {type(value).__name__}",
            hint="parameters are single values: text, numbers, booleans, dates or None",
        )
    if isinstance(value, decimal.Decimal) and not value.is_finite():
        raise InvalidInput(
            f"parameter {{{{ {name} }}}} is {value}, which no SQL decimal can hold",
            hint="pass a float for NaN or infinity, or None for a missing value",
        )
    return value


def render(sql: str, params: Mapping[str, Any] | None = None) -> tuple[str, list[Any]]:
    """SQL with `?` placeholders and the list of values to bind, in placeholder order."""
    if not isinstance(sql, str):
        raise InvalidInput(f"SQL must be text, got {type(sql).__name__}")
    params = params or {}
    out: list[str] = []
    values: list[Any] = []
    for kind, text in _segments(sql):
        if kind == "quoted":
            if "{{" in text and not text.startswith(("--", "/*")):
                raise InvalidInput(
                    f"{{{{ }}}} inside quotes: {text[:40]!r}",
                    hint="write {{ name }} outside quotes; the value is bound as a parameter",
                )
            out.append(text)
            continue
        if "?" in text:
            raise InvalidInput(
                "'?' placeholders are not accepted in SQL text", hint="use {{ name }} and pass the value as a parameter"
            )
        pos = 0
        for m in _TEMPLATE.finditer(text):
            out.append(text[pos : m.start()])
            pos = m.end()
            expr = m.group(1).strip()
            name, _, filt = (p.strip() for p in expr.partition("|"))
            if not _NAME.match(name):
                raise InvalidInput(
                    f"{{{{ {expr} }}}} is not a template variable",
                    hint="only {{ name }} and {{ name | ident }} are allowed",
                )
            if filt and filt != "ident":
                raise InvalidInput(
                    f"unknown template filter {filt!r} in {{{{ {expr} }}}}",
                    hint="the only filter is ident: {{ name | ident }}",
                )
            if name not in params:
                raise InvalidInput(
                    f"no value for {{{{ {name} }}}}",
                    hint=f"pass it as a parameter (--param {name}=VALUE) or define it in the notebook",
                )
            if filt:
                out.append(quote_ident(params[name], name))
            else:
                values.append(check_value(params[name], name))
                out.append("?")
        rest = text[pos:]
        if "{{" in rest or "}}" in rest:
            raise InvalidInput(f"unbalanced template braces near {rest[:40]!r}")
        out.append(rest)
    return "".join(out), values


def as_templates(text: str, values: list[Any], prefix: str) -> tuple[str, dict[str, Any]]:
    """The inverse of `render`: each `?` placeholder (outside quotes) becomes `{{ prefixN }}`
    with its value in the returned params, so rendered SQL can be wrapped and run again."""
    out: list[str] = []
    params: dict[str, Any] = {}
    for kind, piece in _segments(text):
        if kind == "quoted":
            out.append(piece)
            continue
        parts = piece.split("?")
        for i, part in enumerate(parts):
            if i:
                name = f"{prefix}{len(params)}"
                if len(params) >= len(values):
                    raise InvalidInput("more placeholders than values in rendered SQL")
                params[name] = values[len(params)]
                out.append("{{ " + name + " }}")
            out.append(part)
    if len(params) != len(values):
        raise InvalidInput("fewer placeholders than values in rendered SQL")
    return "".join(out), params

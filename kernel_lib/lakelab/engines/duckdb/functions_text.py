"""Trino's text formatting, JSON, URL and binary functions on DuckDB.

Where DuckDB has no exact equivalent, a small Python scalar function registered on the
connection (`register_functions`) reproduces Trino's (Java's) behaviour:

- `CAST(double AS varchar)`: `1.0E0`, `1.5E10`, `-0E0`, `Infinity`, `NaN`;
- `format()`: the format string must be a literal using `%s`, `%d`, `%.Nf`, `%%`; each argument
  is formatted as Java does (`%.2f` rounds the shortest decimal HALF_UP: 2.675 -> 2.68);
- JSON: values are compact text, `json_parse` sorts object keys, numbers with a fraction or
  exponent print as Java's `Double.toString` (2.50 -> 2.5, 1.0e2 -> 100.0); paths must be
  literals made of `.name`, `["name"]` and `[n]` steps;
- URLs follow `java.net.URI`: a URL it cannot parse gives NULL, a part it lacks '' (port: NULL),
  a non-ASCII URL is an error.
"""

from __future__ import annotations

import json
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import unquote, unquote_plus

from sqlglot import exp

from lakelab.engines.duckdb.decimals import INTS, D, _dt, _refuse
from lakelab.engines.duckdb.functions_nested import build

TEXT_FUNCTIONS = {
    "Typeof",
    "Format",
    "JSONExtract",
    "JSONExtractScalar",
    "ParseJSON",
    "JSONFormat",
    "Hex",
    "Unhex",
    "Encode",
    "Decode",
    "MD5Digest",
    "SHA2Digest",
}
URL_PARTS = {"host", "path", "query", "fragment", "protocol", "port"}
TEXT_ANONYMOUS = {"json_array_length", "is_json_scalar", "url_extract_parameter"} | {
    f"url_extract_{p}" for p in URL_PARTS
}
TEXT = (D.VARCHAR, D.TEXT)


# -- Java's number formatting ---------------------------------------------------------------
def _digits(x: float) -> tuple[str, int]:
    """Shortest round-trip digits of |x| and the decimal exponent of the first digit."""
    _sign, digits, expo = Decimal(repr(abs(x))).normalize().as_tuple()
    text = "".join(map(str, digits))
    return text, len(text) + int(expo) - 1


def trino_double(x: float) -> str:
    """CAST(double AS varchar) in Trino 476: always scientific."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    sign = "-" if math.copysign(1, x) < 0 else ""
    if x == 0:
        return sign + "0E0"
    digits, e = _digits(x)
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{e}"


def java_double(x: float) -> str:
    """Java's Double.toString (JDK 19+): plain between 1e-3 and 1e7, else scientific."""
    if math.isnan(x) or math.isinf(x):
        return trino_double(x)
    sign = "-" if math.copysign(1, x) < 0 else ""
    if x == 0:
        return sign + "0.0"
    if 1e-3 <= abs(x) < 1e7:
        digits, e = _digits(x)
        if e >= 0:
            whole, frac = digits[: e + 1].ljust(e + 1, "0"), digits[e + 1 :]
        else:
            whole, frac = "0", "0" * (-e - 1) + digits
        return f"{sign}{whole}.{frac or '0'}"
    return trino_double(x)


def java_decimal(text: str) -> str:
    """BigDecimal.toString: Python's Decimal follows the same to-scientific-string rule."""
    return str(Decimal(text))


def java_fixed(text: str, places: int) -> str:
    """Java's `%.Nf` of a number given as its shortest decimal text, HALF_UP."""
    if text in ("NaN", "Infinity", "-Infinity", "inf", "-inf", "nan"):
        return {"inf": "Infinity", "-inf": "-Infinity", "nan": "NaN"}.get(text, text)
    return str(Decimal(text).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


# -- JSON -----------------------------------------------------------------------------------
class _Num(str):
    """A JSON number kept as its source text."""


def _load(text: str) -> Any:
    try:
        return json.loads(text, parse_float=_Num, parse_int=int, parse_constant=_bad_constant)
    except ValueError:
        raise ValueError(f"Invalid JSON value: {text[:60]}") from None


def _bad_constant(name: str) -> Any:
    raise ValueError(name)


def _dump(v: Any, sort: bool) -> str:
    if isinstance(v, _Num):
        return java_double(float(v))
    if isinstance(v, bool) or v is None or isinstance(v, int):
        return json.dumps(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, list):
        return "[" + ",".join(_dump(x, sort) for x in v) + "]"
    items = sorted(v.items()) if sort else v.items()
    return "{" + ",".join(json.dumps(k, ensure_ascii=False) + ":" + _dump(x, sort) for k, x in items) + "}"


_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[\"((?:[^\"\\]|\\.)*)\"\]|\[(\d+)\]")


def json_path_steps(path: str) -> list[str | int] | None:
    """Trino JSON path -> steps; None for paths outside the supported subset."""
    if not path.startswith("$"):
        return None
    steps: list[str | int] = []
    pos = 1
    while pos < len(path):
        m = _STEP.match(path, pos)
        if m is None:
            return None
        name, quoted, index = m.groups()
        steps.append(name if name is not None else json.loads(f'"{quoted}"') if quoted is not None else int(index))
        pos = m.end()
    return steps


_MISSING = object()


def _walk(text: str, steps_json: str) -> Any:
    try:
        v = _load(text)
    except ValueError:
        return _MISSING  # Trino's json_extract(_scalar) of text that is not JSON is NULL
    for step in json.loads(steps_json):
        if isinstance(step, int) and isinstance(v, list) and step < len(v):
            v = v[step]
        elif isinstance(step, str) and isinstance(v, dict) and step in v:
            v = v[step]
        else:
            return _MISSING
    return v


def json_extract(text: str, steps: str) -> str | None:
    v = _walk(text, steps)
    return None if v is _MISSING else _dump(v, sort=False)


def json_extract_scalar(text: str, steps: str) -> str | None:
    v = _walk(text, steps)
    if v is _MISSING or v is None or isinstance(v, (list, dict)):
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def json_parse(text: str) -> str:
    return _dump(_load(text), sort=True)


def json_array_length(text: str) -> int | None:
    try:
        v = _load(text)
    except ValueError:
        return None  # as in Trino
    return len(v) if isinstance(v, list) else None


def is_json_scalar(text: str) -> bool:
    return not isinstance(_load(text), (list, dict))


# -- URLs (java.net.URI) --------------------------------------------------------------------
_URI = re.compile(r"^(?:([A-Za-z][A-Za-z0-9+.-]*):)?(?://([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#(.*))?$")
_URI_CHARS = re.compile(r"^(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$")
_HOST = re.compile(
    r"^(?:\[[0-9A-Fa-f:.]+\]|(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.)*[A-Za-z](?:[A-Za-z0-9-]*[A-Za-z0-9])?\.?"
    r"|\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$"
)


def _uri(url: str) -> dict[str, Any] | None:
    if any(ord(c) > 127 for c in url):
        raise ValueError("URLs with non-ASCII characters are not supported on the embedded engine; run on Trino")
    if not _URI_CHARS.match(url):
        return None  # java.net.URI rejects it: Trino gives NULL
    m = _URI.match(url)
    if m is None:
        return None
    scheme, authority, path, query, fragment = m.groups()
    host = port = None
    if authority is not None:
        hostport = authority.rsplit("@", 1)[-1]
        hm = re.match(r"^(\[[^\]]*\]|[^:]*)(?::(\d*))?$", hostport)
        if hm and _HOST.match(hm.group(1)):
            host = hm.group(1)
            port = int(hm.group(2)) if hm.group(2) else None
    if scheme is not None and authority is None and not path.startswith("/"):
        path = None  # an opaque URI (mailto:x) has no path
    dec = lambda s: None if s is None else unquote(s, errors="strict")
    return {
        "protocol": scheme,
        "host": host,
        "port": port,
        "path": dec(path),
        "query": dec(query),
        "raw_query": query,
        "fragment": dec(fragment),
    }


def url_part(url: str, part: str) -> str | None:
    u = _uri(url)
    if u is None or (part == "port" and u[part] is None):
        return None
    return "" if u[part] is None else str(u[part])  # Trino gives '' for a part the URL lacks


def url_extract_parameter(url: str, name: str) -> str | None:
    u = _uri(url)
    if u is None or u["raw_query"] is None:
        return None
    for arg in u["raw_query"].split("&"):
        key, eq, value = arg.partition("=")
        if key == name:
            return unquote_plus(value, errors="strict") if eq else ""
    return None


def register_functions(con: Any) -> None:
    """The Python scalar functions the rewrites below call (NULL in, NULL out)."""
    from duckdb import sqltypes as t

    v, d, b, i = t.VARCHAR, t.DOUBLE, t.BOOLEAN, t.BIGINT
    for name, fn, args, out in [
        ("lk_trino_double", trino_double, [d], v),
        ("lk_java_double", java_double, [d], v),
        ("lk_java_fixed", java_fixed, [v, i], v),
        ("lk_java_decimal", java_decimal, [v], v),
        ("lk_json_parse", json_parse, [v], v),
        ("lk_json_extract", json_extract, [v, v], v),
        ("lk_json_extract_scalar", json_extract_scalar, [v, v], v),
        ("lk_json_array_length", json_array_length, [v], i),
        ("lk_is_json_scalar", is_json_scalar, [v], b),
        ("lk_url_part", url_part, [v, v], v),
        ("lk_url_extract_parameter", url_extract_parameter, [v, v], v),
    ]:
        con.create_function(name, _nulls_in_nulls_out(fn), args, out, null_handling="special", side_effects=False)


def _nulls_in_nulls_out(fn: Any) -> Any:
    # DuckDB reads the arity from the signature, so no *args here
    if fn.__code__.co_argcount == 1:
        return lambda a: None if a is None else fn(a)
    return lambda a, b: None if a is None or b is None else fn(a, b)


# -- rewrites -------------------------------------------------------------------------------
def trino_type_name(t: exp.DataType | None, node: exp.Expression) -> str:
    """typeof(): the static type in Trino's spelling, for the types the annotator gets right."""
    k = _dt(t)
    names = {
        D.INT: "integer",
        D.BIGINT: "bigint",
        D.SMALLINT: "smallint",
        D.TINYINT: "tinyint",
        D.DOUBLE: "double",
        D.FLOAT: "real",
        D.BOOLEAN: "boolean",
        D.DATE: "date",
        D.JSON: "json",
        D.VARBINARY: "varbinary",
    }
    if k in names:
        return names[k]
    if k == D.DECIMAL and t is not None and len(t.expressions) == 2:
        p, s = (x.this.to_py() if hasattr(x.this, "to_py") else x.name for x in t.expressions)
        return f"decimal({p},{s})"
    if k in TEXT and isinstance(node, exp.Literal) and node.is_string:
        return f"varchar({len(node.this)})"
    raise _refuse(f"typeof() of a {t.sql('trino').lower() if t is not None else 'value'} expression")


def _path(node: exp.Expression) -> exp.Expression:
    path = node.expression
    steps = json_path_steps(path.this) if isinstance(path, exp.Literal) and path.is_string else None
    if isinstance(path, exp.JSONPath):
        plain = (exp.JSONPathRoot, exp.JSONPathKey, exp.JSONPathSubscript)
        ok = all(isinstance(p, plain) for p in path.expressions) and all(
            isinstance(p.this, (str, int)) for p in path.expressions if not isinstance(p, exp.JSONPathRoot)
        )
        steps = json_path_steps(path.sql("trino").strip("'")) if ok else None
    if steps is None:
        raise _refuse(f'JSON path {path.sql("trino")} (only literal $.name, $["name"], $[n] paths)')
    return exp.Literal.string(json.dumps(steps))


def _format(node: exp.Format) -> exp.Expression:
    fmt = node.this
    if not (isinstance(fmt, exp.Literal) and fmt.is_string):
        raise _refuse("format() with a non-literal format string")
    args = list(node.expressions)
    pieces: list[exp.Expression] = []
    pos = 0
    for m in re.finditer(r"%(?:\.(\d+))?([sdf%])|%", fmt.this):
        if m.start() > pos:
            pieces.append(exp.Literal.string(fmt.this[pos : m.start()]))
        pos = m.end()
        places, conv = m.groups()
        if conv == "%" and places is None:
            pieces.append(exp.Literal.string("%"))
            continue
        if conv is None or not args or (conv == "f") != (places is not None):
            raise _refuse(f"format() specifier {m.group(0)!r}")
        arg = args.pop(0)
        k = _dt(arg.type)
        if conv == "d" and k in INTS:
            text = build("CAST(_x AS VARCHAR)", _x=arg)
        elif conv == "s" and k == D.DECIMAL:  # Java's BigDecimal.toString: 1E-7 for 0.0000001
            text = build("lk_java_decimal(CAST(_x AS VARCHAR))", _x=arg)
        elif conv == "s" and k in (*TEXT, *INTS, D.BOOLEAN):
            text = build("CAST(_x AS VARCHAR)", _x=arg)
        elif conv == "s" and k == D.DOUBLE:
            text = build("lk_java_double(_x)", _x=arg)
        elif conv == "f" and k in (D.DOUBLE, D.DECIMAL, *INTS):
            # DuckDB prints a double's shortest round-trip digits, the ones Java rounds from
            text = build(f"lk_java_fixed(CAST(_x AS VARCHAR), {int(places)})", _x=arg)
        else:
            raise _refuse(f"format() of {k.value.lower() if k else 'unknown'} with {m.group(0)!r}")
        pieces.append(build("coalesce(_t, 'null')", _t=text))  # Java prints a null argument as "null"
    if pos < len(fmt.this):
        pieces.append(exp.Literal.string(fmt.this[pos:]))
    if args:
        raise _refuse("format() with more arguments than specifiers")
    if not pieces:
        return exp.Literal.string("")
    out = pieces[0]
    for p in pieces[1:]:
        out = exp.DPipe(this=out, expression=p)
    return out


def rewrite_text(node: exp.Expression) -> exp.Expression | None:
    """The DuckDB expression for a text/JSON/URL/binary node, or None when sqlglot's is exact."""
    if isinstance(node, (exp.ParseJSON, exp.JSONExtract)):
        node.type = exp.DataType.build("JSON")  # Trino's type, which typeof and json_format read
    if isinstance(node, (exp.Unhex, exp.Encode, exp.MD5Digest, exp.SHA2Digest)):
        node.type = exp.DataType.build("VARBINARY")
    if isinstance(node, exp.Typeof):
        return exp.Literal.string(trino_type_name(node.this.type, node.this))
    if isinstance(node, exp.Format):
        return _format(node)
    if isinstance(node, (exp.Cast, exp.TryCast)) and _dt(node.args["to"]) in TEXT and _dt(node.this.type) == D.DOUBLE:
        return build("lk_trino_double(_x)", _x=node.this)
    if isinstance(node, exp.ParseJSON):
        return build("lk_json_parse(_x)", _x=node.this)
    if isinstance(node, exp.JSONFormat):
        if _dt(node.this.type) != D.JSON:
            raise _refuse("json_format() of a value that is not JSON")
        return node.this.copy()
    if isinstance(node, exp.JSONExtractScalar):
        return build("lk_json_extract_scalar(_x, _p)", _x=node.this, _p=_path(node))
    if isinstance(node, exp.JSONExtract):
        return build("lk_json_extract(_x, _p)", _x=node.this, _p=_path(node))
    if isinstance(node, exp.SHA2Digest) and str(node.args.get("length") or 256) != "256":
        raise _refuse("sha512() and other SHA-2 lengths")
    if isinstance(node, exp.Decode) and _dt(node.this.type) not in (D.VARBINARY, D.BINARY):
        raise _refuse("from_utf8() of a value that is not varbinary")
    if isinstance(node, exp.Anonymous):
        name = node.name.lower()
        args = node.expressions
        if name == "json_array_length":
            return build("lk_json_array_length(_x)", _x=args[0])
        if name == "is_json_scalar":
            return build("lk_is_json_scalar(_x)", _x=args[0])
        if name == "url_extract_parameter":
            return build("lk_url_extract_parameter(_u, _n)", _u=args[0], _n=args[1])
        if name.startswith("url_extract_"):
            part = name.removeprefix("url_extract_")
            call = build(f"lk_url_part(_u, '{part}')", _u=args[0])
            return build("CAST(_c AS BIGINT)", _c=call) if part == "port" else call
    return None

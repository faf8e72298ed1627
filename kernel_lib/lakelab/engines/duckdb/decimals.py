"""Trino's numeric typing and exact decimal arithmetic for the embedded engine (dialect.py).

Trino types `1.50` as decimal(3, 2), divides decimals to scale max(s1, s2) rounding half up,
and rounds/truncates decimals into specific result types; DuckDB does each differently. The
annotators here give the sqlglot tree Trino's types, and the rewrites compute the values
exactly with HUGEINT arithmetic."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable

import sqlglot
from sqlglot import exp

from lakelab.errors import Unsupported

HINT = "not supported on the embedded engine; run it on Trino (--engine trino)"
D = exp.DType
INTS = {D.TINYINT: 3, D.SMALLINT: 5, D.INT: 10, D.BIGINT: 19}  # as decimal precision
INT_ORDER = [D.TINYINT, D.SMALLINT, D.INT, D.BIGINT]
FLOATS = {D.FLOAT, D.DOUBLE}


def function_name(node: exp.Expression) -> str:
    """The function's name as a Trino user wrote it (for messages)."""
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    text = node.sql("trino")
    return (text.split("(", 1)[0] if "(" in text else type(node).__name__).strip().lower()


# -- Trino typing rules -----------------------------------------------------------------
def _dt(t: exp.DataType | None) -> exp.DType | None:
    return t.this if isinstance(t, exp.DataType) else None


def decimal_of(t: exp.DataType | None) -> tuple[int, int] | None:
    """(precision, scale) of a decimal or integer type, None otherwise."""
    kind = _dt(t)
    if kind in INTS:
        return INTS[kind], 0
    if kind == D.DECIMAL:
        params = [int(p.this.this) if isinstance(p.this, exp.Literal) else int(p.name) for p in t.expressions]
        if len(params) == 2:
            return params[0], params[1]
        if len(params) == 1:
            return params[0], 0
        return 38, 0  # Trino's bare DECIMAL
    return None


def decimal(p: int, s: int) -> exp.DataType:
    return _decimal(min(38, max(p, 1)), s).copy()  # a copy: a node's type is its own


@functools.lru_cache(maxsize=1024)
def _decimal(p: int, s: int) -> exp.DataType:
    return exp.DataType.build(f"DECIMAL({p}, {s})")  # parsing the text costs more than a copy


def _numeric(self, e: exp.Expression, rule: Callable[[exp.DataType, exp.DataType], exp.DataType | None]):
    """Annotate a binary arithmetic node by Trino's rules when both sides are numeric."""
    self._annotate_binary(e)
    lt, rt = e.left.type, e.right.type
    lk, rk = _dt(lt), _dt(rt)
    if lk in FLOATS or rk in FLOATS:
        if (lk in FLOATS or lk in INTS or lk == D.DECIMAL) and (rk in FLOATS or rk in INTS or rk == D.DECIMAL):
            self._set_type(e, exp.DataType.build("DOUBLE" if D.DOUBLE in (lk, rk) else "REAL"))
        return e
    if lk in INTS and rk in INTS:
        self._set_type(e, exp.DataType.build(max(lk, rk, key=INT_ORDER.index)))
        return e
    ld, rd = decimal_of(lt), decimal_of(rt)
    if ld and rd:
        t = rule(ld, rd)
        if t is not None:
            self._set_type(e, t)
    return e


def _add_rule(a, b):
    (p1, s1), (p2, s2) = a, b
    s = max(s1, s2)
    return decimal(1 + s + max(p1 - s1, p2 - s2), s)


def _mul_rule(a, b):
    return decimal(a[0] + b[0], a[1] + b[1])


def _div_rule(a, b):
    (p1, s1), (_p2, s2) = a, b
    return decimal(p1 + s2 + max(s2 - s1, 0), max(s1, s2))


def _mod_rule(a, b):
    (p1, s1), (p2, s2) = a, b
    return decimal(min(p2 - s2, p1 - s1) + max(s1, s2), max(s1, s2))


def _literal(self, e: exp.Literal):
    if e.is_string:
        self._set_type(e, D.VARCHAR)
    elif e.is_int:
        self._set_type(e, D.INT if abs(int(e.this)) < 2**31 else D.BIGINT)
    elif "e" in e.this.lower():
        self._set_type(e, D.DOUBLE)
    else:  # Trino reads 1.50 as DECIMAL(3, 2)
        whole, frac = e.this.split(".", 1)
        digits = whole.lstrip("-+").lstrip("0")
        self._set_type(e, decimal(len(digits) + len(frac), len(frac)))
    e.meta["nonnull"] = True
    return e


def _sum(self, e):
    self._annotate_by_args(e, "this")
    t = e.this.type
    if _dt(t) in INTS:
        self._set_type(e, D.BIGINT)
    elif (dec := decimal_of(t)) is not None:
        self._set_type(e, decimal(38, dec[1]))
    return e


def _avg(self, e):
    t = e.this.type
    if _dt(t) == D.DECIMAL:
        self._set_type(e, t)
    elif _dt(t) == D.FLOAT:
        self._set_type(e, D.FLOAT)
    else:
        self._set_type(e, D.DOUBLE)
    return e


def _rounding(self, e):
    """Trino's result types: round(decimal(p, s), d) is decimal(p + 1, s); round/ceil/floor(decimal(p, s))
    are decimal(p - s + min(s, 1), 0); truncate(decimal(p, s)) is decimal(p - s, 0), truncate(x, d) keeps
    the type; truncate(integer) is decimal (Trino has no integer truncate); sign(decimal) is decimal(1, 0)."""
    t = e.this.type
    kind = _dt(t)
    dec = decimal_of(t) if kind == D.DECIMAL else None
    if isinstance(e, exp.Sign):
        self._set_type(e, decimal(1, 0) if dec else (t if kind in INTS or kind in FLOATS else D.UNKNOWN))
    elif kind in INTS:
        self._set_type(e, decimal(INTS[kind], 0) if isinstance(e, exp.Trunc) else t)
    elif kind in FLOATS:
        self._set_type(e, t)
    elif dec:
        p, sc = dec
        if e.args.get("decimals") is not None:
            self._set_type(e, decimal(p + 1, sc) if isinstance(e, exp.Round) else t)
        elif isinstance(e, exp.Trunc):
            self._set_type(e, decimal(max(p - sc, 1), 0))
        else:
            self._set_type(e, decimal(p - sc + min(sc, 1), 0))
    else:
        self._set_type(e, D.UNKNOWN)
    return e


# -- exact decimal rewrites ------------------------------------------------------------
def _unscaled(e: exp.Expression, scale: int) -> str:
    """DuckDB SQL for the unscaled HUGEINT of a decimal/int value with the given scale."""
    return _unscaled_sql(e.sql("duckdb"), scale)


def _unscaled_sql(value: str, scale: int) -> str:
    inner = f"CAST({value} AS DECIMAL(38, {scale}))"
    return f"CAST({inner} * {10**scale} AS HUGEINT)" if scale else f"CAST({inner} AS HUGEINT)"


def decimal_divide(a: exp.Expression, b: exp.Expression, ta, tb) -> exp.Expression:
    """Trino's decimal division: scale max(s1, s2), rounded HALF_UP, exact (HUGEINT)."""
    (p1, s1), (_p2, s2) = decimal_of(ta), decimal_of(tb)
    rs = max(s1, s2)
    p = min(38, p1 + s2 + max(s2 - s1, 0))
    out = _divide(s1, s2, rs, p).copy()
    # each operand as DuckDB reads its SQL (the whole division was once parsed as one text)
    operands: dict[str, exp.Expression] = {
        _A: exp.maybe_parse(a.sql("duckdb"), dialect="duckdb"),
        _B: exp.maybe_parse(b.sql("duckdb"), dialect="duckdb"),
    }
    for col in list(out.find_all(exp.Column)):
        if col.name in operands and not col.table:
            col.replace(operands[col.name].copy())
    return out


_A, _B = "__lk_dividend", "__lk_divisor"  # where the operands go in the division's template


@functools.lru_cache(maxsize=256)
def _divide(s1: int, s2: int, rs: int, p: int) -> exp.Expression:
    """The division's tree for these scales, operands left as the columns _A and _B (each
    stands as the value of a CAST, as the operand's own SQL did in the text it replaces)."""
    n = f"({_unscaled_sql(_A, s1)} * CAST({10 ** (rs - s1 + s2)} AS HUGEINT))"
    d = f"({_unscaled_sql(_B, s2)})"
    # |n| // |d| rounded half up; `//` by zero raises DuckDB's "Division by zero" (TRY -> NULL)
    q = f"(CASE WHEN ({n} < 0) <> ({d} < 0) THEN -1 ELSE 1 END) * ((abs({n}) * 2 + abs({d})) // (abs({d}) * 2))"
    text = (
        f"CAST(CAST({q} AS DECIMAL(38, 0)) * 0.{'0' * (rs - 1)}1 AS DECIMAL({p}, {rs}))"
        if rs
        else f"CAST({q} AS DECIMAL({p}, 0))"
    )
    return exp.maybe_parse(text, dialect="duckdb")


def decimal_round(node: exp.Expression) -> exp.Expression:
    """round/truncate/ceil/floor of a decimal, exactly (HUGEINT), half away from zero, in Trino's type."""
    arg = node.this
    _p, s = decimal_of(arg.type)
    digits = node.args.get("decimals")
    if (
        digits is not None
        and not (isinstance(digits, exp.Literal) and digits.is_int)
        and not (isinstance(digits, exp.Neg) and isinstance(digits.this, exp.Literal) and digits.this.is_int)
    ):
        raise _refuse(f"{function_name(node)}(decimal, n) with a non-constant n")
    d = int(digits.sql("duckdb")) if digits is not None else 0
    rp, rs = decimal_of(node.type)
    n = _unscaled(arg, s)
    drop = s - d  # digits dropped below the kept ones
    if drop <= 0:
        q = n
    elif drop > 38:  # beyond any value: everything rounds to 0
        q = "CAST(0 AS HUGEINT)"
    else:
        f = f"CAST({10**drop} AS HUGEINT)"
        sign = f"(CASE WHEN {n} < 0 THEN -1 ELSE 1 END)"
        away = {
            exp.Round: f"{f} // 2",
            exp.Trunc: "0",  # magnitude added before dividing
            exp.Ceil: f"(CASE WHEN {n} > 0 THEN {f} - 1 ELSE 0 END)",
            exp.Floor: f"(CASE WHEN {n} < 0 THEN {f} - 1 ELSE 0 END)",
        }[type(node)]
        q = f"({sign} * ((abs({n}) + {away}) // {f}) * {f})"
    if rs == s:
        text = (
            f"CAST(CAST({q} AS DECIMAL(38, 0)) * 0.{'0' * (s - 1)}1 AS DECIMAL({rp}, {rs}))"
            if s
            else f"CAST({q} AS DECIMAL({rp}, 0))"
        )
    else:  # scale 0: q is a multiple of 10^s
        text = f"CAST({q} // CAST({10**s} AS HUGEINT) AS DECIMAL({rp}, 0))"
    return exp.maybe_parse(text, dialect="duckdb")


def typed_decimal_literals(tree: exp.Expression) -> None:
    """`DECIMAL '2.345'` is decimal(4, 3) in Trino, while `CAST('2.345' AS DECIMAL)` is decimal(38, 0);
    sqlglot parses both as a Cast to bare DECIMAL, the typed literal without CAST's optional args."""
    for node in tree.find_all(exp.Cast):
        to, text = node.args["to"], node.this
        if (
            _dt(to) == D.DECIMAL
            and not to.expressions
            and "safe" not in node.args
            and isinstance(text, exp.Literal)
            and text.is_string
        ):
            m = re.fullmatch(r"\s*[+-]?0*(\d*)(?:\.(\d*))?\s*", text.this)
            if m and (m.group(1) or m.group(2)):
                whole, frac = m.group(1), m.group(2) or ""
                node.set("to", decimal(max(len(whole) + len(frac), 1), len(frac)))


def _literal_decimal(cell: exp.Expression) -> tuple[int, int] | None:
    """(precision, scale) of a decimal literal (1.25 or DECIMAL '1.25'), None for anything else."""
    if isinstance(cell, exp.Neg):
        cell = cell.this
    if isinstance(cell, exp.Literal) and not cell.is_string and "." in cell.this and "e" not in cell.this.lower():
        whole, frac = cell.this.split(".", 1)
        return max(len(whole.lstrip("0")) + len(frac), 1), len(frac)
    if (
        isinstance(cell, exp.Cast)
        and _dt(cell.args["to"]) == D.DECIMAL
        and cell.args["to"].expressions
        and isinstance(cell.this, exp.Literal)
    ):
        return decimal_of(cell.args["to"])
    return None


def unify_values_decimals(tree: exp.Expression) -> None:
    """A VALUES column of decimal literals has Trino's common type (most integer digits, largest
    scale) in every row; sqlglot would type it by one row, and a later wider value overflows."""
    for values in tree.find_all(exp.Values):
        rows = [r.expressions for r in values.expressions if isinstance(r, exp.Tuple)]
        if len(rows) < 2 or len({len(r) for r in rows}) != 1:
            continue
        for col in range(len(rows[0])):
            types = [_literal_decimal(r[col]) for r in rows]
            if None in types or len(set(types)) == 1:
                continue
            scale = max(sc for _, sc in types)
            target = decimal(max(p - sc for p, sc in types) + scale, scale)
            for r in rows:
                r[col].replace(exp.Cast(this=r[col].copy(), to=target.copy()))


def _refuse(what: str) -> Unsupported:
    return Unsupported(f"{what} is {HINT}")


def double_round(node: exp.Expression) -> exp.Expression:
    """Trino's round(double[, d]): Java's Math.round(|x| * 10^d) / 10^d with x's sign, i.e. the
    product rounded half up in binary floating point (2.675 -> 2.68 because 2.675 * 100 is exactly
    267.5 as a double, while 1.005 -> 1.0). DuckDB's own round differs between versions; past
    2^63 Java clamps, which is refused rather than guessed."""
    x = node.this.sql("duckdb")
    d = node.args.get("decimals")
    f = f"pow(10.0, {d.sql('duckdb')})" if d is not None else "1.0"
    y = f"(abs({x}) * {f})"
    rounded = f"(CASE WHEN {y} - floor({y}) >= 0.5 THEN floor({y}) + 1 ELSE floor({y}) END)"
    sql = (
        f"(CASE WHEN isnan({x}) OR isinf({x}) THEN {x} "
        f"WHEN {y} >= 9.223372036854775807e18 THEN error('round(double) of a value this large is not "
        f"supported on the embedded engine; run it on Trino') "
        f"ELSE sign({x}) * {rounded} / {f} END)"
    )
    return sqlglot.parse_one(sql, read="duckdb")

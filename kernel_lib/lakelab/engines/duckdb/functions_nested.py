"""Arrays, maps, lambdas, UNNEST and ordered aggregates: Trino's meaning in DuckDB SQL.

Every rewrite here was checked against Trino 476 (tests/trino/test_dialect.py). The edges that
differ between the engines and are handled explicitly:

- `a[i]` is an error in Trino when `i` is outside `1..cardinality(a)` (NULL in DuckDB);
  `m[k]` is an error when the key is missing; `element_at(a, 0)` is an error.
- `contains(a, x)` is NULL when `x` is not found and `a` holds a NULL (false in DuckDB).
- `any_match`/`all_match`/`none_match` use three-valued logic over the elements.
- `zip_with` and multi-array `UNNEST` pad the shorter array with NULLs.
- `reduce` applies its output function; `sequence` rejects a step that points away from stop.
- `listagg` fails past 1 MB like Trino's default `ON OVERFLOW ERROR`.
"""

from __future__ import annotations

from sqlglot import exp

from lakelab.engines.duckdb.decimals import INTS, D, _dt, _refuse, function_name

# sqlglot classes answered by the rewrites below (or by sqlglot's own rendering, checked)
NESTED_FUNCTIONS = {
    "ArraySize",
    "ArrayContains",
    "ArrayToString",
    "GenerateSeries",
    "Transform",
    "ArrayFilter",
    "Reduce",
    "ArrayAgg",
    "GroupConcat",
    "MapKeys",
    "Map",
    "ArrayMax",
    "ArrayMin",
    "ArraySort",
    "ArrayPosition",
    "ArrayDistinct",
    "ArraySlice",
    "Split",
}
# Trino functions sqlglot leaves anonymous, rewritten below
NESTED_ANONYMOUS = {"zip_with", "any_match", "all_match", "none_match", "map_values"}


def build(template: str, **parts: exp.Expression) -> exp.Expression:
    """DuckDB SQL with `_name` columns standing for the given (already rewritten) subtrees."""
    tree: exp.Expression = exp.maybe_parse(template, dialect="duckdb")

    def sub(n: exp.Expression) -> exp.Expression:
        if isinstance(n, exp.Column) and not n.table and n.name in parts:
            return parts[n.name].copy()
        return n

    return tree.transform(sub)


def _apply(lam: exp.Expression, *args: exp.Expression) -> exp.Expression:
    """The body of a lambda with its parameters replaced by `args`."""
    if not isinstance(lam, exp.Lambda) or len(lam.expressions) != len(args):
        raise _refuse("a lambda with this many parameters")
    names = {p.name: a for p, a in zip(lam.expressions, args)}

    def sub(n: exp.Expression) -> exp.Expression:
        # lambda parameters are bare identifiers in the (qualified) body
        bare = isinstance(n, exp.Identifier) and not isinstance(n.parent, (exp.Column, exp.Alias, exp.TableAlias))
        if (bare or (isinstance(n, exp.Column) and not n.table)) and n.name in names:
            return names[n.name].copy()
        return n

    return lam.this.copy().transform(sub)


def _is_map(node: exp.Expression) -> bool:
    return node.type is not None and node.type.this == D.MAP


def _check_element(node: exp.Expression, what: str) -> None:
    t = node.type
    if t is None or t.this != D.ARRAY or not t.expressions:
        raise _refuse(f"{what} of an array whose element type is not known")
    if t.expressions[0].this in (D.STRUCT, D.MAP, D.UNKNOWN, D.NULL):
        raise _refuse(f"{what} of arrays of rows or maps")


def rewrite_nested(node: exp.Expression) -> exp.Expression | None:
    """The DuckDB expression for a nested-type node, or None when sqlglot's rendering is exact."""
    if isinstance(node, exp.Bracket):
        return _subscript(node)
    if isinstance(node, exp.ArraySize):
        if _is_map(node.this):
            return build("CAST(cardinality(_a) AS BIGINT)", _a=node.this)
        return build("len(_a)", _a=node.this)
    if isinstance(node, exp.ArrayContains):
        return build(
            "CASE WHEN _a IS NULL OR _x IS NULL THEN NULL WHEN list_contains(_a, _x) THEN true "
            "WHEN list_contains(list_transform(_a, lambda e: e IS NULL), true) THEN NULL ELSE false END",
            _a=node.this,
            _x=node.expression,
        )
    if isinstance(node, exp.ArrayToString):
        elem = node.this.type.expressions[0].this if node.this.type and node.this.type.expressions else None
        if elem not in (D.VARCHAR, D.TEXT, *INTS) or node.args.get("null"):
            raise _refuse("array_join of non-text, non-integer elements or with a null replacement")
        return None
    if isinstance(node, exp.GenerateSeries):
        return _sequence(node)
    if isinstance(node, (exp.ArrayMax, exp.ArrayMin, exp.ArraySort, exp.ArrayDistinct, exp.ArrayPosition)):
        return _array_function(node)
    if isinstance(node, exp.ArraySlice):
        return _slice(node)
    if isinstance(node, exp.Split):
        sep = node.expression
        if not (isinstance(sep, exp.Literal) and sep.is_string and sep.this) or node.args.get("limit"):
            raise _refuse("split() with a non-literal or empty delimiter, or a limit")
        return build("string_split(_s, _d)", _s=node.this, _d=sep)
    if isinstance(node, exp.Reduce):
        lam = node.args.get("merge")
        init = node.args.get("initial")
        finish = node.args.get("finish")
        if not isinstance(lam, exp.Lambda) or len(lam.expressions) != 2 or init is None:
            raise _refuse("reduce() without a two-parameter lambda")
        _check_element(node.this, "reduce()")
        # DuckDB types the accumulator from the list elements; Trino from the initial value
        if _dt(init.type) in (None, D.UNKNOWN) or _dt(init.type) != _dt(node.this.type.expressions[0]):
            raise _refuse("reduce() whose initial value's type differs from the elements'")
        reduced = build("list_reduce(_a, _f, _i)", _a=node.this, _f=lam, _i=init)
        return _apply(finish, reduced) if finish is not None else reduced
    if isinstance(node, exp.GroupConcat):
        sep = node.args.get("separator")
        agg = node.copy()
        if sep is None:
            agg.set("separator", exp.Literal.string(""))
        return build(
            "CASE WHEN strlen(_g) > 1048576 THEN error('Concatenated string has the length in bytes larger "
            "than the maximum output length 1048576') ELSE _g END",
            _g=agg,
        )
    if isinstance(node, exp.Anonymous):
        return _anonymous(node)
    if isinstance(node, exp.Unnest):
        return _unnest(node)
    return None


# element types whose ordering and equality agree between the engines (no NaN, no -0.0)
_ORDERED = (*INTS, D.DECIMAL, D.VARCHAR, D.TEXT, D.DATE, D.BOOLEAN)


def _array_function(node: exp.Expression) -> exp.Expression:
    a = node.this
    _check_element(a, f"{function_name(node)}()")
    if a.type.expressions[0].this not in _ORDERED:
        raise _refuse(f"{function_name(node)}() of arrays of {a.type.expressions[0].sql('trino').lower()}")
    if isinstance(node, (exp.ArrayMax, exp.ArrayMin)):  # Trino: NULL when any element is NULL
        fn = "list_max" if isinstance(node, exp.ArrayMax) else "list_min"
        return build(
            f"CASE WHEN list_contains(list_transform(_a, lambda e: e IS NULL), true) THEN NULL ELSE {fn}(_a) END",
            _a=a,
        )
    if isinstance(node, exp.ArraySort):  # NULLs last in both
        if node.args.get("expression") is not None:
            raise _refuse("array_sort() with a comparator")
        return build("list_sort(_a, 'ASC', 'NULLS LAST')", _a=a)
    if isinstance(node, exp.ArrayDistinct):  # first occurrences in order, one NULL kept
        return build("list_filter(_a, lambda e, i: list_position(_a[1:i - 1], e) IS NULL)", _a=a)
    # array_position: 0 when absent, bigint
    return build(
        "CASE WHEN _a IS NULL OR _x IS NULL THEN NULL ELSE CAST(coalesce(list_position(_a, _x), 0) AS BIGINT) END",
        _a=a,
        _x=node.expression,
    )


def _slice(node: exp.ArraySlice) -> exp.Expression:
    start, length = node.args.get("start"), node.args.get("end")
    if start is None or length is None:
        raise _refuse("slice() without start and length")
    return build(
        "CASE WHEN _s = 0 THEN error('SQL array indices start at 1') "
        "WHEN _n < 0 THEN error('length must be greater than or equal to 0') "
        "WHEN _s > 0 THEN list_slice(_a, _s, _s + _n - 1) "
        "WHEN len(_a) + _s + 1 < 1 THEN list_slice(_a, 1, 0) "
        "ELSE list_slice(_a, len(_a) + _s + 1, len(_a) + _s + _n) END",
        _a=node.this,
        _s=start,
        _n=length,
    )


def _subscript(node: exp.Bracket) -> exp.Expression:
    base, keys = node.this, node.expressions
    if len(keys) != 1:
        raise _refuse("subscripts with several indexes")
    key = keys[0]
    if node.args.get("offset") is None and not _is_map(base):  # sqlglot keeps a[i] 0-based: i - 1
        if isinstance(key, exp.Literal) and not key.is_string:
            key = exp.Literal.number(int(key.to_py()) + 1)
        elif isinstance(key, exp.Add) and key.expression.sql() == "-1":
            key = key.this
        else:
            key = exp.Add(this=key.copy(), expression=exp.Literal.number(1))
    plain = node.copy()  # renders as the 1-based DuckDB subscript
    plain.set("safe", None)
    if _is_map(base):
        if node.args.get("safe"):
            return plain
        return build(
            "CASE WHEN _m IS NULL OR _k IS NULL THEN NULL WHEN map_contains(_m, _k) THEN _v "
            "ELSE error('Key not present in map') END",
            _m=base,
            _k=key,
            _v=plain,
        )
    if base.type is None or base.type.this != D.ARRAY:
        raise _refuse("subscripts of values other than arrays and maps")
    if node.args.get("safe"):  # element_at: NULL past either end, negative counts from the end
        return build("CASE WHEN _i = 0 THEN error('SQL array indices start at 1') ELSE _v END", _i=key, _v=plain)
    return build(
        "CASE WHEN _a IS NULL OR _i IS NULL THEN NULL WHEN _i < 1 THEN error('SQL array indices start at 1') "
        "WHEN _i > len(_a) THEN error('Array subscript must be less than or equal to array length') ELSE _v END",
        _a=base,
        _i=key,
        _v=plain,
    )


def _sequence(node: exp.GenerateSeries) -> exp.Expression:
    start, stop, step = node.args.get("start"), node.args.get("end"), node.args.get("step")
    if start is None or stop is None:
        raise _refuse("sequence() without start and stop")
    if any(_dt(x.type) not in INTS for x in (start, stop, step) if x is not None):
        raise _refuse("sequence() of dates or timestamps")
    parts = {"_s": exp.cast(start, "BIGINT"), "_e": exp.cast(stop, "BIGINT")}
    if step is None:
        return build(
            "CASE WHEN abs(_e - _s) >= 10000 THEN error('result of sequence function must not have more than "
            "10000 entries') ELSE generate_series(_s, _e, CASE WHEN _s <= _e THEN 1 ELSE -1 END) END",
            **parts,
        )
    parts["_t"] = exp.cast(step, "BIGINT")
    return build(
        "CASE WHEN _t = 0 THEN error('step must not be zero') "
        "WHEN (_t > 0 AND _s > _e) OR (_t < 0 AND _s < _e) THEN error('sequence stop value should be greater "
        "than or equal to start value if step is greater than zero otherwise stop should be less than or equal "
        "to start') WHEN abs(_e - _s) // abs(_t) >= 10000 THEN error('result of sequence function must not have "
        "more than 10000 entries') ELSE generate_series(_s, _e, _t) END",
        **parts,
    )


def _anonymous(node: exp.Anonymous) -> exp.Expression | None:
    name = node.name.lower()
    args = node.expressions
    if name == "map_values":
        return build("map_values(_m)", _m=args[0])
    if name == "zip_with":
        a, b, lam = args
        body = _apply(lam, build("_a[__i]", _a=a), build("_b[__i]", _b=b))
        return build(
            "CASE WHEN _a IS NULL OR _b IS NULL THEN NULL ELSE "
            "list_transform(generate_series(1, greatest(len(_a), len(_b))), lambda __i: _f) END",
            _a=a,
            _b=b,
            _f=body,
        )
    if name in ("any_match", "all_match", "none_match"):
        a, lam = args
        e = exp.column("__e")
        preds = build("list_transform(_a, lambda __e: _p)", _a=a, _p=_apply(lam, e))
        hit, miss = ("true", "false") if name == "any_match" else ("false", "true")
        target = "false" if name == "all_match" else "true"
        return build(
            f"CASE WHEN _a IS NULL THEN NULL WHEN list_contains(_t, {target}) THEN {hit} "
            f"WHEN list_contains(list_transform(_t, lambda __v: __v IS NULL), true) THEN NULL ELSE {miss} END",
            _a=a,
            _t=preds,
        )
    return None


def _unnest(node: exp.Unnest) -> exp.Expression:
    """UNNEST(a, b, ...) [WITH ORDINALITY] AS t(x, y, ..., n) as a LATERAL subquery over positions."""
    arrays = node.expressions
    alias = node.args.get("alias")
    for a in arrays:
        _check_element(a, "UNNEST")
    offset = node.args.get("offset")
    ordinality = bool(offset)
    cols = [c.name for c in alias.columns] if alias is not None else []
    if isinstance(offset, exp.Identifier):
        cols.append(offset.name)
    if alias is None or len(cols) != len(arrays) + ordinality or not alias.name:
        raise _refuse("UNNEST without a table alias naming every column")
    parts = {f"_a{k}": a for k, a in enumerate(arrays)}
    items = [f'_a{k}[__i] AS "{c}"' for k, c in enumerate(cols[: len(arrays)])]
    if ordinality:
        items.append(f'__i AS "{cols[-1]}"')
    longest = "greatest(" + ", ".join(f"coalesce(len(_a{k}), 0)" for k in range(len(arrays))) + ", 0)"
    sub = build(f"SELECT {', '.join(items)} FROM generate_series(1, {longest}) AS __g(__i)", **parts)
    # DuckDB makes a correlated subquery in FROM a lateral join by itself
    return exp.Subquery(this=sub, alias=exp.TableAlias(this=exp.to_identifier(alias.name, quoted=True)))

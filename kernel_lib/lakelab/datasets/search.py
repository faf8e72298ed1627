"""Finding datasets: text search, namespaces and paged listing, answered from the search
index (catalog/index.py) so they stay fast on large catalogs. The notebook
(`lh.datasets`), the CLI and the server's REST API all call these."""

from __future__ import annotations

import base64
import binascii
import json
from typing import TYPE_CHECKING, Any

from pyiceberg.exceptions import NoSuchNamespaceError

from lakelab.catalog import metadata as md
from lakelab.catalog.index import index_for
from lakelab.errors import InvalidInput, NotFound
from lakelab.names import ident, namespace_name
from lakelab.usage.table import is_system

if TYPE_CHECKING:
    from lakelab.lakehouse import Lakehouse

MAX_PAGE_SIZE = 1000


class DatasetList(list):
    """Search results: a list of summary dicts that renders as a table in a notebook.
    `corrected` is the text searched instead when the words as typed matched nothing, and
    `searched` that whole query (the corrected words with the query's filters)."""

    corrected: str | None = None
    searched: str | None = None

    def _repr_html_(self) -> str:
        from lakelab.notebook.cards import dataset_list_html

        return dataset_list_html(self)


FILTER_KEYS = ("kind", "owner", "tag", "namespace")


def parse_query(text: str | None) -> tuple[str | None, dict[str, str]]:
    """The sidebar's search syntax: `kind:model`, `owner:ana`, `tag:nyc` and `namespace:demo`
    tokens are filters, the other words the text (`delays tag:nyc owner:demo`). A `kind:` that
    names no kind, and a key with no value, stay in the text."""
    words, filters = [], {}
    for word in (text or "").split():
        key, sep, value = word.partition(":")
        key = key.lower()
        if sep and value and key in FILTER_KEYS and (key != "kind" or value.lower() in md.KINDS):
            filters[key] = value.lower() if key == "kind" else value
        else:
            words.append(word)
    return (" ".join(words) or None), filters


def _check(query: str | None, kind: str | None, owner: str | None, tag: str | None, namespace: str | None) -> None:
    for key, value in (("query", query), ("owner", owner), ("tag", tag), ("namespace", namespace)):
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"{key} must be text, got {type(value).__name__}")
        try:
            (value or "").encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidInput(f"{key} holds invalid unicode (a lone surrogate)") from None
    if kind is not None and kind not in md.KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(md.KINDS)}, got {kind!r}")
    if query is not None and len(query) > 500:
        raise InvalidInput("search text is longer than 500 characters")


def _filters(
    query: str | None, kind: str | None, owner: str | None, tag: str | None, namespace: str | None
) -> tuple[str | None, dict[str, str | None]]:
    """The free text and the filters: the query's own `key:value` tokens, and the arguments
    (an argument wins over a token of the same key)."""
    _check(query, kind, owner, tag, namespace)
    text, tokens = parse_query(query)
    given = {"kind": kind, "owner": owner, "tag": tag, "namespace": namespace}
    merged: dict[str, str | None] = {k: given[k] if given[k] is not None else tokens.get(k) for k in FILTER_KEYS}
    _check(text, merged["kind"], merged["owner"], merged["tag"], merged["namespace"])
    if merged["namespace"]:
        merged["namespace"] = ".".join(namespace_name(merged["namespace"]))
    return text, merged


def search(
    lh: Lakehouse,
    query: str | None = None,
    kind: str | None = None,
    owner: str | None = None,
    tag: str | None = None,
    namespace: str | None = None,
    limit: int = 100,
) -> DatasetList:
    """Datasets whose name, description, tags, owner or column names contain every word of
    `query`, filtered by kind, owner, tag and namespace (including nested namespaces). The
    query may carry the filters itself (`flights tag:nyc owner:demo`). When nothing matches,
    a misspelt word is read as the closest word the index knows ("fligths" finds flights);
    `corrected` then says what was searched."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"limit must be from 1 to {MAX_PAGE_SIZE}, got {limit!r}")
    text, filters = _filters(query, kind, owner, tag, namespace)
    index = index_for(lh)
    ns = filters.get("namespace")
    popular = _popularity(lh)
    fetch = MAX_PAGE_SIZE if popular else limit  # ties are ordered over every match, not one page
    system = ns is not None and is_system(ns)

    def run(words: str | None) -> DatasetList:
        rows = index.search(words, limit=fetch, **filters)
        return DatasetList(_by_usage(rows, words, popular, system)[:limit])

    found = run(text)
    if not found and text:
        fixed = index.correct(text)
        if fixed and fixed != text.lower():
            found = run(fixed)
            found.corrected = fixed
            tokens = parse_query(query)[1]
            found.searched = " ".join([fixed, *(f"{k}:{v}" for k, v in tokens.items())])
    return found


def facets(
    lh: Lakehouse,
    query: str | None = None,
    kind: str | None = None,
    owner: str | None = None,
    tag: str | None = None,
    namespace: str | None = None,
) -> dict[str, list[dict[str, Any]]]:
    """Counts of kind, owner and tag among every dataset the search matches (not just one
    page): {"kind": [{"value", "count"}, ...], "owner": [...], "tag": [...]}, most first."""
    text, filters = _filters(query, kind, owner, tag, namespace)
    return index_for(lh).facets(text, **filters)


# -- usage ranking: among equally relevant matches, the most queried first -------------------
def _popularity(lh: Lakehouse) -> dict[str, int]:
    from lakelab.usage.report import popularity

    return popularity(lh) if lh.config.usage.enabled else {}


def _by_usage(rows: list[dict[str, Any]], query: str | None, popular: dict[str, int], system: bool) -> list:
    """The index's order, with each relevance tier (the name holds the first word, or not)
    ordered by queries in the usage table; the system namespace only when asked for."""
    rows = [r for r in rows if system or not is_system(str(r.get("name", "")))]
    if not popular:
        return rows
    first = (query or "").lower().split()[:1]
    tier = [0 if not first or first[0] in str(r.get("name", "")).lower() else 1 for r in rows]
    order = sorted(range(len(rows)), key=lambda i: (tier[i], -popular.get(str(rows[i].get("name")), 0)))
    return [rows[i] for i in order]


# -- namespaces and paged listing ---------------------------------------------------------
def _check_namespace(lh: Lakehouse, ns: tuple[str, ...]) -> None:
    try:
        lh.catalog.load_namespace_properties(ns)
    except NoSuchNamespaceError:
        raise NotFound(f"namespace {'.'.join(ns)} does not exist") from None


def _all_namespaces(lh: Lakehouse) -> set[tuple[str, ...]] | None:
    """Every namespace in a SqlCatalog in one query (None for other catalogs)."""
    from pyiceberg.catalog.sql import SqlCatalog
    from sqlalchemy import text

    cat = lh.catalog
    if not isinstance(cat, SqlCatalog):
        return None
    with cat.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT namespace FROM iceberg_namespace_properties WHERE catalog_name = :c "
                "UNION SELECT table_namespace FROM iceberg_tables WHERE catalog_name = :c"
            ),
            {"c": cat.name},
        ).all()
    out: set[tuple[str, ...]] = set()
    for (dotted,) in rows:
        parts = tuple(dotted.split("."))
        out.update(parts[:i] for i in range(1, len(parts) + 1))
    return out


def list_namespaces(lh: Lakehouse, parent: str | None = None) -> list[dict[str, Any]]:
    """Child namespaces of `parent` (top level when None), with their dataset counts."""
    par = namespace_name(parent) if parent else ()
    if par:
        _check_namespace(lh, par)
    every = _all_namespaces(lh)
    if every is not None:
        children = sorted(n for n in every if len(n) == len(par) + 1 and n[: len(par)] == par)
    else:
        try:
            children = sorted(tuple(n) for n in lh.catalog.list_namespaces(par))
        except NoSuchNamespaceError:
            raise NotFound(f"namespace {'.'.join(par)} does not exist") from None
    counts = index_for(lh).counts()
    out = []
    children = [c for c in children if par or not is_system(c[0])]  # lakelab_system: by name only
    for child in children:
        dotted = ".".join(child)
        if every is not None:
            has_children = any(len(n) > len(child) and n[: len(child)] == child for n in every)
        else:
            has_children = bool(lh.catalog.list_namespaces(child))
        out.append(
            {"name": dotted, "parts": list(child), "datasets": counts.get(dotted, 0), "has_children": has_children}
        )
    return out


def _encode_token(ns: str, after: str) -> str:
    raw = json.dumps({"ns": ns, "after": after}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str, ns: str) -> str:
    bad = InvalidInput("page_token is not valid", hint="pass the next_page_token of a previous page unchanged")
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise bad from None
    if not isinstance(data, dict) or data.get("ns") != ns or not isinstance(data.get("after"), str):
        raise bad
    try:
        return ident(data["after"])
    except InvalidInput:
        raise bad from None


def list_datasets(lh: Lakehouse, namespace: str, page_size: int = 100, page_token: str | None = None) -> dict[str, Any]:
    """One page of the datasets directly in `namespace`, ordered by name:
    {"datasets": [...], "next_page_token": str | None}."""
    ns = namespace_name(namespace)
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise InvalidInput(f"page_size must be from 1 to {MAX_PAGE_SIZE}, got {page_size!r}")
    dotted = ".".join(ns)
    after = _decode_token(page_token, dotted) if page_token else None
    _check_namespace(lh, ns)
    rows = index_for(lh).list_namespace(dotted, after, page_size + 1)
    more = len(rows) > page_size
    rows = rows[:page_size]
    return {
        "namespace": dotted,
        "datasets": rows,
        "next_page_token": _encode_token(dotted, rows[-1]["table"]) if more else None,
    }

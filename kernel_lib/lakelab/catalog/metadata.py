"""Dataset metadata (table properties) and lineage (snapshot summaries): the keys, and the
one writer and one reader of each, so every write path records them the same way.

Writes Trino commits cannot carry lakelab keys in their snapshot summary; their lineage is
the same summary map, stored as JSON in the table property `lakelab.lineage.<snapshot_id>`
(engines/trino/lineage.py). `lineage_of` reads the summary first, then that property."""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lakelab.errors import InvalidInput

KIND = "lakelab.kind"
OWNER = "lakelab.owner"
DESCRIPTION = "lakelab.description"
TAGS = "lakelab.tags"
KINDS = ("table", "model", "report", "dashboard")
MAX_TAGS = 100

# snapshot-summary keys; values are strings (Iceberg summaries are string maps)
L_UPSTREAM = "lakelab.upstream"  # JSON list of {"table": "ns.t", "snapshot_id": int}
L_SOURCES = "lakelab.sources"  # JSON list of file URIs
L_SQL = "lakelab.sql"  # SQL text
L_CODE = "lakelab.code"  # python code identity (module.qualname@sha)
L_NOTEBOOK = "lakelab.notebook"  # notebook path
L_USER = "lakelab.user"
L_ENGINE = "lakelab.engine"  # duckdb | trino | ray | python
L_CELL = "lakelab.cell"  # the notebook cell that ran the write: "In [7]" or "In [7] (cell <id>)"
L_OPERATION = "lakelab.operation"  # ingest | transform | publish | metadata | trino
MAX_SUMMARY_TEXT = 16_000

# table properties holding the lineage of snapshots Trino wrote: lakelab.lineage.<snapshot_id>
L_PROPERTY = "lakelab.lineage."
MAX_PROPERTY_LINEAGE = 50  # newest entries kept: every metadata.json carries them all
MAX_PROPERTY_TEXT = 4_000  # SQL/code text per entry, so 50 entries stay ~200 KB at most


def current_user() -> str:
    try:
        return os.environ.get("LAKELAB_USER") or getpass.getuser()
    except Exception:  # noqa: BLE001 - no passwd entry in some containers
        return "unknown"


def notebook_path() -> str | None:
    """The running notebook's path when the kernel knows it (JupyterLab sets JPY_SESSION_NAME)."""
    return os.environ.get("JPY_SESSION_NAME") or os.environ.get("LAKELAB_NOTEBOOK") or None


# the notebook cell running now: the notebook extension sets it before each cell
# (notebook/magics), so every writer records it without knowing about IPython
_cell: list[str | None] = [None]


def set_current_cell(cell: str | None) -> None:
    _cell[0] = cell


@dataclass
class Lineage:
    operation: str
    upstream: list[dict[str, Any]] = field(default_factory=list)  # {"table", "snapshot_id"}
    sources: list[str] = field(default_factory=list)
    sql: str | None = None
    code: str | None = None
    notebook: str | None = None
    user: str | None = None
    engine: str | None = None
    cell: str | None = None

    def summary(self) -> dict[str, str]:
        """Snapshot summary properties for this write."""
        out = {L_OPERATION: self.operation, L_USER: self.user or current_user()}
        nb = self.notebook or notebook_path()
        if nb:
            out[L_NOTEBOOK] = nb
        cell = self.cell or _cell[0]
        if cell:
            out[L_CELL] = cell[:200]
        if self.engine:
            out[L_ENGINE] = self.engine
        if self.upstream:
            out[L_UPSTREAM] = json.dumps(self.upstream, separators=(",", ":"))
        if self.sources:
            srcs = list(self.sources)
            text = json.dumps(srcs)
            while len(text) > MAX_SUMMARY_TEXT and len(srcs) > 1:  # keep summaries small
                srcs = srcs[: len(srcs) // 2]
                text = json.dumps(srcs + [f"... {len(self.sources) - len(srcs)} more"])
            out[L_SOURCES] = text
        if self.sql:
            out[L_SQL] = self.sql[:MAX_SUMMARY_TEXT]
        if self.code:
            out[L_CODE] = self.code[:MAX_SUMMARY_TEXT]
        return out

    def property_value(self) -> str:
        """This lineage as the JSON value of a `lakelab.lineage.<snapshot_id>` property."""
        out = self.summary()
        for key in (L_SQL, L_CODE, L_SOURCES):
            if key in out and len(out[key]) > MAX_PROPERTY_TEXT:
                out[key] = (
                    out[key][:MAX_PROPERTY_TEXT]
                    if key != L_SOURCES
                    else json.dumps(json.loads(out[key])[:20] + ["... (truncated)"])
                )
        return json.dumps(out, separators=(",", ":"))

    @classmethod
    def from_summary(cls, summary: dict[str, str]) -> Lineage | None:
        if L_OPERATION not in summary and L_UPSTREAM not in summary:
            if "trino_query_id" in summary:  # a raw Trino write: who and which query
                return cls(
                    operation="trino", user=summary.get("trino_user"), code=f"trino query {summary['trino_query_id']}"
                )
            return None
        return cls(
            operation=summary.get(L_OPERATION, "unknown"),
            upstream=json.loads(summary.get(L_UPSTREAM, "[]")),
            sources=json.loads(summary.get(L_SOURCES, "[]")),
            sql=summary.get(L_SQL),
            code=summary.get(L_CODE),
            notebook=summary.get(L_NOTEBOOK),
            user=summary.get(L_USER),
            engine=summary.get(L_ENGINE),
            cell=summary.get(L_CELL),
        )


def lineage_property(snapshot_id: int) -> str:
    return f"{L_PROPERTY}{int(snapshot_id)}"


def _lakelab_summary(summary: dict[str, str]) -> bool:
    return L_OPERATION in summary or L_UPSTREAM in summary


def lineage_of(summary: dict[str, str], properties: dict[str, str], snapshot_id: int) -> Lineage | None:
    """The lineage of one snapshot: from its summary (lakelab wrote it), else from the
    `lakelab.lineage.<id>` property (Trino wrote it), else what Trino's own summary says."""
    if not _lakelab_summary(summary):
        raw = properties.get(lineage_property(snapshot_id))
        if raw:
            try:
                stored = json.loads(raw)
                if isinstance(stored, dict):
                    return Lineage.from_summary({k: str(v) for k, v in stored.items()})
            except ValueError:
                pass  # a hand-edited property must not hide the rest of the history
    return Lineage.from_summary(summary)


def upstream_tables(meta: Any) -> set[str]:
    """Every table named upstream by any snapshot of a table (summaries and lineage properties)."""
    props = dict(meta.properties)
    out: set[str] = set()
    for s in meta.snapshots:
        summary = dict(s.summary.additional_properties) if s.summary else {}
        try:
            lin = lineage_of(summary, props, s.snapshot_id)
        except (ValueError, TypeError):
            continue  # a hand-edited summary must not break readers
        if lin:
            out.update(str(u["table"]) for u in lin.upstream if isinstance(u, dict) and "table" in u)
    return out


def lineage_properties_to_drop(properties: dict[str, str], snapshot_ids_newest_first: list[int]) -> list[str]:
    """`lakelab.lineage.*` keys to remove: snapshots that no longer exist, and all but the
    newest MAX_PROPERTY_LINEAGE."""
    rank = {sid: i for i, sid in enumerate(snapshot_ids_newest_first)}
    keyed = []
    for key in properties:
        if key.startswith(L_PROPERTY):
            tail = key[len(L_PROPERTY) :]
            sid = int(tail) if tail.lstrip("-").isdigit() else None
            keyed.append((rank.get(sid, -1) if sid is not None else -1, key))
    gone = [k for r, k in keyed if r < 0]
    live = sorted((r, k) for r, k in keyed if r >= 0)
    return gone + [k for _, k in live[MAX_PROPERTY_LINEAGE:]]


def parse_tags(tags: str | Iterable[str] | None) -> list[str] | None:
    if tags is None:
        return None
    if not isinstance(tags, (str, list, tuple)):
        raise InvalidInput(f"tags must be text like 'a,b' or a list of text, got {type(tags).__name__}")
    items = tags.split(",") if isinstance(tags, str) else list(tags)
    out = []
    for t in items:
        if not isinstance(t, str):
            raise InvalidInput(f"each tag must be text, got {type(t).__name__}")
        t = t.strip()
        if not t:
            continue
        if len(t) > 64 or any(c in t for c in ",\n\r\t") or not _encodable(t):  # _encodable: NUL too
            raise InvalidInput(f"tag {t[:40]!r} is not valid", hint="tags are short words without commas")
        out.append(t)
    if len(out) > MAX_TAGS:
        raise InvalidInput(f"{len(out):,} tags is more than {MAX_TAGS}", hint="keep a few words that help search")
    return out


def _encodable(text: str) -> bool:
    """Whether text can be stored: UTF-8 encodable (no lone surrogates) and without NUL."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def metadata_properties(
    *,
    kind: str | None = None,
    owner: str | None = None,
    description: str | None = None,
    tags: str | Iterable[str] | None = None,
) -> dict[str, str]:
    """Table properties for the given metadata (only those given)."""
    props: dict[str, str] = {}
    if kind is not None:
        if kind not in KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        props[KIND] = kind
    for key, value in (("owner", owner), ("description", description)):
        if value is not None and not isinstance(value, str):
            raise InvalidInput(f"{key} must be text, got {type(value).__name__}")
        if value is not None and not _encodable(value):
            raise InvalidInput(
                f"{key} holds a NUL character or invalid unicode (a lone surrogate)", hint="remove the character"
            )
    if owner is not None:
        if len(owner) > 256:
            raise InvalidInput("owner is longer than 256 characters")
        props[OWNER] = owner
    if description is not None:
        if len(description) > 10_000:
            raise InvalidInput("description is longer than 10,000 characters")
        props[DESCRIPTION] = description
    parsed = parse_tags(tags)
    if parsed is not None:
        props[TAGS] = ",".join(parsed)
    return props


def read_metadata(properties: dict[str, str]) -> dict[str, Any]:
    return {
        "kind": properties.get(KIND, "table"),
        "owner": properties.get(OWNER),
        "description": properties.get(DESCRIPTION),
        "tags": [t for t in properties.get(TAGS, "").split(",") if t],
    }

"""Hostile input through the REST API (issue 8; the other surfaces are in
tests/reliability/test_hostile_input.py): a real Jupyter server on the SQLite and the
PostgreSQL catalog. Every case must answer 4xx (never 5xx) with the JSON error shape of
openapi.yaml and a message naming the problem, commit nothing, and touch no file outside
the warehouse (nor add one inside it)."""

from __future__ import annotations

import base64
import json
import os
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_server.utils import url_path_join

from catalog_state import fingerprint

from .conftest import API, SPEC, check_spec, seed


def _token(ns: str, after: Any) -> str:
    raw = json.dumps({"ns": ns, "after": after}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class RestCase:
    id: str
    category: str
    path: str  # under lakelab/api/v1/, already URL-encoded (sent as is)
    params: dict | None = None
    expect: tuple[str, ...] = ()
    method: str = "GET"
    body: bytes | None = None
    spec: str | None = None  # the openapi.yaml path it must match (None: an unknown route)


def R(
    id: str,
    category: str,
    path: str,
    *expect: str,
    params: dict | None = None,
    method: str = "GET",
    body: Any = None,
    spec: str | None = None,
) -> RestCase:
    raw = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    return RestCase(id, category, path, params, tuple(expect), method, raw, spec)


PREVIEW, DATASET, NS_DATASETS = "/datasets/{name}/preview", "/datasets/{name}", "/namespaces/{namespace}/datasets"
META, REPORT = "/datasets/{name}/metadata", "/datasets/{name}/versions/{version}/report"
P = "datasets/demo.flights/preview"

CASES = [
    # oversized limits
    R(
        "preview-limit-10e12",
        "oversized_limit",
        P,
        "limit",
        "0 to 500",
        params={"limit": "1000000000000"},
        spec=PREVIEW,
    ),
    R("preview-limit-negative", "oversized_limit", P, "limit", "-1", params={"limit": "-1"}, spec=PREVIEW),
    R("preview-limit-float", "oversized_limit", P, "limit", "whole number", params={"limit": "2.5"}, spec=PREVIEW),
    R(
        "page-size-negative",
        "oversized_limit",
        "namespaces/demo/datasets",
        "page_size",
        params={"page_size": "-1"},
        spec=NS_DATASETS,
    ),
    R(
        "page-size-10e12",
        "oversized_limit",
        "namespaces/demo/datasets",
        "page_size",
        params={"page_size": "1000000000000"},
        spec=NS_DATASETS,
    ),
    R("search-limit-10e12", "oversized_limit", "search", "limit", params={"limit": "1000000000000"}, spec="/search"),
    R(
        "lineage-depth-10e6",
        "oversized_limit",
        "datasets/demo.flights/lineage",
        "depth",
        params={"depth": "1000000"},
        spec="/datasets/{name}/lineage",
    ),
    # wrong types
    R("preview-limit-text", "wrong_type", P, "limit", "whole number", params={"limit": "ten"}, spec=PREVIEW),
    R(
        "preview-as-of-garbage",
        "wrong_type",
        P,
        "as_of",
        "not a timestamp",
        params={"as_of": "yesterday"},
        spec=PREVIEW,
    ),
    R(
        "metadata-tags-a-number",
        "wrong_type",
        "datasets/demo.flights/metadata",
        "tags",
        method="PATCH",
        body={"tags": 5},
        spec=META,
    ),
    R(
        "metadata-owner-a-number",
        "wrong_type",
        "datasets/demo.flights/metadata",
        "owner",
        "text",
        method="PATCH",
        body={"owner": 5},
        spec=META,
    ),
    R(
        "metadata-body-a-list",
        "wrong_type",
        "datasets/demo.flights/metadata",
        "JSON object",
        method="PATCH",
        body=[1, 2],
        spec=META,
    ),
    R(
        "metadata-unknown-field-location",
        "wrong_type",
        "datasets/demo.flights/metadata",
        "unknown field",
        "location",
        method="PATCH",
        body={"location": "file:///tmp"},
        spec=META,
    ),
    R(
        "report-version-text",
        "wrong_type",
        "datasets/demo.flights/versions/latest/report",
        "version",
        "whole number",
        spec=REPORT,
    ),
    R("report-of-a-table", "wrong_type", "datasets/demo.flights/versions/1/report", "demo.flights", spec=REPORT),
    # malformed bodies
    R(
        "metadata-body-not-json",
        "malformed_file",
        "datasets/demo.flights/metadata",
        "not valid JSON",
        method="PATCH",
        body=b"{not json",
        spec=META,
    ),
    R(
        "metadata-body-truncated-json",
        "malformed_file",
        "datasets/demo.flights/metadata",
        "not valid JSON",
        method="PATCH",
        body=b'{"description": "cut he',
        spec=META,
    ),
    R(
        "metadata-body-invalid-utf8",
        "malformed_file",
        "datasets/demo.flights/metadata",
        "not valid JSON",
        method="PATCH",
        body=b'{"owner": "\xff\xfe"}',
        spec=META,
    ),
    # huge fields
    R(
        "metadata-tags-1000",
        "huge_field",
        "datasets/demo.flights/metadata",
        "tags",
        "more than 100",
        method="PATCH",
        body={"tags": [f"t{i}" for i in range(1000)]},
        spec=META,
    ),
    R(
        "metadata-description-10mb",
        "huge_field",
        "datasets/demo.flights/metadata",
        "description",
        "longer than",
        method="PATCH",
        body={"description": "x" * (10 << 20)},
        spec=META,
    ),
    R("dataset-name-10k-chars", "huge_field", "datasets/demo." + "a" * 10_000, "longer than 128", spec=DATASET),
    R("search-text-600-chars", "huge_field", "search", "q", "longer than 500", params={"q": "q" * 600}, spec="/search"),
    R(
        "page-token-3000-chars",
        "huge_field",
        "namespaces/demo/datasets",
        "page_token",
        "longer than 2000",
        params={"page_token": "A" * 3000},
        spec=NS_DATASETS,
    ),
    # path traversal
    R(
        "dataset-encoded-slashes",
        "path_traversal",
        "datasets/..%2F..%2Fetc%2Fpasswd",
        "table name",
        "empty part",
        spec=DATASET,
    ),
    R("dataset-percent-2e", "path_traversal", "datasets/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "table name", spec=DATASET),
    R("dataset-dotdot-segments", "path_traversal", "datasets/../../../etc/passwd", "no such lakelab API route"),
    R(
        "preview-name-traversal",
        "path_traversal",
        "datasets/demo%2F..%2F..%2Fx/preview",
        "table name",
        "empty part",
        spec=PREVIEW,
    ),
    R(
        "namespace-parent-traversal",
        "path_traversal",
        "namespaces",
        "namespace",
        "empty part",
        params={"parent": "../../etc"},
        spec="/namespaces",
    ),
    R("namespace-path-traversal", "path_traversal", "namespaces/..%2F..%2Fetc/datasets", "namespace", spec=NS_DATASETS),
    R(
        "search-namespace-traversal",
        "path_traversal",
        "search",
        "namespace",
        params={"namespace": "../.."},
        spec="/search",
    ),
    R(
        "metadata-name-traversal",
        "path_traversal",
        "datasets/..%2F..%2Fx/metadata",
        "table name",
        method="PATCH",
        body={"description": "x"},
        spec=META,
    ),
    R(
        "report-version-traversal",
        "path_traversal",
        "datasets/demo.flights/versions/..%2F..%2Fetc/report",
        "version",
        spec=REPORT,
    ),
    # SQL injection through names and parameters
    R(
        "dataset-semicolon-drop",
        "sql_injection",
        "datasets/demo.x%3B%20DROP%20TABLE%20demo.flights",
        "not a valid name",
        spec=DATASET,
    ),
    R("dataset-double-quote", "sql_injection", "datasets/demo.%22flights%22", "not a valid name", spec=DATASET),
    R("dataset-backticks", "sql_injection", "datasets/demo.%60flights%60", "not a valid name", spec=DATASET),
    R(
        "namespace-single-quote",
        "sql_injection",
        "namespaces",
        "not a valid name",
        params={"parent": "demo'; DROP TABLE x; --"},
        spec="/namespaces",
    ),
    R(
        "preview-columns-injection",
        "sql_injection",
        P,
        "not a valid name",
        params={"columns": "carrier; DROP TABLE demo.flights"},
        spec=PREVIEW,
    ),
    R(
        "preview-snapshot-injection",
        "sql_injection",
        P,
        "snapshot_id",
        "not a number",
        params={"snapshot_id": "1 OR 1=1"},
        spec=PREVIEW,
    ),
    # unicode and reserved identifiers
    R("dataset-emoji", "unicode_reserved", "datasets/demo.%F0%9F%98%80", "not a valid name", spec=DATASET),
    R("dataset-rtl-override", "unicode_reserved", "datasets/demo.t%E2%80%AEabc", "not a valid name", spec=DATASET),
    R("dataset-nul-byte", "unicode_reserved", "datasets/demo.t%00x", "not a valid name", spec=DATASET),
    R(
        "metadata-lone-surrogate",
        "unicode_reserved",
        "datasets/demo.flights/metadata",
        "description",
        "invalid unicode",
        method="PATCH",
        body=b'{"description": "a\\ud800b"}',
        spec=META,
    ),
    R(
        "metadata-owner-nul",
        "unicode_reserved",
        "datasets/demo.flights/metadata",
        "owner",
        "NUL",
        method="PATCH",
        body=b'{"owner": "bob\\u0000"}',
        spec=META,
    ),
    R("search-q-invalid-utf8", "unicode_reserved", "search?q=caf%ED%A0%80", "unicode", spec="/search"),
    R("dataset-name-invalid-utf8", "unicode_reserved", "datasets/demo.%ED%A0%80", spec=DATASET),
    R(
        "dataset-reserved-words-missing",
        "unicode_reserved",
        "datasets/select.order",
        "select.order",
        "does not exist",
        spec=DATASET,
    ),
    # bad paging tokens
    R(
        "page-token-forged-after",
        "bad_paging",
        "namespaces/demo/datasets",
        "page_token",
        "not valid",
        params={"page_token": _token("demo", "x; DROP TABLE demo.flights")},
        spec=NS_DATASETS,
    ),
    R(
        "page-token-base64-garbage",
        "bad_paging",
        "namespaces/demo/datasets",
        "page_token",
        "not valid",
        params={"page_token": "!!%%not-base64%%!!"},
        spec=NS_DATASETS,
    ),
    R(
        "page-token-other-namespace",
        "bad_paging",
        "namespaces/demo/datasets",
        "page_token",
        "not valid",
        params={"page_token": _token("zoo", "penguins")},
        spec=NS_DATASETS,
    ),
    R(
        "page-token-negative-offset",
        "bad_paging",
        "namespaces/demo/datasets",
        "page_token",
        "not valid",
        params={"page_token": _token("demo", -5)},
        spec=NS_DATASETS,
    ),
    # workspaces: refused before any process starts
    R(
        "workspace-name-traversal",
        "path_traversal",
        "workspaces",
        "name",
        method="POST",
        body={"name": "../../x"},
        spec="/workspaces",
    ),
    R(
        "workspace-name-a-number",
        "wrong_type",
        "workspaces",
        "name",
        method="POST",
        body={"name": 5},
        spec="/workspaces",
    ),
    R(
        "workspace-name-1mb",
        "huge_field",
        "workspaces",
        "name",
        method="POST",
        body={"name": "w" * (1 << 20)},
        spec="/workspaces",
    ),
    R(
        "workspace-cpus-text",
        "wrong_type",
        "workspaces",
        "cpus",
        method="POST",
        body={"name": "w", "cpus": "ten"},
        spec="/workspaces",
    ),
    R(
        "workspace-workers-10e12",
        "oversized_limit",
        "workspaces",
        "workers",
        method="POST",
        body={"name": "w", "workers": 10**12},
        spec="/workspaces",
    ),
    R(
        "workspace-unknown-field",
        "wrong_type",
        "workspaces",
        "unknown field",
        method="POST",
        body={"name": "w", "command": "rm -rf /"},
        spec="/workspaces",
    ),
    R(
        "workspace-scale-traversal",
        "path_traversal",
        "workspaces/..%2F..%2Fx/scale",
        "name",
        method="POST",
        body={"workers": 1},
        spec="/workspaces/{name}/scale",
    ),
    R(
        "workspace-logs-lines-negative",
        "oversized_limit",
        "workspaces/w/logs",
        "lines",
        params={"lines": "-1"},
        spec="/workspaces/{name}/logs",
    ),
    R(
        "workspace-delete-traversal",
        "path_traversal",
        "workspaces/%2e%2e%2f%2e%2e%2fx",
        "name",
        method="DELETE",
        spec="/workspaces/{name}",
    ),
    R(
        "page-token-json-not-object",
        "bad_paging",
        "namespaces/demo/datasets",
        "page_token",
        "not valid",
        params={"page_token": base64.urlsafe_b64encode(b"[1, 2, 3]").decode()},
        spec=NS_DATASETS,
    ),
]


def _listing(roots: list[Path], skip: set[Path]) -> dict[str, tuple]:
    out = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            d = Path(dirpath)
            dirnames[:] = [n for n in dirnames if d / n not in skip]
            out[str(d)] = ("dir",)
            for n in filenames:
                if not n.endswith(".log"):
                    st = (d / n).stat()
                    out[str(d / n)] = (st.st_size, st.st_mtime_ns)
    return out


async def test_hostile_rest_requests_get_a_clear_4xx_and_change_nothing(
    house, jp_fetch, http_server_client, jp_base_url, jp_auth_header, lakelab_home, tmp_path, capsys
):
    seed(house)
    outside = tmp_path / "outside"
    (outside / "etc").mkdir(parents=True)
    (outside / "etc" / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\n")
    (outside / "x.csv").write_text("sentinel\n")
    roots = [outside, lakelab_home, house.config.warehouse]
    skip = {lakelab_home / "index"}
    await jp_fetch(API, "info")  # the server is up and has opened the catalog
    results: list[tuple[RestCase, bool, int, float]] = []
    failures = []
    for case in CASES:
        before, files_before = fingerprint(house), _listing(roots, skip)
        query = ("?" + urllib.parse.urlencode(case.params)) if case.params else ""
        url = url_path_join(jp_base_url, API, case.path) + query
        started = time.perf_counter()
        r = await http_server_client.fetch(
            url,
            method=case.method,
            body=case.body,
            headers=dict(jp_auth_header),
            raise_error=False,
            request_timeout=60,
            allow_nonstandard_methods=True,
        )
        elapsed = time.perf_counter() - started
        problems = []
        try:
            data = json.loads(r.body)
        except ValueError:
            data = None
            problems.append(f"not JSON: {r.body[:200]!r}")
        if not 400 <= r.code < 500:
            problems.append(f"status {r.code}")
        if data is not None:
            err = data.get("error") if isinstance(data, dict) else None
            if not (isinstance(err, dict) and isinstance(err.get("code"), str) and isinstance(err.get("message"), str)):
                problems.append(f"not the error shape: {str(data)[:200]}")
            else:
                low = err["message"].lower()
                missing = [w for w in case.expect if w.lower() not in low]
                if missing:
                    problems.append(f"message {err['message'][:200]!r} lacks {missing}")
                if "traceback" in low or "internal" in err["code"]:
                    problems.append(f"internal error shown: {err['message'][:200]!r}")
            if case.spec and 400 <= r.code < 500:
                try:
                    check_spec(case.spec, case.method.lower(), r.code, data)
                except AssertionError as e:
                    problems.append(str(e)[:300])
        if fingerprint(house) != before:
            problems.append("the catalog changed")
        changed = [k for k, v in _listing(roots, skip).items() if files_before.get(k) != v]
        changed += [k for k in files_before if k not in _listing(roots, skip)]
        if changed:
            problems.append(f"files changed: {changed[:5]}")
        results.append((case, not problems, r.code, elapsed))
        if problems:
            failures.append(f"{case.id}: {'; '.join(problems)}")

    grid, passed = Counter(c.category for c, *_ in results), Counter(c.category for c, ok, *_ in results if ok)
    statuses = Counter(code for _, _, code, _ in results)
    with capsys.disabled():
        print(
            f"\nhostile REST corpus on {house.config.catalog.get('uri', '').split(':', 1)[0]} catalog: "
            f"passed/cases per category"
        )
        for cat in sorted(grid):
            print(f"  {cat:<18}{passed[cat]:>4}/{grid[cat]}")
        print(
            f"  {'all':<18}{sum(passed.values()):>4}/{len(results)}   statuses: "
            + ", ".join(f"{k}x{v}" for k, v in sorted(statuses.items()))
            + f"   slowest: {max(t for *_, t in results):.2f} s"
        )
    assert not failures, "\n".join(failures)
    assert len(CASES) >= 10 and all(SPEC["paths"].get(c.spec) for c in CASES if c.spec)

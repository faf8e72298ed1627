"""A real OpenLineage receiver (a stdlib HTTP server on loopback), the OpenLineage JSON schema,
and an environment where only what a test configures reaches openlineage-python."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from lakelab.lineage import openlineage

# the OpenLineage spec, vendored from github.com/OpenLineage/OpenLineage (commit 8f02abfb7a25,
# spec/OpenLineage.json and spec/facets/*.json; Apache-2.0): data the events are checked against
SPEC = Path(__file__).parent / "openlineage_spec"


def closed_port() -> int:
    """A loopback port nothing listens on (a receiver that is down)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Receiver:
    """Collects the events POSTed to it; `hold` makes it stop answering until released."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.hold = threading.Event()
        self.hold.set()
        received = self.events
        hold = self.hold

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                hold.wait()
                received.append(json.loads(body))
                self.send_response(201)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def ol_env(monkeypatch, tmp_path) -> Iterator[Path]:
    """No OpenLineage configuration but the test's own (env, working directory, home)."""
    for var in list(os.environ):
        if var.startswith("OPENLINEAGE"):
            monkeypatch.delenv(var)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    openlineage.reset()
    yield tmp_path
    openlineage.flush(30)
    openlineage.reset()
    # what the test configured must not outlive it in os.environ, where every later subprocess
    # (the CLI, Ray workers) would read it (openlineage-python writes OPENLINEAGE__ variables)
    leaked = [k for k in os.environ if k.startswith("OPENLINEAGE__")]
    assert not leaked, f"OpenLineage configuration left in the environment: {leaked}"


def _registry() -> Registry:
    resources = []
    for f in [SPEC / "OpenLineage.json", *sorted((SPEC / "facets").glob("*.json"))]:
        doc = json.loads(f.read_text())
        resources.append((doc["$id"], Resource.from_contents(doc)))
    return Registry().with_resources(resources)


REGISTRY = _registry()
FACETS = {Path(uri).name: uri for uri in (str(u) for u in REGISTRY) if "/facets/" in uri}


def _check(instance: Any, ref: str) -> list[str]:
    v = Draft202012Validator({"$ref": ref}, registry=REGISTRY, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(instance)]


def schema_errors(event: dict[str, Any]) -> list[str]:
    """What in `event` the OpenLineage schema rejects: the RunEvent itself, then every facet
    against its own facet schema (the spec's facet definitions, by facet file name)."""
    errors = _check(event, "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent")
    facet_sets = [event["run"].get("facets", {}), event["job"].get("facets", {})]
    for ds in event.get("inputs", []) + event.get("outputs", []):
        facet_sets += [ds.get("facets", {}), ds.get("inputFacets", {}), ds.get("outputFacets", {})]
    for facets in facet_sets:
        for key, facet in facets.items():
            url = facet["_schemaURL"]
            file, _, pointer = url.partition("#")
            base = FACETS.get(Path(file).name)
            if base is None:
                errors.append(f"{key}: no vendored schema for {url}")
                continue
            errors += [f"{key}.{m}" for m in _check(facet, f"{base}#{pointer}")]
    return errors

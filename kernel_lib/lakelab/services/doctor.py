"""`lakelab doctor`: what is configured, what is reachable, what is wrong — in plain words."""

from __future__ import annotations

import importlib
import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from lakelab.config import Config, load_config, redact
from lakelab.errors import LakelabError


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None

    def line(self) -> str:
        mark = "ok  " if self.ok else "FAIL"
        out = f"[{mark}] {self.name}: {self.detail}"
        return out + (f"\n       -> {self.fix}" if self.fix and not self.ok else "")


def _config() -> tuple[Config | None, Check]:
    try:
        cfg = load_config()
    except LakelabError as e:
        return None, Check("config", False, str(e), "fix the config file or unset LAKELAB_CONFIG")
    where = f"file {cfg.source}" if cfg.source else "no config file: the embedded default"
    return cfg, Check("config", True, f"{where}; home {cfg.home}")


def _catalog(cfg: Config) -> list[Check]:
    from lakelab.catalog.access import open_catalog

    uri = redact(str(cfg.catalog.get("uri", cfg.catalog.get("type", "?"))))
    try:
        cat = open_catalog(cfg)
        namespaces = cat.list_namespaces()
        n_tables = sum(len(cat.list_tables(ns)) for ns in namespaces)
    except Exception as e:  # noqa: BLE001 - report whatever went wrong
        return [
            Check(
                "catalog",
                False,
                f"{cfg.catalog_name} at {uri}: {redact(str(e))}",
                "check the catalog section of the config",
            )
        ]
    checks = [
        Check(
            "catalog",
            True,
            f"{cfg.catalog_name} ({cfg.catalog.get('type', 'sql')}) at {uri}: "
            f"{len(namespaces)} namespace(s), {n_tables} dataset(s)",
        )
    ]
    wh = str(cfg.catalog.get("warehouse", ""))
    if wh.startswith("file://") or not wh:
        path = cfg.warehouse
        ok = path.exists() and os.access(path, os.W_OK)
        checks.append(
            Check(
                "warehouse",
                ok,
                f"{path} {'is writable' if ok else 'is missing or not writable'}",
                f"create it or fix permissions: mkdir -p {path}",
            )
        )
    else:
        checks.append(_object_storage(cfg, wh))
    if n_tables == 0:
        checks.append(Check("datasets", True, "the catalog is empty: `lakelab demo` seeds demo datasets"))
    return checks


def _object_storage(cfg: Config, warehouse: str) -> Check:
    """Reach the warehouse through pyiceberg's own FileIO with the catalog's properties: a
    probe for a missing object answers "not found" only when endpoint and keys work."""
    from pyiceberg.io import load_file_io

    props = {k: str(v) for k, v in cfg.catalog.items() if k not in ("name", "type", "uri")}
    try:
        io = load_file_io(props, warehouse)
        io.new_input(warehouse.rstrip("/") + "/.lakelab-doctor-probe").exists()
    except Exception as e:  # noqa: BLE001 - report whatever went wrong, without secrets
        return Check(
            "storage",
            False,
            f"{redact(warehouse)} unreachable: {type(e).__name__}: {redact(str(e))[:300]}",
            "check the s3.* / gcs.* properties of the catalog section, or `lakelab services status`",
        )
    endpoint = cfg.catalog.get("s3.endpoint") or cfg.catalog.get("gcs.service.host") or "the provider's default"
    return Check("storage", True, f"{redact(warehouse)} reachable through {redact(str(endpoint))}")


def _services(cfg: Config) -> list[Check]:
    """The parts `lakelab services up` started for this home, if any."""
    from lakelab import services

    st = services.status(cfg.home)
    if not st["configured"]:
        return []
    checks = []
    for part in st["parts"]:
        where = part["url"] or f"127.0.0.1:{part['port']}"
        if part["reachable"]:
            mem = f", {part['memory_mb']:.0f} MB" if part.get("memory_mb") else ""
            checks.append(Check(f"services: {part['label']}", True, f"running at {where} (pid {part['pid']}{mem})"))
        else:
            state = "running but not answering" if part["running"] else "not running"
            checks.append(
                Check(
                    f"services: {part['label']}",
                    False,
                    f"{state} at {where}",
                    f"see {part['log']}; restart with `lakelab services down` then `lakelab services up`",
                )
            )
    return checks


def _engines(cfg: Config) -> list[Check]:
    import duckdb

    checks = [
        Check(
            "embedded engine", True, f"DuckDB {duckdb.__version__}" + (" (default)" if cfg.engine == "duckdb" else "")
        )
    ]
    if not cfg.trino:
        checks.append(Check("trino", True, "not configured (run `lakelab services up` for a local Trino)"))
        return checks
    url = cfg.trino.url
    try:
        with urllib.request.urlopen(f"{url}/v1/info", timeout=3) as r:
            info = json.load(r)
        if info.get("starting"):
            return checks + [Check("trino", False, f"{url} is still starting", "wait a minute and retry")]
        version = info.get("nodeVersion", {}).get("version", "?")
    except Exception as e:  # noqa: BLE001
        return checks + [
            Check(
                "trino",
                False,
                f"{url} unreachable: {type(e).__name__}: {redact(str(e))}",
                "start it with `lakelab services up`, or fix the trino section of the config",
            )
        ]
    checks.append(
        Check(
            "trino",
            True,
            f"{url} Trino {version}, user {cfg.trino.user}, "
            f"catalog {cfg.trino.catalog}" + (" (default)" if cfg.engine == "trino" else ""),
        )
    )
    return checks


def _workspaces(cfg: Config) -> list[Check]:
    try:
        ray = importlib.import_module("ray")
    except ImportError:
        return [Check("ray", False, "ray is not installed", "pip install 'lakelab[ray]'")]
    detail = f"Ray {ray.__version__}, backend {cfg.workspaces.backend}"
    if cfg.workspaces.backend == "attach" and not cfg.workspaces.address:
        return [Check("workspaces", False, detail + ", but no address", "set workspaces.address in the config")]
    return [Check("workspaces", True, detail)]


def _jupyter() -> list[Check]:
    from jupyter_core.paths import jupyter_config_path, jupyter_path

    lab = [Path(p) / "lakelab" / "package.json" for p in jupyter_path("labextensions")]
    lab_ok = any(p.exists() for p in lab)
    srv = [Path(p) / "jupyter_server_config.d" / "lakelab.json" for p in jupyter_config_path()]
    srv_ok = any(p.exists() for p in srv)
    return [
        Check(
            "jupyterlab extension",
            lab_ok,
            "installed" if lab_ok else "not found in any labextensions path",
            "reinstall: pip install . (from a checkout: make lab)",
        ),
        Check(
            "server extension",
            srv_ok,
            "enabled" if srv_ok else "not enabled",
            "jupyter server extension enable lakelab_server",
        ),
    ]


def run_checks() -> list[Check]:
    cfg, first = _config()
    checks = [first]
    if cfg is not None:
        checks += _services(cfg) + _catalog(cfg) + _engines(cfg) + _workspaces(cfg)
    return checks + _jupyter()

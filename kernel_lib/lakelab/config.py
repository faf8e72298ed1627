"""Configuration: one file plus environment variables, following each ecosystem's own keys.

Where it is looked for, first found wins:
  1. $LAKELAB_CONFIG (a path to a YAML file)
  2. $LAKELAB_HOME/config.yaml   ($LAKELAB_HOME defaults to ~/.lakelab)

    catalog:                 # pyiceberg's own catalog properties, passed to load_catalog
      name: lakelab          # with only a name, pyiceberg's ~/.pyiceberg.yaml / PYICEBERG_* apply
      type: sql
      uri: sqlite:////home/me/.lakelab/catalog.db
      warehouse: file:///home/me/.lakelab/warehouse
    trino:                   # absent = embedded DuckDB engine
      host: 127.0.0.1
      port: 8080
      http_scheme: http      # https required for password / jwt
      user: me
      password: ...          # or LAKELAB_TRINO_PASSWORD; never printed
      jwt: ...               # or LAKELAB_TRINO_JWT; never printed
      catalog: iceberg       # the Trino catalog whose connector points at our catalog
      schema: default
      session_properties: {query_max_run_time: 1h}
    workspaces:
      backend: local         # local | attach | kuberay
      address: null          # for attach: ray://host:10001 or host:6379
      namespace: lakelab     # kuberay (docs/kuberay.md): kubeconfig, kube_context, image,
                             # head_resources, worker_resources, service_account, dashboard_url

Environment variables override the file: LAKELAB_TRINO_HOST, _PORT, _USER, _PASSWORD,
_JWT, _HTTP_SCHEME, _CATALOG, _SCHEMA; LAKELAB_ENGINE (duckdb|trino);
LAKELAB_WORKSPACE_BACKEND, LAKELAB_WORKSPACE_ADDRESS (or RAY_ADDRESS), LAKELAB_WORKSPACE_NAMESPACE;
KUBECONFIG as kubectl reads it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lakelab.errors import InvalidInput

SECRET_KEYS = ("password", "jwt", "token", "secret", "credential", "access-key", "access_key", "key-id")


def is_secret(key: str) -> bool:
    k = key.lower()
    return any(s in k for s in SECRET_KEYS)


def redact(value: Any) -> Any:
    """A copy of a config mapping with secret values replaced, safe to show or log."""
    if isinstance(value, dict):
        return {k: ("***" if is_secret(str(k)) and v else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str) and "://" in value and "@" in value.split("://", 1)[1].split("/", 1)[0]:
        # user:password@host in a URI
        scheme, rest = value.split("://", 1)
        creds, host = rest.split("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else value
    return value


def lakelab_home() -> Path:
    return Path(os.environ.get("LAKELAB_HOME") or Path.home() / ".lakelab").expanduser().resolve()


@dataclass
class TrinoConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    http_scheme: str = "http"
    user: str = field(default_factory=lambda: os.environ.get("USER") or "lakelab")
    password: str | None = field(default=None, repr=False)  # secrets: never in a repr
    jwt: str | None = field(default=None, repr=False)
    catalog: str = "iceberg"
    schema: str = "default"
    session_properties: dict[str, Any] = field(default_factory=dict)
    verify: bool | str = True

    @property
    def url(self) -> str:
        return f"{self.http_scheme}://{self.host}:{self.port}"

    def public(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "user": self.user,
            "catalog": self.catalog,
            "schema": self.schema,
            "auth": "jwt" if self.jwt else "password" if self.password else "none",
        }


@dataclass
class WorkspaceConfig:
    backend: str = "local"  # local | attach
    address: str | None = None  # attach: the cluster's address
    dashboard_url: str | None = None  # attach: its dashboard; kuberay: a template ({service}, {namespace}, ...)
    max_workers: int = 4  # worker nodes per workspace
    max_cpus_per_node: int = 2
    max_workspaces_per_user: int = 4
    idle_timeout_s: float = 3600.0  # no driver, job or task for this long: stopped
    cull_interval_s: float = 60.0
    stop_on_shutdown: bool = True  # the Jupyter server stops its local workspaces when it stops
    start_timeout_s: float = 180.0
    start_attempts: int = 2
    stop_timeout_s: float = 15.0  # SIGTERM, then SIGKILL after this
    drain_timeout_s: float = 3.0
    disconnect_timeout_s: float = 30.0  # a stop waits this long for connected kernels to let go
    object_store_mb: int = 256
    # kuberay: one RayCluster per workspace (docs/kuberay.md)
    namespace: str | None = None  # default: the kubeconfig context's namespace, or the pod's own
    kubeconfig: str | None = None  # a path, or "in-cluster"; default $KUBECONFIG / ~/.kube/config
    kube_context: str | None = None  # a context of that kubeconfig; default its current-context
    image: str = "rayproject/ray:2.60.0"
    ray_version: str = "2.60.0"
    head_resources: dict[str, Any] | None = None  # {cpu, memory} or {requests: {...}, limits: {...}}
    worker_resources: dict[str, Any] | None = None  # default: cpu = cpus per node, memory 2Gi
    service_account: str | None = None  # the Ray pods' service account


@dataclass
class UsageConfig:
    """Usage recording (usage/recorder.py); docs/usage.md. LAKELAB_USAGE=off turns it off,
    LAKELAB_USAGE_OPT_OUT=1 opts the current user out."""

    enabled: bool = True
    opt_out: list[str] = field(default_factory=list)  # users whose queries are never kept
    retention_days: int = 90  # older rows are removed when the table is compacted
    flush_s: float = 5.0  # a batch is written at least this often while queries run
    batch_rows: int = 500  # ... or as soon as this many rows wait
    max_pending: int = 10_000  # beyond this, new rows are dropped (counted) until a batch is written


@dataclass
class Config:
    home: Path
    catalog: dict[str, Any]
    trino: TrinoConfig | None
    workspaces: WorkspaceConfig
    engine: str  # default engine for sql(): "trino" when configured, else "duckdb"
    source: Path | None = None  # the file it came from, if any
    usage: UsageConfig = field(default_factory=UsageConfig)

    @property
    def catalog_name(self) -> str:
        return str(self.catalog.get("name", "lakelab"))

    @property
    def warehouse(self) -> Path:
        wh = str(self.catalog.get("warehouse", ""))
        return Path(wh[len("file://") :]) if wh.startswith("file://") else self.home / "warehouse"

    def public(self) -> dict[str, Any]:
        """What may be shown anywhere: no secrets."""
        return {
            "home": str(self.home),
            "config_file": str(self.source) if self.source else None,
            "catalog": redact(dict(self.catalog)),
            "engine": self.engine,
            "trino": self.trino.public() if self.trino else None,
            "workspaces": {"backend": self.workspaces.backend, "address": redact(self.workspaces.address)},
        }


def default_catalog(home: Path) -> dict[str, Any]:
    return {
        "name": "lakelab",
        "type": "sql",
        "uri": f"sqlite:///{home / 'catalog.db'}",
        "warehouse": f"file://{home / 'warehouse'}",
    }


def config_path() -> Path:
    explicit = os.environ.get("LAKELAB_CONFIG")
    return Path(explicit).expanduser() if explicit else lakelab_home() / "config.yaml"


def load_config(path: str | Path | None = None) -> Config:
    home = lakelab_home()
    path = Path(path) if path else config_path()
    raw: dict[str, Any] = {}
    source = None
    if path.exists():
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as e:
            raise InvalidInput(f"config file {path} is not valid YAML: {e}") from None
        except (UnicodeDecodeError, OSError) as e:  # binary garbage, a directory, no permission
            raise InvalidInput(f"config file {path} cannot be read as text: {type(e).__name__}: {e}") from None
        if not isinstance(raw, dict):
            raise InvalidInput(f"config file {path} must hold a mapping with catalog/trino/workspaces keys")
        source = path
    unknown = set(raw) - {"catalog", "trino", "workspaces", "engine", "usage"}
    if unknown:
        raise InvalidInput(
            f"config file {path}: unknown section(s) {sorted(unknown)}",
            hint="allowed: catalog, trino, workspaces, engine, usage",
        )

    catalog = dict(raw.get("catalog") or default_catalog(home))
    catalog.setdefault("name", "lakelab")

    trino_raw = dict(raw.get("trino") or {})
    env = os.environ
    for key in ("host", "port", "user", "password", "jwt", "http_scheme", "catalog", "schema"):
        val = env.get(f"LAKELAB_TRINO_{key.upper()}")
        if val:
            trino_raw[key] = val
    trino = None
    if trino_raw.get("host"):
        known = set(TrinoConfig.__dataclass_fields__)
        bad = set(trino_raw) - known
        if bad:
            raise InvalidInput(f"trino config: unknown key(s) {sorted(bad)}", hint=f"allowed: {sorted(known)}")
        try:
            trino_raw["port"] = int(trino_raw.get("port", 8080))
        except ValueError:
            raise InvalidInput(f"trino port must be a number, got {trino_raw.get('port')!r}") from None
        trino = TrinoConfig(**trino_raw)

    ws_raw = dict(raw.get("workspaces") or {})
    if env.get("LAKELAB_WORKSPACE_BACKEND"):
        ws_raw["backend"] = env["LAKELAB_WORKSPACE_BACKEND"]
    if env.get("LAKELAB_WORKSPACE_NAMESPACE"):
        ws_raw["namespace"] = env["LAKELAB_WORKSPACE_NAMESPACE"]
    if env.get("LAKELAB_WORKSPACE_ADDRESS"):
        ws_raw["address"] = env["LAKELAB_WORKSPACE_ADDRESS"]
    try:
        workspaces = WorkspaceConfig(**ws_raw)
    except TypeError as e:
        raise InvalidInput(f"workspaces config: {e}") from None

    engine = env.get("LAKELAB_ENGINE") or raw.get("engine") or ("trino" if trino else "duckdb")
    if engine not in ("duckdb", "trino"):
        raise InvalidInput(f"engine must be duckdb or trino, got {engine!r}")
    if engine == "trino" and not trino:
        raise InvalidInput(
            "engine is trino but no trino host is configured",
            hint="add a trino section to the config or run `lakelab services up`",
        )
    return Config(
        home=home,
        catalog=catalog,
        trino=trino,
        workspaces=workspaces,
        engine=engine,
        source=source,
        usage=_usage_config(raw.get("usage")),
    )


def _usage_config(raw: Any) -> UsageConfig:
    if raw is not None and not isinstance(raw, dict):
        raise InvalidInput("usage config must be a mapping", hint="e.g. usage: {enabled: false}")
    try:
        usage = UsageConfig(**(raw or {}))
    except TypeError:
        raise InvalidInput(
            f"usage config: unknown key(s) {sorted(set(raw or {}) - set(UsageConfig.__dataclass_fields__))}",
            hint=f"allowed: {sorted(UsageConfig.__dataclass_fields__)}",
        ) from None
    if os.environ.get("LAKELAB_USAGE", "").strip().lower() in ("0", "off", "false", "no"):
        usage.enabled = False
    if not isinstance(usage.retention_days, int) or usage.retention_days < 1:
        raise InvalidInput(f"usage.retention_days must be a whole number of days >= 1, got {usage.retention_days!r}")
    return usage


def save_config(data: dict[str, Any], path: str | Path | None = None) -> Path:
    """Write a config file (used by `lakelab services up` to switch to the local services)."""
    path = Path(path) if path else config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(yaml.safe_dump(data, sort_keys=False))
    os.chmod(tmp, 0o600)  # may hold passwords
    tmp.replace(path)
    return path

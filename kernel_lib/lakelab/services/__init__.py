"""`lakelab services up|status|down`: a local PostgreSQL and a single-node Trino sharing the
lakehouse catalog with the kernel (one Iceberg JDBC catalog, one warehouse).

`up` creates the catalog tables with pyiceberg's SqlCatalog on PostgreSQL, copies the table
registrations of the catalog in use (the embedded SQLite one) into it, starts Trino with an
Iceberg connector on that catalog, and switches the lakelab config to both. `down` copies the
registrations back, restores the previous config and stops both; data files are kept.
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from lakelab.catalog.metadata import current_user
from lakelab.config import config_path, lakelab_home, load_config, save_config
from lakelab.errors import InvalidInput, Unavailable
from lakelab.services import postgres, trino_server
from lakelab.services.process import alive

TRINO_CATALOG = "iceberg"


def services_dir(home: Path) -> Path:
    return home / "services"


@contextmanager
def _home_env(home: Path) -> Iterator[None]:
    old = os.environ.get("LAKELAB_HOME")
    os.environ["LAKELAB_HOME"] = str(home)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("LAKELAB_HOME", None)
        else:
            os.environ["LAKELAB_HOME"] = old


def _state_path(home: Path) -> Path:
    return services_dir(home) / "state.json"


def _read_state(home: Path) -> dict[str, Any]:
    try:
        return json.loads(_state_path(home).read_text())
    except (OSError, ValueError):
        return {}


def _write_state(home: Path, state: dict[str, Any]) -> None:
    path = _state_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(path)


def _free_port(preferred: int | None = None) -> int:
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise Unavailable("no free TCP port on 127.0.0.1")


def _sql_catalog(name: str, uri: str, warehouse: str):
    from pyiceberg.catalog.sql import SqlCatalog

    # instantiating it creates the V1 catalog tables Trino expects (Trino never creates them)
    return SqlCatalog(name, uri=uri, warehouse=warehouse)


def copy_registrations(src, dst) -> int:
    """Register every table of `src` in `dst` (same metadata file); returns how many changed.
    Tables only `dst` knows are left alone."""
    changed = 0

    def walk(ns: tuple[str, ...]) -> None:
        nonlocal changed
        for child in src.list_namespaces(ns):
            if child not in dst.list_namespaces(ns):
                dst.create_namespace(child, src.load_namespace_properties(child))
            for ident in src.list_tables(child):
                loc = src.load_table(ident).metadata_location
                if dst.table_exists(ident):
                    if dst.load_table(ident).metadata_location == loc:
                        continue
                    dst.drop_table(ident)  # SqlCatalog drops the registration only, never files
                dst.register_table(ident, loc)
                changed += 1
            walk(child)

    walk(())
    return changed


def _raw_config(path: Path) -> dict[str, Any]:
    try:
        return yaml.safe_load(path.read_text()) or {} if path.exists() else {}
    except yaml.YAMLError as e:
        raise InvalidInput(f"config file {path} is not valid YAML: {e}") from None


def up(home: str | Path | None = None, timeout: float | None = None, echo=None) -> dict[str, Any]:
    """Start (or confirm) PostgreSQL + Trino and switch the lakelab config to them."""
    home = Path(home).expanduser().resolve() if home else lakelab_home()
    say = echo or (lambda _msg: None)
    timeout = timeout or float(os.environ.get("LAKELAB_TRINO_START_TIMEOUT", "300"))
    sdir = services_dir(home)
    sdir.mkdir(parents=True, exist_ok=True)
    state = _read_state(home)
    with _home_env(home):
        cfg_file = config_path()
        cfg = load_config(cfg_file)
    if state.get("active") and _running(state):
        say(
            f"services already running: PostgreSQL on port {state['postgres']['port']}, "
            f"Trino at http://127.0.0.1:{state['trino']['port']}"
        )
        return {**state, "already_running": True}

    before = sdir / "config.before.yaml"
    if not state.get("active"):  # remember what to restore on `down`
        before.write_text(cfg_file.read_text() if cfg_file.exists() else "")
        state["had_config_file"] = cfg_file.exists()
        state["previous_catalog"] = dict(cfg.catalog)
    prev_catalog = state.get("previous_catalog") or dict(cfg.catalog)
    if prev_catalog.get("type", "sql") != "sql":
        raise InvalidInput(
            f"lakelab services shares the embedded SQL catalog, but the config uses a "
            f"{prev_catalog.get('type')!r} catalog",
            hint="point a Trino of your own at that catalog and add a trino section instead",
        )
    warehouse = str(prev_catalog.get("warehouse") or f"file://{home / 'warehouse'}")
    if not warehouse.startswith("file://"):
        raise InvalidInput(
            f"lakelab services runs Trino on a local warehouse, but the catalog's is {warehouse}",
            hint="point a Trino of your own at that catalog and set the trino section instead",
        )
    Path(warehouse[len("file://") :]).mkdir(parents=True, exist_ok=True)
    name = str(prev_catalog.get("name", "lakelab"))

    pg = state.get("postgres") or {}
    if not (alive(pg.get("pid"), pg.get("create_time")) and postgres.reachable(pg.get("port"))):
        say("starting PostgreSQL ...")
        pg = postgres.start(sdir, _free_port(pg.get("port")))
        state["postgres"] = pg
        _write_state(home, state)
    pg_uri = postgres.url(pg["port"])
    shared = _sql_catalog(name, pg_uri, warehouse)
    moved = 0
    if prev_catalog.get("type", "sql") == "sql" and prev_catalog.get("uri") != pg_uri and not state.get("active"):
        src = _sql_catalog(name, str(prev_catalog["uri"]), warehouse)
        moved = copy_registrations(src, shared)
        if moved:
            say(f"registered {moved} table(s) of the embedded catalog in the shared catalog")
    shared.create_namespace_if_not_exists("default")

    tr = state.get("trino") or {}
    if not (alive(tr.get("pid"), tr.get("create_time")) and trino_server.info(tr.get("port") or 0)):
        server = trino_server.install()
        port = _free_port(tr.get("port"))
        tdir = sdir / "trino"
        trino_server.write_config(
            tdir / "etc",
            tdir / "data",
            port=port,
            pg_port=pg["port"],
            pg_user=postgres.USER,
            pg_db=postgres.DATABASE,
            catalog_name=name,
            trino_catalog=TRINO_CATALOG,
            warehouse=warehouse,
        )
        log = sdir / "trino.log"
        log.write_text("")
        say(f"starting Trino {trino_server.VERSION} on port {port} (this takes 30-120 s) ...")
        tr = {"port": port, **trino_server.start(server, tdir / "etc", tdir / "data", log)}
        state["trino"] = tr
        _write_state(home, state)
        tr["startup_s"] = round(trino_server.wait_ready(port, tr, log, timeout), 1)
        say(f"Trino ready in {tr['startup_s']} s")
    state.update(trino=tr, active=True, migrated_tables=moved)
    _write_state(home, state)

    raw = _raw_config(cfg_file)
    raw["catalog"] = {"name": name, "type": "sql", "uri": pg_uri, "warehouse": warehouse}
    raw["trino"] = {
        "host": "127.0.0.1",
        "port": tr["port"],
        "http_scheme": "http",
        "user": current_user(),
        "catalog": TRINO_CATALOG,
        "schema": "default",
    }
    raw.pop("engine", None)  # the default engine becomes trino
    with _home_env(home):
        save_config(raw, cfg_file)
    say(f"lakelab config {cfg_file} now uses the shared catalog and Trino")
    return state


def _running(state: dict[str, Any]) -> bool:
    pg, tr = state.get("postgres") or {}, state.get("trino") or {}
    return (
        alive(pg.get("pid"), pg.get("create_time"))
        and postgres.reachable(pg.get("port"))
        and alive(tr.get("pid"), tr.get("create_time"))
        and bool((trino_server.info(tr.get("port") or 0) or {}).get("starting") is False)
    )


def status(home: str | Path | None = None) -> dict[str, Any]:
    """What runs and answers, in a form the CLI prints as plain words."""
    home = Path(home).expanduser().resolve() if home else lakelab_home()
    state = _read_state(home)
    pg, tr = state.get("postgres") or {}, state.get("trino") or {}
    info = trino_server.info(tr["port"]) if tr.get("port") else None
    return {
        "configured": bool(state.get("active")),
        "postgres": {
            "running": alive(pg.get("pid"), pg.get("create_time")),
            "port": pg.get("port"),
            "reachable": postgres.reachable(pg.get("port")),
            "log": pg.get("log"),
        },
        "trino": {
            "running": alive(tr.get("pid"), tr.get("create_time")),
            "port": tr.get("port"),
            "url": f"http://127.0.0.1:{tr['port']}" if tr.get("port") else None,
            "reachable": info is not None and info.get("starting") is False,
            "version": (info or {}).get("nodeVersion", {}).get("version"),
            "log": tr.get("log"),
        },
    }


def down(home: str | Path | None = None, echo=None) -> dict[str, Any]:
    """Copy table registrations back, restore the previous config, stop Trino and PostgreSQL."""
    home = Path(home).expanduser().resolve() if home else lakelab_home()
    say = echo or (lambda _msg: None)
    state = _read_state(home)
    if not state:
        say("no services were started here")
        return {"stopped": False}
    sdir = services_dir(home)
    with _home_env(home):
        cfg_file = config_path()
    pg, tr = state.get("postgres") or {}, state.get("trino") or {}
    prev = state.get("previous_catalog") or {}
    moved = 0
    if state.get("active") and prev.get("type", "sql") == "sql" and postgres.reachable(pg.get("port")):
        name = str(prev.get("name", "lakelab"))
        warehouse = str(prev.get("warehouse"))
        moved = copy_registrations(
            _sql_catalog(name, postgres.url(pg["port"]), warehouse), _sql_catalog(name, str(prev["uri"]), warehouse)
        )
        if moved:
            say(f"registered {moved} table(s) back in the embedded catalog")
    if state.get("active"):
        before = sdir / "config.before.yaml"
        if state.get("had_config_file") and before.exists():
            with _home_env(home):
                save_config(yaml.safe_load(before.read_text()) or {}, cfg_file)
        elif cfg_file.exists():
            cfg_file.unlink()
        say(f"lakelab config restored ({'embedded default' if not state.get('had_config_file') else cfg_file})")
    trino_server.stop(tr)
    say("Trino stopped")
    postgres.stop(pg)
    say("PostgreSQL stopped (data kept)")
    state.update(active=False)
    state.pop("trino", None)
    state.pop("postgres", None)
    _write_state(home, state)
    return {"stopped": True, "returned_tables": moved}


__all__ = ["copy_registrations", "down", "status", "up"]


def wait_stopped(home: Path, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = status(home)
        if not s["trino"]["running"] and not s["postgres"]["running"]:
            return True
        time.sleep(0.3)
    return False

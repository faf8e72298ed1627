"""`lakelab services up|status|down`: real distributed parts on this machine, sharing one
Iceberg catalog and one warehouse with the kernel.

A profile picks the parts (lakelab.services.profile): the catalog (`sql`: the Iceberg JDBC
catalog in a local PostgreSQL; `rest`: Apache Iceberg's REST server or Nessie), the storage
(`local` files; `s3`: versitygw or s3proxy; `gcs`: fake-gcs-server) and a Trino coordinator
with N workers whose Iceberg connector uses the same catalog and storage. Every part listens
on 127.0.0.1 only. `up` writes pyiceberg's catalog properties and a trino section into the
lakelab config (the previous config is kept and restored by `down`). On local storage the
table registrations of the embedded catalog are carried over, and back on `down`; data files
and object-store contents are kept.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from lakelab.catalog.metadata import current_user
from lakelab.config import config_path, lakelab_home, load_config, save_config
from lakelab.errors import InvalidInput, LakelabError
from lakelab.services import objectstore, postgres, rest_catalog, trino_server
from lakelab.services.process import alive, free_port, memory_mb, port_in_use
from lakelab.services.profile import Profile
from lakelab.services.state import (
    copy_registrations,
    home_env,
    open_catalog_with,
    raw_config,
    read_state,
    service_secrets,
    services_dir,
    sql_catalog,
    write_state,
)

TRINO_CATALOG = "iceberg"
PART_ORDER = ("s3", "gcs", "gcs_token", "postgres", "rest", "trino")  # start order; stop is the reverse
LABELS = {
    "s3": "S3 storage",
    "gcs": "GCS storage",
    "gcs_token": "GCS token endpoint (for Trino)",
    "postgres": "PostgreSQL",
    "rest": "REST catalog",
    "trino": "Trino",
}


def _part_running(name: str, rec: dict[str, Any]) -> bool:
    return alive(rec.get("pid"), rec.get("create_time")) and _reachable(name, rec)


def _reachable(name: str, rec: dict[str, Any]) -> bool:
    port = rec.get("port")
    if not port:
        return False
    if name == "postgres":
        return postgres.reachable(port)
    if name == "trino" or name.startswith("trino_worker"):
        return (trino_server.info(port) or {}).get("starting") is False
    if name == "s3":
        return objectstore.s3_reachable(port)
    if name == "gcs":
        return objectstore.gcs_reachable(port)
    if name == "gcs_token":
        from lakelab.services.process import http_status

        return http_status(f"http://127.0.0.1:{port}/token") == 200
    if name == "rest":
        return rest_catalog.reachable(rec)
    return False


def _parts(state: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The part records in start order (workers after the coordinator)."""
    out = [(n, state[n]) for n in PART_ORDER if state.get(n)]
    out += [(f"trino_worker_{i + 1}", w) for i, w in enumerate(state.get("trino_workers") or [])]
    return out


def _all_running(state: dict[str, Any]) -> bool:
    return bool(_parts(state)) and all(_part_running(n, r) for n, r in _parts(state))


def _port(name: str, wanted: dict[str, int], previous: dict[str, Any] | None) -> int:
    """The port for a part: the one asked for (an error if taken), else the previous one if
    still free, else any free one."""
    if name in wanted:
        port = int(wanted[name])
        if port_in_use(port):
            raise InvalidInput(
                f"port {port} asked for {LABELS.get(name.split('_worker')[0], name)} is already in use",
                hint=f"choose another with --port {name}=N, or stop what listens on {port}",
            )
        return port
    return free_port((previous or {}).get("port"))


def up(
    home: str | Path | None = None,
    timeout: float | None = None,
    echo: Callable[[str], None] | None = None,
    *,
    catalog: str = "sql",
    storage: str = "local",
    trino_workers: int = 0,
    rest_impl: str | None = None,
    s3_impl: str | None = None,
    ports: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Start (or confirm) the profile's parts and switch the lakelab config to them."""
    profile = Profile.make(catalog, storage, trino_workers, rest_impl, s3_impl)
    unknown = set(ports or {}) - {*PART_ORDER, *(f"trino_worker_{i + 1}" for i in range(profile.trino_workers))}
    if unknown:
        raise InvalidInput(f"--port for unknown part(s) {sorted(unknown)}", hint=f"parts: {', '.join(PART_ORDER)}")
    home = Path(home).expanduser().resolve() if home else lakelab_home()
    say = echo or (lambda _msg: None)
    timeout = timeout or float(os.environ.get("LAKELAB_TRINO_START_TIMEOUT", "300"))
    sdir = services_dir(home)
    sdir.mkdir(parents=True, exist_ok=True)
    state = read_state(home)
    with home_env(home):
        cfg_file = config_path()
        cfg = load_config(cfg_file)
    if state.get("active"):
        running = Profile.from_state(state.get("profile"))
        if running != profile:
            raise InvalidInput(
                f"services already run here with another profile ({running.describe()})",
                hint="stop them first with `lakelab services down`, then start the new profile",
            )
        if _all_running(state):
            say(f"services already running ({profile.describe()}); nothing to do")
            return {**state, "already_running": True}

    if not state.get("active"):  # remember what to restore on `down`
        (sdir / "config.before.yaml").write_text(cfg_file.read_text() if cfg_file.exists() else "")
        state["had_config_file"] = cfg_file.exists()
        state["previous_catalog"] = dict(cfg.catalog)
    prev_catalog = state.get("previous_catalog") or dict(cfg.catalog)
    if prev_catalog.get("type", "sql") != "sql":
        raise InvalidInput(
            f"lakelab services shares the embedded SQL catalog, but the config uses a "
            f"{prev_catalog.get('type')!r} catalog",
            hint="point a Trino of your own at that catalog and add a trino section instead",
        )
    local_wh = str(prev_catalog.get("warehouse") or f"file://{home / 'warehouse'}")
    if not local_wh.startswith("file://"):
        raise InvalidInput(
            f"lakelab services starts its own storage, but the catalog's warehouse is {local_wh}",
            hint="point a Trino of your own at that catalog and set the trino section instead",
        )
    state.update(profile=profile.to_state(), active=True)
    write_state(home, state)
    try:
        props = _start_parts(home, sdir, state, profile, prev_catalog, local_wh, ports or {}, timeout, say)
    except (LakelabError, OSError) as e:
        say(f"startup failed: {e}; stopping what was started")
        _stop_parts(state, say)
        state.update(active=False)
        write_state(home, state)
        raise
    _write_config(home, cfg_file, state, props)
    say(f"lakelab config {cfg_file} now uses these services ({profile.describe()})")
    return state


def _start_parts(
    home: Path,
    sdir: Path,
    state: dict[str, Any],
    profile: Profile,
    prev_catalog: dict[str, Any],
    local_wh: str,
    ports: dict[str, int],
    timeout: float,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Start what is not running yet; returns pyiceberg's catalog properties for the config."""
    name = str(prev_catalog.get("name", "lakelab"))
    keys = service_secrets(sdir) if profile.storage == "s3" else {}
    warehouse = objectstore.warehouse_uri(profile.storage, home) if profile.storage != "local" else local_wh
    if profile.storage == "local":
        Path(local_wh[len("file://") :]).mkdir(parents=True, exist_ok=True)

    def need(part: str) -> bool:
        rec = state.get(part) or {}
        return not _part_running(part, rec)

    def started(part: str, rec: dict[str, Any]) -> None:
        state[part] = rec
        write_state(home, state)
        say(f"{LABELS[part]} ready on 127.0.0.1:{rec['port']} in {rec.get('startup_s', '?')} s")

    key_file = None
    if profile.storage == "s3" and need("s3"):
        say(f"starting the S3 server ({profile.s3_impl}) ...")
        port = _port("s3", ports, state.get("s3"))
        started("s3", objectstore.start_s3(profile.s3_impl, sdir, port, keys["s3_access_key"], keys["s3_secret_key"]))
    if profile.storage == "gcs":
        if need("gcs"):
            say("starting fake-gcs-server ...")
            started("gcs", objectstore.start_gcs(sdir, _port("gcs", ports, state.get("gcs"))))
        if need("gcs_token"):
            port = _port("gcs_token", ports, state.get("gcs_token"))
            started("gcs_token", objectstore.start_token_server(sdir, port, sys.executable))
        key_file = objectstore.write_gcs_key_file(sdir / "trino" / "gcs-key.json", state["gcs_token"]["port"])
    store = state.get("s3") or state.get("gcs") or {}
    io_props = objectstore.pyiceberg_properties(profile.storage, store, keys)

    if profile.catalog == "sql":
        if need("postgres"):
            say("starting PostgreSQL ...")
            t0 = time.monotonic()
            rec = postgres.start(sdir, _port("postgres", ports, state.get("postgres")))
            rec["startup_s"] = round(time.monotonic() - t0, 2)
            started("postgres", rec)
        props = {"type": "sql", "uri": postgres.url(state["postgres"]["port"]), "warehouse": warehouse, **io_props}
        sql_catalog(name, props["uri"], warehouse, **io_props)
        catalog_lines = trino_server.jdbc_catalog_lines(
            pg_port=state["postgres"]["port"],
            pg_user=postgres.USER,
            pg_db=postgres.DATABASE,
            catalog_name=name,
            warehouse=warehouse,
        )
    else:
        if need("rest"):
            say(f"starting the REST catalog ({profile.rest_impl}) ...")
            rec = rest_catalog.start(
                profile.rest_impl,
                sdir,
                _port("rest", ports, state.get("rest")),
                storage=profile.storage,
                warehouse=warehouse,
                store=store,
                secrets=keys,
            )
            started("rest", rec)
        props = {**rest_catalog.pyiceberg_properties(state["rest"]), **io_props}
        props.setdefault("warehouse", warehouse)
        catalog_lines = rest_catalog.trino_properties(state["rest"])
    shared = open_catalog_with(name, props)
    moved = 0
    if profile.storage == "local" and not state.get("migrated") and profile.rest_impl != "nessie":
        src = sql_catalog(name, str(prev_catalog["uri"]), local_wh)
        moved = copy_registrations(src, shared)
        state["migrated"] = True
        if moved:
            say(f"registered {moved} table(s) of the embedded catalog in the shared catalog")
    elif profile.storage != "local":
        say("tables of the embedded catalog stay in it (local files); this catalog starts on " + warehouse)
    state["migrated_tables"] = moved
    shared.create_namespace_if_not_exists("default")

    catalog_lines = catalog_lines + objectstore.trino_properties(profile.storage, store, keys, key_file)
    env = objectstore.trino_env(profile.storage, keys)
    _start_trino(home, sdir, state, profile, catalog_lines, env, ports, timeout, say)
    state["catalog_name"] = name
    write_state(home, state)
    return props


def _start_trino(
    home: Path,
    sdir: Path,
    state: dict[str, Any],
    profile: Profile,
    catalog_lines: list[str],
    env: dict[str, str],
    ports: dict[str, int],
    timeout: float,
    say: Callable[[str], None],
) -> None:
    coord = state.get("trino") or {}
    workers = state.get("trino_workers") or []
    if (
        _part_running("trino", coord)
        and len(workers) == profile.trino_workers
        and all(_part_running(f"trino_worker_{i + 1}", w) for i, w in enumerate(workers))
    ):
        return
    trino_server.stop(coord)
    for w in workers:
        trino_server.stop(w)
    server = trino_server.install()
    port = _port("trino", ports, coord)
    tdir = sdir / "trino"
    trino_server.write_config(
        tdir / "etc",
        tdir / "data",
        port=port,
        trino_catalog=TRINO_CATALOG,
        catalog_lines=catalog_lines,
        workers=profile.trino_workers,
    )
    log = sdir / "trino.log"
    log.write_text("")
    nodes = 1 + profile.trino_workers
    say(
        f"starting Trino {trino_server.VERSION} on port {port}"
        + (f" with {profile.trino_workers} worker(s)" if profile.trino_workers else "")
        + " (this takes 30-120 s) ..."
    )
    coord = {"port": port, **trino_server.start(server, tdir / "etc", tdir / "data", log, env)}
    state["trino"] = coord
    state["trino_workers"] = []
    write_state(home, state)
    for i in range(profile.trino_workers):
        wname = f"trino_worker_{i + 1}"
        wport = _port(wname, ports, None)
        wdir = sdir / f"trino-worker-{i + 1}"
        trino_server.write_config(
            wdir / "etc",
            wdir / "data",
            port=wport,
            trino_catalog=TRINO_CATALOG,
            catalog_lines=catalog_lines,
            node_id=f"lakelab-worker-{i + 1}",
            coordinator=False,
            discovery_port=port,
        )
        wlog = sdir / f"trino-worker-{i + 1}.log"
        wlog.write_text("")
        state["trino_workers"].append(
            {"port": wport, **trino_server.start(server, wdir / "etc", wdir / "data", wlog, env)}
        )
        write_state(home, state)
    coord["startup_s"] = round(
        trino_server.wait_ready(port, coord, log, timeout, nodes=nodes, workers=state["trino_workers"]), 1
    )
    say(f"Trino ready ({nodes} node(s)) in {coord['startup_s']} s")
    write_state(home, state)


def _write_config(home: Path, cfg_file: Path, state: dict[str, Any], props: dict[str, Any]) -> None:
    """pyiceberg's own catalog properties (keys included: the file is 0600) and a trino section."""
    raw = raw_config(cfg_file)
    raw["catalog"] = {"name": state["catalog_name"], **props}
    raw["trino"] = {
        "host": "127.0.0.1",
        "port": state["trino"]["port"],
        "http_scheme": "http",
        "user": current_user(),
        "catalog": TRINO_CATALOG,
        "schema": "default",
    }
    raw.pop("engine", None)  # the default engine becomes trino
    with home_env(home):
        save_config(raw, cfg_file)


def status(home: str | Path | None = None) -> dict[str, Any]:
    """What runs and answers, part by part, in a form the CLI prints as plain words. Holds no
    secrets: ports, URLs, pids, logs and memory only."""
    home = Path(home).expanduser().resolve() if home else lakelab_home()
    state = read_state(home)
    parts = []
    for name, rec in _parts(state):
        running = alive(rec.get("pid"), rec.get("create_time"))
        base = name.split("_worker")[0] if name.startswith("trino_worker") else name
        label = LABELS[base] + (f" worker {name.rsplit('_', 1)[1]}" if base != name else "")
        if name == "s3":
            label += f" ({rec.get('impl')})"
        if name == "rest":
            label += f" ({rec.get('impl')})"
        parts.append(
            {
                "name": name,
                "label": label,
                "running": running,
                "reachable": running and _reachable(name, rec),
                "pid": rec.get("pid"),
                "port": rec.get("port"),
                "url": _url(name, rec),
                "memory_mb": memory_mb(rec.get("pid")) if running else None,
                "log": rec.get("log"),
            }
        )
    by_name = {p["name"]: p for p in parts}
    pg, tr = state.get("postgres") or {}, state.get("trino") or {}
    info = trino_server.info(tr["port"]) if tr.get("port") and by_name.get("trino", {}).get("running") else None
    return {
        "configured": bool(state.get("active")),
        "profile": Profile.from_state(state.get("profile")).to_state() if state.get("profile") else None,
        "parts": parts,
        # the two parts every profile had before profiles existed, always present
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
            "reachable": bool(info) and (info or {}).get("starting") is False,
            "version": (info or {}).get("nodeVersion", {}).get("version"),
            "log": tr.get("log"),
        },
    }


def _url(name: str, rec: dict[str, Any]) -> str | None:
    if not rec.get("port"):
        return None
    if name == "rest":
        return rec.get("uri")
    if name == "postgres":
        return f"postgresql://127.0.0.1:{rec['port']}"
    return f"http://127.0.0.1:{rec['port']}"


def pids(home: str | Path | None = None) -> list[int]:
    """The pids of the started parts (for checks that nothing is left after `down`)."""
    home = Path(home).expanduser().resolve() if home else lakelab_home()
    return [int(r["pid"]) for _, r in _parts(read_state(home)) if r.get("pid")]


def _stop_parts(state: dict[str, Any], say: Callable[[str], None]) -> None:
    for name, rec in reversed(_parts(state)):
        if name == "postgres":
            postgres.stop(rec)
            say("PostgreSQL stopped (data kept)")
        elif name == "trino" or name.startswith("trino_worker"):
            trino_server.stop(rec)
            say("Trino stopped" if name == "trino" else f"Trino worker {name.rsplit('_', 1)[1]} stopped")
        else:
            from lakelab.services.process import stop_group

            if alive(rec.get("pid"), rec.get("create_time")):
                stop_group(int(rec["pid"]), timeout=20)
            say(f"{LABELS[name]} stopped")
    for name in (*PART_ORDER, "trino_workers"):
        state.pop(name, None)


def down(home: str | Path | None = None, echo: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Copy table registrations back (local storage), restore the previous config, stop every part."""
    home = Path(home).expanduser().resolve() if home else lakelab_home()
    say = echo or (lambda _msg: None)
    state = read_state(home)
    if not state:
        say("no services were started here")
        return {"stopped": False}
    sdir = services_dir(home)
    with home_env(home):
        cfg_file = config_path()
        current = raw_config(cfg_file).get("catalog") or {}
    prev = state.get("previous_catalog") or {}
    profile = Profile.from_state(state.get("profile"))
    moved = 0
    catalog_up = (state.get("postgres") and postgres.reachable(state["postgres"].get("port"))) or (
        state.get("rest") and rest_catalog.reachable(state["rest"])
    )
    if state.get("active") and state.get("migrated") and profile.storage == "local" and catalog_up and current:
        name = str(prev.get("name", "lakelab"))
        props = {k: v for k, v in current.items() if k != "name"}
        moved = copy_registrations(
            open_catalog_with(name, props), sql_catalog(name, str(prev["uri"]), str(prev.get("warehouse")))
        )
        if moved:
            say(f"registered {moved} table(s) back in the embedded catalog")
    if state.get("active"):
        before = sdir / "config.before.yaml"
        if state.get("had_config_file") and before.exists():
            with home_env(home):
                save_config(yaml.safe_load(before.read_text()) or {}, cfg_file)
        elif cfg_file.exists():
            cfg_file.unlink()
        say(f"lakelab config restored ({'embedded default' if not state.get('had_config_file') else cfg_file})")
    stopped = pids(home)
    _stop_parts(state, say)
    state.update(active=False, migrated=False)
    state.pop("profile", None)
    write_state(home, state)
    return {"stopped": True, "returned_tables": moved, "pids": stopped}


def wait_stopped(home: Path, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = status(home)
        if not s["trino"]["running"] and not s["postgres"]["running"]:
            return True
        time.sleep(0.3)
    return False


__all__ = ["copy_registrations", "down", "pids", "status", "up"]

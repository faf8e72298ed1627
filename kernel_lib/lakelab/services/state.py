"""The services' own state under $LAKELAB_HOME/services: the record of what runs, generated
secrets, and the catalogs `up`/`down` move table registrations between."""

from __future__ import annotations

import json
import os
import secrets as _secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from lakelab.errors import InvalidInput


def services_dir(home: Path) -> Path:
    return home / "services"


@contextmanager
def home_env(home: Path) -> Iterator[None]:
    old = os.environ.get("LAKELAB_HOME")
    os.environ["LAKELAB_HOME"] = str(home)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("LAKELAB_HOME", None)
        else:
            os.environ["LAKELAB_HOME"] = old


def state_path(home: Path) -> Path:
    return services_dir(home) / "state.json"


def read_state(home: Path) -> dict[str, Any]:
    try:
        return json.loads(state_path(home).read_text())
    except (OSError, ValueError):
        return {}


def write_state(home: Path, state: dict[str, Any]) -> None:
    path = state_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(path)


def service_secrets(sdir: Path) -> dict[str, str]:
    """Object-store keys made once per home, so restarts reach the same data. Kept like the
    config file that also holds them: YAML, mode 0600."""
    path = sdir / "credentials.yaml"
    try:
        keys = yaml.safe_load(path.read_text())
        if isinstance(keys, dict) and keys.get("s3_secret_key"):
            return keys
    except (OSError, yaml.YAMLError):
        pass
    keys = {"s3_access_key": "lakelab" + _secrets.token_hex(6), "s3_secret_key": _secrets.token_urlsafe(30)}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.write_text(yaml.safe_dump(keys))
    return keys


def sql_catalog(name: str, uri: str, warehouse: str, **props: str):
    from pyiceberg.catalog.sql import SqlCatalog

    # instantiating it creates the V1 catalog tables Trino expects (Trino never creates them)
    return SqlCatalog(name, uri=uri, warehouse=warehouse, **props)


def open_catalog_with(name: str, props: dict[str, Any]):
    from pyiceberg.catalog import load_catalog

    return load_catalog(name, **props)


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
                    dst.drop_table(ident)  # drops the registration only, never files
                dst.register_table(ident, loc)
                changed += 1
            walk(child)

    walk(())
    return changed


def raw_config(path: Path) -> dict[str, Any]:
    try:
        return yaml.safe_load(path.read_text()) or {} if path.exists() else {}
    except yaml.YAMLError as e:
        raise InvalidInput(f"config file {path} is not valid YAML: {e}") from None

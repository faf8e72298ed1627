"""A local PostgreSQL (Debian's binaries) holding the shared Iceberg JDBC catalog."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from lakelab.errors import Unavailable
from lakelab.services.process import alive, create_time, log_tail, start_detached, stop_group

USER = "lakelab"
DATABASE = "lakelab"


def pg_bin() -> Path:
    env = os.environ.get("LAKELAB_PG_BIN")
    cands = [Path(env)] if env else sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for cand in cands:
        if (cand / "initdb").exists() and (cand / "postgres").exists():
            return cand
    raise Unavailable(
        "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin)",
        hint="install them with `apt-get install postgresql` or set LAKELAB_PG_BIN",
    )


def _as_root() -> bool:
    return os.geteuid() == 0


def _prefix() -> list[str]:
    # PostgreSQL refuses to run as root; run it as the `postgres` system user instead
    return ["runuser", "-u", "postgres", "--"] if _as_root() else []


def _reachable_by_postgres(path: Path) -> bool:
    return subprocess.run(_prefix() + ["test", "-w", str(path)], capture_output=True).returncode == 0


def data_dir(services: Path) -> Path:
    """Where the cluster lives: under services/ normally; as root, if the `postgres` user
    cannot reach that folder (e.g. under /root), a per-home folder in /var/tmp."""
    base = services / "postgres"
    base.mkdir(parents=True, exist_ok=True)
    if not _as_root():
        return base / "data"
    shutil.chown(base, "postgres")
    if _reachable_by_postgres(base):
        return base / "data"
    alt = Path("/var/tmp/lakelab-postgres") / hashlib.sha256(str(services).encode()).hexdigest()[:12]
    alt.mkdir(parents=True, exist_ok=True)
    os.chmod(alt.parent, 0o755)
    shutil.chown(alt, "postgres")
    (base / "DATA_IS_AT").write_text(str(alt / "data") + "\n")
    return alt / "data"


def url(port: int, driver: str = "postgresql+psycopg2") -> str:
    return f"{driver}://{USER}@127.0.0.1:{port}/{DATABASE}"


def start(services: Path, port: int, timeout: float = 90.0) -> dict:
    """initdb once, start the server, create the catalog database. Returns the state record."""
    binary = pg_bin()
    data = data_dir(services)
    log = services / "postgres.log"
    if not (data / "PG_VERSION").exists():
        res = subprocess.run(
            _prefix()
            + [str(binary / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-instructions"],
            capture_output=True,
            text=True,
        )
        if res.returncode != 0:
            raise Unavailable(f"initdb failed for {data}: {res.stderr.strip()[-500:]}")
    stale = data / "postmaster.pid"
    if stale.exists():  # left by a crash; postgres itself refuses to start while its pid lives
        pid = _postmaster_pid(data)
        if not alive(pid):
            stale.unlink()
    proc = start_detached(
        _prefix()
        + [
            str(binary / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-k",
            str(data.parent),
            "-h",
            "127.0.0.1",
            "-c",
            "max_connections=200",  # Trino, the server and every kernel each pool up to 15
            "-c",
            "shared_buffers=64MB",
        ],
        log,
    )
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise Unavailable(f"PostgreSQL exited during startup (code {proc.returncode}); log {log}:\n{log_tail(log)}")
        if _ready(port):
            break
        if time.monotonic() > deadline:
            stop_group(proc.pid)
            raise Unavailable(
                f"PostgreSQL did not accept connections within {timeout:.0f} s; log {log}:\n{log_tail(log)}"
            )
        time.sleep(0.3)
    _ensure_database(port)
    pid = _postmaster_pid(data) or proc.pid
    return {
        "port": port,
        "pid": pid,
        "create_time": create_time(pid),
        "group": proc.pid,
        "data_dir": str(data),
        "log": str(log),
    }


def _ready(port: int) -> bool:
    import psycopg2

    try:
        psycopg2.connect(host="127.0.0.1", port=port, user=USER, dbname="postgres", connect_timeout=2).close()
        return True
    except psycopg2.OperationalError:
        return False


def reachable(port: int | None) -> bool:
    return port is not None and port > 0 and _ready(int(port))


def _ensure_database(port: int) -> None:
    import psycopg2

    conn = psycopg2.connect(host="127.0.0.1", port=port, user=USER, dbname="postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,))
            if not cur.fetchone():
                cur.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        conn.close()


def _postmaster_pid(data: Path) -> int | None:
    try:
        return int((data / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def stop(record: dict, timeout: float = 30.0) -> None:
    pid = record.get("pid")
    if pid and alive(pid, record.get("create_time")):
        try:
            os.kill(int(pid), signal.SIGINT)  # "fast" shutdown: roll back clients, checkpoint, exit
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
    if record.get("group"):
        stop_group(int(record["group"]), timeout=5)

"""A single-node Trino 476: fetched once from Maven Central into the cache, configured
under $LAKELAB_HOME/services/trino with one Iceberg catalog on the shared JDBC catalog."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from lakelab.errors import Unavailable
from lakelab.services import install as installer
from lakelab.services.process import alive, create_time, log_tail, start_detached, stop_group

VERSION = "476"  # the newest release whose server and plugins are on Maven Central
ARTIFACTS = {
    f"trino-server-core-{VERSION}.tar.gz": f"io.trino:trino-server-core:{VERSION}:tar.gz",
    f"trino-iceberg-{VERSION}.zip": f"io.trino:trino-iceberg:{VERSION}:zip",
}
MIN_JAVA = 24


def cache_dir() -> Path:
    return Path(os.environ.get("LAKELAB_CACHE") or Path.home() / ".cache" / "lakelab").expanduser() / "trino"


def fetch(cache: Path) -> None:
    """Download the distribution with Maven when it is not in the cache yet."""
    missing = [name for name in ARTIFACTS if not (cache / name).exists()]
    if not missing:
        return
    mvn = shutil.which("mvn")
    if not mvn:
        raise Unavailable(
            f"Trino {VERSION} is not in {cache} and Maven (mvn) is not installed to fetch it",
            hint=f"install maven, or put {', '.join(missing)} into {cache}",
        )
    cache.mkdir(parents=True, exist_ok=True)
    for name in missing:
        res = subprocess.run(
            [mvn, "-q", "-B", "dependency:copy", f"-Dartifact={ARTIFACTS[name]}", f"-DoutputDirectory={cache}"],
            capture_output=True,
            text=True,
        )
        if res.returncode != 0 or not (cache / name).exists():
            raise Unavailable(
                f"fetching {ARTIFACTS[name]} with Maven failed: {(res.stdout + res.stderr).strip()[-800:]}"
            )


def install(cache: Path | None = None) -> Path:
    """The unpacked server (core + the Iceberg plugin only: fewer plugins start faster)."""
    cache = cache or cache_dir()
    target = cache / f"trino-server-{VERSION}"
    if (target / ".complete").exists():
        return target
    fetch(cache)
    tmp = cache / f".unpack-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    prefix = f"trino-server-core-{VERSION}/"
    with tarfile.open(cache / f"trino-server-core-{VERSION}.tar.gz") as tar:
        wanted = [m for m in tar.getmembers() if m.name.startswith((prefix + "bin", prefix + "lib"))]
        for m in wanted:
            m.name = m.name[len(prefix) :]
        tar.extractall(tmp, members=wanted, filter="tar")
    with zipfile.ZipFile(cache / f"trino-iceberg-{VERSION}.zip") as z:
        z.extractall(tmp / "plugin")
    (tmp / "plugin" / f"trino-iceberg-{VERSION}").rename(tmp / "plugin" / "iceberg")
    (tmp / ".complete").write_text(VERSION + "\n")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


def java_home() -> Path:
    """A JDK >= 24 for Trino: LAKELAB_JAVA_HOME, JAVA_HOME, else the newest in /usr/lib/jvm."""
    return installer.java_home(MIN_JAVA, f"Trino {VERSION}")


JVM_CONFIG = """\
-server
-Xmx2G
-XX:+UseG1GC
-XX:+ExitOnOutOfMemoryError
-XX:-OmitStackTraceInFastThrow
-XX:ReservedCodeCacheSize=256M
-XX:PerMethodRecompilationCutoff=10000
-XX:PerBytecodeRecompilationCutoff=10000
-XX:+EnableDynamicAgentLoading
-Djdk.attach.allowAttachSelf=true
-Djdk.nio.maxCachedBufferSize=2000000
-Dfile.encoding=UTF-8
--enable-native-access=ALL-UNNAMED
--sun-misc-unsafe-memory-access=allow
"""


def jdbc_catalog_lines(*, pg_port: int, pg_user: str, pg_db: str, catalog_name: str, warehouse: str) -> list[str]:
    """The Iceberg connector on the shared JDBC catalog in PostgreSQL."""
    return [
        "iceberg.catalog.type=jdbc",
        "iceberg.jdbc-catalog.driver-class=org.postgresql.Driver",
        f"iceberg.jdbc-catalog.connection-url=jdbc:postgresql://127.0.0.1:{pg_port}/{pg_db}",
        f"iceberg.jdbc-catalog.connection-user={pg_user}",
        # must equal pyiceberg's catalog name: it is the catalog_name column of the shared tables
        f"iceberg.jdbc-catalog.catalog-name={catalog_name}",
        "iceberg.jdbc-catalog.schema-version=V1",
        f"iceberg.jdbc-catalog.default-warehouse-dir={warehouse}",
    ]


def write_config(
    etc: Path,
    data: Path,
    *,
    port: int,
    trino_catalog: str,
    catalog_lines: list[str],
    node_id: str = "lakelab-local",
    coordinator: bool = True,
    workers: int = 0,
    discovery_port: int | None = None,
) -> None:
    """Generate etc/ for one node, sized for a 2-core laptop: a coordinator that also runs
    tasks when there are no workers, else a coordinator plus `workers` worker nodes (each
    worker gets its own etc/ with coordinator=false and the same catalog file)."""
    shutil.rmtree(etc / "catalog", ignore_errors=True)
    (etc / "catalog").mkdir(parents=True)
    (etc / "node.properties").write_text(
        f"node.environment=lakelab\nnode.id={node_id}\nnode.data-dir={data}\n"
        # no authentication on this server: listen on this machine only
        "node.bind-ip=127.0.0.1\nnode.internal-address=127.0.0.1\n"
    )
    cluster = workers > 0 or not coordinator
    (etc / "jvm.config").write_text(JVM_CONFIG.replace("-Xmx2G", "-Xmx1G") if cluster else JVM_CONFIG)
    memory = (
        ["query.max-memory=512MB", "query.max-memory-per-node=256MB", "memory.heap-headroom-per-node=256MB"]
        if cluster
        else ["query.max-memory=1GB", "query.max-memory-per-node=1GB", "memory.heap-headroom-per-node=512MB"]
    )
    role = (
        ["coordinator=true", f"node-scheduler.include-coordinator={'false' if workers else 'true'}"]
        if coordinator
        else ["coordinator=false"]
    )
    (etc / "config.properties").write_text(
        "\n".join(
            role
            + [
                f"http-server.http.port={port}",
                f"discovery.uri=http://127.0.0.1:{discovery_port or port}",
                "http-server.log.enabled=false",
                *memory,
                "task.concurrency=2",
                "query.client.timeout=5m",
                "",
            ]
        )
    )
    (etc / "log.properties").write_text("io.trino=INFO\n")
    catalog_file = etc / "catalog" / f"{trino_catalog}.properties"
    catalog_file.touch(mode=0o600)  # may hold object-store keys
    catalog_file.write_text(
        "\n".join(
            ["connector.name=iceberg", *catalog_lines]
            + [
                # other engines commit to the same tables: never serve cached table metadata
                "iceberg.metadata-cache.enabled=false",
                "iceberg.compression-codec=SNAPPY",
                "iceberg.unique-table-location=true",
                "",
            ]
        )
    )


def start(server: Path, etc: Path, data: Path, log: Path, env_extra: dict[str, str] | None = None) -> dict:
    jhome = java_home()
    env = dict(os.environ, JAVA_HOME=str(jhome), PATH=f"{jhome / 'bin'}:{os.environ.get('PATH', '')}")
    env.update(env_extra or {})
    data.mkdir(parents=True, exist_ok=True)
    proc = start_detached(
        [str(server / "bin" / "launcher"), "run", f"--etc-dir={etc}", f"--data-dir={data}"], log, env=env, cwd=data
    )
    return {
        "pid": proc.pid,
        "create_time": create_time(proc.pid),
        "log": str(log),
        "java_home": str(jhome),
        "started_at": time.time(),
    }


def info(port: int, timeout: float = 2.0) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/info", timeout=timeout) as r:
            return json.loads(r.read())
    except (urllib.error.URLError, OSError, ValueError):
        return None


def wait_ready(
    port: int, record: dict, log: Path, timeout: float, nodes: int = 1, workers: list[dict] | None = None
) -> float:
    """Block until /v1/info says started and `nodes` nodes are active (the workers announce
    themselves seconds after the coordinator is up); returns the seconds taken."""
    import trino

    t0 = record.get("started_at") or time.time()
    deadline = time.monotonic() + timeout
    while True:
        for rec in [record, *(workers or [])]:
            if not alive(rec["pid"]):
                where = Path(rec.get("log") or log)
                raise Unavailable(f"Trino exited during startup; log {where}:\n{log_tail(where)}")
        if time.monotonic() > deadline:
            stop_group(record["pid"])
            raise Unavailable(f"Trino did not become ready within {timeout:.0f} s; log {log}:\n{log_tail(log)}")
        i = info(port)
        if i and not i.get("starting", True):
            try:  # "No nodes available" until the node has announced itself and the node
                # list was refreshed; a system-table scan needs a scheduled node, unlike SELECT 1
                conn = trino.dbapi.connect(host="127.0.0.1", port=port, user="lakelab", request_timeout=10)
                cur = conn.cursor()
                cur.execute("SELECT count(*) FROM system.runtime.nodes WHERE state = 'active'")
                if cur.fetchall()[0][0] < nodes:
                    raise RuntimeError("not every node is active yet")
                conn.close()
                return time.time() - t0
            except Exception:  # noqa: BLE001 - any failure here means "not yet"
                pass
        time.sleep(0.5)


def stop(record: dict) -> None:
    if record.get("pid") and alive(record["pid"], record.get("create_time")):
        stop_group(int(record["pid"]), timeout=30)

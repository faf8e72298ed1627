"""Iceberg REST catalogs on 127.0.0.1: Apache Iceberg's own REST server, and Nessie.

Apache Iceberg publishes no runnable REST server, only its classes: the classpath is built
from Maven Central with a throwaway pom (`install.maven_classpath`). Its `RESTCatalogServer`
binds every interface with SO_REUSEPORT and logs its catalog properties (secrets included), so
lakelab runs the same servlet through a 30-line launcher of its own (compiled once with
javac into the cache) that binds 127.0.0.1 without SO_REUSEPORT and logs no properties. The
backing catalog is a JdbcCatalog on SQLite under $LAKELAB_HOME/services/rest/.

Nessie 0.99 (`nessie-quarkus` runner jar) serves the Iceberg REST API under /iceberg; it keeps
its state in memory (a second REST implementation for tests; restarting it forgets tables).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lakelab.errors import Unavailable
from lakelab.services import install, objectstore
from lakelab.services.process import create_time, http_status, start_detached, wait_until

ICEBERG_VERSION = "1.10.0"
NESSIE = ("org.projectnessie.nessie:nessie-quarkus:0.99.0:jar:runner", "nessie-quarkus-0.99.0-runner.jar")
REST_IMPLS = ("iceberg", "nessie")
NESSIE_WAREHOUSE = "warehouse"

_CLASSPATH = [
    ("org.apache.iceberg", "iceberg-open-api", ICEBERG_VERSION, "test-fixtures"),
    ("org.apache.iceberg", "iceberg-core", ICEBERG_VERSION, None),
    ("org.apache.iceberg", "iceberg-core", ICEBERG_VERSION, "tests"),
    ("org.apache.iceberg", "iceberg-aws", ICEBERG_VERSION, None),
    ("org.apache.iceberg", "iceberg-aws-bundle", ICEBERG_VERSION, None),
    ("org.apache.iceberg", "iceberg-gcp", ICEBERG_VERSION, None),
    ("org.apache.iceberg", "iceberg-gcp-bundle", ICEBERG_VERSION, None),
    ("org.apache.hadoop", "hadoop-client-api", "3.4.1", None),
    ("org.apache.hadoop", "hadoop-client-runtime", "3.4.1", None),
    ("org.eclipse.jetty", "jetty-servlet", "11.0.24", None),
    ("org.xerial", "sqlite-jdbc", "3.46.1.3", None),
    ("org.slf4j", "slf4j-simple", "2.0.16", None),
]

LAUNCHER = "LakelabRESTServer"
_LAUNCHER_SOURCE = """\
package org.apache.iceberg.rest;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.catalog.Catalog;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.gzip.GzipHandler;
import org.eclipse.jetty.servlet.ServletContextHandler;
import org.eclipse.jetty.servlet.ServletHolder;

/** RESTCatalogServer's servlet on 127.0.0.1 only, without SO_REUSEPORT, logging no properties. */
public final class LakelabRESTServer {
  public static void main(String[] args) throws Exception {
    Map<String, String> props = new HashMap<>();
    // the same CATALOG_* environment convention as RESTCatalogServer: __ is -, _ is .
    System.getenv().forEach((k, v) -> {
      if (k.startsWith("CATALOG_")) {
        props.put(k.substring(8).replace("__", "-").replace("_", ".").toLowerCase(Locale.ROOT), v);
      }
    });
    int port = Integer.parseInt(props.remove("rest.port"));
    props.putIfAbsent("catalog-impl", "org.apache.iceberg.jdbc.JdbcCatalog");
    props.putIfAbsent("jdbc.schema-version", "V1");
    Catalog catalog = CatalogUtil.buildIcebergCatalog("rest_backend", props, new Configuration());
    ServletContextHandler context = new ServletContextHandler(ServletContextHandler.NO_SESSIONS);
    context.addServlet(new ServletHolder(new RESTCatalogServlet(new RESTCatalogAdapter(catalog))), "/*");
    context.insertHandler(new GzipHandler());
    Server server = new Server();
    ServerConnector connector = new ServerConnector(server);
    connector.setHost("127.0.0.1");
    connector.setPort(port);
    connector.setReusePort(false);
    server.addConnector(connector);
    server.setHandler(context);
    server.start();
    System.out.println("lakelab REST catalog listening on 127.0.0.1:" + port);
    server.join();
  }
}
"""


def install_iceberg_rest() -> Path:
    """The classpath folder (jars + the compiled launcher); built once, then reused."""
    dest = install.cache_root() / "iceberg-rest" / ICEBERG_VERSION
    lib = install.maven_classpath("iceberg-rest-classpath", _CLASSPATH, dest)
    launcher = dest / "launcher"
    compiled = launcher / "org" / "apache" / "iceberg" / "rest" / f"{LAUNCHER}.class"
    if compiled.exists():
        return dest
    src = dest / "src" / f"{LAUNCHER}.java"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(_LAUNCHER_SOURCE)
    javac = install.java_home(17, "Iceberg's REST server", 22) / "bin" / "javac"
    res = subprocess.run(
        [str(javac), "-nowarn", "--release", "17", "-cp", f"{lib}/*", "-d", str(launcher), str(src)],
        capture_output=True,
        text=True,
    )
    if res.returncode != 0:
        raise Unavailable(f"compiling the REST server launcher failed: {(res.stdout + res.stderr)[-800:]}")
    return dest


def install_nessie() -> Path:
    return install.maven_artifact(NESSIE[0], install.cache_root() / "nessie", NESSIE[1])


def install_rest(impl: str) -> Path:
    if impl == "iceberg":
        return install_iceberg_rest()
    if impl == "nessie":
        return install_nessie()
    raise Unavailable(f"unknown REST catalog {impl!r}", hint=f"choose one of {', '.join(REST_IMPLS)}")


def _storage_env(storage: str, store: dict, secrets: dict[str, str]) -> dict[str, str]:
    if storage == "s3":
        return {
            "CATALOG_IO__IMPL": "org.apache.iceberg.aws.s3.S3FileIO",
            "CATALOG_S3_ENDPOINT": store["endpoint"],
            "CATALOG_S3_PATH__STYLE__ACCESS": "true",
            "CATALOG_S3_ACCESS__KEY__ID": secrets["s3_access_key"],
            "CATALOG_S3_SECRET__ACCESS__KEY": secrets["s3_secret_key"],
            "CATALOG_CLIENT_REGION": objectstore.REGION,
            "AWS_REGION": objectstore.REGION,
        }
    if storage == "gcs":
        return {
            "CATALOG_IO__IMPL": "org.apache.iceberg.gcp.gcs.GCSFileIO",
            "CATALOG_GCS_SERVICE_HOST": store["endpoint"],
            "CATALOG_GCS_PROJECT__ID": objectstore.GCS_PROJECT,
            "CATALOG_GCS_NO__AUTH": "true",
        }
    return {}


def start(
    impl: str,
    sdir: Path,
    port: int,
    *,
    storage: str,
    warehouse: str,
    store: dict,
    secrets: dict[str, str],
    timeout: float = 120,
    nessie_properties: Sequence[str] = (),
) -> dict[str, Any]:
    """Start the REST catalog; `nessie_properties` are more lines for Nessie's
    application.properties (the auth test turns on bearer-token checks with them)."""
    program = install_rest(impl)
    part = sdir / "rest"
    part.mkdir(parents=True, exist_ok=True)
    log = sdir / "rest.log"
    log.write_text("")
    # Hadoop 3.4's UserGroupInformation calls Subject.getSubject, which Java 23+ refuses
    # ("getSubject is not supported"); Nessie (Quarkus) needs 21+ and runs on 25
    jdk = install.java_home(21, "Nessie") if impl == "nessie" else install.java_home(17, "Iceberg's REST server", 22)
    java = jdk / "bin" / "java"
    if impl == "iceberg":
        env = dict(
            os.environ,
            CATALOG_REST_PORT=str(port),
            CATALOG_URI=f"jdbc:sqlite:{part / 'catalog.db'}",
            CATALOG_WAREHOUSE=warehouse,
            **_storage_env(storage, store, secrets),
        )
        cmd = [str(java), "-Xmx512m", "-cp", f"{program / 'launcher'}:{program / 'lib'}/*"]
        cmd += [f"org.apache.iceberg.rest.{LAUNCHER}"]
        ready = f"http://127.0.0.1:{port}/v1/config"
        uri = f"http://127.0.0.1:{port}"
        mgmt_port = None
    else:
        from lakelab.services.process import free_port

        mgmt_port = free_port()
        _write_nessie_config(part, port, mgmt_port, storage, warehouse, store, secrets, nessie_properties)
        env = dict(os.environ)
        cmd = [str(java), "-Xmx512m", "-jar", str(program)]
        ready = f"http://127.0.0.1:{port}/iceberg/v1/config"
        uri = f"http://127.0.0.1:{port}/iceberg"
    t0 = time.monotonic()
    proc = start_detached(cmd, log, env=env, cwd=part)
    # 401: serving, and asking for credentials (auth turned on)
    wait_until(lambda: http_status(ready) in (200, 401), proc.pid, f"the {impl} REST catalog", log, timeout)
    return {
        "pid": proc.pid,
        "create_time": create_time(proc.pid),
        "port": port,
        "management_port": mgmt_port,
        "log": str(log),
        "impl": impl,
        "uri": uri,
        "check_url": ready,
        "startup_s": round(time.monotonic() - t0, 2),
    }


def _write_nessie_config(
    part: Path,
    port: int,
    mgmt_port: int,
    storage: str,
    warehouse: str,
    store: dict,
    secrets: dict[str, str],
    extra: Sequence[str] = (),
) -> None:
    """Quarkus reads ./config/application.properties: secrets stay off the command line."""
    lines = [
        "nessie.version.store.type=IN_MEMORY",
        "quarkus.http.host=127.0.0.1",
        f"quarkus.http.port={port}",
        "quarkus.management.host=127.0.0.1",
        f"quarkus.management.port={mgmt_port}",
        "quarkus.log.level=WARN",
        "quarkus.log.console.level=WARN",
        "quarkus.otel.sdk.disabled=true",
        f"nessie.catalog.default-warehouse={NESSIE_WAREHOUSE}",
        f"nessie.catalog.warehouses.{NESSIE_WAREHOUSE}.location={warehouse}",
    ]
    if storage == "s3":
        opts = "nessie.catalog.service.s3.default-options"
        lines += [
            f"{opts}.endpoint={store['endpoint']}",
            f"{opts}.path-style-access=true",
            f"{opts}.region={objectstore.REGION}",
            # clients use their own keys: no request signing, no credential vending
            f"{opts}.request-signing-enabled=false",
            f"{opts}.access-key=urn:nessie-secret:quarkus:lakelab.s3",
            f"lakelab.s3.name={secrets['s3_access_key']}",
            f"lakelab.s3.secret={secrets['s3_secret_key']}",
        ]
    elif storage == "gcs":
        opts = "nessie.catalog.service.gcs.default-options"
        lines += [f"{opts}.host={store['endpoint']}", f"{opts}.project-id={objectstore.GCS_PROJECT}"]
        lines += [f"{opts}.auth-type=NONE"]
    lines += extra
    conf = part / "config" / "application.properties"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.touch(mode=0o600)
    conf.write_text("\n".join(lines) + "\n")


def reachable(record: dict) -> bool:
    return bool(record.get("check_url")) and http_status(str(record["check_url"])) == 200


def pyiceberg_properties(record: dict) -> dict[str, str]:
    props = {"type": "rest", "uri": record["uri"]}
    if record.get("impl") == "nessie":
        props["warehouse"] = NESSIE_WAREHOUSE
    return props


def trino_properties(record: dict) -> list[str]:
    lines = ["iceberg.catalog.type=rest", f"iceberg.rest-catalog.uri={record['uri']}"]
    if record.get("impl") == "nessie":
        lines.append(f"iceberg.rest-catalog.warehouse={NESSIE_WAREHOUSE}")
    return lines

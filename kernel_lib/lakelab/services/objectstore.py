"""Local object storage speaking the real S3 or GCS APIs, on 127.0.0.1 only.

S3: versitygw (Go, `go install`) or s3proxy (a jar from Maven Central); GCS: fake-gcs-server
(Go). Data lives under $LAKELAB_HOME/services/<part>/data and is kept by `down`. Each `start`
returns the part's state record, and `lakehouse_properties` / `trino_properties` say how
pyiceberg and Trino reach it.
"""

from __future__ import annotations

import json
import os
import time
import urllib.request
from pathlib import Path
from typing import Any

from lakelab.config import redact
from lakelab.errors import Unavailable
from lakelab.services import install
from lakelab.services.process import create_time, http_status, start_detached, stop_group, wait_until

BUCKET = "lakelab"
REGION = "us-east-1"
GCS_PROJECT = "lakelab"

VERSITYGW = ("versitygw", "github.com/versity/versitygw/cmd/versitygw", "v1.8.0")
FAKE_GCS = ("fake-gcs-server", "github.com/fsouza/fake-gcs-server", "v1.56.1")
S3PROXY = ("org.gaul:s3proxy:4.1.0:jar:jar-with-dependencies", "s3proxy-4.1.0-jar-with-dependencies.jar")
S3_IMPLS = ("versitygw", "s3proxy")


def install_s3(impl: str) -> Path:
    if impl == "versitygw":
        return install.go_binary(*VERSITYGW)
    if impl == "s3proxy":
        return install.maven_artifact(S3PROXY[0], install.cache_root() / "s3proxy", S3PROXY[1])
    raise Unavailable(f"unknown S3 server {impl!r}", hint=f"choose one of {', '.join(S3_IMPLS)}")


def install_gcs() -> Path:
    return install.go_binary(*FAKE_GCS)


def _record(proc, port: int, log: Path, **extra: Any) -> dict[str, Any]:
    return {"pid": proc.pid, "create_time": create_time(proc.pid), "port": port, "log": str(log), **extra}


def start_s3(impl: str, sdir: Path, port: int, access_key: str, secret_key: str, timeout: float = 60) -> dict:
    """Start the S3 server, wait until it answers, create the bucket."""
    program = install_s3(impl)
    part = sdir / "s3"
    data = part / "data"
    data.mkdir(parents=True, exist_ok=True)
    log = sdir / "s3.log"
    log.write_text("")
    if impl == "versitygw":
        # keys through the environment: never on a command line others can read in `ps`
        env = dict(os.environ, ROOT_ACCESS_KEY=access_key, ROOT_SECRET_KEY=secret_key)
        cmd = [str(program), "--port", f"127.0.0.1:{port}", "posix", str(data)]
    else:
        props = part / "s3proxy.properties"
        props.touch(mode=0o600)
        props.write_text(
            "\n".join(
                [
                    f"s3proxy.endpoint=http://127.0.0.1:{port}",
                    "s3proxy.authorization=aws-v2-or-v4",
                    f"s3proxy.identity={access_key}",
                    f"s3proxy.credential={secret_key}",
                    "jclouds.provider=filesystem-nio2",
                    f"jclouds.filesystem.basedir={data}",
                    "",
                ]
            )
        )
        java = install.java_home(17, "s3proxy") / "bin" / "java"
        env = dict(os.environ)
        cmd = [str(java), "-Xmx256m", "-jar", str(program), "--properties", str(props)]
    t0 = time.monotonic()
    proc = start_detached(cmd, log, env=env, cwd=part)
    url = f"http://127.0.0.1:{port}/"
    wait_until(lambda: http_status(url) is not None, proc.pid, f"the S3 server ({impl})", log, timeout)
    try:
        _create_bucket(port, access_key, secret_key)
    except OSError as e:
        stop_group(proc.pid, timeout=10)
        raise Unavailable(f"creating bucket {BUCKET!r} on the S3 server ({impl}) failed: {redact(str(e))}") from None
    return _record(proc, port, log, impl=impl, endpoint=f"http://127.0.0.1:{port}", startup_s=_since(t0))


def _since(t0: float) -> float:
    return round(time.monotonic() - t0, 2)


def _s3_filesystem(port: int, access_key: str, secret_key: str):
    from pyarrow import fs

    return fs.S3FileSystem(
        access_key=access_key,
        secret_key=secret_key,
        endpoint_override=f"127.0.0.1:{port}",
        scheme="http",
        region=REGION,
        force_virtual_addressing=False,
        allow_bucket_creation=True,
    )


def _create_bucket(port: int, access_key: str, secret_key: str) -> None:
    from pyarrow import fs

    s3 = _s3_filesystem(port, access_key, secret_key)
    if s3.get_file_info(BUCKET).type == fs.FileType.NotFound:
        s3.create_dir(BUCKET)


def s3_reachable(port: int | None) -> bool:
    return bool(port) and http_status(f"http://127.0.0.1:{port}/") is not None


def start_gcs(sdir: Path, port: int, timeout: float = 60) -> dict:
    program = install_gcs()
    part = sdir / "gcs"
    data = part / "data"
    data.mkdir(parents=True, exist_ok=True)
    log = sdir / "gcs.log"
    log.write_text("")
    where = f"127.0.0.1:{port}"
    cmd = [str(program), "-scheme", "http", "-host", "127.0.0.1", "-port", str(port), "-backend", "filesystem"]
    cmd += ["-filesystem-root", str(data), "-public-host", where, "-external-url", f"http://{where}"]
    cmd += ["-log-level", "warn"]
    t0 = time.monotonic()
    proc = start_detached(cmd, log, cwd=part)
    wait_until(lambda: gcs_reachable(port), proc.pid, "fake-gcs-server", log, timeout)
    try:
        _create_gcs_bucket(port)
    except OSError as e:
        stop_group(proc.pid, timeout=10)
        raise Unavailable(f"creating bucket {BUCKET!r} on fake-gcs-server failed: {e}") from None
    return _record(proc, port, log, impl="fake-gcs-server", endpoint=f"http://{where}", startup_s=_since(t0))


def gcs_reachable(port: int | None) -> bool:
    return bool(port) and http_status(f"http://127.0.0.1:{port}/storage/v1/b") == 200


def _create_gcs_bucket(port: int) -> None:
    base = f"http://127.0.0.1:{port}/storage/v1/b"
    if http_status(f"{base}/{BUCKET}") == 200:
        return
    req = urllib.request.Request(
        f"{base}?project={GCS_PROJECT}",
        data=json.dumps({"name": BUCKET}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10):
        pass


def start_token_server(sdir: Path, port: int, python: str, timeout: float = 30) -> dict:
    """A tiny OAuth token endpoint for Trino's GCS client, which insists on credentials even
    though fake-gcs-server checks none (lakelab.services.token_server)."""
    log = sdir / "gcs-token.log"
    log.write_text("")
    proc = start_detached([python, "-m", "lakelab.services.token_server", str(port)], log, env=dict(os.environ))
    wait_until(lambda: http_status(f"http://127.0.0.1:{port}/token") == 200, proc.pid, "the token server", log, timeout)
    return _record(proc, port, log)


def write_gcs_key_file(path: Path, token_port: int) -> Path:
    """An `authorized_user` credentials file whose token_uri is the local token server. Its
    values are placeholders: fake-gcs-server checks no credentials."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(
            {
                "type": "authorized_user",
                "client_id": "lakelab-local",
                "client_secret": "lakelab-local",
                "refresh_token": "lakelab-local",
                "token_uri": f"http://127.0.0.1:{token_port}/token",
            }
        )
    )
    return path


def warehouse_uri(storage: str, home: Path) -> str:
    if storage == "s3":
        return f"s3://{BUCKET}/warehouse"
    if storage == "gcs":
        return f"gs://{BUCKET}/warehouse"
    return f"file://{home / 'warehouse'}"


def pyiceberg_properties(storage: str, record: dict, secrets: dict[str, str]) -> dict[str, str]:
    """pyiceberg's own FileIO properties for this storage (PyArrowFileIO / FsspecFileIO)."""
    if storage == "s3":
        return {
            "s3.endpoint": record["endpoint"],
            "s3.access-key-id": secrets["s3_access_key"],
            "s3.secret-access-key": secrets["s3_secret_key"],
            "s3.region": REGION,
            "s3.path-style-access": "true",
        }
    if storage == "gcs":
        return {
            "gcs.service.host": record["endpoint"],
            "gcs.project-id": GCS_PROJECT,
            # fake-gcs-server checks no token; pyarrow's GCS client wants one with an expiry
            "gcs.oauth2.token": "unchecked-by-fake-gcs",
            "gcs.oauth2.token-expires-at": str(int((time.time() + 10 * 365 * 86400) * 1000)),
        }
    return {}


def trino_env(storage: str, secrets: dict[str, str]) -> dict[str, str]:
    """Environment for the Trino processes: the S3 keys, kept out of files and logs."""
    if storage != "s3":
        return {}
    return {
        "AWS_ACCESS_KEY_ID": secrets["s3_access_key"],
        "AWS_SECRET_ACCESS_KEY": secrets["s3_secret_key"],
        "AWS_REGION": REGION,
    }


def trino_properties(storage: str, record: dict, secrets: dict[str, str], key_file: Path | None) -> list[str]:
    """Trino's native file system settings for this storage (catalog file lines)."""
    if storage == "s3":
        return [
            "fs.native-s3.enabled=true",
            f"s3.endpoint={record['endpoint']}",
            f"s3.region={REGION}",
            "s3.path-style-access=true",
            # no s3.aws-access-key here: Trino prints it in its startup log. The keys reach
            # it through the AWS default credential chain (trino_env)
        ]
    if storage == "gcs":
        return [
            "fs.native-gcs.enabled=true",
            f"gcs.endpoint={record['endpoint']}",
            f"gcs.project-id={GCS_PROJECT}",
            f"gcs.json-key-file-path={key_file}",
        ]
    # pyiceberg writes file:///abs/path locations; the native local FS maps them under /
    return ["fs.native-local.enabled=true", "local.location=/"]

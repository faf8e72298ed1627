"""Helpers for the object-storage tests: the URL of a profile's warehouse bucket, a store
client built the way lakelab builds it, and a small fault-injecting HTTP proxy.

The proxy (`FaultProxy`) is written for these tests: it sits between pyarrow/pyiceberg and
a real server (versitygw, the Iceberg REST server), forwards every request unchanged, and
on demand delays answers, answers 503 instead of forwarding, or forwards a request and then
drops the connection without the answer. Nothing else in these tests is simulated.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import pyarrow.fs as pafs

from lakelab.io.filesystems import filesystem

HOP = {"expect", "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"}


def bucket_url(run) -> str:
    return {"s3": "s3://lakelab", "gcs": "gs://lakelab", "local": "file://" + str(run.home / "warehouse")}[run.storage]


def store_fs(run) -> tuple[pafs.FileSystem, str]:
    """(filesystem, root path) of the profile's bucket, from the catalog's properties."""
    fs, root = filesystem(bucket_url(run) + "/", run.lakehouse.catalog.properties)
    return fs, root.rstrip("/")


class FaultProxy:
    """A forwarding HTTP proxy with injectable faults, for one upstream http://host:port.

    `rule(method, path) -> action | None` decides per request: None forwards it, "503"
    answers 503 SlowDown without forwarding, ("delay", s) waits s seconds then forwards,
    "drop-after" forwards it and closes the connection before answering, and a callable is
    run before forwarding (then the connection is dropped: the request never gets an answer).
    """

    def __init__(self, upstream: str):
        u = urlparse(upstream)
        self.host, self.port_up = u.hostname or "127.0.0.1", u.port or 80
        self.rule: Callable[[str, str], object] = lambda m, p: None
        self.seen: list[tuple[str, str, object]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _any(self):
                body = self._body()
                action = proxy.rule(self.command, self.path)
                proxy.seen.append((self.command, self.path, action if not callable(action) else "call"))
                if action == "503":
                    err = b"<Error><Code>SlowDown</Code><Message>injected</Message></Error>"
                    self.send_response(503)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(err)))
                    self.end_headers()
                    self.wfile.write(err)
                    return
                if callable(action):
                    action()
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if isinstance(action, tuple) and action[0] == "delay":
                    time.sleep(float(action[1]))
                conn = http.client.HTTPConnection(proxy.host, proxy.port_up, timeout=120)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                if action == "drop-after":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                self.send_response(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    if k.lower() not in HOP and (k.lower() != "content-length" or self.command == "HEAD"):
                        self.send_header(k, v)
                if self.command != "HEAD":
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    parts = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass  # trailers
                            return b"".join(parts)
                        parts.append(self.rfile.read(size))
                        self.rfile.readline()
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n) if n else b""

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

        class Server(ThreadingHTTPServer):
            def handle_error(self, request, client_address):  # a client that gave up: not news
                pass

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

"""Small process helpers for the local services: start detached, check, stop by process group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import psutil

from lakelab.errors import Unavailable


def start_detached(
    cmd: Sequence[str], log: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen:
    """Start `cmd` in its own session (so it outlives the CLI and can be stopped as a group)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        return subprocess.Popen(
            list(cmd),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )


def alive(pid: int | None, create_time: float | None = None) -> bool:
    """True when `pid` runs (not a zombie) and, if given, started at `create_time` (pid reuse)."""
    if not pid:
        return False
    try:
        p = psutil.Process(pid)
        if p.status() == psutil.STATUS_ZOMBIE:
            _reap(pid)
            return False
        return create_time is None or abs(p.create_time() - create_time) < 1.0
    except psutil.Error:
        return False


def create_time(pid: int) -> float | None:
    try:
        return psutil.Process(pid).create_time()
    except psutil.Error:
        return None


def _reap(pid: int) -> None:
    try:  # only succeeds for our own children (tests); elsewhere init reaps them
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def stop_group(pid: int, first: int = signal.SIGTERM, timeout: float = 30.0) -> None:
    """Signal the process group led by `pid`, wait, then SIGKILL what is left."""
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return
    members = _group(pgid)
    try:
        os.killpg(pgid, first)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(alive(p.pid) for p in members):
        time.sleep(0.2)
    for p in members:
        if alive(p.pid):
            try:
                p.kill()
            except psutil.Error:
                pass
    for p in members:
        _reap(p.pid)


def _group(pgid: int) -> list[psutil.Process]:
    out = []
    for p in psutil.process_iter():
        try:
            if os.getpgid(p.pid) == pgid:
                out.append(p)
        except (ProcessLookupError, psutil.Error, OSError):
            continue
    return out


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(text[-lines:])


def port_in_use(port: int) -> bool:
    """True when something listens on `port` on any address. A plain bind test is not enough:
    a server with SO_REUSEPORT (Jetty in Iceberg's REST server) would silently share it."""
    for c in _listening():
        if c.laddr.port == port:
            return True
    with socket.socket() as s:
        # connections of a part that was killed linger in TIME_WAIT: they must not move its
        # restart to another port (the other parts are configured with this one)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def free_port(preferred: int | None = None) -> int:
    """`preferred` if nothing listens on it, else one the kernel picks on 127.0.0.1."""
    if preferred and not port_in_use(preferred):
        return preferred
    for _ in range(20):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not port_in_use(port):
            return port
    raise Unavailable("no free TCP port on 127.0.0.1")


def _listening() -> list:
    try:
        return [c for c in psutil.net_connections("tcp") if c.status == psutil.CONN_LISTEN]
    except psutil.Error:
        return []


def listening_addresses(pid: int) -> list[tuple[str, int]]:
    """(ip, port) of every TCP socket the process and its children listen on."""
    try:
        proc = psutil.Process(pid)
        pids = {pid} | {c.pid for c in proc.children(recursive=True)}
    except psutil.Error:
        return []
    return sorted({(c.laddr.ip, c.laddr.port) for c in _listening() if c.pid in pids})


def memory_mb(pid: int | None) -> float | None:
    """Resident memory of the process and its children, in MB."""
    if not pid:
        return None
    try:
        proc = psutil.Process(pid)
        procs = [proc, *proc.children(recursive=True)]
        return round(sum(p.memory_info().rss for p in procs) / 2**20, 1)
    except psutil.Error:
        return None


def http_status(url: str, timeout: float = 2.0) -> int | None:
    """The HTTP status a GET gets (any answer, 4xx included, means the server is up)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, OSError, ValueError):
        return None


def wait_until(check, proc_pid: int, what: str, log: Path, timeout: float) -> float:
    """Poll `check()` until true; fail with the log's end when the process dies or time runs out."""
    t0 = time.monotonic()
    while not check():
        if not alive(proc_pid):
            raise Unavailable(f"{what} exited during startup; log {log}:\n{log_tail(log)}")
        if time.monotonic() - t0 > timeout:
            stop_group(proc_pid, timeout=5)
            raise Unavailable(f"{what} did not become ready within {timeout:.0f} s; log {log}:\n{log_tail(log)}")
        time.sleep(0.2)
    return time.monotonic() - t0

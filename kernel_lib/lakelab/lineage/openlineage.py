"""OpenLineage for every write: a START run event when it begins, COMPLETE or FAIL when it ends.

`emits_runs` wraps write/commit.write (the one write path), so ingest, `--into`, CREATE TABLE AS
and INSERT on the embedded engine, publish and Ray writes all emit; Trino-committed writes emit
through engines/trino/lineage.py (`begin` when planned, `finish` when recorded).

Configuration is openlineage-python's own: `OPENLINEAGE_CONFIG` (a YAML file), `openlineage.yml`
in the working directory or ~/.openlineage/, `OPENLINEAGE_URL` (+ `OPENLINEAGE_API_KEY`,
`OPENLINEAGE_ENDPOINT`), `OPENLINEAGE__TRANSPORT__...` variables; `OPENLINEAGE_DISABLED=true`
turns it off. With none of them nothing is sent (the client's own fallback, printing events to
the console, is not used). A malformed configuration is one clear warning when the lakehouse
starts; writes carry on without lineage.

Events are built and sent on one background thread from a bounded queue: a write only
captures what it knows and enqueues (microseconds). A full queue drops the event; a send that
fails (receiver down, slow past its timeout) loses it: both are counted (`stats()`) and logged.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import logging
import os
import queue
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from pyiceberg.catalog import Catalog

from lakelab.catalog.metadata import Lineage
from lakelab.config import redact
from lakelab.errors import InvalidInput
from lakelab.names import TableName
from lakelab.usage.table import is_system

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000  # events waiting to be sent; LAKELAB_OPENLINEAGE_QUEUE changes it
EXIT_FLUSH_S = 5.0  # at interpreter exit, wait this long for queued events (a down receiver must not hang exit)
P = ParamSpec("P")
R = TypeVar("R")


def config_source() -> str | None:
    """Where the OpenLineage configuration comes from, as openlineage-python looks for it;
    None: nothing configured (or OPENLINEAGE_DISABLED=true)."""
    if os.environ.get("OPENLINEAGE_DISABLED", "").strip().lower() == "true":
        return None
    explicit = os.environ.get("OPENLINEAGE_CONFIG")
    if explicit:
        return explicit
    for p in (Path.cwd() / "openlineage.yml", Path("~/.openlineage/openlineage.yml").expanduser()):
        if p.is_file():
            return str(p)
    if os.environ.get("OPENLINEAGE_URL"):
        return "OPENLINEAGE_URL"
    if any(k.startswith("OPENLINEAGE__") for k in os.environ):
        return "OPENLINEAGE__ variables"
    return None


def _check_file(path: str) -> None:
    import yaml

    where = f"the OpenLineage config {path}"
    if not Path(path).is_file():
        raise InvalidInput(f"{where} does not exist", hint="fix OPENLINEAGE_CONFIG, or unset it to send no lineage")
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as e:
        raise InvalidInput(f"{where} is not valid YAML: {str(e).splitlines()[0]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("transport"), dict) or not data["transport"].get("type"):
        raise InvalidInput(
            f"{where} names no transport",
            hint="e.g. `transport: {type: http, url: http://marquez:5000}` or `{type: file, log_file_path: …}`",
        )


def make_client() -> Any | None:
    """An OpenLineageClient for the configuration found, None when nothing is configured.
    Raises InvalidInput when the configuration is malformed."""
    source = config_source()
    if source is None:
        return None
    if source.endswith((".yml", ".yaml")) or os.environ.get("OPENLINEAGE_CONFIG"):
        _check_file(source)
    from openlineage.client import OpenLineageClient

    before = {k for k in os.environ if k.startswith("OPENLINEAGE__")}
    try:
        client = OpenLineageClient()
    except Exception as e:  # noqa: BLE001 - the client's own validation, whatever it raises
        raise InvalidInput(f"the OpenLineage configuration ({source}) is malformed: {redact(str(e))}") from None
    finally:
        # the client turns OPENLINEAGE_URL into OPENLINEAGE__TRANSPORT__… variables in os.environ;
        # left there they would configure every subprocess (the CLI, Ray workers) after an unset
        for k in [k for k in os.environ if k.startswith("OPENLINEAGE__") and k not in before]:
            del os.environ[k]
    if client.transport is None or client.transport.kind in ("console", "noop"):
        return None
    return client


class Emitter:
    """Sends run events from a bounded queue on one daemon thread."""

    def __init__(self, client: Any, size: int | None = None):
        size = size or int(os.environ.get("LAKELAB_OPENLINEAGE_QUEUE") or QUEUE_SIZE)
        self.client = client
        self.queue: queue.Queue[Callable[[], list[Any]] | threading.Event] = queue.Queue(maxsize=size)
        self.sent = self.dropped = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="lakelab-openlineage", daemon=True)
        self._thread.start()

    def submit(self, build: Callable[[], list[Any]]) -> None:
        try:
            self.queue.put_nowait(build)
        except queue.Full:
            self._drop(1, f"the queue is full ({self.queue.maxsize} events waiting)")

    def _drop(self, n: int, why: str) -> None:
        with self._lock:
            self.dropped += n
            total = self.dropped
        log.warning("lakelab: OpenLineage event dropped: %s (%d dropped so far)", why, total)

    def _run(self) -> None:
        while True:
            item = self.queue.get()
            try:
                if isinstance(item, threading.Event):
                    item.set()
                    continue
                try:
                    events = item()
                except Exception as e:  # noqa: BLE001 - a table gone, a catalog down: that event only
                    self._drop(1, f"it could not be built ({redact(str(e))[:200]})")
                    continue
                for i, event in enumerate(events):
                    try:
                        self.client.emit(event)
                    except Exception as e:  # noqa: BLE001 - the receiver is down or refused it
                        self._drop(len(events) - i, f"the receiver did not take it ({redact(str(e))[:200]})")
                        break
                    with self._lock:
                        self.sent += 1
            finally:
                self.queue.task_done()

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until everything queued before now is sent (or dropped); False on timeout."""
        done = threading.Event()
        try:
            self.queue.put(done, timeout=timeout)
        except queue.Full:
            return False
        return done.wait(timeout)


@dataclass
class _State:
    emitter: Emitter | None = None
    session: Any = None  # events.Session, made with the emitter
    ready: bool = False


_state = _State()
_state_lock = threading.Lock()


def _emitter() -> Emitter | None:
    """The process's emitter, made on first use; None when nothing is configured or the
    configuration is malformed (warned once)."""
    if _state.ready:
        return _state.emitter
    with _state_lock:
        if _state.ready:
            return _state.emitter
        try:
            client = make_client()
        except InvalidInput as e:
            hint = f" ({e.hint})" if e.hint else ""
            warnings.warn(f"lakelab: {e.message}{hint}; no lineage is sent, writes go on", stacklevel=3)
            log.error("lakelab: %s", e.message)
            client = None
        if client is not None:
            from openlineage.client.uuid import generate_new_uuid

            from lakelab.lineage.events import Session, session_job_name

            _state.emitter = Emitter(client)
            _state.session = Session(run_id=str(generate_new_uuid()), job_name=session_job_name())
            session = _state.session
            _state.emitter.submit(lambda: [session.start_event()])
            atexit.register(_state.emitter.flush, EXIT_FLUSH_S)
        _state.ready = True
        return _state.emitter


def check() -> None:
    """Read the configuration now (the lakehouse calls this when it starts): a malformed one
    warns at start rather than at the first write."""
    _emitter()


def reset() -> None:
    """Forget the emitter (after the configuration changed); queued events are still sent."""
    with _state_lock:
        _state.emitter, _state.session, _state.ready = None, None, False


def stats() -> dict[str, int | bool]:
    e = _state.emitter
    if e is None:
        return {"enabled": False, "sent": 0, "dropped": 0, "queued": 0}
    return {"enabled": True, "sent": e.sent, "dropped": e.dropped, "queued": e.queue.qsize()}


def flush(timeout: float | None = None) -> bool:
    e = _state.emitter
    return True if e is None else e.flush(timeout)


def session_run_id() -> str | None:
    """The notebook session's run id (the parent of every write's run), when lineage is on."""
    return _state.session.run_id if _emitter() is not None else None


class RunHandle:
    """One write's run: START was queued; `complete` or `fail` queues its end."""

    def __init__(self, emitter: Emitter, run: Any, session: Any, trino_catalog: str | None):
        self.emitter, self.run, self.session, self.trino_catalog = emitter, run, session, trino_catalog
        from lakelab.lineage import events

        self.emitter.submit(lambda: [events.start_event(run, session, trino_catalog)])

    def complete(
        self, snapshot_id: int | None, stats: dict[str, int], query_id: str | None = None, sources: Any = None
    ) -> None:
        from lakelab.lineage import events

        if query_id:
            self.run.query_id = query_id
        if sources and not self.run.lineage.sources:  # the files the write opened (known only once opened)
            self.run.lineage = dataclasses.replace(self.run.lineage, sources=list(sources))
        run, session, cat = self.run, self.session, self.trino_catalog
        self.emitter.submit(lambda: [events.complete_event(run, session, cat, snapshot_id, stats)])

    def fail(self, error: BaseException) -> None:
        from lakelab.lineage import events

        message = redact(getattr(error, "message", None) or str(error) or type(error).__name__)
        run, session = self.run, self.session
        self.emitter.submit(lambda: [events.fail_event(run, session, message)])


def begin(
    catalog: Catalog, name: TableName, lineage: Lineage, *, trino: str | None = None, trino_catalog: str | None = None
) -> RunHandle | None:
    """Start a write's run (None when lineage is off). Never raises."""
    emitter = _emitter()
    if emitter is None:
        return None
    try:
        from openlineage.client.uuid import generate_new_uuid

        from lakelab.lineage import events

        run = events.WriteRun(
            run_id=str(generate_new_uuid()),
            catalog=catalog,
            name=name,
            lineage=lineage,
            started=events._now(),
            cell=events.current_cell(),
            trino=trino,
        )
        return RunHandle(emitter, run, _state.session, trino_catalog)
    except Exception:
        log.warning("lakelab: could not start an OpenLineage run", exc_info=True)
        return None


def emits_runs(write: Callable[P, R]) -> Callable[P, R]:
    """Wrap the one write path: START before, COMPLETE with the snapshot after, FAIL on error."""

    @functools.wraps(write)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        catalog, name, lineage = args[0], args[1], kwargs.get("lineage")
        run = (
            begin(catalog, name, lineage)  # type: ignore[arg-type]
            if isinstance(lineage, Lineage) and isinstance(name, TableName) and not is_system(name.dotted)
            else None
        )
        if run is None:
            return write(*args, **kwargs)
        try:
            report = write(*args, **kwargs)
        except BaseException as e:
            run.fail(e)
            raise
        stats = {k: getattr(report, k) for k in ("rows", "files", "bytes") if isinstance(getattr(report, k, None), int)}
        run.complete(getattr(report, "snapshot_id", None), stats, sources=getattr(report, "sources", None))
        return report

    return wrapper


def client_tags() -> list[str]:
    """Client tags for the queries lakelab sends Trino: `lakelab`, and with lineage on, the
    notebook session's run, so the events Trino's own OpenLineage listener emits (which carry
    the query's source and tags) join that run. Trino tags cannot hold commas."""
    tags = ["lakelab"]
    run_id = session_run_id()
    if run_id is not None:
        from lakelab.lineage.events import job_namespace

        job = f"{job_namespace()}/{_state.session.job_name}".replace(",", "_")
        tags += [f"openlineage_parent_run_id={run_id}", f"openlineage_parent_job={job}"]
    return tags

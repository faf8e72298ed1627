"""One worker thread per widget: queries run off the kernel's message loop, a newer request
replaces a queued one, and a newer request can interrupt the statement the worker runs (through
the engine's `interrupt`, aimed at the worker thread: the notebook's own cells keep running)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from lakelab.errors import LakelabError


class Runner:
    def __init__(self, name: str = "lakelab-widget", interrupt: Callable[[int | None], None] | None = None):
        """`interrupt(thread)`: the engine's `interrupt`, told the worker thread's ident."""
        self._name = name
        self._interrupt = interrupt
        self._cond = threading.Condition()
        self._queue: dict[str, tuple[Callable[[], Any], Callable[[Any, BaseException | None], None]]] = {}
        self._busy: str | None = None
        self._job = 0  # which job runs now: a cancel keeps interrupting until that job has ended
        self._thread: threading.Thread | None = None
        self._worker: int | None = None  # the worker thread's ident, once it runs
        self.generation = 0  # bumped by submit: a job can tell it has been superseded

    def submit(
        self,
        slot: str,
        job: Callable[[], Any],
        done: Callable[[Any, BaseException | None], None],
        *,
        cancel_running: bool = False,
    ) -> None:
        """Run `job` (then `done(value, error)`) on the worker; a queued job for the same slot is
        replaced. `cancel_running` interrupts the statement running for that slot."""
        with self._cond:
            self.generation += 1
            self._queue[slot] = (job, done)
            if cancel_running and self._busy == slot and self._interrupt is not None:
                threading.Thread(target=self._cancel, args=(slot, self._job), daemon=True).start()
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name=self._name, daemon=True)
                self._thread.start()
            self._cond.notify_all()

    def _cancel(self, slot: str, job: int) -> None:
        """Interrupt job `job` until it ends: DuckDB forgets an interrupt that arrives before its
        statement has begun (engines/duckdb/running.py), so one is not enough."""
        while True:
            with self._cond:  # held while interrupting, so the next job cannot start meanwhile
                if self._busy != slot or self._job != job:
                    return
                try:
                    self._interrupt(self._worker)  # type: ignore[misc]
                except Exception:  # noqa: BLE001 - cancelling is best effort; the newer job still runs
                    return
            time.sleep(0.1)

    def _loop(self) -> None:
        self._worker = threading.get_ident()
        while True:
            with self._cond:
                if not self._queue:
                    self._busy = None
                    self._cond.notify_all()
                    if not self._cond.wait(timeout=30):
                        if not self._queue:
                            self._thread = None
                            return
                    continue
                slot = next(iter(self._queue))
                job, done = self._queue.pop(slot)
                self._busy = slot
                self._job += 1
            value: Any = None
            error: BaseException | None = None
            try:
                value = job()
            except (LakelabError, KeyboardInterrupt) as e:
                error = e
            except Exception as e:  # noqa: BLE001 - shown in the widget as one line, never a traceback
                error = e
            try:
                done(value, error)
            except Exception:  # noqa: BLE001 - a widget update must not kill the worker
                pass

    def wait(self, timeout: float | None = 120) -> bool:
        """Block until nothing is queued or running (tests, scripts). False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and self._busy is None, timeout=timeout)


def message(err: BaseException) -> str:
    """One line for the widget: a domain error's own text, anything else with its type."""
    if isinstance(err, KeyboardInterrupt):
        return "cancelled"
    if isinstance(err, LakelabError):
        return str(err)
    first = (str(err).strip().splitlines() or [""])[0]
    return f"{type(err).__name__}: {first}" if first else type(err).__name__

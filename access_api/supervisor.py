"""What ``khoso serve`` keeps alive: its job worker (with the scheduler) and the managed clamd.

A worker killed by the kernel (out of memory) or by an operator would otherwise leave the
archive taking submissions nobody processes, and a clamd that died would hold every ingest as
"clamd unavailable". The supervisor polls both every second and restarts what died, waiting
longer after each failed start (1 s doubling to a minute, reset once it ran a minute). The
worker runs in its own process group so that its embedded scheduler child, orphaned when the
worker is killed, is stopped with it instead of running on beside the new one.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable

from ingest import local_clamd
from preservation.errors import KhosoError

log = logging.getLogger(__name__)

BACKOFF_MAX = 60.0
STABLE = 60.0  # seconds up after which a restart counts as healthy again


def kill_group(pid: int, sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


class _Backoff:
    """Delay before the next start: 1 s doubling to ``BACKOFF_MAX``; back to 1 s once the
    process had run ``STABLE`` seconds."""

    def __init__(self) -> None:
        self.delay, self.next_at, self.started_at = 1.0, 0.0, 0.0

    def due(self) -> bool:
        return time.monotonic() >= self.next_at

    def started(self) -> None:
        self.started_at = time.monotonic()

    def failed(self) -> None:
        now = time.monotonic()
        if now - self.started_at >= STABLE:
            self.delay = 1.0
        self.next_at = now + self.delay
        self.delay = min(BACKOFF_MAX, self.delay * 2)


class Supervisor:
    """Starts the worker (``start_worker`` returns a process that leads its own group; None
    when the workers run elsewhere, ``serve --no-worker``) and restarts it, and the managed
    clamd, whenever they die, until ``stop``. ``stop`` stops
    clamd only when this process started it (``owns_clamd``, or a restart)."""

    def __init__(self, start_worker: Callable[[], subprocess.Popen] | None,
                 clamd: local_clamd.LocalClamd | None = None, *, owns_clamd: bool = False,
                 every: float = 1.0) -> None:
        self._start_worker = start_worker
        self.clamd, self._owns_clamd = clamd, owns_clamd
        self._every = every
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._worker_backoff, self._clamd_backoff = _Backoff(), _Backoff()
        self.restarts = {"worker": 0, "clamd": 0}
        self._reaped = False
        self.worker = self._spawn() if start_worker is not None else None
        self._thread = threading.Thread(target=self._run, daemon=True, name="khoso-supervisor")
        self._thread.start()

    def _spawn(self) -> subprocess.Popen:
        assert self._start_worker is not None
        self._worker_backoff.started()
        self._reaped = False
        return self._start_worker()

    def _run(self) -> None:
        while not self._stopping.wait(self._every):
            try:
                self._check_worker()
                self._check_clamd()
            except Exception:  # noqa: BLE001 - supervision goes on whatever one round met
                log.exception("supervision round failed")

    def _check_worker(self) -> None:
        with self._lock:
            if self.worker is None or self._stopping.is_set() or self.worker.poll() is None:
                return
            if not self._reaped:
                log.error("job worker %s exited with %s; restarting it", self.worker.pid,
                          self.worker.returncode)
                kill_group(self.worker.pid)  # its scheduler child would run on, orphaned
                self._worker_backoff.failed()
                self._reaped = True
            if self._worker_backoff.due():
                self.worker = self._spawn()
                self.restarts["worker"] += 1

    def _check_clamd(self) -> None:
        if self.clamd is None or self._stopping.is_set():
            return
        if local_clamd.running_pid(self.clamd) or not self._clamd_backoff.due():
            return
        log.error("the managed clamd is not running; starting it")
        self._clamd_backoff.failed()
        try:
            local_clamd.start(self.clamd)
        except KhosoError as exc:
            log.error("could not restart clamd: %s", exc)
            return
        self._clamd_backoff.started()
        self.restarts["clamd"] += 1

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        self._thread.join()
        with self._lock:
            worker = self.worker
        if worker is not None:
            if worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
            kill_group(worker.pid)  # anything of its group still there (the scheduler child)
        if self.clamd is not None and (self._owns_clamd or self.restarts["clamd"]):
            local_clamd.stop(self.clamd)

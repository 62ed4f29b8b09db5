"""Format identification in a helper process, working while the ingest's own process does not.

siegfried (pygfried) holds the GIL while it works, so in the ingest's own process it could
neither overlap other steps nor give back the native memory it grows on 100,000 files. In a
helper process it does both: the scan step submits the content paths (the share validate_sip
cannot hide when the read pass starts, the rest when it ends, to run beside validate_sip), and
``identify_formats`` only collects the answers. One helper per process (``shared``), spawned
on first use; if it dies, identification falls back to running in-process.
It exits by itself when its parent goes. Spawned, not forked (the parent has threads), so a
script that ingests needs the usual ``if __name__ == "__main__":`` guard.
"""

from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from ingest.adapters.formats import FormatIdentification, FormatIdentifier, make_identifier

log = logging.getLogger(__name__)

_child: FormatIdentifier | None = None

# The helper yields the CPU to the read pass (clamd, hashing) it runs beside, and takes what
# validate_sip leaves idle: its answers are needed only after that step.
NICE = 10


def _start(name: str, parent: int) -> None:
    """``parent`` is the pid that spawned us, given by it: reading ``getppid()`` here would
    take init for the parent when the parent died before this ran, and never exit."""
    global _child
    _child = make_identifier(name)
    os.nice(NICE)

    def orphaned() -> None:  # a worker killed or recycled without atexit must not leave us
        while os.getppid() == parent:
            time.sleep(2)
        os._exit(0)
    threading.Thread(target=orphaned, daemon=True, name="watch-parent").start()


def _identify(paths: list[str], workers: int) -> list[FormatIdentification]:
    assert _child is not None
    return _child.identify_many(paths, workers=workers)


def _peak_rss() -> int:
    """The helper's own peak resident set (VmHWM), in bytes."""
    with open("/proc/self/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


class IsolatedIdentifier:
    """A ``FormatIdentifier`` whose work runs in a helper process; ``submit`` starts it early."""

    def __init__(self, name: str = "siegfried") -> None:
        self.name = name
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._local: FormatIdentifier | None = None

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(
                    1, mp_context=multiprocessing.get_context("spawn"), initializer=_start,
                    initargs=(self.name, os.getpid()))
            return self._pool

    def submit(self, paths: Iterable[str | os.PathLike[str]],
               workers: int = 2) -> Future[list[FormatIdentification]]:
        names = [os.fspath(p) for p in paths]
        try:
            return self._executor().submit(_identify, names, workers)
        except (BrokenProcessPool, RuntimeError, OSError) as exc:
            return self._fallback(names, workers, exc)

    def result(self, future: Future[list[FormatIdentification]], paths: Iterable[str | os.PathLike[str]],
               workers: int = 2) -> list[FormatIdentification]:
        """The answers of ``submit``; computed here instead if the helper died meanwhile."""
        try:
            return future.result()
        except BrokenProcessPool as exc:
            return self._fallback([os.fspath(p) for p in paths], workers, exc).result()

    def identify(self, path: str | os.PathLike[str]) -> FormatIdentification:
        return self.identify_many([path], workers=1)[0]

    def identify_many(self, paths: Iterable[str | os.PathLike[str]],
                      workers: int = 2) -> list[FormatIdentification]:
        names = [os.fspath(p) for p in paths]
        return self.result(self.submit(names, workers), names, workers)

    def peak_rss(self) -> int:
        """Peak RSS of the helper process (0 if it never started)."""
        if self._pool is None:
            return 0
        return self._pool.submit(_peak_rss).result()

    def _fallback(self, names: list[str], workers: int, exc: BaseException) -> Future:
        log.warning("format identification helper unavailable (%s); identifying in-process", exc)
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)
                self._pool = None
            if self._local is None:
                self._local = make_identifier(self.name)
        done: Future = Future()
        done.set_result(self._local.identify_many(names, workers=workers))
        return done

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
                self._pool = None


_shared: dict[str, IsolatedIdentifier] = {}
_shared_lock = threading.Lock()


def shared(name: str = "siegfried") -> IsolatedIdentifier:
    """The process's one helper for identifier ``name`` (a helper per ingest would cost a
    spawn and a signature load each time)."""
    with _shared_lock:
        ident = _shared.get(name)
        if ident is None:
            make_identifier(name)  # an unknown name fails here, as CFG002, not in the helper
            ident = _shared[name] = IsolatedIdentifier(name)
        return ident


@atexit.register
def _close_all() -> None:
    for ident in list(_shared.values()):
        ident.close()

"""One location's share of a replication, in a process of its own (``python -m``).

Started by ``storage.replication.start_replication``. Reads pickled frames on stdin: a header
(the storage, attempts, back-off), then batches, each as lists of
``(key, path, sha256, size, lock, staged)`` ended by an empty list, then ``None``. Each batch is
written while the next one arrives. Writes pickled ``(storage.replication.Frame, value)``
frames on stdout: ``("ready", None)`` once started, ``("progress", done)`` every
``PROGRESS_EVERY`` seconds, then ``("done", replicas)``, ``("error", {...})`` or, when told to
stop, ``("stopped", None)``; ``("kept", key)`` as soon as a key is found already holding the
same bytes (puts are write-once: the parent must never remove such an object, even if this
worker is killed before it reports anything else). It is a separate interpreter, not a fork: nothing of the parent's threads, locks or database
connections comes with it. A SIGTERM (the parent gives up: a later step failed) stops it and
removes everything it wrote. If stdin closes before the work is done, the parent died: the
worker stops at once and removes nothing, because the job's retry writes the same keys (the
job id names the AIP) and may already be writing them; what it leaves is what a killed
ingest leaves, and the retry finds the same bytes in place (idempotent puts).
"""

from __future__ import annotations

import functools
import os
import pickle
import queue
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from preservation.packaging.objects import ObjectToStore
from storage.replication import Frame


def error_frame(exc: BaseException) -> dict[str, Any]:
    from preservation.errors import KhosoError
    from storage.replication import failure_frame

    if isinstance(exc, KhosoError):
        issue = exc.issue
        return {"code": issue.code, "path": issue.path, "params": dict(issue.params),
                "transient": exc.transient}
    return failure_frame(f"{type(exc).__name__}: {exc}"[:500])


Send = Callable[[tuple[str, Any]], None]


def _progress(send: Send, before: int, _stage: str, done: int, _total: int) -> None:
    send((Frame.PROGRESS, before + done))


class _Reported(set[tuple[str, str]]):
    """The worker's ``kept`` set: each addition also goes to the parent at once."""

    def __init__(self, send: Send) -> None:
        super().__init__()
        self._send = send

    def add(self, item: tuple[str, str]) -> None:
        if item not in self:
            super().add(item)
            self._send((Frame.KEPT, item[1]))


class _Stop(BaseException):
    """Raised in the main thread by SIGTERM (the parent gives up); ``replicate`` then cleans up."""


def main() -> int:
    from storage.replication import conflict, remove, replicate

    inp, out = sys.stdin.buffer, sys.stdout.buffer
    lock = threading.Lock()
    finished = threading.Event()

    def send(frame: tuple[str, Any]) -> None:
        with lock:
            pickle.dump(frame, out, protocol=pickle.HIGHEST_PROTOCOL)
            out.flush()

    stopping: list[bool] = []

    def stop(*_: object) -> None:
        if not finished.is_set() and not stopping:  # once: the clean-up must not be cut short
            stopping.append(True)
            raise _Stop

    signal.signal(signal.SIGTERM, stop)
    send((Frame.READY, None))  # imports done: the parent falls back to threads without this
    header = pickle.load(inp)
    batches: queue.Queue[list[ObjectToStore] | None] = queue.Queue()

    def read() -> None:
        """Batches to the queue as they come; then wait for stdin to close. A close before
        the result was sent means the parent is gone: stop now, clean nothing."""
        try:
            batch: list[ObjectToStore] = []
            while (frame := pickle.load(inp)) is not None:
                if frame:
                    batch.extend(ObjectToStore(*item) for item in frame)
                else:
                    batches.put(batch)
                    batch = []
            batches.put(None)
            inp.read()
        except Exception:  # noqa: BLE001, S110 - a truncated frame is a parent that went away
            pass
        if not finished.is_set() and not stopping:
            os._exit(3)

    threading.Thread(target=read, daemon=True, name="batches").start()
    storage = header["storage"]
    written: list[ObjectToStore] = []
    replicas = []
    kept = _Reported(send)
    try:
        while (batch := batches.get()) is not None:
            replicas += replicate(batch, [storage], attempts=header["attempts"],
                                  backoff=header["backoff"],
                                  progress=functools.partial(_progress, send, len(written)),
                                  kept=kept)
            written += batch
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it
        stopping.append(True)  # a SIGTERM now must not cut the clean-up (and the report) short
        if not conflict(exc):  # after a write-once conflict nothing is removed (replication)
            # the failed batch was removed by replicate itself. Wired is ObjectToStore plus
            # lock/staged until the two are one type (the ignore goes with that)
            remove(written, [storage], kept)
        finished.set()
        send((Frame.STOPPED, None) if isinstance(exc, _Stop) else (Frame.ERROR, error_frame(exc)))
        return 1
    finished.set()
    send((Frame.DONE, replicas))
    return 0


if __name__ == "__main__":
    # No interpreter shutdown: the reader thread is blocked on stdin, which the finalizer
    # would wait for; everything the parent needs has been flushed.
    os._exit(main())

"""Write a package's files to every replica location; all or nothing.

Each object is hashed while written and checked against the digest computed at ingest (and S3
reads it back). A transient failure is retried with back-off; if a location still fails, every
object already written for this package is removed from every location, so the catalog can
never register an AIP with a missing copy.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path

from storage.errors import ObjectMissing, StorageError
from storage.protocol import Storage

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ObjectToStore:
    key: str
    path: Path
    sha256: str
    size: int


@dataclass(frozen=True)
class Replica:
    location: str
    objects: int
    bytes: int
    seconds: float


def _put_with_retry(storage: Storage, obj: ObjectToStore, attempts: int, backoff: float,
                    sleep: Callable[[float], None]) -> None:
    staged = getattr(obj, "staged", None)
    for attempt in range(1, attempts + 1):
        try:
            if staged:  # written to this location during ingest's read pass
                storage.move(staged, obj.key, expected_sha256=obj.sha256,
                             lock=getattr(obj, "lock", True))
                return
            with open(obj.path, "rb", buffering=0) as f:  # unbuffered: no isatty/lseek calls
                storage.put(obj.key, f, expected_sha256=obj.sha256, size=obj.size,
                            lock=getattr(obj, "lock", True))
            return
        except ObjectMissing:
            if not (staged and attempt > 1 and storage.verify(obj.key, obj.sha256).ok):
                raise
            return  # an earlier attempt moved it, then failed to say so
        except StorageError as exc:
            if not exc.transient or attempt == attempts:
                raise
            log.warning("retrying %s on %s after %s", obj.key, storage.name, exc.code)
            sleep(backoff * 2 ** (attempt - 1))


def remove(objects: Sequence[ObjectToStore], storages: Sequence[Storage]) -> None:
    """Best-effort removal of a failed package's objects (a locked object stays, and says so)."""
    for storage in storages:
        for obj in objects:
            try:
                storage.delete(obj.key)
            except ObjectMissing:
                pass
            except StorageError as exc:
                log.error("could not remove %s from %s: %s", obj.key, storage.name, exc)


def replicate(objects: Sequence[ObjectToStore], storages: Sequence[Storage], *,
              attempts: int = 4, backoff: float = 0.5,
              sleep: Callable[[float], None] = time.sleep,
              progress: Callable[[str, int, int], None] | None = None,
              workers: int = 8) -> list[Replica]:
    """Put every object on every storage, verified; on failure remove them all and raise.

    Each location gets its own ``workers`` threads, or fewer where it says parallel puts do
    not help (``parallel_puts``): an S3 put waits on the network, so eight at a time is what
    makes many small objects fast; a local disk's puts are short system calls into the same
    few folders, where more threads only contend (measured: one thread 1,540 puts/s, eight
    735 puts/s, with twice the CPU).
    """
    started = time.monotonic()
    total = len(storages) * len(objects)
    jobs = ((storage, obj) for obj in objects for storage in storages)
    done = 0
    try:
        with contextlib.ExitStack() as stack:
            pools, window = {}, 0
            for storage in storages:  # one flush per location at the end, not per object
                if hasattr(storage, "deferred_sync"):
                    stack.enter_context(storage.deferred_sync())
                threads = max(1, min(workers, getattr(storage, "parallel_puts", workers)))
                pools[id(storage)] = stack.enter_context(ThreadPoolExecutor(threads))
                window += 4 * threads
            # A window of futures, not one per object: 200,000 futures would cost ~100 MB.
            pending: set = set()
            try:
                for st, obj in itertools.chain(jobs, [(None, None)]):
                    if st is not None:
                        pending.add(pools[id(st)].submit(_put_with_retry, st, obj, attempts,
                                                         backoff, sleep))
                    while pending and (st is None or len(pending) >= window):
                        finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                        for future in finished:
                            future.result()
                            done += 1
                            if progress:
                                progress("store", done, total)
            except BaseException:
                for f in pending:
                    f.cancel()
                raise
    except BaseException:
        remove(objects, storages)
        raise
    seconds = time.monotonic() - started
    return [Replica(storage.name, len(objects), sum(o.size for o in objects), seconds)
            for storage in storages]

"""Staged copies: a large file is written to every replica while ingest is still reading it.

Writing a 2 GiB file to two replicas after the virus scan costs as long again as the scan: the
disks sit idle while clamd works, then clamd sits idle while the disks work. So the read pass
hands each chunk to a writer per location, which streams it into ``Storage.put`` under a
staging key (``_staging/{job}/…``, outside every archive's key space, never locked). Once every
check has passed, ``Storage.move`` puts the staged object under its AIP key, verified against
the digest the read pass computed; a rejected or failed ingest deletes the staging prefix.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import queue
import threading
from collections.abc import Sequence
from typing import Any, BinaryIO, cast

from storage.errors import ObjectMissing, StorageError, os_error
from storage.keys import RESERVED_PREFIX
from storage.protocol import Storage, StoredObject

log = logging.getLogger(__name__)

STAGING_PREFIX = "_staging"
_END = object()


def staging_key(job_id: str, index: int) -> str:
    return f"{STAGING_PREFIX}/{job_id}/{index:06d}"


class _Aborted(Exception):
    """Raised into a writer's stream so ``put`` fails and leaves nothing behind."""


class _QueueReader(io.RawIOBase):
    """The reading end of a bounded queue of chunks, as the stream ``Storage.put`` consumes."""

    def __init__(self, chunks: queue.Queue[Any]) -> None:  # bytes, then _END or _Aborted
        self._chunks = chunks
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def]
        while not self._pending:
            item = self._chunks.get()
            if item is _END or item is _Aborted:
                self._chunks.put(item)  # later reads, and the drain after a failure, see it too
                if item is _END:
                    return 0
                raise _Aborted("staged copy aborted")
            self._pending = memoryview(item)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n


class _Writer:
    def __init__(self, storage: Storage, key: str, depth: int) -> None:
        self.storage = storage
        self.chunks: queue.Queue[Any] = queue.Queue(depth)
        self.stored: StoredObject | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(key,), daemon=True,
                                       name=f"stage:{storage.name}")
        self.thread.start()

    def _run(self, key: str) -> None:
        try:
            # Staging keys are the job's own scratch space (a retry writes them again).
            stream = cast(BinaryIO, _QueueReader(self.chunks))  # put only calls read()
            self.stored = self.storage.put(key, stream, lock=False, replace=True)
        except BaseException as exc:  # noqa: BLE001 - reported by close()
            self.error = exc
            while self.chunks.get() not in (_END, _Aborted):  # never block the producer
                pass


class StagedCopies:
    """One file being written to every location at once; ``write`` blocks when a disk lags.

    ``depth`` chunks may wait per location (about ``depth`` MiB with the read pass's chunks).
    """

    def __init__(self, storages: Sequence[Storage], key: str, depth: int = 16) -> None:
        self.key = key
        self._writers = [_Writer(s, key, depth) for s in storages]
        self._closed = False

    def write(self, data: bytes | memoryview) -> None:
        data = bytes(data)  # the caller may reuse its buffer; the writers read this later
        for w in self._writers:
            if w.error is None:
                w.chunks.put(data)

    def close(self, sha256: str, size: int) -> list[StoredObject]:
        """Wait for every location; each must hold exactly ``size`` bytes hashing to ``sha256``."""
        self._finish(_END)
        errors = [w.error for w in self._writers if w.error is not None]
        for w in self._writers:
            if w.stored is not None and (w.stored.sha256 != sha256 or w.stored.size != size):
                errors.append(StorageError("STO011", self.key, key=self.key,
                                           location=w.storage.name, expected=sha256,
                                           actual=w.stored.sha256))
        if errors:
            self._delete()
            error = errors[0]
            if isinstance(error, StorageError):
                raise error
            if isinstance(error, OSError):  # the location's disk: transient, retried
                raise os_error(self.key, self._location(error), "stage", error) from error
            raise StorageError("STO007", self.key, key=self.key, location="staging",
                               operation="stage", reason=str(error)) from error
        return [w.stored for w in self._writers if w.stored is not None]

    def _location(self, error: BaseException) -> str:
        return next((w.storage.name for w in self._writers if w.error is error), "staging")

    def abort(self) -> None:
        if not self._closed:
            self._finish(_Aborted)
        self._delete()

    def _finish(self, marker: object) -> None:
        self._closed = True
        for w in self._writers:
            w.chunks.put(marker)
        for w in self._writers:
            w.thread.join()

    def _delete(self) -> None:
        for w in self._writers:
            if w.stored is not None:
                try:
                    w.storage.delete(self.key)
                except ObjectMissing:
                    pass
                except StorageError as exc:
                    log.error("could not remove staged %s from %s: %s", self.key, w.storage.name,
                              exc)


def _discard_partial(storage: Storage, prefix: str, *, below: bool = False) -> int:
    """What a put killed mid-write left under ``prefix``, which ``list`` does not show: a
    filesystem location's temporary files (``below``: in every folder under it too), an S3
    location's unfinished multipart uploads."""
    from storage.filesystem import FilesystemStorage
    from storage.s3 import S3Storage

    removed = 0
    if isinstance(storage, FilesystemStorage):
        folder = storage.root.joinpath(*prefix.strip("/").split("/"))
        if folder.parent.is_symlink() or folder.is_symlink() or not folder.is_dir():
            return 0
        with os.scandir(folder) as entries:
            for entry in entries:
                if below and entry.is_dir(follow_symlinks=False):
                    removed += _discard_partial(storage, f"{prefix.rstrip('/')}/{entry.name}/",
                                                below=True)
                elif entry.name.startswith(f"{RESERVED_PREFIX}tmp-") and \
                        entry.is_file(follow_symlinks=False):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)
                        removed += 1
        with contextlib.suppress(OSError):
            folder.rmdir()  # empty now, unless a new attempt writes there already
    elif isinstance(storage, S3Storage):
        pages = storage.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=storage.bucket, Prefix=prefix)
        for page in pages:
            for upload in page.get("Uploads", []):
                storage.client.abort_multipart_upload(
                    Bucket=storage.bucket, Key=upload["Key"], UploadId=upload["UploadId"])
                removed += 1
    return removed


def discard_partial_under(storage: Storage, prefix: str) -> int:
    """``_discard_partial`` in every folder under ``prefix``: for the keys a killed run wrote
    in place (not staged), once its objects are deleted."""
    return _discard_partial(storage, prefix, below=True)


def discard(storages: Sequence[Storage], job_id: str) -> int:
    """Remove whatever a job staged and did not move into place (also after a crash, whose
    half-written files only this finds: ``_discard_partial``).

    In a versioned bucket a staged key whose current version is a delete marker still holds
    the bytes of a rejected or half-written package: ``keys_under`` finds it, and ``delete``
    removes every version and marker of the key. A locked version refuses its key and is
    logged as an error with its lock; the other keys still go (a staging key is never written
    locked: only a bucket's default retention can lock it)."""
    from storage.retention import keys_under

    removed = 0
    for storage in storages:
        try:
            removed += _discard_partial(storage, f"{STAGING_PREFIX}/{job_id}/")
        except Exception as exc:  # noqa: BLE001 - logged; the next attempt or sweep tries again
            log.error("could not remove partial staged files of %s on %s: %s", job_id,
                      storage.name, exc)
        try:
            keys = keys_under(storage, f"{STAGING_PREFIX}/{job_id}/")
        except StorageError as exc:
            log.error("could not list staged objects of %s on %s: %s", job_id, storage.name,
                      exc.message("en"))
            continue
        for key in keys:
            try:
                storage.delete(key)
                removed += 1
            except ObjectMissing:
                pass
            except StorageError as exc:
                log.error("could not remove staged %s from %s: %s", key, storage.name,
                          exc.message("en"))
    return removed

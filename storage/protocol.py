"""The ``Storage`` role every replica backend plays, and the frozen results it returns.

Kept to a handful of methods so that a new backend is one module plus one line in
``storage.locations``, and so that one contract suite (``tests/integration/storage``) can hold
every backend to the same behaviour.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import BinaryIO, Protocol, runtime_checkable


@dataclass(frozen=True)
class StoredObject:
    """What ``put`` wrote: the digest comes from the write itself, not from a second read.

    ``created`` is False when the key already held these very bytes (a retried write): such
    an object was not made by this call, and a clean-up after a failure must leave it alone."""

    key: str
    size: int
    sha256: str
    location: str
    created: bool = True


@dataclass(frozen=True)
class ObjectInfo:
    """``sha256`` is the digest recorded when the object was written (None if none was kept).

    It is a claim, not a check: only ``verify`` re-reads the bytes.
    """

    key: str
    size: int
    sha256: str | None
    modified: datetime


class FixityOutcome(StrEnum):
    OK = "ok"
    MISMATCH = "mismatch"
    MISSING = "missing"
    # Could not read (I/O error, network down, permission): says nothing about the bytes.
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class FixityResult:
    """One fixity check of one copy; the data a PREMIS "fixity check" event is made from."""

    key: str
    location: str
    outcome: FixityOutcome
    expected_sha256: str
    actual_sha256: str | None
    bytes_read: int
    seconds: float
    checked_at: datetime
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome is FixityOutcome.OK


@dataclass(frozen=True)
class LocationHealth:
    name: str
    up: bool
    detail: str = ""


@runtime_checkable
class Storage(Protocol):
    """A replica location holding objects under keys (see ``storage.keys.validate_key``)."""

    name: str

    @property
    def parallel_puts(self) -> int | None:
        """How many puts at once help this location; None: as many as the caller runs.

        An S3 put waits on the network, so many at a time pay; a local disk's puts only
        contend for the same few folders (``storage.replication.replicate``)."""
        ...

    @property
    def worker_safe(self) -> bool:
        """Whether the storage pickles as plain data and can be reopened in a replication
        worker process (``storage.replication.start_replication``)."""
        ...

    def deferred_sync(self) -> AbstractContextManager[None]:
        """Within the block, puts may leave their durability to the end of the block, which
        makes every object written in it durable at once. A backend whose puts are durable
        when they return gives a block that does nothing."""
        ...

    def put(
        self, key: str, stream: BinaryIO, *, expected_sha256: str | None = None, size: int | None = None,
        lock: bool = True, replace: bool = False,
    ) -> StoredObject:
        """Store the stream under ``key``, hashing while writing; write-once unless ``replace``.

        When ``key`` already holds an object: the same bytes succeed without writing
        (``created=False``, so a retried job can rewrite its own keys); different bytes raise
        ``ObjectExists`` (STO045) and leave it untouched. ``replace=True`` is only for what
        is meant to change or be restored: sidecar snapshots, staging, repair of a bad copy.

        Raises ``DigestMismatch`` / ``StorageError`` (STO004) when the bytes do not match
        ``expected_sha256`` / ``size``. On any failure, including the stream raising, no new
        object is left behind; a failure found before the write (digest, size, stream) leaves a
        previous object under ``key`` untouched (S3 unversioned buckets lose it only if the
        read-back after the write fails).
        """
        ...

    def move(self, src: str, dst: str, *, expected_sha256: str, lock: bool = True) -> StoredObject:
        """Put the object at ``src`` under ``dst`` (write-once, as ``put``) and remove ``src``.

        For staged copies (``storage.staging``): the object must hash to ``expected_sha256``,
        else ``DigestMismatch`` and both keys are left as they were. A ``dst`` already
        holding those bytes is kept (``created=False``); other bytes there: ``ObjectExists``
        and both keys are left as they were.
        """
        ...

    def open(self, key: str, *, start: int = 0, end: int | None = None) -> BinaryIO:
        """Read bytes ``[start, end)`` (end exclusive, clamped to the object size)."""
        ...

    def stat(self, key: str) -> ObjectInfo: ...

    def verify(self, key: str, sha256: str) -> FixityResult:
        """Re-read the whole object and compare; never raises for missing or unreadable.

        A symbolic link in place of the object (or of a folder on its path) is a MISMATCH:
        whatever it points to is not the object that was stored."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; ``ObjectMissing`` if absent, ``ObjectLocked`` if retention refuses."""
        ...

    def list(self, prefix: str = "") -> Iterator[str]:
        """Keys starting with ``prefix`` (a string prefix, as in S3), in UTF-8 byte order."""
        ...

    def health(self) -> LocationHealth: ...

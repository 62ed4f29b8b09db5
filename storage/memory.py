"""``MemoryStorage``: an in-process fake that passes the same contract suite as the real backends.

For unit tests of ingest, replication and fixity code. ``corrupt`` and ``make_unreadable`` let
those tests stage the failures a real replica has (bit rot, a dead disk) without a real one.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

from storage.errors import DigestMismatch, ObjectExists, ObjectMissing, StorageError
from storage.hashing import iter_chunks
from storage.keys import normalize_sha256, validate_key, validate_prefix
from storage.protocol import FixityOutcome, FixityResult, LocationHealth, ObjectInfo, StoredObject


@dataclass
class _Entry:
    data: bytes
    sha256: str
    modified: datetime
    unreadable: bool = False


class MemoryStorage:
    parallel_puts: int | None = None  # in-process: as many puts at once as asked
    worker_safe = False  # its objects live in this process only

    def __init__(self, name: str = "memory") -> None:
        self.name = name
        self.up = True
        self._objects: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def _check_up(self, key: str, operation: str) -> None:
        if not self.up:
            raise StorageError("STO006", key, transient=True, key=key, location=self.name,
                               operation=operation, reason="location marked down")

    def _entry(self, key: str, operation: str) -> _Entry:
        validate_key(key)
        self._check_up(key, operation)
        with self._lock:
            entry = self._objects.get(key)
        if entry is None:
            raise ObjectMissing(key, self.name)
        return entry

    def deferred_sync(self) -> AbstractContextManager[None]:
        """Nothing to defer: nothing is ever on a disk."""
        return contextlib.nullcontext()

    def put(self, key: str, stream: BinaryIO, *, expected_sha256: str | None = None,
            size: int | None = None, lock: bool = True, replace: bool = False) -> StoredObject:
        validate_key(key)
        expected = normalize_sha256(expected_sha256) if expected_sha256 is not None else None
        self._check_up(key, "put")
        digest, buf = hashlib.sha256(), bytearray()
        for view in iter_chunks(stream):
            digest.update(view)
            buf += view
        actual = digest.hexdigest()
        if size is not None and len(buf) != size:
            raise StorageError("STO004", key, key=key, expected=size, actual=len(buf))
        if expected is not None and actual != expected:
            raise DigestMismatch(key, expected, actual)
        with self._lock:
            if not replace and (kept := self._existing(key, actual)) is not None:
                return kept
            self._objects[key] = _Entry(bytes(buf), actual, datetime.now(UTC))
        return StoredObject(key, len(buf), actual, self.name)

    def _existing(self, key: str, sha256: str) -> StoredObject | None:
        """Write-once (under ``_lock``): the object already at ``key`` if it holds these bytes,
        ``ObjectExists`` if other bytes (its real digest, not the one recorded), None if none."""
        entry = self._objects.get(key)
        if entry is None:
            return None
        actual = hashlib.sha256(entry.data).hexdigest()
        if entry.unreadable or actual != sha256:
            raise ObjectExists(key, self.name, "?" if entry.unreadable else actual, sha256)
        return StoredObject(key, len(entry.data), actual, self.name, created=False)

    def move(self, src: str, dst: str, *, expected_sha256: str, lock: bool = True) -> StoredObject:
        validate_key(dst)
        expected = normalize_sha256(expected_sha256)
        entry = self._entry(src, "move")
        self._check_up(dst, "move")
        if entry.sha256 != expected:
            raise DigestMismatch(dst, expected, entry.sha256)
        with self._lock:
            if (kept := self._existing(dst, expected)) is not None:
                self._objects.pop(src, None)
                return kept
            self._objects[dst] = self._objects.pop(src)
        return StoredObject(dst, len(entry.data), entry.sha256, self.name)

    def open(self, key: str, *, start: int = 0, end: int | None = None) -> BinaryIO:
        if start < 0 or (end is not None and end < start):
            raise StorageError("STO010", key, key=key, start=start, end=end)
        entry = self._entry(key, "open")
        if entry.unreadable:
            raise StorageError("STO007", key, key=key, location=self.name, operation="open",
                               reason="simulated read error")
        return io.BytesIO(entry.data[start:end])

    def stat(self, key: str) -> ObjectInfo:
        entry = self._entry(key, "stat")
        return ObjectInfo(key, len(entry.data), entry.sha256, entry.modified)

    def verify(self, key: str, sha256: str) -> FixityResult:
        expected = normalize_sha256(sha256)
        validate_key(key)
        now = datetime.now(UTC)
        try:
            entry = self._entry(key, "verify")
        except ObjectMissing:
            return FixityResult(key, self.name, FixityOutcome.MISSING, expected, None, 0, 0.0, now)
        except StorageError as exc:
            return FixityResult(key, self.name, FixityOutcome.UNREADABLE, expected, None, 0, 0.0, now,
                                exc.message("en"))
        if entry.unreadable:
            return FixityResult(key, self.name, FixityOutcome.UNREADABLE, expected, None, 0, 0.0, now,
                                "simulated read error")
        actual = hashlib.sha256(entry.data).hexdigest()
        outcome = FixityOutcome.OK if actual == expected else FixityOutcome.MISMATCH
        return FixityResult(key, self.name, outcome, expected, actual, len(entry.data), 0.0, now)

    def delete(self, key: str) -> None:
        self._entry(key, "delete")
        with self._lock:
            if self._objects.pop(key, None) is None:
                raise ObjectMissing(key, self.name)

    def list(self, prefix: str = "") -> Iterator[str]:
        validate_prefix(prefix)
        self._check_up(prefix, "list")
        with self._lock:
            keys = [k for k in self._objects if k.startswith(prefix)]
        yield from sorted(keys, key=lambda k: k.encode())

    def health(self) -> LocationHealth:
        return LocationHealth(self.name, self.up, "in memory" if self.up else "marked down")

    # -- failure staging for tests --------------------------------------------------------

    def corrupt(self, key: str) -> None:
        """Flip one bit of the stored bytes behind the interface's back (bit rot)."""
        entry = self._entry(key, "corrupt")
        data = bytearray(entry.data) or bytearray(b"\0")
        data[len(data) // 2] ^= 0x01
        entry.data = bytes(data)

    def make_unreadable(self, key: str) -> None:
        """Make reads of ``key`` fail as a dead disk sector would."""
        self._entry(key, "make_unreadable").unreadable = True

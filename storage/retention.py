"""Whether a stored object is under a retention lock, asked before anything is deleted.

A destruction must never stop half-way because the third of five copies turned out locked:
every copy is asked first (``retention_of``), and only when none is locked does deletion
start. Only S3 has locks (Object Lock retention and legal hold); a filesystem or memory
location never refuses a delete for retention.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage.protocol import Storage
from storage.s3 import S3Storage


@dataclass(frozen=True)
class Retention:
    """``until``: the Object Lock retain-until date (None: none); ``legal_hold``: an S3 legal
    hold is on (no end date: it lasts until released)."""

    until: dt.datetime | None = None
    legal_hold: bool = False

    def locked(self, now: dt.datetime) -> bool:
        return self.legal_hold or (self.until is not None and self.until > now)


def retention_of(storage: Storage, key: str) -> Retention:
    """The lock on ``key`` (its current version); ``StorageError`` when it cannot be asked,
    ``ObjectMissing`` when there is no such object."""
    if isinstance(storage, S3Storage):
        head = storage.head(key)
        until = head.get("ObjectLockRetainUntilDate")
        return Retention(until if isinstance(until, dt.datetime) else None,
                         head.get("ObjectLockLegalHoldStatus") == "ON")
    return Retention()

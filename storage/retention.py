"""Whether a stored object is under a retention lock, asked before anything is deleted.

A destruction must never stop half-way because the third of five copies turned out locked:
every copy is asked first (``retention_of``), and only when none is locked does deletion
start. Only S3 has locks (Object Lock retention and legal hold); a filesystem or memory
location never refuses a delete for retention.

In a versioned bucket every version holds the record's bytes and carries its own lock, and a
key whose current version is a delete marker still has older versions that ``list`` does not
show: ``keys_under`` and ``retention_of`` look at every version.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from preservation.issues import Text
from storage.errors import ObjectMissing
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

    def text(self, now: dt.datetime) -> Text:
        """The lock in words, for a message that refuses a deletion because of it."""
        if self.until is not None and self.until > now:
            until = self.until.isoformat()
            if self.legal_hold:
                return Text(f"khóa lưu giữ (Object Lock) đến {until} và lệnh giữ pháp lý "
                            "(legal hold)", f"Object Lock retention until {until} and a legal hold")
            return Text(f"khóa lưu giữ (Object Lock) đến {until}",
                        f"Object Lock retention until {until}")
        if self.legal_hold:
            return Text("lệnh giữ pháp lý (legal hold), đến khi được gỡ",
                        "a legal hold, until it is released")
        return Text("không bị khóa", "not locked")


def _of(head: dict[str, object]) -> Retention:
    until = head.get("ObjectLockRetainUntilDate")
    return Retention(until if isinstance(until, dt.datetime) else None,
                     head.get("ObjectLockLegalHoldStatus") == "ON")


def keys_under(storage: Storage, prefix: str) -> list[str]:
    """Every key under ``prefix`` that still has something stored: in a versioned bucket also
    the keys whose current version is a delete marker (their older versions and the markers
    are what a destruction must still remove)."""
    if isinstance(storage, S3Storage) and storage.versioned():
        return sorted({v.key for v in storage.versions(prefix)})
    return list(storage.list(prefix))


def _strongest(locks: list[Retention]) -> Retention:
    untils = [lock.until for lock in locks if lock.until is not None]
    return Retention(max(untils) if untils else None, any(lock.legal_hold for lock in locks))


def retentions_under(storage: Storage, prefix: str) -> dict[str, Retention]:
    """Every key under ``prefix`` (as ``keys_under``) with the strongest lock over its
    versions: one listing for the prefix, then one HEAD per version (a listing per key costs
    more than the HEADs on a bucket of many keys)."""
    if not isinstance(storage, S3Storage):
        return {key: Retention() for key in storage.list(prefix)}
    if not storage.versioned():
        found = {}
        for key in storage.list(prefix):
            try:
                found[key] = _of(storage.head(key))
            except ObjectMissing:  # deleted since the listing
                continue
        return found
    locks: dict[str, list[Retention]] = {}
    for version in storage.versions(prefix):
        held = locks.setdefault(version.key, [])
        if not version.delete_marker:
            held.append(_of(storage.head(version.key, version.version_id)))
    return {key: _strongest(held) for key, held in sorted(locks.items())}


def retention_of(storage: Storage, key: str) -> Retention:
    """The strongest lock over every stored version of ``key`` (the latest end date, a legal
    hold on any version); ``StorageError`` when it cannot be asked, ``ObjectMissing`` when
    the key has no version at all."""
    if not isinstance(storage, S3Storage):
        return Retention()
    if not storage.versioned():
        return _of(storage.head(key))
    found = [v for v in storage.versions(key) if v.key == key]
    if not found:
        raise ObjectMissing(key, storage.name)
    return _strongest([_of(storage.head(key, v.version_id)) for v in found
                       if not v.delete_marker])

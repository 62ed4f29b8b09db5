"""Who already holds an AIP key prefix in storage, asked before an ingest writes there.

The catalog is not the only record of what the archive holds: after a disaster (the catalog
lost, or a fresh one on the same locations) the replicas still hold every AIP. AIP keys are
write-once, so an ingest must learn before it writes whether its keys are taken, and by
whom: the AIP's ``bag-info.txt`` names its package (``External-Identifier``).

In a versioned bucket a plain listing shows current keys only: objects deleted there (a killed
attempt's, removed by hand) are hidden behind delete markers, yet their older versions still
occupy space and still hold the package's bytes. Every version is looked at there: a prefix
holding only such versions is held too (its ``bag-info.txt`` read from the newest older
version), and how many versions and bytes are not current is said (``noncurrent``), so that a
killed attempt's hidden leftovers are purged before the retry instead of lying forever under
the new package's keys.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from preservation.issues import Text
from preservation.packaging.aip import bagit
from storage.errors import ObjectLocked, ObjectMissing, StorageError
from storage.protocol import Storage
from storage.retention import retentions_under
from storage.s3 import ObjectVersion, S3Storage

log = logging.getLogger(__name__)

_BAG_INFO_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Occupancy:
    """Objects found under a prefix: where, how many (up to a few per location), and the
    package identifiers their ``bag-info.txt`` name (empty: an ingest that never finished)."""

    prefix: str
    locations: tuple[str, ...]
    identifiers: frozenset[str]
    sample: str
    # versioned buckets: versions not current and delete markers (of every key under the
    # prefix), the bytes those versions hold, and the locations holding nothing else
    noncurrent: int = 0
    noncurrent_bytes: int = 0
    hidden: tuple[str, ...] = ()


def _unreachable(storage: Storage, key: str, exc: StorageError) -> StorageError:
    """Not knowing is not "free": a location that cannot answer stops the ingest for a retry
    (the archive's fault, never the agency's)."""
    if exc.transient:
        return exc
    return StorageError("STO006", key, transient=True, key=key, location=storage.name,
                        operation="list", reason=exc.message("en"))


def occupancy(storages: Sequence[Storage], prefix: str) -> Occupancy | None:
    """Which locations hold objects under ``prefix/`` and whose they are; None if none does.

    Raises a transient ``StorageError`` when a location cannot be listed or read."""
    base = prefix.rstrip("/") + "/"
    found: list[str] = []
    hidden: list[str] = []
    identifiers: set[str] = set()
    sample = ""
    noncurrent = noncurrent_bytes = 0
    for storage in storages:
        try:
            if isinstance(storage, S3Storage) and storage.versioned():
                versions = storage.versions(base)
                first = next((v.key for v in versions if v.latest and not v.delete_marker), None)
            else:
                versions, first = [], next(iter(storage.list(base)), None)
        except StorageError as exc:
            raise _unreachable(storage, base, exc) from exc
        older = [v for v in versions if not v.latest or v.delete_marker]
        noncurrent += len(older)
        noncurrent_bytes += sum(v.size for v in older if not v.delete_marker)
        if first is None and not versions:
            continue
        found.append(storage.name)
        if first is None:
            hidden.append(storage.name)
        sample = sample or first or min(v.key for v in versions)
        text = _bag_info(storage, base, versions, current=first is not None)
        if text is not None:
            info = bagit.parse_bag_info(text)
            identifiers.update(v for v in info.values(bagit.EXTERNAL_IDENTIFIER) if v)
    if not found:
        return None
    if noncurrent:
        log.info("%s: %d versions not current (%d bytes) in a versioned location", base,
                 noncurrent, noncurrent_bytes)
    return Occupancy(prefix, tuple(found), frozenset(identifiers), sample, noncurrent,
                     noncurrent_bytes, tuple(hidden))


def _bag_info(storage: Storage, base: str, versions: Sequence[ObjectVersion], *,
              current: bool) -> str | None:
    """The prefix's ``bag-info.txt``: its current version, else (nothing current under the
    prefix) its newest older version; None when there is none."""
    key = base + bagit.BAG_INFO
    try:
        if current or not isinstance(storage, S3Storage):
            with storage.open(key, end=_BAG_INFO_LIMIT) as f:
                return f.read().decode("utf-8", "replace")
        older = [v for v in versions if v.key == key and not v.delete_marker]
        if not older:
            return None
        # the listing gives a key's versions newest first
        data = storage.read_version(key, older[0].version_id, _BAG_INFO_LIMIT)
        return data.decode("utf-8", "replace")
    except ObjectMissing:
        return None
    except StorageError as exc:
        raise _unreachable(storage, key, exc) from exc


def purge(storages: Sequence[Storage], prefix: str, now: dt.datetime | None = None) -> int:
    """Delete every object under ``prefix/`` in every location: only for the leftovers of the
    same job's attempt that was killed (its own package identifier in ``bag-info.txt``, never
    registered). A failure is raised (transient when the location is at fault).

    In a versioned bucket every version and delete marker of those keys goes, also of keys a
    listing no longer shows (``keys_under``: their current version a delete marker). Every
    version's lock in every location is asked first, as a destruction does: one locked
    version refuses the purge (STO046, transient: the job runs again later) before anything
    is deleted, rather than leaving the leftovers half removed."""
    base = prefix.rstrip("/") + "/"
    now = now or dt.datetime.now(dt.UTC)
    keys: list[tuple[Storage, list[str]]] = []
    for storage in storages:
        try:
            locks = retentions_under(storage, base)
        except ObjectMissing as exc:  # a version deleted between the listing and its HEAD
            raise StorageError("STO006", base, transient=True, key=base, location=storage.name,
                               operation="list", reason=exc.message("en")) from exc
        except StorageError as exc:
            raise _unreachable(storage, base, exc) from exc
        locked = sorted((key, lock) for key, lock in locks.items() if lock.locked(now))
        if locked:
            raise _locked(storage, base, [key for key, _ in locked], locked[0][1].text(now))
        keys.append((storage, list(locks)))
    removed = 0
    for storage, found in keys:
        for key in found:
            try:
                storage.delete(key)
                removed += 1
            except ObjectMissing:
                pass
            except ObjectLocked as exc:  # locked since it was asked: stop, say which
                raise _locked(storage, base, [key], Text(exc.message("vi"),
                                                         exc.message("en"))) from exc
    if removed:
        log.warning("removed %d objects a killed attempt left under %s", removed, base)
    return removed


def _locked(storage: Storage, base: str, keys: list[str], lock: Text) -> StorageError:
    return StorageError("STO046", keys[0], transient=True, prefix=base, location=storage.name,
                        count=len(keys), key=keys[0], lock=lock)

"""Who already holds an AIP key prefix in storage, asked before an ingest writes there.

The catalog is not the only record of what the archive holds: after a disaster (the catalog
lost, or a fresh one on the same locations) the replicas still hold every AIP. AIP keys are
write-once, so an ingest must learn before it writes whether its keys are taken, and by
whom: the AIP's ``bag-info.txt`` names its package (``External-Identifier``).
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
    identifiers: set[str] = set()
    sample = ""
    for storage in storages:
        try:
            first = next(iter(storage.list(base)), None)
        except StorageError as exc:
            raise _unreachable(storage, base, exc) from exc
        if first is None:
            continue
        found.append(storage.name)
        sample = sample or first
        try:
            with storage.open(base + bagit.BAG_INFO, end=_BAG_INFO_LIMIT) as f:
                text = f.read().decode("utf-8", "replace")
        except ObjectMissing:
            continue
        except StorageError as exc:
            raise _unreachable(storage, base + bagit.BAG_INFO, exc) from exc
        info = bagit.parse_bag_info(text)
        identifiers.update(v for v in info.values(bagit.EXTERNAL_IDENTIFIER) if v)
    if not found:
        return None
    return Occupancy(prefix, tuple(found), frozenset(identifiers), sample)


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

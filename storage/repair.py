"""Repair: restore the bad or missing objects of a copy from another copy that verifies.

No source is trusted: its bytes stream straight into ``put(expected_sha256=…, size=…)``, which
hashes while writing and leaves nothing behind on a mismatch, so a bad source costs one read and
changes nothing; the restored object is then re-read with ``verify``. Repair only writes over
objects already known to be missing or bad and never deletes anything (on S3 with Object Lock a
put adds a new version; the locked one stays). An object is "lost", and its package flagged
critical, only when every other location was read and none held it intact: a location that could
not be read leaves the repair for a later run instead.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, BinaryIO

import sqlalchemy as sa
from sqlalchemy.orm import Session

from preservation.catalog import audit as audit_log
from preservation.catalog.db import Catalog
from preservation.catalog.events import persist_events
from preservation.catalog.models import Package, StoredCopy
from preservation.catalog.vocab import CheckResult
from preservation.events import REPLICATION, Event, Outcome
from storage.checks import (
    CopyAudit,
    CopyRepair,
    ObjectRef,
    ObjectRepair,
    RepairStatus,
    check_detail,
    storage_agent,
)
from storage.errors import ObjectMissing, StorageError
from storage.protocol import FixityOutcome, Storage

log = logging.getLogger(__name__)

_SOURCE_IS_BAD = {"STO003", "STO004"}  # the bytes streamed from the source were wrong


class _SourceFailed(Exception):
    """Carries a fault of the source's stream out through the target's ``put``."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class _SourceReads:
    """The source's stream, its read faults tagged: whatever else ``put`` raises is the
    target's own (its disk full, its server down), never the source's."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream

    def read(self, n: int = -1) -> bytes:
        try:
            return self.stream.read(n)
        except (StorageError, OSError) as exc:
            raise _SourceFailed(exc) from exc

    def readinto(self, buf: Any) -> int:
        try:
            readinto = getattr(self.stream, "readinto", None)
            if readinto is None:
                data = self.stream.read(len(buf))
                buf[:len(data)] = data
                return len(data)
            return int(readinto(buf) or 0)
        except (StorageError, OSError) as exc:
            raise _SourceFailed(exc) from exc


def _target_failed(obj: ObjectRef, key: str, location: str, bad: Sequence[str],
                   exc: Exception) -> ObjectRepair:
    """The target's own fault: transient, the repair is retried next run. The sources tried
    so far are not blamed (a target failing mid-write was retried against every source and
    the object's failure read 'no readable good copy; unreachable: <each source>')."""
    detail = exc.message("en") if isinstance(exc, StorageError) else (
        getattr(exc, "strerror", None) or str(exc))
    return ObjectRepair(obj.path, key, location, RepairStatus.FAILED, tried=tuple(bad),
                        reason=f"{location} (target) could not be written: {detail}")


def restore_object(obj: ObjectRef, key: str, location: str, target: Storage,
                   sources: Sequence[tuple[str, Storage, str]]) -> ObjectRepair:
    """Try each ``(location, storage, key)`` source in turn until one streams the right bytes.
    A fault of the target itself (writing or re-reading it) ends the object's repair at once
    as FAILED naming the target: another source would meet the same disk."""
    bad: list[str] = []
    unreachable: list[str] = []
    for name, source, source_key in sources:
        try:
            opened = source.open(source_key)
        except ObjectMissing:
            bad.append(f"{name} (missing)")
            continue
        except (StorageError, OSError) as exc:  # the source's disk or server
            unreachable.append(f"{name}: {exc.message('en') if isinstance(exc, StorageError) else exc}")
            continue
        try:
            with opened as stream:
                # replace: the object there is known bad (changed, or a link in its place).
                target.put(key, _SourceReads(stream),  # type: ignore[arg-type]
                           expected_sha256=obj.sha256, size=obj.size, replace=True)
        except _SourceFailed as failed:
            if isinstance(failed.error, ObjectMissing):
                bad.append(f"{name} (missing)")
            else:  # the source's disk or server failed mid-read
                unreachable.append(f"{name}: {failed.error}")
            continue
        except StorageError as exc:
            if exc.code in _SOURCE_IS_BAD:  # the bytes the source streamed were wrong
                second = _read_again(source, source_key, obj.sha256)
                if second is None:
                    bad.append(f"{name} (mismatch)")
                else:  # the copy is intact: the read was wrong (a read fault), not the copy
                    unreachable.append(f"{name}: {second}")
                continue
            return _target_failed(obj, key, location, bad, exc)
        except OSError as exc:  # not from the source's stream: the target's put
            return _target_failed(obj, key, location, bad, exc)
        try:
            check = target.verify(key, obj.sha256)
        except (StorageError, OSError) as exc:
            return _target_failed(obj, key, location, bad, exc)
        if check.ok:
            return ObjectRepair(obj.path, key, location, RepairStatus.REPAIRED, name, check.bytes_read, tuple(bad))
        return ObjectRepair(obj.path, key, location, RepairStatus.FAILED, tried=tuple(bad),
                            reason=f"re-verification after writing: {check.outcome.value} {check.detail}")
    if unreachable:
        return ObjectRepair(obj.path, key, location, RepairStatus.FAILED, tried=tuple(bad),
                            reason="no readable good copy; unreachable: " + "; ".join(unreachable))
    return ObjectRepair(obj.path, key, location, RepairStatus.LOST, tried=tuple(bad) or ("no other copy",))


def _read_again(source: Storage, key: str, sha256: str) -> str | None:
    """After a source streamed wrong bytes: None when a second, independent read confirms its
    copy is bad (changed or missing); otherwise why the copy cannot be called bad. Without this
    one wrong read of the only good copy marked the object lost and its package critical."""
    try:
        check = source.verify(key, sha256)
    except (StorageError, OSError) as exc:
        return f"wrong bytes read, then unreadable: {exc}"
    if check.outcome in (FixityOutcome.MISMATCH, FixityOutcome.MISSING):
        return None
    if check.ok:
        return "wrong bytes read once, but the copy verifies on a second read (a read fault)"
    return f"wrong bytes read, then {check.outcome.value}: {check.detail}"


def _sources(session: Session, audit: CopyAudit,
             storages: Mapping[str, Storage]) -> list[tuple[str, Storage, str]]:
    """The package's other copies, the most recently verified first."""
    copy = audit.copy
    rows = session.execute(
        sa.select(StoredCopy.location, StoredCopy.key)
        .where(StoredCopy.package_id == copy.package_id, StoredCopy.id != copy.copy_id,
               StoredCopy.location != copy.location)
        .order_by(sa.case((StoredCopy.last_check_result == CheckResult.OK, 0), else_=1),
                  StoredCopy.last_check_at.desc(), StoredCopy.id)).all()
    return [(loc, storages[loc], key) for loc, key in rows if loc in storages]


def repair_objects(audit: CopyAudit, sources: Sequence[tuple[str, Storage, str]],
                   target: Storage) -> CopyRepair:
    """Restore every bad object of the audited copy; storage I/O only, no database."""
    expected = {o.path: o for o in audit.copy.objects}
    done = []
    for result in audit.bad:
        path = audit.path_of(result)
        # Each source key is that copy's own prefix plus the same bag-relative path.
        keyed = [(name, storage, f"{prefix}/{path}") for name, storage, prefix in sources]
        done.append(restore_object(expected[path], result.key, audit.copy.location, target, keyed))
    return CopyRepair(audit, tuple(done))


def record_repair(session: Session, repair: CopyRepair, *, actor: str) -> list[Event]:
    """Replication events, audit-log entries, the copy's new state and the critical flag;
    returns the events (mirrored next to the AIPs once committed)."""
    copy = repair.audit.copy
    events = []
    for o in repair.objects:
        outcome = Outcome.SUCCESS if o.status is RepairStatus.REPAIRED else Outcome.FAILURE
        detail = (f"from={o.source or 'none'}; to={o.location}; key={o.key}; bytes={o.bytes}; "
                  f"status={o.status}; tried={','.join(o.tried) or '-'}; actor={actor}")
        data = {"from": o.source or "none", "to": o.location, "key": o.key, "bytes": o.bytes,
                "status": o.status.value, "tried": list(o.tried)}
        events.append(Event(REPLICATION, outcome, detail, outcome_detail=o.issue(copy.objid).message("vi"),
                            object_identifier=o.path, agents=((storage_agent(), "executing program"),),
                            outcome_data=data))
    persist_events(session, events, package_id=copy.package_id, stored_copy_id=copy.copy_id)
    for o in repair.objects:
        audit_log.record(session, actor, f"fixity.repair.{o.status}", "stored_copy", copy.copy_id,
                         objid=copy.objid, path=o.path, key=o.key, source=o.source, target=o.location,
                         reason=o.reason or None)
    if repair.lost:
        package = session.get(Package, copy.package_id)
        if package is not None and not package.critical:
            package.critical = True
            audit_log.record(session, actor, "package.critical", "package", copy.objid,
                             paths=[o.path for o in repair.lost], location=copy.location)
    row = session.get(StoredCopy, copy.copy_id)
    if row is None:
        return events
    issues = [o.issue(copy.objid) for o in repair.objects]
    if not repair.unrepaired:
        row.last_check_at = dt.datetime.now(dt.UTC)
        row.last_check_result = CheckResult.NOT_CHECKED if repair.audit.unreadable else CheckResult.OK
        issues += [i for i in repair.audit.issues() if i.code == "AUD003"]
    else:
        issues = repair.audit.issues() + issues
    row.last_check_detail = check_detail(issues)
    return events


RepairRecorded = Callable[[CopyRepair, list[Event], dict[str, Any]], None]


def repair_copy(catalog: Catalog, audit: CopyAudit, storages: Mapping[str, Storage], *,
                actor: str, on_recorded: RepairRecorded | None = None) -> CopyRepair:
    """Look up the other copies (short read), restore with no transaction open, then record.
    ``on_recorded`` gets the committed repair, its events and the copy's state after them
    (``result``, ``detail``, ``checked_at``): the caller's sidecars."""
    with catalog.session() as s:
        sources = _sources(s, audit, storages)
    repair = repair_objects(audit, sources, storages[audit.copy.location])
    with catalog.session() as s:
        events = record_repair(s, repair, actor=actor)
        row = s.get(StoredCopy, audit.copy.copy_id)
        state = {} if row is None else {
            "result": row.last_check_result, "detail": row.last_check_detail,
            "checked_at": row.last_check_at}
    if on_recorded is not None:
        on_recorded(repair, events, state)
    return repair

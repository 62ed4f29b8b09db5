"""Fixity audit: re-read every object of a stored copy, record what was found, repair on request.

Reading a copy can take minutes; a transaction held open that long would block ingest on SQLite
and pin an old snapshot on PostgreSQL. So reading (``check_copy``, no database) and recording
(``record_checks``, one short write-only transaction) are separate steps, and ``run_audit`` never
holds a transaction open while it reads. "Could not read" says nothing about the bytes: it
becomes ``not_checked`` and a PREMIS event "not performed", never ``mismatch``. The types of what
a check finds are in ``storage.checks``.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from preservation.catalog import audit as audit_log
from preservation.catalog.db import Catalog
from preservation.catalog.events import EventRow, agent_id, insert_events, persist_events
from preservation.catalog.models import (
    Bitstream,
    Package,
    StoredCopy,
)
from preservation.catalog.queries import copies_in_audit_order
from preservation.catalog.vocab import CheckResult
from preservation.events import FIXITY_CHECK, Event, Outcome
from preservation.issues import Issue
from preservation.packaging.aip.layout import parse_disposal_key
from storage.checks import (
    DEFAULT_PERIOD_DAYS,
    DEFAULT_RETRY_HOURS,
    AuditReport,
    CopyAudit,
    CopyRef,
    ObjectRef,
    check_detail,
    check_period,
    check_positive,
    storage_agent,
)
from storage.disposal_state import CASE_OBJECT
from storage.history import check_disposal_states, check_history, foreign_files
from storage.protocol import FixityOutcome, FixityResult, Storage
from storage.repair import RepairRecorded, repair_copy

log = logging.getLogger(__name__)
MAX_LISTED = 200  # bad objects named in one event; the counts always cover all of them
# Results of small copies are saved together: a commit (an fsync) per 100 KB copy would cost more
# than reading it. The write transaction stays short either way; a crash loses at most these
# few seconds of results, and those copies are simply read again by the next run.
SAVE_EVERY_COPIES = 100
SAVE_EVERY_SECONDS = 2.0


# -- what the catalog says a copy holds -----------------------------------------------------

def load_copies(session: Session, copy_ids: Iterable[int]) -> list[CopyRef]:
    ids = list(copy_ids)
    rows = session.execute(
        sa.select(StoredCopy, Package.objid).join(Package, Package.id == StoredCopy.package_id)
        .where(StoredCopy.id.in_(ids))).all()
    objects: dict[int, list[ObjectRef]] = {}
    for pkg, path, sha, size in session.execute(
            sa.select(Bitstream.package_id, Bitstream.path, Bitstream.sha256, Bitstream.size)
            .where(Bitstream.package_id.in_({c.package_id for c, _ in rows})).order_by(Bitstream.path)):
        objects.setdefault(pkg, []).append(ObjectRef(path, sha, size))
    refs = {c.id: CopyRef(c.id, c.package_id, objid, c.location, c.key,
                          tuple(objects.get(c.package_id, ())), c.last_check_result) for c, objid in rows}
    return [refs[i] for i in ids if i in refs]


# -- reading --------------------------------------------------------------------------------

def check_copy(copy: CopyRef, storage: Storage, pool: Executor | None = None) -> CopyAudit:
    """Re-read every object the catalog lists for ``copy``; no database access."""
    return start_check(copy, storage, pool).result()


@dataclass(frozen=True)
class _Pending:
    """A copy whose objects are being read: futures in a pool, or results read at once."""

    copy: CopyRef
    checked_at: dt.datetime
    began: float
    futures: tuple[Future[FixityResult], ...]
    foreign: Future[tuple[str, ...]] | None = None

    def result(self) -> CopyAudit:
        results = tuple(f.result() for f in self.futures)
        foreign = self.foreign.result() if self.foreign is not None else ()
        return CopyAudit(self.copy, results, self.checked_at, time.perf_counter() - self.began,
                         foreign)


def start_check(copy: CopyRef, storage: Storage, pool: Executor | None = None) -> _Pending:
    """Queue the reads of ``copy`` on ``pool`` (or do them now): lets the next copy's reads
    overlap the recording of this one, and hashing (which releases the GIL) use a second core."""
    checked_at, began = dt.datetime.now(dt.UTC), time.perf_counter()
    keys = [(copy.object_key(o.path), o.sha256) for o in copy.objects]
    paths = [o.path for o in copy.objects]
    foreign: Future[tuple[str, ...]] | None
    if pool is None:
        futures = []
        for key, digest in keys:
            done: Future[FixityResult] = Future()
            done.set_result(storage.verify(key, digest))
            futures.append(done)
        listed: Future[tuple[str, ...]] = Future()
        listed.set_result(foreign_files(storage, copy.key, paths) if paths else ())
        foreign = listed
    else:
        futures = [pool.submit(storage.verify, key, digest) for key, digest in keys]
        foreign = pool.submit(foreign_files, storage, copy.key, paths) if paths else None
    return _Pending(copy, checked_at, began, tuple(futures), foreign)


# -- recording ------------------------------------------------------------------------------

def save_events(session: Session, events: Sequence[Event], *, package_id: int,
                stored_copy_id: int | None = None,
                agent_ids: dict[tuple[str, str], int] | None = None) -> None:
    """Insert events with their agent links in the caller's transaction."""
    persist_events(session, events, package_id=package_id, stored_copy_id=stored_copy_id,
                   agent_ids=agent_ids)


def check_data(audit: CopyAudit) -> dict[str, Any]:
    """``outcome_data`` of the event: what the registers count and list
    (``preservation.catalog.event_data``)."""
    listed = (audit.bad + audit.unreadable)[:MAX_LISTED]
    return {"objects": len(audit.copy.objects),
            **{o.value: audit.count(o) for o in FixityOutcome},
            "bytes": audit.bytes_read, "seconds": round(audit.seconds, 3),
            "location": audit.copy.location, "key": audit.copy.key,
            "listed": [[r.outcome.value, audit.path_of(r)] for r in listed]}


def check_summary(audit: CopyAudit) -> str:
    """``outcome_detail`` of the event, for a person: counts on the first line, then one line
    per bad object."""
    counts = {o.value: audit.count(o) for o in FixityOutcome}
    head = (f"objects={len(audit.copy.objects)}; " + "; ".join(f"{k}={v}" for k, v in counts.items())
            + f"; bytes={audit.bytes_read}; seconds={audit.seconds:.3f}")
    listed = [f"{r.outcome.value}: {audit.path_of(r)}" for r in (audit.bad + audit.unreadable)[:MAX_LISTED]]
    more = len(audit.bad) + len(audit.unreadable) - len(listed)
    return "\n".join([head, *listed] + ([f"… {more} more"] if more > 0 else []))


def fixity_event(audit: CopyAudit, actor: str) -> Event:
    outcome = {CheckResult.OK: Outcome.SUCCESS,
               CheckResult.NOT_CHECKED: Outcome.NOT_PERFORMED}.get(audit.result, Outcome.FAILURE)
    return Event(FIXITY_CHECK, outcome,
                 f"SHA-256 re-read of every object; location={audit.copy.location}; "
                 f"key={audit.copy.key}; actor={actor}",
                 outcome_detail=check_summary(audit), object_identifier=audit.copy.objid,
                 outcome_data=check_data(audit),
                 when=audit.checked_at, agents=((storage_agent(), "executing program"),))


def record_checks(session: Session, audits: Sequence[CopyAudit], *, actor: str,
                  agent_ids: dict[tuple[str, str], int] | None = None
                  ) -> list[tuple[CopyAudit, Event]]:
    """Store each copy's last check and write one PREMIS "fixity check" event per copy."""
    ids = [a.copy.copy_id for a in audits]
    # A copy removed while it was being read (a destroyed package) gets no record.
    alive = set(session.scalars(sa.select(StoredCopy.id).where(StoredCopy.id.in_(ids))))
    audits = [a for a in audits if a.copy.copy_id in alive]
    if not audits:
        return []
    session.execute(sa.update(StoredCopy), [
        {"id": a.copy.copy_id, "last_check_at": a.checked_at, "last_check_result": a.result,
         "last_check_detail": check_detail(a.issues())} for a in audits])
    events = [fixity_event(a, actor) for a in audits]
    insert_events(session, [EventRow(e, a.copy.package_id, a.copy.copy_id)
                            for e, a in zip(events, audits, strict=True)], agent_ids)
    return list(zip(audits, events, strict=True))


def record_check(session: Session, audit: CopyAudit, *, actor: str) -> None:
    record_checks(session, [audit], actor=actor)


def audit_copy(session: Session, copy: StoredCopy, storage: Storage, *, actor: str) -> CopyAudit:
    """Check one copy and record the result in the caller's transaction (reads storage inside it)."""
    session.flush()
    (ref,) = load_copies(session, [copy.id])
    audit = check_copy(ref, storage)
    record_check(session, audit, actor=actor)
    session.flush()
    session.refresh(copy)
    return audit


# -- a whole run ----------------------------------------------------------------------------

def _count(report: AuditReport, audit: CopyAudit) -> None:
    report.copies_checked += 1
    report.objects_checked += len(audit.results)
    report.bytes_read += audit.bytes_read
    result = audit.result
    if result is CheckResult.OK:
        report.ok += 1
    elif result is CheckResult.NOT_CHECKED:
        report.not_checked += 1
    else:
        report.bad += 1
    report.foreign_files += len(audit.foreign)
    if result is not CheckResult.OK or audit.foreign:
        report.problems.append({"objid": audit.copy.objid, "location": audit.copy.location,
                                "result": result, "issues": [i.to_dict() for i in audit.issues()[:20]]})


def _check_history(catalog: Catalog, report: AuditReport, audit: CopyAudit,
                   storages: Mapping[str, Storage], *, repair: bool, actor: str) -> None:
    """The package's ``_events`` history in this copy's location against the others'."""
    fixes = check_history(audit.copy.key, audit.copy.location, storages, repair=repair)
    if not fixes:
        return
    restored = [f for f in fixes if f.restored]
    report.history_restored += len(restored)
    report.history_unrestored += len(fixes) - len(restored)
    report.problems.append({"objid": audit.copy.objid, "location": audit.copy.location,
                            "result": "history", "issues": [f.issue().to_dict() for f in fixes[:20]]})
    with catalog.session() as s:
        for f in fixes:
            audit_log.record(s, actor, "fixity.history.restored" if f.restored
                             else "fixity.history.damaged", "stored_copy", audit.copy.copy_id,
                             objid=audit.copy.objid, key=f.key, problem=f.problem,
                             source=f.source, target=f.location, reason=f.reason or None)


def _check_disposal_states(catalog: Catalog, report: AuditReport, archive_code: str,
                           storages: Mapping[str, Storage], locations: Sequence[str], *,
                           repair: bool, actor: str) -> None:
    """The destruction cases' state files in each of ``locations`` against the others'
    (they belong to no copy: once a run)."""
    for name in locations:
        fixes = check_disposal_states(archive_code, name, storages, repair=repair)
        if not fixes:
            continue
        restored = [f for f in fixes if f.restored]
        report.disposal_states_restored += len(restored)
        report.disposal_states_unrestored += len(fixes) - len(restored)
        report.problems.append({"location": name, "result": "disposal_state",
                                "issues": [f.issue().to_dict() for f in fixes[:20]]})
        with catalog.session() as s:
            for f in fixes:
                audit_log.record(s, actor, "fixity.disposal_state.restored" if f.restored
                                 else "fixity.disposal_state.damaged", CASE_OBJECT,
                                 parse_disposal_key(f.key) or f.key, key=f.key,
                                 problem=f.problem, source=f.source, target=f.location,
                                 reason=f.reason or None)


def _location_down(storage: Storage, audit: CopyAudit) -> str | None:
    """Why the location is down, when a copy could not be read at all and health confirms it."""
    if not audit.results or len(audit.unreadable) != len(audit.results):
        return None
    health = storage.health()
    return None if health.up else (health.detail or "down")


def _unconfigured(catalog: Catalog, storages: Mapping[str, Storage],
                  location: str | None) -> list[dict[str, Any]]:
    with catalog.session() as s:
        counts = s.execute(sa.select(StoredCopy.location, sa.func.count())
                           .where(StoredCopy.location.not_in(list(storages)))
                           .group_by(StoredCopy.location).order_by(StoredCopy.location)).all()
    return [{"location": name, "issues": [Issue("AUD009", name, {"location": name, "copies": n}).to_dict()]}
            for name, n in counts if location in (None, name)]


def run_audit(catalog: Catalog, storages: Mapping[str, Storage], *, due_only: bool = True,
              location: str | None = None, repair: bool = False, batch_size: int = 500,
              limit: int | None = None, period_days: int = DEFAULT_PERIOD_DAYS,
              now: dt.datetime | None = None, progress: Callable[[str, int, int], None] | None = None,
              actor: str = "system", retry_hours: int = DEFAULT_RETRY_HOURS, workers: int = 2,
              objid: str | None = None,
              on_saved: Callable[[Sequence[tuple[CopyAudit, Event]]], None] | None = None,
              on_repaired: RepairRecorded | None = None,
              archive_code: str | None = None) -> AuditReport:
    """Audit copies oldest-checked first: overdue ones (``due_only``) or all, at most ``limit``.

    Copies are fetched ``batch_size`` ids at a time and read with no transaction open; results
    are saved in short write-only transactions (every copy that needs repair at once, others
    grouped, see ``SAVE_EVERY_COPIES``), each repair in its own. ``workers`` threads read objects, at
    most ``workers`` copies ahead of the one being recorded: enough to keep a disk or an S3
    connection busy while the catalog is written, few enough to leave room for ingest and readers.
    A location found down is skipped for the rest of the run so that its copies neither stall the
    run nor crowd out the other locations. ``objid`` keeps one package's copies (every
    version); ``on_saved`` gets each batch of checks once committed, ``on_repaired`` each
    committed repair (``storage.repair.repair_copy``): the caller's sidecars. With
    ``archive_code``, a run not limited to one package also compares the destruction cases'
    state files (``{archive}/_disposal/{case}/state-*.json``) across the locations up.
    """
    check_positive("batch_size", batch_size)
    check_positive("workers", workers)
    check_period(period_days)
    started = dt.datetime.now(dt.UTC)
    began = time.perf_counter()
    report = AuditReport(started_at=started.isoformat(), problems=_unconfigured(catalog, storages, location))
    down: dict[str, str] = {}
    critical: set[str] = set()
    agent = storage_agent()
    with catalog.session() as s:
        agents = {(agent.identifier_type, agent.identifier_value): agent_id(s, agent)}

    unsaved: list[CopyAudit] = []
    first_unsaved = 0.0

    def save() -> None:
        if unsaved:
            with catalog.session() as s:
                recorded = record_checks(s, unsaved, actor=actor, agent_ids=agents)
            unsaved.clear()
            if on_saved is not None:
                on_saved(recorded)

    def finish(pending: _Pending) -> None:
        nonlocal first_unsaved
        audit = pending.result()
        if not unsaved:
            first_unsaved = time.monotonic()
        unsaved.append(audit)
        _count(report, audit)
        name = audit.copy.location
        if name not in down and (reason := _location_down(storages[name], audit)) is not None:
            down[name] = reason
            log.warning("storage location %s is down (%s): skipping its copies", name, reason)
        if (repair and audit.bad) or len(unsaved) >= SAVE_EVERY_COPIES or \
                time.monotonic() - first_unsaved >= SAVE_EVERY_SECONDS:
            save()  # a repair's record must follow the check's
        if repair and audit.bad:
            fixed = repair_copy(catalog, audit, storages, actor=actor, on_recorded=on_repaired)
            report.repaired += len(fixed.repaired)
            report.unrepaired += len(fixed.unrepaired)
            if fixed.lost:
                critical.add(audit.copy.objid)
        if name not in down and audit.results and not audit.unreadable:
            _check_history(catalog, report, audit, storages, repair=repair, actor=actor)
        if progress:
            progress("audit", report.copies_checked, limit or 0)

    pool_cm = ThreadPoolExecutor(workers, "khoso-audit") if workers > 1 else nullcontext(None)
    with pool_cm as pool:
        ahead = workers if pool is not None else 0
        done = 0
        while limit is None or done < limit:
            size = batch_size if limit is None else min(batch_size, limit - done)
            with catalog.session() as s:
                ids = copies_in_audit_order(
                    s, now=now, due_only=due_only, period_days=period_days, limit=size,
                    location=location, locations=list(storages), exclude_locations=list(down),
                    not_checked_since=started, retry_hours=retry_hours, objid=objid)
                refs = load_copies(s, ids)
            if not refs:
                break
            inflight: deque[_Pending] = deque()
            for ref in refs:
                if ref.location in down:
                    report.skipped += 1
                    continue
                inflight.append(start_check(ref, storages[ref.location], pool))
                done += 1
                while len(inflight) > ahead:
                    finish(inflight.popleft())
            while inflight:
                finish(inflight.popleft())
            save()  # the next page is chosen by what this one recorded
    if archive_code is not None and objid is None:
        _check_disposal_states(catalog, report, archive_code, storages,
                               [n for n in storages if n not in down and location in (None, n)],
                               repair=repair, actor=actor)
    report.locations_down = down
    report.problems += [{"location": name, "issues": [
        Issue("AUD005", name, {"location": name, "reason": reason}).to_dict()]} for name, reason in down.items()]
    report.critical = sorted(critical)
    report.finished_at = dt.datetime.now(dt.UTC).isoformat()
    report.seconds = round(time.perf_counter() - began, 3)
    report.mb_per_s = round(report.bytes_read / 2**20 / report.seconds, 1) if report.seconds else 0.0
    with catalog.session() as s:
        audit_log.record(s, actor, "fixity.audit", "storage", location or "*",
                         **{k: v for k, v in report.to_dict().items() if k != "problems"})
    return report

"""Nộp lưu (transfer) of permanent hồ sơ to the historical archive (Luật Lưu trữ 2024 Điều 17,
TT 05/2025 Chương IV): register, send, follow, check the receipt, complete.

- Registration (đăng ký nộp lưu) names the fonds, the receiving archive and a planned date at
  least ``KHOSO_TRANSFER_NOTICE_MONTHS`` ahead (TRF001), with the hồ sơ named or the permanent
  (01) ones that are due selected. A hồ sơ is due ``KHOSO_TRANSFER_DUE_YEARS`` after the year it
  entered this archive (its first AIP); the Hà Nội plan's target is
  ``KHOSO_TRANSFER_TARGET_YEARS`` and ``due`` reports the share transferred within it.
- Each hồ sơ goes as a TT 05 SIP_hoso bag (``transfer_export``): to another khoso's submission
  API with an agency_submitter token there (``transfer_remote``), or as files on media with
  the mục lục hồ sơ nộp lưu beside them.
- Status per transfer and per hồ sơ: Chờ tiếp nhận → Đang xử lý → Đạt / Không đạt → Hoàn thành.
  A hồ sơ is Đạt only once the receiving side's receipt lists every content file sent with its
  SHA-256 and gives it an archival code; only when every hồ sơ is Đạt may the sender mark its
  copies transferred (TRF009 before). Nothing is deleted here: disposing of transferred copies
  is the destruction workflow's.

Every action is in the audit log (never the token); completing writes a PREMIS ``transfer``
event on each AIP, mirrored to its ``_events`` history in every location.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from access_api.services import transfer_claim
from access_api.services.base import Identity, ServiceContext, UserRole
from access_api.services.transfer_events import record_attempt
from access_api.services.transfer_export import (
    ExportedSip,
    agency_file_code,
    export_sip,
    receipt_problem,
)
from access_api.services.transfer_remote import (
    Lookup,
    NotReached,
    RemoteArchive,
    check_url,
    refused,
)
from access_api.services.uow import AppendEvents, MirrorAuditLog, UnitOfWork
from preservation.catalog import audit
from preservation.catalog.events import persist_events
from preservation.catalog.models import (
    Agency,
    ArchiveBody,
    Fonds,
    Package,
    RecordFile,
    StoredCopy,
    Transfer,
    TransferItem,
    utcnow,
)
from preservation.catalog.vocab import (
    FileState,
    PackageKind,
    PackageStatus,
    TransferAttempt,
    TransferDelivery,
    TransferStatus,
)
from preservation.errors import Conflict, Forbidden, KhosoError, NotFound, Unavailable
from preservation.events import TRANSFER, Agent, Event, Outcome, khoso_agent
from preservation.issues import Issue, Report, Text
from storage.sidecar import event_record

log = logging.getLogger(__name__)
OBJECT = "transfer"
WARN_TASK = "khoso.transfer_warnings"
DECIDERS = (UserRole.ADMIN, UserRole.ARCHIVIST)
MAX_RECORDS = 5000  # hồ sơ in one transfer
ID_FORM = re.compile(r"[0-9a-f-]{36}")
OPEN = (TransferStatus.PENDING, TransferStatus.PROCESSING, TransferStatus.PASSED,
        TransferStatus.FAILED)
LABELS = {TransferStatus.PENDING: Text("Chờ tiếp nhận", "awaiting receipt"),
          TransferStatus.PROCESSING: Text("Đang xử lý", "processing"),
          TransferStatus.PASSED: Text("Đạt", "passed"),
          TransferStatus.FAILED: Text("Không đạt", "failed"),
          TransferStatus.COMPLETED: Text("Hoàn thành", "completed")}
SEND = Text("gửi", "sent")
RECEIVE = Text("nhận biên bản", "given a receipt")
COMPLETE = Text("đánh dấu đã nộp lưu", "marked transferred")
REFRESH = Text("cập nhật từ kho nhận", "refreshed from the receiver")


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite: naive UTC


def _decider(identity: Identity) -> None:
    if not identity.has(*DECIDERS):
        raise Forbidden("AUTH004")


def _today() -> dt.date:
    return utcnow().astimezone(dt.timezone(dt.timedelta(hours=7))).date()  # Vietnam's day


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


# -- views --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemView:
    code: str
    title: str
    status: str
    objid: str | None
    remote_job: str | None
    remote_arc_file_code: str | None
    files: int
    problem: dict[str, Any] | None
    sent_at: dt.datetime | None
    decided_at: dt.datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {"arcFileCode": self.code, "title": self.title, "status": self.status,
                "status_label": LABELS[TransferStatus(self.status)].vi, "objid": self.objid,
                "remote_job": self.remote_job, "remote_arcFileCode": self.remote_arc_file_code,
                "files": self.files, "problem": self.problem, "sent_at": self.sent_at,
                "decided_at": self.decided_at}


@dataclass(frozen=True)
class TransferView:
    id: str
    fonds: str
    title: str
    receiver: str
    planned_on: dt.date
    status: str
    delivery: str | None
    remote_url: str | None
    media_dir: str | None
    registered_by: str
    registered_at: dt.datetime
    sent_at: dt.datetime | None
    completed_by: str | None
    completed_at: dt.datetime | None
    items: tuple[ItemView, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "fonds": self.fonds, "title": self.title,
                "receiver": self.receiver, "planned_on": self.planned_on.isoformat(),
                "status": self.status, "status_label": LABELS[TransferStatus(self.status)].vi,
                "delivery": self.delivery, "remote_url": self.remote_url,
                "media_dir": self.media_dir, "registered_by": self.registered_by,
                "registered_at": self.registered_at, "sent_at": self.sent_at,
                "completed_by": self.completed_by, "completed_at": self.completed_at,
                "total_records": len(self.items),
                "total_files": sum(i.files for i in self.items),
                "items": [i.to_dict() for i in self.items]}


def _item_view(i: TransferItem) -> ItemView:
    return ItemView(i.arc_file_code, i.title, i.status, i.objid, i.remote_job,
                    i.remote_arc_file_code, len(i.sent or []), i.problem, _utc(i.sent_at),
                    _utc(i.decided_at))


def _view(t: Transfer) -> TransferView:
    return TransferView(t.id, t.fonds.fond_code, t.title, t.receiver, t.planned_on, t.status,
                        t.delivery, t.remote_url, t.media_dir, t.registered_by,
                        cast(dt.datetime, _utc(t.registered_at)), _utc(t.sent_at),
                        t.completed_by, _utc(t.completed_at),
                        tuple(_item_view(i) for i in t.items))


def _load(s: Session, transfer_id: str) -> Transfer:
    found = s.get(Transfer, transfer_id) if ID_FORM.fullmatch(transfer_id) else None
    if found is None:
        raise NotFound("TRF007", id=transfer_id[:60])
    return found


def _wrong_state(t: Transfer, action: Text) -> Conflict:
    return Conflict("TRF008", id=t.id, status=LABELS[TransferStatus(t.status)], action=action)


# -- due hồ sơ, deadlines and the plan's share ---------------------------------------------------

def _year_end(year: int) -> dt.date:
    return dt.date(year, 12, 31)


def _entered(s: Session) -> Any:
    """Per hồ sơ, when it entered this archive: its first AIP's registration."""
    return (sa.select(Package.record_file_id.label("rf"),
                      sa.func.min(Package.created_at).label("entered"))
            .where(Package.kind == PackageKind.AIP, Package.record_file_id.is_not(None))
            .group_by(Package.record_file_id).subquery())


def _open_item(s: Session, record_file_id: int) -> TransferItem | None:
    return s.scalar(sa.select(TransferItem).join(Transfer).where(
        TransferItem.record_file_id == record_file_id,
        Transfer.status.in_([str(x) for x in OPEN])).limit(1))


@dataclass(frozen=True)
class DueRecord:
    code: str
    title: str
    fonds: str
    entered_on: dt.date
    deadline: dt.date  # the law's: due years after the year it entered
    target: dt.date  # the plan's
    days_left: int
    transfer: str | None  # the open transfer it is in

    def to_dict(self) -> dict[str, Any]:
        return {"arcFileCode": self.code, "title": self.title, "fonds": self.fonds,
                "entered_on": self.entered_on.isoformat(), "deadline": self.deadline.isoformat(),
                "target": self.target.isoformat(), "days_left": self.days_left,
                "transfer": self.transfer}


@dataclass(frozen=True)
class DueReport:
    on: dt.date
    records: tuple[DueRecord, ...]
    permanent: int  # permanent hồ sơ whose target date has passed, or already transferred
    within_target: int  # of them, transferred by their target date
    target_years: int

    @property
    def share(self) -> float | None:
        return round(self.within_target / self.permanent, 4) if self.permanent else None

    def to_dict(self) -> dict[str, Any]:
        return {"on": self.on.isoformat(), "records": [r.to_dict() for r in self.records],
                "plan": {"target_years": self.target_years, "goal": 0.8,
                         "permanent_due_by_target": self.permanent,
                         "transferred_within_target": self.within_target,
                         "share": self.share}}


def _dates(ctx: ServiceContext, entered: dt.datetime) -> tuple[dt.date, dt.date, dt.date]:
    day = cast(dt.datetime, _utc(entered)).date()
    return (day, _year_end(day.year + ctx.settings.transfer_due_years),
            _year_end(day.year + ctx.settings.transfer_target_years))


def due(ctx: ServiceContext, identity: Identity, *, on: dt.date | None = None,
        fonds: str | None = None, within_days: int | None = None) -> DueReport:
    """Permanent, active hồ sơ whose deadline is within ``within_days`` (default
    ``KHOSO_TRANSFER_WARN_DAYS``) of ``on`` or past, with the open transfer each is in; and
    the plan's share: of the permanent hồ sơ whose target date has passed (or that were
    transferred), how many were transferred by it."""
    _decider(identity)
    on = on or _today()
    window = ctx.settings.transfer_warn_days if within_days is None else within_days
    with ctx.catalog.session() as s:
        fonds_id = _fonds(s, ctx, fonds).id if fonds else None
        entered = _entered(s)
        query = (sa.select(RecordFile.id, RecordFile.arc_file_code, RecordFile.file_code,
                           RecordFile.title, RecordFile.state, Fonds.fond_code, entered.c.entered)
                 .join(entered, entered.c.rf == RecordFile.id)
                 .join(Fonds, Fonds.id == RecordFile.fonds_id)
                 .where(RecordFile.maintenance == "01").order_by(entered.c.entered, RecordFile.id))
        if fonds_id is not None:
            query = query.where(RecordFile.fonds_id == fonds_id)
        in_open = dict(iter(s.execute(sa.select(TransferItem.record_file_id, Transfer.id)
                                 .join(Transfer).where(Transfer.status.in_([str(x) for x in OPEN]))
                                 ).tuples()))
        done_at = dict(iter(s.execute(sa.select(TransferItem.record_file_id, Transfer.completed_at)
                                 .join(Transfer).where(Transfer.status == TransferStatus.COMPLETED)
                                 ).tuples()))
        records, permanent, within = [], 0, 0
        for rf_id, arc, file_code, title, state, fond_code, when in s.execute(query):
            entered_on, deadline, target = _dates(ctx, when)
            if state == FileState.TRANSFERRED:
                permanent += 1
                done = _utc(done_at.get(rf_id))
                if done is not None and done.date() <= target:
                    within += 1
                continue
            if state != FileState.ACTIVE:
                continue
            if target <= on:
                permanent += 1
            days = (deadline - on).days
            if days <= window:
                records.append(DueRecord(arc or file_code, title, fond_code, entered_on,
                                         deadline, target, days, in_open.get(rf_id)))
    return DueReport(on, tuple(records), permanent, within, ctx.settings.transfer_target_years)


def warnings(ctx: ServiceContext, *, on: dt.date | None = None) -> list[Issue]:
    """What the archivists must be told today: hồ sơ due within the warning window (TRF020) or
    overdue (TRF026) and in no transfer; transfers planned within it and not sent (TRF021)."""
    on = on or _today()
    found: list[Issue] = []
    for r in due(ctx, Identity.system("khoso-transfer"), on=on).records:
        if r.transfer is not None:
            continue
        if r.days_left < 0:
            found.append(Issue("TRF026", r.code, {"record": r.code, "deadline": r.deadline,
                                                  "days": -r.days_left}))
        else:
            found.append(Issue("TRF020", r.code, {"record": r.code, "deadline": r.deadline,
                                                  "days": r.days_left}))
    horizon = (on + dt.timedelta(days=ctx.settings.transfer_warn_days)
               if on < dt.date(9000, 1, 1) else dt.date.max)
    with ctx.catalog.session() as s:
        for t in s.scalars(sa.select(Transfer).where(
                Transfer.status == TransferStatus.PENDING, Transfer.planned_on <= horizon)
                .order_by(Transfer.planned_on)):
            found.append(Issue("TRF021", t.id, {"id": t.id, "title": t.title,
                                                "planned": t.planned_on,
                                                "days": (t.planned_on - on).days}))
    return found


def warnings_for(ctx: ServiceContext, identity: Identity, *,
                 on: dt.date | None = None) -> list[Issue]:
    """``warnings`` for an archivist asking."""
    _decider(identity)
    return warnings(ctx, on=on)


def scheduled_warnings(ctx: ServiceContext, *, on: dt.date | None = None) -> list[Issue]:
    """The daily job: today's warnings logged and written to the audit log (one entry)."""
    found = warnings(ctx, on=on)
    for issue in found:
        log.warning("%s", issue.message("en"))
    if found:
        with UnitOfWork(ctx) as uow:
            audit.record(uow.session, "khoso-transfer", "transfer.deadline_warning", OBJECT, None,
                         count=len(found), warnings=[
                             {"code": i.code, "path": i.path, "message": i.message("vi")}
                             for i in found[:500]])
            uow.register(MirrorAuditLog())
    return found


# -- registration -------------------------------------------------------------------------------

def _fonds(s: Session, ctx: ServiceContext, code: str) -> Fonds:
    found = s.scalar(sa.select(Fonds).join(ArchiveBody).where(
        Fonds.fond_code == code, ArchiveBody.code == ctx.settings.archive_code))
    if found is None:
        found = s.scalar(sa.select(Fonds).where(Fonds.fond_code == code).limit(1))
    if found is None:
        raise NotFound("TRF023", fonds=code[:40])
    return found


def _selected(s: Session, ctx: ServiceContext, fonds: Fonds, records: Sequence[str] | None,
              planned_on: dt.date) -> list[RecordFile]:
    report = Report()
    chosen: list[RecordFile] = []
    if records:
        seen: set[str] = set()
        for code in records:
            if code in seen:
                continue
            seen.add(code)
            rf = s.scalar(sa.select(RecordFile).where(
                RecordFile.fonds_id == fonds.id,
                sa.or_(RecordFile.arc_file_code == code, RecordFile.file_code == code)))
            if rf is None:
                report.add("TRF002", code, record=code[:100], fonds=fonds.fond_code)
                continue
            if rf.maintenance != "01":
                report.add("TRF003", code, record=code, maintenance=rf.maintenance)
            elif rf.state != FileState.ACTIVE:
                report.add("TRF004", code, record=code, state=rf.state)
            elif (item := _open_item(s, rf.id)) is not None:
                report.add("TRF005", code, record=code, transfer=item.transfer_id)
            else:
                chosen.append(rf)
    else:  # the permanent, active hồ sơ whose plan target falls by the planned date
        entered = _entered(s)
        for rf, when in s.execute(
                sa.select(RecordFile, entered.c.entered).join(entered, entered.c.rf == RecordFile.id)
                .where(RecordFile.fonds_id == fonds.id, RecordFile.maintenance == "01",
                       RecordFile.state == FileState.ACTIVE).order_by(RecordFile.id)):
            if _dates(ctx, when)[2] <= planned_on and _open_item(s, rf.id) is None:
                chosen.append(rf)
        if not chosen:
            report.add("TRF006", "records", planned=planned_on)
    if report.errors:
        raise refused(*report.errors)
    return chosen


def register(ctx: ServiceContext, identity: Identity, *, fonds: str, title: str, receiver: str,
             planned_on: dt.date, records: Sequence[str] | None = None,
             today: dt.date | None = None) -> TransferView:
    """Đăng ký nộp lưu: the transfer and its hồ sơ, all Chờ tiếp nhận."""
    _decider(identity)
    months = ctx.settings.transfer_notice_months
    earliest = add_months(today or _today(), months)
    if planned_on < earliest:
        raise refused(Issue("TRF001", "planned_on", {
            "planned": planned_on, "months": months, "earliest": earliest}))
    if records is not None and len(records) > MAX_RECORDS:
        raise refused(Issue("TRF029", "records", {"count": len(records), "max": MAX_RECORDS}))
    with UnitOfWork(ctx) as uow:
        s = uow.session
        found = _fonds(s, ctx, fonds)
        chosen = _selected(s, ctx, found, records, planned_on)
        t = Transfer(fonds=found, title=title, receiver=receiver, planned_on=planned_on,
                     status=TransferStatus.PENDING.value, registered_by=identity.actor)
        s.add(t)
        for rf in chosen:
            t.items.append(TransferItem(record_file_id=rf.id,
                                        arc_file_code=rf.arc_file_code or rf.file_code,
                                        title=rf.title, status=TransferStatus.PENDING.value))
        s.flush()
        audit.record(s, identity.actor, "transfer.register", OBJECT, t.id,
                     fonds=found.fond_code, receiver=receiver, planned_on=planned_on,
                     records=[i.arc_file_code for i in t.items])
        uow.register(MirrorAuditLog())
        return _view(t)


def show(ctx: ServiceContext, identity: Identity, transfer_id: str) -> TransferView:
    _decider(identity)
    with ctx.catalog.session() as s:
        return _view(_load(s, transfer_id))


def page(ctx: ServiceContext, identity: Identity, *, status: TransferStatus | None = None,
         page: int = 1, size: int = 50) -> tuple[list[TransferView], int]:
    _decider(identity)
    where = [Transfer.status == status.value] if status else []
    with ctx.catalog.session() as s:
        total = s.scalar(sa.select(sa.func.count(Transfer.id)).where(*where)) or 0
        rows = s.scalars(sa.select(Transfer).where(*where).order_by(
            Transfer.registered_at.desc(), Transfer.id).offset((page - 1) * size).limit(size))
        return [_view(t) for t in rows], total


# -- sending --------------------------------------------------------------------------------------

def _workdir(ctx: ServiceContext, transfer_id: str) -> Path:
    return ctx.settings.data_dir / "transfers" / transfer_id


def _to_send(t: Transfer) -> list[TransferItem]:
    """Hồ sơ not yet sent, or refused (a retry sends them again)."""
    return [i for i in t.items if i.status in (TransferStatus.PENDING, TransferStatus.FAILED)]


def _sendable(s: Session, transfer_id: str, action: Text) -> Transfer:
    t = _load(s, transfer_id)
    if t.status not in (TransferStatus.PENDING, TransferStatus.PROCESSING,
                        TransferStatus.FAILED) or not _to_send(t):
        raise _wrong_state(t, action)
    return t


def _item_sent(s: Session, item_id: int, built: ExportedSip, *, job: str | None,
               objid: str | None = None) -> None:
    item = s.get_one(TransferItem, item_id)
    item.objid, item.sent = objid or built.objid, [f.to_dict() for f in built.files]
    item.remote_job, item.receipt, item.remote_arc_file_code = job, None, None
    item.problem, item.status = None, TransferStatus.PROCESSING.value
    item.sent_at, item.decided_at, item.send_started_at = utcnow(), None, None
    item.send_key = None


def _roll_up(t: Transfer) -> None:
    """The transfer's status from its hồ sơ': processing while any is pending or processing,
    else passed when all passed, failed when any failed."""
    states = {TransferStatus(i.status) for i in t.items}
    if states & {TransferStatus.PENDING, TransferStatus.PROCESSING}:
        t.status = (TransferStatus.PROCESSING if t.sent_at is not None
                    else TransferStatus.PENDING).value
    elif TransferStatus.FAILED in states:
        t.status = TransferStatus.FAILED.value
    elif states == {TransferStatus.PASSED}:
        t.status = TransferStatus.PASSED.value


def _interrupted(s: Session, items: list[TransferItem]) -> None:
    """Hồ sơ whose send started but whose job there was never recorded (the sender was killed
    in between): TRF031 on each, and they are not posted again unless asked."""
    for item in items:
        since = _utc(item.send_started_at)
        item.problem = Issue("TRF031", item.arc_file_code, {
            "record": item.arc_file_code,
            "since": since.isoformat(timespec="seconds") if since else "?"}).to_dict()


def _begin_item(ctx: ServiceContext, transfer_id: str, item_id: int, claim: str,
                key: str) -> None:
    """Committed before the bag is posted: a send killed after the receiver took it leaves
    this mark and the bag's idempotency key, and the next send asks the receiver for that key
    (or, if it cannot be asked, does not post the hồ sơ again unasked: TRF031)."""
    transfer_claim.renew(ctx, transfer_id, claim)
    with ctx.catalog.session() as s:
        item = s.get_one(TransferItem, item_id)
        item.send_started_at, item.send_key = utcnow(), key


def _not_begun(ctx: ServiceContext, item_id: int,
               refused: tuple[Identity, str, KhosoError] | None = None) -> None:
    """The receiver refused the bag (4xx: ``refused``, a PREMIS event), or could not be reached
    at all: not taken there."""
    with UnitOfWork(ctx) as uow:
        item = uow.session.get_one(TransferItem, item_id)
        item.send_started_at = item.send_key = None
        if refused is not None:
            identity, url, exc = refused
            record_attempt(uow, identity, item_id, TransferAttempt.REFUSED,
                           outcome=Outcome.FAILURE, url=url, code=exc.code,
                           note=exc.message("en"))


def _unheard(ctx: ServiceContext, identity: Identity, url: str, item_id: int, code: str,
             exc: KhosoError) -> None:
    """A timeout, a reset or a 5xx after the bag went out: the receiver may hold it. The
    outcome is recorded as unknown (TRF032) with the mark and the key kept, for the next send
    to ask the receiver before posting it again."""
    with UnitOfWork(ctx) as uow:
        item = uow.session.get_one(TransferItem, item_id)
        item.problem = Issue("TRF032", code, {"record": code, "cause": exc.code}).to_dict()
        record_attempt(uow, identity, item_id, TransferAttempt.UNKNOWN, outcome=Outcome.WARNING,
                       url=url, code="TRF032", note=f"cause {exc.code}")


def _ask(remote: RemoteArchive, unknown: list[tuple[int, str | None]]) -> dict[int, Lookup]:
    """The receiver's answer for each hồ sơ whose last send was not heard, by its key."""
    return {item_id: remote.lookup(key) for item_id, key in unknown if key}


def send(ctx: ServiceContext, identity: Identity, transfer_id: str, *, remote_url: str,
         token: str, resend_interrupted: bool = False) -> TransferView:
    """Build and send each hồ sơ not yet sent (or refused) to the receiving khoso, one at a
    time, each recorded as sent with its job there as soon as the receiver took it. A remote
    failure stops the run with its code after recording what was sent: sending again sends the
    rest. One run at a time (``transfer_claim``: a second gets TRF030); a hồ sơ a killed run
    had begun posting is held back with TRF031 unless ``resend_interrupted``. The token is used
    for these calls only."""
    _decider(identity)
    url = check_url(remote_url)
    with ctx.catalog.session() as s:
        t = _sendable(s, transfer_id, SEND)
        if t.delivery == TransferDelivery.MEDIA:
            raise _wrong_state(t, SEND)
    claim = transfer_claim.take(ctx, transfer_id)
    work = _workdir(ctx, transfer_id)
    sent: list[str] = []
    unheard: str | None = None
    try:
        with ctx.catalog.session() as s:
            t = _sendable(s, transfer_id, SEND)  # again, under the claim
            unknown = [(i.id, i.send_key) for i in _to_send(t) if i.send_started_at]
            organ = _organ(s, t)
        remote = RemoteArchive(url, token, organ, float(ctx.settings.transfer_remote_timeout))
        asked = _ask(remote, unknown)  # before anything is posted again
        with ctx.catalog.session() as s:
            t = _sendable(s, transfer_id, SEND)
            items = _to_send(t)
            held = [] if resend_interrupted else [
                i for i in items if i.send_started_at and not (
                    i.id in asked and asked[i.id].answered)]
            todo = [(i.id, i.record_file_id, i.arc_file_code,
                     i.send_key if i.send_started_at else None) for i in items if i not in held]
            _interrupted(s, held)
        if not todo:
            first = held[0]
            raise Conflict("TRF031", record=first.arc_file_code,
                           since=(_utc(first.send_started_at) or utcnow()).isoformat(
                               timespec="seconds"))
        for item_id, rf_id, code, earlier in todo:
            built = export_sip(ctx, identity, rf_id, work / f"build-{item_id}",
                               work / f"{item_id}.zip")
            # the bag's key: the SIP's OBJID, kept from the unheard send it may repeat
            key = earlier or built.objid
            found = asked[item_id].job if item_id in asked else None
            _begin_item(ctx, transfer_id, item_id, claim, key)
            try:
                job = found or remote.submit(built.zip_path, code, key)
            except NotReached:
                _not_begun(ctx, item_id)
                raise
            except Unavailable as exc:  # a timeout, a reset, a 5xx: it may be there
                _unheard(ctx, identity, url, item_id, code, exc)
                unheard = code
                raise
            except KhosoError as exc:
                _not_begun(ctx, item_id, (identity, url, exc))
                raise
            finally:
                built.zip_path.unlink(missing_ok=True)
            with UnitOfWork(ctx) as uow:
                _item_sent(uow.session, item_id, built, job=job, objid=key)
                record_attempt(uow, identity, item_id, TransferAttempt.SENT,
                               outcome=Outcome.SUCCESS, url=url, job=job,
                               note="found at the receiver, sent by an attempt not heard"
                               if found else "")
                t = uow.session.get_one(Transfer, transfer_id)
                t.delivery, t.remote_url = TransferDelivery.REMOTE.value, url
                t.sent_at = t.sent_at or utcnow()
                _roll_up(t)
                audit.record(uow.session, identity.actor, "transfer.send", OBJECT, transfer_id,
                             record=code, objid=key, remote_url=url, remote_job=job,
                             files=len(built.files), idempotency_key=key,
                             # found there: the bag it holds is the earlier send's, unheard
                             sha256=None if found else built.sha256,
                             found_at_receiver=found is not None)
                uow.register(MirrorAuditLog())
            sent.append(code)
    except KhosoError as exc:
        if exc.code != "TRF030":
            _failed_attempt(ctx, identity, transfer_id, exc, sent, url, unheard)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
        transfer_claim.release(ctx, transfer_id, claim)
    return show(ctx, identity, transfer_id)


def _organ(s: Session, t: Transfer) -> str:
    """The agency the hồ sơ are the records of (the fonds', else the one that submitted the
    first hồ sơ's AIP): the agency the receiver's token must be bound to."""
    if t.fonds.agency is not None:
        return t.fonds.agency.organ_id
    found = s.scalar(sa.select(Agency.organ_id).join(Package, Package.agency_id == Agency.id)
                     .join(TransferItem, TransferItem.record_file_id == Package.record_file_id)
                     .where(TransferItem.transfer_id == t.id).limit(1))
    return found or "-"


def _failed_attempt(ctx: ServiceContext, identity: Identity, transfer_id: str, exc: KhosoError,
                    sent: list[str], where: str, unheard: str | None = None) -> None:
    """An attempt that stopped: in the audit log with its code (the token is in no message),
    and the hồ sơ whose outcome is unknown (TRF032), if the receiver may hold it."""
    extra = {"outcome_unknown": unheard} if unheard else {}
    with UnitOfWork(ctx) as uow:
        audit.record(uow.session, identity.actor, "transfer.send_failed", OBJECT, transfer_id,
                     code=exc.code, message=exc.message("vi"), sent=sent, target=where, **extra)
        uow.register(MirrorAuditLog())


# -- following the receiver ----------------------------------------------------------------------

ACCEPTED, REJECTED = "accepted", ("rejected", "failed")


def _decide(s: Session, item: TransferItem, receipt: Any, file_code: str) -> None:
    """Đạt when the receipt vouches for what was sent, Không đạt (TRF015) otherwise."""
    problem = receipt_problem(receipt, list(item.sent or []), file_code)
    item.decided_at = utcnow()
    if problem is None:
        item.status, item.problem = TransferStatus.PASSED.value, None
        item.receipt = receipt
        item.remote_arc_file_code = str(receipt["arcFileCode"])[:100]
    else:
        item.status = TransferStatus.FAILED.value
        item.receipt = receipt if isinstance(receipt, dict) else None
        item.problem = Issue("TRF015", item.arc_file_code, {
            "record": item.arc_file_code, "mismatch": problem}).to_dict()


def refresh(ctx: ServiceContext, identity: Identity, transfer_id: str, *,
            token: str) -> TransferView:
    """Ask the receiving khoso about each hồ sơ being processed: accepted ones get their
    receipt checked (Đạt or Không đạt), rejected ones are Không đạt with the receiver's issue
    codes, others stay Đang xử lý."""
    _decider(identity)
    with ctx.catalog.session() as s:
        t = _load(s, transfer_id)
        waiting = [(i.id, i.remote_job, i.arc_file_code) for i in t.items
                   if i.status == TransferStatus.PROCESSING and i.remote_job]
        if t.delivery != TransferDelivery.REMOTE or not t.remote_url or not waiting:
            raise _wrong_state(t, REFRESH)
        organ = _organ(s, t)
        url = t.remote_url
    remote = RemoteArchive(url, token, organ, float(ctx.settings.transfer_remote_timeout))
    archive = ctx.settings.archive_code
    claim = transfer_claim.take(ctx, transfer_id)
    try:
        for item_id, job_id, code in waiting:
            assert job_id is not None
            job = remote.job(job_id)
            state = str(job["state"])
            receipt = remote.receipt(job_id) if state == ACCEPTED else None
            with UnitOfWork(ctx) as uow:
                item = uow.session.get_one(TransferItem, item_id)
                if state == ACCEPTED:
                    _decide(uow.session, item, receipt, agency_file_code(code, archive))
                    passed = item.status == TransferStatus.PASSED
                    record_attempt(uow, identity, item_id, TransferAttempt.ACCEPTED,
                                   outcome=Outcome.SUCCESS if passed else Outcome.FAILURE,
                                   url=url, job=job_id, code=None if passed else "TRF015",
                                   note="" if passed else "the receipt does not match what "
                                   "was sent")
                elif state in REJECTED:
                    found = job.get("issues")
                    issues: list[Any] = found if isinstance(found, list) else []
                    codes = sorted({str(i.get("code"))[:20] for i in issues
                                    if isinstance(i, dict)})
                    item.status, item.decided_at = TransferStatus.FAILED.value, utcnow()
                    item.problem = Issue("TRF016", code, {
                        "record": code, "job": job_id, "state": state[:20],
                        "issues": ", ".join(codes[:20]) or "-"}).to_dict()
                    record_attempt(uow, identity, item_id, TransferAttempt.REFUSED,
                                   outcome=Outcome.FAILURE, url=url, job=job_id, code="TRF016",
                                   note=f"{state[:20]}: " + (", ".join(codes[:20]) or "-"))
                else:
                    continue
                t = uow.session.get_one(Transfer, transfer_id)
                _roll_up(t)
                audit.record(uow.session, identity.actor, "transfer.receipt", OBJECT,
                             transfer_id, record=code, remote_job=job_id, state=state[:20],
                             status=item.status,
                             problem=item.problem.get("code") if item.problem else None)
                uow.register(MirrorAuditLog())
    except KhosoError as exc:
        _failed_attempt(ctx, identity, transfer_id, exc, [], url)
        raise
    finally:
        transfer_claim.release(ctx, transfer_id, claim)
    return show(ctx, identity, transfer_id)


# -- media -----------------------------------------------------------------------------------------

LIST_NAME = "muc-luc-ho-so-nop-luu.json"


def _media_folder(ctx: ServiceContext, transfer_id: str) -> Path:
    """``{data}/transfers/media/{id}/{n}``: a new folder for each export of the transfer."""
    base = ctx.settings.data_dir / "transfers" / "media" / transfer_id
    n = 1
    while (base / str(n)).exists():
        n += 1
    return base / str(n)


def export_media(ctx: ServiceContext, identity: Identity, transfer_id: str, *,
                 folder: Path | None = None) -> TransferView:
    """Write each hồ sơ to send as ``{n}-{OBJID}.zip`` in ``folder`` (default
    ``{data}/transfers/media/{id}/{n}``; one given must be empty or absent) with the mục lục hồ sơ nộp
    lưu (JSON: each hồ sơ's code, title, OBJID, bag file and content files with SHA-256). The
    receiving side's receipts come back through ``record_receipt``."""
    _decider(identity)
    with ctx.catalog.session() as s:
        t = _sendable(s, transfer_id, SEND)
        if t.delivery == TransferDelivery.REMOTE:
            raise _wrong_state(t, SEND)
        todo = [(i.id, i.record_file_id, i.arc_file_code, i.title) for i in _to_send(t)]
        view = _view(t)
    target = folder or _media_folder(ctx, transfer_id)
    try:
        target.mkdir(parents=True, exist_ok=True)
        if any(target.iterdir()):
            raise OSError("the folder is not empty")
    except OSError as exc:
        raise Conflict("TRF024", folder=str(target), reason=exc.strerror or str(exc)) from None
    work = _workdir(ctx, transfer_id)
    built: list[tuple[int, ExportedSip, str, str]] = []
    try:
        for n, (item_id, rf_id, code, title) in enumerate(todo, 1):
            sip = export_sip(ctx, identity, rf_id, work / f"build-{item_id}",
                             work / f"{n:04d}-{item_id}.zip")
            built.append((item_id, sip, code, title))
        entries = []
        for n, (_item_id, sip, code, title) in enumerate(built, 1):
            name = f"{n:04d}-{sip.objid}.zip"
            shutil.move(str(sip.zip_path), target / name)
            entries.append({"stt": n, "arcFileCode": code, "fileCode": sip.file_code,
                            "title": title, "objid": sip.objid, "bag": name, "size": sip.size,
                            "sha256": sip.sha256, "files": [f.to_dict() for f in sip.files]})
        listing = {"transfer": transfer_id, "fonds": view.fonds, "title": view.title,
                   "receiver": view.receiver, "records": entries}
        (target / LIST_NAME).write_text(json.dumps(listing, ensure_ascii=False, indent=1),
                                        encoding="utf-8")
    except OSError as exc:
        shutil.rmtree(target, ignore_errors=True)
        raise Conflict("TRF024", folder=str(target), reason=exc.strerror or str(exc)) from None
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    with UnitOfWork(ctx) as uow:
        for item_id, sip, _code, _title in built:
            _item_sent(uow.session, item_id, sip, job=None)
        t = uow.session.get_one(Transfer, transfer_id)
        t.delivery, t.media_dir = TransferDelivery.MEDIA.value, str(target)
        t.sent_at = t.sent_at or utcnow()
        _roll_up(t)
        audit.record(uow.session, identity.actor, "transfer.export", OBJECT, transfer_id,
                     folder=str(target), records=[c for _i, _s, c, _t in built])
        uow.register(MirrorAuditLog())
    return show(ctx, identity, transfer_id)


def record_receipt(ctx: ServiceContext, identity: Identity, transfer_id: str,
                   receipt: Any) -> TransferView:
    """The receiving side's receipt (its ``GET /jobs/{id}/receipt`` document) of one bag
    delivered on media, matched to the hồ sơ by its archival code there (the receiver's code
    followed by the hồ sơ's fileCode) and checked against what was sent: Đạt or Không đạt."""
    _decider(identity)
    if not isinstance(receipt, dict) or not isinstance(receipt.get("arcFileCode"), str):
        raise refused(Issue("TRF027", "receipt", {
            "reason": "expected a JSON object with arcFileCode"}))
    arc = str(receipt["arcFileCode"])
    archive = ctx.settings.archive_code
    with UnitOfWork(ctx) as uow:
        t = _load(uow.session, transfer_id)
        if t.delivery != TransferDelivery.MEDIA or t.status not in (
                TransferStatus.PROCESSING, TransferStatus.FAILED, TransferStatus.PASSED):
            raise _wrong_state(t, RECEIVE)
        # a receipt may also correct one typed wrong (Không đạt by TRF015)
        item = next((i for i in t.items
                     if i.status in (TransferStatus.PROCESSING, TransferStatus.FAILED) and i.sent
                     and arc.endswith("." + agency_file_code(i.arc_file_code, archive))), None)
        if item is None:
            raise NotFound("TRF022", record=arc[:100], id=t.id)
        _decide(uow.session, item, receipt, agency_file_code(item.arc_file_code, archive))
        _roll_up(t)
        audit.record(uow.session, identity.actor, "transfer.receipt", OBJECT, transfer_id,
                     record=item.arc_file_code, status=item.status,
                     problem=item.problem.get("code") if item.problem else None)
        uow.register(MirrorAuditLog())
        return _view(t)


# -- completion -------------------------------------------------------------------------------------

def _iso(value: dt.datetime | dt.date | None) -> str | None:
    if isinstance(value, dt.datetime):
        return cast(dt.datetime, _utc(value)).isoformat()
    return value.isoformat() if value is not None else None


def _history(t: Transfer, item: TransferItem, actor: str, now: dt.datetime) -> dict[str, Any]:
    """The transfer and this hồ sơ's item as the catalog holds them once completed, carried by
    the ``transfer`` event into storage (``_events``) so that a catalog rebuilt from storage
    has them back (``storage.rebuild_history``). The receipt is kept without its file list:
    it matched ``sent``, which is kept."""
    receipt = {k: v for k, v in (item.receipt or {}).items() if k != "files"}
    return {
        "record": {"fonds": t.fonds.fond_code, "title": t.title, "receiver": t.receiver,
                   "planned_on": _iso(t.planned_on), "delivery": t.delivery,
                   "remote_url": t.remote_url, "media_dir": t.media_dir,
                   "registered_by": t.registered_by, "registered_at": _iso(t.registered_at),
                   "sent_at": _iso(t.sent_at), "completed_by": actor, "completed_at": _iso(now)},
        "item": {"arc_file_code": item.arc_file_code, "title": item.title, "objid": item.objid,
                 "sent": item.sent, "remote_job": item.remote_job,
                 "receipt": receipt if item.receipt is not None else None,
                 "remote_arc_file_code": item.remote_arc_file_code,
                 "sent_at": _iso(item.sent_at), "decided_at": _iso(item.decided_at)},
    }


def complete(ctx: ServiceContext, identity: Identity, transfer_id: str) -> TransferView:
    """Mark this archive's copies of every hồ sơ transferred (FileState.TRANSFERRED) once each
    has a receipt matching what was sent: a PREMIS ``transfer`` event on its AIP and the audit
    log. TRF009 naming the first hồ sơ without one; nothing is deleted."""
    _decider(identity)
    with UnitOfWork(ctx) as uow:
        s = uow.session
        t = _load(s, transfer_id)
        if t.status == TransferStatus.COMPLETED:
            raise _wrong_state(t, COMPLETE)
        for item in t.items:
            if item.status != TransferStatus.PASSED:
                raise Conflict("TRF009", record=item.arc_file_code,
                               status=LABELS[TransferStatus(item.status)])
        now = utcnow()
        agents = ((khoso_agent(), "executing program"),
                  (Agent(identity.actor, identity.actor, agent_type="person"), "implementer"))
        for item in t.items:
            rf = s.get_one(RecordFile, item.record_file_id)
            rf.state = FileState.TRANSFERRED.value
            item.status = TransferStatus.COMPLETED.value
            aip = s.scalar(sa.select(Package).where(
                Package.record_file_id == rf.id, Package.kind == PackageKind.AIP,
                Package.status == PackageStatus.ACTIVE).order_by(Package.version.desc()).limit(1))
            if aip is None:
                continue
            event = Event(TRANSFER, Outcome.SUCCESS,
                          f"Nộp lưu vào {t.receiver} (lần nộp lưu {t.id}); mã tại kho nhận "
                          f"{item.remote_arc_file_code}; gói SIP {item.objid}",
                          outcome_detail=f"receipt job {item.remote_job or '-'}",
                          object_identifier=aip.objid, agents=agents,
                          outcome_data={"transfer": t.id, "receiver": t.receiver,
                                        "remote_arcFileCode": item.remote_arc_file_code,
                                        "sip_objid": item.objid,
                                        **_history(t, item, identity.actor, now)})
            persist_events(s, [event], package_id=aip.id)
            prefix = s.scalar(sa.select(StoredCopy.key).where(StoredCopy.package_id == aip.id)
                              .order_by(StoredCopy.id).limit(1))
            if prefix:
                uow.register(AppendEvents(prefix, [event_record(event, objid=aip.objid)]))
            audit.record(s, identity.actor, "record_file.transferred", "record_file",
                         item.arc_file_code, transfer=t.id,
                         remote_arcFileCode=item.remote_arc_file_code)
        t.status, t.completed_at, t.completed_by = (TransferStatus.COMPLETED.value, now,
                                                    identity.actor)
        audit.record(s, identity.actor, "transfer.complete", OBJECT, t.id,
                     records=[i.arc_file_code for i in t.items])
        uow.register(MirrorAuditLog())
        return _view(t)


# -- the hand-over record (biên bản giao nhận, NĐ 30/2020 Phụ lục V) -----------------------------

@dataclass(frozen=True)
class Handover:
    transfer: TransferView
    period: str  # thời gian của hồ sơ, tài liệu
    condition: str  # tình trạng tài liệu giao nộp
    sender: str
    receiver: str

    def to_dict(self, rows: Iterator[Sequence[Any]]) -> dict[str, Any]:
        return {"transfer": self.transfer.id, "ten_khoi_tai_lieu": self.transfer.title,
                "thoi_gian": self.period, "tong_so_ho_so": len(self.transfer.items),
                "tong_so_tep": sum(i.files for i in self.transfer.items),
                "tinh_trang": self.condition, "ben_giao": self.sender,
                "ben_nhan": self.receiver, "muc_luc": [list(r) for r in rows]}


def find_transfer(ctx: ServiceContext, key: str) -> str:
    """A transfer by its id, or the latest one holding the hồ sơ ``key``."""
    with ctx.catalog.session() as s:
        if ID_FORM.fullmatch(key) and s.get(Transfer, key) is not None:
            return key
        found = s.scalar(sa.select(TransferItem.transfer_id).join(Transfer).where(
            TransferItem.arc_file_code == key).order_by(Transfer.registered_at.desc()).limit(1))
    if found is None:
        raise NotFound("TRF007", id=key[:60])
    return found


def handover(ctx: ServiceContext, identity: Identity, transfer_id: str) -> Handover:
    """The facts of the biên bản giao nhận (NĐ 30/2020 Phụ lục V) of one transfer."""
    _decider(identity)
    with ctx.catalog.session() as s:
        t = _load(s, transfer_id)
        view = _view(t)
        years = [(i.record_file.start_date[:4], i.record_file.end_date[:4]) for i in t.items]
    period = f"{min(a for a, _ in years)}–{max(b for _, b in years)}" if years else "-"
    passed = sum(1 for i in view.items if i.status in (TransferStatus.PASSED,
                                                        TransferStatus.COMPLETED))
    condition = (f"{passed}/{len(view.items)} hồ sơ đã được bên nhận xác nhận đủ tệp, đúng mã "
                 f"băm SHA-256")
    return Handover(view, period, condition, ctx.settings.archive_name, view.receiver)


def handover_rows(ctx: ServiceContext, transfer_id: str) -> Iterator[Sequence[Any]]:
    """The mục lục hồ sơ nộp lưu attached to the biên bản, one hồ sơ a row, streamed."""
    with ctx.catalog.session() as s:
        query = (sa.select(TransferItem, RecordFile)
                 .join(RecordFile, RecordFile.id == TransferItem.record_file_id)
                 .where(TransferItem.transfer_id == transfer_id).order_by(TransferItem.id)
                 .execution_options(yield_per=500))
        for n, (item, rf) in enumerate(s.execute(query), 1):
            yield (n, item.arc_file_code, item.remote_arc_file_code or "", item.title,
                   f"{rf.start_date} – {rf.end_date}", rf.total_doc, len(item.sent or []),
                   LABELS[TransferStatus(item.status)].vi)

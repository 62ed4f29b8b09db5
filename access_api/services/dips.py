"""DIPs (gói thông tin khai thác, TT 05 Phụ lục V) for readers: queued by a request, built by a
worker, downloaded by their owner until they expire, then removed.

A DIP is made for an approved, unexpired access request (its requester or staff ask for it)
or for public (mode 01) documents. The worker reads each content file of the AIP's current
version from storage and believes it only if it hashes to the SHA-256 the catalog recorded:
a copy that does not is flagged for repair (its last check becomes a mismatch, with a PREMIS
fixity check event, so the next audit restores it) and the next location is read; when no
location has a good copy the job fails with DIP008, the archive's fault. Every DIP asked for,
built and downloaded is in the access register.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from access_api.services import dip_scope
from access_api.services.access_requests import (
    ID_FORM,
    find_documents,
    is_decider,
)
from access_api.services.base import Identity, ServiceContext
from access_api.services.catalog import bitstream_file
from access_api.services.delivery import (
    Source,
    StoredFile,
    flag_bad_copy,
    in_read_order,
    read_copy,
)
from access_api.services.policy import is_staff, may_read
from ingest.errors import reason as os_reason
from preservation import __version__
from preservation.catalog import access_register
from preservation.catalog.models import (
    AccessRequest,
    Bitstream,
    Dip,
    Document,
    Job,
    Package,
    RecordFile,
    utcnow,
)
from preservation.catalog.records import EAD_KIND, document_ead
from preservation.catalog.vocab import (
    AccessAction,
    AccessRequestStatus,
    DipState,
    JobStatus,
    PackageStatus,
)
from preservation.errors import (
    Conflict,
    Forbidden,
    KhosoError,
    NotFound,
    Unauthorised,
    Unavailable,
    ValidationFailed,
)
from preservation.issues import Issue, Noun, Report
from preservation.metadata.dates import TTDate
from preservation.metadata.ead import EadRecord
from preservation.packaging.dip.package import (
    DATA,
    DipDocument,
    check_dip,
    data_name,
    folder_name,
    write_dip,
    zip_dip,
)
from storage.protocol import FixityOutcome, FixityResult

log = logging.getLogger(__name__)

TASK = "khoso.dip"
JOB_KIND = "dip"
OBJECT = "dip"
PUBLIC = "01"


def dips_dir(ctx: ServiceContext) -> Path:
    return ctx.settings.data_dir / "dips"


def zip_path(ctx: ServiceContext, dip_id: str) -> Path:
    return dips_dir(ctx) / f"{dip_id}.zip"


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _signed_in(identity: Identity) -> None:
    if not identity.roles:
        raise Unauthorised("AUTH003")


@dataclass(frozen=True)
class DipQueued:
    dip: str
    job: str
    status_url: str

    def to_dict(self) -> dict[str, Any]:
        return {"dip": self.dip, "job": self.job, "status_url": self.status_url}


@dataclass(frozen=True)
class DipView:
    id: str
    objid: str
    owner: str
    request: str | None
    job: str | None
    state: str
    documents: tuple[str, ...]
    created_at: dt.datetime
    ready_at: dt.datetime | None
    expires_at: dt.datetime | None
    size: int | None
    sha256: str | None
    error: dict[str, Any] | None

    def to_dict(self) -> dict[str, Any]:
        ready = self.state == DipState.READY
        return {"id": self.id, "objid": self.objid, "owner": self.owner,
                "request": self.request, "job": self.job, "state": self.state,
                "documents": list(self.documents), "created_at": self.created_at,
                "ready_at": self.ready_at, "expires_at": self.expires_at,
                "size": self.size if ready else None, "sha256": self.sha256 if ready else None,
                "download_url": f"/api/v1/dips/{self.id}/download" if ready else None,
                "error": self.error}


def _view(d: Dip) -> DipView:
    return DipView(d.id, d.objid, d.owner, d.request_id, d.job_id, d.state, tuple(d.documents),
                   cast(dt.datetime, _utc(d.created_at)), _utc(d.ready_at), _utc(d.expires_at),
                   d.size, d.sha256, d.error)


# -- asking for a DIP ----------------------------------------------------------------------

def _send(ctx: ServiceContext, job_id: str) -> str:
    from preservation.jobs import make_celery

    return str(make_celery(ctx.settings).send_task(TASK, args=[job_id]).id)


def request_dip(ctx: ServiceContext, identity: Identity, *, request_id: str | None = None,
                documents: Sequence[str] | None = None, purpose: str = "01",
                purpose_content: str | None = None, research_topic: str | None = None,
                send: Callable[[ServiceContext, str], str] | None = None,
                now: dt.datetime | None = None) -> DipQueued:
    """Queue a DIP; the worker builds it (:func:`run_job`). For ``documents`` without a
    request, the DIP's package EAD still describes a request (TT 05 has no other kind): this
    one, numbered with the DIP's own id, with ``purpose`` (01 cá nhân by default)."""
    _signed_in(identity)
    now = now or utcnow()
    if (request_id is None) == (not documents):
        report = Report()
        report.add("DIP002", "request")
        raise ValidationFailed(report, "DIP001")
    if request_id is not None:  # as the reader it is for, whoever asks (DIP211)
        dip_scope.check_request(ctx, identity, request_id, now)
    retention = dt.timedelta(days=ctx.settings.dip_retention_days)
    report = Report()
    used_for = purpose_content or purpose
    with ctx.catalog.session() as s:
        if request_id is not None:
            req = s.get(AccessRequest, request_id) if ID_FORM.fullmatch(request_id) else None
            if req is None or not (is_decider(identity) or req.requester == identity.actor):
                raise NotFound("GEN002", what=Noun.ACCESS_REQUEST, key=request_id)
            if req.status != AccessRequestStatus.APPROVED:
                raise Conflict("DIP003", id=request_id, status=req.status)
            req_expires = _utc(req.expires_at)
            if req_expires is not None and req_expires <= now:
                raise Forbidden("DIP004", id=request_id, expires=req_expires.isoformat())
            codes = [i.doc_code for i in sorted(req.items, key=lambda i: i.id)]
            docs = find_documents(s, identity, codes, report,
                                  archive_code=ctx.settings.archive_code)
            owner, used_for = req.requester, req.purpose_content or req.purpose
            expires = min(req_expires, now + retention) if req_expires else now + retention
        else:
            docs = find_documents(s, identity, list(documents or ()), report,
                                  archive_code=ctx.settings.archive_code)
            if not report.errors:
                closed = [d.doc_code for d in docs
                          if not may_read(identity, d.mode, d.organ_id)]
                if closed:
                    raise Forbidden("DIP005", docs=", ".join(closed[:20]))
            owner, expires = identity.actor, now + retention
        if report.errors:
            raise ValidationFailed(report, "DIP001")
        dip_id = str(uuid.uuid4())
        job = Job(id=str(uuid.uuid4()), kind=JOB_KIND, status=JobStatus.QUEUED,
                  payload={"dip": dip_id, "purpose": purpose,
                           "purpose_content": purpose_content,
                           "research_topic": research_topic},
                  created_by=identity.actor,
                  lease_until=time.time() + ctx.settings.job_visibility_timeout)
        dip = Dip(id=dip_id, objid=f"uuid-{str(uuid.uuid4()).upper()}", owner=owner,
                  request_id=request_id, job_id=job.id, state=DipState.QUEUED.value,
                  documents=[d.doc_code for d in docs], created_at=now, expires_at=expires)
        s.add_all([job, dip])
        access_register.record(s, identity.actor, AccessAction.DIP, OBJECT, dip_id,
                               purpose=used_for, request_id=request_id, step="requested",
                               owner=owner, documents=dip.documents)
    try:
        task_id = (send or _send)(ctx, job.id)
    except Exception as exc:  # noqa: BLE001 - any broker failure: nothing is left queued
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        _fail(ctx, dip_id, job.id, Issue("DIP010", "", {"reason": reason}))
        raise Unavailable("DIP010", retry_after=30, reason=reason) from None
    with ctx.catalog.session() as s:
        s.get_one(Job, job.id).celery_task_id = task_id
    return DipQueued(dip_id, job.id, f"/api/v1/dips/{dip_id}")


def _load(s: Session, identity: Identity, dip_id: str) -> Dip:
    dip = s.get(Dip, dip_id) if ID_FORM.fullmatch(dip_id) else None
    if dip is None or not (is_staff(identity) or dip.owner == identity.actor):
        raise NotFound("GEN002", what=Noun.DIP, key=dip_id)
    return dip


def show(ctx: ServiceContext, identity: Identity, dip_id: str) -> DipView:
    _signed_in(identity)
    with ctx.catalog.session() as s:
        return _view(_load(s, identity, dip_id))


@dataclass(frozen=True)
class DipFile:
    path: Path
    size: int
    sha256: str
    filename: str


def download(ctx: ServiceContext, identity: Identity, dip_id: str, *,
             now: dt.datetime | None = None) -> DipFile:
    """The ZIP of a ready DIP for its owner (until it expires) or staff; written to the
    access register."""
    _signed_in(identity)
    now = now or utcnow()
    dip_scope.check_download(ctx, identity, dip_id, now)  # rights it was built under (DIP212/213)
    with ctx.catalog.session() as s:
        dip = _load(s, identity, dip_id)
        if dip.state != DipState.READY:
            raise Conflict("DIP006", id=dip_id, state=dip.state)
        expires = _utc(dip.expires_at)
        if expires is not None and expires <= now and not is_staff(identity):
            raise Forbidden("DIP007", id=dip_id, expires=expires.isoformat())
        path = zip_path(ctx, dip_id)
        if not path.is_file():
            raise Conflict("DIP006", id=dip_id, state=DipState.REMOVED.value)
        access_register.record(s, identity.actor, AccessAction.DIP, OBJECT, dip_id,
                               request_id=dip.request_id, step="downloaded",
                               sha256=dip.sha256, size=dip.size, documents=dip.documents)
        return DipFile(path, cast(int, dip.size), cast(str, dip.sha256),
                       f"{folder_name(dip.objid)}.zip")


def purge_expired(ctx: ServiceContext, *, now: dt.datetime | None = None) -> list[str]:
    """Remove the ZIPs of DIPs past their expiry (the retention setting or the request's
    period, the earlier); their rows stay, state ``removed``. Returns their ids."""
    now = now or utcnow()
    removed: list[str] = []
    with ctx.catalog.session() as s:
        for dip in s.scalars(sa.select(Dip).where(Dip.state == DipState.READY.value,
                                                  Dip.expires_at <= now)):
            zip_path(ctx, dip.id).unlink(missing_ok=True)
            dip.state = DipState.REMOVED.value
            removed.append(dip.id)
    return removed


# -- building it (the worker) -----------------------------------------------------------------

def _fail(ctx: ServiceContext, dip_id: str, job_id: str, issue: Issue,
          report: Report | None = None) -> None:
    with ctx.catalog.session() as s:
        dip, job = s.get(Dip, dip_id), s.get(Job, job_id)
        error = issue.to_dict()
        if dip is not None:
            dip.state, dip.error = DipState.FAILED.value, error
        if job is not None:
            job.status, job.finished_at, job.lease_until = JobStatus.FAILED, utcnow(), None
            job.error = issue.message("en")
            job.result = {"dip": dip_id, "error": error,
                          "issues": [i.to_dict() for i in (report.issues if report else [])]}


def _sources(s: Session, doc: Document) -> list[StoredFile]:
    """The document's content files in the current version of its AIP (content files are never
    rewritten by a metadata version: they live in the version that brought them), each with
    every stored copy of it."""
    rows = s.execute(sa.select(Bitstream, Package).join(Package, Package.id == Bitstream.package_id)
                     .where(Bitstream.document_id == doc.id,
                            Package.status.in_((PackageStatus.ACTIVE, PackageStatus.SUPERSEDED)))
                     .order_by(Bitstream.path, Package.version.desc())).all()
    out: dict[str, StoredFile] = {}
    for b, pkg in rows:
        if b.path not in out:
            out[b.path] = bitstream_file(s, b, pkg.objid, name=b.path)
    return list(out.values())


Flagged = tuple[Source, StoredFile, FixityResult]


def _fetch(ctx: ServiceContext, f: StoredFile, target: Path, warnings: Report,
           flagged: list[Flagged]) -> None:
    """Copy the first good copy of ``f`` to ``target`` with the delivery's verified reader
    (bounded by the size, hashed as read); copies found bad are kept for ``_flag``. DIP008 if
    no copy is good: the archive's fault."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tried: list[str] = []
    unreadable: list[str] = []
    for source in in_read_order(f.sources, ctx):
        tried.append(source.location)
        found = read_copy(ctx, source, f, target)
        if found.outcome is FixityOutcome.OK:
            return
        if found.outcome is FixityOutcome.UNREADABLE:  # says nothing about the bytes
            log.warning("DIP: cannot read %s from %s: %s", source.key, source.location,
                        found.detail)
            unreadable.append(f"{source.location}: {found.detail}")
            continue
        reason = (f"{(found.actual_sha256 or '-')[:12]}… ≠ {f.sha256[:12]}…, "
                  f"{found.bytes_read} byte")
        warnings.add("DIP009", f.name, file=f.name, location=source.location, reason=reason)
        flagged.append((source, f, found))
    target.unlink(missing_ok=True)
    if unreadable:  # a location down is no verdict on its copy: built again once it is back
        raise Unavailable("DIP201", f.name, retry_after=300, file=f.name,
                          unreadable="; ".join(unreadable))
    raise KhosoError("DIP008", f.name, file=f.name, tried=", ".join(tried) or "-")


def _flag(ctx: ServiceContext, flagged: Sequence[Flagged], actor: str) -> None:
    """Each copy that failed its SHA-256 is recorded as the audit and the delivery record one
    (its last check, a failed fixity check event mirrored to ``_events``, an audit-log entry),
    so the next ``khoso audit --repair`` restores it from a good copy."""
    for source, f, found in flagged:
        flag_bad_copy(ctx, Identity(actor), source, f, found)


def _dip_record(doc: Document, rf: RecordFile | None, archive_code: str) -> EadRecord:
    """A document's DIP EAD (PL V: 20 fields for văn bản, no organName; ``arcDocCode``) from the
    catalog; values the AIP table does not keep come from the SIP-level columns or the hồ sơ."""
    kind = EAD_KIND[doc.kind]
    values = dict(document_ead(doc, "DIP").values)
    arc_file = rf.arc_file_code if rf is not None else None
    if "arcDocCode" not in values:
        if doc.arc_doc_code or doc.doc_code:  # the catalog keeps the archival code
            values["arcDocCode"] = doc.arc_doc_code or doc.doc_code
        elif arc_file and doc.doc_ordinal:
            values["arcDocCode"] = f"{arc_file}.{doc.doc_ordinal:07d}"
    if kind == "doc" and "docId" not in values:
        # docId is the agency's: its fileCode (the arcFileCode without the archive's code)
        file_code = (arc_file or "").removeprefix(f"{archive_code}.")
        if file_code and doc.doc_ordinal:
            values["docId"] = f"{file_code}.{doc.doc_ordinal}"
        elif doc.doc_code:
            values["docId"] = doc.doc_code.removeprefix(f"{archive_code}.")
    if "maintenance" not in values and rf is not None:
        values["maintenance"] = rf.maintenance
    if "mode" not in values and rf is not None:
        values["mode"] = rf.mode
    if "riskRecovery" not in values:
        values["riskRecovery"] = bool(rf.risk_recovery) if rf is not None else False
    if kind != "pic" and "language" not in values and rf is not None and rf.languages:
        values["language"] = tuple(rf.languages)
    return EadRecord("DIP", kind, values)


def _request_record(dip: Dip, req: AccessRequest | None, payload: dict[str, Any]) -> EadRecord:
    if req is not None:
        created = cast(dt.datetime, _utc(req.created_at))
        values: dict[str, object] = {"requestID": req.id, "purpose": req.purpose,
                                     "purposeContent": req.purpose_content,
                                     "feeObjectType": req.fee_object_type,
                                     "researchTopic": req.research_topic,
                                     "description": req.description}
    else:
        created = cast(dt.datetime, _utc(dip.created_at))
        values = {"requestID": dip.id, "purpose": payload.get("purpose") or PUBLIC,
                  "purposeContent": payload.get("purpose_content"),
                  "researchTopic": payload.get("research_topic"),
                  "description": "Tài liệu công khai (chế độ sử dụng 01), không cần duyệt"}
    local = created.astimezone(dt.timezone(dt.timedelta(hours=7)))
    values["requestDate"] = TTDate(local.year, local.month, local.day)
    return EadRecord("DIP", "request", {k: v for k, v in values.items() if v not in (None, "")})


def build(ctx: ServiceContext, dip_id: str, *, actor: str = "worker") -> DipView:
    """Build the DIP ``dip_id`` (its row must be queued or building): read, verify, package,
    zip. Raises KhosoError (DIP008, EAD015…) after recording the failure; DIP211, DIP003 or
    DIP004 when its owner may no longer receive it (:mod:`dip_scope`)."""
    dip_scope.check_build(ctx, dip_id, actor, utcnow())
    workspace = dips_dir(ctx) / f".build-{dip_id}"
    shutil.rmtree(workspace, ignore_errors=True)
    warnings = Report()
    flagged: list[Flagged] = []
    with ctx.catalog.session() as s:
        dip = s.get_one(Dip, dip_id)
        dip.state = DipState.BUILDING.value
        job = s.get(Job, dip.job_id) if dip.job_id else None
        payload = dict(job.payload) if job is not None else {}
        req = s.get(AccessRequest, dip.request_id) if dip.request_id else None
        request = _request_record(dip, req, payload)
        objid, owner, codes = dip.objid, dip.owner, list(dip.documents)
        rows = s.execute(sa.select(Document, RecordFile)
                         .outerjoin(RecordFile, RecordFile.id == Document.record_file_id)
                         .where(sa.or_(Document.doc_code.in_(codes),
                                       Document.arc_doc_code.in_(codes)))).all()
        by_code: dict[str, tuple[Document, RecordFile | None]] = {}
        for doc_row, rf_row in rows:
            for code in (doc_row.doc_code, doc_row.arc_doc_code):
                if code:
                    by_code.setdefault(code, (doc_row, rf_row))
        plan = []
        for code in codes:
            if code not in by_code:
                raise KhosoError("REQ002", code, doc=code)
            doc, rf = by_code[code]
            plan.append((code, _dip_record(doc, rf, ctx.settings.archive_code), _sources(s, doc),
                         rf.fonds.fond_code if rf is not None else None))
    root = workspace / folder_name(objid)
    try:
        taken: set[str] = set()
        documents: list[DipDocument] = []
        for code, record, sources, _fond in plan:
            files = []
            for src in sources:
                name = data_name(PurePosixPath(src.name).name, taken, code)
                _fetch(ctx, src, root / DATA / name, warnings, flagged)
                files.append((name, src.sha256))
            documents.append(DipDocument(record, tuple(files)))
        fonds = {f for *_, f in plan if f}
        write_dip(root, objid=objid, created=utcnow(), request=request, documents=documents,
                  software_name="khoso", software_version=__version__,
                  archive_name=ctx.settings.archive_name,
                  fond_code=fonds.pop() if len(fonds) == 1 else None,
                  label=f"Gói thông tin khai thác {request.values['requestID']}")
        target = zip_path(ctx, dip_id)
        size, sha256 = zip_dip(root, target, folder_name(objid))
        # what a receiver checks, checked before anyone receives it
        checked = check_dip(target)
        if checked.report.errors:
            target.unlink(missing_ok=True)
            raise ValidationFailed(checked.report, "DIP014")
    except OSError as exc:  # the archive's own work folder (full, read-only): retried
        zip_path(ctx, dip_id).unlink(missing_ok=True)
        raise Unavailable("DIP202", dip_id, retry_after=300, folder=str(dips_dir(ctx)),
                          reason=os_reason(exc)) from exc
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
        _flag(ctx, flagged, actor)
    with ctx.catalog.session() as s:
        dip = s.get_one(Dip, dip_id)
        dip.state, dip.size, dip.sha256, dip.ready_at = DipState.READY.value, size, sha256, utcnow()
        dip.error = None
        if dip.job_id and (job := s.get(Job, dip.job_id)) is not None:
            job.status, job.finished_at, job.lease_until = JobStatus.SUCCEEDED, utcnow(), None
            job.error = None
            job.result = {"dip": dip_id, "size": size, "sha256": sha256,
                          "issues": [i.to_dict() for i in warnings.issues]}
        access_register.record(s, actor, AccessAction.DIP, OBJECT, dip_id,
                               request_id=dip.request_id, step="built", owner=owner,
                               sha256=sha256, size=size, documents=codes,
                               flagged=[f"{src.location}:{f.name}" for src, f, _ in flagged])
        return _view(dip)


def run_job(ctx: ServiceContext, job_id: str) -> DipView | None:
    """The worker's task: claim the job (a second delivery does nothing), remove expired DIPs,
    build this one. A failure is recorded on the DIP and its job; a transient one (a location
    or the catalog down) leaves the job queued for a retry."""
    from ingest.jobs import Lease, catalog_unavailable, claim

    timeout = float(ctx.settings.job_visibility_timeout)
    taken = claim(ctx.catalog, job_id, timeout)
    if taken is None:
        return None
    job, _was_dead = taken
    dip_id = str(job.payload.get("dip", ""))
    try:
        purge_expired(ctx)
    except Exception:  # noqa: BLE001 - housekeeping never stops a build
        log.exception("could not remove expired DIPs")
    lease = Lease(ctx.catalog, job_id, job.attempts, timeout)  # renewed while we build
    try:
        return build(ctx, dip_id, actor=job.created_by or "worker")
    except ValidationFailed as exc:
        _fail(ctx, dip_id, job_id, exc.issue, exc.report)
        raise
    except KhosoError as exc:
        if exc.transient:
            with ctx.catalog.session() as s:
                row = s.get_one(Job, job_id)
                row.status, row.lease_until = JobStatus.QUEUED, None
                row.error = exc.issue.message("en")  # why it waits (cleared by the build)
                dip = s.get(Dip, dip_id)
                if dip is not None:
                    dip.state, dip.error = DipState.QUEUED.value, exc.issue.to_dict()
            raise
        _fail(ctx, dip_id, job_id, exc.issue)
        raise
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        # the catalog connection died (restart, failover, a killed backend): the archive's
        # fault, retried; before, GEN005 failed the DIP for good
        error = catalog_unavailable(exc)
        zip_path(ctx, dip_id).unlink(missing_ok=True)  # built, but never recorded as ready
        try:
            with ctx.catalog.session() as s:
                row = s.get_one(Job, job_id)
                row.status, row.lease_until = JobStatus.QUEUED, None
                row.error = error.message("en")
                dip = s.get(Dip, dip_id)
                if dip is not None:
                    dip.state, dip.error = DipState.QUEUED.value, error.issue.to_dict()
        except sa.exc.SQLAlchemyError:  # still down: the lease runs out, recover_jobs resends
            log.warning("catalog still down; DIP job %s is resent when its lease ends", job_id)
        raise error from exc
    except Exception as exc:
        _fail(ctx, dip_id, job_id, Issue("GEN005", "", {"detail": f"{type(exc).__name__}: {exc}"}))
        raise
    finally:
        lease.stop()


LOST_LIMIT = 3  # runs whose worker died before a DIP job is given up (as ingest jobs are)


def recover_jobs(ctx: ServiceContext, send: Callable[[ServiceContext, str], str], *,
                 now: float | None = None) -> list[str]:
    """Send again every DIP job whose lease ran out: its message was lost (the embedded
    broker does not redeliver) or its worker died. The lease is taken first by
    compare-and-set, so two sweepers never both send; ``claim`` makes a second delivery a
    no-op. A job whose workers died ``LOST_LIMIT`` times fails with JOB061."""
    now = now or time.time()
    timeout = float(ctx.settings.job_visibility_timeout)
    sent: list[str] = []
    with ctx.catalog.session() as s:
        stale = s.execute(sa.select(Job.id, Job.status, Job.attempts, Job.lease_until).where(
            Job.kind == JOB_KIND, Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)),
            sa.or_(Job.lease_until.is_(None), Job.lease_until < now))).all()
    for job_id, status, attempts, lease_until in stale:
        same = (Job.lease_until == lease_until if lease_until is not None
                else Job.lease_until.is_(None))
        with ctx.catalog.session() as s:
            won = cast("sa.CursorResult[Any]", s.execute(sa.update(Job).where(
                Job.id == job_id, Job.status == status, Job.attempts == attempts, same)
                .values(lease_until=time.time() + timeout)
                .execution_options(synchronize_session=False))).rowcount
            dip_id = s.scalar(sa.select(Dip.id).where(Dip.job_id == job_id))
        if not won:
            continue
        if status == JobStatus.RUNNING and attempts >= LOST_LIMIT:
            _fail(ctx, dip_id or "", job_id, Issue("JOB061", "", {"count": attempts}))
            continue
        try:
            send(ctx, job_id)
            sent.append(job_id)
        except Exception:  # noqa: BLE001 - the broker is down: the next sweep tries again
            log.exception("could not send DIP job %s again", job_id)
    return sent


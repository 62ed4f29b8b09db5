"""Destruction cases (hồ sơ hủy): the list proposed for destruction, the bản thuyết minh, the
Hội đồng xét hủy whose members record their opinions here, and the competent person's decision
(a digitally signed PDF, validated and kept in every storage location before it counts).

Who: archivists (and admins) propose; the council is the staff accounts named on the case;
the decision is an admin's, never the proposer's. A decision opens a window of
``KHOSO_DISPOSAL_EXECUTE_DAYS`` (15) days for the execution; past it the case needs a new
decision."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from access_api.services.base import Identity, ServiceContext, UserRole
from access_api.services.disposal.common import (
    MANAGERS,
    OBJECT_CASE,
    STAFF,
    aip_versions,
    find_record,
    iso,
    load_case,
    open_case_of,
    record_code,
    refuse_if_destroyed,
    refuse_if_held,
    refuse_if_permanent,
    require,
    utc,
)
from access_api.services.disposal.record import decision_key, put_everywhere, write_state
from ingest.adapters.signatures import PdfSignatureVerifier, load_trust_roots
from preservation.catalog import audit
from preservation.catalog.models import (
    CouncilMember,
    DisposalCase,
    DisposalCaseItem,
    DisposalListing,
    Tombstone,
    User,
    utcnow,
)
from preservation.catalog.vocab import CouncilOpinion, DisposalCaseStatus
from preservation.errors import Conflict, Forbidden, KhosoError, ValidationFailed
from preservation.issues import Report, Text

MAX_RECORDS = 2_000
MAX_COUNCIL = 25
MAX_DECISION_BYTES = 20 * 2**20


def _report_error(report: Report, path: str, exc: KhosoError) -> None:
    report.add(exc.code, path, **exc.issue.params)


def _check_record(s: Session, ctx: ServiceContext, code: str, case_id: str | None) -> int:
    """The id of a hồ sơ that may join a case, else the ``KhosoError`` saying why not."""
    rf = find_record(s, ctx.settings.archive_code, code)
    refuse_if_destroyed(s, rf)
    refuse_if_permanent(rf)
    refuse_if_held(s, rf)
    other = open_case_of(s, rf.id)
    if other is not None:
        raise Conflict("DES005", record=record_code(rf), case=other)
    listed = s.scalar(sa.select(DisposalListing.id).where(
        DisposalListing.record_file_id == rf.id))
    if listed is None:
        raise Conflict("DES007", record=record_code(rf))
    if not aip_versions(s, rf.id):
        raise Conflict("DES025", record=record_code(rf))
    return rf.id


def _staff(s: Session, username: str) -> bool:
    user = s.scalar(sa.select(User).where(User.username == username))
    if user is None or not user.is_active:
        return False
    return any(r.name in {x.value for x in STAFF} for r in user.roles)


def _bad(report: Report, field: str, vi: str, en: str) -> None:
    report.add("DES021", field, field=field, why=Text(vi, en))


def create(ctx: ServiceContext, identity: Identity, *, title: str, explanation: str,
           records: Sequence[str], council: Sequence[str]) -> dict[str, Any]:
    """Open a case; every problem of the input is reported at once (422 DES026), nothing kept."""
    require(identity, *MANAGERS)
    report = Report()
    if not title.strip():
        _bad(report, "title", "cần tiêu đề", "a title is needed")
    if not explanation.strip():
        _bad(report, "explanation", "cần bản thuyết minh", "an explanation is needed")
    if not records or len(records) > MAX_RECORDS:
        _bad(report, "records", f"cần từ 1 đến {MAX_RECORDS} hồ sơ",
             f"1 to {MAX_RECORDS} records are needed")
    if not council or len(council) > MAX_COUNCIL:
        _bad(report, "council", f"cần từ 1 đến {MAX_COUNCIL} thành viên",
             f"1 to {MAX_COUNCIL} members are needed")
    with ctx.catalog.session() as s:
        ids: list[int] = []
        checked: dict[str, int | KhosoError] = {}  # each code looked up once
        for i, code in enumerate(records):
            if code not in checked:
                try:
                    checked[code] = _check_record(s, ctx, code, None)
                except KhosoError as exc:
                    checked[code] = exc
            found = checked[code]
            if isinstance(found, KhosoError):
                _report_error(report, f"records/{i}", found)
                continue
            rf_id = found
            if rf_id in ids:
                report.add("DES005", f"records/{i}", record=code, case=Text("này", "this one"))
                continue
            ids.append(rf_id)
        members = list(dict.fromkeys(council))
        for i, name in enumerate(members):
            if not _staff(s, name):
                report.add("DES022", f"council/{i}", username=name[:80])
        if report.errors:
            raise ValidationFailed(report, "DES026")
        case = DisposalCase(title=title.strip(), explanation=explanation.strip(),
                            proposer=identity.actor, status=DisposalCaseStatus.REVIEW.value,
                            created_at=utcnow(), decisions=[])
        case.items = [DisposalCaseItem(record_file_id=i, added_by=identity.actor,
                                       added_at=utcnow()) for i in ids]
        case.council = [CouncilMember(username=m) for m in members]
        s.add(case)
        s.flush()
        audit.record(s, identity.actor, "disposal.case.create", OBJECT_CASE, case.id,
                     title=case.title, records=list(records), council=members)
        write_state(ctx, s, case)
        return view(s, case)


def add_record(ctx: ServiceContext, identity: Identity, case_id: str, code: str
               ) -> dict[str, Any]:
    require(identity, *MANAGERS)
    with ctx.catalog.session() as s:
        case = load_case(s, case_id, for_update=True)
        _under_review(case)
        rf_id = _check_record(s, ctx, code, case.id)
        s.add(DisposalCaseItem(case_id=case.id, record_file_id=rf_id, added_by=identity.actor,
                               added_at=utcnow()))
        s.flush()
        s.refresh(case)
        audit.record(s, identity.actor, "disposal.case.add_record", OBJECT_CASE, case.id,
                     record=code)
        write_state(ctx, s, case)
        return view(s, case)


def _under_review(case: DisposalCase) -> None:
    if case.status != DisposalCaseStatus.REVIEW:
        raise Conflict("DES008", id=case.id, status=case.status)


def record_opinion(ctx: ServiceContext, identity: Identity, case_id: str, opinion: str,
                   comment: str | None) -> dict[str, Any]:
    """A council member records (or changes, while the case is reviewed) their opinion."""
    require(identity, *STAFF)
    with ctx.catalog.session() as s:
        case = load_case(s, case_id, for_update=True)
        member = next((m for m in case.council if m.username == identity.actor), None)
        if member is None:
            raise Forbidden("DES009", actor=identity.actor, id=case.id)
        _under_review(case)
        member.opinion = CouncilOpinion(opinion).value
        member.comment = comment.strip() if comment else None
        member.opinion_at = utcnow()
        s.flush()
        audit.record(s, identity.actor, "disposal.case.opinion", OBJECT_CASE, case.id,
                     opinion=member.opinion, comment=member.comment)
        write_state(ctx, s, case)
        return view(s, case)


def _council_endorses(case: DisposalCase) -> None:
    missing = [m.username for m in case.council if m.opinion is None]
    if missing:
        raise Conflict("DES012", id=case.id, missing=", ".join(missing))
    agree = sum(1 for m in case.council if m.opinion == CouncilOpinion.AGREE)
    if agree * 2 <= len(case.council):
        raise Conflict("DES013", id=case.id, agree=agree, members=len(case.council))


def _may_decide(case: DisposalCase, now: dt.datetime) -> None:
    if case.status == DisposalCaseStatus.EXECUTED:
        raise Conflict("DES028", id=case.id, at=iso(case.executed_at), by=case.executed_by)
    if case.status == DisposalCaseStatus.APPROVED:
        deadline = utc(case.deadline)
        if case.execution_started_at is not None or (deadline is not None and deadline >= now):
            raise Conflict("DES011", id=case.id, at=iso(case.decided_at),
                           deadline=iso(case.deadline))
        return  # lapsed: a new decision replaces it
    _council_endorses(case)


def verify_decision(ctx: ServiceContext, data: bytes) -> str:
    """The signer ("CN, O") of a decision PDF whose every signature validates against the
    archive's trust roots; ``ValidationFailed`` (DES014/015/016) otherwise."""
    if not data.startswith(b"%PDF-"):
        _refuse("DES014", reason=Text("tệp không bắt đầu bằng «%PDF-»",
                                      "the file does not start with '%PDF-'"))
    trust = Path(ctx.settings.trust_dir)
    roots = load_trust_roots(trust) if trust.is_dir() else []
    tmp_dir = ctx.settings.data_dir / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix="decision-", suffix=".pdf", dir=tmp_dir)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        checked = PdfSignatureVerifier(roots).verify(name)
    finally:
        Path(name).unlink(missing_ok=True)
    if not checked.signed:
        if any(p.code == "SIG002" for p in checked.problems):
            _refuse("DES014", reason=checked.problems[0].message("en"))
        _refuse("DES015")
    bad = [c for c in checked.checks if not c.ok]
    if bad:
        problems = "; ".join(p.code for c in bad for p in c.problems) or ", ".join(
            f"intact={c.intact} valid={c.valid} trusted={c.trusted}" for c in bad)
        _refuse("DES016", problems=problems)
    return checked.checks[-1].signer


def _refuse(code: str, **params: Any) -> None:
    report = Report()
    report.add(code, "decision", **params)
    raise ValidationFailed(report, code)


def decide(ctx: ServiceContext, identity: Identity, case_id: str, *, data: bytes, number: str,
           date: dt.date, now: dt.datetime | None = None) -> dict[str, Any]:
    """Record the competent person's decision: the signed PDF is validated, written to every
    storage location (write-once), and the execution window opens."""
    require(identity, UserRole.ADMIN)
    now = now or utcnow()
    with ctx.catalog.session() as s:
        case = load_case(s, case_id)
        if case.proposer == identity.actor:
            raise Forbidden("DES010", actor=identity.actor, id=case.id)
        _may_decide(case, now)
    if len(data) > MAX_DECISION_BYTES:
        _refuse("DES014", reason=Text(f"lớn hơn {MAX_DECISION_BYTES} byte",
                                      f"larger than {MAX_DECISION_BYTES} bytes"))
    signer = verify_decision(ctx, data)
    digest = hashlib.sha256(data).hexdigest()
    key = decision_key(ctx.settings.archive_code, case_id, digest)
    put_everywhere(ctx, key, lambda: io.BytesIO(data), digest,
                   Text("lưu quyết định hủy", "storing the decision"))
    with ctx.catalog.session() as s:
        case = load_case(s, case_id, for_update=True)
        _may_decide(case, now)  # again, under the row lock: two admins at once, one wins
        deadline = now + dt.timedelta(days=ctx.settings.disposal_execute_days)
        decision = {"number": number, "date": date.isoformat(), "sha256": digest, "key": key,
                    "signer": signer, "decided_by": identity.actor, "decided_at": now.isoformat(),
                    "deadline": deadline.isoformat(), "size": len(data)}
        case.decisions = [*case.decisions, decision]
        case.status = DisposalCaseStatus.APPROVED.value
        case.decided_by, case.decided_at, case.deadline = identity.actor, now, deadline
        s.flush()
        audit.record(s, identity.actor, "disposal.case.decide", OBJECT_CASE, case.id, **decision)
        write_state(ctx, s, case)
        return view(s, case)


def view(s: Session, case: DisposalCase) -> dict[str, Any]:
    stones = s.scalars(sa.select(Tombstone).where(Tombstone.case_id == case.id)
                       .order_by(Tombstone.id)).all()
    return {
        "id": case.id, "title": case.title, "explanation": case.explanation,
        "proposer": case.proposer, "status": case.status, "created_at": iso(case.created_at),
        "records": [{"code": record_code(i.record_file), "title": i.record_file.title,
                     "maintenance": i.record_file.maintenance, "state": i.record_file.state,
                     "added_by": i.added_by} for i in case.items],
        "council": [{"username": m.username, "opinion": m.opinion, "comment": m.comment,
                     "opinion_at": iso(m.opinion_at)} for m in case.council],
        "decisions": list(case.decisions or []),
        "decided_by": case.decided_by, "decided_at": iso(case.decided_at),
        "deadline": iso(case.deadline), "executed_by": case.executed_by
        if case.status == DisposalCaseStatus.EXECUTED else None,
        "executed_at": iso(case.executed_at), "record_key": case.record_key,
        "tombstones": [tombstone_dict(t) for t in stones],
    }


def tombstone_dict(t: Any) -> dict[str, Any]:
    return {"code": t.arc_file_code or t.file_code, "file_code": t.file_code,
            "fond_code": t.fond_code, "objid": t.objid, "title": t.title,
            "maintenance": t.maintenance, "retention_years": t.retention_years,
            "start_date": t.start_date, "end_date": t.end_date, "documents": t.documents,
            "files": t.files, "locations": t.locations, "decision": t.decision,
            "executed_by": t.executed_by, "executed_at": iso(t.executed_at)}


def get(ctx: ServiceContext, identity: Identity, case_id: str) -> dict[str, Any]:
    require(identity, *STAFF)
    with ctx.catalog.session() as s:
        return view(s, load_case(s, case_id))


def list_cases(ctx: ServiceContext, identity: Identity, *, status: str | None = None,
               page: int = 1, size: int = 50) -> tuple[list[dict[str, Any]], int]:
    require(identity, *STAFF)
    query = sa.select(DisposalCase)
    if status is not None:
        query = query.where(DisposalCase.status == DisposalCaseStatus(status).value)
    with ctx.catalog.session() as s:
        total = s.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
        rows = s.scalars(query.order_by(DisposalCase.created_at.desc(), DisposalCase.id)
                         .offset((page - 1) * size).limit(size)).all()
        return [view(s, c) for c in rows], total

"""Yêu cầu khai thác (access requests, TT 05 Chương VI): a reader asks for documents with the
DIP EAD request fields; an archivist approves (with a period of use) or refuses (with a
reason); the reader may withdraw while it is pending. Every step is written to the access
register (sổ khai thác sử dụng) and the audit log in the same transaction.

Who sees what: the requester sees their own requests; archivists and admins see all. A
document the requester may not see (mode 03, another agency's) is "not found", exactly as a
missing one, so a request never reveals that a secret document exists.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from access_api.services.base import Identity, ServiceContext, UserRole
from access_api.services.policy import effective_mode, may_see
from preservation.catalog import access_register
from preservation.catalog.models import (
    AccessRequest,
    AccessRequestItem,
    Agency,
    Document,
    Package,
    RecordFile,
    utcnow,
)
from preservation.catalog.vocab import AccessAction, AccessRequestStatus
from preservation.errors import Conflict, Forbidden, NotFound, Unauthorised, ValidationFailed
from preservation.issues import Noun, Report, Text
from preservation.metadata.codelists import codelist
from preservation.metadata.xmlsafe import INVALID_CHARS

DECIDERS = (UserRole.ADMIN, UserRole.ARCHIVIST)
MAX_DOCUMENTS = 500  # documents in one request (and one DIP)
DEFAULT_VALID_DAYS = 15  # TT 05: a copy may be used/downloaded within 15 days
MAX_VALID_DAYS = 366
ANSWER_WITHIN_WORKING_DAYS = 6  # TT 05 Chương VI: requests are answered within 6 working days
OBJECT = "access_request"
ICT = dt.timezone(dt.timedelta(hours=7))  # working days are Vietnam's
# what an id khoso made looks like (a UUID); anything else is not found without a query, so
# a NUL byte or 10 kB of text never reaches the database
ID_FORM = re.compile(r"[0-9A-Za-z-]{1,36}")
# text XML cannot carry (it would go into the DIP's EAD) and PostgreSQL refuses (NUL)
BAD_TEXT = re.compile(f"[{INVALID_CHARS}]")


def working_days_after(start: dt.date, days: int) -> dt.date:
    """The date ``days`` working days (Monday–Friday) after ``start``. Public holidays are
    not known to khoso, so a due date across Tết is earlier than the law's."""
    current, left = start, days
    while left > 0:
        current += dt.timedelta(days=1)
        if current.weekday() < 5:
            left -= 1
    return current


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite: naive UTC


@dataclass(frozen=True)
class RequestView:
    """An access request as its requester and the archivists see it."""

    id: str
    requester: str
    status: str
    expired: bool
    documents: tuple[str, ...]
    purpose: str
    purpose_content: str | None
    fee_object_type: str | None
    research_topic: str | None
    description: str | None
    created_at: dt.datetime
    due_by: dt.date | None
    decided_by: str | None
    decided_at: dt.datetime | None
    reason: str | None
    expires_at: dt.datetime | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "requester": self.requester, "status": self.status,
            "expired": self.expired, "documents": list(self.documents),
            "purpose": self.purpose, "purposeContent": self.purpose_content,
            "feeObjectType": self.fee_object_type, "researchTopic": self.research_topic,
            "description": self.description, "requestDate": self.created_at,
            "due_by": self.due_by.isoformat() if self.due_by else None,
            "decided_by": self.decided_by, "decided_at": self.decided_at,
            "reason": self.reason, "expires_at": self.expires_at,
        }


def view(req: AccessRequest, now: dt.datetime | None = None) -> RequestView:
    now = now or utcnow()
    created = cast(dt.datetime, _utc(req.created_at))
    expires = _utc(req.expires_at)
    pending = req.status == AccessRequestStatus.PENDING
    return RequestView(
        id=req.id, requester=req.requester, status=req.status,
        expired=req.status == AccessRequestStatus.APPROVED and expires is not None
        and expires <= now,
        documents=tuple(i.doc_code for i in sorted(req.items, key=lambda i: i.id)),
        purpose=req.purpose, purpose_content=req.purpose_content,
        fee_object_type=req.fee_object_type, research_topic=req.research_topic,
        description=req.description, created_at=created,
        due_by=working_days_after(created.astimezone(ICT).date(), ANSWER_WITHIN_WORKING_DAYS)
        if pending
        else None,
        decided_by=req.decided_by, decided_at=_utc(req.decided_at), reason=req.reason,
        expires_at=expires)


def is_decider(identity: Identity) -> bool:
    return identity.has(*DECIDERS)


def _signed_in(identity: Identity) -> None:
    if not identity.roles:
        raise Unauthorised("AUTH003")


@dataclass(frozen=True)
class VisibleDocument:
    """A document the caller may see, with what the access policy needs about it."""

    doc_code: str
    mode: str | None
    organ_id: str | None
    document_id: int


def find_documents(session: Session, identity: Identity, codes: Sequence[str],
                   report: Report, path: str = "documents", *,
                   archive_code: str | None = None) -> list[VisibleDocument]:
    """The documents named by ``codes`` that the caller may see, in order; every other one is
    reported as not found (REQ002), a duplicate as REQ003. A code is the catalog's (the
    archival code, ``{archive}.{fileCode}.{ordinal}``) or, given ``archive_code``, the
    agency's docCode without the archive prefix."""
    found: list[VisibleDocument] = []
    seen: set[str] = set()
    prefix = f"{archive_code}." if archive_code else None

    def variants(code: str) -> tuple[str, ...]:
        return (code, prefix + code) if prefix and not code.startswith(prefix) else (code,)

    wanted = list(dict.fromkeys(v for c in codes if not BAD_TEXT.search(c) and len(c) <= 100
                                for v in variants(c)))
    rows: dict[str, tuple[Document, RecordFile | None, str | None]] = {}
    for chunk in (wanted[i:i + 500] for i in range(0, len(wanted), 500)):
        query = (sa.select(Document, RecordFile, Agency.organ_id)
                 .outerjoin(RecordFile, RecordFile.id == Document.record_file_id)
                 .outerjoin(Package, Package.id == Document.package_id)
                 .outerjoin(Agency, Agency.id == Package.agency_id)
                 .where(sa.or_(Document.doc_code.in_(chunk), Document.arc_doc_code.in_(chunk))))
        for doc, rf, organ in session.execute(query).all():
            for code in (doc.doc_code, doc.arc_doc_code):
                if code is not None:
                    rows.setdefault(code, (doc, rf, organ))
    for i, code in enumerate(codes):
        where = f"{path}/{i}"
        row = next((rows[v] for v in variants(code) if v in rows), None)
        canonical = None if row is None else (row[0].doc_code or row[0].arc_doc_code or code)
        if (canonical or code) in seen:
            report.add("REQ003", where, doc=code)
            continue
        seen.add(canonical or code)
        mode = None if row is None else effective_mode(row[0].mode,
                                                       row[1].mode if row[1] else None)
        if row is None or canonical is None or not may_see(identity, mode, row[2]):
            report.add("REQ002", where, doc=code)
            continue
        found.append(VisibleDocument(canonical, mode, row[2], row[0].id))
    return found


def _check_code(report: Report, field: str, value: str | None, name: str) -> None:
    if value is None:
        return
    cl = codelist(name)
    if value not in cl:
        report.add("REQ001", field, value=value, field=field, codelist=name,
                   allowed=", ".join(cl.codes))


def create(ctx: ServiceContext, identity: Identity, *, documents: Sequence[str], purpose: str,
           purpose_content: str | None = None, fee_object_type: str | None = None,
           research_topic: str | None = None, description: str | None = None) -> RequestView:
    """File a request; ``ValidationFailed`` (REQ009) lists every problem and nothing is kept."""
    _signed_in(identity)
    report = Report()
    _check_code(report, "purpose", purpose, "purpose")
    _check_code(report, "feeObjectType", fee_object_type, "feeObjectType")
    with ctx.catalog.session() as s:
        docs = find_documents(s, identity, documents, report,
                              archive_code=ctx.settings.archive_code)
        if report.errors:
            raise ValidationFailed(report, "REQ009")
        req = AccessRequest(requester=identity.actor, purpose=purpose,
                            purpose_content=purpose_content, fee_object_type=fee_object_type,
                            research_topic=research_topic, description=description,
                            status=AccessRequestStatus.PENDING.value,
                            items=[AccessRequestItem(doc_code=d.doc_code) for d in docs])
        s.add(req)
        s.flush()
        access_register.record(s, identity.actor, AccessAction.REQUEST, OBJECT, req.id,
                               purpose=purpose_content or purpose, request_id=req.id,
                               step="filed", documents=[d.doc_code for d in docs])
        return view(req)


def _load(s: Session, identity: Identity, request_id: str) -> AccessRequest:
    """The request, if the caller may see it (its requester, an archivist, an admin); anyone
    else gets the same 404 as for a request that does not exist."""
    req = s.get(AccessRequest, request_id) if ID_FORM.fullmatch(request_id) else None
    if req is None or not (is_decider(identity) or req.requester == identity.actor):
        raise NotFound("GEN002", what=Noun.ACCESS_REQUEST, key=request_id)
    return req


def get(ctx: ServiceContext, identity: Identity, request_id: str) -> RequestView:
    _signed_in(identity)
    with ctx.catalog.session() as s:
        return view(_load(s, identity, request_id))


def list_requests(ctx: ServiceContext, identity: Identity, *, mine: bool = False,
                  status: AccessRequestStatus | None = None, page: int = 1,
                  size: int = 50) -> tuple[list[RequestView], int]:
    """Newest first; a reader (anyone but an archivist or admin) always sees only their own."""
    _signed_in(identity)
    query = sa.select(AccessRequest)
    if mine or not is_decider(identity):
        query = query.where(AccessRequest.requester == identity.actor)
    if status is not None:
        query = query.where(AccessRequest.status == status.value)
    with ctx.catalog.session() as s:
        total = s.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
        rows = s.scalars(query.order_by(AccessRequest.created_at.desc(), AccessRequest.id.desc())
                         .offset((page - 1) * size).limit(size)).all()
        now = utcnow()
        return [view(r, now) for r in rows], total


def _decide(s: Session, identity: Identity, request_id: str, action: Text,
            new_status: AccessRequestStatus, **values: Any) -> AccessRequest:
    """Move a pending request to ``new_status`` with compare-and-set on its status, so two
    archivists deciding at once cannot both win."""
    req = _load(s, identity, request_id)
    if req.status != AccessRequestStatus.PENDING:
        raise Conflict("REQ005", id=request_id, status=req.status, action=action)
    done = s.execute(sa.update(AccessRequest).where(
        AccessRequest.id == request_id, AccessRequest.status == AccessRequestStatus.PENDING.value)
        .values(status=new_status.value, **values).execution_options(synchronize_session=False))
    if not cast("sa.CursorResult[Any]", done).rowcount:
        s.refresh(req)
        raise Conflict("REQ005", id=request_id, status=req.status, action=action)
    s.refresh(req)
    return req


def _require_decider(identity: Identity, req: AccessRequest) -> None:
    if not is_decider(identity):
        raise Forbidden("AUTH004")
    if req.requester == identity.actor:
        raise Forbidden("REQ004", id=req.id)


APPROVE = Text("duyệt", "approved")
REFUSE = Text("từ chối", "refused")
WITHDRAW = Text("rút lại", "withdrawn")


def approve(ctx: ServiceContext, identity: Identity, request_id: str, *,
            reason: str | None = None, expires_at: dt.datetime | None = None,
            valid_days: int | None = None, now: dt.datetime | None = None) -> RequestView:
    """Approve with a period of use: until ``expires_at``, or ``valid_days`` from now (15 by
    default, TT 05's download period)."""
    _signed_in(identity)
    now = now or utcnow()
    if expires_at is not None and valid_days is not None:
        _bad_period("expires_at", Text("chỉ nêu một trong expires_at và valid_days",
                                       "give expires_at or valid_days, not both"))
    if valid_days is not None and not 1 <= valid_days <= MAX_VALID_DAYS:
        _bad_period("valid_days", Text(f"valid_days từ 1 đến {MAX_VALID_DAYS}",
                                       f"valid_days from 1 to {MAX_VALID_DAYS}"))
    if expires_at is not None:
        expires = cast(dt.datetime, _utc(expires_at))
        if expires <= now or expires > now + dt.timedelta(days=MAX_VALID_DAYS):
            _bad_period("expires_at", Text(
                f"phải sau thời điểm hiện tại và trong vòng {MAX_VALID_DAYS} ngày",
                f"must be in the future and within {MAX_VALID_DAYS} days"))
    else:
        expires = now + dt.timedelta(days=valid_days or DEFAULT_VALID_DAYS)
    with ctx.catalog.session() as s:
        _require_decider(identity, _load(s, identity, request_id))
        req = _decide(s, identity, request_id, APPROVE, AccessRequestStatus.APPROVED,
                      decided_by=identity.actor, decided_at=now, reason=reason,
                      expires_at=expires)
        access_register.record(s, identity.actor, AccessAction.REQUEST, OBJECT, req.id,
                               purpose=req.purpose_content or req.purpose, request_id=req.id,
                               step="approved", requester=req.requester,
                               expires_at=expires.isoformat(), reason=reason)
        return view(req, now)


def refuse(ctx: ServiceContext, identity: Identity, request_id: str, *, reason: str) -> RequestView:
    _signed_in(identity)
    if not reason or not reason.strip():
        raise ValidationFailed(_one("REQ006", "reason"), "REQ009")
    with ctx.catalog.session() as s:
        _require_decider(identity, _load(s, identity, request_id))
        req = _decide(s, identity, request_id, REFUSE, AccessRequestStatus.REFUSED,
                      decided_by=identity.actor, decided_at=utcnow(), reason=reason.strip())
        access_register.record(s, identity.actor, AccessAction.REQUEST, OBJECT, req.id,
                               purpose=req.purpose_content or req.purpose, request_id=req.id,
                               step="refused", requester=req.requester, reason=req.reason)
        return view(req)


def withdraw(ctx: ServiceContext, identity: Identity, request_id: str) -> RequestView:
    """The requester takes back a pending request."""
    _signed_in(identity)
    with ctx.catalog.session() as s:
        req = _load(s, identity, request_id)
        if req.requester != identity.actor:
            raise Forbidden("REQ008", id=request_id)
        req = _decide(s, identity, request_id, WITHDRAW, AccessRequestStatus.WITHDRAWN,
                      decided_at=utcnow())
        access_register.record(s, identity.actor, AccessAction.REQUEST, OBJECT, req.id,
                               purpose=req.purpose_content or req.purpose, request_id=req.id,
                               step="withdrawn")
        return view(req)


def _bad_period(path: str, why: Text) -> None:
    raise ValidationFailed(_one("REQ007", path, why=why), "REQ009")


def _one(code: str, path: str, **params: Any) -> Report:
    report = Report()
    report.add(code, path, **params)
    return report

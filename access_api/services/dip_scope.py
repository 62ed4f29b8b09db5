"""What a DIP may hold, judged as the reader it is for (its owner), never as the staff member
who asks for it or the worker that builds it, and judged again at each step: when it is asked
for, when the worker builds it and when its owner downloads it (issue #14). Between those steps
a document may be reclassified 03 (a metadata correction, a new AIP version), destroyed, or the
request's approval may end.

A DIP is refused whole, naming the documents, rather than built without them: a DIP silently
missing documents would tell its reader the archive holds nothing more for the request. The
message does not say why each one is refused (a mode 03 document must read like a missing
one to a reader); the audit log and the access register keep the reasons for staff.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Session

from access_api.services.access_requests import ID_FORM, is_decider
from access_api.services.base import Identity, ServiceContext, UserRole
from access_api.services.policy import effective_mode, is_staff, may_read
from preservation.catalog import access_register
from preservation.catalog.models import (
    AccessRequest,
    Agency,
    Dip,
    Document,
    Package,
    RecordFile,
    User,
)
from preservation.catalog.vocab import (
    AccessAction,
    AccessRequestStatus,
    DipState,
    FileState,
    PackageStatus,
)
from preservation.errors import Conflict, Forbidden, KhosoError
from preservation.issues import Text

OBJECT = "dip"


class Why(StrEnum):
    """Why a document may not go to the DIP's owner now (kept in the audit log only)."""

    MISSING = "missing"  # no longer in the catalog
    DESTROYED = "destroyed"  # its hồ sơ was destroyed (disposition)
    NOT_ALLOWED = "not_allowed"  # its mode now keeps its content from the owner (02 or 03)


@dataclass(frozen=True)
class Scope:
    """The owner's rights over a DIP's documents at one moment. ``request_status`` is the
    request's status (None: the DIP has none), ``request_expired`` its period over."""

    owner: str
    refused: tuple[tuple[str, Why], ...]
    request_status: str | None = None
    request_expires: dt.datetime | None = None
    request_expired: bool = False

    @property
    def request_valid(self) -> bool:
        return self.request_status in (None, AccessRequestStatus.APPROVED) and \
            not self.request_expired

    @property
    def allowed(self) -> bool:
        return self.request_valid and not self.refused

    @property
    def docs(self) -> str:
        return ", ".join(code for code, _ in self.refused[:20])

    def reasons(self) -> list[list[str]]:
        return [[code, why.value] for code, why in self.refused]


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def owner_identity(s: Session, owner: str) -> Identity:
    """The owner's roles and agency as they are now; an unknown or disabled account has none
    (it may receive public content only)."""
    user = s.scalars(sa.select(User).where(User.username == owner)).one_or_none()
    if user is None or not user.is_active:
        return Identity(owner)
    known = set(UserRole)
    roles = frozenset(UserRole(r.name) for r in user.roles if r.name in known)
    agency = s.get(Agency, user.agency_id) if user.agency_id is not None else None
    return Identity(owner, roles, agency.organ_id if agency is not None else None)


def check(s: Session, owner: str, request_id: str | None, codes: Sequence[str],
          now: dt.datetime) -> Scope:
    """The owner's rights over ``codes`` (catalog codes) at ``now``: each document's current
    mode (the stricter of its own and its hồ sơ's), whether it was destroyed, and, for a DIP
    made for a request, whether that request is still approved and unexpired (which alone
    opens mode 02 content to a reader)."""
    who = owner_identity(s, owner)
    status: str | None = None
    expires: dt.datetime | None = None
    expired = False
    if request_id is not None:
        req = s.get(AccessRequest, request_id)
        status = req.status if req is not None else AccessRequestStatus.WITHDRAWN.value
        expires = _utc(req.expires_at) if req is not None else None
        expired = expires is not None and expires <= now
    approved = request_id is not None and status == AccessRequestStatus.APPROVED and not expired
    rows: dict[str, tuple[Document, RecordFile | None, str | None, str | None]] = {}
    wanted = list(dict.fromkeys(codes))
    for chunk in (wanted[i:i + 500] for i in range(0, len(wanted), 500)):
        query = (sa.select(Document, RecordFile, Agency.organ_id, Package.status)
                 .outerjoin(RecordFile, RecordFile.id == Document.record_file_id)
                 .outerjoin(Package, Package.id == Document.package_id)
                 .outerjoin(Agency, Agency.id == Package.agency_id)
                 .where(sa.or_(Document.doc_code.in_(chunk), Document.arc_doc_code.in_(chunk))))
        for found in s.execute(query).all():
            for code in (found[0].doc_code, found[0].arc_doc_code):
                if code is not None:
                    rows.setdefault(code, (found[0], found[1], found[2], found[3]))
    refused: list[tuple[str, Why]] = []
    for code in codes:
        row = rows.get(code)
        if row is None:
            refused.append((code, Why.MISSING))
            continue
        doc, rf, organ, pkg_status = row
        if (rf is not None and rf.state == FileState.DESTROYED) or \
                pkg_status == PackageStatus.DELETED:
            refused.append((code, Why.DESTROYED))
            continue
        mode = effective_mode(doc.mode, rf.mode if rf is not None else None)
        if not may_read(who, mode, organ, approved_request=approved):
            refused.append((code, Why.NOT_ALLOWED))
    return Scope(owner, tuple(refused), status, expires, expired)


def record_refusal(s: Session, actor: str, dip_id: str | None, request_id: str | None,
                   scope: Scope, step: str, code: str) -> None:
    """The refusal in the access register (and so the audit log), with each document's reason;
    the session's commit keeps it even though the caller then raises."""
    access_register.record(s, actor, AccessAction.DIP, OBJECT, dip_id or "-",
                           request_id=request_id, step=step, owner=scope.owner, code=code,
                           refused=scope.reasons(), request_status=scope.request_status,
                           request_expired=scope.request_expired)


def _request_error(scope: Scope, request_id: str | None) -> KhosoError:
    if scope.request_expired and scope.request_expires is not None:
        return Forbidden("DIP004", id=request_id, expires=scope.request_expires.isoformat())
    return Conflict("DIP003", id=request_id, status=scope.request_status)


def _refuse(ctx: ServiceContext, actor: str, dip_id: str | None, request_id: str | None,
            scope: Scope, step: str, error: KhosoError) -> KhosoError:
    with ctx.catalog.session() as s:
        record_refusal(s, actor, dip_id, request_id, scope, step, error.code)
    return error


def check_request(ctx: ServiceContext, identity: Identity, request_id: str,
                  now: dt.datetime) -> None:
    """Before a DIP is queued for an approved request (by its reader or by staff for them):
    Forbidden (DIP211) naming every document the reader may no longer receive. A request
    the caller may not use, not approved or expired is left to ``request_dip`` to refuse
    (GEN002, DIP003, DIP004)."""
    with ctx.catalog.reading() as s:
        req = s.get(AccessRequest, request_id) if ID_FORM.fullmatch(request_id) else None
        if req is None or not (is_decider(identity) or req.requester == identity.actor):
            return
        codes = [i.doc_code for i in sorted(req.items, key=lambda i: i.id)]
        scope = check(s, req.requester, request_id, codes, now)
    if not scope.request_valid or not scope.refused:
        return
    raise _refuse(ctx, identity.actor, None, request_id, scope, "refused",
                  Forbidden("DIP211", owner=scope.owner, docs=scope.docs))


def check_build(ctx: ServiceContext, dip_id: str, actor: str, now: dt.datetime) -> None:
    """Before the worker reads anything for a DIP: its owner's rights now. The request no
    longer approved or expired: DIP003/DIP004; a document no longer theirs: DIP211."""
    with ctx.catalog.reading() as s:
        dip = s.get_one(Dip, dip_id)
        request_id = dip.request_id
        scope = check(s, dip.owner, request_id, list(dip.documents), now)
    if scope.allowed:
        return
    error = (Forbidden("DIP211", owner=scope.owner, docs=scope.docs) if scope.request_valid
             else _request_error(scope, request_id))
    raise _refuse(ctx, actor, dip_id, request_id, scope, "refused", error)


def check_download(ctx: ServiceContext, identity: Identity, dip_id: str,
                   now: dt.datetime) -> None:
    """Before a reader downloads their ready DIP: the rights it was built under must still
    hold (DIP212 for documents, DIP213 for the request). Staff download any DIP; a DIP that
    is not theirs, not ready or past its own expiry is left to ``download`` (GEN002, DIP006,
    DIP007)."""
    if is_staff(identity):
        return
    with ctx.catalog.reading() as s:
        dip = s.get(Dip, dip_id) if ID_FORM.fullmatch(dip_id) else None
        if dip is None or dip.owner != identity.actor or dip.state != DipState.READY:
            return
        expires = _utc(dip.expires_at)
        if expires is not None and expires <= now:
            return
        request_id = dip.request_id
        scope = check(s, dip.owner, request_id, list(dip.documents), now)
    if scope.allowed:
        return
    if scope.request_valid:
        error: KhosoError = Forbidden("DIP212", id=dip_id, docs=scope.docs)
    else:
        iso = scope.request_expires.isoformat() if scope.request_expires else "-"
        why = (Text(f"hết hạn lúc {iso}", f"it expired at {iso}") if scope.request_expired
               else Text(f"trạng thái \"{scope.request_status}\"",
                         f"it is \"{scope.request_status}\""))
        error = Forbidden("DIP213", id=dip_id, request=request_id, why=why)
    raise _refuse(ctx, identity.actor, dip_id, request_id, scope, "download_refused", error)

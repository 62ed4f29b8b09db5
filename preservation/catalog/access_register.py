"""The access register (sổ khai thác sử dụng, NĐ 113/2025 Điều 22): every view, download,
copy and DIP, with who, what, when and why. Each entry is also an audit-log entry, in the
caller's transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from preservation.catalog import audit
from preservation.catalog.models import AccessEntry, AccessRequest, AccessRequestItem, utcnow
from preservation.catalog.vocab import AccessAction, AccessRequestStatus


def record(session: Session, actor: str, action: AccessAction, object_type: str,
           object_id: str, *, purpose: str | None = None, request_id: str | None = None,
           **detail: Any) -> AccessEntry:
    entry = AccessEntry(actor=actor, action=action.value, object_type=object_type,
                        object_id=object_id, purpose=purpose, request_id=request_id,
                        detail=detail)
    session.add(entry)
    audit.record(session, actor, f"access.{action.value}", object_type, object_id,
                 purpose=purpose, request_id=request_id, **detail)
    return entry


def approved_request_for(session: Session, requester: str, doc_code: str,
                         now: dt.datetime | None = None) -> str | None:
    """The id of the requester's approved, unexpired access request covering ``doc_code``, if
    any: what lets a reader receive the content of a mode 02 document."""
    now = now or utcnow()
    rows = session.execute(
        sa.select(AccessRequest.id, AccessRequest.expires_at)
        .join(AccessRequestItem, AccessRequestItem.request_id == AccessRequest.id)
        .where(AccessRequest.requester == requester, AccessRequestItem.doc_code == doc_code,
               AccessRequest.status == AccessRequestStatus.APPROVED.value)
        .order_by(AccessRequest.created_at.desc())).all()
    for request_id, expires_at in rows:
        if expires_at is None or _utc(expires_at) > now:
            return str(request_id)
    return None


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)

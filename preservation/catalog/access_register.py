"""The access register (sổ khai thác sử dụng, NĐ 113/2025 Điều 22): every view, download,
copy and DIP, with who, what, when and why. Each entry is also an audit-log entry, in the
caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from preservation.catalog import audit
from preservation.catalog.models import AccessEntry
from preservation.catalog.vocab import AccessAction


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

"""Legal holds (lệnh phong tỏa): while one is on, a hồ sơ is out of the Danh mục tài liệu hết
giá trị and cannot be destroyed. Placing and lifting each name a reason, who and when, and are
written to the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from access_api.services.base import Identity, ServiceContext
from access_api.services.disposal.common import (
    MANAGERS,
    OBJECT_HOLD,
    find_record,
    iso,
    record_code,
    refuse_if_destroyed,
    require,
)
from preservation.catalog import audit
from preservation.catalog.models import DisposalListing, LegalHold, RecordFile, utcnow
from preservation.catalog.vocab import FileState
from preservation.errors import Conflict, NotFound


@dataclass(frozen=True)
class HoldView:
    id: int
    code: str
    reason: str
    placed_by: str
    placed_at: str | None
    lifted_by: str | None
    lifted_at: str | None
    lift_reason: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "code": self.code, "reason": self.reason,
                "placed_by": self.placed_by, "placed_at": self.placed_at,
                "lifted_by": self.lifted_by, "lifted_at": self.lifted_at,
                "lift_reason": self.lift_reason, "active": self.lifted_at is None}


def _view(hold: LegalHold, rf: RecordFile) -> HoldView:
    return HoldView(hold.id, record_code(rf), hold.reason, hold.placed_by, iso(hold.placed_at),
                    hold.lifted_by, iso(hold.lifted_at), hold.lift_reason)


def place(ctx: ServiceContext, identity: Identity, code: str, reason: str) -> HoldView:
    """Hold the hồ sơ: it leaves the Danh mục (back to "in use") until the hold is lifted."""
    require(identity, *MANAGERS)
    with ctx.catalog.session() as s:
        rf = find_record(s, ctx.settings.archive_code, code)
        refuse_if_destroyed(s, rf)
        current = s.scalar(sa.select(LegalHold.id).where(
            LegalHold.record_file_id == rf.id, LegalHold.lifted_at.is_(None)).limit(1))
        if current is not None:
            raise Conflict("DES027", record=record_code(rf), hold=current)
        hold = LegalHold(record_file_id=rf.id, reason=reason.strip(), placed_by=identity.actor,
                         placed_at=utcnow())
        s.add(hold)
        unlisted = s.scalar(sa.select(DisposalListing.id).where(
            DisposalListing.record_file_id == rf.id))
        s.execute(sa.delete(DisposalListing).where(DisposalListing.record_file_id == rf.id))
        if rf.state == FileState.REVIEW_DISPOSAL:
            rf.state = FileState.ACTIVE.value
        s.flush()
        audit.record(s, identity.actor, "disposal.hold.place", OBJECT_HOLD, hold.id,
                     record=record_code(rf), reason=hold.reason, unlisted=unlisted is not None)
        return _view(hold, rf)


def lift(ctx: ServiceContext, identity: Identity, hold_id: int, reason: str) -> HoldView:
    """Lift the hold; the next appraisal scan lists the hồ sơ again if it still qualifies."""
    require(identity, *MANAGERS)
    with ctx.catalog.session() as s:
        hold = s.get(LegalHold, hold_id) if 0 < hold_id < 2**62 else None
        if hold is None:
            raise NotFound("DES023", id=hold_id)
        if hold.lifted_at is not None:
            raise Conflict("DES024", id=hold_id, by=hold.lifted_by, at=iso(hold.lifted_at))
        hold.lifted_at, hold.lifted_by, hold.lift_reason = utcnow(), identity.actor, reason.strip()
        rf = s.get_one(RecordFile, hold.record_file_id)
        s.flush()
        audit.record(s, identity.actor, "disposal.hold.lift", OBJECT_HOLD, hold.id,
                     record=record_code(rf), reason=hold.lift_reason)
        return _view(hold, rf)


def list_holds(ctx: ServiceContext, identity: Identity, *, active: bool | None = None,
               page: int = 1, size: int = 50) -> tuple[list[HoldView], int]:
    require(identity, *MANAGERS)
    query = sa.select(LegalHold, RecordFile).join(RecordFile,
                                                  RecordFile.id == LegalHold.record_file_id)
    if active is not None:
        query = query.where(LegalHold.lifted_at.is_(None) if active
                            else LegalHold.lifted_at.is_not(None))
    with ctx.catalog.session() as s:
        total = s.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
        rows = s.execute(query.order_by(LegalHold.id.desc())
                         .offset((page - 1) * size).limit(size)).all()
        return [_view(h, rf) for h, rf in rows], total

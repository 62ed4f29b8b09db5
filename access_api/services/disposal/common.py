"""What the disposal services share: who may act, finding a hồ sơ and a case, and the checks
every step repeats (permanent, held, destroyed, already in a case)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from access_api.services.base import Identity, UserRole
from access_api.services.catalog import code_candidates, storable
from preservation.catalog.models import (
    DisposalCase,
    DisposalCaseItem,
    LegalHold,
    Package,
    RecordFile,
    Tombstone,
)
from preservation.catalog.vocab import (
    DisposalCaseStatus,
    FileState,
    PackageKind,
    PackageStatus,
)
from preservation.errors import Conflict, Forbidden, NotFound, Unauthorised

PERMANENT = "01"
OBJECT_CASE = "disposal_case"
OBJECT_RECORD = "record_file"
OBJECT_HOLD = "legal_hold"
# what an id khoso made looks like (a UUID): anything else is not found without a query
ID_FORM = re.compile(r"[0-9a-f-]{36}")
STAFF = (UserRole.ADMIN, UserRole.ARCHIVIST, UserRole.PRESERVATION_OFFICER)
MANAGERS = (UserRole.ADMIN, UserRole.ARCHIVIST)


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """Catalog instants are UTC; SQLite gives them back without a zone."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def iso(value: dt.datetime | None) -> str | None:
    found = utc(value)
    return None if found is None else found.isoformat()


def require(identity: Identity, *roles: UserRole) -> None:
    """401 for nobody, 403 (AUTH004) for a role that may not do this."""
    if not identity.roles:
        raise Unauthorised("AUTH003")
    if not identity.has(*roles):
        raise Forbidden("AUTH004")


def find_record(s: Session, archive: str, code: str) -> RecordFile:
    """The hồ sơ by its archival code or the agency's file code, destroyed ones included (a
    destroyed hồ sơ is refused by name, not "not found")."""
    if not storable(code):
        raise NotFound("DES002", record=code[:100])
    candidates = code_candidates(archive, code)
    rows = list(s.scalars(sa.select(RecordFile).where(sa.or_(
        RecordFile.arc_file_code.in_(candidates), RecordFile.file_code.in_(candidates)))
        .order_by(RecordFile.id)))
    live = [r for r in rows if r.state != FileState.DESTROYED]
    found = (live or rows)[0] if rows else None
    if found is None:
        raise NotFound("DES002", record=code)
    return found


def record_code(rf: RecordFile) -> str:
    return rf.arc_file_code or rf.file_code


def active_hold(s: Session, record_file_id: int) -> LegalHold | None:
    return s.scalar(sa.select(LegalHold).where(LegalHold.record_file_id == record_file_id,
                                               LegalHold.lifted_at.is_(None))
                    .order_by(LegalHold.id).limit(1))


def held_ids(s: Session) -> sa.Select[Any]:
    """Ids of hồ sơ under an active legal hold (a subquery)."""
    return sa.select(LegalHold.record_file_id).where(LegalHold.lifted_at.is_(None))


def refuse_if_held(s: Session, rf: RecordFile) -> None:
    hold = active_hold(s, rf.id)
    if hold is not None:
        raise Conflict("DES004", record=record_code(rf), hold=hold.id, by=hold.placed_by,
                       hold_reason=hold.reason)


def refuse_if_destroyed(s: Session, rf: RecordFile) -> None:
    if rf.state == FileState.DESTROYED:
        stone = s.scalar(sa.select(Tombstone).where(Tombstone.record_file_id == rf.id).limit(1))
        raise Conflict("DES006", record=record_code(rf),
                       at=iso(stone.executed_at) if stone else "?",
                       case=stone.case_id if stone else "?")


def refuse_if_permanent(rf: RecordFile) -> None:
    if rf.maintenance == PERMANENT:
        raise Conflict("DES003", record=record_code(rf))


def open_case_of(s: Session, record_file_id: int) -> str | None:
    """The case not yet executed that already proposes this hồ sơ, if any."""
    return s.scalar(sa.select(DisposalCase.id).join(DisposalCaseItem)
                    .where(DisposalCaseItem.record_file_id == record_file_id,
                           DisposalCase.status != DisposalCaseStatus.EXECUTED.value).limit(1))


def aip_versions(s: Session, record_file_id: int) -> list[Package]:
    """Every AIP version of the hồ sơ that is still stored (not yet deleted)."""
    return list(s.scalars(sa.select(Package).where(
        Package.record_file_id == record_file_id, Package.kind == PackageKind.AIP.value,
        Package.status.in_((PackageStatus.ACTIVE.value, PackageStatus.SUPERSEDED.value)))
        .order_by(Package.version)))


def load_case(s: Session, case_id: str, *, for_update: bool = False) -> DisposalCase:
    case = s.get(DisposalCase, case_id, with_for_update=for_update) \
        if ID_FORM.fullmatch(case_id) else None
    if case is None:
        raise NotFound("DES001", id=case_id[:100])
    return case

"""The append-only audit log. Entries are hash-chained so a rewritten history is detectable.

Database triggers refuse UPDATE and DELETE; the unique ``prev_hash`` keeps the chain linear
(two writers racing for the same predecessor cannot both commit).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from preservation.catalog.models import AuditEntry, utcnow

GENESIS = "0" * 64


def _digest(prev_hash: str, entry: AuditEntry) -> str:
    body = json.dumps(
        [prev_hash, entry.at.isoformat(timespec="microseconds").replace("+00:00", ""),
         entry.actor, entry.action, entry.object_type, entry.object_id, entry.detail],
        ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(
    session: Session,
    actor: str,
    action: str,
    object_type: str | None = None,
    object_id: object = None,
    **detail: Any,
) -> AuditEntry:
    """Append one entry in the caller's transaction, so it commits with the change it records."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(727274)"))
    last = session.execute(
        sa.select(AuditEntry.entry_hash).order_by(AuditEntry.id.desc()).limit(1)
    ).scalar()
    entry = AuditEntry(
        at=utcnow().replace(tzinfo=None),
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=None if object_id is None else str(object_id),
        detail=json.loads(json.dumps(detail, default=str)),
        prev_hash=last or GENESIS,
    )
    entry.entry_hash = _digest(entry.prev_hash, entry)
    session.add(entry)
    session.flush()
    return entry


def verify_chain(session: Session) -> list[int]:
    """Ids of entries whose hash or link does not match: empty when the log is intact."""
    broken: list[int] = []
    prev = GENESIS
    for entry in session.scalars(sa.select(AuditEntry).order_by(AuditEntry.id)):
        at = entry.at.replace(tzinfo=None)
        probe = AuditEntry(at=at, actor=entry.actor, action=entry.action,
                           object_type=entry.object_type, object_id=entry.object_id,
                           detail=entry.detail)
        if entry.prev_hash != prev or _digest(entry.prev_hash, probe) != entry.entry_hash:
            broken.append(entry.id)
        prev = entry.entry_hash
    return broken


def entry_matches(prev_hash: str, entry: dict[str, Any]) -> bool:
    """Whether a mirrored entry (``at`` a naive UTC datetime) hashes to its ``entry_hash``
    after ``prev_hash``: the check a restored chain must pass before it is believed."""
    probe = AuditEntry(at=entry["at"], actor=entry.get("actor"), action=entry.get("action"),
                       object_type=entry.get("object_type"), object_id=entry.get("object_id"),
                       detail=entry.get("detail"))
    return entry.get("prev_hash") == prev_hash and _digest(prev_hash, probe) == entry["entry_hash"]


def restore(session: Session, entries: list[dict[str, Any]]) -> int:
    """Append mirrored entries, in chain order, exactly as they were (id, time, hashes) into an
    empty log, so ``verify_chain`` holds over them and new entries chain on from the last."""
    if session.scalar(sa.select(AuditEntry.id).limit(1)) is not None:
        raise ValueError("the audit log is not empty")
    prev, last_id = GENESIS, 0
    for entry in entries:
        if not entry_matches(prev, entry) or not int(entry.get("id") or 0) > last_id:
            raise ValueError(f"audit entry {entry.get('id')} does not follow on from the chain")
        prev, last_id = entry["entry_hash"], int(entry["id"])
    if entries:
        # their own ids too: the mirrors are named by id, and the next entry must follow on
        session.execute(sa.insert(AuditEntry), [
            {k: e.get(k) for k in ("id", "at", "actor", "action", "object_type", "object_id",
                                   "detail", "prev_hash", "entry_hash")} for e in entries])
        if session.get_bind().dialect.name == "postgresql":
            session.execute(sa.text("SELECT setval(pg_get_serial_sequence('audit_log', 'id'), "
                                    "(SELECT max(id) FROM audit_log))"))
    return len(entries)

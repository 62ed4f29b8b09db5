"""A destruction case not yet executed (proposed, appraised by its council, decided, its
execution started), as every storage location keeps it: until ``case.json`` is written at the
execution (``storage.disposal_file``), the case lives in the catalog alone, and a catalog
rebuilt from storage would lose the record that these hồ sơ were proposed for destruction.

Each change of a case's state (``access_api.services.disposal``: create, add a hồ sơ, an
opinion, the decision, the start of the execution) writes, in the same transaction and before
it commits, ``{archive}/_disposal/{case}/state-{seq:06d}-{sha8}.json``: the whole case as it
stands after the change, write-once in every location. ``seq`` counts the case's audit-log
entries (one per change, under the case's row lock); the name ends with the first 8 hex
digits of the file's SHA-256, as history batches do (``storage.history``), so that a damaged
file is seen. A change that could not be written to every location is not made (DES201);
one written but then not committed leaves a file naming a state that never was, with the same
``seq`` as the retry's: the later ``written_at`` wins. The rebuild takes the highest intact
state of a case that has no ``case.json``.

Files are small (a case of 2,000 hồ sơ is about 0.6 MB) and never rewritten: each state stays,
which is also the case's history as storage keeps it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from preservation.catalog.models import AuditEntry, DisposalCase, DisposalListing, utcnow
from preservation.catalog.vocab import DisposalCaseStatus, DisposalReason
from preservation.packaging.aip.layout import disposal_prefix
from storage.disposal_file import (
    CASE_ID,
    CaseFileError,
    Member,
    _code,
    _decision,
    _dict,
    _list,
    _member,
    _must,
    _text,
    _when,
)

FORMAT = 1
KIND = "khoso-disposal-case-state"
STATE_FILE = re.compile(r"state-(\d{6,12})-([0-9a-f]{8})\.json")
MAX_BYTES = 8 * 2**20  # 2,000 hồ sơ with long listing details stay far below
CASE_OBJECT = "disposal_case"  # the audit object type of a case's changes


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()


def state_key(archive_code: str, case_id: str, seq: int, data: bytes) -> str:
    return (f"{disposal_prefix(archive_code, case_id)}state-{seq:06d}-"
            f"{hashlib.sha256(data).hexdigest()[:8]}.json")


def parse_state_key(key: str) -> int | None:
    """The ``seq`` of a state file's key, None for any other file of the case folder."""
    m = STATE_FILE.fullmatch(key.rsplit("/", 1)[-1])
    return int(m[1]) if m else None


def sealed(key: str, data: bytes) -> bool:
    """The bytes are the ones the name was made from."""
    m = STATE_FILE.fullmatch(key.rsplit("/", 1)[-1])
    return m is not None and hashlib.sha256(data).hexdigest()[:8] == m[2]


# -- writing ------------------------------------------------------------------------------------

def encode(s: Session, case: DisposalCase, archive_code: str) -> tuple[str, bytes]:
    """(key, bytes) of the case's state as the session sees it (flushed, not yet committed)."""
    s.flush()
    seq = s.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.object_type == CASE_OBJECT, AuditEntry.object_id == case.id)) or 0
    ids = [i.record_file_id for i in case.items]
    listed = {r.record_file_id: r for r in s.scalars(sa.select(DisposalListing).where(
        DisposalListing.record_file_id.in_(ids)))} if ids else {}
    items = []
    for i in case.items:
        rf, entry = i.record_file, listed.get(i.record_file_id)
        items.append({
            "arc_file_code": rf.arc_file_code, "file_code": rf.file_code,
            "added_by": i.added_by, "added_at": _iso(i.added_at),
            "listing": None if entry is None else {
                "reason": entry.reason, "detail": dict(entry.detail or {}),
                "listed_at": _iso(entry.listed_at), "listed_by": entry.listed_by}})
    doc = {
        "format": FORMAT, "kind": KIND, "archive": archive_code, "seq": seq,
        "written_at": _iso(utcnow()),
        "case": {"id": case.id, "title": case.title, "explanation": case.explanation,
                 "proposer": case.proposer, "status": case.status,
                 "created_at": _iso(case.created_at), "decisions": list(case.decisions or []),
                 "decided_by": case.decided_by, "decided_at": _iso(case.decided_at),
                 "deadline": _iso(case.deadline),
                 "execution_started_at": _iso(case.execution_started_at),
                 "executed_by": case.executed_by},
        "items": items,
        "council": [{"username": m.username, "opinion": m.opinion, "comment": m.comment,
                     "opinion_at": _iso(m.opinion_at)} for m in case.council],
    }
    data = json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=1,
                      default=str).encode("utf-8")
    return state_key(archive_code, case.id, seq, data), data


# -- reading ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Listed:
    reason: str
    detail: dict[str, Any]
    listed_at: dt.datetime
    listed_by: str


@dataclass(frozen=True)
class Item:
    arc_file_code: str | None
    file_code: str
    added_by: str
    added_at: dt.datetime
    listing: Listed | None

    @property
    def code(self) -> str:
        return self.arc_file_code or self.file_code


@dataclass(frozen=True)
class CaseState:
    """What one state file says of a case not yet executed."""

    seq: int
    written_at: dt.datetime
    id: str
    title: str
    explanation: str
    proposer: str
    status: DisposalCaseStatus
    created_at: dt.datetime
    decisions: tuple[dict[str, Any], ...]
    decided_by: str | None
    decided_at: dt.datetime | None
    deadline: dt.datetime | None
    execution_started_at: dt.datetime | None
    executed_by: str | None
    items: tuple[Item, ...]
    council: tuple[Member, ...]


def _listing(obj: Any, field: str) -> Listed | None:
    if obj is None:
        return None
    d = _dict(obj, field)
    reason = d.get("reason")
    if reason not in tuple(DisposalReason):
        raise CaseFileError(f"{field}.reason", f"not a listing reason: {str(reason)[:20]!r}")
    at = _when(d.get("listed_at"), f"{field}.listed_at")
    assert at is not None
    return Listed(str(reason), _dict(d.get("detail", {}), f"{field}.detail"), at,
                  _must(d, "listed_by", field, most=80))


def _item(obj: Any, field: str) -> Item:
    d = _dict(obj, field)
    file_code = _code(d, "file_code", field)
    assert file_code is not None
    at = _when(d.get("added_at"), f"{field}.added_at")
    assert at is not None
    return Item(_code(d, "arc_file_code", field, optional=True), file_code,
                _must(d, "added_by", field, most=80), at,
                _listing(d.get("listing"), f"{field}.listing"))


def parse_state(data: bytes, archive: str, case_id: str) -> CaseState:
    """A state file of the case in folder ``case_id``, checked whole; ``CaseFileError``."""
    if not CASE_ID.fullmatch(case_id):
        raise CaseFileError("folder", f"not a case id: {case_id[:60]!r}")
    if len(data) > MAX_BYTES:
        raise CaseFileError("state", f"larger than {MAX_BYTES} bytes")
    try:
        doc = _dict(json.loads(data.decode("utf-8")), "state")
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise CaseFileError("state", f"not JSON: {str(exc)[:120]}") from None
    if doc.get("kind") != KIND or doc.get("format") != FORMAT:
        raise CaseFileError("format", f"not a case state of format {FORMAT}")
    if doc.get("archive") != archive:
        raise CaseFileError("archive", f"not this archive's ({archive})")
    case = _dict(doc.get("case"), "case")
    if case.get("id") != case_id:
        raise CaseFileError("case.id", "not the folder's case id")
    status = case.get("status")
    if status not in (DisposalCaseStatus.REVIEW, DisposalCaseStatus.APPROVED):
        raise CaseFileError("case.status", f"not a case under way: {str(status)[:20]!r}")
    seq = doc.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool) or seq < 0:
        raise CaseFileError("seq", "expected a whole number")
    decisions = tuple(_decision(d, f"case.decisions[{i}]", archive, case_id)
                      for i, d in enumerate(_list(case.get("decisions"), "case.decisions")))
    if status == DisposalCaseStatus.APPROVED and not decisions:
        raise CaseFileError("case.decisions", "an approved case without a decision")
    items = tuple(_item(d, f"items[{i}]") for i, d in enumerate(_list(doc.get("items"),
                                                                      "items")))
    codes = [i.code for i in items]
    if len(set(codes)) != len(codes):
        raise CaseFileError("items", "a hồ sơ is named twice")
    written, created = _when(doc.get("written_at"), "written_at"), \
        _when(case.get("created_at"), "case.created_at")
    assert written is not None and created is not None
    return CaseState(
        seq, written, case_id, _must(case, "title", "case", most=500),
        _must(case, "explanation", "case", most=10**6), _must(case, "proposer", "case", most=80),
        DisposalCaseStatus(status), created, decisions,
        _text(case, "decided_by", "case", most=80, optional=True),
        _when(case.get("decided_at"), "case.decided_at", optional=True),
        _when(case.get("deadline"), "case.deadline", optional=True),
        _when(case.get("execution_started_at"), "case.execution_started_at", optional=True),
        _text(case, "executed_by", "case", most=80, optional=True), items,
        tuple(_member(m, f"council[{i}]") for i, m in enumerate(_list(doc.get("council"),
                                                                      "council"))))


def newest_first(keys: Iterable[str]) -> list[str]:
    """A case's state keys, highest ``seq`` first (same ``seq``: read them all, the later
    ``written_at`` wins)."""
    return sorted({k for k in keys if parse_state_key(k) is not None},
                  key=lambda k: (parse_state_key(k) or 0, k), reverse=True)

"""Hồ sơ and tài liệu between their TT 05 EAD form and the catalog.

Column names are the snake_case of the TT 05 element names, so the mapping is mechanical and
driven by the field tables in ``schemas/tt05.json``. Partial dates are stored as ISO prefixes
(``2001``, ``2001-03``, ``2001-03-15``): they keep their precision and sort correctly as text.
"""

from __future__ import annotations

import re
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from preservation.catalog import audit
from preservation.catalog.models import Document, Fonds, RecordFile
from preservation.errors import ValidationFailed
from preservation.issues import Report
from preservation.metadata.codelists import field_specs
from preservation.metadata.dates import TTDate
from preservation.metadata.ead import EadRecord, check_values
from preservation.metadata.retention import DEFAULT_RULE, RetentionRule, expiry
from preservation.metadata.rules import check_rules

DOCUMENT_KIND = {"doc": "van_ban", "pic": "pic", "media": "media"}
EAD_KIND = {v: k for k, v in DOCUMENT_KIND.items()}
# Elements that are not columns of their own: a document's arcFileCode is its file's code.
_NOT_COLUMNS = {"arcFileCode"}


def column(element: str) -> str:
    if element == "language":
        return "languages"
    return re.sub(r"(?<!^)(?=[A-Z])", "_", element).lower()


def iso_date(value: TTDate) -> str:
    parts = [f"{value.year:04d}"] + [f"{p:02d}" for p in (value.month, value.day) if p]
    return "-".join(parts)


def from_iso(text: str) -> TTDate:
    numbers = [int(p) for p in text.split("-")]
    return TTDate(*numbers)


def _to_column(spec_type: str, value: Any) -> Any:
    if spec_type == "date":
        return iso_date(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def _from_column(spec_type: str, value: Any) -> Any:
    if spec_type == "date":
        return from_iso(value)
    if isinstance(value, list):
        return tuple(value)
    return value


def _columns(record: EadRecord) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for spec in field_specs(record.package, record.kind):
        if spec.name in _NOT_COLUMNS and record.kind != "hoso":
            continue
        if spec.name in record.values:
            out[column(spec.name)] = _to_column(spec.type, record.values[spec.name])
    return out


def _record(row: Any, package: str, kind: str, extra: dict[str, Any]) -> EadRecord:
    values: dict[str, Any] = {}
    for spec in field_specs(package, kind):
        if spec.name in extra:
            values[spec.name] = extra[spec.name]
            continue
        value = getattr(row, column(spec.name), None)
        if value is None or value == [] or value == "":
            continue
        values[spec.name] = _from_column(spec.type, value)
    return EadRecord(package, kind, values)


def validate_record(record: EadRecord) -> EadRecord:
    """The value and cross-field checks a hồ sơ or document row passes before it is written
    (``ValidationFailed`` otherwise); the record itself, for use in an expression."""
    report = Report()
    report.extend(check_values(record).issues)
    report.extend(check_rules(record).issues)
    if not report.ok:
        raise ValidationFailed(report)
    return record


def save_record_file(session: Session, fonds: Fonds, record: EadRecord, *,
                     retention_years: int | None = None, rule: RetentionRule = DEFAULT_RULE,
                     actor: str = "system", audit_entry: bool = True) -> RecordFile:
    """Register a hồ sơ from its package EAD; computes the retention expiry."""
    if record.kind != "hoso":
        raise ValueError("expected a hồ sơ EAD record")
    validate_record(record)
    values = _columns(record)
    rf = RecordFile(fonds=fonds, retention_years=retention_years, **values)
    if rf.file_code is None and rf.arc_file_code:
        rf.file_code = rf.arc_file_code
    # validate_record checked both: a TTDate and a code
    rf.retention_expires_on = expiry(cast(TTDate, record.values["endDate"]),
                                     cast(str, record.values["maintenance"]), retention_years, rule)
    session.add(rf)
    session.flush()
    if audit_entry:
        audit.record(session, actor, "record_file.create", "record_file",
                     rf.arc_file_code or rf.file_code, title=rf.title)
    return rf


def record_file_ead(rf: RecordFile, package: str = "AIP") -> EadRecord:
    """The package EAD of a hồ sơ: ``arcFileCode`` for an AIP, ``fileCode`` for a SIP."""
    return _record(rf, package, "hoso", {})


def save_document(session: Session, record: EadRecord, *, record_file: RecordFile | None = None,
                  package_id: int | None = None, actor: str = "system",
                  audit_entry: bool = True) -> Document:
    if record.kind not in DOCUMENT_KIND:
        raise ValueError("expected a document EAD record")
    validate_record(record)
    doc = Document(kind=DOCUMENT_KIND[record.kind], record_file=record_file,
                   package_id=package_id, **_columns(record))
    session.add(doc)
    if audit_entry:
        session.flush()
        audit.record(session, actor, "document.create", "document",
                     doc.arc_doc_code or doc.doc_code or doc.doc_id)
    return doc


def insert_documents(session: Session, records: list[EadRecord], *, record_file_id: int | None,
                     package_id: int | None) -> list[int]:
    """Bulk-insert documents whose records were already checked (an AIP's EADs are written by
    the strict writer) with one Core executemany; callers with tens of thousands (a hồ sơ may
    hold that many) pass them a chunk at a time."""
    if not records:
        return []
    columns = [_columns(r) for r in records]
    names = sorted({k for c in columns for k in c})
    rows = [{"kind": DOCUMENT_KIND[r.kind], "record_file_id": record_file_id,
             "package_id": package_id, **{n: c.get(n) for n in names}}
            for r, c in zip(records, columns, strict=True)]
    for row in rows:
        row.setdefault("languages", [])
        if row["languages"] is None:
            row["languages"] = []
    table = cast(sa.Table, Document.__table__)
    return list(session.execute(sa.insert(table).returning(
        table.c.id, sort_by_parameter_order=True), rows).scalars())


def document_ead(doc: Document, package: str = "AIP") -> EadRecord:
    extra: dict[str, Any] = {}
    if doc.record_file is not None and doc.record_file.arc_file_code:
        extra["arcFileCode"] = doc.record_file.arc_file_code
    specs = {s.name for s in field_specs(package, EAD_KIND[doc.kind])}
    return _record(doc, package, EAD_KIND[doc.kind], {k: v for k, v in extra.items() if k in specs})

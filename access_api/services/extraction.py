"""Bóc tách thông tin (#16): propose a văn bản's fields from its OCR text, and let an archivist
confirm or correct them.

``run`` reads the document's OCR text (``SearchEntry.ocr_text``, filled by the digitisation
import) or text the caller sends, runs the pure extractor (``preservation.metadata.extraction``)
and stores the proposal; a pending proposal of the same document is superseded. ``confirm``
takes the archivist's corrections, and when the confirmed values differ from the record, makes
a new AIP version holding the corrected document EAD through ``versions.update_metadata`` —
exactly as a metadata correction does (PREMIS and replication included); then it records who
confirmed what. Every run and confirmation is in the audit log.

``propose_for_document`` is the door the digitisation import calls after each document.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from access_api.services import versions
from access_api.services.base import Identity, ServiceContext, UserRole
from access_api.services.catalog import (
    REP_METS,
    content_bitstreams,
    doc_code,
    document_for,
    stored_file,
)
from access_api.services.delivery import deliver
from access_api.services.uow import MirrorAuditLog, UnitOfWork
from preservation.catalog import audit
from preservation.catalog.models import (
    Agency,
    Document,
    ExtractionProposal,
    Package,
    SearchEntry,
    utcnow,
)
from preservation.catalog.records import EAD_KIND, from_iso
from preservation.catalog.vocab import DocumentKind, ExtractionSource, ExtractionStatus
from preservation.errors import Conflict, Forbidden, NotFound, ValidationFailed
from preservation.issues import Report
from preservation.metadata.codelists import codelist
from preservation.metadata.dates import TTDate
from preservation.metadata.ead import EadRecord, read_ead, write_ead
from preservation.metadata.extraction import FIELD_NAMES, extract
from preservation.metadata.xmlsafe import INVALID_CHARS
from preservation.packaging.read import read_mets

EXTRACTOR = "khoso-nd30-rules/1"  # bump when the rules change, so old proposals are told apart
DECIDERS = (UserRole.ADMIN, UserRole.ARCHIVIST)
MAX_LENGTH = {"codeNumber": 11, "codeNotation": 30, "organName": 200, "subject": 500}
COLUMNS = {"typeName": "type_name", "codeNumber": "code_number",
           "codeNotation": "code_notation", "issuedDate": "issued_date",
           "organName": "organ_name", "subject": "subject"}
BAD_TEXT = re.compile(f"[{INVALID_CHARS}]")
MAX_KNOWN_ORGANS = 5000


@dataclass(frozen=True)
class ProposalView:
    """One proposal as the archivist sees it, beside the record's current values."""

    id: str
    doc_code: str
    status: str
    source: str
    extractor: str
    fields: dict[str, Any]
    current: dict[str, str | None]
    created_by: str
    created_at: dt.datetime
    decided_by: str | None
    decided_at: dt.datetime | None
    final: dict[str, Any] | None
    corrected: list[str] | None
    objid: str | None
    version: int | None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "docCode": self.doc_code, "status": self.status,
                "source": self.source, "extractor": self.extractor, "fields": self.fields,
                "current": self.current, "createdBy": self.created_by,
                "createdAt": self.created_at, "decidedBy": self.decided_by,
                "decidedAt": self.decided_at, "final": self.final,
                "corrected": self.corrected, "objid": self.objid, "version": self.version}


def _decider(identity: Identity) -> None:
    if not identity.has(*DECIDERS):
        raise Forbidden("AUTH004")


def _current(d: Document) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for name, col in COLUMNS.items():
        value = getattr(d, col)
        if name == "issuedDate" and value:
            value = from_iso(value).format()
        values[name] = value
    return values


def _view(row: ExtractionProposal, d: Document) -> ProposalView:
    return ProposalView(row.id, row.doc_code, row.status, row.source, row.extractor,
                        dict(row.fields), _current(d), row.created_by, row.created_at,
                        row.decided_by, row.decided_at, row.final, row.corrected, row.objid,
                        row.version)


def _van_ban(s: Session, ctx: ServiceContext, identity: Identity, code: str) -> Document:
    d, _access = document_for(s, ctx, identity, code, with_request=False)
    if d.kind != DocumentKind.VAN_BAN:
        raise ValidationFailed(_one("EXT010", "docCode", doc=doc_code(d), kind=EAD_KIND[d.kind]),
                               "EXT012")
    return d


def _one(code: str, path: str, **params: Any) -> Report:
    report = Report()
    report.add(code, path, **params)
    return report


def _latest(s: Session, d: Document) -> ExtractionProposal | None:
    return s.scalar(sa.select(ExtractionProposal).where(ExtractionProposal.document_id == d.id)
                    .order_by(ExtractionProposal.created_at.desc(),
                              ExtractionProposal.id.desc()).limit(1))


def _ocr_text(s: Session, d: Document) -> str | None:
    return s.scalar(sa.select(SearchEntry.ocr_text).where(
        SearchEntry.document_id == d.id, SearchEntry.kind == "document",
        SearchEntry.ocr_text.is_not(None)).order_by(SearchEntry.id.desc()).limit(1))


def _known_organs(s: Session) -> list[str]:
    return list(s.scalars(sa.select(Agency.name).order_by(Agency.id).limit(MAX_KNOWN_ORGANS)))


def run(ctx: ServiceContext, identity: Identity, code: str,
        text: str | None = None) -> ProposalView:
    """Extract the fields of document ``code`` from ``text`` or, without it, from its OCR
    text; store the proposal (superseding a pending one) and write the audit log."""
    _decider(identity)
    limit = ctx.settings.extraction_max_text
    if text is not None and len(text) > limit:
        raise ValidationFailed(_one("EXT002", "text", chars=len(text), limit=limit), "EXT012")
    with UnitOfWork(ctx) as uow:
        s = uow.session
        d = _van_ban(s, ctx, identity, code)
        source = ExtractionSource.TEXT
        if text is None:
            source = ExtractionSource.OCR
            text = _ocr_text(s, d)
            if not text or not text.strip():
                raise ValidationFailed(_one("EXT001", "text", doc=doc_code(d)), "EXT012")
            text = text[:limit]
        proposal = extract(text, _known_organs(s))
        for pending in s.scalars(sa.select(ExtractionProposal).where(
                ExtractionProposal.document_id == d.id,
                ExtractionProposal.status == ExtractionStatus.PROPOSED)):
            pending.status = ExtractionStatus.SUPERSEDED.value
        row = ExtractionProposal(
            document_id=d.id, doc_code=doc_code(d), source=source.value,
            text_sha256=hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest(),
            text_chars=len(text), extractor=EXTRACTOR, fields=proposal.as_dict(),
            created_by=identity.actor, created_at=utcnow())
        s.add(row)
        s.flush()
        audit.record(s, identity.actor, "extraction.proposed", "document", row.doc_code,
                     proposal=row.id, source=row.source, text_sha256=row.text_sha256,
                     values=proposal.values())
        uow.register(MirrorAuditLog())
        return _view(row, d)


def propose_for_document(ctx: ServiceContext, doc_code: str, text: str,
                         actor: str = "khoso-digitise") -> ProposalView:
    """For the digitisation import: propose fields from the OCR text just made."""
    return run(ctx, Identity.system(actor), doc_code,
               text[:ctx.settings.extraction_max_text])


def current(ctx: ServiceContext, identity: Identity, code: str) -> ProposalView:
    """The document's newest proposal; ``NotFound`` (EXT003) when it never had one."""
    _decider(identity)
    with ctx.catalog.reading() as s:
        d = _van_ban(s, ctx, identity, code)
        row = _latest(s, d)
        if row is None:
            raise NotFound("EXT003", doc=doc_code(d))
        return _view(row, d)


def _checked(corrections: Mapping[str, str | None]) -> dict[str, str | None]:
    """The corrections, normalised, or ``ValidationFailed`` (EXT009) with every problem."""
    report = Report()
    out: dict[str, str | None] = {}
    types = codelist("typeName")
    for name, raw in corrections.items():
        value = " ".join(raw.split()) if raw is not None else None
        if not value:
            out[name] = None
            continue
        if BAD_TEXT.search(value):
            report.add("EXT008", name, field=name)
            continue
        if name == "typeName" and value not in types:
            report.add("EXT005", name, value=value[:40])
        elif name == "issuedDate":
            try:
                value = TTDate.parse(value).format()
            except Exception:  # noqa: BLE001 — any unparseable date is the same answer
                report.add("EXT006", name, value=value[:40])
        elif name in MAX_LENGTH and len(value) > MAX_LENGTH[name]:
            report.add("EXT007", name, field=name, length=len(value), max=MAX_LENGTH[name])
        out[name] = value
    if report.errors:
        raise ValidationFailed(report, "EXT009")
    return out


def _document_ead(ctx: ServiceContext, identity: Identity, d: Document,
                  objid: str) -> tuple[str, bytes]:
    """The document's EAD (its bag path and bytes) as the newest AIP version holds it: the
    rep1 METS says which EAD describes the document's files."""
    with ctx.catalog.reading() as s:
        paths = {b.path for b in content_bitstreams(s, d)}
        mets = stored_file(s, objid, REP_METS)
    if mets is None:
        raise NotFound("EXT011", doc=doc_code(d))
    with deliver(ctx, identity, mets).file as handle:
        rep = read_mets(handle.read(), rep=True)[0]
    path = next((f"data/{doc.ead.path}" for doc in rep.documents
                 if doc.ead and doc.ead.path
                 and paths & {f"data/{f.path}" for f in doc.files if f.path}), None)
    with ctx.catalog.reading() as s:
        ead = stored_file(s, objid, path) if path else None
    if path is None or ead is None:
        raise NotFound("EXT011", doc=doc_code(d))
    with deliver(ctx, identity, ead).file as handle:
        return path, handle.read()


def _rewrite(data: bytes, final: Mapping[str, str | None]) -> bytes:
    record, _report = read_ead(data, "AIP", "doc")
    values = dict(record.values)
    for name, value in final.items():
        if value is not None:
            values[name] = TTDate.parse(value) if name == "issuedDate" else value
    return write_ead(EadRecord(record.package, record.kind, values))


def confirm(ctx: ServiceContext, identity: Identity, code: str,
            corrections: Mapping[str, str | None] | None = None) -> ProposalView:
    """Confirm the newest proposal of ``code`` with ``corrections`` (field → value; an empty
    value keeps the record's own). When the result differs from the record, a new AIP version
    holds the corrected EAD; the proposal then records who confirmed, what and which version."""
    _decider(identity)
    fixes = _checked(corrections or {})
    with ctx.catalog.reading() as s:
        d = _van_ban(s, ctx, identity, code)
        row = _latest(s, d)
        if row is None:
            raise NotFound("EXT003", doc=doc_code(d))
        _settled(row)
        proposal_id, proposed = row.id, {k: v.get("value") for k, v in row.fields.items()}
        now_values = _current(d)
        objid = s.scalar(sa.select(Package.objid).where(Package.id == d.package_id))
    final: dict[str, str | None] = {}
    for name in FIELD_NAMES:
        final[name] = fixes[name] if fixes.get(name) else (
            None if name in fixes else proposed.get(name))
    corrected = sorted(n for n, v in fixes.items() if v is not None and v != proposed.get(n))
    changes = {n: v for n, v in final.items() if v is not None and v != now_values.get(n)}
    version = None
    if changes:
        if objid is None:
            raise NotFound("EXT011", doc=doc_code(d))
        path, data = _document_ead(ctx, identity, d, objid)
        outcome = versions.update_metadata(
            ctx, identity, objid, package_ead=None, document_eads={path: _rewrite(data, changes)},
            reason=f"Bóc tách thông tin: xác nhận đề xuất {proposal_id} "
                   f"({', '.join(sorted(changes))})")
        version = outcome.version
    with UnitOfWork(ctx) as uow:
        s = uow.session
        row2 = s.get(ExtractionProposal, proposal_id)
        assert row2 is not None
        _settled(row2)  # a second archivist may have confirmed meanwhile
        row2.status = (ExtractionStatus.CORRECTED if corrected
                       else ExtractionStatus.CONFIRMED).value
        row2.decided_by, row2.decided_at = identity.actor, utcnow()
        row2.final, row2.corrected = final, corrected
        row2.objid, row2.version = (objid, version) if changes else (None, None)
        audit.record(s, identity.actor, f"extraction.{row2.status}", "document", row2.doc_code,
                     proposal=row2.id, corrected=corrected, changed=sorted(changes),
                     objid=objid, version=version)
        uow.register(MirrorAuditLog())
        d2 = s.get(Document, d.id)
        assert d2 is not None
        return _view(row2, d2)


def _settled(row: ExtractionProposal) -> None:
    if row.status != ExtractionStatus.PROPOSED:
        raise Conflict("EXT004", proposal=row.id, doc=row.doc_code, status=row.status,
                       by=row.decided_by or "khoso",
                       at=row.decided_at.isoformat(timespec="seconds") if row.decided_at else "")

"""Reading the catalog as readers and staff see it: phông, hồ sơ, tài liệu.

Codes. The catalog files a hồ sơ under its ``arcFileCode`` (``{archive}.{fileCode}``, TT 05
Phụ lục I; ``RecordFile.file_code`` holds the same value) and a document under its archival code
(``{arcFileCode}.{7 digits}``: ``docCode`` of a văn bản AIP EAD, ``arcDocCode`` of a picture or
recording). A caller may give either that code or the agency's code from the SIP (``fileCode``,
``docCode`` = ``{fileCode}.{7 digits}``): within one archive the second is the first without the
``{archive}.`` prefix, so both name the same row and the archival code is what every answer
returns. ``docId`` is not kept in an AIP (PL I has no such element) and is not accepted.

Versions. Metadata corrections make AIP version N+1 and update the catalog rows in place, so a
row is always the newest version's data; every version is listed under its hồ sơ (``versions``)
and never as an entry of its own. The EAD ``?format=xml`` returns is the one the newest version
holds, read from storage and verified like any file (``access_api.services.delivery``).

Access (``access_api.services.policy``): a document's mode is its own ``mode`` or else its hồ
sơ's. What the caller may not see does not exist for them (404, and not counted); each hồ sơ or
document a caller who is not staff opens is a VIEW in the access register.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from access_api.services.base import Identity, ServiceContext, UserRole
from access_api.services.delivery import Source, StoredFile, deliver
from access_api.services.policy import effective_mode, is_staff, may_read, may_see, visible_modes
from preservation.catalog import access_register
from preservation.catalog.models import (
    AccessRequest,
    Agency,
    ArchiveBody,
    Bitstream,
    Document,
    Fonds,
    Package,
    RecordFile,
    StoredCopy,
)
from preservation.catalog.queries import AUDITED_STATUSES
from preservation.catalog.records import EAD_KIND, column
from preservation.catalog.vocab import AccessAction, FileState, PackageKind
from preservation.errors import NotFound
from preservation.issues import Noun
from preservation.metadata.codelists import field_specs
from preservation.packaging.read import read_mets

PACKAGE_EAD = "data/metadata/descriptive/EAD.xml"
REP_METS = "data/representations/rep1/METS.xml"
CONTENT_PREFIX = "data/representations/rep1/data/"
MAX_CODE = 300
GONE = (FileState.DESTROYED.value, FileState.TRANSFERRED.value)


# -- codes ------------------------------------------------------------------------------------

def storable(code: str) -> bool:
    """Whether ``code`` could be a code the catalog holds: no control character (PostgreSQL
    text refuses NUL outright) and no longer than a code column."""
    return 0 < len(code) <= MAX_CODE and not any(unicodedata.category(c) == "Cc" for c in code)


def code_candidates(settings_archive: str, code: str) -> list[str]:
    """The archival code ``code`` may stand for: itself, and ``{archive}.{code}`` when it is
    the agency's code (no archive prefix)."""
    if code.startswith(f"{settings_archive}."):
        return [code]
    return [code, f"{settings_archive}.{code}"]


def find_record(s: Session, archive: str, code: str) -> RecordFile | None:
    if not storable(code):
        return None
    candidates = code_candidates(archive, code)
    rows = list(s.scalars(sa.select(RecordFile).where(
        sa.or_(RecordFile.arc_file_code.in_(candidates), RecordFile.file_code.in_(candidates)),
        RecordFile.state.not_in(GONE)).order_by(RecordFile.id)))
    by_code = {r.arc_file_code or r.file_code: r for r in rows}
    return next((by_code[c] for c in candidates if c in by_code), rows[0] if rows else None)


def find_document(s: Session, archive: str, code: str) -> Document | None:
    if not storable(code):
        return None
    candidates = code_candidates(archive, code)
    rows = list(s.scalars(sa.select(Document).where(
        sa.or_(Document.arc_doc_code.in_(candidates), Document.doc_code.in_(candidates)))
        .order_by(Document.id)))
    by_code = {doc_code(d): d for d in rows}
    return next((by_code[c] for c in candidates if c in by_code), rows[0] if rows else None)


def doc_code(d: Document) -> str:
    """A document's archival code, whichever TT 05 element holds it."""
    return d.arc_doc_code or d.doc_code or d.doc_id or str(d.id)


def doc_title(d: Document) -> str | None:
    return d.subject or d.image_title or d.movie_title or d.event_name


# -- access -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Access:
    """What the caller may do with one document (or hồ sơ), decided once per request."""

    mode: str | None  # effective TT 05 mode
    organ_id: str | None  # the submitting agency
    request_id: str | None = None  # the approved access request that opens mode 02
    purpose: str | None = None

    def content(self, identity: Identity) -> bool:
        return may_read(identity, self.mode, self.organ_id,
                        approved_request=self.request_id is not None)


def _organ(s: Session, package_id: int | None) -> str | None:
    if package_id is None:
        return None
    return s.scalar(sa.select(Agency.organ_id).join(Package, Package.agency_id == Agency.id)
                    .where(Package.id == package_id))


def _record_package(s: Session, rf: RecordFile) -> Package | None:
    return s.scalar(sa.select(Package).where(
        Package.record_file_id == rf.id, Package.kind == PackageKind.AIP,
        Package.status.in_(AUDITED_STATUSES)).order_by(Package.version.desc()).limit(1))


def document_access(s: Session, identity: Identity, d: Document, *,
                    with_request: bool = True) -> Access:
    """The document's effective mode and agency; ``NotFound`` when the caller may not see it.
    With ``with_request``, the caller's approved request for it (what opens mode 02)."""
    mode = effective_mode(d.mode, d.record_file.mode if d.record_file is not None else None)
    organ = _organ(s, d.package_id)
    if not may_see(identity, mode, organ):
        raise NotFound("GEN002", what=Noun.DOCUMENT, key=doc_code(d))
    request_id = purpose = None
    if with_request and identity.roles and not may_read(identity, mode, organ):
        codes = [doc_code(d)] + ([d.doc_code] if d.doc_code and d.doc_code != doc_code(d) else [])
        for code in codes:
            request_id = access_register.approved_request_for(s, identity.actor, code)
            if request_id:
                break
        if request_id:
            row = s.get(AccessRequest, request_id)
            purpose = row.purpose_content or row.purpose if row is not None else None
    return Access(mode, organ, request_id, purpose)


def register_view(s: Session, identity: Identity, object_type: str, object_id: str,
                  access: Access | None = None, **detail: Any) -> None:
    """A VIEW in the access register for a caller who is not staff (the callers open the write
    session only for them)."""
    if not is_staff(identity):
        access_register.record(s, identity.actor, AccessAction.VIEW, object_type, object_id,
                               purpose=access.purpose if access else None,
                               request_id=access.request_id if access else None, **detail)


# -- TT 05 fields -------------------------------------------------------------------------------

def tt05_values(row: Any, kind: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The row's columns under their TT 05 element names (``records.column``), AIP table of
    ``kind``; dates as the ISO prefixes the catalog keeps (``2001``, ``2001-03``, ``2001-03-15``)."""
    out: dict[str, Any] = {}
    for spec in field_specs("AIP", kind):
        if extra and spec.name in extra:
            out[spec.name] = extra[spec.name]
            continue
        value = getattr(row, column(spec.name), None)
        if spec.multi:
            value = list(value or [])
        out[spec.name] = value
    return out


# -- fonds ------------------------------------------------------------------------------------

def _visible_records(identity: Identity) -> sa.ColumnElement[bool]:
    modes = [m.value for m in visible_modes(identity)]
    clause: sa.ColumnElement[bool] = RecordFile.mode.in_(modes)
    if identity.agency and identity.has(UserRole.AGENCY_SUBMITTER):
        own = sa.exists().where(Package.record_file_id == RecordFile.id,
                                Package.agency_id == Agency.id,
                                Agency.organ_id == identity.agency)
        clause = sa.or_(clause, own)
    return sa.and_(clause, RecordFile.state.not_in(GONE))


def _fonds_dict(f: Fonds, records: int) -> dict[str, Any]:
    return {"fondCode": f.fond_code, "fondName": f.fond_name, "status": f.status,
            "fondHistory": f.fond_history, "archivesTime": f.archives_time,
            "totalDoc": f.total_doc, "classificationScheme": f.classification_scheme,
            "language": list(f.languages or []), "riskRecovery": f.risk_recovery,
            "description": f.description, "records": records}


def _fonds_query(ctx: ServiceContext) -> sa.Select[Any]:
    return (sa.select(Fonds).join(ArchiveBody, ArchiveBody.id == Fonds.archive_body_id)
            .where(ArchiveBody.code == ctx.settings.archive_code))


def _record_counts(s: Session, identity: Identity, fonds_ids: Sequence[int]) -> dict[int, int]:
    rows = s.execute(sa.select(RecordFile.fonds_id, sa.func.count(RecordFile.id))
                     .where(RecordFile.fonds_id.in_(list(fonds_ids)), _visible_records(identity))
                     .group_by(RecordFile.fonds_id))
    return {fid: n for fid, n in rows}


def list_fonds(ctx: ServiceContext, identity: Identity, *, page: int,
               size: int) -> tuple[list[dict[str, Any]], int]:
    """The archive's fonds by code, a page at a time, each with the hồ sơ the caller sees."""
    with ctx.catalog.reading() as s:
        query = _fonds_query(ctx)
        total = s.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0
        rows: list[Fonds] = list(s.scalars(query.order_by(Fonds.fond_code).offset((page - 1) * size)
                              .limit(size)))
        counts = _record_counts(s, identity, [f.id for f in rows])
        return [_fonds_dict(f, counts.get(f.id, 0)) for f in rows], total


def get_fonds(ctx: ServiceContext, identity: Identity, fond_code: str) -> dict[str, Any]:
    """The ten TT 05 Điều 4 fields of one fonds and how many of its hồ sơ the caller sees."""
    with ctx.catalog.reading() as s:
        f: Fonds | None = s.scalar(_fonds_query(ctx).where(Fonds.fond_code == fond_code)) \
            if storable(fond_code) else None
        if f is None:
            raise NotFound("GEN002", what=Noun.FONDS, key=fond_code)
        return _fonds_dict(f, _record_counts(s, identity, [f.id]).get(f.id, 0))


# -- hồ sơ ------------------------------------------------------------------------------------

def _record(s: Session, ctx: ServiceContext, identity: Identity,
            code: str) -> tuple[RecordFile, Package | None, Access]:
    rf = find_record(s, ctx.settings.archive_code, code)
    if rf is None:
        raise NotFound("GEN002", what=Noun.RECORD, key=code)
    pkg = _record_package(s, rf)
    access = Access(rf.mode, _organ(s, pkg.id if pkg else None))
    if not may_see(identity, access.mode, access.organ_id):
        raise NotFound("GEN002", what=Noun.RECORD, key=code)
    return rf, pkg, access


def _versions(s: Session, objid: str) -> list[dict[str, Any]]:
    rows = s.scalars(sa.select(Package).where(
        Package.objid == objid, Package.kind == PackageKind.AIP,
        Package.status.in_(AUDITED_STATUSES)).order_by(Package.version))
    return [{"version": p.version, "status": p.status, "created_at": p.created_at,
             "label": p.label} for p in rows]


def get_record(ctx: ServiceContext, identity: Identity, code: str) -> dict[str, Any]:
    """A hồ sơ with every TT 05 field, its documents the caller may see and its AIP versions."""
    with ctx.catalog.reading() as s:
        rf, pkg, access = _record(s, ctx, identity, code)
        documents = []
        for d in rf.documents:
            mode = effective_mode(d.mode, rf.mode)
            if may_see(identity, mode, access.organ_id):
                documents.append({"docCode": doc_code(d), "kind": EAD_KIND[d.kind],
                                  "title": doc_title(d), "mode": mode})
        documents.sort(key=lambda d: d["docCode"] or "")  # a picture's ordinal is not a column
        fonds = s.get(Fonds, rf.fonds_id)
        body = {**tt05_values(rf, "hoso"), "fondCode": fonds.fond_code if fonds else None,
                "objid": pkg.objid if pkg else None, "documents": documents,
                "versions": _versions(s, pkg.objid) if pkg else []}
        seen = rf.arc_file_code or rf.file_code
    if not is_staff(identity):  # the register is written apart: reads take no lock
        with ctx.catalog.session() as s:
            register_view(s, identity, "record", seen, access)
    return body


# -- tài liệu ---------------------------------------------------------------------------------

def document_for(s: Session, ctx: ServiceContext, identity: Identity, code: str, *,
              with_request: bool = True) -> tuple[Document, Access]:
    d = find_document(s, ctx.settings.archive_code, code)
    if d is None:
        raise NotFound("GEN002", what=Noun.DOCUMENT, key=code)
    return d, document_access(s, identity, d, with_request=with_request)


def content_bitstreams(s: Session, d: Document) -> list[Bitstream]:
    """The document's content files, each as the newest version holding it."""
    rows = s.execute(sa.select(Bitstream, Package.version).join(
        Package, Package.id == Bitstream.package_id).where(
        Bitstream.document_id == d.id, Package.status.in_(AUDITED_STATUSES))
        .order_by(Bitstream.path, Package.version.desc()))
    newest: dict[str, Bitstream] = {}
    for b, _version in rows:
        newest.setdefault(b.path, b)
    return list(newest.values())


def file_name(path: str) -> str:
    """A content file's name in URLs: its last path segment (NFC, as the AIP stores it)."""
    return path.rsplit("/", 1)[-1]


def get_document(ctx: ServiceContext, identity: Identity, code: str) -> dict[str, Any]:
    """A document's TT 05 fields and its files, each with size, SHA-256, PUID and where to get
    it; ``access`` says whether the caller may receive the bytes (mode 02: with a request)."""
    with ctx.catalog.reading() as s:
        d, access = document_for(s, ctx, identity, code)
        kind = EAD_KIND[d.kind]
        arc_file = d.record_file.arc_file_code if d.record_file is not None else None
        code_ = doc_code(d)
        opened = access.content(identity)
        files = [{"name": file_name(b.path), "size": b.size, "sha256": b.sha256, "puid": b.puid,
                  "mime": b.mime, "format_name": b.format_name,
                  "download_url": f"/api/v1/documents/{code_}/files/{file_name(b.path)}",
                  "copy_url": (f"/api/v1/documents/{code_}/files/{file_name(b.path)}/copy"
                               if b.mime == "application/pdf" else None)}
                 for b in content_bitstreams(s, d)]
        body = {**tt05_values(d, kind, {"arcFileCode": arc_file}), "docCode": code_,
                "kind": kind, "title": doc_title(d), "effectiveMode": access.mode,
                "arcFileCode": arc_file, "access": "granted" if opened else "request_required",
                "files": files}
    if not is_staff(identity):  # the register is written apart: reads take no lock
        with ctx.catalog.session() as s:
            register_view(s, identity, "document", code_, access)
    return body


# -- EAD as stored ------------------------------------------------------------------------------

def stored_file(s: Session, objid: str, path: str, name: str | None = None) -> StoredFile | None:
    """The newest version of ``objid`` holding ``path``, with every copy of it."""
    found = s.execute(sa.select(Bitstream, Package).join(
        Package, Package.id == Bitstream.package_id).where(
        Package.objid == objid, Package.kind == PackageKind.AIP,
        Package.status.in_(AUDITED_STATUSES), Bitstream.path == path)
        .order_by(Package.version.desc()).limit(1)).first()
    if found is None:
        return None
    b, pkg = found
    return bitstream_file(s, b, pkg.objid, name)


def bitstream_file(s: Session, b: Bitstream, objid: str, name: str | None = None) -> StoredFile:
    copies = s.scalars(sa.select(StoredCopy).where(StoredCopy.package_id == b.package_id)
                       .order_by(StoredCopy.id))
    sources = tuple(Source(c.id, c.package_id, objid, c.location, c.key, b.path,
                           c.last_check_result) for c in copies)
    return StoredFile(name or file_name(b.path), b.sha256, b.size, sources)


def _read_all(ctx: ServiceContext, identity: Identity, f: StoredFile) -> bytes:
    with deliver(ctx, identity, f).file as handle:
        return handle.read()


def record_ead(ctx: ServiceContext, identity: Identity, code: str) -> bytes:
    """The hồ sơ's package EAD as the newest AIP version stores it, verified."""
    with ctx.catalog.session() as s:
        rf, pkg, access = _record(s, ctx, identity, code)
        f = stored_file(s, pkg.objid, PACKAGE_EAD) if pkg else None
        if f is None:
            raise NotFound("GEN002", what=Noun.FILE, key=f"{code}/EAD.xml")
        key = rf.arc_file_code or rf.file_code
    data = _read_all(ctx, identity, f)
    with ctx.catalog.session() as s:
        register_view(s, identity, "record", key, access, format="xml")
    return data


def document_ead(ctx: ServiceContext, identity: Identity, code: str) -> bytes:
    """The document's EAD as the newest AIP version stores it, verified. Which EAD describes
    which files is said only by the rep1 METS, so that (verified too) is read first."""
    with ctx.catalog.session() as s:
        d, access = document_for(s, ctx, identity, code, with_request=False)
        objid = s.scalar(sa.select(Package.objid).where(Package.id == d.package_id))
        paths = {b.path for b in content_bitstreams(s, d)}
        mets = stored_file(s, objid, REP_METS) if objid else None
        key = doc_code(d)
    if objid is None or mets is None:
        raise NotFound("GEN002", what=Noun.FILE, key=f"{code}/EAD")
    rep = read_mets(_read_all(ctx, identity, mets), rep=True)[0]
    ead_path = next((f"data/{doc.ead.path}" for doc in rep.documents
                     if doc.ead and doc.ead.path
                     and paths & {f"data/{f.path}" for f in doc.files if f.path}), None)
    with ctx.catalog.session() as s:
        ead = stored_file(s, objid, ead_path) if ead_path else None
    if ead is None:
        raise NotFound("GEN002", what=Noun.FILE, key=f"{code}/EAD")
    data = _read_all(ctx, identity, ead)
    with ctx.catalog.session() as s:
        register_view(s, identity, "document", key, access, format="xml")
    return data

"""A hồ sơ this archive holds, exported as a TT 05 SIP_hoso bag for the historical archive
(TT 05 Điều 17: a transfer to another system is a SIP_hoso, Phụ lục III), and the receiving
side's receipt checked against what was sent.

Content files are read from the AIP's current version in storage with the delivery's verified
reader: a copy that does not hash to the catalog's SHA-256 is flagged for repair (as a
download flags it) and the next location is read; no good copy anywhere is TRF019 and nothing
is sent. The EADs are the catalog's (the AIP's current metadata) with the agency's codes:
``fileCode`` is the ``arcFileCode`` without this archive's code, ``docCode`` the fileCode and
the document's ordinal, so the receiving archive gives them its own archival codes.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from access_api.services.base import Identity, ServiceContext
from access_api.services.delivery import (
    Source,
    StoredFile,
    flag_bad_copy,
    in_read_order,
    read_copy,
)
from ingest.errors import reason as os_reason
from ingest.sip_build import build_sip_from_records
from preservation.catalog.models import (
    Agency,
    Bitstream,
    Document,
    Package,
    RecordFile,
    StoredCopy,
)
from preservation.catalog.records import EAD_KIND, document_ead, record_file_ead
from preservation.catalog.vocab import PackageKind, PackageStatus
from preservation.errors import KhosoError, NotFound, Unavailable, ValidationFailed
from preservation.issues import Report, Text
from preservation.metadata.ead import EadRecord, check_values
from preservation.metadata.rules import check_document_in_file, check_rules, check_total_doc
from preservation.packaging.dip.package import zip_dip
from storage.protocol import FixityOutcome

log = logging.getLogger(__name__)
CONTENT = "data/representations/rep1/data/"  # bag path of content files, sent and received


@dataclass(frozen=True)
class SentFile:
    """A content file as the SIP carries it (bag path), with the digest the catalog vouches for."""

    path: str
    size: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "size": self.size, "sha256": self.sha256}


@dataclass(frozen=True)
class ExportedSip:
    objid: str
    zip_path: Path
    size: int
    sha256: str
    file_code: str
    organ_id: str
    files: tuple[SentFile, ...]


@dataclass(frozen=True)
class _Plan:
    code: str
    file_code: str
    organ_id: str
    agency_name: str
    fond_code: str
    package: EadRecord
    documents: list[tuple[EadRecord, list[tuple[str, StoredFile]]]]


def agency_file_code(arc_file_code: str, archive_code: str) -> str:
    """The agency's fileCode of a hồ sơ this archive gave ``arc_file_code``."""
    return arc_file_code.removeprefix(f"{archive_code}.")


def _content_files(s: Session, doc_ids: list[int]) -> dict[int, list[StoredFile]]:
    """Each document's content files in the live versions of its AIP (a metadata version does
    not rewrite content: a file lives in the version that brought it), each with every stored
    copy: two queries per 500 documents, never one per document (measured 2026-12-07: one
    query per document was a third of a 300-document export)."""
    out: dict[int, dict[str, StoredFile]] = {}
    for at in range(0, len(doc_ids), 500):
        chunk = doc_ids[at:at + 500]
        rows = s.execute(sa.select(Bitstream, Package.objid).join(
            Package, Package.id == Bitstream.package_id).where(
            Bitstream.document_id.in_(chunk), Package.kind == PackageKind.AIP,
            Package.status.in_((PackageStatus.ACTIVE, PackageStatus.SUPERSEDED)),
            Bitstream.path.startswith(CONTENT)).order_by(
            Bitstream.document_id, Bitstream.path, Package.version.desc())).all()
        copies: dict[int, list[StoredCopy]] = {}
        for c in s.scalars(sa.select(StoredCopy).where(StoredCopy.package_id.in_(
                {b.package_id for b, _ in rows})).order_by(StoredCopy.id)):
            copies.setdefault(c.package_id, []).append(c)
        for b, objid in rows:
            files = out.setdefault(cast(int, b.document_id), {})
            if b.path not in files:
                files[b.path] = StoredFile(b.path, b.sha256, b.size, tuple(
                    Source(c.id, c.package_id, objid, c.location, c.key, b.path,
                           c.last_check_result) for c in copies.get(b.package_id, [])))
    return {d: list(files.values()) for d, files in out.items()}


def _ordinal(doc: Document, arc_file_code: str, fallback: int) -> int:
    """The document's ordinal in its hồ sơ: its own column, else the last part of its archival
    code (``{arcFileCode}.0000002``; pictures and recordings keep only that), else its place."""
    if doc.doc_ordinal:
        return doc.doc_ordinal
    for code in (doc.arc_doc_code, doc.doc_code):
        tail = (code or "").removeprefix(f"{arc_file_code}.")
        if code and tail != code and tail.isdigit():
            return int(tail)
    return fallback


def _plan(s: Session, ctx: ServiceContext, record_file_id: int) -> _Plan:
    rf = s.get_one(RecordFile, record_file_id)
    code = rf.arc_file_code or rf.file_code
    active = s.scalar(sa.select(Package.id).where(
        Package.record_file_id == rf.id, Package.kind == PackageKind.AIP,
        Package.status == PackageStatus.ACTIVE).limit(1))
    if active is None:
        raise NotFound("TRF025", record=code)
    file_code = agency_file_code(code, ctx.settings.archive_code)
    agency = rf.fonds.agency
    if agency is None:  # a fonds registered without its agency: the one that submitted it
        pkg = s.get_one(Package, active)
        agency = s.get(Agency, pkg.agency_id) if pkg.agency_id is not None else None
    organ_id = agency.organ_id if agency is not None else file_code.rsplit(".", 2)[0]
    agency_name = agency.name if agency is not None else organ_id
    values = dict(record_file_ead(rf, "SIP").values)
    values["fileCode"] = file_code
    docs = sorted(rf.documents, key=lambda d: _ordinal(d, code, 0))
    values["totalDoc"] = len(docs)
    package = EadRecord("SIP", "hoso", values)
    documents = []
    content = _content_files(s, [d.id for d in docs])
    for position, doc in enumerate(docs, 1):
        record = document_ead(doc, "SIP")
        dvalues = dict(record.values)
        ordinal = _ordinal(doc, code, position)
        # values the AIP's document table does not keep come from the hồ sơ (as for a DIP)
        dvalues.setdefault("maintenance", rf.maintenance)
        dvalues.setdefault("mode", rf.mode)
        dvalues.setdefault("riskRecovery", bool(rf.risk_recovery))
        if EAD_KIND[doc.kind] != "pic" and "language" not in dvalues and rf.languages:
            dvalues["language"] = tuple(rf.languages)
        if "docCode" in dvalues or EAD_KIND[doc.kind] != "doc":
            dvalues["docCode"] = f"{file_code}.{ordinal:07d}"
        if EAD_KIND[doc.kind] == "doc" and "docId" not in dvalues:
            dvalues["docId"] = f"{file_code}.{ordinal}"
        files = [(f.name.removeprefix(CONTENT), f) for f in content.get(doc.id, [])]
        documents.append((EadRecord("SIP", record.kind, dvalues), files))
    return _Plan(code, file_code, organ_id, agency_name, rf.fonds.fond_code, package, documents)


def _check(plan: _Plan) -> None:
    """What ``khoso sip build`` checks of a sheet, on the catalog's records: TRF018 with every
    problem, before anything is read from storage."""
    report = Report()
    report.extend(check_values(plan.package).issues)
    report.extend(check_rules(plan.package).issues)
    report.extend(check_total_doc(plan.package, len(plan.documents)).issues)
    for record, files in plan.documents:
        report.extend(check_values(record).issues)
        report.extend(check_rules(record).issues)
        report.extend(check_document_in_file(plan.package, record).issues)
        if not files:
            report.add("TRF025", plan.code, record=plan.code)
    if report.errors:
        raise ValidationFailed(report, "TRF018")


def _fetch(ctx: ServiceContext, identity: Identity, code: str, f: StoredFile,
           target: Path) -> None:
    """The first good copy of ``f`` into ``target``; copies found bad are flagged for repair.
    TRF210 (transient) when a location could not be read and none gave a good copy: a disk
    or server down says nothing about its copy, and "no good copy, run audit --repair"
    (TRF019) sent the archivist to repair intact copies. TRF019 when every location answered
    and none held it intact."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tried: list[str] = []
    unreadable: list[str] = []
    for source in in_read_order(f.sources, ctx):
        tried.append(source.location)
        found = read_copy(ctx, source, f, target)
        if found.outcome is FixityOutcome.OK:
            return
        if found.outcome is FixityOutcome.UNREADABLE:  # says nothing about the bytes
            log.warning("transfer: cannot read %s from %s: %s", source.key, source.location,
                        found.detail)
            unreadable.append(f"{source.location}: {found.detail}"[:200])
            continue
        flag_bad_copy(ctx, identity, source, f, found)
    target.unlink(missing_ok=True)
    if unreadable:
        raise Unavailable("TRF210", f.name, file=f.name.removeprefix(CONTENT), record=code,
                          unreadable="; ".join(unreadable), retry_after=300)
    raise Unavailable("TRF019", f.name, file=f.name.removeprefix(CONTENT), record=code,
                      tried=", ".join(tried) or "-", retry_after=300)


def export_sip(ctx: ServiceContext, identity: Identity, record_file_id: int, workspace: Path,
               target: Path) -> ExportedSip:
    """The hồ sơ as a zipped SIP_hoso bag at ``target`` (written whole or not at all); the
    workspace is removed whatever happens."""
    with ctx.catalog.session() as s:
        plan = _plan(s, ctx, record_file_id)
    _check(plan)
    shutil.rmtree(workspace, ignore_errors=True)
    src = workspace / "src"
    try:
        documents: list[tuple[EadRecord, list[str]]] = []
        sent: list[SentFile] = []
        for record, files in plan.documents:
            names = []
            for rel, f in files:
                if PurePosixPath(rel).is_absolute() or ".." in PurePosixPath(rel).parts:
                    raise KhosoError("TRF019", f.name, file=rel, record=plan.code, tried="-")
                _fetch(ctx, identity, plan.code, f, src / rel)
                names.append(rel)
                sent.append(SentFile(CONTENT + rel, f.size, f.sha256))
            documents.append((record, names))
        bag = workspace / "bag"
        objid = build_sip_from_records(src, bag, content="hoso", package=plan.package,
                                       documents=documents, organ_id=plan.organ_id,
                                       agency_name=plan.agency_name, fond_code=plan.fond_code)
        size, sha256 = zip_dip(bag, target, objid)
    except OSError as exc:  # the archive's own work folder (full, read-only): send again later
        target.unlink(missing_ok=True)
        raise Unavailable("TRF201", plan.code, retry_after=300, record=plan.code,
                          folder=str(workspace.parent), reason=os_reason(exc)) from exc
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    return ExportedSip(objid, target, size, sha256, plan.file_code, plan.organ_id, tuple(sent))


# -- the receiving side's receipt --------------------------------------------------------------

RECEIPT_KEYS = ("job", "objid", "arcFileCode", "files")


def receipt_problem(receipt: Any, sent: list[dict[str, Any]], file_code: str) -> Text | None:
    """Why ``receipt`` (the receiving khoso's ``GET /jobs/{id}/receipt`` document) does not
    vouch for what was sent, or None: every sent content file must be listed with its path,
    size and SHA-256, and the archival code given must be the receiver's code of this
    hồ sơ's fileCode."""
    if not isinstance(receipt, dict) or not all(k in receipt for k in RECEIPT_KEYS):
        return Text("biên bản thiếu các trường job, objid, arcFileCode, files",
                    "the receipt lacks job, objid, arcFileCode or files")
    files = receipt["files"]
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        return Text("danh sách tệp không hợp lệ", "its file list is not a list of files")
    arc = receipt.get("arcFileCode")
    if not isinstance(arc, str) or not arc.endswith(f".{file_code}"):
        return Text(f"mã hồ sơ lưu trữ {str(arc)[:100]} không phải mã của {file_code}",
                    f"the archival code {str(arc)[:100]} is not one for {file_code}")
    listed = {(f.get("path"), f.get("size"), f.get("sha256")) for f in files}
    for f in sent:
        if (f["path"], f["size"], f["sha256"]) not in listed:
            name = f["path"].removeprefix(CONTENT)
            return Text(f"tệp {name} ({f['size']} byte, SHA-256 {f['sha256'][:12]}…) không có "
                        f"trong biên bản hoặc khác mã băm",
                        f"file {name} ({f['size']} bytes, SHA-256 {f['sha256'][:12]}…) is "
                        f"missing from the receipt or has another digest")
    return None

"""Write and read a TT 05 DIP (Phụ lục V, research notes §3.4, §5.2–5.3) as a ZIP.

Layout (one top folder named after the OBJID, ``:`` → ``_``)::

    uuid-…/METS.xml                                   root METS, OAISPACKAGETYPE DIP
    uuid-…/metadata/descriptive/EAD.xml               the access request (7 elements)
    uuid-…/representations/rep1/METS.xml
    uuid-…/representations/rep1/metadata/descriptive/EAD_{doc|pic|media}_{name}.xml
    uuid-…/representations/rep1/data/{files}
    uuid-…/schemas/                                   METS, XLink, CSIP and our DIP EAD XSDs

The METS is written by :mod:`preservation.packaging.mets` (the same writer as the AIP's);
PREMIS is optional in a DIP and not written. Content files are put in ``rep1/data/`` by the
caller (who reads them from storage verified) before :func:`write_dip` describes them, so this
module does no storage I/O. :func:`check_dip` reads a ZIP back and checks what a receiver
would: both METS against METS 1.12 + CSIP, each EAD against the DIP XSDs, and every file
METS lists against its size and SHA-256.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from preservation.errors import KhosoError
from preservation.issues import Report
from preservation.metadata.ead import EadRecord, read_ead, validate_xsd, write_ead
from preservation.packaging.mets import (
    EAD_HREF,
    REP_METS_HREF,
    write_rep_mets,
    write_root_mets,
)
from preservation.packaging.model import (
    CHUNK,
    REP1,
    DocumentEntry,
    FileEntry,
    file_entry,
    mime_for,
)
from preservation.packaging.read import read_mets
from preservation.packaging.validate import SHIPPED_SCHEMAS, STANDARD_DIR, validate_mets
from schemas import SCHEMA_DIR

DATA = REP1 + "data/"
DESCRIPTIVE = REP1 + "metadata/descriptive/"
# METS 1.12, XLink, the CSIP extension, and our DIP EAD XSDs with the code lists they include
METS_SCHEMAS = tuple(s for s in SHIPPED_SCHEMAS if not s.startswith("premis"))
EAD_SCHEMAS = ("EAD.xsd", "EAD_doc.xsd", "EAD_pic.xsd", "EAD_media.xsd", "codelists.xsd")
KINDS = ("doc", "pic", "media")
_UNSAFE = re.compile(r"[^0-9A-Za-z._-]+")
MAX_MEMBERS = 1_000_000


@dataclass(frozen=True)
class DipDocument:
    """One document of the DIP: its EAD (the DIP table of its kind) and its data files,
    already in ``rep1/data/`` (names relative to it) with the SHA-256 they were verified
    against."""

    ead: EadRecord
    files: tuple[tuple[str, str], ...]


@dataclass
class DipContents:
    """What :func:`check_dip` found: the package and its problems."""

    objid: str | None = None
    folder: str | None = None
    request: EadRecord | None = None
    documents: list[EadRecord] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    report: Report = field(default_factory=Report)


def folder_name(objid: str) -> str:
    """The package folder: the OBJID with every ``:`` turned into ``_`` (§4.1)."""
    return objid.replace(":", "_")


def data_name(name: str, taken: set[str], prefix: str) -> str:
    """A name in ``rep1/data/`` for a content file: its own, or prefixed with its document's
    code when two documents of the DIP bring files of the same name."""
    if name not in taken:
        taken.add(name)
        return name
    candidate = f"{_UNSAFE.sub('_', prefix)}_{name}"
    n = 1
    while candidate in taken:
        n += 1
        candidate = f"{_UNSAFE.sub('_', prefix)}_{n}_{name}"
    taken.add(candidate)
    return candidate


def _ead_name(kind: str, files: Sequence[tuple[str, str]], index: int, taken: set[str]) -> str:
    """``EAD_doc_{tên tệp}.xml`` ([Tiêu chuẩn]_[Loại tài liệu]_[Tên file], §3.3)."""
    stem = PurePosixPath(files[0][0]).stem if files else f"{index}"
    name = f"EAD_{kind}_{_UNSAFE.sub('_', stem) or index}.xml"
    if name in taken:
        name = f"EAD_{kind}_{_UNSAFE.sub('_', stem)}_{index}.xml"
    taken.add(name)
    return name


def _write(root: Path, rel: str, data: bytes, created: dt.datetime) -> FileEntry:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return FileEntry(rel, len(data), hashlib.sha256(data).hexdigest(), mime_for(rel), created)


def _copy_schema(root: Path, source: Path, created: dt.datetime) -> FileEntry:
    rel = f"schemas/{source.name}"
    (root / "schemas").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, root / rel)
    return file_entry(root, rel, created=created)


def write_dip(root: Path, *, objid: str, created: dt.datetime, request: EadRecord,
              documents: Sequence[DipDocument], software_name: str, software_version: str,
              archive_name: str, fond_code: str | None = None,
              label: str | None = None) -> None:
    """Write the metadata, schemas and both METS of the DIP in ``root`` (the package folder,
    whose ``rep1/data/`` already holds the documents' files). Raises ``ValidationFailed``
    (EAD015) when a record does not fit its DIP table."""
    if request.package != "DIP" or request.kind != "request":
        raise ValueError("the package EAD of a DIP describes the access request")
    ead = _write(root, EAD_HREF, write_ead(request), created)
    taken: set[str] = set()
    entries: list[DocumentEntry] = []
    for i, doc in enumerate(documents, 1):
        if doc.ead.package != "DIP" or doc.ead.kind not in KINDS:
            raise ValueError(f"not a DIP document record: {doc.ead.package}/{doc.ead.kind}")
        name = _ead_name(doc.ead.kind, doc.files, i, taken)
        doc_ead = _write(root, DESCRIPTIVE + name, write_ead(doc.ead), created)
        files = tuple(file_entry(root, DATA + n, created=created, sha256=digest)
                      for n, digest in doc.files)
        entries.append(DocumentEntry(doc_ead, files))
    schemas = [_copy_schema(root, STANDARD_DIR / n, created) for n in METS_SCHEMAS]
    schemas += [_copy_schema(root, SCHEMA_DIR / "dip" / n, created) for n in EAD_SCHEMAS]
    rep_path = root / REP_METS_HREF
    with open(rep_path, "wb") as out:
        write_rep_mets(out, objid=objid, package_type="DIP", content="hoso", created=created,
                       agency_name=archive_name, fond_code=fond_code, documents=entries,
                       label=label)
    rep = file_entry(root, REP_METS_HREF, created=created)
    with open(root / "METS.xml", "wb") as out:
        write_root_mets(out, objid=objid, label=label, package_type="DIP", content="hoso",
                        created=created, software_name=software_name,
                        software_version=software_version, ead=ead, premis=None,
                        schemas=schemas, rep_mets=rep)


def zip_dip(root: Path, target: Path, folder: str) -> tuple[int, str]:
    """Zip ``root`` under the top folder ``folder`` into ``target`` (written beside it and
    renamed, so a reader never sees half a ZIP); returns its size and SHA-256. Content files
    are stored as they are (PDF, JPEG, MP4 are compressed already), metadata deflated."""
    partial = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(partial, "w", allowZip64=True) as zf:
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                rel = path.relative_to(root).as_posix()
                method = zipfile.ZIP_DEFLATED if rel.endswith((".xml", ".xsd")) \
                    else zipfile.ZIP_STORED
                zf.write(path, f"{folder}/{rel}", compress_type=method)
        digest, size = hashlib.sha256(), 0
        with open(partial, "rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)  # a full disk leaves no half ZIP behind
        raise
    return size, digest.hexdigest()


def _kind_of(name: str) -> str | None:
    low = PurePosixPath(name).name.lower()
    return next((k for k in KINDS if low.startswith(f"ead_{k}")), None)


def _member_digest(zf: zipfile.ZipFile, name: str) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with zf.open(name) as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def check_dip(path: Path) -> DipContents:
    """Read a DIP ZIP back and check it as its receiver would (see the module docstring).
    Every problem is in ``report``; the ZIP is never extracted."""
    out = DipContents()
    report = out.report
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        report.add("DIP013", str(path), file=str(path), reason=str(exc))
        return out
    with zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
        tops = {n.split("/", 1)[0] for n in names}
        if len(names) > MAX_MEMBERS or len(tops) != 1 or any(
                n.startswith("/") or ".." in n.split("/") or "/" not in n for n in names):
            report.add("DIP013", str(path), file=str(path),
                       reason="one top folder of relative names expected")
            return out
        out.folder = top = tops.pop()
        out.files = [n.split("/", 1)[1] for n in names]
        present = set(out.files)

        def read(rel: str) -> bytes | None:
            if rel not in present:
                report.add("DIP011", rel, file=rel)
                return None
            return zf.read(f"{top}/{rel}")

        root_bytes, rep_bytes = read("METS.xml"), read(REP_METS_HREF)
        if root_bytes is None or rep_bytes is None:
            return out
        for data in (root_bytes, rep_bytes):
            report.extend(validate_mets(data).issues)
        try:
            root, root_report = read_mets(root_bytes)
            rep, rep_report = read_mets(rep_bytes, rep=True)
        except KhosoError as exc:
            report.issues.append(exc.issue)
            return out
        report.extend(root_report.errors)
        report.extend(rep_report.errors)
        out.objid = root.objid
        listed = [*root.dmd.values(), *root.files.values(), *rep.dmd.values(),
                  *rep.files.values()]
        for entry in listed:
            rel = entry.path
            if rel is None:
                report.add("DIP013", entry.href, file=entry.href,
                           reason=f"unsafe href ({entry.unsafe})")
                continue
            if rel not in present:
                report.add("DIP011", rel, file=rel)
                continue
            size, digest = _member_digest(zf, f"{top}/{rel}")
            if (entry.size is not None and entry.size != size) or \
                    (entry.checksum or "").lower() != digest:
                report.add("DIP012", rel, file=rel)
        ead = root.ead
        if ead is not None and ead.path in present:
            data = zf.read(f"{top}/{ead.path}")
            report.extend(validate_xsd(data, "DIP", "request").issues)
            out.request = read_ead(data, "DIP", "request")[0]
        for entry in rep.dmd.values():
            kind = _kind_of(entry.path or "")
            if entry.path is None or entry.path not in present or kind is None:
                continue
            data = zf.read(f"{top}/{entry.path}")
            report.extend(validate_xsd(data, "DIP", kind).issues)
            out.documents.append(read_ead(data, "DIP", kind)[0])
    return out

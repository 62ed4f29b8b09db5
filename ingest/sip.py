"""Validate the TT 05 SIP tree inside a bag's ``data/`` (§5.2, §5.3, PL III/IV).

Every problem becomes an issue; nothing stops at the first. Order, cheapest first: required
files and folders, both METS (safe parse, METS 1.12 + CSIP schema, structure), every href's
safety, existence, size and SHA-256 (digests from the bag manifest when the bag already hashed
the file — ``known_digests`` maps ``data/``-relative paths, with or without the ``data/`` prefix,
to lowercase SHA-256 — else hashed here), unlisted data files, then the package EAD and each
document EAD (our XSD, liberal read, TT 05 rules, document-in-file, totalDoc, unique codes).

File names are matched modulo Unicode normalisation (macOS writes "Quyết định" decomposed, NFD,
while a METS names it composed, NFC): an href that names no file as written resolves to the one
file whose NFC name it equals (the unpack step has already refused two names equal after NFC).
Every path the validation hands on (documents' files, referenced paths) is in NFC.

Every payload file must have a place in the AIP (``placement``): the METS, EADs and schemas are
written anew, ``representations/rep1/data/`` is content, and ``documentation/`` and
``metadata/other/`` (root and rep1) are carried as they are. Anything else would be lost, so it
is refused (SIP060) with its name.

SIP_hoso vs SIP_tailieu is decided by the package EAD (the elements it has); a METS ``TYPE``
that disagrees is a warning (METS013), since the EAD is what the archivist reads.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ingest.spool import Spool
from preservation.errors import KhosoError
from preservation.issues import Issue, Report
from preservation.metadata.ead import EadRecord, read_ead, validate_xsd
from preservation.metadata.identifiers import PackageId
from preservation.metadata.rules import check_document_in_file, check_rules, check_total_doc
from preservation.metadata.xmlsafe import parse_xml
from preservation.packaging.mets import EAD_HREF, REP_METS_HREF
from preservation.packaging.model import CARRIED, CHUNK, REP1, nfc
from preservation.packaging.read import MetsDocument, MetsFile, read_mets
from preservation.packaging.validate import validate_mets

REQUIRED_FILES = ("METS.xml", EAD_HREF, REP_METS_HREF)
REQUIRED_DIRS = ("schemas", f"{REP1}data", f"{REP1}metadata/descriptive")
METS_TYPES = {"mixed": "hoso", "collection": "tailieu"}
KIND_PREFIXES = (("ead_doc_", "doc"), ("ead_pic_", "pic"), ("ead_media_", "media"))


@dataclass(frozen=True)
class SipDocument:
    ead_record: EadRecord | None
    ead_path: str
    files: list[str]


@dataclass
class SipValidation:
    report: Report
    ead: EadRecord | None = None
    # spooled: a hồ sơ may hold 100,000 documents, read again only once (to build the AIP)
    documents: Spool[SipDocument] = field(default_factory=Spool)
    objid: str | None = None
    content: str | None = None  # "hoso" | "tailieu"
    submission_agreement: str | None = None
    fond_code: str | None = None  # rep1 METS agent note IDENTIFICATIONCODE (mã phông), §5.3
    agency_name: str | None = None  # rep1 METS CREATOR agent name
    organ_id: str | None = None  # mã định danh cơ quan, from the bag (set by the ingest step)

    @property
    def ok(self) -> bool:
        return self.report.ok


def _relay(issues: Report, report: Report, where: str) -> None:
    report.extend(Issue(i.code, f"{where}#{i.path}" if i.path else where, i.params)
                  for i in issues)


def document_kind(path: str) -> str | None:
    """``EAD_doc_x.xml`` → ``doc`` (also the sample's ``EAD_DOC_{docId}.xml``)."""
    name = path.rsplit("/", 1)[-1].lower()
    return next((kind for prefix, kind in KIND_PREFIXES if name.startswith(prefix)), None)


def walk(root: Path) -> list[str]:
    """Every regular file under ``root``, root-relative POSIX, sorted (no link is followed)."""
    found: list[str] = []
    stack = [("", str(root))]
    while stack:
        prefix, folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for e in entries:
            if e.is_dir(follow_symlinks=False):
                stack.append((f"{prefix}{e.name}/", e.path))
            elif e.is_file(follow_symlinks=False):
                found.append(prefix + e.name)
    return sorted(found)


class _Files:
    """Checks each href once against the tree: safety, existence, size, SHA-256."""

    def __init__(self, root: Path, known: Mapping[str, str] | None, report: Report,
                 present: list[str]) -> None:
        self.root, self.report = root, report
        self.known = known or {}  # looked up as given: a copy would cost 100,000 entries
        self.referenced: set[str] = set()  # NFC
        self.present = set(present)
        # NFC name -> the file's name as received, for the names that differ (macOS NFD)
        self.received = {n: p for p in present if (n := nfc(p)) != p}

    def _known(self, path: str) -> str | None:
        digest = self.known.get(path) or self.known.get(f"data/{path}")
        return digest.lower() if digest else None

    def resolve(self, path: str) -> str | None:
        """The file ``path`` names, as it is on disk: the same name, or the one whose NFC
        form is the same."""
        if path in self.present:
            return path
        return self.received.get(nfc(path), nfc(path) if nfc(path) in self.present else None)

    def check(self, entry: MetsFile, where: str) -> bool:
        if entry.path is None:
            self.report.add("METS004", where, href=entry.href, reason=entry.unsafe)
            return False
        name = nfc(entry.path)
        self.referenced.add(name)
        disk = self.resolve(entry.path)
        if disk is None:
            self.report.add("METS005", where, href=entry.href)
            return False
        path = self.root / disk
        actual = path.stat().st_size
        if entry.size is not None and entry.size != actual:
            self.report.add("METS006", where, href=entry.href, declared=entry.size, actual=actual)
        if not entry.checksum or (entry.checksum_type or "").upper() != "SHA-256":
            self.report.add("METS008", where, href=entry.href, algorithm=entry.checksum_type)
            return True
        digest = self._known(name) or self._known(disk) or self._sha256(path)
        if digest != entry.checksum:
            self.report.add("METS007", where, href=entry.href, declared=entry.checksum.upper(),
                            actual=digest.upper())
        return True

    @staticmethod
    def _sha256(path: Path) -> str:
        digest = hashlib.sha256()
        with path.open("rb") as f:
            while chunk := f.read(CHUNK):
                digest.update(chunk)
        return digest.hexdigest()


def _structure(root: Path, report: Report) -> None:
    for rel in REQUIRED_FILES:
        if not (root / rel).is_file():
            report.add("SIP001", rel, item=rel)
    for rel in REQUIRED_DIRS:
        folder = root / rel
        if not folder.is_dir() or not any(p.is_file() for p in folder.iterdir()):
            report.add("SIP001", rel + "/", item=rel + "/")
    for rel in ("metadata/preservation", f"{REP1}metadata/preservation"):
        # an empty folder is ignored; a file in it has no place in the AIP (SIP060)
        if (root / rel).exists() and not any(p.is_file() for p in (root / rel).rglob("*")):
            report.add("SIP002", rel, item=rel)
    reps = root / "representations"
    if reps.is_dir():
        for other in sorted(p.name for p in reps.iterdir() if p.name != "rep1"):
            report.add("SIP004", f"representations/{other}", item=f"representations/{other}")


def _load_mets(root: Path, rel: str, rep: bool, report: Report) -> MetsDocument | None:
    path = root / rel
    if not path.is_file():
        return None
    schema = validate_mets(path)
    _relay(schema, report, rel)
    if {"XML001", "XML002", "XML003", "XML004"} & schema.codes():
        return None
    try:
        doc, issues = read_mets(path, rep=rep, where=rel)
    except KhosoError as exc:  # pragma: no cover - validate_mets has already refused it
        report.add(exc.code, rel, **exc.issue.params)
        return None
    report.extend(issues)
    return doc


def _content_type(root: Path, mets: MetsDocument | None, report: Report) -> str | None:
    try:
        ead = parse_xml(root / EAD_HREF)
    except KhosoError as exc:
        # The XML's own issue says what to fix (line, encoding…); SIP005 alone named only its
        # code. An OSError is left to the pipeline, which tells the submission's fault from the
        # archive's own disk (a staging error, retried, never a rejection).
        report.add(exc.code, EAD_HREF, **exc.issue.params)
        report.add("SIP005", EAD_HREF, reason=exc.code)
        return None
    # by local name: an EAD in a namespace is still told apart, and its reading says EAD014
    names = {etree.QName(c).localname for c in ead if isinstance(c.tag, str)}
    if names & {"startDate", "endDate", "maintenance", "mode"}:
        content = "hoso"
    elif "source" in names:
        content = "tailieu"
    else:
        report.add("SIP005", EAD_HREF, reason="no startDate/maintenance (hoso) or source (tailieu)")
        return None
    declared = METS_TYPES.get((mets.type or "").lower()) if mets else None
    if mets is not None and declared != content:
        report.add("METS013", "METS.xml", mets_type=mets.type, ead_type=f"SIP_{content}")
    return content


def _read_ead(root: Path, rel: str, kind: str, report: Report) -> EadRecord | None:
    # An OSError goes to the pipeline (the submission's fault or the archive's disk): skipped
    # here, the document would go on without its metadata record.
    data = (root / rel).read_bytes()
    try:
        tree = parse_xml(data)  # once, for both the XSD and the reading
    except KhosoError as exc:  # unsafe or not well-formed
        _relay(Report([exc.issue]), report, rel)
        return None
    _relay(validate_xsd(data, "SIP", kind, root=tree), report, rel)
    record, issues = read_ead(data, "SIP", kind, root=tree)
    _relay(issues, report, rel)
    _relay(check_rules(record), report, rel)
    return record


def _check_root(result: SipValidation, root_mets: MetsDocument, files: _Files) -> None:
    report = result.report
    result.objid = root_mets.objid
    result.submission_agreement = root_mets.agreement()
    if root_mets.package_type != "SIP":
        report.add("METS003", "METS.xml", found=root_mets.package_type, expected="SIP")
    try:
        PackageId.parse(root_mets.objid or "", "SIP")
    except KhosoError as exc:
        report.add(exc.code, "METS.xml/@OBJID", **exc.issue.params)
    ead = root_mets.ead
    if ead is None or ead.path != EAD_HREF:
        report.add("METS014", "METS.xml")
    for entry in [*root_mets.dmd.values(), *root_mets.other.values(), *root_mets.files.values()]:
        files.check(entry, "METS.xml")
    if root_mets.premis is not None:
        files.check(root_mets.premis, "METS.xml")
    if not any(resolve == REP_METS_HREF for resolve in root_mets.mptrs):
        report.add("METS010", "METS.xml")


def _identification(mets: MetsDocument) -> tuple[str | None, str | None]:
    """(fonds code, agent name) from the CREATOR agent's IDENTIFICATIONCODE note."""
    for agent in mets.agents:
        for note_type, text in agent.notes:
            if note_type == "IDENTIFICATIONCODE" and text:
                return text, agent.name or None
    return None, None


def _check_rep(result: SipValidation, rep: MetsDocument, root: Path, files: _Files) -> set[str]:
    """Check the rep1 METS; the (NFC) paths of its documents' EADs."""
    report, where = result.report, REP_METS_HREF
    result.fond_code, result.agency_name = _identification(rep)
    linked: set[str] = set()
    eads: set[str] = set()
    for entry in [*rep.dmd.values(), *rep.other.values(), *rep.files.values()]:
        files.check(entry, where)
    codes: dict[tuple[str, object], str] = {}
    for document in rep.documents:
        ead = document.ead
        linked.update(f.id for f in document.files if f.id)
        if ead is None:
            continue
        if not document.files:
            report.add("METS015", where, href=ead.href)
        record = None
        kind = document_kind(ead.path or ead.href)
        disk = files.resolve(ead.path) if ead.path else None
        if ead.path:
            eads.add(nfc(ead.path))
        if kind is None:
            report.add("METS017", where, href=ead.href)
        elif disk is not None:
            record = _read_ead(root, disk, kind, report)
        if record is not None and result.ead is not None:
            _relay(check_document_in_file(result.ead, record), report, ead.path or "")
            for name in ("docId", "docCode"):
                if (value := record.values.get(name)) is not None:
                    if (name, value) in codes:
                        report.add("SIP006", ead.path or "", value=value, field=name,
                                   first=codes[(name, value)], second=ead.path)
                    codes[(name, value)] = ead.path or ""
        result.documents.append(SipDocument(record, nfc(ead.path or ead.href),
                                            [nfc(f.path) for f in document.files if f.path]))
    for file_id, entry in rep.files.items():
        if file_id not in linked and entry.group in ("Data", "Holeyfile"):
            report.add("METS016", where, href=entry.href)
    if not rep.documents:
        report.add("SIP007", where)
    return eads


REWRITTEN = frozenset(("METS.xml", EAD_HREF, REP_METS_HREF))  # khoso writes the AIP's own


def placement(rel: str, eads: set[str]) -> str | None:
    """Where a SIP file goes in the AIP: ``content``, ``carried`` (as it is), ``rewritten``
    (khoso writes the AIP's own METS, EADs and schemas), or ``None``: no place, refused."""
    if rel.startswith(f"{REP1}data/"):
        return "content"
    if rel.startswith(CARRIED):
        return "carried"
    if rel in REWRITTEN or rel in eads or (rel.startswith("schemas/") and rel.endswith(".xsd")):
        return "rewritten"
    return None


def validate_sip(data_dir: Path, *, known_digests: Mapping[str, str] | None = None,
                 spool_dir: Path | None = None) -> SipValidation:
    """Check the SIP tree at ``data_dir`` (a bag's ``data/``); see the module docstring.

    ``spool_dir`` is where the documents (with their parsed EAD records) are spooled."""
    result = SipValidation(Report(), documents=Spool(directory=spool_dir))
    report = result.report
    if not data_dir.is_dir():
        report.add("SIP003", str(data_dir), item=str(data_dir))
        return result
    _structure(data_dir, report)
    present = walk(data_dir)
    files = _Files(data_dir, known_digests, report, present)
    root_mets = _load_mets(data_dir, "METS.xml", False, report)
    rep_mets = _load_mets(data_dir, REP_METS_HREF, True, report)
    if root_mets is not None:
        _check_root(result, root_mets, files)
    if (data_dir / EAD_HREF).is_file():
        result.content = _content_type(data_dir, root_mets, report)
        if result.content is not None:
            result.ead = _read_ead(data_dir, EAD_HREF, result.content, report)
    eads: set[str] = set()
    if rep_mets is not None:
        eads = _check_rep(result, rep_mets, data_dir, files)
        if result.ead is not None:
            _relay(check_total_doc(result.ead, len(rep_mets.documents)), report, EAD_HREF)
    for rel in present:
        name = nfc(rel)
        place = placement(name, eads)
        if place is None:
            if rep_mets is not None or not name.startswith(f"{REP1}metadata/descriptive/"):
                report.add("SIP060", rel, file=rel)
        elif place == "content" and rep_mets is not None and name not in files.referenced:
            report.add("METS009", rel, item=rel)
    return result

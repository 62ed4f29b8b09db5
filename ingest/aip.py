"""Build the TT 05 AIP (AIP_hoso / AIP_tailieu) as a BagIt bag, signed by the archive.

Content files, and the SIP's ``documentation/`` and ``metadata/other/`` files (root and rep1),
are moved (or, for a folder submission, copied) from the SIP to the same place in the AIP,
under their NFC names, each listed in its METS and described in its PREMIS; every other
metadata file is written anew for the AIP: package EAD with ``arcFileCode``, one EAD per document with
archival codes, ``PREMIS.xml`` and ``PREMIS_rep1.xml``, rep1 and root METS, ``schemas/``. METS
and PREMIS are streamed, so a 100,000-document hồ sơ builds in bounded memory.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ingest.context import IngestContext
from ingest.spool import Spool
from preservation import __version__
from preservation.events import INFORMATION_PACKAGE_CREATION, Event, Outcome, khoso_agent
from preservation.metadata.codelists import field_specs
from preservation.metadata.ead import EadRecord, write_ead
from preservation.metadata.identifiers import DocCode, PackageId, arc_file_code_of
from preservation.packaging.aip import bagit
from preservation.packaging.aip.layout import aip_key_prefix
from preservation.packaging.mets import write_rep_mets, write_root_mets
from preservation.packaging.model import (
    CARRIED,
    DOCUMENTATION,
    OTHER_METADATA,
    DocumentEntry,
    FileEntry,
    mime_for,
    now,
    own_format,
)
from preservation.packaging.premis import PremisWriter
from schemas import SCHEMA_DIR

REP = "representations/rep1"
STANDARD_SCHEMAS = ("mets1_12.xsd", "xlink.xsd", "DILCISExtensionMETS.xsd", "premis-v3-0.xsd")
KEPT = (f"{REP}/data/", *CARRIED)  # SIP files the AIP keeps as they are (SIP-relative, NFC)
PACKAGE_LEVEL = (DOCUMENTATION[0], OTHER_METADATA[0])  # kept files described in PREMIS.xml


def kept(rel: str) -> bool:
    """A SIP file that goes unchanged into the AIP: content, documentation, other metadata."""
    return rel.startswith(KEPT)


@dataclass(frozen=True, slots=True)  # one per file of a 100,000-file package
class AipFile:
    path: str  # bag-relative: "data/METS.xml", "manifest-sha256.txt"
    size: int
    sha256: str
    puid: str | None = None
    mime: str | None = None
    format_name: str | None = None


@dataclass(frozen=True)
class AipDocument:
    record: EadRecord
    files: tuple[str, ...]  # bag-relative paths of its data files


@dataclass
class BuiltAip:
    objid: str
    folder: Path
    content: str
    fond_code: str
    organ_id: str | None
    label: str
    arc_file_code: str
    hoso: EadRecord | None
    # spooled (their records are read again only to register them): up to 100,000 documents
    documents: Spool[AipDocument] = field(default_factory=Spool)
    files: list[AipFile] = field(default_factory=list)
    total_size: int = 0
    tagmanifest_sha256: str = ""
    key_prefix: str = ""


class _HashingFile:
    """A file object that hashes and counts what the streaming METS/PREMIS writers write, so
    a 100 MB METS of a 100,000-document hồ sơ is not read back to learn its digest."""

    def __init__(self, raw) -> None:
        self.raw, self.digest, self.size = raw, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.digest.update(data)
        self.size += len(data)
        return self.raw.write(data)

    def flush(self) -> None:
        self.raw.flush()


class _Tree:
    """Files written into the bag's data/ folder, with the digests known or computed once."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.entries: dict[str, FileEntry] = {}

    def write(self, rel: str, data: bytes, created: dt.datetime) -> FileEntry:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        entry = FileEntry(rel, len(data), hashlib.sha256(data).hexdigest(), mime_for(rel), created)
        self.entries[rel] = entry
        return entry

    @contextlib.contextmanager
    def stream(self, rel: str, created: dt.datetime) -> Iterator[_HashingFile]:
        """Open ``rel`` for a streaming writer; its entry is recorded from what was written."""
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as raw:
            out = _HashingFile(raw)
            yield out
        self.entries[rel] = FileEntry(rel, out.size, out.digest.hexdigest(), mime_for(rel),
                                      created)


def aip_values(sip: EadRecord, kind: str, extra: dict[str, object]) -> EadRecord:
    """Carry SIP values over to the AIP table of the same kind, adding the archival codes."""
    names = {s.name for s in field_specs("AIP", kind)}
    values = {k: v for k, v in sip.values.items() if k in names}
    values.update({k: v for k, v in extra.items() if k in names})
    return EadRecord("AIP", kind, values)


def _ordinal(record: EadRecord, position: int) -> int:
    code = record.values.get("docCode")
    if isinstance(code, str):
        try:
            return DocCode.parse(code).ordinal
        except Exception:  # noqa: BLE001 - a malformed SIP code falls back to the position
            pass
    return position


@dataclass
class Described:
    """The AIP's descriptive part, written before the formats are known (``describe``)."""

    tree: _Tree
    created: dt.datetime
    ead: FileEntry
    hoso: EadRecord | None
    documents: Spool[AipDocument]
    doc_entries: list[DocumentEntry]
    loose: list[FileEntry]  # content files no document links (METS016): listed all the same


def arc_file_code(ctx: IngestContext) -> str:
    assert ctx.sip is not None and ctx.sip.ead is not None  # validate_sip passed
    return arc_file_code_of(ctx.settings.archive_code, str(ctx.sip.ead.values["fileCode"]))


def describe(ctx: IngestContext) -> Described:
    """Write the package EAD, one EAD per document (with archival codes) and the schemas into
    the AIP tree. Nothing here needs a file's format, so it can run while the identification
    helper finishes (``ingest.steps.identify_formats``): on a hồ sơ of 10,000 documents that
    hides a second of EAD writing behind siegfried. Only files under the workspace are
    written; nothing is replicated before every check has passed."""
    sip = ctx.sip
    assert sip is not None and sip.ead is not None  # validate_sip passed
    created = now()
    tree = _Tree(ctx.aip_dir / "data")
    code = arc_file_code(ctx)
    for rel, facts in ctx.files.items():  # the METS entries point at these
        if kept(rel):
            tree.entries[rel] = FileEntry(rel, facts.size, facts.sha256, mime_for(rel), created)

    hoso = None
    if sip.content == "hoso":
        hoso = aip_values(sip.ead, "hoso", {"arcFileCode": code})
    package_record = hoso or aip_values(sip.ead, "tailieu", {"arcFileCode": code})
    ead_entry = tree.write("metadata/descriptive/EAD.xml", write_ead(package_record), created)
    documents: Spool[AipDocument] = Spool(directory=ctx.workspace)
    doc_entries: list[DocumentEntry] = []
    for position, doc in enumerate(sip.documents, 1):
        assert doc.ead_record is not None  # ING003 refused a document without its EAD
        ordinal = _ordinal(doc.ead_record, position)
        arc_doc_code = f"{code}.{ordinal:07d}"
        record = aip_values(doc.ead_record, doc.ead_record.kind, {
            "arcFileCode": code, "docOrdinal": ordinal, "docCode": arc_doc_code,
            "arcDocCode": arc_doc_code})
        ead_rel = f"{REP}/metadata/descriptive/{Path(doc.ead_path).name}"
        entry = tree.write(ead_rel, write_ead(record), created)
        files = tuple(tree.entries[f] for f in doc.files if f in tree.entries)
        doc_entries.append(DocumentEntry(entry, files))
        documents.append(AipDocument(record, tuple(f"data/{f.path}" for f in files)))

    linked = {f.path for d in doc_entries for f in d.files}
    loose = [e for p, e in sorted(tree.entries.items())
             if p.startswith(f"{REP}/data/") and p not in linked]
    del linked
    for name in STANDARD_SCHEMAS:  # schemas shipped with the package
        tree.write(f"schemas/{name}", (SCHEMA_DIR / "standard" / name).read_bytes(), created)
    for xsd in sorted((SCHEMA_DIR / "aip").glob("*.xsd")):
        tree.write(f"schemas/{xsd.name}", xsd.read_bytes(), created)
    return Described(tree, created, ead_entry, hoso, documents, doc_entries, loose)


def build(ctx: IngestContext,
          content_placed: Callable[[str, Path, list[AipFile]], None] | None = None) -> BuiltAip:
    """``content_placed(key prefix, bag folder, content files)`` is called once the content
    files are in the AIP tree, before its metadata is written: they can be replicated while
    the rest is built. The descriptive part comes from ``ctx.described`` when it was written
    while the formats were identified."""
    sip = ctx.sip
    # validate_sip passed: ING001 refuses a SIP without a fonds code, ING003 one without EAD
    assert sip is not None and sip.ead is not None and sip.fond_code and sip.content
    settings = ctx.settings
    fond_code = sip.fond_code
    objid = str(PackageId("AIP", ctx.job_id.upper(), fond_code))
    folder = ctx.aip_dir
    data = folder / "data"
    content = sip.content
    code = arc_file_code(ctx)
    label = str(sip.ead.values.get("title", objid))

    # 1. content (and documentation, other metadata) files: the read pass copied a folder
    #    submission's into this tree already; an unpacked archive's are moved in; large ones
    #    are already staged on every replica and stay there (see ingest.onepass)
    placed: list[AipFile] = []
    for rel, facts in ctx.files.items():
        if not kept(rel):
            continue
        if rel not in ctx.staged and ctx.kind != "dir":  # a folder's copies are in place
            target = data / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(ctx.content_source(rel), target)
        placed.append(AipFile(f"data/{rel}", facts.size, facts.sha256, None, None, None))
    prefix = aip_key_prefix(settings.archive_code, fond_code, code)
    if content_placed is not None:
        content_placed(prefix, folder, placed)
    del placed

    # 2. descriptive metadata with archival codes, and the schemas
    described = ctx.described if ctx.described is not None else describe(ctx)
    ctx.described = None
    tree, created = described.tree, described.created

    # 3. PREMIS: the package-level events in PREMIS.xml, per-file objects and events in rep1
    creation = Event(INFORMATION_PACKAGE_CREATION, Outcome.SUCCESS,
                     f"SIP {sip.objid} → AIP {objid} (TT 05 {('AIP_' + content)}); "
                     f"submission form: {ctx.form.value} ({ctx.kind})",
                     object_identifier=objid, agents=((khoso_agent(), "executing program"),))
    ctx.events.append(creation)
    # ctx.events is spooled (one or more events per file): one pass over it streams each
    # event to its PREMIS (the package's, or rep1's for an event about a file)
    premis_rel = "metadata/preservation/PREMIS.xml"
    rep_premis_rel = f"{REP}/metadata/preservation/PREMIS_rep1.xml"
    with tree.stream(premis_rel, created) as out, tree.stream(rep_premis_rel, created) as rep_out:
        _write_premis(out, rep_out, objid, ctx)
    premis, premis_rep = tree.entries[premis_rel], tree.entries[rep_premis_rel]

    # 4. METS: rep1 first (the root points to it with its size and checksum)
    def listed(prefix: str) -> list[FileEntry]:
        return [tree.entries[p] for p in sorted(tree.entries) if p.startswith(prefix)]

    with tree.stream(f"{REP}/METS.xml", created) as out:
        write_rep_mets(out, objid=objid, package_type="AIP", content=content, created=created,
                       agency_name=sip.agency_name or settings.archive_name, fond_code=fond_code,
                       documents=described.doc_entries, premis=premis_rep, label=label,
                       documentation=listed(DOCUMENTATION[1]),
                       other_metadata=listed(OTHER_METADATA[1]), loose=described.loose)
    rep_entry = tree.entries[f"{REP}/METS.xml"]
    schema_entries = [e for p, e in tree.entries.items() if p.startswith("schemas/")]
    with tree.stream("METS.xml", created) as out:
        write_root_mets(out, objid=objid, label=label, package_type="AIP", content=content,
                        created=created, software_name="khoso", software_version=__version__,
                        fond_code=fond_code, ead=described.ead, premis=premis, schemas=schema_entries,
                        rep_mets=rep_entry, documentation=listed(DOCUMENTATION[0]),
                        other_metadata=listed(OTHER_METADATA[0]))

    aip = BuiltAip(objid, folder, content, fond_code, sip.organ_id, label, code, described.hoso,
                   described.documents)
    _bag(aip, tree, ctx)
    aip.key_prefix = prefix
    return aip


def _identifier_type(identifier: str) -> str:
    """PREMIS identifier type of what an event is about: a file, the package, or the job."""
    if identifier.startswith("urn:"):
        return "URN"
    return "filepath" if "/" in identifier else "local"


def _write_premis(out: _HashingFile, rep_out: _HashingFile, objid: str,
                  ctx: IngestContext) -> None:
    """Files of the package (documentation, other metadata) and their events go to
    PREMIS.xml; rep1's files, and the events about every other SIP file, to PREMIS_rep1.xml.
    ``originalName`` is the name as received (a macOS NFD name stays as it came)."""
    with PremisWriter(out) as premis, PremisWriter(rep_out) as rep:
        premis.object("URN", objid, category="intellectualEntity")
        for rel, facts in sorted(ctx.files.items()):
            if not kept(rel):
                continue
            fmt = facts.format
            writer = rep if rel.startswith(f"{REP}/") else premis
            writer.object("filepath", rel, size=facts.size, sha256=facts.sha256,
                          puid=fmt.puid if fmt else None,
                          format_name=(fmt.format_name if fmt and fmt.format_name
                                       else mime_for(rel)),
                          original_name=Path(ctx.renamed.get(rel, rel)).name)
        agents: tuple[dict, dict] = ({}, {})
        for e in ctx.events:
            identifier = e.object_identifier or ""
            about_file = identifier in ctx.files and not identifier.startswith(PACKAGE_LEVEL)
            writer, seen = (rep, agents[1]) if about_file else (premis, agents[0])
            writer.record(e, [(_identifier_type(e.object_identifier), e.object_identifier,
                               "source")] if e.object_identifier else [])
            for a, _ in e.agents:
                seen[(a.identifier_type, a.identifier_value)] = a
        for writer, seen in zip((premis, rep), agents, strict=True):
            for a in seen.values():
                writer.record_agent(a)


def _bag(aip: BuiltAip, tree: _Tree, ctx: IngestContext) -> None:
    """bagit.txt, bag-info.txt, SHA-256 manifests, and the archive's CMS signature."""
    files: list[AipFile] = []
    bag = aip.folder
    # The manifest is streamed to its file as the list is made (100,000 lines are ~12 MB).
    with open(bag / bagit.MANIFEST, "wb") as raw:
        manifest = _HashingFile(raw)
        for rel in sorted(tree.entries):
            entry = tree.entries[rel]
            if kept(rel):  # the SIP's: as identified (content), else unknown
                f = ctx.files.get(rel)
                fmt = f.format if f else None
                puid, name = (fmt.puid, fmt.format_name) if fmt else (None, None)
            else:  # written here: known by construction
                puid, name = own_format(rel)
            files.append(AipFile(f"data/{rel}", entry.size, entry.sha256, puid, entry.mime, name))
            manifest.write(bagit.manifest_line(entry.sha256, f"data/{rel}").encode())
    payload = sum(f.size for f in files)
    tags = {
        bagit.BAGIT_TXT: bagit.bagit_txt(),
        bagit.BAG_INFO: bagit.aip_bag_info(
            source_organization=ctx.settings.archive_name, content=aip.content, objid=aip.objid,
            bagging_date=dt.date.today().isoformat(), octets=payload, count=len(files),
            organ_id=aip.organ_id, software=f"khoso {__version__}"),
    }
    tag_lines = []
    for name, text in tags.items():
        data = text.encode("utf-8")
        (bag / name).write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        files.append(AipFile(name, len(data), digest, None, "text/plain", None))
        tag_lines.append((name, digest))
    digest = manifest.digest.hexdigest()
    files.append(AipFile(bagit.MANIFEST, manifest.size, digest, None, "text/plain", None))
    tag_lines.append((bagit.MANIFEST, digest))
    tagmanifest = bagit.manifest(tag_lines).encode("utf-8")
    (bag / bagit.TAGMANIFEST).write_bytes(tagmanifest)
    aip.tagmanifest_sha256 = hashlib.sha256(tagmanifest).hexdigest()
    files.append(AipFile(bagit.TAGMANIFEST, len(tagmanifest), aip.tagmanifest_sha256,
                         None, "text/plain", None))
    assert ctx.services.signer is not None  # an AIP is always signed
    signature = ctx.services.signer.sign_detached(tagmanifest)
    (bag / bagit.SIGNATURE).write_bytes(signature)
    files.append(AipFile(bagit.SIGNATURE, len(signature),
                         hashlib.sha256(signature).hexdigest(), None, "application/pkcs7-signature",
                         None))
    aip.files = files
    aip.total_size = sum(f.size for f in files)

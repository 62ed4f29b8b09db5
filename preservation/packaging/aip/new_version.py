"""A metadata change makes AIP version N+1 holding only what changed, plus a new inventory.

Content files are the archive's evidence: they are never copied or rewritten, and a corrected
EAD must not cost a copy of every PDF. So v(N+1) is a BagIt bag that physically holds only the
new EAD(s), both METS (their checksums change), ``PREMIS_v{N+1}.xml`` (one LoC "metadata
modification" event and its agents) and its tag files. Its ``manifest-sha256.txt`` still lists
EVERY file of the logical version, and ``fetch.txt`` says where each unchanged one lives.

fetch.txt URLs are relative references ``../vK/data/…`` resolved against the bag's own key
prefix (a folder on a filesystem replica, a key prefix on S3): one fetch.txt serves every
replica, and K is always the version that physically holds the file, never a chain of fetches.
Older versions are never touched and stay readable as they were.

Order: validate (nothing written on refusal) → reserve v(N+1) in the catalog, so two changes
of the same AIP can never write the same keys → build in a temp folder → ``replicate`` (all or
nothing) → one transaction for the catalog. The reservation names its holder process and
time (``reservation``), so one a killed process left can be told apart and taken back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from preservation import __version__, search
from preservation.catalog import audit, queries
from preservation.catalog.db import Catalog
from preservation.catalog.events import persist_events
from preservation.catalog.models import (
    Agency,
    Bitstream,
    Document,
    Fonds,
    Package,
    RecordFile,
    StoredCopy,
    utcnow,
)
from preservation.catalog.records import column, iso_date
from preservation.catalog.vocab import CheckResult, PackageKind, PackageStatus
from preservation.errors import KhosoError
from preservation.events import REPLICATION, Agent, Event, Outcome, khoso_agent
from preservation.issues import Issue, Report
from preservation.metadata.codelists import field_specs
from preservation.metadata.dates import TTDate
from preservation.metadata.ead import EadRecord, check_values, read_ead, write_ead
from preservation.metadata.retention import expiry
from preservation.metadata.rules import check_document_in_file, check_rules, check_total_doc
from preservation.packaging.aip import bagit, layout, reservation
from preservation.packaging.mets import EAD_HREF, REP_METS_HREF, write_rep_mets, write_root_mets
from preservation.packaging.model import (
    DOCUMENTATION,
    OTHER_METADATA,
    DocumentEntry,
    FileEntry,
    mime_for,
    now,
    own_format,
)
from preservation.packaging.objects import ObjectToStore
from preservation.packaging.premis import PremisWriter
from preservation.packaging.read import MetsDocument, read_mets
from preservation.settings import Settings

METADATA_MODIFICATION = "metadata modification"  # LoC eventType
PACKAGE_EAD = f"data/{EAD_HREF}"
ROOT_METS = "data/METS.xml"
REP_METS = f"data/{REP_METS_HREF}"
TAGMANIFEST = bagit.TAGMANIFEST
FILE_CODES = ("arcFileCode",)
DOC_CODES = ("docCode", "arcDocCode")
_DOC_KINDS = {"ead_doc": "doc", "ead_pic": "pic", "ead_media": "media"}


@dataclass(frozen=True)
class VersionOutcome:
    accepted: bool
    report: Report
    objid: str
    version: int | None = None
    package_id: int | None = None
    key_prefix: str | None = None
    written: tuple[str, ...] = ()  # bag-relative paths physically stored in the new version


class _Held(NamedTuple):
    """A payload file of the logical version and the version that physically holds it."""

    version: int
    size: int
    sha256: str
    mime: str
    created: dt.datetime


@dataclass
class _Current:
    """The active version N as the catalog knows it."""

    package_id: int
    objid: str
    version: int
    content: str
    label: str | None
    fond_code: str
    organ_id: str | None
    record_file_id: int | None
    package_ids: list[int]
    prefixes: dict[int, str]  # version -> key prefix
    files: dict[str, _Held]  # data/… -> where it lives

    @property
    def entity(self) -> str:
        return layout.split_package_prefix(self.prefixes[self.version])[0]


@dataclass
class _Changes:
    package: EadRecord  # the package EAD of the new version (new or current)
    package_changed: bool = False
    eads: dict[str, bytes] = field(default_factory=dict)  # data/… -> new EAD bytes
    documents: dict[str, tuple[EadRecord, list[str]]] = field(default_factory=dict)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)  # SQLite gives naive UTC


def _load(s: Session, objid: str) -> _Current | None:
    packages = queries.package_versions(s, objid, aip_only=True, statuses=queries.AUDITED_STATUSES)
    active = [p for p in packages if p.status == PackageStatus.ACTIVE]
    if not active:
        return None
    cur = active[-1]
    chain = [p for p in packages if p.version <= cur.version]
    prefixes: dict[int, str] = {}
    files: dict[str, _Held] = {}
    for p in chain:  # later versions override: a path lives in the last version that holds it
        key = queries.copy_key(s, p.id)
        if key is None:
            continue
        prefixes[p.version] = key
        for b in s.scalars(sa.select(Bitstream).where(Bitstream.package_id == p.id,
                                                      Bitstream.path.startswith("data/"))):
            files[b.path] = _Held(p.version, b.size, b.sha256, b.mime or mime_for(b.path),
                                  _aware(b.created_at))
    if cur.version not in prefixes:
        return None
    fonds = s.get(Fonds, cur.fonds_id)
    agency = s.get(Agency, cur.agency_id) if cur.agency_id else None
    return _Current(cur.id, objid, cur.version, cur.content_type, cur.label,
                    fonds.fond_code if fonds else layout.PackageKey.parse(prefixes[cur.version]).fonds, agency.organ_id if agency else None,
                    cur.record_file_id, [p.id for p in chain], prefixes, files)


def _read(cur: _Current, read: Callable[[str], bytes], path: str) -> bytes:
    """A current file, believed only if it still has the digest the catalog recorded."""
    held = cur.files.get(path)
    if held is None:
        raise KhosoError("VER009", path, version=cur.version, reason="not in catalog")
    try:
        data = read(f"{cur.prefixes[held.version]}/{path}")
    except Exception as exc:  # noqa: BLE001 - any storage failure refuses the change
        raise KhosoError("VER009", path, version=held.version,
                         reason=str(exc).splitlines()[0][:200]) from None
    if hashlib.sha256(data).hexdigest() != held.sha256:
        raise KhosoError("VER009", path, version=held.version, reason="SHA-256 mismatch")
    return data


def _ead(data: bytes, kind: str, where: str, report: Report) -> EadRecord | None:
    """``read_ead`` + ``check_values`` + rules for package AIP, issues located in ``where``.
    The record is returned even when invalid, so a changed archival code is always named."""
    try:
        record, found = read_ead(data, PackageKind.AIP, kind)
    except KhosoError as exc:
        report.add(exc.code, where, **exc.issue.params)
        return None
    found.extend(check_values(record).issues)
    found.extend(check_rules(record).issues)
    seen: set[tuple[str, str]] = set()
    for i in found:
        if (i.code, i.path) not in seen:
            seen.add((i.code, i.path))
            report.issues.append(Issue(i.code, f"{where}{i.path}", i.params))
    return record


def _codes_kept(old: EadRecord, new: EadRecord, names: tuple[str, ...], code: str,
                where: str, report: Report) -> None:
    for name in names:
        if name in old.values and name in new.values and old.values[name] != new.values[name]:
            report.add(code, f"{where}/simpledc/{name}", field=name, old=old.values[name],
                       new=new.values[name])


def _validate(cur: _Current, rep: MetsDocument, read: Callable[[str], bytes],
              package_ead: bytes | None, document_eads: Mapping[str, bytes],
              report: Report) -> _Changes | None:
    old_package, _ = read_ead(_read(cur, read, PACKAGE_EAD), PackageKind.AIP, cur.content)
    changes = _Changes(old_package)
    if package_ead is not None:
        record = _ead(package_ead, cur.content, PACKAGE_EAD, report)
        if record is not None:
            _codes_kept(old_package, record, FILE_CODES, "VER002", PACKAGE_EAD, report)
            report.extend(Issue(i.code, PACKAGE_EAD + i.path, i.params)
                          for i in check_total_doc(record, len(rep.documents)))
            data = write_ead(record) if report.ok else b""
            if data and data != write_ead(old_package):
                changes.package, changes.package_changed = record, True
                changes.eads[PACKAGE_EAD] = data
    by_name = {}
    for doc in rep.documents:
        if doc.ead and doc.ead.path:
            files = [f"data/{f.path}" for f in doc.files if f.path]
            path = f"data/{doc.ead.path}"
            for name in (path, doc.ead.path, Path(doc.ead.path).name):
                by_name[name] = (path, files)
    for name, data in sorted(document_eads.items()):
        if name not in by_name:
            known = ", ".join(sorted({Path(p).name for p, _ in by_name.values()}))
            report.add("VER003", name, name=name, known=known)
            continue
        path, files = by_name[name]
        kind = next((k for p, k in _DOC_KINDS.items() if Path(path).name.lower().startswith(p)),
                    "doc")
        record = _ead(data, kind, path, report)
        if record is None:
            continue
        old, _ = read_ead(_read(cur, read, path), PackageKind.AIP, kind)
        _codes_kept(old, record, FILE_CODES, "VER002", path, report)
        _codes_kept(old, record, DOC_CODES, "VER004", path, report)
        report.extend(Issue(i.code, path + i.path, i.params)
                      for i in check_document_in_file(changes.package, record))
        if report.ok and (new := write_ead(record)) != write_ead(old):
            changes.eads[path] = new
            changes.documents[path] = (record, files)
    if not report.ok:
        return None
    if not changes.eads:
        report.add("VER006", cur.objid, version=cur.version)
        return None
    return changes


# -- building the bag ---------------------------------------------------------------------

class _Bag:
    """The v(N+1) folder: what it physically holds, and the logical payload it describes."""

    def __init__(self, folder: Path, cur: _Current, version: int) -> None:
        self.folder, self.version = folder, version
        self.logical = dict(cur.files)
        self.held: dict[str, tuple[int, str]] = {}  # path -> (size, sha256), physically here

    def write(self, path: str, data: bytes) -> None:
        target = self.folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        digest = hashlib.sha256(data).hexdigest()
        self.held[path] = (len(data), digest)
        if path.startswith("data/"):
            self.logical[path] = _Held(self.version, len(data), digest, mime_for(path), now())

    def copy(self, path: str, source: Path, mime: str) -> tuple[int, str]:
        """A file made elsewhere (a migrated file), hashed as it is copied in."""
        target = self.folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        with open(source, "rb") as src, open(target, "wb") as out:
            while chunk := src.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        self.held[path] = (size, digest.hexdigest())
        self.logical[path] = _Held(self.version, size, digest.hexdigest(), mime, now())
        return size, digest.hexdigest()

    def entry(self, path: str) -> FileEntry:
        h = self.logical[path]
        return FileEntry(path.removeprefix("data/"), h.size, h.sha256, h.mime, h.created)


def _premis(event: Event, objid: str) -> bytes:
    out = io.BytesIO()
    with PremisWriter(out) as w:
        w.object("URN", objid, category="intellectualEntity")
        w.record(event, [("URN", objid, "source")])
        for a, _ in event.agents:
            w.record_agent(a)
    return out.getvalue()


def _mets(bag: _Bag, cur: _Current, rep: MetsDocument, label: str, premis: str,
          settings: Settings, derived: Mapping[str, Sequence[str]] | None = None) -> None:
    """Both METS of the new version from rep1's METS of version N. ``derived`` maps a data
    file (``data/…``) to files made from it (a migration): each is listed right after its
    source, in the same document's ``MetadataLink/File`` div."""
    created = now()
    derived = derived or {}

    def with_derived(path: str) -> list[FileEntry]:
        return [bag.entry(p) for p in (f"data/{path}", *derived.get(f"data/{path}", ()))]

    documents = [DocumentEntry(bag.entry(f"data/{d.ead.path}"),
                               tuple(e for f in d.files if f.path for e in with_derived(f.path)),
                               dmd_id=d.dmd_id)
                 for d in rep.documents if d.ead and d.ead.path]
    agency = next((a.name for a in rep.agents if a.type == "ORGANIZATION" and a.name),
                  settings.archive_name)

    linked = {i for d in rep.documents for i in d.file_ids}

    def listed(prefix: str) -> list[FileEntry]:  # documentation, other metadata: unchanged
        return [bag.entry(p) for p in sorted(bag.logical) if p.startswith(f"data/{prefix}")]

    out = io.BytesIO()
    write_rep_mets(out, objid=cur.objid, package_type=PackageKind.AIP, content=cur.content,
                   created=created, agency_name=agency, fond_code=cur.fond_code,
                   documents=documents, label=label,
                   premis=bag.entry(f"data/{rep.premis.path}") if rep.premis else None,
                   documentation=listed(DOCUMENTATION[1]), other_metadata=listed(OTHER_METADATA[1]),
                   loose=[e for i, f in rep.files.items()
                          if f.path and f.group in ("Data", "Holeyfile") and i not in linked
                          for e in with_derived(f.path)])
    bag.write(REP_METS, out.getvalue())
    out = io.BytesIO()
    write_root_mets(out, objid=cur.objid, label=label, package_type=PackageKind.AIP,
                    content=cur.content,
                    created=created, software_name="khoso", software_version=__version__,
                    fond_code=cur.fond_code, ead=bag.entry(PACKAGE_EAD),
                    premis=bag.entry(premis), rep_mets=bag.entry(REP_METS),
                    schemas=[bag.entry(p) for p in sorted(bag.logical)
                             if p.startswith("data/schemas/")],
                    documentation=listed(DOCUMENTATION[0]), other_metadata=listed(OTHER_METADATA[0]))
    bag.write(ROOT_METS, out.getvalue())


def _tags(bag: _Bag, cur: _Current, settings: Settings, signer: Any) -> str:
    """bagit.txt, bag-info.txt (Oxum of the logical version), manifest of EVERY file, fetch.txt
    for those held by earlier versions, tag manifest and its signature; returns its digest."""
    payload = sorted(bag.logical.items())
    tags = {
        bagit.BAGIT_TXT: bagit.bagit_txt(),
        bagit.BAG_INFO: bagit.aip_bag_info(
            source_organization=settings.archive_name, content=cur.content, objid=cur.objid,
            bagging_date=dt.date.today().isoformat(), octets=sum(h.size for _, h in payload),
            count=len(payload), organ_id=cur.organ_id, software=f"khoso {__version__}",
            version=bag.version, previous=layout.relative_version_path(cur.version, "")),
        bagit.MANIFEST: bagit.manifest(((p, h.sha256) for p, h in payload)),
        bagit.FETCH_TXT: "".join(bagit.fetch_line(layout.fetch_url(h.version, p), h.size, p)
                                 for p, h in payload if h.version != bag.version),
    }
    for name, text in tags.items():
        bag.write(name, text.encode("utf-8"))
    tagmanifest = bagit.manifest((n, bag.held[n][1]) for n in tags).encode("utf-8")
    bag.write(TAGMANIFEST, tagmanifest)
    bag.write(bagit.SIGNATURE, signer.sign_detached(tagmanifest))
    return hashlib.sha256(tagmanifest).hexdigest()


# -- catalog --------------------------------------------------------------------------------

def _reserve(catalog: Catalog, cur: _Current, version: int) -> int | None:
    """Claim v(N+1) (unique objid+version) before any object is written; None if taken."""
    try:
        with catalog.session() as s:
            pkg = Package(objid=cur.objid, kind=PackageKind.AIP, content_type=cur.content,
                          version=version,
                          status="received", previous_id=cur.package_id, label=cur.label,
                          reserved_by=reservation.this_process().token, reserved_at=utcnow())
            s.add(pkg)
            s.flush()
            return pkg.id
    except IntegrityError:
        return None


def _release(catalog: Catalog, package_id: int) -> None:
    with catalog.session() as s:
        s.execute(sa.delete(Package).where(Package.id == package_id,
                                           Package.status == "received"))


def _set_columns(row: Any, record: EadRecord, keep: tuple[str, ...]) -> None:
    """EAD values to catalog columns (``records.column`` mapping); archival codes are kept."""
    for spec in field_specs(record.package, record.kind):
        name = column(spec.name)
        if spec.name in keep or not hasattr(row, name):
            continue
        value = record.values.get(spec.name)
        if spec.type == "date" and value is not None:
            value = iso_date(cast(TTDate, value))  # read_ead gives a date field as a TTDate
        elif spec.multi:
            value = list(cast("Iterable[str]", value or ()))
        setattr(row, name, value)


def _update_records(s: Session, cur: _Current, changes: _Changes) -> None:
    if changes.package_changed and cur.record_file_id is not None:
        rf = s.get_one(RecordFile, cur.record_file_id)
        before = (rf.maintenance, rf.end_date)
        _set_columns(rf, changes.package, FILE_CODES)
        values = changes.package.values
        if (rf.maintenance, rf.end_date) != before:
            rf.retention_expires_on = expiry(cast(TTDate, values["endDate"]),
                                             cast(str, values["maintenance"]), rf.retention_years)
    for record, files in changes.documents.values():
        doc_id = s.scalar(sa.select(Bitstream.document_id).where(
            Bitstream.package_id.in_(cur.package_ids), Bitstream.path.in_(files),
            Bitstream.document_id.is_not(None)).limit(1))
        if doc_id is not None:
            _set_columns(s.get_one(Document, doc_id), record, FILE_CODES + DOC_CODES)


def _register(catalog: Catalog, cur: _Current, package_id: int, changes: _Changes, bag: _Bag,
              prefix: str, tag_digest: str, replicas: list[Any], events: list[Event],
              actor: str, reason: str) -> None:
    size = sum(n for n, _ in bag.held.values())
    with catalog.session() as s:
        old, pkg = s.get_one(Package, cur.package_id), s.get_one(Package, package_id)
        old.status = PackageStatus.SUPERSEDED
        pkg.status, pkg.record_file_id = PackageStatus.ACTIVE, old.record_file_id
        pkg.fonds_id = old.fonds_id
        pkg.reserved_by = pkg.reserved_at = None  # a whole version, no longer a reservation
        pkg.agency_id, pkg.critical = old.agency_id, False
        pkg.label = str(changes.package.values.get("title") or old.label)
        pkg.total_size, pkg.file_count = size, len(bag.held)
        s.add_all(Bitstream(package_id=package_id, path=p, size=n, sha256=d, mime=(
            "application/pkcs7-signature" if p.endswith(".p7s") else mime_for(p)),
            # a version holds only metadata khoso wrote: its format is known by construction
            **dict(zip(("puid", "format_name"),
                       own_format(p) if p.startswith("data/") else (None, None), strict=True)))
            for p, (n, d) in sorted(bag.held.items()))
        at = utcnow()
        s.add_all(StoredCopy(package_id=package_id, location=r.location, key=prefix,
                             sha256=tag_digest, size=size, stored_at=at, last_check_at=at,
                             last_check_result=CheckResult.OK,
                             last_check_detail="verified when written")
                  for r in replicas)
        _update_records(s, cur, changes)
        s.flush()
        search.index_aip(s, cur.objid)  # the old version's entries replaced, same transaction
        persist_events(s, events, package_id=package_id)
        audit.record(s, actor, "package.new_version", "package", cur.objid,
                     version=bag.version, previous=cur.version, reason=reason,
                     files=sorted(changes.eads), key=prefix, copies=[r.location for r in replicas])


# -- the entry point ------------------------------------------------------------------------

def new_metadata_version(settings: Settings, catalog: Catalog, *, objid: str,
                         package_ead: bytes | None, document_eads: Mapping[str, bytes] = {},  # noqa: B006
                         reason: str, actor: str, replicate: Callable[..., list[Any]],
                         signer: Any, read: Callable[[str], bytes]) -> VersionOutcome:
    """Make AIP version N+1 of ``objid`` from corrected EAD(s); refuse with a Report of codes
    and write nothing when they are invalid or change an archival code.

    ``document_eads`` maps a document EAD's file name (or bag path) to its new bytes. ``read``
    returns an object's bytes by key from any location: the rep1 METS must be re-read, since
    the catalog does not keep which EAD describes which data file.
    """
    report = Report()
    if not reason.strip():
        report.add("VER007")
    if package_ead is None and not document_eads:
        report.add("VER005")
    with catalog.session() as s:
        cur = _load(s, objid)
    if cur is None:
        report.add("VER001", objid, objid=objid)
    if not report.ok or cur is None:
        return VersionOutcome(False, report, objid)
    changes = None
    try:
        rep = read_mets(_read(cur, read, REP_METS), rep=True)[0]
        changes = _validate(cur, rep, read, package_ead, document_eads, report)
    except KhosoError as exc:
        report.issues.append(exc.issue)
    if changes is None or not report.ok:
        return VersionOutcome(False, report, objid)

    version = cur.version + 1
    package_id = _reserve(catalog, cur, version)
    if package_id is None:
        report.add("VER008", objid, objid=objid, version=version)
        return VersionOutcome(False, report, objid)
    prefix = layout.version_prefix(cur.entity, version)
    agents = ((khoso_agent(), "executing program"),
              (Agent(actor, actor, agent_type="person"), "implementer"))
    event = Event(METADATA_MODIFICATION, Outcome.SUCCESS,
                  f"AIP {objid} v{cur.version} → v{version}: {', '.join(sorted(changes.eads))}; "
                  f"lý do / reason: {reason.strip()}", object_identifier=objid, agents=agents)
    try:
        with tempfile.TemporaryDirectory(prefix="khoso-version-") as tmp:
            bag = _Bag(Path(tmp), cur, version)
            for path, data in changes.eads.items():
                bag.write(path, data)
            premis = f"data/metadata/preservation/PREMIS_v{version}.xml"
            bag.write(premis, _premis(event, objid))
            _mets(bag, cur, rep,
                  str(changes.package.values.get("title") or cur.label or cur.objid), premis,
                  settings)
            digest = _tags(bag, cur, settings, signer)
            replicas = replicate([ObjectToStore(f"{prefix}/{p}", bag.folder / p, d, n)
                                  for p, (n, d) in sorted(bag.held.items())])
        stored = [Event(REPLICATION, Outcome.SUCCESS,
                        f"location={r.location}; key={prefix}; objects={r.objects}; "
                        f"bytes={r.bytes}; every object verified by SHA-256",
                        object_identifier=objid, agents=agents[:1]) for r in replicas]
        _register(catalog, cur, package_id, changes, bag, prefix, digest, replicas,
                  [event, *stored], actor, reason.strip())
    except BaseException:
        _release(catalog, package_id)
        raise
    return VersionOutcome(True, report, objid, version, package_id, prefix, tuple(sorted(bag.held)))

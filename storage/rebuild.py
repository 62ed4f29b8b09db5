"""Disaster recovery: rebuild the whole catalog from the storage locations.

Everything the catalog holds about an archival package is either in its AIP (bag-info, METS,
EADs, PREMIS, manifests) or in the catalog sidecars next to it (``storage.sidecar``: fonds and
agency snapshots, events written after the AIP was stored; ``storage.sidecar_log``: rejected
submissions and the audit log, restored by ``storage.rebuild_records``; the destruction files
and the transfer events, restored by ``storage.rebuild_history``). ``rebuild_catalog`` reads
them back into an empty, migrated catalog.

Every location given is listed and read, the first one first: an AIP version comes from the
first location holding a copy that passes the checks, and every location's copy is registered
as the rebuild found it, a damaged or missing one with its failed check so that the fixity
audit repairs it (a catalog that knew only one location's copies would audit half of them).
Sidecar events are the union of every location's. A version no location holds a good copy of
is skipped, and the catalog is marked incomplete (``preservation.catalog.state``, shown on
``/healthz``): a rebuild run again on that catalog adds only what is still missing.

Trust: an AIP's tag manifest is checked against the tag files and its signature file must be
there; every metadata file read is checked against the payload manifest before it is believed.
The copies in the other locations are checked by their listing and tag manifest. Payload files
are not re-read by default (hours on a large archive, and the fixity audit does it anyway);
``verify=True`` re-hashes every object of every copy. Each AIP is read with no transaction
open and written in its own transaction: a damaged AIP is reported with an RBD code, and the
rebuild goes on. Event times are exact (PREMIS XML keeps milliseconds, and khoso makes events
to the millisecond; sidecars keep microseconds).

Metadata versions (``preservation.packaging.aip.new_version``): v(N+1) holds only the files it
changed, and its ``fetch.txt`` points each unchanged one at the lower version of the same package
that holds it (anywhere else: RBD017). A fetched file is read from there but still checked against this
version's manifest; it is a bitstream of the version that holds it, not of this one. The hồ sơ
and document rows the first rebuilt version made are updated from each later version's EADs,
not made again, and the latest version rebuilt is the active one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from preservation import search
from preservation.catalog import audit as audit_log
from preservation.catalog import state as catalog_state
from preservation.catalog.db import Catalog
from preservation.catalog.event_data import legacy_event_data
from preservation.catalog.models import (
    EVENT_OUTCOMES,
    Agency,
    ArchiveBody,
    Bitstream,
    Document,
    DocumentOcrText,
    Fonds,
    Package,
    PremisAgent,
    PremisEvent,
    RecordFile,
    StoredCopy,
    event_agent,
    utcnow,
)
from preservation.catalog.queries import package_versions
from preservation.catalog.records import (
    column,
    iso_date,
    save_document,
    save_record_file,
    validate_record,
)
from preservation.catalog.vocab import CheckResult, PackageContent, PackageKind, PackageStatus
from preservation.errors import KhosoError
from preservation.events import FORMAT_IDENTIFICATION, REPLICATION
from preservation.issues import Issue, Text
from preservation.metadata.codelists import field_specs
from preservation.metadata.dates import TTDate
from preservation.metadata.ead import EadRecord, read_ead
from preservation.metadata.retention import expiry
from preservation.packaging.aip import bagit, layout
from preservation.packaging.model import mime_for, own_format
from preservation.packaging.premis import Premis, read_premis
from preservation.packaging.read import MetsDocument, read_mets, resolve_href
from storage import rebuild_history as history
from storage import rebuild_records as records
from storage import sidecar
from storage.errors import StorageError
from storage.protocol import Storage
from storage.rebuild_ocr import OcrReader, OcrText, OcrUnreadable, digitised, read_ocr

TAGMANIFEST = bagit.TAGMANIFEST
SIGNATURE = bagit.SIGNATURE
TAG_FILES = (bagit.BAGIT_TXT, bagit.BAG_INFO, bagit.MANIFEST)
FETCH = bagit.FETCH_TXT
_DOC_KINDS = (("ead_doc", "doc"), ("ead_pic", "pic"), ("ead_media", "media"))
MAX_WARNINGS = 200  # stray objects and such: enough to act on, not a flood
Progress = Callable[[str, int, int], None]


@dataclass
class RebuildReport:
    """What a rebuild did; JSON-serialisable with ``to_dict``."""

    location: str  # the preferred source
    archive_code: str
    verify: bool = False
    locations: list[str] = field(default_factory=list)  # every location given, preferred first
    locations_unread: list[str] = field(default_factory=list)  # could not be listed
    complete: bool = False  # every AIP version found is in the catalog, every location read
    aips_found: int = 0
    aips_rebuilt: int = 0
    aips_skipped: int = 0
    agencies: int = 0
    fonds: int = 0
    record_files: int = 0
    documents: int = 0
    bitstreams: int = 0
    events: int = 0
    sidecar_events: int = 0
    agents: int = 0
    copies: int = 0  # stored copies registered, every location
    copies_damaged: int = 0  # of which found damaged or missing (for khoso audit --repair)
    rejections: int = 0  # rejected submissions restored
    audit_entries: int = 0  # audit-log entries restored (their chain verified)
    search_entries: int = 0  # hồ sơ and tài liệu in the full-text index, rebuilt at the end
    ocr_texts: int = 0  # digitised documents whose OCR text was read back from their PDF
    disposal_cases: int = 0  # executed destruction cases restored from their case.json
    tombstones: int = 0  # of which, destroyed hồ sơ (each with its tombstone)
    transferred: int = 0  # hồ sơ marked transferred from their AIPs' transfer events
    transfers: int = 0  # transfers restored from those events
    open_cases: int = 0  # destruction cases not yet executed, from their newest state file
    holds: int = 0  # legal holds (active or lifted) made again from the restored audit log
    seconds: float = 0.0
    aips_per_s: float = 0.0
    problems: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def add(self, code: str, path: str = "", **params: Any) -> None:
        self.problems.append(Issue(code, path, params).to_dict())

    @property
    def codes(self) -> set[str]:
        return {p["code"] for p in self.problems}


class _Damaged(Exception):
    def __init__(self, code: str, prefix: str, **params: Any) -> None:
        super().__init__(code)
        self.issue = (code, prefix, {"prefix": prefix, **params})


# -- what one location holds ----------------------------------------------------------------

@dataclass
class _Listing:
    aips: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))  # prefix -> paths
    fonds: dict[str, str] = field(default_factory=dict)  # fond code -> snapshot key
    agencies: dict[str, str] = field(default_factory=dict)  # organ id -> snapshot key
    batches: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # entity -> keys
    rejections: dict[str, str] = field(default_factory=dict)  # job id -> record key
    audit: list[str] = field(default_factory=list)  # audit-log batch keys
    # destruction files (hồ sơ hủy, #15): their case.json restored by ``rebuild_history``
    disposal: list[str] = field(default_factory=list)
    stray: list[str] = field(default_factory=list)


def sort_keys(keys: Iterable[str]) -> _Listing:
    """Sort a location's keys into AIPs (``{archive}/{fond}/{code}/vN/…``) and sidecars."""
    out = _Listing()
    for key in keys:
        if (organ_id := layout.parse_agency_key(key)) is not None:
            out.agencies[organ_id] = key
        elif (job_id := layout.parse_rejection_key(key)) is not None:
            out.rejections[job_id] = key
        elif layout.audit_batch_range(key) is not None:
            out.audit.append(key)
        elif layout.parse_disposal_key(key) is not None:
            out.disposal.append(key)
        elif (fond_code := layout.parse_fonds_key(key)) is not None:
            out.fonds[fond_code] = key
        elif (events := layout.split_events_key(key)) is not None \
                and sidecar.batch_sequence(key) is not None:
            out.batches[events[0]].append(key)
        elif (aip := layout.split_aip_key(key)) is not None:
            out.aips[aip[0]].add(aip[1])
        else:
            out.stray.append(key)
    return out


# -- reading an AIP -------------------------------------------------------------------------

def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _when(text: str | None) -> dt.datetime:
    if not text:
        raise ValueError("no eventDateTime")
    return sidecar.parse_when(text.strip())


def _object_format(obj: dict[str, Any], rel: str) -> tuple[str | None, str | None]:
    """The format a PREMIS object records as data: its PRONOM key and its name. The AIP's
    PREMIS needs a name for every file, so where identification gave none the writer put the
    file's MIME type there (``ingest.aip``): that is no format name."""
    name = obj.get("format_name")
    return obj.get("puid") or None, (None if not name or name == mime_for(rel) else name)


def _format_of(event: dict[str, Any]) -> tuple[str | None, str | None]:
    """``fmt/276 Acrobat PDF 1.7`` (the outcome detail of an identification event) -> (PUID,
    format name): only for older AIPs, whose PREMIS has no object for some identified files."""
    puid, _, name = (event["outcome_detail"] or "").strip().partition(" ")
    return (None if puid in ("", "UNKNOWN") else puid), (name.strip() or None)


@dataclass
class Aip:
    """One AIP as read from storage, checked, not yet in the catalog."""

    prefix: str
    fond_code: str
    version: int
    objid: str
    content: str
    label: str | None
    organ_id: str | None
    agency_name: str | None
    hoso: EadRecord | None
    documents: list[tuple[EadRecord, list[str]]]
    bitstreams: list[dict[str, Any]]
    events: list[dict[str, Any]]
    agents: dict[tuple[str, str], dict[str, Any]]
    tagmanifest_sha256: str
    ocr: list[OcrText] = field(default_factory=list)  # digitised documents' text layers


class _AipReader:
    """Reads one AIP prefix; any problem that makes it untrustworthy raises ``_Damaged``."""

    def __init__(self, storage: Storage, prefix: str, present: set[str], verify: bool,
                 ocr: OcrReader | None = None) -> None:
        self.storage, self.prefix, self.present, self.verify = storage, prefix, present, verify
        self.ocr = ocr
        self.files: dict[str, bytes] = {}
        self.manifest: dict[str, str] = {}
        self.tags: dict[str, str] = {}
        self.fetched: dict[str, str] = {}  # bag path -> key in a lower version (fetch.txt)
        self.warnings: list[tuple[str, dict[str, Any]]] = []

    def fail(self, code: str, **params: Any) -> _Damaged:
        return _Damaged(code, self.prefix, **params)

    def read(self, path: str, code: str = "RBD002") -> bytes:
        """A file of this version: held under its prefix, or where fetch.txt says it lives."""
        key = self.fetched.get(path)
        if key is None:
            if path not in self.present:
                raise self.fail(code, file=path, reason="missing")
            key = f"{self.prefix}/{path}"
        try:
            with self.storage.open(key) as f:
                data = f.read()
        except StorageError as exc:
            raise self.fail(code, file=path, reason=exc.message("en")) from None
        self.files[path] = data
        return data

    def meta(self, path: str) -> bytes:
        """A payload file read and checked against the manifest before it is believed."""
        if path not in self.manifest:
            raise self.fail("RBD007", file=path, reason="not in manifest-sha256.txt")
        data = self.files.get(path) or self.read(path, "RBD007")
        if _sha(data) != self.manifest[path]:
            raise self.fail("RBD006", file=path, outcome="mismatch")
        return data

    def parse(self, path: str, func: Callable[[bytes], Any]) -> Any:
        try:
            return func(self.meta(path))
        except (KhosoError, ValueError, UnicodeDecodeError) as exc:
            reason = exc.message("en") if isinstance(exc, KhosoError) else str(exc)
            raise self.fail("RBD007", file=path, reason=reason) from None

    def ead(self, path: str, kind: str) -> EadRecord:
        record: EadRecord
        record, report = self.parse(path, lambda b: read_ead(b, PackageKind.AIP, kind))
        if not report.ok:
            codes = ", ".join(sorted({i.code for i in report.errors}))
            raise self.fail("RBD007", file=path, reason=f"EAD errors {codes}")
        return record

    def check_tags(self) -> None:
        self.tags = tags = bagit.parse_manifest(self.read(TAGMANIFEST).decode("utf-8", "replace"))
        if SIGNATURE not in self.present or not self.read(SIGNATURE, "RBD004"):
            raise self.fail("RBD004")
        for name, expected in tags.items():
            actual = _sha(self.read(name))
            if actual != expected:
                raise self.fail("RBD003", file=name, expected=expected, actual=actual)
        for name in TAG_FILES:
            if name not in tags:
                raise self.fail("RBD002", file=name, reason=f"not in {TAGMANIFEST}")
        fetch = self.files[FETCH].decode("utf-8", "replace") if FETCH in tags else ""
        listed = {line.path for line in bagit.parse_fetch(fetch)}  # fetch.txt was always encoded
        self.manifest = bagit.parse_aip_manifest(
            self.files[bagit.MANIFEST].decode("utf-8", "replace"),
            lambda p: p in self.present or p in listed)
        if FETCH in tags:
            self.fetched = self.fetch_targets(fetch)
        missing = sorted(p for p in self.manifest if p not in self.present
                         and p not in self.fetched)
        if missing:
            raise self.fail("RBD005", count=len(missing), first=missing[0])
        for path in sorted(self.present - set(self.manifest) - set(tags) - {TAGMANIFEST, SIGNATURE}):
            self.warnings.append(("RBD014", {"prefix": self.prefix, "file": path}))

    def fetch_targets(self, text: str) -> dict[str, str]:
        """fetch.txt as bag path -> key: each URL is a relative reference resolved against this
        version's prefix, and must land in a lower version ``vK`` of the same package entity
        (a metadata version fetches unchanged files from the version that holds them)."""
        out: dict[str, str] = {}
        for line in bagit.parse_fetch(text):
            def bad(reason: str, line: bagit.FetchLine = line) -> _Damaged:
                return self.fail("RBD017", url=line.url, file=line.path, reason=reason)

            if not line.well_formed:
                raise bad("not a 'url length path' line")
            if line.path not in self.manifest:
                raise bad("not in manifest-sha256.txt")
            try:
                out[line.path] = layout.resolve_fetch_url(self.prefix, line.url)
            except ValueError as exc:
                raise bad(str(exc)) from None
        return out

    def load(self) -> Aip:
        self.check_tags()
        info = bagit.parse_bag_info(self.files[bagit.BAG_INFO].decode("utf-8", "replace"))
        root: MetsDocument = self.parse("data/METS.xml", lambda b: read_mets(b)[0])
        objid = info.first(bagit.EXTERNAL_IDENTIFIER) or root.objid
        if not objid or (root.objid and root.objid != objid):
            raise self.fail("RBD007", file="data/METS.xml",
                            reason=f"OBJID {root.objid!r} differs from bag-info {objid!r}")
        content = bagit.aip_content(info.first(bagit.PACKAGE_TYPE) or "")
        if content not in tuple(PackageContent):
            raise self.fail("RBD007", file=bagit.BAG_INFO, reason=f"Package-Type {content!r}")
        ead_path = root.ead.path if root.ead and root.ead.path else "metadata/descriptive/EAD.xml"
        package_ead = self.ead(f"data/{ead_path}", content)
        rep_paths = [p for p in (resolve_href(h)[0] for h in root.mptrs) if p] or \
            ["representations/rep1/METS.xml"]
        sizes = {f.path: f.size for f in [*root.files.values(), *root.dmd.values()] if f.path}
        documents: list[tuple[EadRecord, list[str]]] = []
        premis = [p.path for p in [root.premis] if p and p.path]
        agency = None
        for rep_path in rep_paths:
            rep: MetsDocument = self.parse(f"data/{rep_path}", lambda b: read_mets(b, rep=True)[0])
            agency = agency or next((a.name for a in rep.agents
                                     if a.type == "ORGANIZATION" and a.name), None)
            sizes.update({f.path: f.size for f in [*rep.files.values(), *rep.dmd.values()]
                          if f.path})
            premis += [rep.premis.path] if rep.premis and rep.premis.path else []
            for doc in rep.documents:
                path = doc.ead.path if doc.ead else None
                name = (path or "").rsplit("/", 1)[-1].lower()
                kind = next((k for prefix, k in _DOC_KINDS if name.startswith(prefix)), None)
                if path is None or kind is None:
                    raise self.fail("RBD007", file=f"data/{rep_path}",
                                    reason=f"document {doc.label!r} has no EAD_doc/pic/media file")
                documents.append((self.ead(f"data/{path}", kind),
                                  [f"data/{f.path}" for f in doc.files if f.path]))
        facts = Premis()
        for path in premis:
            if f"data/{path}" in self.fetched:
                continue  # an earlier version's PREMIS: its events belong to that version
            part: Premis = self.parse(f"data/{path}", read_premis)
            facts.objects.update(part.objects)
            facts.events += part.events
            facts.agents.update(part.agents)
        key = layout.PackageKey.parse(self.prefix)
        return Aip(self.prefix, key.fonds, key.version,
                   objid, content, root.label, info.first(bagit.ORGAN_ID), agency,
                   package_ead if content == PackageContent.HOSO else None, documents,
                   self.bitstreams(sizes, facts), facts.events, facts.agents,
                   _sha(self.files[TAGMANIFEST]), self.ocr_texts(facts.events))

    def ocr_texts(self, events: list[dict[str, Any]]) -> list[OcrText]:
        """The text layer of each PDF this version's digitization events made (the OCR text
        ingest stored); one that cannot be read is a warning, and its document stays."""
        found = []
        for path, detail in sorted(digitised(events).items()):
            sha = self.manifest.get(path)
            try:
                if self.ocr is None:
                    raise OcrUnreadable("no OCR text reader was given to the rebuild")
                if sha is None:
                    raise OcrUnreadable("not in manifest-sha256.txt")
                key = self.fetched.get(path) or f"{self.prefix}/{path}"
                found.append(read_ocr(self.storage, key, path, sha, detail, self.ocr))
            except OcrUnreadable as exc:
                self.warnings.append(("RBD090", {"prefix": self.prefix, "file": path,
                                                 "reason": exc.reason}))
        return found

    def bitstreams(self, sizes: dict[str, int | None], facts: Premis) -> list[dict[str, Any]]:
        formats = {e["object_identifier"]: _format_of(e) for e in facts.events
                   if e["event_type"] == FORMAT_IDENTIFICATION and e["object_identifier"]}
        rows = []
        # only what this version physically holds, as ingest and new_metadata_version register
        # it: a fetched file is a bitstream of the version that holds it
        held = [p for p in sorted(self.manifest) if p not in self.fetched]
        tags = [*TAG_FILES, *([FETCH] if FETCH in self.tags else [])]
        for path in [*held, *tags, TAGMANIFEST, SIGNATURE]:
            rel, payload = path.removeprefix("data/"), path.startswith("data/")
            obj = facts.objects.get(rel, {}) if payload else {}
            # the PREMIS object's format (content files); the metadata khoso wrote has its
            # format by construction (older AIPs recorded an identification event for the SIP
            # file at the same path, and only that event says which format it was)
            puid, name = _object_format(obj, rel) if obj else formats.get(rel) or (
                own_format(rel) if payload else (None, None))
            sha = self.manifest.get(path) or _sha(self.files[path])
            rows.append({"path": path, "size": self.size(path, rel, sha, sizes, obj),
                         "sha256": sha, "puid": puid, "format_name": name,
                         "mime": "application/pkcs7-signature" if path.endswith(".p7s")
                         else mime_for(path)})
        return rows

    def size(self, path: str, rel: str, sha: str, sizes: dict[str, int | None],
             obj: dict[str, Any]) -> int:
        if path in self.files:
            return len(self.files[path])
        key = f"{self.prefix}/{path}"
        if self.verify:
            result = self.storage.verify(key, sha)
            if not result.ok:
                raise self.fail("RBD006", file=path, outcome=result.outcome.value)
            return result.bytes_read
        known = sizes.get(rel) if sizes.get(rel) is not None else obj.get("size")
        if known is not None:
            return known
        try:
            return self.storage.stat(key).size
        except StorageError as exc:
            raise self.fail("RBD002", file=path, reason=exc.message("en")) from None


# -- writing to the catalog -----------------------------------------------------------------

IssueArgs = tuple[str, str, dict[str, Any]]  # code, path, params


@dataclass
class _Version:
    """One AIP version as found in the locations: read from the first that holds a good copy
    (``source``), or skipped when none does. ``copies`` is each location's copy state."""

    version: int
    prefix: str
    aip: Aip | None = None
    source: str | None = None
    failures: dict[str, IssueArgs] = field(default_factory=dict)  # location -> why not read
    copies: dict[str, IssueArgs] = field(default_factory=dict)  # location -> problem
    present: bool = False  # already in the catalog (a rebuild run again over an incomplete one)


@dataclass
class _Loaded:
    """A package entity read from storage: each version, its sidecar events, and the warnings
    met on the way."""

    entity: str
    aips: list[_Version] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    issues: list[IssueArgs] = field(default_factory=list)


# Archival codes a metadata version may not change (``preservation.packaging.aip.new_version``
# refuses it): an existing row keeps its own, and a later version's EAD updates every other column.
_FILE_CODES = ("arcFileCode",)
_DOC_CODES = ("docCode", "arcDocCode")


def _update_columns(row: RecordFile | Document, record: EadRecord, keep: tuple[str, ...]) -> None:
    """This version's EAD over an existing row: ``records.column`` names and the conversions of
    ``records._columns``; an element the EAD no longer has empties its column."""
    for spec in field_specs(record.package, record.kind):
        name = column(spec.name)
        if spec.name in keep or not hasattr(row, name):
            continue
        value = record.values.get(spec.name)
        if value is None:
            value = [] if spec.multi else None
        elif spec.type == "date":
            value = iso_date(cast(TTDate, value))  # read_ead gives a date field as a TTDate
        elif isinstance(value, tuple):
            value = list(value)
        setattr(row, name, value)


def _copy_state(events: list[dict[str, Any]], location: str, verify: bool
                ) -> dict[str, Any]:
    """``stored_copy`` columns for this location, from its replication and check events."""
    mine = [e for e in events if (e.get("copy") or {}).get("location") == location]
    stored = [e for e in mine if e["event_type"] == REPLICATION]
    checked = [e for e in mine if (e.get("copy") or {}).get("result")]
    stored_at = stored[0]["when"] if stored else utcnow()
    if verify:
        return {"stored_at": stored_at, "last_check_at": utcnow(),
                "last_check_result": CheckResult.OK,
                "last_check_detail": "verified by catalog rebuild"}
    if checked:
        copy = checked[-1]["copy"]
        at = copy.get("checked_at")
        return {"stored_at": stored_at,
                "last_check_at": sidecar.parse_when(at) if at else checked[-1]["when"],
                "last_check_result": copy["result"], "last_check_detail": copy.get("detail")}
    if stored:
        return {"stored_at": stored_at, "last_check_at": stored_at,
                "last_check_result": CheckResult.OK,
                "last_check_detail": "verified when written"}
    return {"stored_at": stored_at, "last_check_at": None, "last_check_result": "not_checked",
            "last_check_detail": None}


def _created_at(events: list[dict[str, Any]]) -> dt.datetime:
    """When the package was registered: as ingest mirrored it with its replication events,
    else the first replication (the commit follows it), else its latest event."""
    for e in events:
        if e.get("package_created_at"):
            try:
                return sidecar.parse_when(e["package_created_at"])
            except ValueError:
                break
    stored: list[dt.datetime] = [e["when"] for e in events if e["event_type"] == REPLICATION]
    if stored:
        return min(stored)
    return max((e["when"] for e in events), default=None) or utcnow()


_MISSING_CODES = ("RBD004", "RBD005")  # a copy lacking objects; the rest could not be believed


def _damaged_state(issue: IssueArgs, stored_at: dt.datetime) -> dict[str, Any]:
    """``stored_copy`` columns for a copy the rebuild found damaged: what the fixity audit
    would have recorded, so that ``khoso audit --repair`` restores it from a good copy. A copy
    that could not be read (storage error) says nothing about its bytes: not checked."""
    code, _, params = issue
    reason = str(params.get("reason") or "")
    if code in _MISSING_CODES or (code == "RBD002" and reason == "missing"):
        result = CheckResult.MISSING
    elif code == "RBD002":
        result = CheckResult.NOT_CHECKED
    else:
        result = CheckResult.MISMATCH
    detail = Issue(code, params.get("prefix", ""), params).message("en")
    return {"stored_at": stored_at, "last_check_at": utcnow(), "last_check_result": result,
            "last_check_detail": f"catalog rebuild: [{code}] {detail}"[:2000]}


def _both(issue: Issue) -> Text:
    """An issue quoted inside another message, in that message's language."""
    return Text(issue.message("vi"), issue.message("en"))


class _Rebuild:
    def __init__(self, catalog: Catalog, storages: list[Storage], archive_code: str,
                 verify: bool, progress: Progress | None, workers: int,
                 quarantine_dir: Path | None = None, ocr: OcrReader | None = None) -> None:
        self.ocr = ocr
        self.catalog, self.storages, self.archive_code = catalog, storages, archive_code
        self.storage = storages[0]  # the preferred source
        self.by_name = {st.name: st for st in storages}
        self.verify, self.progress, self.workers = verify, progress, workers
        self.quarantine_dir = quarantine_dir
        self.report = RebuildReport(self.storage.name, archive_code, verify,
                                    locations=[st.name for st in storages])
        self.listings: dict[str, _Listing] = {}  # location -> what it holds (those listed)
        self.skipped: list[str] = []  # AIP versions no location holds a good copy of
        self.resuming = False
        self.in_catalog: dict[str, tuple[int, str, int]] = {}  # prefix -> (package id, objid, v)
        self.last: dict[str, int] = {}  # objid -> the version last written
        self.agents: dict[tuple[str, str], int] = {}
        self.agencies: dict[str, int] = {}
        self.agency_facts: dict[str, dict[str, Any]] = {}
        self.fonds: dict[str, int] = {}
        self.packages: dict[tuple[str, int], int] = {}
        # objid -> (version, id) of the versions in the catalog, in the order written
        self.written: dict[str, list[tuple[int, int]]] = defaultdict(list)

    def warn(self, code: str, path: str = "", **params: Any) -> None:
        if len(self.report.problems) < MAX_WARNINGS:
            self.report.add(code, path, **params)

    def holders(self, pick: Callable[[_Listing], Any]) -> list[Storage]:
        """The listed locations, preferred first, for which ``pick(listing)`` is true."""
        return [self.by_name[n] for n in self.listings if pick(self.listings[n])]

    def snapshot(self, key: str) -> dict[str, Any] | None:
        """A snapshot from the first location that reads it (each one holds the same)."""
        problem = None
        for storage in self.holders(lambda lst: key in lst.fonds.values()
                                    or key in lst.agencies.values()):
            try:
                return sidecar.read_json(storage, key)
            except (StorageError, ValueError, UnicodeDecodeError) as exc:
                problem = exc.message("en") if isinstance(exc, StorageError) else str(exc)
        if problem is not None:
            self.warn("RBD010", key, key=key, reason=problem)
        return None

    # fonds, agencies, archive body: one transaction before the packages
    def setup(self) -> None:
        fonds_keys = {c: k for lst in reversed(list(self.listings.values()))
                      for c, k in lst.fonds.items()}
        agency_keys = {o: k for lst in reversed(list(self.listings.values()))
                       for o, k in lst.agencies.items()}
        aip_fonds = {layout.PackageKey.parse(p).fonds for lst in self.listings.values()
                     for p in lst.aips}
        fonds_facts = {code: snap for code, key in fonds_keys.items()
                       if (snap := self.snapshot(key))}
        for key in agency_keys.values():
            if (snap := self.snapshot(key)) and (a := snap.get("agency")) and a.get("organ_id"):
                self.agency_facts[a["organ_id"]] = a
        for snap in fonds_facts.values():
            if (a := snap.get("agency")) and a.get("organ_id"):
                self.agency_facts.setdefault(a["organ_id"], a)
        body_facts: dict[str, Any] = next((s["archive_body"] for s in fonds_facts.values()
                           if (s.get("archive_body") or {}).get("name")), {})
        with self.catalog.session() as s:
            body = s.scalar(sa.select(ArchiveBody).where(ArchiveBody.code == self.archive_code))
            if body is None:
                body = ArchiveBody(code=self.archive_code,
                                   name=body_facts.get("name") or self.archive_code,
                                   kind=body_facts.get("kind") or "lich_su")
                s.add(body)
                s.flush()
            for organ_id in sorted(self.agency_facts):
                self.agency_id(s, organ_id, None)
            for code in sorted(aip_fonds | set(fonds_facts)):
                self.fonds[code] = self.fonds_id(s, body.id, code, fonds_facts.get(code))

    def agency_id(self, s: Session, organ_id: str, name: str | None) -> int:
        if organ_id in self.agencies:
            return self.agencies[organ_id]
        row = s.scalar(sa.select(Agency).where(Agency.organ_id == organ_id))
        if row is None:
            facts = self.agency_facts.get(organ_id)
            if facts is None:
                self.warn("RBD013", organ_id, organ_id=organ_id, name=name or organ_id)
                facts = {"name": name or organ_id}
            row = Agency(organ_id=organ_id, name=facts.get("name") or organ_id,
                         address=facts.get("address"), contact_email=facts.get("contact_email"))
            s.add(row)
            s.flush()
        self.agencies[organ_id] = row.id
        return row.id

    def fonds_id(self, s: Session, body_id: int, code: str, snap: dict[str, Any] | None) -> int:
        row = s.scalar(sa.select(Fonds).where(Fonds.archive_body_id == body_id,
                                              Fonds.fond_code == code))
        if row is not None:
            return row.id
        facts = dict((snap or {}).get("fonds") or {})
        if not snap:
            self.warn("RBD009", code, fond=code)
        agency = (snap or {}).get("agency") or {}
        values = {k: facts.get(k) for k in sidecar.FONDS_FIELDS if facts.get(k) is not None}
        values.update(fond_code=code, fond_name=facts.get("fond_name") or code)
        row = Fonds(archive_body_id=body_id, **values, agency_id=self.agency_id(
            s, agency["organ_id"], agency.get("name")) if agency.get("organ_id") else None)
        s.add(row)
        s.flush()
        self.report.fonds += 1
        return row.id

    def agent_ids(self, s: Session, wanted: dict[tuple[str, str], dict[str, Any]]
                  ) -> dict[tuple[str, str], int]:
        ids: dict[tuple[str, str], int] = {}
        for key, facts in wanted.items():
            if key in self.agents:
                ids[key] = self.agents[key]
                continue
            where = (PremisAgent.identifier_type == key[0], PremisAgent.identifier_value == key[1])
            found = s.scalar(sa.select(PremisAgent.id).where(*where))
            if found is None:
                row = PremisAgent(identifier_type=key[0], identifier_value=key[1],
                                  name=facts.get("name") or key[1],
                                  agent_type=facts.get("agent_type") or "software",
                                  note=facts.get("note"))
                s.add(row)
                s.flush()
                found = row.id
            ids[key] = self.agents[key] = found
        return ids

    def events(self, aip: Aip, extra: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """PREMIS events then sidecar events, each once, checked; times as aware UTC."""
        return self.checked(aip.prefix, (("premis", aip.events), ("sidecar", extra)))

    def checked(self, where: str, sources: Iterable[tuple[str, list[dict[str, Any]]]]
                ) -> list[dict[str, Any]]:
        out, seen = [], set()
        for source, events in sources:
            for e in events:
                try:
                    if e.get("outcome") not in EVENT_OUTCOMES:
                        raise ValueError(f"outcome {e.get('outcome')!r}")
                    if not e.get("event_uuid") or not e.get("event_type"):
                        raise ValueError("no identifier or type")
                    when = _when(e.get("when") or e.get("event_datetime"))
                except ValueError as exc:
                    self.warn("RBD016", where, prefix=where,
                              event=e.get("event_uuid"), reason=f"{source}: {exc}")
                    continue
                if e["event_uuid"] in seen:
                    continue
                seen.add(e["event_uuid"])
                out.append({**e, "when": when, "source": source})
        return out

    def write(self, s: Session, found: _Version, status: str, extra: list[dict[str, Any]]) -> int:
        aip = found.aip
        assert aip is not None
        fonds = s.get_one(Fonds, self.fonds[aip.fond_code])
        events = self.events(aip, extra)
        created = _created_at(events)
        # versions of this AIP before this one already in the catalog
        earlier = [i for v, i in self.written.get(aip.objid, []) if v < aip.version]
        if not earlier:
            rf = save_record_file(s, fonds, aip.hoso, audit_entry=False) if aip.hoso else None
            new_rf = rf is not None
            if rf is not None:
                rf.created_at = created
        else:  # a later version describes the same hồ sơ: its rows are updated, not re-made
            rf, new_rf = self.record_file(s, fonds, aip, s.get_one(Package, earlier[-1]))
        agency_id = self.agency_id(s, aip.organ_id, aip.agency_name) if aip.organ_id else None
        pkg = Package(objid=aip.objid, kind=PackageKind.AIP, content_type=aip.content,
                      version=aip.version,
                      status=status, record_file_id=rf.id if rf else None, fonds_id=fonds.id,
                      agency_id=agency_id, label=aip.label,
                      previous_id=self.packages.get((aip.objid, aip.version - 1)),
                      total_size=sum(b["size"] for b in aip.bitstreams),
                      file_count=len(aip.bitstreams), created_at=created,
                      critical=any(e.get("critical") for e in extra))
        s.add(pkg)
        s.flush()
        docs, new_docs = [], 0
        for record, files in aip.documents:
            doc = self.document(s, record, files, rf, earlier) if earlier else None
            if doc is None:
                doc = save_document(s, record, record_file=rf, package_id=pkg.id,
                                    audit_entry=False)
                doc.created_at = created
                new_docs += 1
            docs.append((files, doc))
        s.flush()
        doc_ids = {path: doc.id for files, doc in docs for path in files}
        ids = list(s.scalars(sa.insert(Bitstream).returning(Bitstream.id,
                                                            sort_by_parameter_order=True),
                             [{**b, "package_id": pkg.id, "document_id": doc_ids.get(b["path"]),
                               "created_at": created} for b in aip.bitstreams]))
        bitstreams = {b["path"]: i for b, i in zip(aip.bitstreams, ids, strict=True)}
        self.ocr_text(s, aip, pkg.id, doc_ids, created)
        copies = self.add_copies(s, found, pkg, events)
        self.insert_events(s, aip, pkg.id, copies, bitstreams, events)
        self.report.record_files += new_rf
        self.report.documents += new_docs
        self.report.bitstreams += len(ids)
        return pkg.id

    def ocr_text(self, s: Session, aip: Aip, package_id: int, doc_ids: dict[str, int],
                 created: dt.datetime) -> None:
        """Each digitised document's OCR text, as ingest's ``on_register`` wrote it (the search
        index built at the end reads it); a document that already has one keeps it."""
        rows = [{"document_id": doc_ids[t.path], "package_id": package_id, "pages": t.pages,
                 "engine": t.engine, "text": t.text, "created_at": created}
                for t in aip.ocr if t.path in doc_ids
                and s.get(DocumentOcrText, doc_ids[t.path]) is None]
        if rows:
            s.execute(sa.insert(DocumentOcrText), rows)
        self.report.ocr_texts += len(rows)

    def add_copies(self, s: Session, found: _Version, pkg: Package,
                   events: list[dict[str, Any]]) -> dict[str, int]:
        """A stored copy for every location listed: the one read, the others as the rebuild
        found them (damaged, missing: for the audit to repair), each with its history."""
        assert found.aip is not None
        rows = {}
        for name in self.listings:
            state = _copy_state(events, name, self.verify)  # --verify re-hashed every copy
            problem = found.failures.get(name) or found.copies.get(name)
            if problem is not None:
                state = _damaged_state(problem, state["stored_at"])
            rows[name] = StoredCopy(package_id=pkg.id, location=name, key=found.prefix,
                                    sha256=found.aip.tagmanifest_sha256, size=pkg.total_size,
                                    **state)
        s.add_all(rows.values())
        s.flush()
        self.report.copies += len(rows)
        self.report.copies_damaged += sum(r.last_check_result != CheckResult.OK
                                          and r.last_check_result != "not_checked"
                                          for r in rows.values())
        return {name: row.id for name, row in rows.items()}

    def record_file(self, s: Session, fonds: Fonds, aip: Aip, previous: Package
                    ) -> tuple[RecordFile | None, bool]:
        """The hồ sơ of an earlier version, updated from this version's package EAD (as
        ``new_metadata_version`` did); made only if the earlier version had none."""
        rf = s.get(RecordFile, previous.record_file_id) if previous.record_file_id else None
        if aip.hoso is None:
            return rf, False
        if rf is None:
            return save_record_file(s, fonds, aip.hoso, audit_entry=False), True
        before = (rf.maintenance, rf.end_date)
        _update_columns(rf, validate_record(aip.hoso), _FILE_CODES)
        if (rf.maintenance, rf.end_date) != before:
            # validate_record checked both: a TTDate and a code
            rf.retention_expires_on = expiry(cast(TTDate, aip.hoso.values["endDate"]),
                                             cast(str, aip.hoso.values["maintenance"]),
                                             rf.retention_years)
        return rf, False

    def document(self, s: Session, record: EadRecord, files: list[str], rf: RecordFile | None,
                 earlier: list[int]) -> Document | None:
        """The row an earlier version made for this document, updated from this version's EAD:
        found through the earlier versions' bitstreams of its files, else by its codes."""
        doc_id = s.scalar(sa.select(Bitstream.document_id).where(
            Bitstream.package_id.in_(earlier), Bitstream.path.in_(files),
            Bitstream.document_id.is_not(None)).limit(1)) if files else None
        if doc_id is None:
            scope: sa.ColumnElement[bool] = Document.package_id.in_(earlier)
            if rf is not None:
                scope = sa.or_(scope, Document.record_file_id == rf.id)
            for name, col in (("arcDocCode", Document.arc_doc_code), ("docCode", Document.doc_code)):
                if code := record.values.get(name):
                    doc_id = s.scalar(sa.select(Document.id).where(scope, col == code)
                                      .order_by(Document.id).limit(1))
                    if doc_id is not None:
                        break
        if doc_id is None:
            return None
        doc = s.get_one(Document, doc_id)
        _update_columns(doc, validate_record(record), _FILE_CODES + _DOC_CODES)
        return doc

    def insert_events(self, s: Session, aip: Aip | None, package_id: int, copies: dict[str, int],
                      bitstreams: dict[str, int], events: list[dict[str, Any]]) -> None:
        if not events:
            return
        wanted = dict(aip.agents) if aip is not None else {}
        for e in events:
            for a in e.get("agents") or ():
                if isinstance(a, dict):  # sidecar: the agent travels with its event
                    wanted.setdefault((a["identifier_type"], a["identifier_value"]), a)
                else:
                    wanted.setdefault((a[0], a[1]), {})
        agent_ids = self.agent_ids(s, wanted)

        def row(e: dict[str, Any]) -> dict[str, Any]:
            if e["source"] == "premis":  # as ingest links them: by the file's path in data/
                bitstream = bitstreams.get(f"data/{e['object_identifier'] or ''}")
            else:
                bitstream = bitstreams.get(e.get("bitstream") or "")
            copy_id = copies.get((e.get("copy") or {}).get("location") or "") \
                if e.get("link_copy", True) else None
            if "outcome_data" in e:  # None: an event recorded without data
                data = e["outcome_data"] if isinstance(e["outcome_data"], dict) else None
            else:  # PREMIS.xml, or a sidecar written before outcome_data existed: in the text
                data = legacy_event_data(e["event_type"], e.get("detail"), e.get("outcome_detail"))
            return {"event_uuid": e["event_uuid"], "event_type": e["event_type"],
                    "event_datetime": e["when"], "detail": e.get("detail"),
                    "outcome": e["outcome"], "outcome_detail": e.get("outcome_detail"),
                    "outcome_data": data,
                    "package_id": package_id, "bitstream_id": bitstream,
                    "stored_copy_id": copy_id,
                    "object_identifier": e.get("object_identifier")}

        ids = list(s.scalars(sa.insert(PremisEvent).returning(
            PremisEvent.id, sort_by_parameter_order=True), [row(e) for e in events]))
        links = set()
        for event_id, e in zip(ids, events, strict=True):
            for a in e.get("agents") or ():
                t, v, role = (a["identifier_type"], a["identifier_value"], a.get("role")) \
                    if isinstance(a, dict) else a
                links.add((event_id, agent_ids[(t, v)], role or ""))
        if links:
            s.execute(sa.insert(event_agent),
                      [{"event_id": e, "agent_id": a, "role": r} for e, a, r in sorted(links)])
        self.report.events += len(ids)
        self.report.sidecar_events += sum(e["source"] == "sidecar" for e in events)

    # reading: one package entity (all its versions and its sidecar events), no database
    def load(self, entity: str, versions: list[tuple[int, str]]) -> _Loaded:
        loaded = _Loaded(entity)
        batches = []
        for storage in self.holders(lambda lst: entity in lst.batches):
            for key in sorted(self.listings[storage.name].batches[entity],
                              key=lambda k: (sidecar.batch_sequence(k), k)):
                try:
                    events, bad = sidecar.read_batch(storage, key)
                except StorageError as exc:
                    loaded.issues.append(("RBD010", key, {"key": key,
                                                          "reason": exc.message("en")}))
                    continue
                loaded.issues += [("RBD010", key, {"key": key, "reason": r}) for r in bad[:5]]
                batches.append(events)
        loaded.events = sidecar.merge_events(batches)  # every location's: the union
        for e in loaded.events:
            if e.get("version") not in {v for v, _ in versions}:
                loaded.issues.append(("RBD015", entity, {
                    "event_uuid": e.get("event_uuid"), "objid": e.get("objid"),
                    "version": e.get("version")}))
        for version, prefix in versions:
            found = _Version(version, prefix, present=prefix in self.in_catalog)
            if not found.present:
                self.read_version(found, loaded)
            loaded.aips.append(found)
        return loaded

    def read_version(self, found: _Version, loaded: _Loaded) -> None:
        """Read the version from the first location (preferred first) that holds a good copy,
        then look at the copies in the others."""
        prefix = found.prefix
        for storage in self.holders(lambda lst: prefix in lst.aips):
            reader = _AipReader(storage, prefix, self.listings[storage.name].aips[prefix],
                                self.verify, self.ocr)
            try:
                found.aip, found.source = reader.load(), storage.name
            except _Damaged as damaged:
                found.failures[storage.name] = damaged.issue
            except Exception as exc:  # noqa: BLE001 - e.g. a storage error not foreseen above
                found.failures[storage.name] = ("RBD007", prefix, {
                    "prefix": prefix, "file": "-", "reason": str(exc).splitlines()[0][:300]})
            loaded.issues += [(code, prefix, params) for code, params in reader.warnings]
            if found.aip is not None:
                break
        if found.aip is None:
            return
        for name, listing in self.listings.items():
            if name == found.source or name in found.failures:
                continue
            problem = self.check_copy(self.by_name[name], found.aip, listing.aips.get(prefix))
            if problem is not None:
                found.copies[name] = problem

    def check_copy(self, storage: Storage, aip: Aip, present: set[str] | None
                   ) -> IssueArgs | None:
        """A copy other than the one read: every object there (from the listing), the same tag
        manifest (one small read), and with ``--verify`` every object re-hashed."""
        prefix = aip.prefix
        if not present:
            return ("RBD005", prefix, {"prefix": prefix, "count": len(aip.bitstreams),
                                       "first": "(the whole package)"})
        missing = [b["path"] for b in aip.bitstreams if b["path"] not in present]
        if missing:
            return ("RBD005", prefix, {"prefix": prefix, "count": len(missing),
                                       "first": missing[0]})
        try:
            with storage.open(f"{prefix}/{TAGMANIFEST}") as f:
                actual = _sha(f.read())
            if actual != aip.tagmanifest_sha256:
                return ("RBD003", prefix, {"prefix": prefix, "file": TAGMANIFEST,
                                           "expected": aip.tagmanifest_sha256, "actual": actual})
            if self.verify:
                for b in aip.bitstreams:
                    result = storage.verify(f"{prefix}/{b['path']}", b["sha256"])
                    if not result.ok:
                        return ("RBD006", prefix, {"prefix": prefix, "file": b["path"],
                                                   "outcome": result.outcome.value})
        except StorageError as exc:
            return ("RBD002", prefix, {"prefix": prefix, "file": TAGMANIFEST,
                                       "reason": exc.message("en")})
        return None

    # writing: each package in its own transaction, in version order
    def store(self, loaded: _Loaded) -> None:
        for code, path, params in loaded.issues:
            self.warn(code, path, **params)
        readable = [f for f in loaded.aips if f.aip is not None]
        objids = {f.aip.objid for f in readable if f.aip is not None} | \
            {self.in_catalog[f.prefix][1] for f in loaded.aips if f.present}
        # the latest version that could be read is the active one: a damaged vN skipped must
        # not leave the package with no active version
        latest = max((f.version for f in readable), default=None)
        fix_status = False
        for found in loaded.aips:
            if found.present:
                self.add_missing_copies(found)
                continue
            if found.aip is None:
                for code, path, params in found.failures.values():
                    self.report.add(code, path, **params)
                self.report.aips_skipped += 1
                self.skipped.append(found.prefix)
                continue
            for name, (code, _, params) in {**found.failures, **found.copies}.items():
                self.warn("RBD039", found.prefix, prefix=found.prefix, location=name,
                          source=found.source, failed=code,
                          detail=_both(Issue(code, found.prefix, params)))
            aip = found.aip
            extra = [e for e in loaded.events if e.get("version") == found.version
                     and e.get("objid") in (None, aip.objid)]
            status = (PackageStatus.ACTIVE if found.version == latest
                      else PackageStatus.SUPERSEDED)
            if self.package(found, status, extra):
                self.last[aip.objid] = found.version
            if status == PackageStatus.ACTIVE and self.last.get(aip.objid) != found.version:
                fix_status = True  # the latest read could not be written
            if self.resuming and any(f.present for f in loaded.aips):
                fix_status = True  # versions already in the catalog may now be superseded
        if fix_status:
            for objid in objids:
                self.set_active(objid)

    def set_active(self, objid: str) -> None:
        """The highest version of the package in the catalog is the active one."""
        with self.catalog.session() as s:
            rows = package_versions(s, objid, aip_only=True)
            for row in rows:
                row.status = PackageStatus.ACTIVE if row is rows[-1] else PackageStatus.SUPERSEDED

    def add_missing_copies(self, found: _Version) -> None:
        """A version already in the catalog (a rebuild run again): copies in locations that
        could not be listed last time are registered now, as not yet checked."""
        package_id = self.in_catalog[found.prefix][0]
        with self.catalog.session() as s:
            have = set(s.scalars(sa.select(StoredCopy.location).where(
                StoredCopy.package_id == package_id)))
            model = s.scalar(sa.select(StoredCopy).where(StoredCopy.package_id == package_id)
                             .limit(1))
            for name in self.listings:
                if name in have or model is None:
                    continue
                held = found.prefix in self.listings[name].aips
                s.add(StoredCopy(package_id=package_id, location=name, key=found.prefix,
                                 sha256=model.sha256, size=model.size, stored_at=utcnow(),
                                 last_check_at=None if held else utcnow(),
                                 last_check_result="not_checked" if held else "missing",
                                 last_check_detail=None if held else
                                 "catalog rebuild: not in this location"))
                self.report.copies += 1

    def package(self, found: _Version, status: str, extra: list[dict[str, Any]]) -> bool:
        aip = found.aip
        assert aip is not None
        counts = (self.report.record_files, self.report.documents, self.report.bitstreams,
                  self.report.events, self.report.sidecar_events, self.report.copies,
                  self.report.copies_damaged)
        agents, agencies = dict(self.agents), dict(self.agencies)
        try:
            with self.catalog.session() as s:
                package_id = self.write(s, found, status, extra)
        except Exception as exc:  # noqa: BLE001 - one bad package must not stop the rebuild
            self.agents, self.agencies = agents, agencies  # ids made in the rolled-back work
            (self.report.record_files, self.report.documents, self.report.bitstreams,
             self.report.events, self.report.sidecar_events, self.report.copies,
             self.report.copies_damaged) = counts
            reason = exc.message("en") if isinstance(exc, KhosoError) else \
                str(exc).splitlines()[0][:300]
            self.report.add("RBD008", aip.prefix, prefix=aip.prefix, reason=reason)
            self.report.aips_skipped += 1
            self.skipped.append(aip.prefix)
            return False
        self.packages[(aip.objid, aip.version)] = package_id
        self.written[aip.objid].append((aip.version, package_id))
        self.report.aips_rebuilt += 1
        return True

    def list_locations(self) -> None:
        for storage in self.storages:
            try:
                self.listings[storage.name] = sort_keys(storage.list(f"{self.archive_code}/"))
            except StorageError as exc:
                self.report.add("RBD001", storage.name, location=storage.name,
                                reason=exc.message("en"))
                self.report.locations_unread.append(storage.name)
        strays = {k for lst in self.listings.values() for k in lst.stray}
        for key in sorted(strays):
            self.warn("RBD011", key, key=key)

    def begin(self) -> None:
        """Refuse a catalog that holds packages, unless a rebuild left it incomplete: then this
        run adds only what is missing (versions, copies) and leaves the rest as it is."""
        with self.catalog.session() as s:
            count = s.scalar(sa.select(sa.func.count()).select_from(Package))
            if not count:
                return
            if catalog_state.incomplete(s) is None:
                raise KhosoError("RBD012", count=count)
            self.resuming = True
            for pkg_id, objid, version, key in s.execute(
                    sa.select(Package.id, Package.objid, Package.version, StoredCopy.key)
                    .join(StoredCopy, StoredCopy.package_id == Package.id)
                    .where(Package.kind == "AIP").order_by(Package.version)):
                self.in_catalog[key] = (pkg_id, objid, version)
                if (objid, version) not in self.packages:
                    self.packages[(objid, version)] = pkg_id
                    self.written[objid].append((version, pkg_id))

    def run(self) -> RebuildReport:
        began = time.perf_counter()
        self.begin()
        self.list_locations()
        if not self.listings:  # not one location could be listed
            return self.summary(began)
        self.report.aips_found = len({p for lst in self.listings.values() for p in lst.aips})
        self.restore_records()
        if any(lst.aips or lst.fonds for lst in self.listings.values()):
            self.setup()
        entities: dict[str, set[tuple[int, str]]] = defaultdict(set)
        for lst in self.listings.values():
            for prefix in lst.aips:
                entity, version = layout.split_package_prefix(prefix)
                entities[entity].add((version, prefix))
        done = 0
        # Reads (storage latency, XML parsing) run ahead in a few threads while this thread
        # writes: S3 costs a round trip per object, and SQLite waits on fsync at each commit.
        with ThreadPoolExecutor(self.workers, "khoso-rebuild") as pool:
            pending: deque[Future[_Loaded]] = deque()
            names = iter(sorted(entities))
            for entity in names:
                pending.append(pool.submit(self.load, entity, sorted(entities[entity])))
                if len(pending) < 2 * self.workers:
                    continue
                done = self.finish(pending.popleft().result(), done)
            while pending:
                done = self.finish(pending.popleft().result(), done)
        self.restore_history()
        return self.summary(began)

    def restore_history(self) -> None:
        """Destruction cases, transfers and legal holds, after the packages: a case naming a
        hồ sơ whose AIP came back is refused, transfers are read from the AIPs' events and
        holds from the restored audit log; cases not yet executed last (a hồ sơ held since
        stays out of the Danh mục)."""
        history.restore_disposal(self)
        history.restore_transfers(self)
        history.restore_holds(self)
        history.restore_open_cases(self)

    def restore_records(self) -> None:
        """The audit log (into an empty log only) and the rejected submissions, before any
        package: the rebuild's own audit entry chains on from the restored ones."""
        records.restore_audit_log(self)
        records.restore_rejections(self)

    def finish(self, loaded: _Loaded, done: int) -> int:
        self.store(loaded)
        done += len(loaded.aips)
        if self.progress:
            self.progress("rebuild", done, self.report.aips_found)
        return done

    def summary(self, began: float) -> RebuildReport:
        report = self.report
        with self.catalog.session() as s:
            report.agents = s.scalar(sa.select(sa.func.count()).select_from(PremisAgent)) or 0
            report.agencies = s.scalar(sa.select(sa.func.count()).select_from(Agency)) or 0
            # once, over what the rebuild wrote: versions are written one by one and only the
            # last decides which is active
            indexed = search.reindex(s)
            report.search_entries = indexed.records + indexed.documents
        report.seconds = round(time.perf_counter() - began, 3)
        if report.seconds:
            report.aips_per_s = round(report.aips_rebuilt / report.seconds, 1)
        report.complete = not self.skipped and not report.locations_unread
        if not report.complete:
            report.add("RBD038", self.archive_code, count=len(self.skipped),
                       first=self.skipped[0] if self.skipped else "-",
                       locations=", ".join(report.locations_unread) or "-")
        with self.catalog.session() as s:
            catalog_state.mark_rebuild(s, complete=report.complete, skipped=self.skipped,
                                       locations_unread=report.locations_unread,
                                       problems=len(report.problems))
            audit_log.record(s, "system", "catalog.rebuild", "storage",
                             ",".join(report.locations),
                             **{k: v for k, v in report.to_dict().items() if k != "problems"},
                             problems=len(report.problems))
        return report


def rebuild_catalog(catalog: Catalog, storage: Storage | Sequence[Storage], *,
                    archive_code: str, progress: Progress | None = None, verify: bool = False,
                    workers: int = 2, quarantine_dir: Path | None = None,
                    ocr: OcrReader | None = None) -> RebuildReport:
    """Rebuild an empty, migrated ``catalog`` from the AIPs and sidecars under
    ``{archive_code}/`` in every location of ``storage`` (the first is the preferred source).

    Each AIP version is read from the first location holding a good copy; every location's
    copy is registered as found (a damaged one for ``khoso audit --repair``). A version no
    location holds a good copy of is skipped, and the catalog is marked incomplete
    (``preservation.catalog.state``, shown on ``/healthz``) until a later rebuild, run again on
    that catalog, adds it. ``workers`` threads read AIPs ahead of the one being written; a
    rejection's report is written back under ``quarantine_dir`` when given. ``ocr`` reads a
    digitised document's OCR text back from its stored PDF (``storage.rebuild_ocr``); without
    it each such document is restored without its text, with a warning (RBD090). Raises
    ``KhosoError`` RBD012 only when the catalog holds packages and is not marked incomplete.
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    storages = list(storage) if isinstance(storage, list | tuple) else [cast(Storage, storage)]
    if not storages or len({st.name for st in storages}) != len(storages):
        raise ValueError("at least one storage location, each named once")
    return _Rebuild(catalog, storages, archive_code, verify, progress, workers,
                    quarantine_dir, ocr).run()

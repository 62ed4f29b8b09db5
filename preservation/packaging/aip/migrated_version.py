"""A format migration makes AIP version N+1 that adds migrated files beside the originals.

Like a metadata version (``new_version``), v(N+1) physically holds only what is new: the
migrated files, both METS (each migrated file is listed right after its original, in the same
document), ``PREMIS_v{N+1}.xml`` and the tag files; every unchanged file, the originals
included, is fetched from the version that holds it, so an original stays the very object it
was, byte for byte. PREMIS_v{N+1} describes each original and its migrated file (SHA-256,
size, PRONOM format) with a ``derivation`` relationship between them (``has source`` /
``is source of``) naming the ``migration`` event, which records the tool and its version.

TT 05 §5.2 allows exactly one representation (``rep1``), so the migrated file is a second file
of the same document in rep1 rather than a ``rep2``: readers of the package find both.

The conversion itself is the caller's (``access_api.services.migration``, with the converters
of ``ingest.adapters``): this module plans which files to migrate, and writes and registers the
version, in the order of ``new_version``: reserve → build in a temp folder → replicate (all or
nothing) → one transaction. Files that could not be migrated are recorded as failed
``migration`` events, in the new version when others succeeded, else on version N
(``record_failures``), which then stays as it was.
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from preservation import search
from preservation.catalog import audit
from preservation.catalog.db import Catalog
from preservation.catalog.events import persist_events
from preservation.catalog.models import Bitstream, Package, StoredCopy, utcnow
from preservation.catalog.vocab import CheckResult, MigrationTarget, PackageStatus
from preservation.errors import KhosoError
from preservation.events import REPLICATION, Agent, Event, Outcome, khoso_agent
from preservation.issues import Issue, Report, Text
from preservation.packaging.aip import layout
from preservation.packaging.aip.new_version import (
    REP_METS,
    VersionOutcome,
    _Bag,
    _Current,
    _load,
    _mets,
    _read,
    _release,
    _reserve,
    _tags,
)
from preservation.packaging.model import mime_for, own_format
from preservation.packaging.objects import ObjectToStore
from preservation.packaging.premis import PremisWriter, Relationship
from preservation.packaging.read import read_mets
from preservation.settings import Settings

MIGRATION = "migration"  # LoC eventType
FORMAT_IDENTIFICATION = "format identification"
CONTENT = "data/representations/rep1/data/"
DERIVATION, HAS_SOURCE, IS_SOURCE_OF = "derivation", "has source", "is source of"
_EXTENSIONS = {MigrationTarget.PDFA_2B: ".pdf", MigrationTarget.TIFF: ".tif"}


def migrated_path(source: str, target: MigrationTarget) -> str:
    """``…/tai-lieu-1.pdf`` → ``…/tai-lieu-1.pdfa-2b.pdf``: beside the original, named after
    it and the target, so one look at the folder tells which file came from which."""
    p = PurePosixPath(source)
    return str(p.with_name(f"{p.stem}.{target.value}{_EXTENSIONS[target]}"))


@dataclass(frozen=True)
class Candidate:
    """A content file of the active version whose format khoso can migrate."""

    source: str  # data/… in the logical version
    target_path: str
    target: MigrationTarget
    sha256: str
    size: int
    puid: str
    format_name: str | None
    key: str  # where the original is stored (the version that holds it)
    version: int  # that version


@dataclass(frozen=True)
class Plan:
    objid: str
    version: int
    candidates: tuple[Candidate, ...]
    already: tuple[str, ...]  # sources whose migrated file is in the version already
    # sources whose migrated file's name is taken by a file the agency sent (never overwritten)
    clashes: tuple[Candidate, ...] = ()


@dataclass(frozen=True)
class Migrated:
    """A converted file, identified, ready to go into the new version."""

    candidate: Candidate
    file: Path
    puid: str
    format_name: str
    tool: Agent
    options: str
    identified_by: Agent


@dataclass(frozen=True)
class NotMigrated:
    candidate: Candidate
    issue: Issue  # MIG002 / MIG003
    tool: Agent | None = None


def plan(catalog: Catalog, objid: str, targets: Mapping[str, MigrationTarget]) -> Plan | None:
    """The files of ``objid``'s active version with a PUID in ``targets``; those already
    migrated (their migrated file is in the version) are set apart. None: no active AIP."""
    with catalog.session() as s:
        cur = _load(s, objid)
        if cur is None:
            return None
        formats = _formats(s, cur)
    todo, done, clashes = [], [], []
    for path, held in sorted(cur.files.items()):
        puid, name = formats.get(path, (None, None))
        if not path.startswith(CONTENT) or puid is None or puid not in targets:
            continue
        target = targets[puid]
        to = migrated_path(path, target)
        candidate = Candidate(path, to, target, held.sha256, held.size, puid, name,
                              f"{cur.prefixes[held.version]}/{path}", held.version)
        there = cur.files.get(to)
        if there is None:
            todo.append(candidate)
        elif there.version > held.version:  # a later version added it: a migration did
            done.append(path)
        else:  # the agency sent a file of that name with the original
            clashes.append(candidate)
    return Plan(objid, cur.version, tuple(todo), tuple(done), tuple(clashes))


def _formats(s: Session, cur: _Current) -> dict[str, tuple[str | None, str | None]]:
    """data/… → (PUID, format name) as recorded where each path lives."""
    out: dict[str, tuple[str | None, str | None]] = {}
    rows = s.execute(sa.select(Package.version, Bitstream.path, Bitstream.puid,
                               Bitstream.format_name)
                     .join(Package, Package.id == Bitstream.package_id)
                     .where(Bitstream.package_id.in_(cur.package_ids),
                            Bitstream.path.startswith(CONTENT)).order_by(Package.version))
    for _, path, puid, name in rows:
        out[path] = (puid, name)
    return out


def _rel(path: str) -> str:
    return path.removeprefix("data/")  # PREMIS file identifiers are package-relative


def _events(objid: str, migrated: Sequence[Migrated], failed: Sequence[NotMigrated],
            actor: str) -> tuple[list[Event], dict[str, str]]:
    """The migration (and identification) events; and per migrated file its event's UUID."""
    person = (Agent(actor, actor, agent_type="person"), "implementer")
    events: list[Event] = []
    made: dict[str, str] = {}
    for m in migrated:
        c = m.candidate
        event = Event(MIGRATION, Outcome.SUCCESS,
                      f"{_rel(c.source)} ({c.puid}) → {_rel(c.target_path)} ({m.puid}); "
                      f"{m.tool.name}: {m.options}", object_identifier=_rel(c.source),
                      agents=((m.tool, "executing program"), (khoso_agent(), "executing program"),
                              person))
        made[c.target_path] = event.event_uuid
        events += [event, Event(FORMAT_IDENTIFICATION, Outcome.SUCCESS,
                                f"{_rel(c.target_path)}: {m.puid} {m.format_name}",
                                object_identifier=_rel(c.target_path),
                                agents=((m.identified_by, "executing program"),))]
    for f in failed:
        tools = ((f.tool, "executing program"),) if f.tool else ()
        events.append(Event(MIGRATION, Outcome.FAILURE,
                            f"{_rel(f.candidate.source)} ({f.candidate.puid}) → "
                            f"{f.candidate.target.value}", f"[{f.issue.code}] "
                            f"{f.issue.message('vi')} / {f.issue.message('en')}",
                            object_identifier=_rel(f.candidate.source),
                            agents=(*tools, (khoso_agent(), "executing program"), person)))
    return events, made


def _premis(objid: str, migrated: Sequence[Migrated], bag: _Bag, events: Sequence[Event],
            made: Mapping[str, str], failed: Sequence[NotMigrated]) -> bytes:
    out = io.BytesIO()
    with PremisWriter(out) as w:
        w.object("URN", objid, category="intellectualEntity")
        for m in migrated:
            c = m.candidate
            size, digest = bag.held[c.target_path]
            uuid = made[c.target_path]
            w.object("filepath", _rel(c.source), size=c.size, sha256=c.sha256, puid=c.puid,
                     format_name=c.format_name or mime_for(c.source),
                     relationships=[Relationship(DERIVATION, IS_SOURCE_OF, "filepath",
                                                 _rel(c.target_path), uuid)])
            w.object("filepath", _rel(c.target_path), size=size, sha256=digest, puid=m.puid,
                     format_name=m.format_name,
                     relationships=[Relationship(DERIVATION, HAS_SOURCE, "filepath",
                                                 _rel(c.source), uuid)],
                     linking_events=[("UUID", uuid)])
        for f in failed:
            c = f.candidate
            w.object("filepath", _rel(c.source), size=c.size, sha256=c.sha256, puid=c.puid,
                     format_name=c.format_name or mime_for(c.source))
        agents: dict[tuple[str, str], Agent] = {}
        for e in events:
            outcome_of = {m.candidate.source: m.candidate.target_path for m in migrated}
            links = [("filepath", e.object_identifier or objid, "source")]
            target = outcome_of.get(f"data/{e.object_identifier}")
            if e.event_type == MIGRATION and target and e.outcome == Outcome.SUCCESS:
                links.append(("filepath", _rel(target), "outcome"))
            w.record(e, links)
            for a, _ in e.agents:
                agents[(a.identifier_type, a.identifier_value)] = a
        for a in agents.values():
            w.record_agent(a)
    return out.getvalue()


def _register(catalog: Catalog, cur: _Current, package_id: int, bag: _Bag, prefix: str,
              tag_digest: str, replicas: list[Any], events: list[Event], actor: str,
              migrated: Sequence[Migrated], failed: Sequence[NotMigrated]) -> None:
    size = sum(n for n, _ in bag.held.values())
    by_target = {m.candidate.target_path: m for m in migrated}
    with catalog.session() as s:
        old, pkg = s.get_one(Package, cur.package_id), s.get_one(Package, package_id)
        documents: dict[str, int | None] = {
            path: doc for path, doc in s.execute(sa.select(Bitstream.path, Bitstream.document_id)
                                                 .where(Bitstream.package_id.in_(cur.package_ids),
                                                        Bitstream.path.in_(
                                                            [m.candidate.source for m in migrated])))}
        old.status = PackageStatus.SUPERSEDED
        pkg.status, pkg.record_file_id = PackageStatus.ACTIVE, old.record_file_id
        pkg.fonds_id, pkg.agency_id, pkg.critical = old.fonds_id, old.agency_id, False
        pkg.reserved_by = pkg.reserved_at = None  # a whole version, no longer a reservation
        pkg.label = old.label
        pkg.total_size, pkg.file_count = size, len(bag.held)
        rows: dict[str, Bitstream] = {}
        for p, (n, d) in sorted(bag.held.items()):
            m = by_target.get(p)
            puid: str | None
            name: str | None
            if m is not None:  # identified after conversion
                puid, name = m.puid, m.format_name
                doc = documents.get(m.candidate.source)
            else:  # metadata khoso wrote: known by construction
                puid, name = own_format(p) if p.startswith("data/") else (None, None)
                doc = None
            rows[p] = Bitstream(package_id=package_id, path=p, size=n, sha256=d, puid=puid,
                                format_name=name, document_id=doc, mime=(
                                    "application/pkcs7-signature" if p.endswith(".p7s")
                                    else mime_for(p)))
        s.add_all(rows.values())
        at = utcnow()
        s.add_all(StoredCopy(package_id=package_id, location=r.location, key=prefix,
                             sha256=tag_digest, size=size, stored_at=at, last_check_at=at,
                             last_check_result=CheckResult.OK,
                             last_check_detail="verified when written")
                  for r in replicas)
        s.flush()
        search.index_aip(s, cur.objid)
        # events about a file this version holds point at it, as ingest and a rebuild link them
        persist_events(s, events, package_id=package_id,
                       bitstreams={p: b.id for p, b in rows.items()}, bitstream_prefix="data/")
        audit.record(s, actor, "package.migration", "package", cur.objid,
                     version=bag.version, previous=cur.version,
                     migrated={_rel(m.candidate.source): _rel(m.candidate.target_path)
                               for m in migrated},
                     failed={_rel(f.candidate.source): f.issue.code for f in failed},
                     key=prefix, copies=[r.location for r in replicas])


def record_failures(catalog: Catalog, objid: str, failed: Sequence[NotMigrated],
                    actor: str) -> tuple[int, str, list[Event]] | None:
    """No file could be migrated: the failed ``migration`` events go on the active version,
    which stays as it was. Returns (package id, its key prefix, the events) for the caller to
    mirror them; None when ``objid`` has no active version any more."""
    events, _ = _events(objid, (), failed, actor)
    with catalog.session() as s:
        cur = _load(s, objid)
        if cur is None:
            return None
        persist_events(s, events, package_id=cur.package_id)
        audit.record(s, actor, "package.migration_failed", "package", objid,
                     version=cur.version,
                     failed={_rel(f.candidate.source): f.issue.code for f in failed})
        return cur.package_id, cur.prefixes[cur.version], events


def new_migrated_version(settings: Settings, catalog: Catalog, *, planned: Plan,
                         migrated: Sequence[Migrated], failed: Sequence[NotMigrated],
                         actor: str, replicate: Callable[..., list[Any]], signer: Any,
                         read: Callable[[str], bytes],
                         reserved: Callable[[int, str], None] | None = None,
                         ) -> tuple[VersionOutcome, list[tuple[Event, str]]]:
    """Make v(N+1) of ``planned.objid`` holding ``migrated`` (at least one); refuse (MIG006,
    nothing written) when the active version is no longer the planned one or an original
    changed since. Returns the outcome and its replication events with their location, for
    the caller to mirror beside the AIP. ``reserved(package_id, prefix)`` is told of the
    reserved row before any object is written: a process killed after that leaves both, and
    only the caller (its job) can tell whose they are and take them back."""
    report = Report()
    objid = planned.objid
    with catalog.session() as s:
        cur = _load(s, objid)
    stale = cur is None or cur.version != planned.version or any(
        cur.files.get(m.candidate.source) is None
        or cur.files[m.candidate.source].sha256 != m.candidate.sha256
        or m.candidate.target_path in cur.files for m in migrated)
    if not migrated or stale or cur is None:
        report.add("MIG006", objid, objid=objid, why=_STALE if migrated else _NOTHING)
        return VersionOutcome(False, report, objid), []
    try:
        rep = read_mets(_read(cur, read, REP_METS), rep=True)[0]
    except KhosoError as exc:
        report.issues.append(exc.issue)
        return VersionOutcome(False, report, objid), []

    version = cur.version + 1
    package_id = _reserve(catalog, cur, version)
    if package_id is None:
        report.add("VER008", objid, objid=objid, version=version)
        return VersionOutcome(False, report, objid), []
    prefix = layout.version_prefix(cur.entity, version)
    try:
        if reserved is not None:
            reserved(package_id, prefix)
        with tempfile.TemporaryDirectory(prefix="khoso-migration-") as tmp:
            bag = _Bag(Path(tmp), cur, version)
            for m in migrated:
                bag.copy(m.candidate.target_path, m.file, mime_for(m.candidate.target_path))
            events, made = _events(objid, migrated, failed, actor)
            premis = f"data/metadata/preservation/PREMIS_v{version}.xml"
            bag.write(premis, _premis(objid, migrated, bag, events, made, failed))
            derived = {m.candidate.source: [m.candidate.target_path] for m in migrated}
            _mets(bag, cur, rep, cur.label or objid, premis, settings, derived)
            digest = _tags(bag, cur, settings, signer)
            replicas = replicate([ObjectToStore(f"{prefix}/{p}", bag.folder / p, d, n)
                                  for p, (n, d) in sorted(bag.held.items())])
        stored = [(Event(REPLICATION, Outcome.SUCCESS,
                         f"location={r.location}; key={prefix}; objects={r.objects}; "
                         f"bytes={r.bytes}; every object verified by SHA-256",
                         object_identifier=objid, agents=((khoso_agent(), "executing program"),)),
                   r.location) for r in replicas]
        _register(catalog, cur, package_id, bag, prefix, digest, replicas,
                  [*events, *(e for e, _ in stored)], actor, migrated, failed)
    except BaseException:
        _release(catalog, package_id)
        raise
    return (VersionOutcome(True, report, objid, version, package_id, prefix,
                           tuple(sorted(bag.held))), stored)


_STALE = Text("phiên bản đang dùng hoặc tệp gốc đã thay đổi trong lúc chuyển đổi",
              "the active version or an original changed during the conversion")
_NOTHING = Text("không có tệp nào được chuyển đổi", "no file was migrated")

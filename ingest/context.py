"""What an ingest knows as it goes: the services it uses and the facts its steps found.

Steps read and add to the context and return a ``StepResult``; they never write to the catalog.
The runner persists everything once, in one transaction, after the last step.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ingest.adapters.clamd import ScanResult, VirusScanner
from ingest.adapters.format_policy import FormatPolicy
from ingest.adapters.formats import FormatIdentification, FormatIdentifier
from ingest.adapters.signatures import SignatureVerification, SignatureVerifier
from ingest.bag import BagReport
from ingest.onepass import Sink
from ingest.sip import SipValidation
from ingest.spool import EventSpool
from ingest.unbagged import SubmissionForm
from ingest.unpack import ArchiveKind
from preservation.catalog.db import Catalog
from preservation.events import Event, Outcome
from preservation.issues import Issue, Report
from preservation.settings import Settings

if TYPE_CHECKING:  # ingest.aip builds these from a context: type-only, no circle at run time
    from sqlalchemy.orm import Session

    from ingest.aip import BuiltAip, Described

Progress = Callable[[str, int, int], None]  # (stage, done, total)
Identifying = Future[list[FormatIdentification]]  # a batch handed to a background identifier


class CmsVerifier(Protocol):
    """A detached CMS/PKCS#7 signature over another file (``DetachedCmsVerifier``)."""

    def verify(self, path: str | os.PathLike[str],
               signature_path: str | os.PathLike[str] | None = None) -> SignatureVerification: ...


class Signer(Protocol):
    """The archive's key signing the AIP's tag manifest (``preservation.signing.ArchiveSigner``)."""

    def sign_detached(self, data: bytes) -> bytes: ...


class Replica(Protocol):
    """What one location took of a replication (``storage.replication.Replica``)."""

    @property
    def location(self) -> str: ...

    @property
    def objects(self) -> int: ...

    @property
    def bytes(self) -> int: ...

    @property
    def seconds(self) -> float: ...


# The objects handed to replication are storage's object-to-store values (key, path or staged
# key, sha256, size, lock): ``Any`` until that value type is shared by ingest and storage.
class Replicate(Protocol):
    """Write objects to every location, each verified (``storage.replication.replicate``)."""

    def __call__(self, objects: Sequence[Any],
                 progress: Progress | None = None) -> Sequence[Replica]: ...


class Replicating(Protocol):
    """A replication under way (``storage.replication.Replication``)."""

    @property
    def running(self) -> bool: ...

    def add(self, objects: Sequence[Any]) -> None: ...

    def wait(self, progress: Progress | None = None) -> Sequence[Replica]: ...

    def cancel(self) -> None: ...


class StartReplication(Protocol):
    """Start writing objects to every location (``storage.replication.start_replication``)."""

    def __call__(self, objects: Sequence[Any],
                 progress: Progress | None = None) -> Replicating: ...


class StagedSink(Sink, Protocol):
    """A large content file written to every replica during the read pass (``storage.staging``)."""

    @property
    def key(self) -> str: ...


class Occupancy(Protocol):
    """What the locations already hold under an AIP key prefix (``storage.occupancy``)."""

    @property
    def locations(self) -> tuple[str, ...]: ...

    @property
    def identifiers(self) -> frozenset[str]: ...

    @property
    def hidden(self) -> tuple[str, ...]:
        """Locations holding only versions hidden behind delete markers (versioned buckets)."""
        ...


@dataclass
class Services:
    """The adapters an ingest runs with; real ones in production, fakes in unit tests."""

    scanner: VirusScanner
    identifier: FormatIdentifier
    policy: FormatPolicy
    pdf_verifier: SignatureVerifier | None = None
    cms_verifier: CmsVerifier | None = None
    # (objects with key/path/sha256/size, progress) -> replicas written; storage.replication
    replicate: Replicate | None = None
    # the same, started (objects, progress) -> a handle whose ``wait`` gives the replicas
    # (storage.replication.start_replication): registration runs while the replicas are written
    start_replication: StartReplication | None = None
    signer: Signer | None = None
    reject_not_scanned: bool = True
    # (ctx, catalog, package id, quarantine folder) after a rejection commits: keeps the
    # rejection with its report and events next to the AIPs
    after_reject: Callable[[IngestContext, Catalog, int, Path], None] | None = None
    # (job id, index) -> a Sink (with ``.key``) writing a large content file to every replica
    # while the read pass reads it (storage.staging); None keeps every copy local
    stage: Callable[[str, int], StagedSink] | None = None
    # (job id) -> removes whatever the job staged and did not move into place
    discard_staged: Callable[[str], int] | None = None
    # called after the registering commit (mirrors catalog records next to the AIPs)
    after_register: Callable[[IngestContext, Catalog], None] | None = None
    # (AIP key prefix) -> what the locations already hold there (storage.occupancy), or None:
    # the catalog may not know it (lost, rebuilt); raises a transient error when unreachable
    occupancy: Callable[[str], Occupancy | None] | None = None
    # (AIP key prefix) -> objects removed: the leftovers of this job's own killed attempt
    purge_own: Callable[[str], int] | None = None
    # (session, ctx, package id, bag path of each data file -> its document id), inside the
    # registering transaction before the search index is built: what an ingest of another
    # origin adds to the catalog (a digitisation's OCR text, ``ingest.digitise.importer``)
    on_register: Callable[[Session, IngestContext, int, dict[str, int]], None] | None = None


@dataclass(slots=True)
class FileFacts:
    """One payload file as ingest saw it, keyed by its path relative to the SIP root, in
    Unicode NFC (the name it was received under is ``IngestContext.received``)."""

    path: str
    size: int
    sha256: str
    scan: ScanResult | None = None
    signature_marker: bool = False  # a PDF signature dictionary was seen in the read pass
    format: FormatIdentification | None = None
    signatures: SignatureVerification | None = None
    block_digests: bytes | None = None  # per ``preservation.blockhash.BLOCK`` (large files)


@dataclass
class IngestContext:
    settings: Settings
    services: Services
    source: Path
    workspace: Path
    job_id: str
    catalog: Catalog | None = None  # read-only lookups (fonds registered?); steps never write
    actor: str = "system"
    kind: ArchiveKind = "dir"
    bag_root: Path | None = None
    form: SubmissionForm = SubmissionForm.BAGIT  # an unbagged TT 05 SIP is its own data/
    bag: BagReport | None = None
    sip: SipValidation | None = None
    files: dict[str, FileFacts] = field(default_factory=dict)
    # NFC path -> the path as received, for the names that differ (macOS writes NFD names)
    renamed: dict[str, str] = field(default_factory=dict)
    staged: dict[str, str] = field(default_factory=dict)  # SIP path -> staging key on the replicas
    # (paths, [(range of paths, future)]) from the scan step
    identifying: tuple[list[str], list[tuple[range, Identifying]]] | None = None
    events: EventSpool = field(default_factory=EventSpool)  # spooled: per-file events of 100k files
    report: Report = field(default_factory=Report)
    described: Described | None = None  # the AIP's EADs, written while identification finishes
    aip: BuiltAip | None = None
    stored: Sequence[Replica] = field(default_factory=list)
    storing: Replicating | None = None  # a replication under way (``Services.start_replication``)
    progress: Progress | None = None
    # (step name, index, number of steps) as each step starts: the job row records it
    on_step: Callable[[str, int, int], None] | None = None
    # the organ id an agency system submitted for (``Job.agency``): a bag naming another
    # agency is refused (SUB001), whatever the submission's own checks found
    submitted_for: str | None = None

    @property
    def sip_root(self) -> Path:
        assert self.bag_root is not None
        if self.form is SubmissionForm.UNBAGGED:
            return self.bag_root
        return self.bag_root / "data"

    def payload_file(self, rel: str) -> Path:
        """A payload file on disk by its bag path (``data/…``, also for an unbagged SIP)."""
        return self.sip_root / rel.removeprefix("data/")

    @property
    def aip_dir(self) -> Path:
        """The AIP bag being built (its keys come from the catalog codes, not this name)."""
        return self.workspace / "aip"

    def received(self, rel: str) -> Path:
        """The SIP file that ``rel`` (an NFC key of ``files``) names, under its name on disk."""
        return self.sip_root / self.renamed.get(rel, rel)

    def content_copy(self, rel: str) -> Path:
        """Where the read pass copies a content file of a folder submission: straight into
        the AIP tree, so building it moves nothing (10,000 renames for 10,000 files)."""
        return self.aip_dir / "data" / rel

    def content_source(self, rel: str) -> Path:
        """An unpacked archive's content file, which build moves into the AIP tree (a folder
        submission's copies are already there: ``content_copy``)."""
        return self.received(rel)

    def tick(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)


@dataclass(frozen=True)
class StepResult:
    outcome: Outcome
    issues: tuple[Issue, ...] = ()
    events: tuple[Event, ...] | EventSpool = ()  # a step with one event per file spools them
    reason: str = ""

    @classmethod
    def of(cls, report: Report, events: list[Event] | tuple[Event, ...] | EventSpool = (),
           reason: str = "") -> StepResult:
        kept = events if isinstance(events, EventSpool) else tuple(events)
        return cls(report.outcome, tuple(report.issues), kept, reason)


@dataclass(frozen=True)
class Step:
    """A named, ordered pipeline step with the PREMIS event it records."""

    name: str
    event_type: str
    run: Callable[[IngestContext], StepResult]
    mandatory: bool = True



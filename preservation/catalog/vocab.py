"""The catalog's closed vocabularies. Each value is the very string stored in its ``String``
column (and checked there by a CHECK constraint, ``models.one_of``), so a member compares equal
to what a row holds and nothing stored changes. PREMIS event outcomes are
``preservation.events.Outcome``."""

from __future__ import annotations

from enum import StrEnum


class ArchiveKind(StrEnum):
    """Cơ quan lưu trữ hiện hành (current) or lịch sử (historical)."""

    HIEN_HANH = "hien_hanh"
    LICH_SU = "lich_su"


class FondsStatus(StrEnum):
    """Phông đóng (closed: the organ no longer exists) or mở (still receiving records)."""

    DONG = "dong"
    MO = "mo"


class FileState(StrEnum):
    """A hồ sơ's lifecycle."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACTIVE = "active"
    REVIEW_DISPOSAL = "review_disposal"
    DESTROYED = "destroyed"
    TRANSFERRED = "transferred"


class DocumentKind(StrEnum):
    VAN_BAN = "van_ban"
    PIC = "pic"
    MEDIA = "media"


class PackageKind(StrEnum):
    SIP = "SIP"
    AIP = "AIP"
    DIP = "DIP"


class PackageContent(StrEnum):
    """A package of one hồ sơ, or of loose tài liệu."""

    HOSO = "hoso"
    TAILIEU = "tailieu"


class PackageStatus(StrEnum):
    """``received``: an AIP version reserved, not yet registered; ``superseded``: an older
    version of an active AIP (its content still audited)."""

    RECEIVED = "received"
    REJECTED = "rejected"
    ACTIVE = "active"
    SUPERSEDED = "superseded"
    DELETED = "deleted"


class CheckResult(StrEnum):
    """A stored copy's last fixity check. ``not_checked``: never checked, or the last check
    could not read it, which says nothing about the bytes (never ``mismatch``)."""

    OK = "ok"
    MISMATCH = "mismatch"
    MISSING = "missing"
    NOT_CHECKED = "not_checked"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class AccessMode(StrEnum):
    """TT 05 ``mode`` (chế độ sử dụng) of a hồ sơ or tài liệu."""

    PUBLIC = "01"  # Công khai: readers see metadata and content
    CONDITIONAL = "02"  # Sử dụng có điều kiện: metadata; content through an approved request
    SECRET = "03"  # Mật: never shown to readers, not even counted

    @classmethod
    def strictest(cls, *modes: str | None) -> AccessMode:
        """The mode that governs a document: the strictest of its own and its hồ sơ's (a
        public document in a secret hồ sơ is secret). Missing ones are skipped; none, or an
        unknown value, reads as secret."""
        try:
            given = [cls(m) for m in modes if m]
        except ValueError:
            return cls.SECRET
        return max(given) if given else cls.SECRET


class AccessAction(StrEnum):
    """What the access register (sổ khai thác sử dụng) records."""

    VIEW = "view"  # metadata or a reading copy shown
    DOWNLOAD = "download"  # a file's bytes sent
    COPY = "copy"  # a dissemination copy (BẢN SAO) made
    DIP = "dip"  # a DIP built or downloaded
    REQUEST = "request"  # an access request filed, approved or refused


class AccessRequestStatus(StrEnum):
    """Where a reader's access request (yêu cầu khai thác) stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class DipState(StrEnum):
    """Where a DIP (gói thông tin khai thác) stands: queued for a worker, being built, ready
    to download, failed (the archive could not read a good copy), or removed after its
    retention."""

    QUEUED = "queued"
    BUILDING = "building"
    READY = "ready"
    FAILED = "failed"
    REMOVED = "removed"


# --- #15 retention, holds and destruction ---


# --- #15 transfers to the historical archive ---


# --- #15 the paper repository ---


# --- #15 registers and reports ---


# --- #16 digitisation ---


# --- #16 metadata extraction and the digitisation queue ---


# --- #16 format migration and the format register ---

class MigrateOnIngest(StrEnum):
    """``KHOSO_MIGRATE_ON_INGEST``: what happens to a file ingested with FMT005 that khoso can
    migrate. ``off``: nothing until an officer runs ``khoso migrate`` / the API; ``queue``: a
    migration job is queued for the AIP once it is stored."""

    OFF = "off"
    QUEUE = "queue"


class MigrationTarget(StrEnum):
    """The preservation formats khoso migrates to (the ``migrate_to`` of a format-policy rule)."""

    PDFA_2B = "pdfa-2b"
    TIFF = "tiff"


class MigrationOutcome(StrEnum):
    """What one AIP's migration job did."""

    MIGRATED = "migrated"  # a new version holds the migrated files
    NOTHING_TO_DO = "nothing_to_do"  # every file of those formats is migrated already
    FAILED = "failed"  # no file could be migrated; the AIP is as it was

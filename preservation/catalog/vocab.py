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


class DisposalReason(StrEnum):
    """Why a hồ sơ is in the Danh mục tài liệu hết giá trị (TT 05 Điều 48)."""

    EXPIRED = "expired"  # its retention (thời hạn bảo quản) has run out
    DUPLICATE_SHA256 = "duplicate_sha256"  # every content file is held by another hồ sơ
    DUPLICATE_METADATA = "duplicate_metadata"  # every văn bản's số, ký hiệu, cơ quan, ngày


class DisposalCaseStatus(StrEnum):
    """A destruction case (hồ sơ hủy): the council reviews it, the competent person decides
    (approves) it, an archivist executes it within 15 days."""

    REVIEW = "review"
    APPROVED = "approved"
    EXECUTED = "executed"


class CouncilOpinion(StrEnum):
    """A Hội đồng xét hủy member's opinion on a case."""

    AGREE = "agree"
    DISAGREE = "disagree"


# --- #15 transfers to the historical archive ---


class TransferStatus(StrEnum):
    """Where a transfer (nộp lưu) and each of its hồ sơ stand: Chờ tiếp nhận → Đang xử lý →
    Đạt / Không đạt → Hoàn thành. A hồ sơ is ``passed`` only when the receiving archive's
    receipt matched what was sent; ``completed`` once the sender marked its copies
    transferred."""

    PENDING = "pending"  # Chờ tiếp nhận: registered, not (successfully) sent yet
    PROCESSING = "processing"  # Đang xử lý: sent, the receiving archive is checking it
    PASSED = "passed"  # Đạt: received, its receipt matches what was sent
    FAILED = "failed"  # Không đạt: refused by the receiver, or its receipt does not match
    COMPLETED = "completed"  # Hoàn thành: the sender's copies are marked transferred


class TransferAttempt(StrEnum):
    """What one attempt to send a hồ sơ to the receiving archive came to, as its AIP's PREMIS
    ``transfer`` event says (``outcome_data["attempt"]``): a completed transfer's event has no
    attempt."""

    SENT = "sent"  # the receiver took the bag: its job id
    ACCEPTED = "accepted"  # its ingest accepted it (the receipt checked: success, else failure)
    REFUSED = "refused"  # refused at the door (4xx) or rejected by its ingest
    UNKNOWN = "unknown"  # no answer heard after the bag went out (TRF032)


class TransferDelivery(StrEnum):
    """How the SIP_hoso bags go: to another khoso's submission API, or as files on media."""

    REMOTE = "remote"
    MEDIA = "media"


# --- #15 the paper repository ---


class EquipmentKind(StrEnum):
    """Trang thiết bị kho lưu trữ: what a repository is equipped with (TT 05 Điều 27 asks for
    the environment of the repository to be kept; these are what keeps it)."""

    DEHUMIDIFIER = "dehumidifier"  # máy hút ẩm
    AIR_CONDITIONER = "air_conditioner"  # điều hòa không khí
    FIRE_EXTINGUISHER = "fire_extinguisher"  # bình chữa cháy
    FIRE_ALARM = "fire_alarm"  # hệ thống báo cháy
    SHELVING = "shelving"  # giá, tủ
    THERMOHYGROMETER = "thermohygrometer"  # nhiệt ẩm kế
    CAMERA = "camera"  # camera giám sát
    VENTILATION = "ventilation"  # quạt thông gió
    OTHER = "other"


class EquipmentCondition(StrEnum):
    GOOD = "good"  # tốt
    NEEDS_SERVICE = "needs_service"  # cần bảo dưỡng
    BROKEN = "broken"  # hỏng
    RETIRED = "retired"  # thanh lý


class PaperCondition(StrEnum):
    """Tình trạng vật lý of a paper hồ sơ; TT 05's ``format`` codes 01 Tốt, 02 Bình thường,
    03 Hỏng map onto good, worn and damaged (``TT05_FORMAT``)."""

    GOOD = "good"  # tốt
    WORN = "worn"  # bình thường, đã cũ
    FADED = "faded"  # chữ mờ, phai màu
    DAMAGED = "damaged"  # hư hỏng (rách, mục, ẩm mốc)


class DigitisationState(StrEnum):
    """Where a paper hồ sơ is in the digitisation plan; each step only from the one before."""

    PLANNED = "planned"  # đã đưa vào kế hoạch
    IN_PROGRESS = "in_progress"  # đang số hóa
    DONE = "done"  # đã số hóa
    VERIFIED = "verified"  # đã kiểm tra, nghiệm thu


# --- #15 registers and reports ---


# --- #16 digitisation ---


# --- #16 metadata extraction and the digitisation queue ---

class ExtractionStatus(StrEnum):
    """Where a metadata-extraction proposal stands: proposed by khoso, confirmed as proposed
    or corrected by an archivist, or superseded by a newer run on the same document."""

    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    CORRECTED = "corrected"
    SUPERSEDED = "superseded"


class ExtractionSource(StrEnum):
    """Which text a proposal was read from: the document's OCR text in the search index, or
    text sent with the request."""

    OCR = "ocr"
    TEXT = "text"


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

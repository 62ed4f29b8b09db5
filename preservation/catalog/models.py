"""Catalog models: the national three-level records model and the OAIS bookkeeping.

Field names follow TT 05/2025 (snake_case of the XML element names) so that mapping to and from
the EAD documents is mechanical. Codes are stored as the TT 05 code strings ("01", "02"…).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy import text as sa_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from preservation.catalog.vocab import (
    AccessAction,
    AccessRequestStatus,
    ArchiveKind,
    CheckResult,
    DigitisationState,
    DipState,
    DocumentKind,
    EquipmentCondition,
    EquipmentKind,
    FileState,
    FondsStatus,
    JobStatus,
    PackageContent,
    PackageKind,
    PackageStatus,
    PaperCondition,
    TransferDelivery,
    TransferStatus,
)
from preservation.events import Outcome, new_uuid

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dt.datetime: DateTime(timezone=True)}


def one_of(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    """A CHECK that the column holds one of the vocabulary's strings (``vocab``)."""
    quoted = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name)


ARCHIVE_KINDS = tuple(ArchiveKind)
FONDS_STATUSES = tuple(FondsStatus)
FILE_STATES = tuple(FileState)
DOCUMENT_KINDS = tuple(DocumentKind)
PACKAGE_KINDS = tuple(PackageKind)
PACKAGE_CONTENT = tuple(PackageContent)
PACKAGE_STATUSES = tuple(PackageStatus)
CHECK_RESULTS = tuple(CheckResult)
EVENT_OUTCOMES = tuple(Outcome)
JOB_STATUSES = tuple(JobStatus)


class Timestamps:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class ArchiveBody(Timestamps, Base):
    """Cơ quan lưu trữ: an archive body, hiện hành (current) or lịch sử (historical)."""

    __tablename__ = "archive_body"
    __table_args__ = (one_of("kind", ARCHIVE_KINDS, "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(25), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(10))


class Agency(Timestamps, Base):
    """Cơ quan, tổ chức nộp lưu, identified by its mã định danh (kept opaque, §4.2)."""

    __tablename__ = "agency"
    id: Mapped[int] = mapped_column(primary_key=True)
    organ_id: Mapped[str] = mapped_column(String(25), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(String(500))
    contact_email: Mapped[str | None] = mapped_column(String(200))


class Fonds(Timestamps, Base):
    """Phông lưu trữ: the ten fields of TT 05 Điều 4."""

    __tablename__ = "fonds"
    __table_args__ = (
        UniqueConstraint("archive_body_id", "fond_code", name="archive_fond_code"),
        one_of("status", FONDS_STATUSES, "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    archive_body_id: Mapped[int] = mapped_column(ForeignKey("archive_body.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    fond_code: Mapped[str] = mapped_column(String(20))
    fond_name: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(4), default=FondsStatus.MO.value)
    fond_history: Mapped[str | None] = mapped_column(Text)
    archives_time: Mapped[str | None] = mapped_column(String(30))
    year_from: Mapped[int | None] = mapped_column(Integer)
    year_to: Mapped[int | None] = mapped_column(Integer)
    total_doc: Mapped[int | None] = mapped_column(BigInteger)
    classification_scheme: Mapped[str | None] = mapped_column(Text)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    risk_recovery: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str | None] = mapped_column(String(2000))

    archive_body: Mapped[ArchiveBody] = relationship()
    agency: Mapped[Agency | None] = relationship()


class RecordFile(Timestamps, Base):
    """Hồ sơ lưu trữ: the 18 EAD fields, its lifecycle state and computed retention expiry."""

    __tablename__ = "record_file"
    __table_args__ = (
        one_of("state", FILE_STATES, "state"),
        Index("ix_record_file_expiry", "retention_expires_on"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    fonds_id: Mapped[int] = mapped_column(ForeignKey("fonds.id"))
    file_code: Mapped[str] = mapped_column(String(100), index=True)
    arc_file_code: Mapped[str | None] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(1000))
    maintenance: Mapped[str] = mapped_column(String(2))
    retention_years: Mapped[int | None] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(2))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    start_date: Mapped[str] = mapped_column(String(10))
    end_date: Mapped[str] = mapped_column(String(10))
    keyword: Mapped[str | None] = mapped_column(String(100))
    total_doc: Mapped[int] = mapped_column(Integer, default=0)
    number_of_paper: Mapped[int | None] = mapped_column(Integer)
    number_of_page: Mapped[int] = mapped_column(Integer, default=0)
    format: Mapped[str | None] = mapped_column(String(50))
    infor_sign: Mapped[str | None] = mapped_column(String(30))
    confidence_level: Mapped[str | None] = mapped_column(String(2))
    paper_file_code: Mapped[str | None] = mapped_column(String(100))
    risk_recovery: Mapped[bool] = mapped_column(Boolean, default=False)
    risk_recovery_status: Mapped[str | None] = mapped_column(String(2))
    description: Mapped[str | None] = mapped_column(String(2000))
    muc_luc_so: Mapped[str | None] = mapped_column(String(10))
    state: Mapped[str] = mapped_column(String(20), default=FileState.ACTIVE.value)
    retention_expires_on: Mapped[dt.date | None] = mapped_column(Date)

    fonds: Mapped[Fonds] = relationship()
    documents: Mapped[list[Document]] = relationship(
        back_populates="record_file", order_by="Document.doc_ordinal"
    )


class Document(Timestamps, Base):
    """Tài liệu lưu trữ: one table for văn bản, ảnh/phim (pic) and ghi âm/ghi hình (media)."""

    __tablename__ = "document"
    __table_args__ = (
        one_of("kind", DOCUMENT_KINDS, "kind"),
        UniqueConstraint("record_file_id", "doc_ordinal", name="file_ordinal"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    record_file_id: Mapped[int | None] = mapped_column(ForeignKey("record_file.id"))
    package_id: Mapped[int | None] = mapped_column(ForeignKey("package.id"))
    kind: Mapped[str] = mapped_column(String(8), default=DocumentKind.VAN_BAN.value)
    doc_id: Mapped[str | None] = mapped_column(String(100), index=True)
    doc_code: Mapped[str | None] = mapped_column(String(100))
    arc_doc_code: Mapped[str | None] = mapped_column(String(100), unique=True)
    doc_ordinal: Mapped[int | None] = mapped_column(Integer)
    maintenance: Mapped[str | None] = mapped_column(String(2))
    mode: Mapped[str | None] = mapped_column(String(2))
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    number_of_page: Mapped[int | None] = mapped_column(Integer)
    infor_sign: Mapped[str | None] = mapped_column(String(30))
    keyword: Mapped[str | None] = mapped_column(String(100))
    confidence_level: Mapped[str | None] = mapped_column(String(2))
    format: Mapped[str | None] = mapped_column(String(50))
    risk_recovery: Mapped[bool | None] = mapped_column(Boolean)
    risk_recovery_status: Mapped[str | None] = mapped_column(String(2))
    description: Mapped[str | None] = mapped_column(String(2000))
    # văn bản
    type_name: Mapped[str | None] = mapped_column(String(2))
    code_number: Mapped[str | None] = mapped_column(String(11))
    code_notation: Mapped[str | None] = mapped_column(String(30))
    issued_date: Mapped[str | None] = mapped_column(String(10))
    organ_name: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(500))
    autograph: Mapped[str | None] = mapped_column(String(2000))
    process: Mapped[bool | None] = mapped_column(Boolean)
    # ảnh, phim âm bản and ghi âm, ghi hình
    type_pic: Mapped[str | None] = mapped_column(String(2))
    type_media: Mapped[str | None] = mapped_column(String(2))
    archives_number: Mapped[str | None] = mapped_column(String(50))
    event_name: Mapped[str | None] = mapped_column(String(500))
    image_title: Mapped[str | None] = mapped_column(String(500))
    photographer: Mapped[str | None] = mapped_column(String(300))
    photo_place: Mapped[str | None] = mapped_column(String(300))
    photo_time: Mapped[str | None] = mapped_column(String(10))
    colour: Mapped[str | None] = mapped_column(String(2))
    film_size: Mapped[str | None] = mapped_column(String(30))
    doc_attached: Mapped[bool | None] = mapped_column(Boolean)
    movie_title: Mapped[str | None] = mapped_column(String(500))
    recorder: Mapped[str | None] = mapped_column(String(300))
    record_place: Mapped[str | None] = mapped_column(String(300))
    record_date: Mapped[str | None] = mapped_column(String(10))
    play_time: Mapped[str | None] = mapped_column(String(8))
    quality: Mapped[str | None] = mapped_column(String(50))

    record_file: Mapped[RecordFile | None] = relationship(back_populates="documents")


class Package(Timestamps, Base):
    """An information package (SIP, AIP or DIP); AIP versions share the OBJID."""

    __tablename__ = "package"
    __table_args__ = (
        UniqueConstraint("objid", "version", name="objid_version"),
        one_of("kind", PACKAGE_KINDS, "kind"),
        one_of("content_type", PACKAGE_CONTENT, "content_type"),
        one_of("status", PACKAGE_STATUSES, "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    objid: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(3))
    content_type: Mapped[str] = mapped_column(String(7), default=PackageContent.HOSO.value)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(12), default=PackageStatus.RECEIVED.value)
    record_file_id: Mapped[int | None] = mapped_column(ForeignKey("record_file.id"))
    fonds_id: Mapped[int | None] = mapped_column(ForeignKey("fonds.id"))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("package.id"))
    label: Mapped[str | None] = mapped_column(String(1000))
    total_size: Mapped[int] = mapped_column(BigInteger, default=0)
    file_count: Mapped[int] = mapped_column(Integer, default=0)
    critical: Mapped[bool] = mapped_column(Boolean, default=False)
    # a version being made (status received): who holds it and since when
    # (``preservation.packaging.aip.reservation``); kept once registered (who made it)
    reserved_by: Mapped[str | None] = mapped_column(String(200))
    reserved_at: Mapped[dt.datetime | None] = mapped_column()

    bitstreams: Mapped[list[Bitstream]] = relationship(back_populates="package")
    copies: Mapped[list[StoredCopy]] = relationship(back_populates="package")


class Bitstream(Base):
    """A content or metadata file inside a package, with its fixity and format."""

    __tablename__ = "bitstream"
    __table_args__ = (UniqueConstraint("package_id", "path", name="package_path"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("package.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))
    path: Mapped[str] = mapped_column(String(1024))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    puid: Mapped[str | None] = mapped_column(String(30))
    mime: Mapped[str | None] = mapped_column(String(200))
    format_name: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    package: Mapped[Package] = relationship(back_populates="bitstreams")


class StoredCopy(Base):
    """One replica of a package in one storage location, with its last fixity check."""

    __tablename__ = "stored_copy"
    __table_args__ = (
        UniqueConstraint("location", "key", name="location_key"),
        one_of("last_check_result", CHECK_RESULTS, "last_check_result"),
        Index("ix_stored_copy_due", "location", "last_check_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("package.id"))
    location: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    stored_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_check_at: Mapped[dt.datetime | None] = mapped_column()
    last_check_result: Mapped[str] = mapped_column(String(12), default=CheckResult.NOT_CHECKED.value)
    last_check_detail: Mapped[str | None] = mapped_column(Text)

    package: Mapped[Package] = relationship(back_populates="copies")


event_agent = Table(
    "premis_event_agent",
    Base.metadata,
    Column("event_id", ForeignKey("premis_event.id"), primary_key=True),
    Column("agent_id", ForeignKey("premis_agent.id"), primary_key=True),
    Column("role", String(50), primary_key=True),
)


class PremisAgent(Base):
    """A PREMIS agent: the software with its version, an organisation, a person."""

    __tablename__ = "premis_agent"
    __table_args__ = (UniqueConstraint("identifier_type", "identifier_value", name="identifier"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    identifier_type: Mapped[str] = mapped_column(String(50))
    identifier_value: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(300))
    agent_type: Mapped[str] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(Text)


class PremisEvent(Base):
    """A PREMIS event with the exact LoC event-type vocabulary ("virus check", "fixity check"…)."""

    __tablename__ = "premis_event"
    __table_args__ = (
        one_of("outcome", EVENT_OUTCOMES, "outcome"),
        Index("ix_premis_event_package_type", "package_id", "event_type"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    event_uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    event_type: Mapped[str] = mapped_column(String(60))
    event_datetime: Mapped[dt.datetime] = mapped_column(default=utcnow)
    detail: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(String(14))
    outcome_detail: Mapped[str | None] = mapped_column(Text)
    # what registers read (``preservation.catalog.event_data``); None for events without facts
    outcome_data: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    package_id: Mapped[int | None] = mapped_column(ForeignKey("package.id"))
    bitstream_id: Mapped[int | None] = mapped_column(ForeignKey("bitstream.id"))
    stored_copy_id: Mapped[int | None] = mapped_column(ForeignKey("stored_copy.id"))
    object_identifier: Mapped[str | None] = mapped_column(String(300))

    agents: Mapped[list[PremisAgent]] = relationship(secondary=event_agent)


user_role = Table(
    "user_role",
    Base.metadata,
    Column("user_id", ForeignKey("user_account.id"), primary_key=True),
    Column("role_id", ForeignKey("role.id"), primary_key=True),
)


class Role(Base):
    __tablename__ = "role"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    label_vi: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))


class User(Timestamps, Base):
    __tablename__ = "user_account"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agency.id"))

    roles: Mapped[list[Role]] = relationship(secondary=user_role)


class ApiToken(Base):
    """An API token; only its SHA-256 is stored, the secret is shown once."""

    __tablename__ = "api_token"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column()
    last_used_at: Mapped[dt.datetime | None] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()

    user: Mapped[User] = relationship()


class AuditEntry(Base):
    """Append-only audit log, hash-chained; database triggers refuse UPDATE and DELETE."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60))
    object_type: Mapped[str | None] = mapped_column(String(40))
    object_id: Mapped[str | None] = mapped_column(String(200))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


class AipClaim(Base):
    """Which job writes the AIP of a hồ sơ (its arcFileCode). Taken when the SIP is validated,
    before anything is stored: a second job for the same hồ sơ waits (retried) while the first
    is queued or running, and is then refused as a duplicate if the first was accepted, or
    takes the claim over if it was not. AIP keys are write-once, so without it two submissions
    at once could each write part of the keys and both fail."""

    __tablename__ = "aip_claim"
    arc_file_code: Mapped[str] = mapped_column(String(100), primary_key=True)
    job_id: Mapped[str] = mapped_column(String(36))
    claimed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Job(Base):
    """A background job (ingest, audit…) as users see it; Celery carries the work."""

    __tablename__ = "job"
    __table_args__ = (one_of("status", JOB_STATUSES, "status"),
                      UniqueConstraint("created_by", "idempotency_key", name="job_submitter_key"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default=JobStatus.QUEUED.value)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    celery_task_id: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column()
    finished_at: Mapped[dt.datetime | None] = mapped_column()
    # Unix time the job's claim ends: a running job's worker renews it while alive; a queued
    # job whose message may be lost (a dead worker held it) is sent again once it has passed.
    lease_until: Mapped[float | None] = mapped_column(Float)
    # The step the worker is in and how far the whole ingest is (0..1), written as it goes
    # (``ingest.jobs.StepRecorder``), and the agency (organ id) an agency system submitted
    # for: what ``GET /api/v1/jobs`` filters an agency's jobs by (migration 0008).
    step: Mapped[str | None] = mapped_column(String(40))
    progress: Mapped[float | None] = mapped_column(Float)
    agency: Mapped[str | None] = mapped_column(String(25), index=True)
    # The submission's ``Idempotency-Key``: a second POST with it gets this job (0023)
    idempotency_key: Mapped[str | None] = mapped_column(String(100))


class CatalogState(Base):
    """Facts about the catalog itself, by name: ``rebuild`` says whether the last disaster
    recovery left AIPs out (``/healthz`` shows it until a later rebuild completes it)."""

    __tablename__ = "catalog_state"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AccessEntry(Base):
    """Sổ khai thác sử dụng: who saw, downloaded or copied what, when and for what purpose.
    Written with an audit-log entry in the same transaction (``catalog.access_register``)."""

    __tablename__ = "access_log"
    __table_args__ = (
        one_of("action", tuple(AccessAction), "action"),
        Index("ix_access_log_at", "at"),
        Index("ix_access_log_actor", "actor"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(10))
    object_type: Mapped[str] = mapped_column(String(20))
    object_id: Mapped[str] = mapped_column(String(300))
    purpose: Mapped[str | None] = mapped_column(String(1000))
    request_id: Mapped[str | None] = mapped_column(String(36))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AccessRequest(Base):
    """Yêu cầu khai thác: a reader's request to use documents, with the DIP EAD request fields
    (TT 05 Phụ lục V: requestID, requestDate, purpose, purposeContent, feeObjectType,
    researchTopic, description) and the archivist's decision. Approval is valid until
    ``expires_at``."""

    __tablename__ = "access_request"
    __table_args__ = (one_of("status", tuple(AccessRequestStatus), "status"),
                      Index("ix_access_request_requester", "requester"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    requester: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default=AccessRequestStatus.PENDING.value)
    purpose: Mapped[str] = mapped_column(String(2))  # 01 cá nhân, 02 công vụ, 03 công vụ đặc biệt
    purpose_content: Mapped[str | None] = mapped_column(String(500))
    fee_object_type: Mapped[str | None] = mapped_column(String(2))
    research_topic: Mapped[str | None] = mapped_column(String(250))
    description: Mapped[str | None] = mapped_column(String(2000))
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[dt.datetime | None] = mapped_column()
    reason: Mapped[str | None] = mapped_column(String(2000))
    expires_at: Mapped[dt.datetime | None] = mapped_column()

    items: Mapped[list[AccessRequestItem]] = relationship(back_populates="request",
                                                          cascade="all, delete-orphan")


class AccessRequestItem(Base):
    """One document (by docCode) an access request asks for."""

    __tablename__ = "access_request_item"
    __table_args__ = (UniqueConstraint("request_id", "doc_code", name="request_doc"),
                      Index("ix_access_request_item_doc", "doc_code"))
    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("access_request.id"))
    doc_code: Mapped[str] = mapped_column(String(100))

    request: Mapped[AccessRequest] = relationship(back_populates="items")


# --- accounts (#14) ---


class LoginSession(Base):
    """A browser login session: the cookie holds a random secret, the catalog its SHA-256.
    Closed by logout (``revoked_at``), by its expiry, or at once when the account is
    disabled."""

    __tablename__ = "login_session"
    __table_args__ = (Index("ix_login_session_user_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column()
    last_seen_at: Mapped[dt.datetime | None] = mapped_column()
    revoked_at: Mapped[dt.datetime | None] = mapped_column()
    client: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship()


class LoginFailure(Base):
    """A failed login, counted per username and per client address over a window (every
    WSGI thread and process sees the same count)."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_username", "username", "at"),
                      Index("ix_login_failure_client", "client", "at"))
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    username: Mapped[str] = mapped_column(String(80))
    client: Mapped[str] = mapped_column(String(64))



# --- submissions and uploads (#14) ---


class Upload(Timestamps, Base):
    """A resumable (tus 1.0) upload of a serialised bag: its bytes go to a file under the data
    folder named by ``id`` (never by the client's file name); ``offset`` is what is safely on
    disk. Submitted as an ingest job once complete (``job_id``); removed once expired."""

    __tablename__ = "upload"
    __table_args__ = (Index("ix_upload_expires_at", "expires_at"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    owner: Mapped[str] = mapped_column(String(80))
    agency: Mapped[str | None] = mapped_column(String(25))
    length: Mapped[int] = mapped_column(BigInteger)
    offset: Mapped[int] = mapped_column(BigInteger, default=0)
    content_type: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str | None] = mapped_column(String(255))
    job_id: Mapped[str | None] = mapped_column(String(36))
    expires_at: Mapped[dt.datetime] = mapped_column()


# --- search index (#14) ---


class SearchEntry(Base):
    """One hồ sơ or tài liệu of an AIP's current version as full-text search sees it
    (``preservation.search``): its facets, its original text for snippets, and its folded words.
    The word index itself is the backend's: an FTS5 table kept by triggers on SQLite, a
    generated ``tsvector`` column with a GIN index on PostgreSQL (migration 0009)."""

    __tablename__ = "search_entry"
    __table_args__ = (
        one_of("kind", ("record", "document"), "kind"),
        Index("ix_search_entry_objid", "objid"),
        Index("ix_search_entry_mode_fonds", "mode", "fonds"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    objid: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8))
    record_file_id: Mapped[int | None] = mapped_column(Integer)
    document_id: Mapped[int | None] = mapped_column(Integer)
    file_code: Mapped[str | None] = mapped_column(String(100))
    doc_code: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(1000))
    mode: Mapped[str] = mapped_column(String(2))  # effective: the document's, else its hồ sơ's
    fonds: Mapped[str | None] = mapped_column(String(20))
    type: Mapped[str | None] = mapped_column(String(2))  # typeName code (văn bản only)
    date: Mapped[str | None] = mapped_column(String(10))  # ISO prefix: issued or start date
    year: Mapped[int | None] = mapped_column(Integer)
    organ_id: Mapped[str | None] = mapped_column(String(25))  # the submitting agency
    body: Mapped[str] = mapped_column(Text, default="")  # original text, for snippets
    ocr_text: Mapped[str | None] = mapped_column(Text)  # digitisation fills it later
    title_f: Mapped[str] = mapped_column(Text, default="")  # folded words (``search.fold``)
    body_f: Mapped[str] = mapped_column(Text, default="")




# --- access requests and DIPs (#14) ---

class Dip(Base):
    """A DIP (gói thông tin khai thác, TT 05 Phụ lục V) built for a reader: for an approved
    access request or for public documents. The ZIP lives under ``{data}/dips/`` until
    ``expires_at`` (the request's expiry or the retention setting, the earlier) and is then
    removed; the row stays as the record of what was given to whom."""

    __tablename__ = "dip"
    __table_args__ = (one_of("state", tuple(DipState), "state"),
                      Index("ix_dip_owner", "owner"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    objid: Mapped[str] = mapped_column(String(60))  # METS OBJID, uuid-{UUID}
    owner: Mapped[str] = mapped_column(String(80))
    request_id: Mapped[str | None] = mapped_column(ForeignKey("access_request.id"))
    job_id: Mapped[str | None] = mapped_column(String(36))
    state: Mapped[str] = mapped_column(String(10), default=DipState.QUEUED.value)
    documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ready_at: Mapped[dt.datetime | None] = mapped_column()
    expires_at: Mapped[dt.datetime | None] = mapped_column()
    size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)


# --- catalog reads and files (#14) ---



# --- operations (#14) ---


# --- #15 retention, holds and destruction (0013) ---

from preservation.catalog.vocab import (  # noqa: E402 - this area's vocabularies
    CouncilOpinion,
    DisposalCaseStatus,
    DisposalReason,
)


class DisposalListing(Base):
    """One hồ sơ in the Danh mục tài liệu hết giá trị (status "Xem xét hủy", TT 05 Điều 48):
    put there by the appraisal scan because its retention ran out or it duplicates another
    hồ sơ (``detail`` names which). Removed when a legal hold is placed on the hồ sơ."""

    __tablename__ = "disposal_listing"
    __table_args__ = (one_of("reason", tuple(DisposalReason), "reason"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    record_file_id: Mapped[int] = mapped_column(ForeignKey("record_file.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    listed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    listed_by: Mapped[str] = mapped_column(String(80))


class LegalHold(Base):
    """A legal hold (lệnh phong tỏa) on a hồ sơ: while ``lifted_at`` is empty the hồ sơ is left
    out of the Danh mục tài liệu hết giá trị and cannot be destroyed."""

    __tablename__ = "legal_hold"
    __table_args__ = (Index("ix_legal_hold_record_file_id", "record_file_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    record_file_id: Mapped[int] = mapped_column(ForeignKey("record_file.id"))
    reason: Mapped[str] = mapped_column(String(2000))
    placed_by: Mapped[str] = mapped_column(String(80))
    placed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    lifted_by: Mapped[str | None] = mapped_column(String(80))
    lifted_at: Mapped[dt.datetime | None] = mapped_column()
    lift_reason: Mapped[str | None] = mapped_column(String(2000))


class DisposalCase(Base):
    """A destruction case (hồ sơ hủy): the list, the bản thuyết minh, the council, the
    competent person's decision (a signed PDF kept in every storage location) and its
    execution, which must start within ``deadline`` (15 days after the decision, TT 06/2025).
    ``decisions`` keeps every decision made, a later one replacing one whose deadline passed."""

    __tablename__ = "disposal_case"
    __table_args__ = (one_of("status", tuple(DisposalCaseStatus), "status"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    title: Mapped[str] = mapped_column(String(500))
    explanation: Mapped[str] = mapped_column(Text)
    proposer: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(10), default=DisposalCaseStatus.REVIEW.value)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decisions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[dt.datetime | None] = mapped_column()
    deadline: Mapped[dt.datetime | None] = mapped_column()
    execution_started_at: Mapped[dt.datetime | None] = mapped_column()
    executed_by: Mapped[str | None] = mapped_column(String(80))
    executed_at: Mapped[dt.datetime | None] = mapped_column()
    record_key: Mapped[str | None] = mapped_column(String(1024))  # the destruction file's folder

    items: Mapped[list[DisposalCaseItem]] = relationship(
        back_populates="case", order_by="DisposalCaseItem.id")
    council: Mapped[list[CouncilMember]] = relationship(
        back_populates="case", order_by="CouncilMember.id")


class DisposalCaseItem(Base):
    """One hồ sơ a destruction case proposes to destroy."""

    __tablename__ = "disposal_case_item"
    __table_args__ = (UniqueConstraint("case_id", "record_file_id", name="case_record"),
                      Index("ix_disposal_case_item_record_file_id", "record_file_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("disposal_case.id"))
    record_file_id: Mapped[int] = mapped_column(ForeignKey("record_file.id"))
    added_by: Mapped[str] = mapped_column(String(80))
    added_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    case: Mapped[DisposalCase] = relationship(back_populates="items")
    record_file: Mapped[RecordFile] = relationship()


class CouncilMember(Base):
    """A member of a case's Hội đồng xét hủy (an account named on the case) and the opinion
    they recorded in the system."""

    __tablename__ = "disposal_council_member"
    __table_args__ = (UniqueConstraint("case_id", "username", name="case_username"),
                      one_of("opinion", tuple(CouncilOpinion), "opinion"))
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("disposal_case.id"))
    username: Mapped[str] = mapped_column(String(80))
    opinion: Mapped[str | None] = mapped_column(String(10))
    comment: Mapped[str | None] = mapped_column(String(2000))
    opinion_at: Mapped[dt.datetime | None] = mapped_column()

    case: Mapped[DisposalCase] = relationship(back_populates="council")


class Tombstone(Base):
    """What is kept forever of a destroyed hồ sơ: its identifiers, title, retention, the
    SHA-256 of every destroyed file, the decision, who executed it, when, and which storage
    locations were wiped. Never updated or deleted (also in the destruction file in storage)."""

    __tablename__ = "tombstone"
    __table_args__ = (Index("ix_tombstone_arc_file_code", "arc_file_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("disposal_case.id"))
    record_file_id: Mapped[int | None] = mapped_column(Integer)
    arc_file_code: Mapped[str | None] = mapped_column(String(100))
    file_code: Mapped[str] = mapped_column(String(100))
    fond_code: Mapped[str | None] = mapped_column(String(20))
    objid: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(1000))
    maintenance: Mapped[str] = mapped_column(String(2))
    retention_years: Mapped[int | None] = mapped_column(Integer)
    start_date: Mapped[str | None] = mapped_column(String(10))
    end_date: Mapped[str | None] = mapped_column(String(10))
    documents: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    files: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    locations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decision: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    executed_by: Mapped[str] = mapped_column(String(80))
    executed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


# --- #15 transfers to the historical archive (0014) ---


class Transfer(Base):
    """Một lần nộp lưu (a transfer to the historical archive): registered at least 12 months
    before ``planned_on`` (TT 05 Chương IV), for hồ sơ of one fonds; sent as SIP_hoso bags to
    another khoso (``remote_url``: never its token) or written to media (``media_dir``)."""

    __tablename__ = "transfer"
    __table_args__ = (one_of("status", tuple(TransferStatus), "status"),
                      one_of("delivery", tuple(TransferDelivery), "delivery"),
                      Index("ix_transfer_fonds_id", "fonds_id"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    fonds_id: Mapped[int] = mapped_column(ForeignKey("fonds.id"))
    title: Mapped[str] = mapped_column(String(500))  # tên khối tài liệu giao nộp
    receiver: Mapped[str] = mapped_column(String(300))  # the historical archive
    planned_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default=TransferStatus.PENDING.value)
    delivery: Mapped[str | None] = mapped_column(String(8))
    remote_url: Mapped[str | None] = mapped_column(String(500))
    media_dir: Mapped[str | None] = mapped_column(String(1024))
    registered_by: Mapped[str] = mapped_column(String(80))
    registered_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[dt.datetime | None] = mapped_column()
    # Who is sending or refreshing now ("host:pid:nonce") and since when (renewed per hồ sơ):
    # taken by a compare-and-set, so a second send gets TRF030 instead of posting twice.
    send_claim: Mapped[str | None] = mapped_column(String(120))
    send_claimed_at: Mapped[dt.datetime | None] = mapped_column()
    completed_by: Mapped[str | None] = mapped_column(String(80))
    completed_at: Mapped[dt.datetime | None] = mapped_column()

    fonds: Mapped[Fonds] = relationship()
    items: Mapped[list[TransferItem]] = relationship(back_populates="transfer",
                                                     order_by="TransferItem.id")


class TransferItem(Base):
    """One hồ sơ of a transfer: the SIP sent (OBJID, its content files with SHA-256), the
    receiving side's job and receipt (checked against what was sent), and its status."""

    __tablename__ = "transfer_item"
    __table_args__ = (one_of("status", tuple(TransferStatus), "status"),
                      UniqueConstraint("transfer_id", "record_file_id", name="transfer_record"),
                      Index("ix_transfer_item_record_file_id", "record_file_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[str] = mapped_column(ForeignKey("transfer.id"))
    record_file_id: Mapped[int] = mapped_column(ForeignKey("record_file.id"))
    arc_file_code: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(1000))
    status: Mapped[str] = mapped_column(String(12), default=TransferStatus.PENDING.value)
    objid: Mapped[str | None] = mapped_column(String(60))
    sent: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)
    remote_job: Mapped[str | None] = mapped_column(String(36))
    receipt: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    remote_arc_file_code: Mapped[str | None] = mapped_column(String(100))
    problem: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    sent_at: Mapped[dt.datetime | None] = mapped_column()
    decided_at: Mapped[dt.datetime | None] = mapped_column()
    # Set (committed) before the bag is posted, cleared when its job there is recorded: still
    # set after a killed send means the receiver may hold it (TRF031).
    send_started_at: Mapped[dt.datetime | None] = mapped_column()
    # The idempotency key the bag is posted with: kept while the outcome is unknown (a
    # timeout, a 5xx), so the receiver is asked for it before any resend (migration 0023).
    send_key: Mapped[str | None] = mapped_column(String(100))

    transfer: Mapped[Transfer] = relationship(back_populates="items")
    record_file: Mapped[RecordFile] = relationship()


# --- #15 the paper repository (0015) ---
# Kho lưu trữ giấy: repositories, their shelves and boxes, equipment, the staff responsible
# for archives per agency, the paper hồ sơ in the boxes, their check-outs (sổ xuất / sổ nhập),
# each agency's annual file plan (danh mục hồ sơ) and the digitisation queue (#16).


class PaperRepository(Timestamps, Base):
    """Kho lưu trữ: a room or building holding paper records, with its floor area."""

    __tablename__ = "paper_repository"
    __table_args__ = (CheckConstraint("area_m2 > 0", name="area_positive"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    area_m2: Mapped[float] = mapped_column(Float)
    address: Mapped[str | None] = mapped_column(String(500))


class PaperShelf(Base):
    """Giá: a shelf (rack) in a repository."""

    __tablename__ = "paper_shelf"
    __table_args__ = (UniqueConstraint("repository_id", "code", name="repository_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("paper_repository.id"))
    code: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    repository: Mapped[PaperRepository] = relationship()


class PaperBox(Base):
    """Hộp: a box on a shelf, holding at most ``capacity`` paper hồ sơ."""

    __tablename__ = "paper_box"
    __table_args__ = (UniqueConstraint("shelf_id", "code", name="shelf_code"),
                      CheckConstraint("capacity > 0", name="capacity_positive"))
    id: Mapped[int] = mapped_column(primary_key=True)
    shelf_id: Mapped[int] = mapped_column(ForeignKey("paper_shelf.id"))
    code: Mapped[str] = mapped_column(String(20))
    capacity: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    shelf: Mapped[PaperShelf] = relationship()


class RepositoryEquipment(Timestamps, Base):
    """Trang thiết bị kho: one kind of equipment in a repository, its condition and service
    dates (``next_service_on`` past today: overdue)."""

    __tablename__ = "repository_equipment"
    __table_args__ = (one_of("kind", tuple(EquipmentKind), "kind"),
                      one_of("condition", tuple(EquipmentCondition), "condition"),
                      CheckConstraint("quantity > 0", name="quantity_positive"),
                      Index("ix_repository_equipment_next", "next_service_on"))
    id: Mapped[int] = mapped_column(primary_key=True)
    repository_id: Mapped[int] = mapped_column(ForeignKey("paper_repository.id"))
    kind: Mapped[str] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    condition: Mapped[str] = mapped_column(String(15))
    last_service_on: Mapped[dt.date | None] = mapped_column(Date)
    next_service_on: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(2000))

    repository: Mapped[PaperRepository] = relationship()


class ArchiveStaff(Timestamps, Base):
    """Người làm lưu trữ: a person responsible for archives at an agency."""

    __tablename__ = "archive_staff"
    __table_args__ = (Index("ix_archive_staff_agency_id", "agency_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    full_name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(200))
    since: Mapped[dt.date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    agency: Mapped[Agency] = relationship()


class PaperFile(Timestamps, Base):
    """A paper hồ sơ in a box: its ``paperFileCode`` (TT 05: the code a digitised hồ sơ's
    EAD names it by, ``RecordFile.paper_file_code``), pages, condition and the archivist's
    digitisation priority override."""

    __tablename__ = "paper_file"
    __table_args__ = (one_of("condition", tuple(PaperCondition), "condition"),
                      CheckConstraint("page_count >= 0", name="pages_not_negative"),
                      CheckConstraint("priority_override BETWEEN -100 AND 100",
                                      name="override_range"),
                      Index("ix_paper_file_box_id", "box_id"),
                      Index("ix_paper_file_fonds_id", "fonds_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(100), unique=True)
    box_id: Mapped[int] = mapped_column(ForeignKey("paper_box.id"))
    fonds_id: Mapped[int | None] = mapped_column(ForeignKey("fonds.id"))
    title: Mapped[str] = mapped_column(String(1000))
    maintenance: Mapped[str] = mapped_column(String(2))
    year: Mapped[int | None] = mapped_column(Integer)
    page_count: Mapped[int] = mapped_column(Integer, default=0)
    condition: Mapped[str] = mapped_column(String(10))
    registered_by: Mapped[str] = mapped_column(String(80))
    priority_override: Mapped[int] = mapped_column(Integer, default=0)
    override_reason: Mapped[str | None] = mapped_column(String(1000))

    box: Mapped[PaperBox] = relationship()
    fonds: Mapped[Fonds | None] = relationship()


class PaperLoan(Base):
    """One check-out of a paper hồ sơ (sổ xuất) and its return (sổ nhập). At most one loan of
    a hồ sơ is open: a partial unique index, so two archivists at once cannot both lend it."""

    __tablename__ = "paper_loan"
    __table_args__ = (
        Index("ix_paper_loan_open", "paper_file_id", unique=True,
              sqlite_where=sa_text("returned_at IS NULL"),
              postgresql_where=sa_text("returned_at IS NULL")),
        Index("ix_paper_loan_out_at", "out_at"),
        Index("ix_paper_loan_returned_at", "returned_at"),
        one_of("return_condition", tuple(PaperCondition), "return_condition"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    paper_file_id: Mapped[int] = mapped_column(ForeignKey("paper_file.id"))
    borrower: Mapped[str] = mapped_column(String(200))
    purpose: Mapped[str] = mapped_column(String(1000))
    out_by: Mapped[str] = mapped_column(String(80))
    out_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    due_on: Mapped[dt.date] = mapped_column(Date)
    returned_at: Mapped[dt.datetime | None] = mapped_column()
    returned_by: Mapped[str | None] = mapped_column(String(80))
    return_condition: Mapped[str | None] = mapped_column(String(10))
    note: Mapped[str | None] = mapped_column(String(2000))

    paper_file: Mapped[PaperFile] = relationship()


class FilePlanEntry(Base):
    """One hồ sơ an agency plans to make in a year (danh mục hồ sơ), matched by its fileCode
    against the hồ sơ the catalog holds."""

    __tablename__ = "file_plan_entry"
    __table_args__ = (UniqueConstraint("agency_id", "year", "file_code", name="agency_year_code"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agency.id"))
    year: Mapped[int] = mapped_column(Integer)
    file_code: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(1000))
    maintenance: Mapped[str | None] = mapped_column(String(2))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class DigitisationItem(Base):
    """A paper hồ sơ in the digitisation plan and how far it is (``DigitisationState``)."""

    __tablename__ = "digitisation_item"
    __table_args__ = (one_of("state", tuple(DigitisationState), "state"),
                      CheckConstraint("pages IS NULL OR pages >= 0", name="pages_not_negative"))
    id: Mapped[int] = mapped_column(primary_key=True)
    paper_file_id: Mapped[int] = mapped_column(ForeignKey("paper_file.id"), unique=True)
    state: Mapped[str] = mapped_column(String(12))
    pages: Mapped[int | None] = mapped_column(Integer)
    objid: Mapped[str | None] = mapped_column(String(200))
    planned_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(80))

    paper_file: Mapped[PaperFile] = relationship()


# --- #15 registers and reports (0016) ---


# --- #16 digitisation (0017) ---
class DocumentOcrText(Base):
    """The OCR text of a digitised document (its PDF/A's text layer, per page joined by a form
    feed): what full-text search indexes (``SearchEntry.ocr_text``) and a reindex reads again."""

    __tablename__ = "document_ocr_text"
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"), primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("package.id"), index=True)
    pages: Mapped[int] = mapped_column(Integer)
    engine: Mapped[str] = mapped_column(String(200))  # OCR engine and version
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)



# --- #16 metadata extraction and the digitisation queue (0018) ---

from preservation.catalog.vocab import ExtractionSource, ExtractionStatus  # noqa: E402


class ExtractionProposal(Base):
    """Bóc tách thông tin: the fields khoso read from one văn bản's OCR text (or text sent with
    the request), each with its confidence and evidence line, and what an archivist made of
    them. The newest row of a document is its current proposal; a new run supersedes a
    pending one. ``final`` holds the values confirmed (with ``corrected`` naming the fields the
    archivist changed) and ``version`` the AIP version the confirmation made, if any."""

    __tablename__ = "extraction_proposal"
    __table_args__ = (one_of("status", tuple(ExtractionStatus), "status"),
                      one_of("source", tuple(ExtractionSource), "source"),
                      Index("ix_extraction_proposal_document", "document_id", "created_at"))
    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"))
    doc_code: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10), default=ExtractionStatus.PROPOSED.value)
    source: Mapped[str] = mapped_column(String(4))
    text_sha256: Mapped[str] = mapped_column(String(64))
    text_chars: Mapped[int] = mapped_column(Integer)
    extractor: Mapped[str] = mapped_column(String(40))  # rules version, for re-evaluation
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[dt.datetime | None] = mapped_column()
    final: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    corrected: Mapped[list[str] | None] = mapped_column(JSON)
    objid: Mapped[str | None] = mapped_column(String(200))
    version: Mapped[int | None] = mapped_column(Integer)



# --- #16 format migration and the format register (0019) ---

# The format register (``GET /api/v1/formats``) and ``khoso migrate --puid`` find files by
# PRONOM identifier: without it, both read every bitstream row of the catalog.
Index("ix_bitstream_puid", Bitstream.puid, Bitstream.package_id)


# --- #14 block-verified streaming delivery (0021) ---

from sqlalchemy import LargeBinary  # noqa: E402 - this area's column type


class BlockDigests(Base):
    """The SHA-256 of each fixed-size block of a content file, keyed by the whole file's SHA-256
    (content-addressed: every copy of the same bytes shares the row). Written only from bytes
    whose whole-file digest matched the catalog, so a block that matches its digest here is as
    trustworthy as the catalog's digest (``access_api.services.blocks``)."""

    __tablename__ = "block_digests"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    block_size: Mapped[int] = mapped_column(Integer)
    digests: Mapped[bytes] = mapped_column(LargeBinary)  # 32 bytes per block, in order
    seal: Mapped[bytes] = mapped_column(LargeBinary)  # HMAC-SHA-256 under a key not in the catalog
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

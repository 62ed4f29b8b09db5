"""Archive bodies, agencies and fonds: validated writes, each recorded in the audit log."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from preservation.catalog import audit
from preservation.catalog.models import Agency, ArchiveBody, Fonds
from preservation.catalog.vocab import FondsStatus
from preservation.errors import Conflict, NotFound, ValidationFailed
from preservation.issues import Noun, Report
from preservation.metadata.codelists import codelist
from preservation.metadata.identifiers import ORGAN_ID_EXAMPLE, ORGAN_ID_FORM, is_organ_id

_FOND_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,19}")
_STATUS = {"dong": FondsStatus.DONG, "đóng": FondsStatus.DONG, "mo": FondsStatus.MO,
           "mở": FondsStatus.MO}  # as a person types it


def ensure_archive_body(session: Session, code: str, name: str, kind: str) -> ArchiveBody:
    body = session.scalar(sa.select(ArchiveBody).where(ArchiveBody.code == code))
    if body is None:
        body = ArchiveBody(code=code, name=name, kind=kind)
        session.add(body)
        session.flush()
        audit.record(session, "system", "archive_body.create", "archive_body", code, name=name)
    return body


def _text(report: Report, name: str, value: str | None, maximum: int, required: bool) -> None:
    if value is None or not value.strip():
        if required:
            report.add("CAT002", name, field=name, max=maximum)
    elif len(value) > maximum:
        report.add("CAT008", name, field=name, max=maximum)


def add_agency(session: Session, organ_id: str, name: str, *, address: str | None = None,
               contact_email: str | None = None, actor: str = "system") -> Agency:
    report = Report()
    if not is_organ_id(organ_id or ""):
        report.add("CAT001", "organ_id", value=organ_id, form=ORGAN_ID_FORM,
                   example=ORGAN_ID_EXAMPLE)
    _text(report, "name", name, 300, True)
    _text(report, "address", address, 500, False)
    _text(report, "contact_email", contact_email, 200, False)
    if not report.ok:
        raise ValidationFailed(report)
    if session.scalar(sa.select(Agency.id).where(Agency.organ_id == organ_id)):
        raise Conflict("GEN003", what=Noun.AGENCY, key=organ_id)
    agency = Agency(organ_id=organ_id, name=name.strip(), address=address,
                    contact_email=contact_email)
    session.add(agency)
    session.flush()
    audit.record(session, actor, "agency.create", "agency", organ_id, name=agency.name)
    return agency


def list_agencies(session: Session) -> list[Agency]:
    return list(session.scalars(sa.select(Agency).order_by(Agency.organ_id)))


@dataclass
class FondsInput:
    """The ten TT 05 fonds fields as a person types them (status đóng/mở, languages as codes)."""

    fond_code: str
    fond_name: str
    status: str = "mở"
    fond_history: str | None = None
    archives_time: str | None = None
    total_doc: int | str | None = None
    classification_scheme: str | None = None
    languages: list[str] = field(default_factory=lambda: ["01"])
    risk_recovery: bool = False
    description: str | None = None
    organ_id: str | None = None


def _years(text: str) -> tuple[int, int] | None:
    m = re.fullmatch(r"\s*(\d{4})\s*(?:[-–]\s*(\d{4}))?\s*", text)
    if not m:
        return None
    first, last = int(m[1]), int(m[2] or m[1])
    return (first, last) if first <= last else None


def add_fonds(session: Session, archive_body: ArchiveBody, data: FondsInput,
              actor: str = "system") -> Fonds:
    report = Report()
    if not _FOND_CODE.fullmatch(data.fond_code or ""):
        report.add("CAT003", "fond_code", value=data.fond_code)
    _text(report, "fond_name", data.fond_name, 300, True)
    _text(report, "description", data.description, 2000, False)
    _text(report, "archives_time", data.archives_time, 30, False)
    status = _STATUS.get((data.status or "").strip().lower())
    if status is None:
        report.add("CAT004", "status", value=data.status)
    languages = codelist("language")
    for code in data.languages:
        if code not in languages:
            report.add("CAT005", "languages", value=code)
    years = None
    if data.archives_time:
        years = _years(data.archives_time)
        if years is None:
            report.add("CAT006", "archives_time", value=data.archives_time)
    total = None
    if data.total_doc not in (None, ""):
        try:
            total = int(data.total_doc)
            if total < 0:
                raise ValueError
        except ValueError:
            report.add("CAT007", "total_doc", value=data.total_doc)
    agency = None
    if data.organ_id:
        agency = session.scalar(sa.select(Agency).where(Agency.organ_id == data.organ_id))
        if agency is None:
            raise NotFound("GEN002", what=Noun.AGENCY, key=data.organ_id)
    if not report.ok:
        raise ValidationFailed(report)
    exists = sa.select(Fonds.id).where(Fonds.archive_body_id == archive_body.id,
                                       Fonds.fond_code == data.fond_code)
    if session.scalar(exists):
        raise Conflict("GEN003", what=Noun.FONDS, key=data.fond_code)
    fonds = Fonds(
        archive_body=archive_body, agency=agency, fond_code=data.fond_code,
        fond_name=data.fond_name.strip(), status=status, fond_history=data.fond_history,
        archives_time=data.archives_time, year_from=years[0] if years else None,
        year_to=years[1] if years else None, total_doc=total,
        classification_scheme=data.classification_scheme, languages=list(data.languages),
        risk_recovery=bool(data.risk_recovery), description=data.description,
    )
    session.add(fonds)
    session.flush()
    audit.record(session, actor, "fonds.create", "fonds", data.fond_code,
                 archive=archive_body.code, name=fonds.fond_name)
    return fonds


def list_fonds(session: Session) -> list[Fonds]:
    return list(session.scalars(sa.select(Fonds).order_by(Fonds.fond_code)))

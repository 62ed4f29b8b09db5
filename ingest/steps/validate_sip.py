"""validation of the TT 05 SIP: METS and EAD against the schemas and rules, METS checksums.

Runs after the read pass, so METS checksums are compared with the digests already computed
(no payload byte is read twice). The fonds the SIP names must be registered in the catalog:
an AIP is always filed in a known phông.
"""

from __future__ import annotations

import sqlalchemy as sa

from ingest.context import IngestContext, StepResult, khoso_agent
from ingest.sip import validate_sip as check_sip
from preservation.catalog.models import ArchiveBody, Fonds
from preservation.events import VALIDATION, Event, Outcome


def _fonds_known(ctx: IngestContext, code: str) -> bool:
    with ctx.catalog.session() as s:
        return s.scalar(sa.select(Fonds.id).join(ArchiveBody).where(
            ArchiveBody.code == ctx.settings.archive_code, Fonds.fond_code == code)) is not None


def validate_sip(ctx: IngestContext) -> StepResult:
    known = {path: facts.sha256 for path, facts in ctx.files.items()}
    sip = check_sip(ctx.sip_root, known_digests=known)
    report = sip.report
    assert ctx.bag is not None
    sip.organ_id = ctx.bag.info_value("Ma-Dinh-Danh-Co-Quan")
    sip.agency_name = sip.agency_name or ctx.bag.info_value("Source-Organization")
    if not sip.fond_code:
        report.add("ING001", "representations/rep1/METS.xml")
    elif not _fonds_known(ctx, sip.fond_code):
        report.add("ING002", "representations/rep1/METS.xml", fond_code=sip.fond_code,
                   archive=ctx.settings.archive_code)
    if report.ok and (sip.ead is None or any(d.ead_record is None for d in sip.documents)):
        report.add("ING003", "metadata/descriptive")
    ctx.sip = sip
    outcome = Outcome.SUCCESS if report.ok else Outcome.FAILURE
    event = Event(VALIDATION, outcome,
                  "TT 05/2025 SIP: METS 1.12 + E-ARK CSIP, EAD XSD and rules, METS checksums",
                  outcome_detail="; ".join(sorted(report.codes())), object_identifier=ctx.job_id,
                  agents=((khoso_agent(), "validator"),))
    return StepResult.of(report, [event])

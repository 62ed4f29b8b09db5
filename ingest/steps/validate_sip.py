"""validation of the TT 05 SIP: METS and EAD against the schemas and rules, METS checksums.

Runs after the read pass, so METS checksums are compared with the digests already computed
(no payload byte is read twice). The fonds the SIP names must be registered in the catalog:
an AIP is always filed in a known phông. A SIP without BagIt has no bag-info to name its agency:
the agency is the registered one whose identifier begins the hồ sơ's fileCode.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import sqlalchemy as sa

from ingest.context import FileFacts, IngestContext, StepResult
from ingest.errors import HoSoBeingIngested
from ingest.sip import SipValidation
from ingest.sip import validate_sip as check_sip
from ingest.unbagged import SubmissionForm
from preservation.catalog.claims import claim
from preservation.catalog.db import Catalog
from preservation.catalog.models import (
    Agency,
    ArchiveBody,
    Fonds,
    Package,
    RecordFile,
    StoredCopy,
)
from preservation.events import VALIDATION, Event, Outcome, khoso_agent
from preservation.metadata.identifiers import PackageId, arc_file_code_of
from preservation.packaging.aip.layout import aip_key_prefix


def _catalog(ctx: IngestContext) -> Catalog:
    assert ctx.catalog is not None  # a SIP is validated against the catalog it is filed in
    return ctx.catalog


def _fonds_known(ctx: IngestContext, code: str) -> bool:
    with _catalog(ctx).session() as s:
        return s.scalar(sa.select(Fonds.id).join(ArchiveBody).where(
            ArchiveBody.code == ctx.settings.archive_code, Fonds.fond_code == code)) is not None


def _aip_key(ctx: IngestContext, sip: SipValidation) -> tuple[str, str] | None:
    """(arc_file_code, key prefix) the AIP of this SIP would take (as ``ingest.aip.build``)."""
    file_code = sip.ead.values.get("fileCode") if sip.ead is not None else None
    if not file_code or not sip.fond_code:  # refused already (ING001, ING003)
        return None
    arc = arc_file_code_of(ctx.settings.archive_code, str(file_code))
    return arc, aip_key_prefix(ctx.settings.archive_code, sip.fond_code, arc)


def _already_archived(ctx: IngestContext, sip: SipValidation) -> tuple[str, str] | None:
    """(arc_file_code, objid) of an AIP already filed under the key this SIP would take.

    Checked before anything is stored: a second ingest of the same hồ sơ would otherwise write
    over the first one's objects and only then fail to register.
    """
    if (found := _aip_key(ctx, sip)) is None:
        return None
    arc, prefix = found
    with _catalog(ctx).session() as s:
        objid = s.scalar(sa.select(Package.objid).join(StoredCopy).where(
            StoredCopy.key == prefix).limit(1))
        if objid is None:
            objid = s.scalar(sa.select(Package.objid).join(
                RecordFile, Package.record_file_id == RecordFile.id).where(
                RecordFile.arc_file_code == arc).limit(1))
    return (arc, objid) if objid is not None else None


def _organ_of(ctx: IngestContext, file_code: object) -> str | None:
    """The registered agency whose mã định danh begins the fileCode (TT 05: organ id + year +
    notation), for a SIP without bag-info; None when none does (a closed fonds' code, say)."""
    if not isinstance(file_code, str):
        return None
    with _catalog(ctx).session() as s:
        organs = s.scalars(sa.select(Agency.organ_id)).all()
    found = [o for o in organs if file_code.startswith(f"{o}.")]
    return max(found, key=len) if found else None


def _already_stored(ctx: IngestContext, sip: SipValidation) -> tuple[str, dict[str, str]] | None:
    """ING035 and its parameters when the locations hold another package under this SIP's AIP
    key, though the catalog does not know it (lost, rebuilt, or a fresh one on the same
    replicas); ING210 when every location holding it holds only older versions hidden behind
    delete markers (a versioned bucket): ``khoso catalog rebuild`` reads current keys only, so
    its advice would not help there, and the message names the prefix to look at instead.

    Asked of every location before anything is written (AIP keys are write-once; an
    unreachable location raises a transient error: the job is retried, the SIP not refused).
    Objects whose ``bag-info.txt`` names this very job's package are what its own killed
    attempt left (never registered): they are removed so the retry can write its keys. With
    no ``bag-info.txt`` anywhere they are an ingest that never finished: the write goes ahead,
    where the same bytes are kept and other bytes refuse the write, so nothing is replaced."""
    if ctx.services.occupancy is None or (found := _aip_key(ctx, sip)) is None:
        return None
    arc, prefix = found
    held = ctx.services.occupancy(prefix)
    if held is None:
        return None
    own = str(PackageId("AIP", ctx.job_id.upper(), sip.fond_code))
    others = sorted(held.identifiers - {own})
    if others:
        params = {"arc_file_code": arc, "objid": ", ".join(others),
                  "locations": ", ".join(held.locations)}
        if set(held.hidden) == set(held.locations):
            return "ING210", {**params, "prefix": prefix.rstrip("/") + "/"}
        return "ING035", params
    if own in held.identifiers and ctx.services.purge_own is not None:
        ctx.services.purge_own(prefix)
    return None


class _Digests(Mapping[str, str]):
    """SHA-256 of each file as the read pass found it: a view, not a 100,000-entry copy."""

    def __init__(self, files: Mapping[str, FileFacts]) -> None:
        self.files = files

    def __getitem__(self, path: str) -> str:
        return self.files[path].sha256

    def __iter__(self) -> Iterator[str]:
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)


def validate_sip(ctx: IngestContext) -> StepResult:
    sip = check_sip(ctx.sip_root, known_digests=_Digests(ctx.files), spool_dir=ctx.workspace)
    report = sip.report
    assert ctx.bag is not None
    sip.organ_id = ctx.bag.info_value("Ma-Dinh-Danh-Co-Quan")
    if ctx.form is SubmissionForm.UNBAGGED and sip.ead is not None:  # no bag-info to say it
        sip.organ_id = _organ_of(ctx, sip.ead.values.get("fileCode"))
    sip.agency_name = sip.agency_name or ctx.bag.info_value("Source-Organization")
    if ctx.submitted_for is not None and sip.organ_id != ctx.submitted_for:
        # an agency system submits only its own agency's records (``POST /api/v1/submissions``)
        report.add("SUB001", "bag-info.txt", organ=sip.organ_id or "-", agency=ctx.submitted_for)
    if not sip.fond_code:
        report.add("ING001", "representations/rep1/METS.xml")
    elif not _fonds_known(ctx, sip.fond_code):
        report.add("ING002", "representations/rep1/METS.xml", fond_code=sip.fond_code,
                   archive=ctx.settings.archive_code)
    if report.ok and (sip.ead is None or any(d.ead_record is None for d in sip.documents)):
        report.add("ING003", "metadata/descriptive")
    if report.ok and (found := _already_archived(ctx, sip)) is not None:
        report.add("ING005", "metadata/descriptive/EAD.xml", arc_file_code=found[0],
                   objid=found[1])
    if report.ok and (key := _aip_key(ctx, sip)) is not None and \
            (holder := claim(_catalog(ctx), key[0], ctx.job_id)) is not None:
        # a second submission of this hồ sơ while the first is still queued or running
        raise HoSoBeingIngested(key[0], holder)
    if report.ok and (stored := _already_stored(ctx, sip)) is not None:
        report.add(stored[0], "metadata/descriptive/EAD.xml", **stored[1])
    ctx.sip = sip
    outcome = Outcome.SUCCESS if report.ok else Outcome.FAILURE
    event = Event(VALIDATION, outcome,
                  "TT 05/2025 SIP: METS 1.12 + E-ARK CSIP, EAD XSD and rules, METS checksums",
                  outcome_detail="; ".join(sorted(report.codes())), object_identifier=ctx.job_id,
                  agents=((khoso_agent(), "validator"),))
    return StepResult.of(report, [event])

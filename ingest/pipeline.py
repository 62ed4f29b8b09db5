"""The ingest: an ordered list of named steps, then one transaction that registers the result.

Steps never write to the catalog. When a mandatory step fails the SIP is rejected: later checks
are recorded as "not performed", the submission is kept in quarantine with its report, and the
catalog gets one rejected-SIP record with its events — nothing in AIP storage, nothing half
registered. When every step passed, the AIP (already stored and verified on every replica) is
registered with all its events and the audit entry in one transaction.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from ingest.context import IngestContext, Step
from ingest.steps.build_aip import build_aip
from ingest.steps.identify_formats import identify_formats
from ingest.steps.receive import receive
from ingest.steps.scan_viruses import scan_viruses
from ingest.steps.store_aip import store_aip
from ingest.steps.unpack_safely import unpack_safely
from ingest.steps.validate_bag import validate_against_profile, validate_bag
from ingest.steps.validate_sip import validate_sip
from ingest.steps.verify_signatures import verify_signatures
from preservation import events as ev
from preservation.catalog.db import Catalog
from preservation.events import Event, Outcome
from preservation.issues import Report

log = logging.getLogger(__name__)

STEPS: tuple[Step, ...] = (
    Step("receive", ev.INGESTION_START, receive),
    Step("unpack_safely", ev.UNPACKING, unpack_safely),
    Step("validate_bag", ev.VALIDATION, validate_bag),
    Step("validate_profile", ev.VALIDATION, validate_against_profile),
    Step("scan_viruses", ev.VIRUS_CHECK, scan_viruses),
    Step("validate_sip", ev.VALIDATION, validate_sip),
    Step("identify_formats", ev.FORMAT_IDENTIFICATION, identify_formats),
    Step("verify_signatures", ev.DIGITAL_SIGNATURE_VALIDATION, verify_signatures),
    Step("build_aip", ev.INFORMATION_PACKAGE_CREATION, build_aip),
    Step("store_aip", ev.REPLICATION, store_aip),
)


@dataclass(frozen=True)
class IngestOutcome:
    accepted: bool
    job_id: str
    report: Report
    objid: str | None = None
    package_id: int | None = None
    quarantine: Path | None = None
    failed_step: str | None = None

    def to_dict(self) -> dict:
        return {"accepted": self.accepted, "job_id": self.job_id, "objid": self.objid,
                "package_id": self.package_id, "failed_step": self.failed_step,
                "quarantine": str(self.quarantine) if self.quarantine else None,
                **self.report.to_dict()}


def run_ingest(ctx: IngestContext, catalog: Catalog,
               steps: tuple[Step, ...] = STEPS) -> IngestOutcome:
    from ingest.register import register_aip, register_rejection

    shutil.rmtree(ctx.workspace, ignore_errors=True)  # left by an attempt that was killed
    ctx.workspace.mkdir(parents=True)
    ctx.events.directory = ctx.workspace  # the spool's temporary file, once it spills
    try:
        for index, step in enumerate(steps):
            result = step.run(ctx)
            ctx.report.extend(result.issues)
            ctx.events.extend(result.events)
            if result.outcome is Outcome.FAILURE and step.mandatory:
                for later in steps[index + 1:]:
                    ctx.events.append(Event(later.event_type, Outcome.NOT_PERFORMED,
                                            f"step {later.name} not run: {step.name} failed",
                                            object_identifier=ctx.job_id))
                where = quarantine(ctx)
                package_id = register_rejection(ctx, catalog, step.name, where)
                if ctx.services.after_reject is not None:
                    try:
                        ctx.services.after_reject(ctx, catalog, package_id, where)
                    except Exception:  # noqa: BLE001 - the rejection is registered
                        log.exception("after-reject hook failed for job %s", ctx.job_id)
                return IngestOutcome(False, ctx.job_id, ctx.report, None, package_id, where,
                                     step.name)
        package_id = register_aip(ctx, catalog)
        if ctx.services.after_register is not None:
            try:
                ctx.services.after_register(ctx, catalog)
            except Exception:  # noqa: BLE001 - the AIP is registered; mirrors are best effort
                log.exception("after-register hook failed for %s", ctx.aip.objid)
        return IngestOutcome(True, ctx.job_id, ctx.report, ctx.aip.objid, package_id)
    finally:
        if ctx.storing is not None:  # registration failed while the replicas were written
            ctx.storing.cancel()
            ctx.storing = None
        if ctx.identifying is not None:  # a rejected SIP: the helper need not finish its work
            for _, future in ctx.identifying[1]:
                future.cancel()
        shutil.rmtree(ctx.workspace, ignore_errors=True)
        if ctx.services.discard_staged is not None:
            try:
                ctx.services.discard_staged(ctx.job_id)
            except Exception:  # noqa: BLE001 - leftovers are found again by the next attempt
                log.exception("could not discard what job %s staged", ctx.job_id)


def quarantine(ctx: IngestContext) -> Path:
    """Keep what was submitted, with its report, where an archivist can look at it."""
    folder = ctx.settings.data_dir / "quarantine" / ctx.job_id
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / ctx.source.name
    if not target.exists():
        if ctx.source.is_dir() and not ctx.source.is_symlink():
            shutil.copytree(ctx.source, target, symlinks=True)
        elif ctx.source.is_file() and not ctx.source.is_symlink():
            shutil.copy2(ctx.source, target)
    report = {"job_id": ctx.job_id, "source": str(ctx.source), **ctx.report.to_dict()}
    (folder / "report.json").write_text(json.dumps(report, ensure_ascii=False, indent=2),
                                        encoding="utf-8")
    return folder

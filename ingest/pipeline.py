"""The ingest: an ordered list of named steps, then one transaction that registers the result.

Steps never write to the catalog. When a mandatory step fails the SIP is rejected: later checks
are recorded as "not performed", the submission is kept in quarantine with its report, and the
catalog gets one rejected-SIP record with its events — nothing in AIP storage, nothing half
registered. When every step passed, the AIP (already stored and verified on every replica) is
registered with all its events and the audit entry in one transaction.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import socket
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from ingest.context import IngestContext, Step, StepResult
from ingest.errors import StagingError, inside, is_system, reason
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
from preservation.issues import Report, Severity

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
            if ctx.on_step is not None:
                ctx.on_step(step.name, index, len(steps))
            started = time.monotonic()
            result = _run_step(step, ctx)
            _log_step(ctx.job_id, step, result, time.monotonic() - started)
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
        assert ctx.aip is not None  # registered: built
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


def _log_step(job_id: str, step: Step, result: StepResult, seconds: float) -> None:
    """One line per step as it ends, with the job fields, so an operator follows a slow or
    stuck ingest step by step (the job's own line comes only at its end)."""
    errors = sum(1 for i in result.issues if i.severity is Severity.ERROR)
    log.info("job %s step %s: %s in %.1f s, %d issue(s), %d error(s)", job_id, step.name,
             result.outcome.value, seconds, len(result.issues), errors,
             extra={"job_id": job_id, "step": step.name, "outcome": result.outcome.value})


def _run_step(step: Step, ctx: IngestContext) -> StepResult:
    """Run ``step``; an OS error about a file of the submission (gone, unreadable, replaced by
    a FIFO…) becomes that step's coded failure (``PKG078``), so the SIP is rejected with its
    report; the archive's disk failing under the submission or the workspace, or filling up,
    is a ``StagingError`` (retried). Any other error (a service, a key store) passes as is."""
    try:
        return step.run(ctx)
    except (ConnectionError, TimeoutError, socket.gaierror):
        raise  # a service down (clamd…): its own error, not a file's
    except OSError as exc:
        where = inside(exc.filename, ctx.source)  # for an archive, only the archive itself
        where = ctx.source.name if where == "." else where
        staging = inside(exc.filename, ctx.workspace)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT) or staging is not None or (
                where is not None and is_system(exc)):
            raise StagingError(where or staging or str(ctx.workspace), exc) from exc
        if where is None:
            raise
        report = Report()
        report.add("PKG078", where, file=where, reason=reason(exc))
        log.warning("%s: %s of the submission cannot be read: %s", step.name, where, exc)
        return StepResult.of(report, [Event(step.event_type, Outcome.FAILURE,
                                            f"step {step.name}: {where} cannot be read",
                                            object_identifier=ctx.job_id)])


def quarantine(ctx: IngestContext) -> Path:
    """Keep what was submitted, with its report, where an archivist can look at it.

    Never raises: only regular files, folders and links (as links) are copied, opened without
    following links or blocking (a FIFO or a device in the submission is skipped, not read);
    whatever cannot be kept is named in the report (``PKG081``), and report.json is written
    even when the copy filled the disk (the partial copy is then removed to make room)."""
    folder = ctx.settings.data_dir / "quarantine" / ctx.job_id
    target = folder / ctx.source.name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if not os.path.lexists(target):
            _keep(ctx.source, target, ctx)
    except OSError as exc:
        _not_kept(ctx, ctx.source.name, reason(exc))
    except RecursionError:  # folders nested deeper than Python recurses (unpack refused them)
        _not_kept(ctx, ctx.source.name, "folders nested too deep to copy")
    report = {"job_id": ctx.job_id, "source": str(ctx.source), **ctx.report.to_dict()}
    text = json.dumps(report, ensure_ascii=False, indent=2)
    for attempt in range(2):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            (folder / "report.json").write_text(text, encoding="utf-8")
            break
        except OSError:
            if attempt:
                log.exception("could not write the quarantine report of job %s", ctx.job_id)
            else:  # make room: the report matters more than the copy
                shutil.rmtree(target, ignore_errors=True)
                if target.is_symlink() or target.is_file():
                    target.unlink(missing_ok=True)
    return folder


def _not_kept(ctx: IngestContext, name: str, why: str) -> None:
    log.warning("quarantine of job %s: %s not kept: %s", ctx.job_id, name, why)
    ctx.report.add("PKG081", name, file=name, reason=why)


def _keep(src: Path, dst: Path, ctx: IngestContext, rel: str = "") -> None:
    """Copy ``src`` to ``dst`` as ``shutil.copytree(symlinks=True)`` would, without its two
    failure modes: reading a FIFO or device (it blocks, or never ends) and one bad file
    aborting the whole copy."""
    name = rel or src.name
    try:
        st = os.lstat(src)
        if stat.S_ISLNK(st.st_mode):
            os.symlink(os.readlink(src), dst)
        elif stat.S_ISDIR(st.st_mode):
            os.mkdir(dst)
            with os.scandir(src) as it:
                entries = sorted(e.name for e in it)
            for entry in entries:
                _keep(src / entry, dst / entry, ctx, f"{rel}/{entry}" if rel else entry)
        elif stat.S_ISREG(st.st_mode):
            fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
            with os.fdopen(fd, "rb") as f:
                if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                    raise OSError(0, "no longer a regular file")
                with open(dst, "xb") as out:
                    shutil.copyfileobj(f, out, 1 << 20)
            shutil.copystat(src, dst, follow_symlinks=False)
        else:
            _not_kept(ctx, name, "not a regular file (FIFO, socket or device): not read")
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):  # nothing more will fit
            raise
        _not_kept(ctx, name, reason(exc))

"""Format migration: a new AIP version adding a preservation copy (PDF/A-2b, TIFF) of each file
whose format the policy warns about and gives a ``migrate_to``, beside the untouched original.

One job per AIP (kind ``migration``), queued by an officer for every AIP holding a PUID
(``khoso migrate --puid``, ``POST /api/v1/migrations``) or, with ``KHOSO_MIGRATE_ON_INGEST=queue``,
after an ingest stored an AIP with such files. A job converts each file (``ingest.adapters``
converters), identifies the result, and writes v(N+1) through
``preservation.packaging.aip.migrated_version``. Running it again skips what is migrated
already. A file that cannot be converted is a failed PREMIS ``migration`` event and MIG002;
when no file of the AIP could be, the AIP stays as it was. A missing tool or a location down
is the archive's fault: nothing is written and the job is retried.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from access_api.services import migration_recovery as recovery
from access_api.services import version_reservations
from access_api.services.base import Identity, ServiceContext, UserRole
from access_api.services.uow import AppendEvents, MirrorAuditLog, UnitOfWork, run_operations
from access_api.services.versions import _reader
from ingest.adapters.format_policy import FormatPolicy
from ingest.adapters.formats import FormatIdentifier
from ingest.adapters.identify_process import shared as shared_identifier
from ingest.adapters.migrate import EXPECTED_PUIDS, TARGET_NAMES, converter_for
from ingest.errors import reason as os_reason
from ingest.jobs import LOST_LIMIT, Lease, claim
from preservation import signing
from preservation.catalog import queries
from preservation.catalog.models import Bitstream, Job, Package, utcnow
from preservation.catalog.vocab import (
    JobStatus,
    MigrateOnIngest,
    MigrationOutcome,
    MigrationTarget,
    PackageKind,
    PackageStatus,
)
from preservation.errors import Forbidden, KhosoError, NotFound, Unavailable, ValidationFailed
from preservation.events import Agent
from preservation.issues import Issue, Noun, Report
from preservation.jobs import make_celery
from preservation.packaging.aip import migrated_version as mv
from storage.errors import StorageError
from storage.replication import replicate
from storage.sidecar import event_record, iso

log = logging.getLogger(__name__)

TASK = "khoso.migrate_aip"
JOB_KIND = "migration"
OFFICERS = (UserRole.ADMIN, UserRole.PRESERVATION_OFFICER)
PUID = re.compile(r"(?:x-)?fmt/\d{1,6}")


@dataclass(frozen=True)
class AipMigration:
    """What one AIP's migration did."""

    objid: str
    outcome: MigrationOutcome
    version: int | None = None  # the version made, when one was
    migrated: dict[str, str] = field(default_factory=dict)  # original → migrated (bag paths)
    failed: list[dict[str, Any]] = field(default_factory=list)  # issues, one per file
    already: list[str] = field(default_factory=list)  # migrated by an earlier version

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Holder:
    objid: str
    files: list[str]  # to migrate
    already: list[str]
    job: str | None = None


@dataclass(frozen=True)
class MigrationBatch:
    """``khoso migrate --puid``: the AIPs holding the format, and the job queued for each."""

    puid: str
    target: MigrationTarget
    dry_run: bool
    aips: list[Holder]

    def to_dict(self) -> dict[str, Any]:
        return {"puid": self.puid, "target": self.target.value, "dry_run": self.dry_run,
                "aips": [asdict(h) for h in self.aips],
                "jobs": [h.job for h in self.aips if h.job]}


def _officer(identity: Identity) -> None:
    if not identity.has(*OFFICERS):
        raise Forbidden("AUTH004")


def targets(ctx: ServiceContext) -> dict[str, MigrationTarget]:
    """PUID → target, from the archive's format policy."""
    return FormatPolicy.load(migrate_on_ingest=ctx.settings.migrate_on_ingest).migratable()


def target_of(ctx: ServiceContext, puid: str) -> MigrationTarget:
    """The target of ``puid``; MIG005 (not a PUID) or MIG001 (no migration for it), 422."""
    if not PUID.fullmatch(puid):
        raise ValidationFailed(Report([Issue("MIG005", "puid", {"puid": puid[:40]})]), "MIG005")
    known = targets(ctx)
    if puid not in known:
        raise ValidationFailed(Report([Issue("MIG001", "puid", {
            "puid": puid, "known": ", ".join(sorted(known))})]), "MIG001")
    return known[puid]


def holders(ctx: ServiceContext, puid: str) -> list[str]:
    """OBJIDs of the active AIPs whose content holds a file identified as ``puid``."""
    with ctx.catalog.session() as s:
        active = sa.select(Package.objid).where(Package.status == PackageStatus.ACTIVE,
                                                Package.kind == PackageKind.AIP)
        return list(s.scalars(sa.select(Package.objid).distinct()
                              .join(Bitstream, Bitstream.package_id == Package.id)
                              .where(Bitstream.puid == puid,
                                     Bitstream.path.startswith(mv.CONTENT),
                                     Package.status.in_(queries.AUDITED_STATUSES),
                                     Package.objid.in_(active)).order_by(Package.objid)))


def queue_migrations(ctx: ServiceContext, identity: Identity, puid: str, *,
                     dry_run: bool = False,
                     send: Callable[[str], str] | None = None) -> MigrationBatch:
    """One migration job per AIP holding ``puid`` with a file still to migrate (an AIP whose
    job is still queued or running gets no second one); ``dry_run`` only lists them."""
    _officer(identity)
    target = target_of(ctx, puid)
    out = []
    for objid in holders(ctx, puid):
        planned = mv.plan(ctx.catalog, objid, {puid: target})
        if planned is None:
            continue
        files = [c.source for c in (*planned.candidates, *planned.clashes)]
        job = None
        if files and not dry_run:
            job = queue_aip(ctx, identity.actor, objid, [puid], send=send)
        out.append(Holder(objid, files, list(planned.already), job))
    return MigrationBatch(puid, target, dry_run, out)


def queue_aip(ctx: ServiceContext, actor: str, objid: str, puids: Sequence[str], *,
              send: Callable[[str], str] | None = None) -> str:
    """The job migrating ``puids`` in ``objid``: the queued or running one if there is one (a
    queued one whose lease ran out, its message lost, is sent again). OPS007 (503) when the
    queue cannot be reached; then no new job is left behind."""
    timeout = float(ctx.settings.job_visibility_timeout)
    resend = None
    with ctx.catalog.session() as s:
        for job in s.scalars(sa.select(Job).where(
                Job.kind == JOB_KIND, Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)))):
            if (job.payload or {}).get("objid") != objid:
                continue
            if job.status == JobStatus.RUNNING or (job.lease_until or 0) > time.time():
                return job.id
            job.lease_until, resend = time.time() + timeout, job.id
            break
        if resend is None:
            row = Job(kind=JOB_KIND, status=JobStatus.QUEUED, created_by=actor,
                      payload={"objid": objid, "puids": sorted(set(puids))},
                      lease_until=time.time() + timeout)
            s.add(row)
            s.flush()
        job_id = resend or row.id
    sender = send or (lambda jid: str(make_celery(ctx.settings).send_task(TASK, args=[jid]).id))
    try:
        task_id = sender(job_id)
    except Exception as exc:  # noqa: BLE001 - any broker failure: nothing is queued
        log.warning("could not queue the migration of %s: %s", objid, exc)
        if resend is None:
            with ctx.catalog.session() as s:
                s.execute(sa.delete(Job).where(Job.id == job_id))
        raise Unavailable("OPS007", retry_after=30) from exc
    with ctx.catalog.session() as s:
        s.get_one(Job, job_id).celery_task_id = task_id
    return job_id


def after_ingest(ctx: ServiceContext, objid: str, puids: Iterable[str | None], *,
                 send: Callable[[str], str] | None = None) -> str | None:
    """With ``KHOSO_MIGRATE_ON_INGEST=queue``, the migration job of a just-stored AIP holding a
    migratable format (what FMT005 told the agency); None when off or nothing to migrate."""
    if ctx.settings.migrate_on_ingest != MigrateOnIngest.QUEUE:
        return None
    known = targets(ctx)
    wanted = sorted({p for p in puids if p in known})
    if not wanted:
        return None
    return queue_aip(ctx, "system:ingest", objid, wanted, send=send)


# -- one AIP ----------------------------------------------------------------------------------

class _WorkFolderFailed(Exception):
    """Carries an OSError of the work folder out of ``_fetch``'s storage handlers."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


# A tool's refusal is believed only with this much room left in the work folder (besides 4×
# the source): with less, Ghostscript stopping (it says only its exit code) may be the full
# disk's doing, and a refusal is a lasting "migration failed" PREMIS event on the AIP.
WORK_RESERVE = 64 << 20


def _work_folder_failed(folder: Path, exc: OSError | None, why: str = "") -> Unavailable:
    """MIG201: the archive's work folder is full or unwritable; the job is retried, nothing
    about the AIP's files is recorded."""
    detail = os_reason(exc) if exc is not None else why
    return Unavailable("MIG201", str(folder), retry_after=300, folder=str(folder),
                       reason=detail)


def _short_of_room(folder: Path, source: Path) -> str | None:
    try:
        free = shutil.disk_usage(folder).free
        size = source.stat().st_size
    except OSError as exc:
        return os_reason(exc)
    if free < 4 * size + WORK_RESERVE:
        return f"{free} byte free for a {size}-byte file"
    return None


def _fetch(ctx: ServiceContext, c: mv.Candidate, dest: Path) -> None:
    """The original streamed to ``dest`` from the first location whose copy has the SHA-256
    the catalog recorded (a bad copy is passed over, as the audit will find it); VER009 when
    none has, transient when every location failed for a reason retrying may cure."""
    reasons: list[str] = []
    transient = True
    for storage in ctx.storages.values():
        digest = hashlib.sha256()
        # ``dest`` is the archive's own work folder: its OSError (disk full) is raised as
        # it is (``_convert`` names it MIG201), never taken for the location's
        with open(dest, "wb") as out:
            try:
                with storage.open(c.key) as f:
                    while chunk := f.read(1 << 20):
                        digest.update(chunk)
                        try:
                            out.write(chunk)
                        except OSError as exc:
                            raise _WorkFolderFailed(exc) from exc
            except _WorkFolderFailed as failed:
                raise failed.error from None
            except StorageError as exc:
                transient = transient and exc.transient
                reasons.append(f"{storage.name}: {exc.code}")
                continue
            except OSError as exc:  # the location's disk failed mid-read: retrying may cure
                reasons.append(f"{storage.name}: {exc.strerror or exc}")
                continue
        if digest.hexdigest() == c.sha256:
            return
        transient = False
        reasons.append(f"{storage.name}: SHA-256 mismatch")
    error = KhosoError("VER009", c.source, version=c.version,
                       reason="; ".join(reasons) or "no storage location")
    if transient and reasons:
        raise Unavailable("VER009", c.source, version=c.version,
                          reason="; ".join(reasons)) from error
    raise error


def _convert(ctx: ServiceContext, planned: mv.Plan, folder: Path,
             identifier: FormatIdentifier,
             ) -> tuple[list[mv.Migrated], list[mv.NotMigrated]]:
    done: list[mv.Migrated] = []
    failed: list[mv.NotMigrated] = []
    for i, c in enumerate(planned.candidates):
        name = c.source.removeprefix("data/")
        source = folder / f"{i}-source{Path(c.source).suffix}"
        out = folder / f"{i}-migrated{Path(c.target_path).suffix}"
        try:
            _fetch(ctx, c, source)  # its KhosoError (no good copy, VER009) ends the run
        except OSError as exc:  # the source written to the work folder
            raise _work_folder_failed(folder, exc) from exc
        converter = converter_for(c.target, timeout=float(ctx.settings.migration_timeout))
        try:
            run = converter.convert(source, out, name=name)
        except KhosoError as exc:
            if exc.transient:
                raise
            short = _short_of_room(folder, source)
            if short is not None:  # not the file's fault as far as anyone can tell
                raise _work_folder_failed(folder, None, short) from exc
            failed.append(mv.NotMigrated(c, exc.issue))
            continue
        except OSError as exc:  # Pillow writing the TIFF
            raise _work_folder_failed(folder, exc) from exc
        tool = Agent(f"{run.tool}-{run.version}", f"{run.tool} {run.version}")
        found = identifier.identify(out)
        if found.puid not in EXPECTED_PUIDS[c.target]:
            failed.append(mv.NotMigrated(c, Issue("MIG003", name, {
                "file": name, "found": found.puid or "?", "target": TARGET_NAMES[c.target],
                "expected": ", ".join(sorted(EXPECTED_PUIDS[c.target]))}), tool))
            continue
        ident = Agent(f"{found.tool}-{found.tool_version}", f"{found.tool} {found.tool_version}",
                      note=found.signature_file or None)
        fmt = " ".join(x for x in (found.format_name, found.version) if x)
        done.append(mv.Migrated(c, out, str(found.puid), fmt or TARGET_NAMES[c.target], tool,
                                run.options, ident))
    return done, failed


def migrate_aip(ctx: ServiceContext, identity: Identity, objid: str,
                puids: Sequence[str] | None = None, *, job_id: str | None = None
                ) -> AipMigration:
    """Migrate ``objid``'s files of ``puids`` (every migratable format when None); run as
    ``job_id``, the version it reserves is noted in the job (``migration_recovery``)."""
    _officer(identity)
    known = targets(ctx)
    wanted = {p: t for p, t in known.items() if puids is None or p in puids}
    planned = mv.plan(ctx.catalog, objid, wanted)
    if planned is None:
        raise NotFound("GEN002", what=Noun.AIP, key=objid)
    clashes = [mv.NotMigrated(c, Issue("MIG007", c.source.removeprefix("data/"), {
        "file": c.source.removeprefix("data/"), "target": c.target_path.removeprefix("data/")}))
        for c in planned.clashes]
    if not planned.candidates and not clashes:
        return AipMigration(objid, MigrationOutcome.NOTHING_TO_DO, already=list(planned.already))
    storages = list(ctx.storages.values())
    read = _reader(ctx)
    try:
        folder = Path(tempfile.mkdtemp(prefix="khoso-convert-"))
    except OSError as exc:
        raise _work_folder_failed(Path(tempfile.gettempdir()), exc) from exc
    try:
        # the process's identification helper, as ingest's: its signatures load once
        done, failed = _convert(ctx, planned, folder,
                                shared_identifier(ctx.settings.format_identifier))
        failed = [*clashes, *failed]
        issues = [f.issue.to_dict() for f in failed]
        if not done:
            _failed_only(ctx, identity, objid, failed)
            return AipMigration(objid, MigrationOutcome.FAILED, failed=issues,
                                already=list(planned.already))
        # a version a killed web or CLI process reserved would refuse this one (VER008)
        version_reservations.take_back_dead(ctx, identity.actor, objid)
        with UnitOfWork(ctx) as uow:
            outcome, stored = mv.new_migrated_version(
                ctx.settings, ctx.catalog, planned=planned, migrated=done, failed=failed,
                actor=identity.actor,
                replicate=lambda objects, progress=None: replicate(objects, storages,
                                                                   progress=progress),
                signer=signing.load_signer(Path(ctx.settings.keys_dir)), read=read,
                reserved=None if job_id is None else
                lambda package_id, prefix: recovery.note(ctx, job_id, package_id, prefix))
            if not outcome.accepted:
                raise ValidationFailed(outcome.report, outcome.report.issues[0].code)
            assert outcome.key_prefix is not None and outcome.package_id is not None
            created = uow.session.get(Package, outcome.package_id)
            created_at = iso(created.created_at) if created is not None else None
            # the registered replication events themselves (same UUIDs), for a catalog
            # rebuilt from one location to get them back as they are here
            records = [{**event_record(e, objid=objid, link_copy=False,
                                       copy={"location": location, "key": outcome.key_prefix}),
                        "package_created_at": created_at} for e, location in stored]
            uow.register(AppendEvents(outcome.key_prefix, records))
            uow.register(MirrorAuditLog())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        read.flag(identity)  # a bad copy of the current METS met on the way, for repair
    return AipMigration(objid, MigrationOutcome.MIGRATED, outcome.version,
                        {m.candidate.source: m.candidate.target_path for m in done}, issues,
                        list(planned.already))


def _failed_only(ctx: ServiceContext, identity: Identity, objid: str,
                 failed: Sequence[mv.NotMigrated]) -> None:
    """Every conversion failed: the events on the active version and in its ``_events``."""
    recorded = mv.record_failures(ctx.catalog, objid, failed, identity.actor)
    if recorded is None:
        return
    _, prefix, events = recorded
    run_operations(ctx, [AppendEvents(prefix, [event_record(e, objid=objid) for e in events]),
                         MirrorAuditLog()])


# -- the job ----------------------------------------------------------------------------------

def run_job(ctx: ServiceContext, job_id: str) -> AipMigration | None:
    """The worker's task: one AIP's migration. The job succeeds when the AIP was migrated or
    had nothing left to migrate, fails (with the first code) when no file could be; a
    transient fault (a tool or location missing) puts it back in the queue and re-raises.
    None when the job is finished already or a live worker holds it."""
    timeout = float(ctx.settings.job_visibility_timeout)
    taken = claim(ctx.catalog, job_id, timeout)
    if taken is None:
        return None
    job, _ = taken
    payload = job.payload or {}
    objid = str(payload.get("objid", ""))
    puids = [str(p) for p in payload.get("puids") or []] or None
    lease = Lease(ctx.catalog, job_id, job.attempts, timeout)
    try:
        if recovery.RESERVED in payload:  # an earlier run of this job was killed mid-version
            recovery.take_back(ctx, job_id, payload[recovery.RESERVED])
        result = migrate_aip(ctx, Identity(job.created_by or "system", frozenset(OFFICERS)),
                             objid, puids, job_id=job_id)
    except Exception as exc:
        lease.stop()
        with ctx.catalog.session() as s:
            row = s.get_one(Job, job_id)
            if isinstance(exc, KhosoError) and exc.transient:
                row.status, row.lease_until = JobStatus.QUEUED, None
                row.error = exc.message("en")
            else:
                issue = exc.issue if isinstance(exc, KhosoError) else Issue(
                    "MIG008", objid, {"objid": objid,
                                      "detail": f"{type(exc).__name__}: {exc}"[:500]})
                row.status, row.finished_at, row.lease_until = (JobStatus.FAILED, utcnow(),
                                                                None)
                row.error = issue.message("en")
                row.result = {"objid": objid, "error": issue.to_dict()}
        raise
    lease.stop()
    recovery.forget(ctx, job_id)  # registered whole, or released: nothing to take back
    with ctx.catalog.session() as s:
        row = s.get_one(Job, job_id)
        failed = result.outcome == MigrationOutcome.FAILED
        row.status = JobStatus.FAILED if failed else JobStatus.SUCCEEDED
        row.finished_at, row.lease_until = utcnow(), None
        row.result = {**result.to_dict(), "issues": result.failed}  # shown by GET /jobs/{id}
        if failed:
            row.error = str(result.failed[0].get("message_en", ""))
    return result


def recover_jobs(ctx: ServiceContext, send: Callable[[str], str], *,
                 now: float | None = None) -> list[str]:
    """Send again every migration job whose lease ran out: its message was lost (the embedded
    broker does not redeliver) or its worker died. The lease is taken first by compare-and-set,
    so two sweepers never both send, and ``claim`` makes a second delivery a no-op. A job whose
    workers died ``LOST_LIMIT`` times fails (MIG008); a version its last run reserved and
    never registered is taken back (``migration_recovery``), so the AIP is as it was before
    and a new job can migrate it. Returns the ids sent again."""
    now = now or time.time()
    timeout = float(ctx.settings.job_visibility_timeout)
    with ctx.catalog.session() as s:
        stale = s.execute(sa.select(Job.id, Job.status, Job.attempts, Job.lease_until,
                                    Job.payload).where(
            Job.kind == JOB_KIND, Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)),
            sa.or_(Job.lease_until.is_(None), Job.lease_until < now))).all()
    sent: list[str] = []
    for job_id, status, attempts, lease_until, payload in stale:
        same = (Job.lease_until == lease_until if lease_until is not None
                else Job.lease_until.is_(None))
        given_up = status == JobStatus.RUNNING and attempts >= LOST_LIMIT
        values: dict[str, Any] = {"lease_until": time.time() + timeout}
        if given_up:
            objid = str((payload or {}).get("objid", ""))
            issue = Issue("MIG008", objid, {"objid": objid,
                                            "detail": f"{attempts} runs lost with their worker"})
            values = {"lease_until": None, "status": JobStatus.FAILED, "finished_at": utcnow(),
                      "error": issue.message("en"), "result": {"objid": objid,
                                                               "error": issue.to_dict()}}
        with ctx.catalog.session() as s:
            won = s.execute(sa.update(Job).where(
                Job.id == job_id, Job.status == status, Job.attempts == attempts, same)
                .values(**values).execution_options(synchronize_session=False))
            if not getattr(won, "rowcount", 0):
                continue
        if given_up:  # its last worker died mid-version: the half-made version goes
            try:
                recovery.take_back(ctx, job_id, (payload or {}).get(recovery.RESERVED))
            except KhosoError:
                log.exception("could not take back the version job %s reserved", job_id)
            continue
        try:
            task_id = send(job_id)
        except Exception:  # noqa: BLE001 - the broker is down: the next sweep tries again
            log.exception("could not send migration job %s again", job_id)
            continue
        with ctx.catalog.session() as s:
            s.get_one(Job, job_id).celery_task_id = task_id
        sent.append(job_id)
    return sent

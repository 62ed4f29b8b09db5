"""One catalog transaction and the side effects that must follow its commit.

Modelled on invenio-rdm-records' ``UnitOfWork``: a service does its catalog work in
``uow.session`` and *registers* what must happen once that work is committed (copies of
catalog records next to the AIPs, so that one location alone can rebuild the catalog).
``commit`` commits, then runs the registered operations in order, best effort: the catalog
holds the truth and the next operation writes whatever a failed copy left out, so a sidecar
failure is logged and the operation stands. Nothing registered runs after a rollback.

Every sidecar write of the services layer is one of the operations below; ingest's hooks
(``wiring``) and the audit run them through ``run_operations`` too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.orm import Session

from access_api.services.base import ServiceContext
from preservation.catalog.models import Agency, ArchiveBody, Fonds
from storage.sidecar import append_events_everywhere, write_agency_snapshot, write_fonds_snapshot
from storage.sidecar_log import mirror_audit_log, write_rejection

log = logging.getLogger(__name__)


class Operation(Protocol):
    """Something to do once the catalog change it follows is committed."""

    def run(self, ctx: ServiceContext) -> None: ...


def _failed(what: str, failed: Iterable[str]) -> None:
    names = sorted(failed)
    if names:
        log.warning("%s not written to %s", what, ", ".join(names))


@dataclass(frozen=True)
class MirrorAuditLog:
    """Copy the audit-log entries not yet in each location next to the AIPs: a catalog rebuilt
    later still shows who did what."""

    def run(self, ctx: ServiceContext) -> None:
        _failed("audit log", mirror_audit_log(ctx.catalog, list(ctx.storages.values()),
                                              ctx.settings.archive_code))


@dataclass(frozen=True)
class MirrorFonds:
    """The fonds (and its agency) snapshot in every location."""

    fond_code: str

    def run(self, ctx: ServiceContext) -> None:
        code = ctx.settings.archive_code
        with ctx.catalog.session() as s:
            fonds = s.scalar(sa.select(Fonds).join(ArchiveBody).where(
                ArchiveBody.code == code, Fonds.fond_code == self.fond_code))
            if fonds is None:
                return
            body, agency = fonds.archive_body, fonds.agency
        for storage in ctx.storages.values():
            try:
                write_fonds_snapshot(storage, code, fonds, agency, body)
                if agency is not None:
                    write_agency_snapshot(storage, code, agency)
            except Exception as exc:  # noqa: BLE001 - the next change of the fonds retries
                log.warning("fonds snapshot not written to %s: %s", storage.name, exc)


@dataclass(frozen=True)
class MirrorAgency:
    """The agency snapshot in every location."""

    organ_id: str

    def run(self, ctx: ServiceContext) -> None:
        with ctx.catalog.session() as s:
            agency = s.scalar(sa.select(Agency).where(Agency.organ_id == self.organ_id))
        if agency is None:
            return
        for storage in ctx.storages.values():
            try:
                write_agency_snapshot(storage, ctx.settings.archive_code, agency)
            except Exception as exc:  # noqa: BLE001 - the next change of the agency retries
                log.warning("agency snapshot not written to %s: %s", storage.name, exc)


@dataclass(frozen=True, eq=False)
class AppendEvents:
    """Committed PREMIS events appended to a package's ``_events`` history in every location."""

    key_prefix: str
    records: Sequence[Mapping[str, Any]]

    def run(self, ctx: ServiceContext) -> None:
        if self.records:
            _failed("event sidecar", append_events_everywhere(
                ctx.storages.values(), self.key_prefix, [dict(r) for r in self.records]))


@dataclass(frozen=True, eq=False)
class WriteRejection:
    """A rejected SIP's record (package, job, report, events) in every location."""

    record: Mapping[str, Any]

    def run(self, ctx: ServiceContext) -> None:
        _failed("rejection record", write_rejection(ctx.storages.values(),
                                                     ctx.settings.archive_code, self.record))


def run_operations(ctx: ServiceContext, operations: Iterable[Operation]) -> list[Operation]:
    """Run each operation, logging (not raising) a failure; returns those that failed."""
    failed = []
    for op in operations:
        try:
            op.run(ctx)
        except Exception:  # noqa: BLE001 - the committed operation it follows stands
            log.exception("post-commit %s failed", type(op).__name__)
            failed.append(op)
    return failed


@dataclass
class UnitOfWork:
    """``with UnitOfWork(ctx) as uow:`` — work in ``uow.session``, ``register`` what follows the
    commit; leaving the block commits (or rolls back on an exception). ``commit`` may also be
    called inside the block by a service that commits in steps (an audit saves per batch)."""

    ctx: ServiceContext
    _operations: list[Operation] = field(default_factory=list)
    _session: Session | None = None
    failed: list[Operation] = field(default_factory=list)

    @property
    def session(self) -> Session:
        """The catalog session, opened on first use (a service may need no catalog write)."""
        if self._session is None:
            self._session = self.ctx.catalog.sessions()
            self._session.begin()
        return self._session

    def register(self, op: Operation) -> None:
        """Run ``op`` after the next commit; an equal operation already registered is not
        added twice (the audit log is mirrored once per commit)."""
        if op not in self._operations:
            self._operations.append(op)

    def commit(self) -> None:
        if self._session is not None:
            self._session.commit()
        operations, self._operations = self._operations, []
        self.failed += run_operations(self.ctx, operations)

    def rollback(self) -> None:
        self._operations = []
        if self._session is not None:
            self._session.rollback()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> UnitOfWork:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if kind is None:
                self.commit()
            else:
                self.rollback()
        finally:
            self.close()

"""New AIP versions: a metadata correction stored as version N+1
(``preservation.packaging.aip.new_version`` builds it; this service gives it the locations, the
archive's signer, and the sidecars that follow)."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import time
from collections.abc import Mapping
from pathlib import Path

import sqlalchemy as sa

from access_api.services import version_reservations
from access_api.services.base import Identity, ServiceContext
from access_api.services.catalog import bitstream_file
from access_api.services.delivery import Source, StoredFile, flag_bad_copy, in_read_order
from access_api.services.uow import AppendEvents, MirrorAuditLog, UnitOfWork
from preservation import signing
from preservation.catalog.models import Bitstream, Package, StoredCopy
from preservation.errors import KhosoError, ValidationFailed
from preservation.events import REPLICATION, Event, Outcome
from preservation.issues import Text
from preservation.packaging.aip.new_version import VersionOutcome, new_metadata_version
from storage.errors import ObjectMissing, StorageError
from storage.protocol import FixityOutcome, FixityResult
from storage.replication import replicate
from storage.sidecar import event_record, iso

log = logging.getLogger(__name__)
_KEY = re.compile(r"^(?P<prefix>.+/v\d+)/(?P<path>data/.+)$")


class _Reader:
    """Bytes of a stored file as the catalog records them: each location in read order is
    tried until one copy has the recorded SHA-256. A correction read from the first location
    that answered, wrong bytes and all, and VER009 refused it although a later location held a
    good copy. Copies found bad on the way are kept in ``bad`` for ``flag`` to record as the
    audit and delivery do (after the version's transaction: a second writer inside it would
    wait on SQLite's lock)."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        self.bad: list[tuple[Source, StoredFile, FixityResult]] = []

    def _sources(self, key: str) -> StoredFile | None:
        found = _KEY.match(key)
        if found is None:
            return None
        with self.ctx.catalog.session() as s:
            b = s.scalars(sa.select(Bitstream).join(
                StoredCopy, StoredCopy.package_id == Bitstream.package_id).where(
                StoredCopy.key == found["prefix"], Bitstream.path == found["path"])
                .limit(1)).first()
            if b is None:
                return None
            objid = s.scalar(sa.select(Package.objid).where(Package.id == b.package_id))
            return bitstream_file(s, b, str(objid), b.path)

    def __call__(self, key: str) -> bytes:
        f = self._sources(key) if self.ctx.storages else None
        if f is None:  # not a registered file: the first location that gives it
            return self._first(key)
        reasons: list[str] = []
        for source in in_read_order(f.sources, self.ctx):
            storage = self.ctx.storages.get(source.location)
            if storage is None:
                continue
            checked_at, began = dt.datetime.now(dt.UTC), time.perf_counter()
            try:
                with storage.open(key) as stream:
                    data = stream.read(f.size + 1)
            except ObjectMissing:
                data = None
            except (StorageError, OSError) as exc:  # unreadable: not known bad, retry may cure
                reasons.append(f"{source.location}: {exc}".splitlines()[0][:120])
                continue
            actual = None if data is None else hashlib.sha256(data).hexdigest()
            if actual == f.sha256 and data is not None and len(data) == f.size:
                return data
            outcome = FixityOutcome.MISSING if data is None else FixityOutcome.MISMATCH
            reasons.append(f"{source.location}: {outcome.value}")
            self.bad.append((source, f, FixityResult(
                key, source.location, outcome, f.sha256, actual,
                0 if data is None else len(data), time.perf_counter() - began, checked_at,
                "read for a metadata correction")))
        raise KhosoError("VER009", key, version="?", reason="; ".join(reasons) or Text(
            "không có vị trí lưu trữ", "no storage location"))

    def _first(self, key: str) -> bytes:
        last: KhosoError | None = None
        for storage in self.ctx.storages.values():
            try:
                with storage.open(key) as f:
                    return f.read()
            except StorageError as exc:
                last = exc
        raise last or KhosoError("VER009", key, version="?",
                                 reason=Text("không có vị trí lưu trữ", "no storage location"))

    def flag(self, identity: Identity) -> None:
        """Each bad copy met, flagged once (its ``last_check_result`` and a failed "fixity
        check" event): ``khoso audit --repair`` then takes it first."""
        seen: set[tuple[int, str]] = set()
        for source, f, found in self.bad:
            if (source.copy_id, source.path) in seen:
                continue
            seen.add((source.copy_id, source.path))
            try:
                flag_bad_copy(self.ctx, identity, source, f, found)
            except Exception:  # noqa: BLE001 - the audit finds it still; never hide the outcome
                log.exception("could not flag the bad copy %s in %s", found.key, found.location)
        self.bad.clear()


def _reader(ctx: ServiceContext) -> _Reader:
    return _Reader(ctx)


def update_metadata(ctx: ServiceContext, identity: Identity, objid: str, *,
                    package_ead: bytes | None, document_eads: Mapping[str, bytes],
                    reason: str) -> VersionOutcome:
    """Version N+1 of ``objid`` holding only the corrected EAD(s), written to every location;
    content files are never rewritten and older versions stay readable. Refused input raises
    ``ValidationFailed`` (VER010) with every problem. A version of ``objid`` a dead process
    reserved is taken back first (``version_reservations``); a live one refuses (VER008).
    Once registered, its replication events go to the ``_events`` history in every location
    and the audit log is mirrored."""
    # a version a killed process reserved would refuse this change forever (VER008)
    version_reservations.take_back_dead(ctx, identity.actor, objid)
    read = _reader(ctx)
    try:
        return _update(ctx, identity, objid, read, package_ead=package_ead,
                       document_eads=document_eads, reason=reason)
    finally:
        read.flag(identity)  # accepted or refused, a bad copy met is flagged for repair


def _update(ctx: ServiceContext, identity: Identity, objid: str, read: _Reader, *,
            package_ead: bytes | None, document_eads: Mapping[str, bytes],
            reason: str) -> VersionOutcome:
    storages = list(ctx.storages.values())
    s = ctx.settings
    with UnitOfWork(ctx) as uow:
        outcome = new_metadata_version(
            s, ctx.catalog, objid=objid, package_ead=package_ead, document_eads=document_eads,
            reason=reason, actor=identity.actor,
            replicate=lambda objects, progress=None: replicate(objects, storages,
                                                               progress=progress),
            signer=signing.load_signer(Path(s.keys_dir)), read=read)
        if not outcome.accepted:
            raise ValidationFailed(outcome.report, "VER010")
        assert outcome.key_prefix is not None and outcome.package_id is not None
        # the registration time travels with the events, for a rebuilt catalog to keep it
        created = uow.session.get(Package, outcome.package_id)
        created_at = iso(created.created_at) if created is not None else None
        records = [{**event_record(Event(REPLICATION, Outcome.SUCCESS,
                                         f"key={outcome.key_prefix}", object_identifier=objid),
                                   objid=objid, link_copy=False,
                                   copy={"location": st.name, "key": outcome.key_prefix}),
                    "package_created_at": created_at}
                   for st in storages]
        uow.register(AppendEvents(outcome.key_prefix, records))
        uow.register(MirrorAuditLog())
    return outcome

"""New AIP versions: a metadata correction stored as version N+1
(``preservation.packaging.aip.new_version`` builds it; this service gives it the locations, the
archive's signer, and the sidecars that follow)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from access_api.services import version_reservations
from access_api.services.base import Identity, ServiceContext
from access_api.services.uow import AppendEvents, MirrorAuditLog, UnitOfWork
from preservation import signing
from preservation.catalog.models import Package
from preservation.errors import KhosoError, ValidationFailed
from preservation.events import REPLICATION, Event, Outcome
from preservation.issues import Text
from preservation.packaging.aip.new_version import VersionOutcome, new_metadata_version
from storage.errors import StorageError
from storage.replication import replicate
from storage.sidecar import event_record, iso


def _reader(ctx: ServiceContext) -> Callable[[str], bytes]:
    storages = list(ctx.storages.values())

    def read(key: str) -> bytes:
        """An object's bytes from the first location that can give them."""
        last: KhosoError | None = None
        for storage in storages:
            try:
                with storage.open(key) as f:
                    return f.read()
            except StorageError as exc:
                last = exc
        raise last or KhosoError("VER009", key, version="?",
                                 reason=Text("không có vị trí lưu trữ", "no storage location"))

    return read


def update_metadata(ctx: ServiceContext, identity: Identity, objid: str, *,
                    package_ead: bytes | None, document_eads: Mapping[str, bytes],
                    reason: str) -> VersionOutcome:
    """Version N+1 of ``objid`` holding only the corrected EAD(s), written to every location;
    content files are never rewritten and older versions stay readable. Refused input raises
    ``ValidationFailed`` (VER010) with every problem. A version of ``objid`` a dead process
    reserved is taken back first (``version_reservations``); a live one refuses (VER008).
    Once registered, its replication events go to the ``_events`` history in every location
    and the audit log is mirrored."""
    storages = list(ctx.storages.values())
    s = ctx.settings
    # a version a killed process reserved would refuse this change forever (VER008)
    version_reservations.take_back_dead(ctx, identity.actor, objid)
    with UnitOfWork(ctx) as uow:
        outcome = new_metadata_version(
            s, ctx.catalog, objid=objid, package_ead=package_ead, document_eads=document_eads,
            reason=reason, actor=identity.actor,
            replicate=lambda objects, progress=None: replicate(objects, storages,
                                                               progress=progress),
            signer=signing.load_signer(Path(s.keys_dir)), read=_reader(ctx))
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

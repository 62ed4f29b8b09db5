"""A PREMIS ``transfer`` event on the AIP for each attempt to send a hồ sơ to the receiving
archive (``access_api.services.transfers``): sent with the receiver's job, accepted by its
ingest (the receipt checked), refused, or unknown (TRF032). The AIP's timeline
(``GET /api/v1/aips/{objid}/events``) then tells the whole story of a nộp lưu, not only its
completion, and the events go to the package's ``_events`` history in every location after
the commit, so a catalog rebuilt from storage has them back. ``outcome_data["attempt"]`` tells
them from the completion's event, which alone marks a hồ sơ transferred on a rebuild."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from access_api.services.base import Identity
from access_api.services.uow import AppendEvents, UnitOfWork
from preservation.catalog.events import persist_events
from preservation.catalog.models import Package, StoredCopy, Transfer, TransferItem
from preservation.catalog.vocab import PackageKind, PackageStatus, TransferAttempt
from preservation.events import TRANSFER, Agent, Event, Outcome, khoso_agent
from storage.sidecar import event_record

_DETAIL = {
    TransferAttempt.SENT: "Gửi hồ sơ {record} tới {receiver} ({url}): kho nhận đã nhận gói, "
                          "mã việc {job}",
    TransferAttempt.ACCEPTED: "Kho nhận {receiver} tiếp nhận hồ sơ {record} (mã việc {job})",
    TransferAttempt.REFUSED: "Kho nhận {receiver} từ chối hồ sơ {record} (mã việc {job})",
    TransferAttempt.UNKNOWN: "Gửi hồ sơ {record} tới {receiver} ({url}): không nhận được trả "
                             "lời sau khi gói đã đi, chưa rõ kết quả",
}


def record_attempt(uow: UnitOfWork, identity: Identity, item_id: int,
                   attempt: TransferAttempt, *, outcome: Outcome, url: str | None,
                   job: str | None = None, code: str | None = None, note: str = "") -> None:
    """The attempt's event on the hồ sơ's current AIP, in ``uow``'s transaction; its copy to
    storage after the commit. A hồ sơ without a stored AIP gets none (it could not be sent)."""
    s = uow.session
    item = s.get_one(TransferItem, item_id)
    t = s.get_one(Transfer, item.transfer_id)
    aip = s.scalar(sa.select(Package).where(
        Package.record_file_id == item.record_file_id, Package.kind == PackageKind.AIP,
        Package.status == PackageStatus.ACTIVE).order_by(Package.version.desc()).limit(1))
    if aip is None:
        return
    facts: dict[str, Any] = {"transfer": t.id, "attempt": attempt.value,
                             "receiver": t.receiver, "remote_url": url,
                             "remote_job": job, "sip_objid": item.objid, "code": code}
    detail = _DETAIL[attempt].format(record=item.arc_file_code, receiver=t.receiver,
                                     url=url or "-", job=job or "-")
    event = Event(TRANSFER, outcome, f"{detail} (lần nộp lưu {t.id})",
                  outcome_detail=f"{attempt.value}" + (f" [{code}]" if code else "")
                  + (f": {note}" if note else ""),
                  object_identifier=aip.objid,
                  agents=((khoso_agent(), "executing program"),
                          (Agent(identity.actor, identity.actor, agent_type="person"),
                           "implementer")),
                  outcome_data={k: v for k, v in facts.items() if v is not None})
    persist_events(s, [event], package_id=aip.id)
    prefix = s.scalar(sa.select(StoredCopy.key).where(StoredCopy.package_id == aip.id)
                      .order_by(StoredCopy.id).limit(1))
    if prefix:
        uow.register(AppendEvents(prefix, [event_record(event, objid=aip.objid)]))

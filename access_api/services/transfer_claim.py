"""One send or refresh of a transfer at a time: a claim on the transfer row, taken by a
compare-and-set, renewed after each hồ sơ and released at the end.

Two ``khoso transfer send`` (or API sends) of one transfer would each read the same hồ sơ as
not yet sent and post them all to the receiver twice; the second now gets TRF030 (409) and
posts nothing. The claim names its holder (``host:pid:nonce``): a holder on this host whose
process is gone, or one silent for ``LEASE``, is taken over, so a send killed mid-way can be
resumed. The compare-and-set is one ``UPDATE … WHERE send_claim IS NULL`` (or the dead
holder's value): SQLite serialises it (sessions begin IMMEDIATE), PostgreSQL re-checks the
``WHERE`` once the first writer commits, so exactly one of two racers gets a row.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid

import sqlalchemy as sa

from access_api.services.base import ServiceContext
from preservation.catalog.models import Transfer, utcnow
from preservation.errors import Conflict

LEASE = dt.timedelta(minutes=120)  # renewed after each hồ sơ; one hồ sơ's export and post fit


def _host() -> str:
    return socket.gethostname()[:60]


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value is not None and value.tzinfo is None else value


def _alive(claim: str, at: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether the holder may still be working: on this host, its process must exist (a
    killed send is taken over at once); elsewhere, it must have renewed within ``LEASE``."""
    host, _, rest = claim.partition(":")
    pid = rest.partition(":")[0]
    if host == _host() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:  # another user's process: it exists
            pass
    at = _utc(at)
    return at is not None and now - at < LEASE


def _busy(transfer_id: str, since: dt.datetime | None) -> Conflict:
    at = _utc(since)
    return Conflict("TRF030", id=transfer_id, since=at.isoformat(timespec="seconds") if at else "?",
                    lease=int(LEASE.total_seconds() // 60))


def take(ctx: ServiceContext, transfer_id: str) -> str:
    """The claim's value, once taken; TRF030 while another live run holds it."""
    mine = f"{_host()}:{os.getpid()}:{uuid.uuid4().hex[:16]}"
    now = utcnow()
    with ctx.catalog.session() as s:
        held, held_at = s.execute(sa.select(Transfer.send_claim, Transfer.send_claimed_at)
                                  .where(Transfer.id == transfer_id)).one()
        if held is not None and _alive(held, held_at, now):
            raise _busy(transfer_id, held_at)
        before = Transfer.send_claim.is_(None) if held is None else Transfer.send_claim == held
        done = s.execute(sa.update(Transfer).where(Transfer.id == transfer_id, before)
                         .values(send_claim=mine, send_claimed_at=now)
                         .execution_options(synchronize_session=False))
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise _busy(transfer_id, now)
    return mine


def renew(ctx: ServiceContext, transfer_id: str, mine: str) -> None:
    """Still ours (renewed now), or TRF030: a run that outlived its lease was taken over and
    must stop before it posts anything more."""
    with ctx.catalog.session() as s:
        done = s.execute(sa.update(Transfer).where(Transfer.id == transfer_id,
                                                   Transfer.send_claim == mine)
                         .values(send_claimed_at=utcnow())
                         .execution_options(synchronize_session=False))
        if done.rowcount != 1:  # type: ignore[attr-defined]
            since = s.scalar(sa.select(Transfer.send_claimed_at).where(Transfer.id == transfer_id))
            raise _busy(transfer_id, since)


def release(ctx: ServiceContext, transfer_id: str, mine: str) -> None:
    with ctx.catalog.session() as s:
        s.execute(sa.update(Transfer).where(Transfer.id == transfer_id,
                                            Transfer.send_claim == mine)
                  .values(send_claim=None, send_claimed_at=None)
                  .execution_options(synchronize_session=False))

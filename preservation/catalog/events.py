"""Persist PREMIS events and their agents: one bulk insert each, shared by ingest and audit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from preservation.catalog.models import PremisAgent, PremisEvent, event_agent
from preservation.events import Agent, Event


class EventRow(NamedTuple):
    event: Event
    package_id: int | None
    stored_copy_id: int | None = None
    bitstream_id: int | None = None


def agent_id(session: Session, agent: Agent) -> int:
    """The agent's row, created if needed; safe when another transaction creates it too."""
    where = (PremisAgent.identifier_type == agent.identifier_type,
             PremisAgent.identifier_value == agent.identifier_value)
    found = session.scalar(sa.select(PremisAgent.id).where(*where))
    if found is not None:
        return found
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(PremisAgent).values(
        identifier_type=agent.identifier_type, identifier_value=agent.identifier_value,
        name=agent.name, agent_type=agent.agent_type, note=agent.note).on_conflict_do_nothing())
    return session.scalars(sa.select(PremisAgent.id).where(*where)).one()


CHUNK = 5000  # rows per INSERT: a 100,000-file package is never built as one list of rows


def insert_events(session: Session, rows: Sequence[EventRow],
                  agent_ids: dict[tuple[str, str], int] | None = None) -> None:
    """Insert events with their agent links; ``agent_ids`` caches rows already looked up."""
    if not rows:
        return
    agent_ids = agent_ids if agent_ids is not None else {}
    for row in rows:
        for a, _ in row.event.agents:
            key = (a.identifier_type, a.identifier_value)
            if key not in agent_ids:
                agent_ids[key] = agent_id(session, a)
    table = cast(sa.Table, PremisEvent.__table__)
    ids = list(session.execute(
        sa.insert(table).returning(table.c.id, sort_by_parameter_order=True),
        [{"event_uuid": r.event.event_uuid, "event_type": r.event.event_type,
          "event_datetime": r.event.when, "detail": r.event.detail,
          "outcome": r.event.outcome.value, "outcome_detail": r.event.outcome_detail,
          "outcome_data": None if r.event.outcome_data is None else dict(r.event.outcome_data),
          "package_id": r.package_id, "stored_copy_id": r.stored_copy_id,
          "bitstream_id": r.bitstream_id, "object_identifier": r.event.object_identifier}
         for r in rows]).scalars())
    links = {(i, agent_ids[(a.identifier_type, a.identifier_value)], role)
             for i, r in zip(ids, rows, strict=True) for a, role in r.event.agents}
    if links:
        session.execute(sa.insert(event_agent),
                        [{"event_id": e, "agent_id": a, "role": r} for e, a, r in sorted(links)])


def persist_events(session: Session, events: Iterable[Event], *, package_id: int | None,
                   stored_copy_id: int | None = None,
                   bitstreams: Mapping[str, int] | None = None, bitstream_prefix: str = "",
                   agent_ids: dict[tuple[str, str], int] | None = None) -> None:
    """Events of one package, inserted ``CHUNK`` at a time (``events`` may be a spool read once).

    ``bitstreams`` links events to files: ``bitstream_prefix + object_identifier`` is its key.
    """
    bitstreams = bitstreams or {}
    agent_ids = agent_ids if agent_ids is not None else {}
    rows: list[EventRow] = []
    for e in events:
        oid = e.object_identifier
        rows.append(EventRow(e, package_id, stored_copy_id,
                             bitstreams.get(bitstream_prefix + oid) if oid else None))
        if len(rows) >= CHUNK:
            insert_events(session, rows, agent_ids)
            rows = []
    insert_events(session, rows, agent_ids)

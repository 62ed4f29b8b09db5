"""The spool behind ctx.events and the documents of a SIP/AIP: a list that lives on disk."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ingest.spool import EventSpool, Spool
from preservation.events import VIRUS_CHECK, Agent, Event, Outcome


def _events(n: int) -> list[Event]:
    clamd = Agent("ClamAV-1.4", "ClamAV 1.4", note="virusDefinitions=27000")
    other = Agent("khoso-1", "khoso 1", identifier_type="URN", agent_type="organization")
    outcomes = list(Outcome)
    return [Event(VIRUS_CHECK, outcomes[i % len(outcomes)], f"detail {i % 3}",
                  outcome_detail="" if i % 2 else "clean",
                  object_identifier=None if i % 5 == 0 else f"representations/rep1/data/{i}.pdf",
                  agents=((clamd, "executing program"),) if i % 4 else
                  ((clamd, "executing program"), (other, "validator")),
                  when=dt.datetime(2025, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=i))
            for i in range(n)]


def test_events_round_trip_exactly_across_chunks(tmp_path: Path) -> None:
    events = _events(23)
    spool = EventSpool(chunk=5, directory=tmp_path)
    spool.extend(events[:10])
    spool.append(events[10])
    spool.extend(events[11:])
    assert len(spool) == 23 and bool(spool)
    assert list(spool) == events  # every field, chunks spilled and the part still buffered
    assert list(spool) == events  # iterable again
    back = list(spool)
    assert all(type(e.outcome) is Outcome and e.when.tzinfo is dt.UTC for e in back)
    assert [e.agents for e in back] == [e.agents for e in events]


def test_spilled_chunks_leave_no_file_behind(tmp_path: Path) -> None:
    spool = EventSpool(_events(50), chunk=4, directory=tmp_path)
    assert repr(spool) == "EventSpool(50 items, 12 chunks spilled)"
    assert list(tmp_path.iterdir()) == []  # an anonymous temporary file
    spool.close()
    assert len(spool) == 0 and list(spool) == []


def test_iteration_sees_the_items_present_when_it_started() -> None:
    spool: Spool[int] = Spool(range(7), chunk=3)
    seen = []
    for item in spool:
        seen.append(item)
        if item == 0:
            spool.append(100)
    assert seen == list(range(7))
    assert list(spool) == [*range(7), 100]


def test_a_spool_of_plain_objects_keeps_order_and_values() -> None:
    items = [{"path": f"data/{i}", "values": (i, str(i))} for i in range(1001)]
    spool = Spool(items, chunk=100)
    assert list(spool) == items
    assert len(spool) == 1001
    assert not Spool()

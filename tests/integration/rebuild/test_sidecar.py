"""The catalog sidecar format on the in-memory backend (no services needed)."""

from __future__ import annotations

import datetime as dt
import io

from preservation.events import FIXITY_CHECK, REPLICATION, Agent, Event, Outcome
from storage import sidecar
from storage.memory import MemoryStorage
from storage.rebuild import sort_keys

PREFIX = "TTLTNA/P623/TTLTNA.H49.2001.1/v2"
AGENT = Agent("khoso-0.1.0", "khoso 0.1.0", note="archival storage")


def event(kind: str = FIXITY_CHECK, minute: int = 0) -> Event:
    return Event(kind, Outcome.SUCCESS, "re-read", object_identifier="urn:x",
                 agents=((AGENT, "executing program"),),
                 when=dt.datetime(2026, 1, 1, 0, minute, 0, 123456, tzinfo=dt.UTC))


def test_batches_are_new_objects_in_sequence_and_read_back_in_time_order():
    storage = MemoryStorage()
    late, early = event(minute=5), event(REPLICATION, minute=1)
    first = sidecar.append_events(storage, PREFIX, [sidecar.event_record(late, objid="urn:x")])
    second = sidecar.append_events(storage, PREFIX, [
        sidecar.event_record(early, objid="urn:x", copy={"location": "r1", "key": PREFIX}),
        sidecar.event_record(late, objid="urn:x")])  # a retried call: same event again
    assert sidecar.append_events(storage, PREFIX, []) is None
    assert first.startswith("TTLTNA/P623/TTLTNA.H49.2001.1/_events/000001-")
    assert second.startswith("TTLTNA/P623/TTLTNA.H49.2001.1/_events/000002-")

    events = sidecar.read_events(storage, "TTLTNA/P623/TTLTNA.H49.2001.1/v1")
    assert [e["event_uuid"] for e in events] == [early.event_uuid, late.event_uuid]
    assert events[0]["version"] == 2 and events[0]["copy"] == {"location": "r1", "key": PREFIX}
    assert events[0]["link_copy"] is True and events[1]["copy"] is None
    assert sidecar.parse_when(events[1]["event_datetime"]) == late.when  # microseconds kept
    assert events[1]["agents"] == [{"identifier_type": "local", "identifier_value": "khoso-0.1.0",
                                    "name": "khoso 0.1.0", "agent_type": "software",
                                    "note": "archival storage", "role": "executing program"}]


def test_bad_lines_are_skipped_and_named():
    storage = MemoryStorage()
    good = sidecar.event_record(event(), objid="urn:x")
    key = sidecar.append_events(storage, PREFIX, [good])
    text = storage.open(key).read() + b'{"event_uuid": "x"}\nnot json\n'
    storage.put(key, io.BytesIO(text), replace=True)  # damaged behind the archive's back
    events, bad = sidecar.read_batch(storage, key)
    assert [e["event_uuid"] for e in events] == [good["event_uuid"]]
    assert [b.split(":")[0] for b in bad] == ["line 2", "line 3"]


def test_snapshots_are_rewritten_only_when_changed():
    storage = MemoryStorage()
    fonds = {"fond_code": "P623", "fond_name": "Phông UBND", "status": "mo", "languages": ["01"]}
    agency = {"organ_id": "H49.64.33", "name": "UBND huyện Nghi Lộc"}
    body = {"code": "TTLTNA", "name": "Trung tâm Lưu trữ tỉnh", "kind": "lich_su"}
    assert sidecar.write_fonds_snapshot(storage, "TTLTNA", fonds, agency, body)
    assert not sidecar.write_fonds_snapshot(storage, "TTLTNA", fonds, agency, body)
    assert sidecar.write_fonds_snapshot(storage, "TTLTNA", {**fonds, "status": "dong"}, agency,
                                        body)
    assert sidecar.write_agency_snapshot(storage, "TTLTNA", agency)
    snap = sidecar.read_fonds_snapshot(storage, "TTLTNA", "P623")
    assert snap["fonds"]["status"] == "dong" and snap["agency"]["name"] == agency["name"]
    assert snap["archive_body"] == body and snap["format"] == sidecar.FONDS_FORMAT
    assert sidecar.read_fonds_snapshot(storage, "TTLTNA", "P999") is None


def test_keys_sort_into_aips_and_sidecars():
    listing = sort_keys([
        "A/_agencies/H49.json", "A/P1/_fonds.json", "A/P1/C1/_events/000001-0000beef.jsonl",
        "A/P1/C1/v1/bagit.txt", "A/P1/C1/v1/data/x/v2/y.pdf", "A/P1/C1/v2/bagit.txt",
        "A/P1/C1/_events/notes.txt", "A/readme.txt"])
    assert listing.agencies == {"H49": "A/_agencies/H49.json"}
    assert listing.fonds == {"P1": "A/P1/_fonds.json"}
    assert dict(listing.batches) == {"A/P1/C1": ["A/P1/C1/_events/000001-0000beef.jsonl"]}
    assert dict(listing.aips) == {"A/P1/C1/v1": {"bagit.txt", "data/x/v2/y.pdf"},
                                  "A/P1/C1/v2": {"bagit.txt"}}
    assert listing.stray == ["A/P1/C1/_events/notes.txt", "A/readme.txt"]


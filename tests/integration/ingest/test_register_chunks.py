"""Registration inserts a big package a chunk at a time, still in one transaction."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import ingest.register
import ingest.spool
import preservation.catalog.events as catalog_events
from preservation.catalog.models import (
    Bitstream,
    Document,
    Job,
    Package,
    PremisEvent,
    RecordFile,
    event_agent,
)
from tests.support.sips import make_sip


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks far smaller than the package: every row list and the event spool spill."""
    monkeypatch.setattr(ingest.register, "CHUNK", 2)
    monkeypatch.setattr(catalog_events, "CHUNK", 3)
    monkeypatch.setattr(ingest.spool, "CHUNK", 4)


def test_a_package_of_many_chunks_is_registered_whole(khoso, small_chunks):
    bag = make_sip(khoso.tmp / "sip", count=5)
    payload = sum(1 for p in (bag / "data").rglob("*") if p.is_file())
    outcome = khoso.ingest(bag)
    assert outcome.accepted, outcome.report.to_dict()
    with khoso.catalog.session() as s:
        pkg = s.scalar(sa.select(Package).where(Package.objid == outcome.objid))
        docs = s.scalars(sa.select(Document).where(Document.package_id == pkg.id)).all()
        codes = sorted((d.doc_code or d.arc_doc_code)[-7:] for d in docs)  # doc / pic
        assert codes == [f"{i:07d}" for i in range(1, 6)]
        bits = s.scalars(sa.select(Bitstream).where(Bitstream.package_id == pkg.id)).all()
        assert len(bits) == pkg.file_count > 2 * 5
        content = [b for b in bits if b.path.startswith("data/representations/rep1/data/")]
        # each data file is linked to its own document, across document chunks
        assert len(content) == 5 and {b.document_id for b in content} == {d.id for d in docs}
        events = s.scalars(sa.select(PremisEvent).where(PremisEvent.package_id == pkg.id)).all()
        scans = [e for e in events if e.event_type == "virus check"]
        assert len(scans) == payload  # one per SIP file, read back from the spool
        by_id = {b.id: b.path for b in bits}
        # a virus-checked SIP file that is in the AIP as is (content) is linked to its bitstream
        for e in scans:
            if e.object_identifier.startswith("representations/rep1/data/"):
                assert by_id[e.bitstream_id] == "data/" + e.object_identifier
        assert len({e.event_uuid for e in events}) == len(events)
        linked = set(s.scalars(sa.select(event_agent.c.event_id).where(
            event_agent.c.event_id.in_([e.id for e in scans]))))
        assert linked == {e.id for e in scans}  # every chunk's agent links


def test_a_failure_between_chunks_leaves_nothing_registered(khoso, small_chunks, monkeypatch):
    calls = []
    real = catalog_events.insert_events

    def failing(session, rows, agent_ids=None):
        calls.append(len(rows))
        if len(calls) == 3:  # two event chunks already inserted in this transaction
            raise RuntimeError("database went away")
        return real(session, rows, agent_ids)

    monkeypatch.setattr(catalog_events, "insert_events", failing)
    bag = make_sip(khoso.tmp / "sip", count=5)
    with pytest.raises(RuntimeError, match="database went away"):
        khoso.ingest(bag)
    assert len(calls) == 3
    with khoso.catalog.session() as s:
        for model in (Package, RecordFile, Document, Bitstream, PremisEvent):
            assert s.scalar(sa.select(sa.func.count()).select_from(model)) == 0, model
        job = s.scalars(sa.select(Job)).one()
        assert job.status == "failed" and "database went away" in job.error

"""The Object Lock decision is read from the SIP the way the AIP's records will carry it: the
content files are replicated before those records exist and must get the same lock."""

from __future__ import annotations

from types import SimpleNamespace

from ingest.steps.store_aip import permanent
from preservation.metadata.ead import EadRecord


def loose(*docs: tuple[str, str]) -> SimpleNamespace:
    return SimpleNamespace(content="tailieu", ead=None, documents=[
        SimpleNamespace(ead_record=EadRecord("SIP", kind, {"maintenance": code}))
        for kind, code in docs])


def test_a_hoso_is_permanent_when_its_retention_is_01():
    assert permanent(SimpleNamespace(content="hoso", ead=EadRecord("SIP", "hoso", {
        "maintenance": "01"}), documents=[]))
    assert not permanent(SimpleNamespace(content="hoso", ead=EadRecord("SIP", "hoso", {
        "maintenance": "02"}), documents=[]))


def test_loose_documents_follow_the_aip_tables():
    assert permanent(loose(("media", "01"), ("pic", "01")))
    assert not permanent(loose(("media", "01"), ("pic", "02")))
    # the AIP's table for a text document has no retention: its record carries none, so it
    # counts as permanent, as it did when the lock was read from the built AIP
    assert permanent(loose(("doc", "02")))

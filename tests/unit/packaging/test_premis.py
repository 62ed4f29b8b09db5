"""PREMIS 3 writer: schema-valid output whatever the call order, and refusals for bad input."""

from __future__ import annotations

import io

import pytest

from preservation.packaging.premis import PremisWriter, Signature
from preservation.packaging.validate import validate_premis
from tests.support.mets import WHEN


def _full(w: PremisWriter) -> None:
    # events and agents before objects on purpose: the writer reorders them.
    w.event("6F1B3C3E-8E5B-4C39-9B5D-111111111111", "information package creation", WHEN,
            detail="SIP → AIP_hoso", outcome="success", outcome_detail="00",
            agents=[("local", "khoso-0.1.0", "executing program")],
            objects=[("SIP", "uuid-A", "source"), ("AIP", "urn:P623:uuid-B", "outcome")])
    w.agent("local", "khoso-0.1.0", "khoso", "software", note="Kho lưu trữ số", version="0.1.0")
    w.object("AIP", "urn:P623:uuid-B", category="intellectualEntity", original_name="Hồ sơ")
    w.object("AIP", "rep1", category="representation", storage_location="s3://aip/rep1")
    w.object("File", "representations/rep1/data/a.pdf", size=1234, sha256="AB" * 32,
             puid="fmt/354", format_name="application/pdf", format_version="1b",
             original_name="a.pdf", signatures=[Signature("RSA-SHA256", "MIIB…", "PAdES-B",
                                                          signer="CN=Sở Nội vụ")],
             storage_location="aip/rep1/data/a.pdf", storage_medium="Hard disk",
             xml_id="obj-1", linking_events=[("UUID", "6F1B3C3E-8E5B-4C39-9B5D-111111111111")])
    w.event("6F1B3C3E-8E5B-4C39-9B5D-222222222222", "virus check", WHEN, outcome="success")


def test_full_premis_validates_and_orders_objects_first() -> None:
    out = io.BytesIO()
    with PremisWriter(out) as w:
        _full(w)
    data = out.getvalue()
    assert validate_premis(data).issues == []
    assert data.index(b"<object") < data.index(b"<event") < data.index(b"<agent")
    assert b'xsi:type="file"' in data and b"objectCategory" not in data
    assert b"<messageDigest>" + b"ab" * 32 + b"</messageDigest>" in data


def test_many_events_spill_to_disk_and_still_validate() -> None:
    out = io.BytesIO()
    with PremisWriter(out) as w:
        for i in range(5000):
            w.event(f"E-{i}", "fixity check", WHEN, detail="x" * 200, outcome="success")
        w.object("File", "a", size=1, sha256="00" * 32, format_name="text/plain")
    assert validate_premis(out.getvalue()).issues == []
    assert out.getvalue().count(b"<event>") == 5000


@pytest.mark.parametrize("call", [
    lambda w: w.event("e", "virus scan", WHEN),
    lambda w: w.object("File", "a", size=1),
    lambda w: w.object("AIP", "a", category="representation", size=1),
    lambda w: w.object("AIP", "a", category="intellectualEntity", storage_medium="Hard disk"),
    lambda w: w.object("AIP", "a", category="bitstream", format_name="x"),
])
def test_bad_calls_are_refused(call) -> None:
    with pytest.raises(ValueError), PremisWriter(io.BytesIO()) as w:
        call(w)


def test_premis_without_object_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one object"), PremisWriter(io.BytesIO()) as w:
        w.agent("local", "k", "khoso", "software")


def test_use_outside_with_block_is_refused() -> None:
    with pytest.raises(RuntimeError):
        PremisWriter(io.BytesIO()).event("e", "validation", WHEN)


def test_invalid_premis_gives_prem001() -> None:
    bad = b'<premis xmlns="http://www.loc.gov/premis/v3" version="3.0"><agent/></premis>'
    assert validate_premis(bad).codes() == {"PREM001"}


def test_markup_in_values_round_trips_through_a_parser() -> None:
    from lxml import etree

    tricky = 'a & b < c > d "q" \'s\'\r\n\tồ 𝔘 ]]>'
    out = io.BytesIO()
    with PremisWriter(out) as w:
        w.object("File", tricky, size=1, sha256="00" * 32, puid="fmt/1", xml_id="id-1",
                 original_name=tricky)
        w.event("e-1", "validation", WHEN, detail=tricky, outcome="failure",
                outcome_detail=tricky, objects=[("File", tricky, "source")])
        w.agent("local", "k", tricky, "software", note=tricky)
    assert validate_premis(out.getvalue()).issues == []
    texts = etree.fromstring(out.getvalue()).xpath(
        "//p:originalName/text()|//p:eventDetail/text()|//p:eventOutcomeDetailNote/text()"
        "|//p:agentName/text()|//p:agentNote/text()|//p:linkingObjectIdentifierValue/text()",
        namespaces={"p": "http://www.loc.gov/premis/v3"})
    assert texts == [tricky] * 6


@pytest.mark.parametrize("bad", ["nul\x00", "bell\x07", "lone \ud800 surrogate", "\uffff"])
def test_characters_xml_cannot_carry_are_refused_at_the_call(bad) -> None:
    with PremisWriter(io.BytesIO()) as w:
        with pytest.raises(ValueError, match="XML compatible"):
            w.event("e", "validation", WHEN, detail=bad)
        with pytest.raises(ValueError, match="XML compatible"):
            w.object("File", bad, size=1, sha256="00" * 32, puid="fmt/1")
        w.object("File", "ok", size=1, sha256="00" * 32, puid="fmt/1")

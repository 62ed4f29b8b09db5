"""End to end: a long-term PAdES (B-LTA) PDF is ingested and its PREMIS says what was checked;
a document timestamp over changed content is refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import serialization as ser
from lxml import etree

from preservation.catalog.models import Package, PremisEvent
from preservation.packaging.validate import validate_premis
from tests.support import pki
from tests.support.hostile import assert_rejected, assert_still_ingests, files_in
from tests.support.khoso import Khoso
from tests.support.sips import make_sip

PREMIS = "{http://www.loc.gov/premis/v3}"


@pytest.fixture(scope="module")
def lta_pki():
    root, root_key = pki.make_root("Khoso LTA Ingest Root")
    signer, signer_key = pki.make_signer("Nguyễn Văn An", root, root_key)
    tsa_cert, tsa_key = pki.make_tsa("Khoso Test TSA", root, root_key)
    return dict(root=root, signer=(signer, signer_key),
                tsa=pki.timestamper(tsa_cert, tsa_key, root))


@pytest.fixture
def trusted(khoso, lta_pki) -> None:
    folder = Path(khoso.settings.trust_dir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lta-root.pem").write_bytes(lta_pki["root"].public_bytes(ser.Encoding.PEM))


def lta_pdf(lta_pki) -> bytes:
    lt = pki.sign_pdf_lt(pki.minimal_pdf("Hello khoso"), *lta_pki["signer"], lta_pki["root"],
                         lta_pki["tsa"])
    return pki.add_document_timestamp(lt, lta_pki["tsa"], lta_pki["root"])


def sip_with_pdf(khoso: Khoso, pdf: bytes) -> Path:
    return make_sip(khoso.tmp / "lta", contents={"tai-lieu-1.pdf": pdf})


def signature_events(aip: Path) -> list[str]:
    """eventOutcomeDetailNote of every 'digital signature validation' event in the AIP's PREMIS."""
    notes = []
    for premis in aip.rglob("PREMIS*.xml"):
        assert validate_premis(premis.read_bytes()).ok, premis
        for event in etree.parse(str(premis)).iter(f"{PREMIS}event"):
            if event.findtext(f"{PREMIS}eventType") == "digital signature validation":
                notes.append(event.findtext(f".//{PREMIS}eventOutcomeDetailNote"))
    return notes


def test_an_lta_pdf_is_ingested_and_premis_records_the_timestamp(khoso, trusted, lta_pki):
    outcome = khoso.ingest(sip_with_pdf(khoso, lta_pdf(lta_pki)))
    assert outcome.accepted, outcome.report.to_dict()
    assert not {c for c in outcome.report.codes() if c.startswith("SIG")}
    (aip,) = {p.parent.parent for p in khoso.replica("replica1").rglob("METS.xml")
              if p.parent.name == "data"}
    (note,) = signature_events(aip)
    assert "Signature1: signature by Nguyễn Văn An, Sở Nội vụ (revision 1): intact, valid, trusted" \
        in note
    assert "; signature timestamp " in note and ": document timestamp " in note
    assert "by Khoso Test TSA, Khoso Test TSA: token intact, valid, trusted" in note
    assert "DSS: present (" in note and "not evaluated, no revocation checking offline" in note
    assert "NOT " not in note and "issues:" not in note
    with khoso.catalog.session() as s:
        pkg = s.scalar(sa.select(Package).where(Package.kind == "AIP"))
        (event,) = s.scalars(sa.select(PremisEvent).where(
            PremisEvent.package_id == pkg.id,
            PremisEvent.event_type == "digital signature validation"))
        assert event.outcome == "success" and event.outcome_detail == note
        assert "document timestamps=1" in event.detail


def test_content_changed_under_the_timestamps_is_refused(khoso, trusted, lta_pki):
    pdf = lta_pdf(lta_pki)
    i = pdf.index(b"Hello khoso")
    outcome = khoso.ingest(sip_with_pdf(khoso, pdf[:i] + b"J" + pdf[i + 1:]))
    assert_rejected(khoso, outcome, {"SIG003", "SIG098"}, "verify_signatures")
    assert_still_ingests(khoso)
    assert files_in(khoso.replica("replica2")) != []  # the control SIP, not the refused one

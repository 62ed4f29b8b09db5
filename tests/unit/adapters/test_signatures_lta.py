"""Long-term PAdES (B-T, B-LT, B-LTA): document timestamps are validated as timestamps, signature
timestamp tokens and the DSS are recorded, DSS-only updates after the newest signature pass."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from cryptography import x509

from ingest.adapters.signatures import (
    DetachedCmsVerifier,
    LtvMaterial,
    PdfSignatureVerifier,
    SignatureKind,
    SignatureVerification,
)
from ingest.steps.verify_signatures import describe
from preservation.issues import Severity
from tests.support import pki

DATA = Path(__file__).parents[2] / "data" / "pades"
# pyHanko's TSA certificate expires 2030-01-01: judge its files at a fixed time.
CORPUS_TIME = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
NOV_2020 = dt.datetime(2020, 11, 1, tzinfo=dt.UTC)


def codes(result: SignatureVerification) -> set[str]:
    return {i.code for i in result.issues}


def errors(result: SignatureVerification) -> set[str]:
    return {i.code for i in result.issues if i.severity is Severity.ERROR}


def write(tmp_path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def corpus_verifier() -> PdfSignatureVerifier:
    roots = x509.load_pem_x509_certificates((DATA / "pyhanko-test-root.pem").read_bytes())
    return PdfSignatureVerifier(roots, validation_time=CORPUS_TIME)


@pytest.fixture(scope="module")
def lta_pki():
    """Root, signer, TSA (trusted), an expired signer, and a TSA under an untrusted root."""
    root, root_key = pki.make_root("Khoso LTA Test Root")
    other, other_key = pki.make_root("Untrusted TSA Root")
    signer, signer_key = pki.make_signer("Nguyễn Văn An", root, root_key)
    tsa_cert, tsa_key = pki.make_tsa("Khoso Test TSA", root, root_key,
                                     not_before=pki.NOW - dt.timedelta(days=400))
    expired, expired_key = pki.make_signer(
        "Trần Thị Bình", root, root_key, not_before=pki.NOW - dt.timedelta(days=800),
        not_after=pki.NOW - dt.timedelta(days=30))
    stranger_tsa, stranger_tsa_key = pki.make_tsa("Other TSA", other, other_key)
    return dict(root=root, signer=(signer, signer_key), expired=(expired, expired_key),
                tsa=pki.timestamper(tsa_cert, tsa_key, root),
                tsa_then=pki.timestamper(tsa_cert, tsa_key, root,
                                         at=pki.NOW - dt.timedelta(days=60)),
                stranger_tsa=pki.timestamper(stranger_tsa, stranger_tsa_key, other))


@pytest.fixture(scope="module")
def lta_pdf(lta_pki) -> bytes:
    """B-LTA made here: signature with timestamp token, DSS, DSS update, document timestamp."""
    lt = pki.sign_pdf_lt(pki.minimal_pdf(), *lta_pki["signer"], lta_pki["root"], lta_pki["tsa"])
    return pki.add_document_timestamp(lt, lta_pki["tsa"], lta_pki["root"])


def verifier(lta_pki) -> PdfSignatureVerifier:
    return PdfSignatureVerifier([lta_pki["root"]])


# --- pyHanko's own B-LTA files ------------------------------------------------------------------

def test_pyhanko_lta_file_signature_and_document_timestamp_are_accepted(corpus_verifier):
    result = corpus_verifier.verify(DATA / "pades-lta-dss-indirect-arrs-test.pdf")
    assert codes(result) == set(), result.issues
    sig, stamp = result.checks
    assert sig.kind is SignatureKind.SIGNATURE and sig.field_name == "Sig1" and sig.ok
    assert stamp.kind is SignatureKind.DOCUMENT_TIMESTAMP and stamp.ok
    assert stamp.timestamp.ok and stamp.timestamp.time == NOV_2020
    assert stamp.signer == stamp.timestamp.tsa == "Time Stamping Authority, Example Inc"
    # Alice's certificate expired 2022-01-01: her signature's timestamp (2020-11-01, trusted)
    # proves it existed while the certificate was valid, so no SIG006.
    assert sig.certificate_not_after < CORPUS_TIME
    assert sig.proof_of_existence and sig.validated_at == NOV_2020
    assert sig.timestamp.ok and sig.timestamp.time == NOV_2020
    assert stamp.validated_at == CORPUS_TIME and not stamp.proof_of_existence
    # Neither covers the whole file: a DSS update follows the document timestamp.
    assert not stamp.covers_entire_file and stamp.later_changes == "LTA_UPDATES"
    assert (sig.revision, stamp.revision) == (2, 3)
    assert result.dss == LtvMaterial(certificates=5, crls=1, ocsps=1, vri=1)


def test_pyhanko_second_signature_followed_only_by_dss_updates(corpus_verifier):
    result = corpus_verifier.verify(DATA / "pades-lta-dss-indirect-arrs-test-2.pdf")
    assert codes(result) == set(), result.issues
    assert [(c.field_name[:9], c.kind) for c in result.checks] == [
        ("Sig1", SignatureKind.SIGNATURE), ("Timestamp", SignatureKind.DOCUMENT_TIMESTAMP),
        ("Sig2", SignatureKind.SIGNATURE)]
    newest = result.checks[-1]
    assert newest.ok and not newest.covers_entire_file and newest.later_changes == "LTA_UPDATES"
    assert result.dss == LtvMaterial(certificates=5, crls=1, ocsps=2, vri=2)


def test_pyhanko_lta_file_with_an_untrusted_root(tmp_path):
    result = PdfSignatureVerifier([pki.make_root("Other")[0]], validation_time=CORPUS_TIME).verify(
        DATA / "pades-lta-dss-indirect-arrs-test.pdf")
    # The signer is refused as before; the timestamps are only unproven times (warnings).
    assert errors(result) == {"SIG004"}
    assert "SIG099" in codes(result)
    assert not result.checks[1].timestamp.trusted and result.checks[1].timestamp.intact


# --- files made here ------------------------------------------------------------------------------

def test_signature_with_document_timestamp_is_accepted(lta_pki, lta_pdf, tmp_path):
    result = verifier(lta_pki).verify(write(tmp_path, "lta.pdf", lta_pdf))
    assert codes(result) == set(), result.issues
    sig, stamp = result.checks
    assert sig.ok and sig.signer == "Nguyễn Văn An, Sở Nội vụ"
    assert sig.timestamp is not None and sig.timestamp.ok
    assert stamp.kind is SignatureKind.DOCUMENT_TIMESTAMP and stamp.ok
    assert stamp.timestamp.tsa == "Khoso Test TSA, Khoso Test TSA"
    assert stamp.revision == 3 and stamp.later_changes == "LTA_UPDATES"  # pyHanko adds a DSS
    assert result.dss is not None and result.dss.certificates >= 2
    text = describe(result)
    assert "document timestamp" in text and "DSS: present" in text
    assert re.search(r"signature timestamp \d{4}-\d\d-\d\dT", text)
    assert "Signature1: signature by Nguyễn Văn An, Sở Nội vụ (revision 1): intact, valid, " \
        "trusted; trust judged at " in text and "; covers its revision, later changes LTA_UPDATES" \
        in text
    assert sig.coverage == "ENTIRE_REVISION"
    assert "NOT" not in text and "issues:" not in text


def test_only_a_document_timestamp(lta_pki, tmp_path):
    pdf = pki.add_document_timestamp(pki.minimal_pdf(), lta_pki["tsa"])
    result = verifier(lta_pki).verify(write(tmp_path, "ts.pdf", pdf))
    assert codes(result) == set() and result.signed
    (stamp,) = result.checks
    assert stamp.kind is SignatureKind.DOCUMENT_TIMESTAMP and stamp.ok and stamp.covers_entire_file
    assert result.dss is None and "DSS: absent" in describe(result)


def test_content_changed_under_a_document_timestamp_is_refused(lta_pki, tmp_path):
    pdf = pki.add_document_timestamp(pki.minimal_pdf(), lta_pki["tsa"])
    i = pdf.index(b"Hello khoso")
    result = verifier(lta_pki).verify(write(tmp_path, "t.pdf", pdf[:i] + b"J" + pdf[i + 1:]))
    assert codes(result) == {"SIG098"}
    assert not result.checks[0].timestamp.intact
    assert "NOT intact" in describe(result)


def test_content_changed_under_signature_and_document_timestamp(lta_pki, lta_pdf, tmp_path):
    i = lta_pdf.index(b"Hello khoso")
    result = verifier(lta_pki).verify(write(tmp_path, "t.pdf", lta_pdf[:i] + b"J" + lta_pdf[i + 1:]))
    assert codes(result) == {"SIG003", "SIG098"}


def test_damaged_document_timestamp_token_is_refused(lta_pki, lta_pdf, tmp_path):
    """The TSA's signature inside the token is changed: the token is not valid."""
    start = lta_pdf.rindex(b"/Contents <") + len(b"/Contents <")
    hexdigits = lta_pdf[start:lta_pdf.index(b">", start)].rstrip(b"0")
    at = start + len(hexdigits) - 8  # inside the TSA's signature value, the token's last field
    flipped = b"0" if lta_pdf[at:at + 1] != b"0" else b"1"
    result = verifier(lta_pki).verify(
        write(tmp_path, "d.pdf", lta_pdf[:at] + flipped + lta_pdf[at + 1:]))
    assert errors(result) == {"SIG098"}, result.issues


def test_untrusted_tsa_is_a_warning_not_a_refusal(lta_pki, tmp_path):
    pdf = pki.sign_pdf_lt(pki.minimal_pdf(), *lta_pki["signer"], lta_pki["root"],
                          lta_pki["stranger_tsa"], embed=False)
    pdf = pki.add_document_timestamp(pdf, lta_pki["stranger_tsa"])
    result = verifier(lta_pki).verify(write(tmp_path, "u.pdf", pdf))
    assert codes(result) == {"SIG099"} and not errors(result)
    sig, stamp = result.checks
    assert sig.ok and not sig.timestamp.trusted
    assert not stamp.trusted and not stamp.timestamp.trusted and stamp.intact
    assert [i.params["field"] for i in result.issues] == [
        "Signature1 (signature timestamp)", stamp.field_name]


def test_expired_certificate_with_a_timestamp_before_expiry_is_no_expiry(lta_pki, tmp_path):
    """B-T: the signature timestamp token proves the signature existed while the certificate
    was valid."""
    pdf = pki.sign_pdf_lt(pki.minimal_pdf(), *lta_pki["expired"], lta_pki["root"],
                          lta_pki["tsa_then"], embed=False)
    result = verifier(lta_pki).verify(write(tmp_path, "e.pdf", pdf))
    assert codes(result) == set(), result.issues
    (sig,) = result.checks
    assert sig.ok and sig.proof_of_existence
    assert sig.validated_at == sig.timestamp.time < sig.certificate_not_after


def test_expired_certificate_without_a_timestamp_still_warns(lta_pki, tmp_path):
    pdf = pki.sign_pdf(pki.minimal_pdf(), *lta_pki["expired"], lta_pki["root"])
    result = verifier(lta_pki).verify(write(tmp_path, "e.pdf", pdf))
    assert codes(result) == {"SIG006"}
    assert not result.checks[0].proof_of_existence and result.checks[0].timestamp is None


def test_b_lt_dss_update_after_the_signature_is_accepted(lta_pki, tmp_path):
    pdf = pki.sign_pdf_lt(pki.minimal_pdf(), *lta_pki["signer"], lta_pki["root"], lta_pki["tsa"])
    result = verifier(lta_pki).verify(write(tmp_path, "lt.pdf", pdf))
    assert codes(result) == set(), result.issues
    (sig,) = result.checks
    assert not sig.covers_entire_file and sig.later_changes == "LTA_UPDATES"


def test_bytes_appended_after_a_dss_update_are_refused(lta_pki, tmp_path):
    pdf = pki.sign_pdf_lt(pki.minimal_pdf(), *lta_pki["signer"], lta_pki["root"], lta_pki["tsa"])
    verify = verifier(lta_pki).verify
    assert codes(verify(write(tmp_path, "a.pdf", pdf + b"\n% appended later\n"))) == {"SIG005"}
    # junk that keeps the file readable: the same startxref repeated after it
    startxref = re.findall(rb"startxref\s+(\d+)\s+%%EOF", pdf)[-1]
    junk = pdf + b"junk 1 0 obj (x) endobj\nstartxref\n" + startxref + b"\n%%EOF\n"
    assert codes(verify(write(tmp_path, "b.pdf", junk))) == {"SIG005"}


def test_detached_cms_description(test_pki, tmp_path):
    data = write(tmp_path, "qd.xml", b"<qd/>")
    write(tmp_path, "qd.xml.p7s", pki.sign_detached(b"<qd/>", test_pki.signer, test_pki.signer_key,
                                                    test_pki.root))
    text = describe(DetachedCmsVerifier([test_pki.root]).verify(data))
    assert text.startswith("qd.xml.p7s: signature by Nguyễn Văn An, Sở Nội vụ: intact, valid, "
                           "trusted; trust judged at ")
    assert text.endswith("; covers the entire file; no signature timestamp")


def test_content_changed_in_an_update_after_the_document_timestamp_is_refused(lta_pki, lta_pdf,
                                                                               tmp_path):
    """An incremental update after the last timestamp that changes the page is no LTA update."""
    import io

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(lta_pdf))
    page = writer.root["/Pages"]["/Kids"][0]
    content = generic.StreamObject(stream_data=b"BT /F1 12 Tf 72 720 Td (Changed) Tj ET")
    page["/Contents"] = writer.add_object(content)
    writer.update_container(page)
    out = io.BytesIO()
    writer.write(out)
    result = verifier(lta_pki).verify(write(tmp_path, "m.pdf", out.getvalue()))
    assert "SIG005" in errors(result)
    assert result.checks[-1].kind is SignatureKind.DOCUMENT_TIMESTAMP
    assert result.checks[-1].later_changes not in ("NONE", "LTA_UPDATES")


def test_damaged_dss_is_refused_with_a_code(lta_pki, tmp_path):
    import io

    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    signed = pki.sign_pdf(pki.minimal_pdf(), *lta_pki["signer"], lta_pki["root"])
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    bogus = writer.add_object(generic.StreamObject(stream_data=b"not a certificate"))
    writer.root["/DSS"] = generic.DictionaryObject({
        generic.NameObject("/Certs"): generic.ArrayObject([bogus])})
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    result = verifier(lta_pki).verify(write(tmp_path, "dss.pdf", out.getvalue()))
    assert codes(result) == {"SIG002"} and not result.checks
    assert "DSS unreadable" in result.issues[0].params["detail"]
    assert describe(result) == "issues: SIG002"


def test_an_entry_pyhanko_cannot_validate_is_described_as_such():
    from ingest.adapters.signatures import SignatureCheck
    from preservation.issues import Issue

    check = SignatureCheck(False, False, False, False, field_name="Timestamp-1", revision=3,
                           kind=SignatureKind.DOCUMENT_TIMESTAMP,
                           problems=(Issue("SIG002", "a.pdf", {"detail": "x"}),))
    text = describe(SignatureVerification("a.pdf", (check,)))
    assert text == ("Timestamp-1: document timestamp (revision 3) could not be validated"
                    " | DSS: absent | issues: SIG002")


def test_a_timestamp_of_an_unsupported_type_is_not_taken_for_unsigned(lta_pki, tmp_path):
    """pyHanko skips a field with an unknown /SubFilter; the file must not pass as unsigned."""
    pdf = pki.add_document_timestamp(pki.minimal_pdf(), lta_pki["tsa"])
    odd = pdf.replace(b"/SubFilter /ETSI.RFC3161", b"/SubFilter /ETSI.RFC3162", 1)
    assert odd != pdf
    result = verifier(lta_pki).verify(write(tmp_path, "odd.pdf", odd))
    assert codes(result) == {"SIG100"} and not result.checks
    assert result.issues[0].severity is Severity.WARNING
    assert result.issues[0].params["fields"].endswith("(/ETSI.RFC3162)")
    assert describe(result).startswith("not checked (unsupported type): Timestamp-")


def test_a_signature_of_an_unsupported_type_beside_a_checked_one(lta_pki, tmp_path):
    first = pki.sign_pdf(pki.minimal_pdf(), *lta_pki["signer"], lta_pki["root"])
    odd = first.replace(b"/SubFilter /adbe.pkcs7.detached", b"/SubFilter /adbe.pkcs7.detacheX", 1)
    assert odd != first
    both = pki.sign_pdf(odd, *lta_pki["signer"], lta_pki["root"], field="Signature2")
    result = verifier(lta_pki).verify(write(tmp_path, "two.pdf", both))
    assert codes(result) == {"SIG100"}, result.issues
    assert [c.field_name for c in result.checks] == ["Signature2"] and result.checks[0].ok

from __future__ import annotations

import datetime as dt
import logging

import pytest
from cryptography.hazmat.primitives import serialization as ser

from ingest.adapters.signatures import (
    DetachedCmsVerifier,
    PdfSignatureVerifier,
    SignatureVerification,
    load_trust_roots,
)
from preservation.errors import ConfigError
from tests.support import pki


def codes(result: SignatureVerification) -> set[str]:
    return {i.code for i in result.issues}


@pytest.fixture
def verifier(test_pki) -> PdfSignatureVerifier:
    return PdfSignatureVerifier([test_pki.root])


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_good_signature(verifier, signed_pdf, tmp_path):
    result = verifier.verify(write(tmp_path, "vb.pdf", signed_pdf))
    assert codes(result) == set()
    (check,) = result.checks
    assert check.ok and check.intact and check.valid and check.trusted and check.covers_entire_file
    assert check.signer == "Nguyễn Văn An, Sở Nội vụ"
    assert check.field_name == "Signature1"
    assert check.signing_time is not None and check.certificate_not_after > check.signing_time


def test_tampered_one_byte(verifier, signed_pdf, tmp_path):
    i = signed_pdf.index(b"Hello khoso")
    tampered = signed_pdf[:i] + b"J" + signed_pdf[i + 1:]
    result = verifier.verify(write(tmp_path, "t.pdf", tampered))
    assert codes(result) == {"SIG003"}
    assert not result.checks[0].intact and not result.checks[0].ok


def test_bytes_appended_after_signing(verifier, signed_pdf, tmp_path):
    result = verifier.verify(write(tmp_path, "a.pdf", signed_pdf + b"\n% appended later\n"))
    assert codes(result) == {"SIG005"}
    check = result.checks[0]
    assert check.intact and check.trusted and not check.covers_entire_file and not check.ok


def test_untrusted_signer_does_not_log_tracebacks(test_pki, tmp_path, caplog):
    pdf = pki.sign_pdf(pki.minimal_pdf(), test_pki.stranger, test_pki.stranger_key, test_pki.other)
    with caplog.at_level(logging.DEBUG):
        result = PdfSignatureVerifier([test_pki.root]).verify(write(tmp_path, "u.pdf", pdf))
    assert codes(result) == {"SIG004"}
    assert result.checks[0].intact and not result.checks[0].trusted
    assert not [r for r in caplog.records if r.name.startswith("pyhanko") and r.exc_info]


def test_expired_certificate(test_pki, tmp_path):
    pdf = pki.sign_pdf(pki.minimal_pdf(), test_pki.expired, test_pki.expired_key, test_pki.root)
    result = PdfSignatureVerifier([test_pki.root]).verify(write(tmp_path, "e.pdf", pdf))
    # The chain is good up to the certificate's last valid second: expiry only, not "untrusted".
    assert codes(result) == {"SIG006"}
    assert result.checks[0].certificate_not_after < pki.NOW


def test_valid_certificate_expired_at_a_later_validation_time(test_pki, signed_pdf, tmp_path):
    later = pki.NOW + dt.timedelta(days=3 * 365)
    result = PdfSignatureVerifier([test_pki.root], validation_time=later).verify(
        write(tmp_path, "l.pdf", signed_pdf))
    assert codes(result) == {"SIG006"}


def test_expired_and_untrusted(test_pki, signed_pdf, tmp_path):
    later = pki.NOW + dt.timedelta(days=3 * 365)
    result = PdfSignatureVerifier([test_pki.other], validation_time=later).verify(
        write(tmp_path, "x.pdf", signed_pdf))
    assert codes(result) == {"SIG006", "SIG004"}


def test_second_signature_keeps_first_valid(test_pki, signed_pdf, tmp_path):
    twice = pki.sign_pdf(signed_pdf, test_pki.signer, test_pki.signer_key, test_pki.root,
                         field="Signature2")
    result = PdfSignatureVerifier([test_pki.root]).verify(write(tmp_path, "2.pdf", twice))
    assert len(result.checks) == 2
    first, second = result.checks
    assert second.ok and second.covers_entire_file
    # The first signature covers only its revision; the later one is a permitted change.
    assert first.ok and not first.covers_entire_file
    assert codes(result) == set()
    appended = PdfSignatureVerifier([test_pki.root]).verify(write(tmp_path, "3.pdf", twice + b"x\n"))
    assert codes(appended) == {"SIG005"} and appended.checks[0].ok and not appended.checks[1].ok


def test_unsigned_pdf_is_info(verifier, tmp_path):
    result = verifier.verify(write(tmp_path, "plain.pdf", pki.minimal_pdf()))
    assert codes(result) == {"SIG001"} and not result.signed
    assert result.issues[0].severity.value == "info"


@pytest.mark.parametrize("data", [
    b"",
    b"this is not a pdf at all",
    pki.minimal_pdf()[:120],
    pki.minimal_pdf().replace(b"xref\n0 6", b"xref\n0 999999999"),
    pki.minimal_pdf().replace(b"startxref\n", b"startxref\n99999999"),
    b"%PDF-1.7\n" + b"[" * 100_000 + b"\n%%EOF\n",
], ids=["empty", "garbage", "truncated", "huge-xref", "bad-startxref", "deep-nesting"])
def test_hostile_pdfs_give_a_code_not_an_exception(verifier, tmp_path, data):
    result = verifier.verify(write(tmp_path, "bad.pdf", data))
    assert codes(result) <= {"SIG002", "SIG001"} and codes(result)


def test_truncated_signed_pdf(verifier, signed_pdf, tmp_path):
    result = verifier.verify(write(tmp_path, "cut.pdf", signed_pdf[: len(signed_pdf) // 2]))
    assert codes(result) == {"SIG002"}


def test_broken_signature_contents(verifier, signed_pdf, tmp_path):
    broken = signed_pdf.replace(b"/Contents <3082", b"/Contents <0000", 1)
    assert broken != signed_pdf
    result = verifier.verify(write(tmp_path, "b.pdf", broken))
    assert "SIG002" in codes(result)


def test_missing_file(verifier, tmp_path):
    assert codes(verifier.verify(tmp_path / "nope.pdf")) == {"SIG008"}


# Detached CMS (.p7s beside the file)

DATA = "Quyết định số 12/QĐ-UBND\n".encode() * 500


@pytest.fixture
def detached(tmp_path, test_pki):
    path = write(tmp_path, "qd.xml", DATA)
    write(tmp_path, "qd.xml.p7s", pki.sign_detached(DATA, test_pki.signer, test_pki.signer_key,
                                                    test_pki.root))
    return path


def test_detached_good(detached, test_pki):
    result = DetachedCmsVerifier([test_pki.root]).verify(detached)
    assert codes(result) == set()
    assert result.checks[0].ok and result.checks[0].signer.startswith("Nguyễn Văn An")


def test_detached_tampered(detached, test_pki):
    detached.write_bytes(DATA.replace(b"12", b"13", 1))
    result = DetachedCmsVerifier([test_pki.root]).verify(detached)
    assert codes(result) == {"SIG003"}


def test_detached_untrusted(detached, test_pki):
    assert codes(DetachedCmsVerifier([test_pki.other]).verify(detached)) == {"SIG004"}


def test_detached_explicit_signature_path_and_pem(tmp_path, test_pki):
    from asn1crypto import pem

    data = write(tmp_path, "f.bin", b"\x00\x01binary\r\n")
    der = pki.sign_detached(b"\x00\x01binary\r\n", test_pki.signer, test_pki.signer_key, test_pki.root)
    sig = write(tmp_path, "sig.pem", pem.armor("PKCS7", der))
    assert codes(DetachedCmsVerifier([test_pki.root]).verify(data, sig)) == set()


def test_detached_garbage_and_missing(tmp_path, test_pki):
    data = write(tmp_path, "f.txt", b"abc")
    verifier = DetachedCmsVerifier([test_pki.root])
    assert codes(verifier.verify(data)) == {"SIG001"}
    write(tmp_path, "f.txt.p7s", b"\x30\x82\x00\x10garbage")
    assert codes(verifier.verify(data)) == {"SIG002"}
    assert codes(verifier.verify(tmp_path / "missing.txt", tmp_path / "f.txt.p7s")) == {"SIG008"}


async def _inside_event_loop(verifier, path):
    return verifier.verify(path)


def test_detached_from_running_event_loop(detached, test_pki):
    import asyncio

    result = asyncio.run(_inside_event_loop(DetachedCmsVerifier([test_pki.root]), detached))
    assert result.checks[0].ok


def test_load_trust_roots(tmp_path, test_pki):
    (tmp_path / "a.pem").write_bytes(test_pki.root.public_bytes(ser.Encoding.PEM)
                                     + test_pki.other.public_bytes(ser.Encoding.PEM))
    (tmp_path / "b.cer").write_bytes(test_pki.root.public_bytes(ser.Encoding.DER))
    (tmp_path / "readme.txt").write_text("ignored")
    roots = load_trust_roots(tmp_path)
    assert [r.subject for r in roots] == [test_pki.root.subject, test_pki.other.subject,
                                          test_pki.root.subject]
    (tmp_path / "c.crt").write_bytes(b"not a certificate")
    with pytest.raises(ConfigError) as err:
        load_trust_roots(tmp_path)
    assert err.value.code == "CFG002"

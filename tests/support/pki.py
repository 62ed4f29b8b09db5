"""Test PKI and PDFs made at test time: root CA, signers, a minimal hand-written PDF."""

from __future__ import annotations

import datetime as dt
import io

# asn1crypto.tsp maps the tst_info content type pyHanko's DummyTimeStamper signs; without it
# the LTA fixtures fail on an xdist worker that imported nothing else needing it.
import asn1crypto.tsp  # noqa: F401
from asn1crypto import keys as akeys
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import serialization as ser
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from ingest.adapters.signatures import to_asn1

NOW = dt.datetime.now(dt.UTC)


def _name(cn: str, org: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, org)])


def make_root(cn: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(cn, "Khoso Test PKI")
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=3650))
            .not_valid_after(NOW + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return cert, key


def make_signer(cn: str, ca: x509.Certificate, ca_key, not_before: dt.datetime | None = None,
                not_after: dt.datetime | None = None):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (x509.CertificateBuilder().subject_name(_name(cn, "Sở Nội vụ"))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or NOW - dt.timedelta(days=1))
            .not_valid_after(not_after or NOW + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return cert, key


def minimal_pdf(text: str = "Hello khoso") -> bytes:
    """A one-page PDF 1.7 with a correct xref table (reportlab is not installed)."""
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % i + obj + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref))
    return out.getvalue()


def sign_pdf(pdf: bytes, cert, key, ca, field: str = "Signature1") -> bytes:
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    signer = signers.SimpleSigner(
        signing_cert=to_asn1(cert),
        signing_key=akeys.PrivateKeyInfo.load(
            key.private_bytes(ser.Encoding.DER, ser.PrivateFormat.PKCS8, ser.NoEncryption())),
        cert_registry=SimpleCertificateStore.from_certs([to_asn1(ca)]))
    out = signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)),
                           signers.PdfSignatureMetadata(field_name=field, md_algorithm="sha256"),
                           signer=signer)
    return out.getvalue()


def sign_detached(data: bytes, cert, key, ca) -> bytes:
    return (pkcs7.PKCS7SignatureBuilder().set_data(data).add_signer(cert, key, hashes.SHA256())
            .add_certificate(ca)
            .sign(ser.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]))


def make_tsa(cn: str, ca: x509.Certificate, ca_key, not_before: dt.datetime | None = None,
             not_after: dt.datetime | None = None):
    """A time-stamping authority certificate (critical extendedKeyUsage timeStamping, RFC 3161)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (x509.CertificateBuilder().subject_name(_name(cn, "Khoso Test TSA"))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(not_before or NOW - dt.timedelta(days=1))
            .not_valid_after(not_after or NOW + dt.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                           critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return cert, key


def _private(key) -> akeys.PrivateKeyInfo:
    return akeys.PrivateKeyInfo.load(
        key.private_bytes(ser.Encoding.DER, ser.PrivateFormat.PKCS8, ser.NoEncryption()))


def timestamper(tsa_cert, tsa_key, ca, at: dt.datetime | None = None):
    """A local RFC 3161 TSA (pyHanko's DummyTimeStamper): no network."""
    from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    return DummyTimeStamper(tsa_cert=to_asn1(tsa_cert), tsa_key=_private(tsa_key),
                            certs_to_embed=SimpleCertificateStore.from_certs([to_asn1(ca)]),
                            fixed_dt=at)


def sign_pdf_lt(pdf: bytes, cert, key, ca, tsa, field: str = "Signature1", embed: bool = True) -> bytes:
    """PAdES B-LT: a signature with a signature timestamp token, then (``embed``) a DSS with the
    chain; without ``embed`` a B-T signature."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers
    from pyhanko_certvalidator import ValidationContext
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    signer = signers.SimpleSigner(signing_cert=to_asn1(cert), signing_key=_private(key),
                                  cert_registry=SimpleCertificateStore.from_certs([to_asn1(ca)]))
    context = ValidationContext(trust_roots=[to_asn1(ca)], allow_fetching=False)
    meta = signers.PdfSignatureMetadata(field_name=field, md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.PADES,
                                        validation_context=context if embed else None,
                                        embed_validation_info=embed)
    return signers.sign_pdf(IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, signer=signer,
                            timestamper=tsa).getvalue()


def add_document_timestamp(pdf: bytes, tsa, ca=None) -> bytes:
    """An incremental update with a /DocTimeStamp (PAdES B-LTA); with ``ca``, first a DSS update
    holding the validation material of what is already in the file."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko_certvalidator import ValidationContext

    context = (ValidationContext(trust_roots=[to_asn1(ca)], allow_fetching=False)
               if ca is not None else None)
    out = signers.PdfTimeStamper(tsa).timestamp_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf)), "sha256", validation_context=context)
    return out.getvalue()

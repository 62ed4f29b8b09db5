"""The archive's own signing key: it signs each AIP's tag manifest with a detached CMS signature.

``khoso keys init`` makes a self-signed key for the embedded default; a production archive puts
a key and certificate issued by its CA (e.g. the government PKI) in the same two files.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from preservation.errors import KhosoError

KEY_FILE = "archive-key.pem"
CERT_FILE = "archive-cert.pem"


@dataclass(frozen=True)
class ArchiveSigner:
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    certificate: x509.Certificate

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    def sign_detached(self, data: bytes) -> bytes:
        """DER CMS SignedData over the exact bytes (Binary: no CRLF conversion)."""
        return (pkcs7.PKCS7SignatureBuilder().set_data(data)
                .add_signer(self.certificate, self.key, hashes.SHA256())
                .sign(serialization.Encoding.DER,
                      [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary]))


def init_keys(folder: Path, archive_name: str, archive_code: str, *, years: int = 10,
              force: bool = False) -> ArchiveSigner:
    """Create a self-signed EC P-256 key and certificate; refuses to overwrite unless forced."""
    key_path, cert_path = folder / KEY_FILE, folder / CERT_FILE
    if key_path.exists() and not force:
        raise KhosoError("KEY001", path=str(key_path))
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, archive_name),
        x509.NameAttribute(NameOID.COMMON_NAME, f"{archive_code} AIP signing"),
    ])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=365 * years))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, True, False, False, False, True, True, False, False),
                           critical=True)
            .sign(key, hashes.SHA256()))
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return ArchiveSigner(key, cert)


def load_signer(folder: Path) -> ArchiveSigner:
    key_path, cert_path = folder / KEY_FILE, folder / CERT_FILE
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except FileNotFoundError:
        raise KhosoError("KEY002", path=str(folder)) from None
    except ValueError as exc:
        raise KhosoError("KEY003", path=str(folder), reason=str(exc)) from None
    if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise KhosoError("KEY003", path=str(folder), reason="unsupported key type")
    return ArchiveSigner(key, cert)

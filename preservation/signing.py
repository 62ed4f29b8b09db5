"""The archive's own signing key: it signs each AIP's tag manifest with a detached CMS signature.

``khoso keys init`` makes a self-signed key for the embedded default; a production archive puts
a key and certificate issued by its CA (e.g. the government PKI) in the same two files.

What the archive signs itself (AIPs, digitised PDFs, receipts, new versions) must validate as
trusted by khoso's own signature check, which trusts only the certificates in the trust folder
(``KHOSO_TRUST_DIR``): ``trust_own_certificate`` puts the archive's certificate there under a
name made from its fingerprint. So a new key adds a file and the old certificate stays, and
what the old key signed stays trusted; a different file already under that name is refused
(KEY090), never replaced.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import tempfile
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
TRUSTED_PREFIX = "khoso-archive-"  # + the certificate's SHA-256 fingerprint, first 16 digits


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


def trusted_name(certificate: x509.Certificate) -> str:
    """The archive certificate's file name in the trust folder."""
    return f"{TRUSTED_PREFIX}{certificate.fingerprint(hashes.SHA256()).hex()[:16]}.pem"


def trust_own_certificate(keys_dir: Path, trust_dir: Path) -> Path | None:
    """Put the certificate of ``keys_dir`` in ``trust_dir``; the file written, or None when it
    is there already. A file of that name holding anything else raises KEY090 and is left as
    it is; the file appears whole or not at all (written aside, then linked into place)."""
    certificate = load_signer(keys_dir).certificate
    target = trust_dir / trusted_name(certificate)
    if _holds(target, certificate):
        return None
    trust_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=".khoso-tmp-", dir=trust_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(certificate.public_bytes(serialization.Encoding.PEM))
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(name, target)  # never over an existing file
        except FileExistsError:
            pass  # another process, or a file appeared since: judged below
    finally:
        with contextlib.suppress(OSError):
            os.unlink(name)
    if not _holds(target, certificate):
        raise KhosoError("KEY090", path=str(target),
                         fingerprint=certificate.fingerprint(hashes.SHA256()).hex())
    return target


def _holds(path: Path, certificate: x509.Certificate) -> bool:
    """Whether ``path`` is a file whose certificates are exactly this one (False: absent)."""
    if not path.exists() and not path.is_symlink():
        return False
    try:
        found = x509.load_pem_x509_certificates(path.read_bytes()) if path.is_file() else []
    except (OSError, ValueError):
        found = []
    if found != [certificate]:
        raise KhosoError("KEY090", path=str(path),
                         fingerprint=certificate.fingerprint(hashes.SHA256()).hex())
    return True

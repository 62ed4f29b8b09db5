"""Digital signature verification with pyHanko: signatures inside PDFs and detached ``.p7s`` files.

pyHanko's ``bottom_line`` stays True when bytes were appended after the signed revision, so a
PDF signature is only good when it also covers the entire file (SIG005). An expired signing
certificate is told apart from an unknown CA by validating again at the certificate's last valid
second (SIG006 alone vs SIG004). Nothing fetches CRLs/OCSP: the archive works offline and records
what it could check. Hostile or broken files give SIG002, never an exception; pyHanko's
tracebacks for untrusted chains are kept out of the logs while we validate (we report them as
issues instead).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from asn1crypto import cms
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from preservation.errors import ConfigError
from preservation.issues import Issue, Severity

Certificate = x509.Certificate | ax509.Certificate

_NOISY_LOGGERS = ("pyhanko.sign.validation.generic_cms", "pyhanko.sign.validation.pdf_embedded",
                  "pyhanko.sign.general", "pyhanko.pdf_utils.reader", "pyhanko_certvalidator")
_quiet = threading.local()
_filter_lock = threading.Lock()


class _QuietFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_quiet, "on", False)


_QUIET_FILTER = _QuietFilter()


@contextmanager
def _quiet_pyhanko() -> Iterator[None]:
    with _filter_lock:
        for name in _NOISY_LOGGERS:
            log = logging.getLogger(name)
            if _QUIET_FILTER not in log.filters:
                log.addFilter(_QUIET_FILTER)
    previous = getattr(_quiet, "on", False)
    _quiet.on = True
    try:
        yield
    finally:
        _quiet.on = previous


@dataclass(frozen=True)
class SignatureCheck:
    """One signature, pyHanko's status reduced to what the archive records."""

    intact: bool
    valid: bool
    trusted: bool
    covers_entire_file: bool
    signer: str = ""  # "CN, O" of the signing certificate
    signing_time: dt.datetime | None = None  # as claimed by the signer (not a timestamp)
    certificate_not_after: dt.datetime | None = None
    field_name: str = ""
    problems: tuple[Issue, ...] = ()

    @property
    def ok(self) -> bool:
        """Intact, valid, trusted and no error-level problem (e.g. bytes added after signing)."""
        return self.intact and self.valid and self.trusted and not any(
            p.severity is Severity.ERROR for p in self.problems)


@dataclass(frozen=True)
class SignatureVerification:
    """All signatures of one file plus file-level problems (no signature, unreadable file)."""

    path: str
    checks: tuple[SignatureCheck, ...] = ()
    problems: tuple[Issue, ...] = ()

    @property
    def signed(self) -> bool:
        return bool(self.checks)

    @property
    def issues(self) -> list[Issue]:
        return [*self.problems, *(p for c in self.checks for p in c.problems)]


class SignatureVerifier(Protocol):
    def verify(self, path: str | os.PathLike[str]) -> SignatureVerification: ...


def to_asn1(cert: Certificate) -> ax509.Certificate:
    if isinstance(cert, ax509.Certificate):
        return cert
    return ax509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def load_trust_roots(folder: str | os.PathLike[str]) -> list[x509.Certificate]:
    """Every certificate in ``*.pem``/``*.crt``/``*.cer``/``*.der`` files of ``folder`` (PEM or DER)."""
    roots: list[x509.Certificate] = []
    for path in sorted(Path(folder).iterdir()):
        if path.suffix.lower() not in (".pem", ".crt", ".cer", ".der") or not path.is_file():
            continue
        data = path.read_bytes()
        try:
            if b"-----BEGIN CERTIFICATE-----" in data:
                roots.extend(x509.load_pem_x509_certificates(data))
            else:
                roots.append(x509.load_der_x509_certificate(data))
        except ValueError as exc:
            raise ConfigError("CFG002", name="trust root", value=str(path), reason=str(exc)) from exc
    return roots


def _name(cert: ax509.Certificate | None) -> str:
    if cert is None:
        return ""
    subject = cert.subject.native
    return ", ".join(str(subject[k]) for k in ("common_name", "organization_name") if k in subject)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _run_async(make: Callable[[], Any]) -> Any:
    """asyncio.run, also from a thread that already runs a loop (then in a helper thread)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())

    def worker() -> Any:
        with _quiet_pyhanko():
            return asyncio.run(make())

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(worker).result()


class _Verifier:
    def __init__(self, trust_roots: Iterable[Certificate],
                 validation_time: dt.datetime | None = None) -> None:
        self.trust_roots = [to_asn1(c) for c in trust_roots]
        self.validation_time = validation_time

    def _context(self, moment: dt.datetime | None) -> Any:
        from pyhanko_certvalidator import ValidationContext

        return ValidationContext(trust_roots=self.trust_roots, moment=moment, allow_fetching=False)

    def _check(self, status: Any, validate_at: Callable[[dt.datetime], Any], moment: dt.datetime,
               covers_entire_file: bool, field_name: str = "",
               extra: Iterable[Issue] = (), where: str = "",
               require_entire_file: bool = True) -> SignatureCheck:
        """Turn a pyHanko status into a ``SignatureCheck`` with issue codes."""
        cert = status.signing_cert
        signer = _name(cert) or "?"
        not_after = cert["tbs_certificate"]["validity"]["not_after"].native if cert else None
        problems: list[Issue] = []
        if not (status.intact and status.valid):
            problems.append(Issue("SIG003", where, {"signer": signer}))
        elif not status.trusted:
            expired = not_after is not None and not_after < moment
            if expired:
                problems.append(Issue("SIG006", where, {
                    "signer": signer, "not_after": not_after.isoformat(),
                    "validation_time": moment.isoformat()}))
            if not expired or not validate_at(not_after - dt.timedelta(seconds=1)).trusted:
                reason = getattr(status.trust_problem_indic, "name", "") or "không rõ / unknown"
                problems.append(Issue("SIG004", where, {"signer": signer, "detail": reason}))
        if status.intact and require_entire_file and not covers_entire_file:
            problems.append(Issue("SIG005", where, {"signer": signer}))
        problems.extend(extra)
        return SignatureCheck(
            bool(status.intact), bool(status.valid), bool(status.trusted), covers_entire_file,
            signer, status.signer_reported_dt, not_after, field_name, tuple(problems))


class PdfSignatureVerifier(_Verifier):
    """Every signature embedded in a PDF; the last one must cover the whole file."""

    def verify(self, path: str | os.PathLike[str]) -> SignatureVerification:
        where = os.fspath(path)
        moment = self.validation_time or dt.datetime.now(dt.UTC)
        try:
            handle = open(where, "rb")  # closed by the with below
        except OSError as exc:
            return SignatureVerification(where, problems=(
                Issue("SIG008", where, {"detail": exc.strerror or str(exc)}),))
        with handle, _quiet_pyhanko():
            try:
                from pyhanko.pdf_utils.reader import PdfFileReader

                signatures = list(PdfFileReader(handle, strict=False).embedded_signatures)
            except (Exception, RecursionError, MemoryError) as exc:
                return SignatureVerification(where, problems=(
                    Issue("SIG002", where, {"detail": _describe(exc)}),))
            if not signatures:
                return SignatureVerification(where, problems=(Issue("SIG001", where),))
            newest = max(signatures, key=lambda s: getattr(s, "signed_revision", 0))
            return SignatureVerification(
                where, tuple(self._one(s, moment, where, s is newest) for s in signatures))

    def _one(self, sig: Any, moment: dt.datetime, where: str, newest: bool) -> SignatureCheck:
        from pyhanko.sign.validation import validate_pdf_signature
        from pyhanko.sign.validation.status import SignatureCoverageLevel

        field = getattr(sig, "field_name", "") or ""
        try:
            status = validate_pdf_signature(sig, self._context(moment))
        except (Exception, RecursionError, MemoryError) as exc:
            detail = f"{field}: {_describe(exc)}" if field else _describe(exc)
            return SignatureCheck(False, False, False, False, field_name=field,
                                  problems=(Issue("SIG002", where, {"detail": detail}),))
        extra = []
        level = getattr(status.modification_level, "name", "NONE")
        if level not in ("NONE", "LTA_UPDATES", "FORM_FILLING") or status.docmdp_ok is False:
            extra.append(Issue("SIG007", where, {"signer": _name(status.signing_cert),
                                                 "level": level}))
        # Only the newest signature can cover the whole file; earlier ones are judged by the diff
        # analysis of the later revisions (SIG007), as a second signer's revision is normal.
        entire = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        return self._check(
            status, lambda at: validate_pdf_signature(sig, self._context(at)), moment,
            entire, field, extra, where, require_entire_file=newest)


class DetachedCmsVerifier(_Verifier):
    """A CMS/PKCS#7 ``.p7s`` file signing another file's bytes (by default ``<file>.p7s``)."""

    def verify(self, path: str | os.PathLike[str],
               signature_path: str | os.PathLike[str] | None = None) -> SignatureVerification:
        where = os.fspath(path)
        p7s = Path(signature_path) if signature_path else Path(where + ".p7s")
        moment = self.validation_time or dt.datetime.now(dt.UTC)
        if not p7s.is_file():
            return SignatureVerification(where, problems=(Issue("SIG001", where),))
        try:
            data = open(where, "rb")  # closed by the with below
        except OSError as exc:
            return SignatureVerification(where, problems=(
                Issue("SIG008", where, {"detail": exc.strerror or str(exc)}),))
        with data, _quiet_pyhanko():
            try:
                signed_data = self._load(p7s.read_bytes())
                status = self._validate(data, signed_data, moment)
                check = self._check(status, lambda at: self._validate(data, signed_data, at),
                                    moment, True, p7s.name, where=os.fspath(p7s))
            except (Exception, RecursionError, MemoryError) as exc:
                return SignatureVerification(where, problems=(
                    Issue("SIG002", os.fspath(p7s), {"detail": _describe(exc)}),))
        return SignatureVerification(where, (check,))

    @staticmethod
    def _load(raw: bytes) -> cms.SignedData:
        if raw.lstrip().startswith(b"-----BEGIN"):
            from asn1crypto import pem

            _, _, raw = pem.unarmor(raw)
        info = cms.ContentInfo.load(raw)
        if info["content_type"].native != "signed_data":
            raise ValueError(f"not a CMS SignedData but {info['content_type'].native}")
        signed = info["content"]
        _ = signed.native  # parse everything now: asn1crypto is lazy, errors would surface later
        return signed

    def _validate(self, data: BinaryIO, signed_data: cms.SignedData, moment: dt.datetime) -> Any:
        from pyhanko.sign.validation.generic_cms import async_validate_detached_cms

        data.seek(0)  # streamed in chunks, not loaded whole; validated again for expiry

        return _run_async(lambda: async_validate_detached_cms(
            data, signed_data, signer_validation_context=self._context(moment)))

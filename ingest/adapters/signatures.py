"""Digital signature verification with pyHanko: signatures inside PDFs and detached ``.p7s`` files.

pyHanko's ``bottom_line`` stays True when bytes were appended after the signed revision, so a
PDF signature is only good when it also covers the entire file (SIG005). An expired signing
certificate is told apart from an unknown CA by validating again at the certificate's last valid
second (SIG006 alone vs SIG004). Nothing fetches CRLs/OCSP: the archive works offline and records
what it could check.

Long-term PAdES (B-T/B-LT/B-LTA): a ``/DocTimeStamp`` is validated as an RFC 3161 timestamp (its
token, its TSA chain, the revision it covers), never as a ``/Sig``; a signature's own timestamp
token is recorded too. A trusted timestamp later than a signature is its proof of existence: an
expired certificate that was trusted at that time is no expiry problem. The newest signature or
timestamp may stop at its revision when everything after it is DSS/timestamp material only
(pyHanko's LTA_UPDATES), as every B-LT file has. Certificates of the PDF's Document Security
Store help path building; its CRLs/OCSP responses are counted but not evaluated (no revocation
checking offline), and the result says so.

Hostile or broken files give SIG002, never an exception; pyHanko's tracebacks for untrusted
chains are kept out of the logs while we validate (we report them as issues instead).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dt
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TypeAlias

from asn1crypto import cms
from asn1crypto import x509 as ax509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from preservation.errors import ConfigError
from preservation.events import Outcome
from preservation.issues import Issue, Text, outcome_of

Certificate: TypeAlias = x509.Certificate | ax509.Certificate

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


class SignatureKind(str, Enum):
    """What an entry of a PDF's signature fields is (``/Type`` of its dictionary)."""

    SIGNATURE = "signature"  # /Sig, CMS/CAdES over the revision
    DOCUMENT_TIMESTAMP = "document timestamp"  # /DocTimeStamp, RFC 3161 token over the revision


@dataclass(frozen=True)
class TimestampCheck:
    """An RFC 3161 timestamp token: the time it attests and whether that attestation holds."""

    time: dt.datetime
    intact: bool  # the token's message imprint matches what it timestamps
    valid: bool  # the TSA's signature on the token is cryptographically valid
    trusted: bool  # the TSA certificate chains to a trust root of the archive
    tsa: str = ""  # "CN, O" of the TSA certificate

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted


@dataclass(frozen=True)
class LtvMaterial:
    """What the PDF's Document Security Store (``/DSS``) holds. Its certificates are offered to
    certificate path building; its CRLs and OCSP responses are not evaluated."""

    certificates: int = 0
    crls: int = 0
    ocsps: int = 0
    vri: int = 0


@dataclass(frozen=True)
class SignatureCheck:
    """One signature, pyHanko's status reduced to what the archive records."""

    intact: bool
    valid: bool
    trusted: bool
    covers_entire_file: bool
    signer: str = ""  # "CN, O" of the signing certificate (the TSA for a document timestamp)
    signing_time: dt.datetime | None = None  # as claimed by the signer (not a timestamp)
    certificate_not_after: dt.datetime | None = None
    field_name: str = ""
    problems: tuple[Issue, ...] = ()
    kind: SignatureKind = SignatureKind.SIGNATURE
    # the signature timestamp token of a /Sig, or the token of a /DocTimeStamp itself
    timestamp: TimestampCheck | None = None
    validated_at: dt.datetime | None = None  # the time trust was judged at
    proof_of_existence: bool = False  # validated_at is the time of a trusted timestamp
    revision: int | None = None  # PDF revision signed (0 = the original file)
    later_changes: str = ""  # pyHanko's modification level of the revisions after it
    coverage: str = ""  # pyHanko's coverage level (ENTIRE_FILE, ENTIRE_REVISION…) of a PDF entry

    @property
    def ok(self) -> bool:
        """Intact, valid, trusted and no error-level problem (e.g. bytes added after signing)."""
        return self.intact and self.valid and self.trusted and \
            outcome_of(self.problems) is not Outcome.FAILURE


@dataclass(frozen=True)
class SignatureVerification:
    """All signatures of one file plus file-level problems (no signature, unreadable file)."""

    path: str
    checks: tuple[SignatureCheck, ...] = ()
    problems: tuple[Issue, ...] = ()
    dss: LtvMaterial | None = None  # None: the PDF has no Document Security Store

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
            raise ConfigError("CFG002", name="KHOSO_TRUST_DIR", value=str(path), reason=Text(
                f"không đọc được chứng thư gốc (chi tiết kỹ thuật: {exc})", str(exc))) from exc
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

    def _context(self, moment: dt.datetime | None,
                 other_certs: Iterable[ax509.Certificate] = ()) -> Any:
        from pyhanko_certvalidator import ValidationContext

        return ValidationContext(trust_roots=self.trust_roots, moment=moment, allow_fetching=False,
                                 other_certs=list(other_certs))

    def _check(self, status: Any, validate_at: Callable[[dt.datetime], Any], moment: dt.datetime,
               covers_entire_file: bool, field_name: str = "",
               extra: Iterable[Issue] = (), where: str = "",
               require_entire_file: bool = True, proof_of_existence: dt.datetime | None = None,
               kind: SignatureKind = SignatureKind.SIGNATURE, **recorded: Any) -> SignatureCheck:
        """Turn a pyHanko status into a ``SignatureCheck`` with issue codes. A chain not trusted
        now is judged again at the earliest proof of existence: the signature's own trusted
        timestamp token, or ``proof_of_existence`` (a later trusted document timestamp)."""
        cert = status.signing_cert
        signer = _name(cert) or "?"
        not_after = cert["tbs_certificate"]["validity"]["not_after"].native if cert else None
        timestamp = kind is SignatureKind.DOCUMENT_TIMESTAMP
        problems: list[Issue] = []
        validated_at, proven = moment, False
        token = None if timestamp else getattr(status, "timestamp_validity", None)
        if token is not None:
            stamp = TimestampCheck(token.timestamp, bool(token.intact), bool(token.valid),
                                   bool(token.trusted), _name(token.signing_cert))
            recorded["timestamp"] = stamp
            label = f"{field_name} (signature timestamp)"
            if not (stamp.intact and stamp.valid):
                problems.append(Issue("SIG098", where, {"field": label, "time": _iso(stamp.time)}))
            elif not stamp.trusted:
                problems.append(Issue("SIG099", where, {
                    "field": label, "tsa": stamp.tsa or "?", "time": _iso(stamp.time),
                    "detail": getattr(token.trust_problem_indic, "name", "") or "unknown"}))
            elif proof_of_existence is None or stamp.time < proof_of_existence:
                proof_of_existence = stamp.time
        if not (status.intact and status.valid):
            problems.append(Issue("SIG098", where, {"field": field_name, "time": _iso(
                getattr(status, "timestamp", None))}) if timestamp
                else Issue("SIG003", where, {"signer": signer}))
        elif not status.trusted:
            if (proof_of_existence is not None and proof_of_existence < moment
                    and validate_at(proof_of_existence).trusted):
                validated_at, proven = proof_of_existence, True
            elif timestamp:
                expired = not_after is not None and not_after < moment
                detail = (f"expired {_iso(not_after)}" if expired else
                          getattr(status.trust_problem_indic, "name", "") or "unknown")
                problems.append(Issue("SIG099", where, {
                    "field": field_name, "tsa": signer, "time": _iso(status.timestamp),
                    "detail": detail}))
            else:
                expired = not_after is not None and not_after < moment
                if not_after is not None and expired:
                    problems.append(Issue("SIG006", where, {
                        "signer": signer, "not_after": not_after.isoformat(),
                        "validation_time": moment.isoformat()}))
                if not expired or (not_after is not None and  # expired: it has a not_after
                                   not validate_at(not_after - dt.timedelta(seconds=1)).trusted):
                    reason = getattr(status.trust_problem_indic, "name", "") or "không rõ / unknown"
                    problems.append(Issue("SIG004", where, {"signer": signer, "detail": reason}))
        if status.intact and require_entire_file and not covers_entire_file:
            problems.append(Issue("SIG005", where, {"signer": signer}))
        problems.extend(extra)
        trusted = bool(status.trusted) or proven
        if timestamp:
            recorded["timestamp"] = TimestampCheck(
                status.timestamp, bool(status.intact), bool(status.valid), trusted, signer)
        return SignatureCheck(
            bool(status.intact), bool(status.valid), trusted, covers_entire_file,
            signer, getattr(status, "signer_reported_dt", None), not_after, field_name,
            tuple(problems), kind=kind, validated_at=validated_at, proof_of_existence=proven,
            **recorded)


def _iso(moment: dt.datetime | None) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds") if moment else "?"


# What may follow the end pyHanko reports for the last revision's cross-reference section: its
# trailer dictionary (classic xref) or the end of the xref stream object, then startxref and
# %%EOF. Anything else there is bytes no signature or timestamp covers.
_REVISION_TAIL = re.compile(
    rb"\s*(?:endobj\s*|(?:trailer\s*)?<<.*>>\s*)?startxref\s+\d+\s+%%EOF\s*", re.DOTALL)
_TAIL_LIMIT = 1 << 16


def _ends_at_last_revision(reader: Any) -> bool:
    """Nothing but the last revision's trailer after its cross-reference section; False when
    that cannot be read (the newest signature must then cover the whole file)."""
    try:
        xrefs = reader.xrefs
        end = xrefs.get_xref_container_info(xrefs.total_revisions - 1).end_location
        stream = reader.stream
        size = stream.seek(0, os.SEEK_END)
        if size - end > _TAIL_LIMIT:
            return False
        stream.seek(end)
        return _REVISION_TAIL.fullmatch(stream.read(size - end)) is not None
    except (Exception, RecursionError):
        return False


def _skipped_fields(reader: Any, seen: Iterable[Any]) -> list[str]:
    """Filled signature fields pyHanko left out of ``embedded_signatures`` (it drops an unknown
    /SubFilter with a log line), as "name (SubFilter)": they were not checked."""
    from pyhanko.sign.fields import enumerate_sig_fields

    names = {getattr(s, "field_name", None) for s in seen}
    return [f"{name} ({obj.get_object().get('/SubFilter', '-')})"
            for name, obj, _ in enumerate_sig_fields(reader, filled_status=True)
            if name not in names]


def _read_dss(reader: Any) -> tuple[LtvMaterial | None, list[ax509.Certificate]]:
    """The Document Security Store's counts and certificates; (None, []) without a DSS."""
    from pyhanko.sign.validation.dss import DocumentSecurityStore
    from pyhanko.sign.validation.errors import NoDSSFoundError

    try:
        dss = DocumentSecurityStore.read_dss(reader)
        certs = list(dss.load_certs())
    except NoDSSFoundError:
        return None, []
    except Exception as exc:  # a DSS is unsigned material, but a damaged one is a damaged file
        raise ValueError(f"DSS unreadable: {_describe(exc)}") from exc
    return LtvMaterial(len(certs), len(dss.crls), len(dss.ocsps), len(dss.vri_entries)), certs


class PdfSignatureVerifier(_Verifier):
    """Every signature and document timestamp embedded in a PDF; the newest must cover the whole
    file, or its whole revision when only DSS/timestamp updates follow it."""

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

                reader = PdfFileReader(handle, strict=False)
                signatures = list(reader.embedded_signatures)
                skipped = _skipped_fields(reader, signatures)
                dss, dss_certs = _read_dss(reader)
            except (Exception, RecursionError, MemoryError) as exc:
                return SignatureVerification(where, problems=(
                    Issue("SIG002", where, {"detail": _describe(exc)}),))
            unchecked = tuple(Issue("SIG100", where, {"fields": ", ".join(skipped)})
                              for _ in skipped[:1])
            if not signatures:
                return SignatureVerification(where, problems=unchecked or (Issue("SIG001", where),),
                                             dss=dss)
            # Newest first: a document timestamp's time is proof of existence for what it covers.
            ordered = sorted(signatures, key=lambda s: getattr(s, "signed_revision", 0),
                             reverse=True)
            proofs: list[tuple[int, dt.datetime]] = []  # (revision, time) of trusted doc timestamps
            checks = []
            for sig in ordered:
                revision = getattr(sig, "signed_revision", 0)
                later = [t for r, t in proofs if r > revision]
                check = self._one(sig, moment, where, sig is ordered[0],
                                  min(later) if later else None, dss_certs)
                if (check.kind is SignatureKind.DOCUMENT_TIMESTAMP and check.timestamp
                        and check.timestamp.ok):
                    proofs.append((revision, check.timestamp.time))
                checks.append(check)
            return SignatureVerification(where, tuple(reversed(checks)), unchecked, dss=dss)

    def _one(self, sig: Any, moment: dt.datetime, where: str, newest: bool,
             proof: dt.datetime | None, dss_certs: list[ax509.Certificate]) -> SignatureCheck:
        from pyhanko.sign.validation import validate_pdf_signature, validate_pdf_timestamp
        from pyhanko.sign.validation.status import SignatureCoverageLevel

        field = getattr(sig, "field_name", "") or ""
        kind = (SignatureKind.DOCUMENT_TIMESTAMP if sig.sig_object_type == "/DocTimeStamp"
                else SignatureKind.SIGNATURE)

        def validate(at: dt.datetime) -> Any:
            context = self._context(at, dss_certs)
            if kind is SignatureKind.DOCUMENT_TIMESTAMP:
                return validate_pdf_timestamp(sig, context)
            return validate_pdf_signature(sig, context)

        try:
            status = validate(moment)
        except (Exception, RecursionError, MemoryError) as exc:
            detail = f"{field}: {_describe(exc)}" if field else _describe(exc)
            return SignatureCheck(False, False, False, False, field_name=field, kind=kind,
                                  revision=getattr(sig, "signed_revision", None),
                                  problems=(Issue("SIG002", where, {"detail": detail}),))
        extra = []
        level = getattr(status.modification_level, "name", "NONE")
        if level not in ("NONE", "LTA_UPDATES", "FORM_FILLING") or status.docmdp_ok is False:
            extra.append(Issue("SIG007", where, {"signer": _name(status.signing_cert),
                                                 "level": level}))
        recorded: dict[str, Any] = {"revision": getattr(sig, "signed_revision", None),
                                    "later_changes": level,
                                    "coverage": getattr(status.coverage, "name", "")}
        # Only the newest entry can cover the whole file; earlier ones are judged by the diff
        # analysis of the later revisions (SIG007), as a second signer's revision is normal. The
        # newest may stop at its revision when only DSS material follows (a B-LT file).
        entire = status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        lta_tail = (newest and status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
                    and level == "LTA_UPDATES" and _ends_at_last_revision(sig.reader))
        return self._check(
            status, validate, moment, entire, field, extra, where,
            require_entire_file=newest and not lta_tail, proof_of_existence=proof, kind=kind,
            **recorded)


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

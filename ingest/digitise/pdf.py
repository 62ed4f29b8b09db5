"""Page images → one signed two-layer PDF/A-2b: the building block of digitisation (#16).

Steps: check every page (``images``), assemble and OCR to PDF/A (``pdfa``), verify siegfried
says PDF/A-2b, sign as an incremental update (``stamp_sign``), verify again. Work happens in a
temporary folder beside ``out``; the result is fsynced and renamed onto ``out`` only when every
step passed, so a refusal or a crash leaves no file behind (nor a temporary one).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from ingest.digitise import pdfa, stamp_sign
from ingest.digitise.images import MIN_DPI, PageImage, PageLimits, check_pages
from preservation.errors import Conflict, KhosoError, Unavailable, ValidationFailed
from preservation.events import Agent
from preservation.issues import Issue, Report
from preservation.signing import ArchiveSigner

_TOOL_NAMES = {"tesseract": "Tesseract OCR", "ocrmypdf": "OCRmyPDF", "img2pdf": "img2pdf",
               "pyhanko": "pyHanko", "ghostscript": "Ghostscript"}
DEFAULT_FONT = Path("/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf")


@dataclass(frozen=True, slots=True)
class StageTimes:
    """Seconds spent in each stage (wall clock)."""

    check: float
    ocr: float  # img2pdf + ocrmypdf (Tesseract and PDF/A conversion in one tool)
    verify: float  # siegfried + pdftotext on the PDF/A; the signature and siegfried after signing
    sign: float
    total: float


@dataclass(frozen=True, slots=True)
class DigitisedPdf:
    path: Path
    pages: tuple[PageImage, ...]
    page_texts: tuple[str, ...]  # the text layer of each page as pdftotext reads it, NFC
    sha256: str
    size: int
    puid: str  # siegfried's identification of the signed file (fmt/477: PDF/A-2b)
    signed: bool
    signed_at: dt.datetime | None  # the time shown in the stamp (Vietnam offset)
    signer: str  # subject of the signing certificate ("" when unsigned)
    agency_name: str
    tools: dict[str, str]  # tesseract, ocrmypdf, img2pdf, pyhanko, ghostscript (when it ran)
    ocr_language: str
    times: StageTimes
    warnings: tuple[Issue, ...] = field(default=())

    @property
    def page_count(self) -> int:
        return len(self.pages)

    def software_agents(self) -> tuple[Agent, ...]:
        """Each tool that made the file as a PREMIS software agent (for a ``digitization``
        event), Tesseract with its language data."""
        return tuple(
            Agent(f"{tool}-{version}", f"{_TOOL_NAMES.get(tool, tool)} {version}",
                  note=f"-l {self.ocr_language}" if tool == "tesseract" else None)
            for tool, version in sorted(self.tools.items()))


def make_pdf(pages: Sequence[Path], out: Path, *, agency_name: str,
             signer: ArchiveSigner | None, min_dpi: int = MIN_DPI, drawings: bool = False,
             jobs: int | None = None, signed_at: dt.datetime | None = None,
             limits: PageLimits | None = None, font: Path = DEFAULT_FONT,
             page_timeout: int = 120) -> DigitisedPdf:
    """Digitise ``pages`` (in order) into ``out``. Refusals of the input raise
    ``ValidationFailed`` (DIG018 with every DIGxxx problem) or ``Conflict`` (DIG016, ``out``
    exists); failures of the archive's own tools raise ``Unavailable``. ``signer=None`` makes an
    unsigned PDF/A (for tests and previews; TT 05 output is always signed)."""
    started = time.perf_counter()
    out = Path(out)
    _check_output(out)
    base = limits or PageLimits()
    limits = PageLimits(min_dpi=min_dpi, max_pages=base.max_pages,
                        max_page_pixels=base.max_page_pixels)
    checked = check_pages([Path(p) for p in pages], limits, drawings=drawings)
    if signer is not None:
        if not Path(font).is_file():
            raise Unavailable("DIG030", tool=f"font {font}", reason="font file not found")
        problem = stamp_sign.agency_name_problem(agency_name, font)
        if problem is not None:
            raise ValidationFailed(Report([Issue("DIG015", "agency_name",
                                                 {"why": problem[0], "why_en": problem[1]})]),
                                   "DIG018")
    tools = dict(pdfa.tool_versions())
    t_check = time.perf_counter()
    jobs = jobs or os.cpu_count() or 1
    when = (signed_at or dt.datetime.now(dt.UTC)).astimezone(stamp_sign.VIETNAM)
    when = when.replace(microsecond=0)
    with _work_folder(out) as work:
        images_pdf, ocr_pdf, signed_pdf = work / "images.pdf", work / "ocr.pdf", work / "out.pdf"
        pdfa.assemble(checked, images_pdf)
        run = pdfa.ocr_to_pdfa(images_pdf, ocr_pdf, jobs=jobs, page_timeout=page_timeout,
                               pages=len(checked))
        if not run.ghostscript_used:
            tools.pop("ghostscript", None)
        t_ocr = time.perf_counter()
        texts = pdfa.verify_pdfa(ocr_pdf, len(checked))
        t_verify1 = time.perf_counter()
        text = stamp_sign.stamp_text(agency_name, when)
        if signer is not None:
            _sign(ocr_pdf, signed_pdf, signer, text, font, when)
        else:
            tools.pop("pyhanko", None)
            _copy(ocr_pdf, signed_pdf)
        t_sign = time.perf_counter()
        if signer is not None:
            _check_own_signature(signed_pdf, signer)
        puid = pdfa.identify(signed_pdf)
        if puid != pdfa.PDFA_2B:
            raise Unavailable("DIG032", puid=puid or "?")
        digest, size = _fsync_and_hash(signed_pdf)
        _publish(signed_pdf, out)
    done = time.perf_counter()
    warnings = tuple(Issue("DIG050", str(p.path), {"page": i, "file": p.path.name})
                     for i, (p, t) in enumerate(zip(checked, texts, strict=True), start=1)
                     if not t.strip())
    return DigitisedPdf(
        path=out, pages=tuple(checked), page_texts=tuple(texts), sha256=digest, size=size,
        puid=puid, signed=signer is not None, signed_at=when if signer is not None else None,
        signer=signer.subject if signer is not None else "", agency_name=text.agency_name,
        tools=tools, ocr_language=pdfa.OCR_LANGUAGE,
        times=StageTimes(check=t_check - started, ocr=t_ocr - t_check,
                         verify=(t_verify1 - t_ocr) + (done - t_sign),
                         sign=t_sign - t_verify1, total=done - started),
        warnings=warnings)


def _check_output(out: Path) -> None:
    if out.exists() or out.is_symlink():
        raise Conflict("DIG016", str(out), file=str(out))
    if not out.parent.is_dir():
        raise ValidationFailed(Report([Issue("DIG017", "out", {"folder": str(out.parent)})]), "DIG018")


@contextmanager
def _work_folder(out: Path) -> Iterator[Path]:
    """A private folder beside ``out`` (same file system: the final rename is atomic);
    removed whatever happens."""
    try:
        work = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    except OSError as exc:
        raise Unavailable("DIG033", folder=str(out.parent),
                          reason=exc.strerror or type(exc).__name__) from None
    try:
        yield work
    except OSError as exc:  # disk full, folder removed under us
        raise Unavailable("DIG033", folder=str(out.parent),
                          reason=exc.strerror or type(exc).__name__) from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _sign(source: Path, target: Path, signer: ArchiveSigner, text: stamp_sign.StampText,
          font: Path, when: dt.datetime) -> None:
    with source.open("rb") as src, target.open("wb") as dst:
        try:
            stamp_sign.sign_pdfa(src, dst, archive=signer, text=text, font=font, signed_at=when)
        except OSError:
            raise
        except KhosoError:
            raise
        except Exception as exc:  # noqa: BLE001 - pyHanko's many error types: the archive's fault
            raise Unavailable("DIG034", reason=f"{type(exc).__name__}: {exc}") from exc


def _check_own_signature(path: Path, signer: ArchiveSigner) -> None:
    """The signature just written validates with the archive's own certificate as the trust
    anchor and covers the whole file (pyHanko's ``bottom_line`` alone would accept bytes
    appended after it); else DIG036, and nothing is published."""
    from ingest.adapters.signatures import PdfSignatureVerifier

    checks = PdfSignatureVerifier([signer.certificate]).verify(path).checks
    if len(checks) != 1 or not (checks[0].intact and checks[0].valid
                                and checks[0].covers_entire_file):
        found = ", ".join(f"intact={c.intact} valid={c.valid} coverage={c.coverage}"
                          for c in checks) or "no signature"
        raise Unavailable("DIG036", reason=found)


def _copy(source: Path, target: Path) -> None:
    shutil.copyfile(source, target)


def _fsync_and_hash(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb+") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
        os.fsync(f.fileno())
    return digest.hexdigest(), size


def _publish(path: Path, out: Path) -> None:
    """Move into place without replacing a file that appeared meanwhile (link, then unlink)."""
    try:
        os.link(path, out)
    except FileExistsError:
        raise Conflict("DIG016", str(out), file=str(out)) from None
    except OSError:  # a file system without hard links: a rename (may replace a racing file)
        os.replace(path, out)
    else:
        os.unlink(path)
    fd = os.open(out.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

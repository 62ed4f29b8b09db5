"""``make_pdf`` (:mod:`ingest.digitise.pdf`) as the importer's ``Digitiser``: the archive's
signing key and name, the settings' OCR parallelism and limits, its result as the PREMIS event
and the search index need it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ingest.digitise.images import PageLimits, check_pages
from ingest.digitise.importer import PAGE_BREAK, DigitisedDocument, Digitiser
from ingest.digitise.pdf import make_pdf
from preservation.settings import Settings
from preservation.signing import load_signer


class ArchiveDigitiser:
    """Signs with the archive's key (``khoso keys init``); TT 05 Điều 8 khoản 1: the digitising
    archive's name and the signing time show at the top right of the first page."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.signer = load_signer(Path(settings.keys_dir))
        self.limits = PageLimits(max_pages=settings.digitise_max_pages,
                                 max_page_pixels=settings.digitise_max_page_pixels)

    def check(self, pages: Sequence[Path]) -> None:
        check_pages(list(pages), self.limits)

    def __call__(self, pages: Sequence[Path], out: Path) -> DigitisedDocument:
        s = self.settings
        made = make_pdf(pages, out, agency_name=s.archive_name, signer=self.signer,
                        jobs=s.digitise_jobs, limits=self.limits, font=Path(s.digitise_font),
                        page_timeout=s.digitise_page_timeout)
        tesseract = made.tools.get("tesseract", "?")
        times = made.times
        return DigitisedDocument(
            pdf=made.path, pages=made.page_count, text=PAGE_BREAK.join(made.page_texts),
            engine=f"Tesseract {tesseract} ({made.ocr_language})",
            tools=tuple(sorted(made.tools.items())),
            seconds={"check": round(times.check, 3), "ocr_pdfa": round(times.ocr, 3),
                     "verify": round(times.verify, 3), "sign": round(times.sign, 3),
                     "total": round(times.total, 3)},
            signer=made.signer)


def digitiser(settings: Settings) -> Digitiser:
    return ArchiveDigitiser(settings)

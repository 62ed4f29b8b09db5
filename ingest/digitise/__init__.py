"""Digitisation (TT 05/2025/TT-BNV Chương II): page images to signed two-layer PDF/A."""

from ingest.digitise.images import MIN_DPI, MIN_DPI_DRAWINGS, PageImage, PageLimits
from ingest.digitise.pdf import DigitisedPdf, StageTimes, make_pdf

__all__ = ["MIN_DPI", "MIN_DPI_DRAWINGS", "DigitisedPdf", "PageImage", "PageLimits",
           "StageTimes", "make_pdf"]

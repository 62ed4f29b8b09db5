"""Digitise page images into one signed two-layer PDF/A with the archive's own key (#16).

The building block behind ``khoso digitise pdf``: the settings choose the limits, the OCR
processes and the font; the archive's signing key (``khoso keys init``) signs. The file is
written outside the repository (no AIP, no PREMIS event: the import of a hồ sơ records
those); the action is written to the audit log with the file's SHA-256, in the same step as
the file: when the audit entry cannot be written, the file is removed and the error raised.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

from access_api.services.base import Identity, ServiceContext
from ingest.digitise import DigitisedPdf, PageLimits, make_pdf
from ingest.digitise.images import MIN_DPI
from preservation.catalog import audit
from preservation.signing import load_signer

ACTION = "digitise.pdf"


def digitise_pdf(ctx: ServiceContext, identity: Identity, pages: Sequence[Path], out: Path, *,
                 agency_name: str | None = None, drawings: bool = False,
                 min_dpi: int = MIN_DPI) -> DigitisedPdf:
    """``pages`` (in order) → ``out``, signed by the archive; ``agency_name`` defaults to the
    archive's name (KHOSO_ARCHIVE_NAME)."""
    s = ctx.settings
    signer = load_signer(Path(s.keys_dir))
    result = make_pdf(
        pages, out, agency_name=agency_name if agency_name is not None else s.archive_name,
        signer=signer, min_dpi=min_dpi, drawings=drawings, jobs=s.digitise_jobs,
        limits=PageLimits(min_dpi=min_dpi, max_pages=s.digitise_max_pages,
                          max_page_pixels=s.digitise_max_page_pixels),
        font=Path(s.digitise_font), page_timeout=s.digitise_page_timeout)
    try:
        with ctx.catalog.session() as session:
            audit.record(session, identity.actor, ACTION, "file", str(result.path.resolve()),
                         sha256=result.sha256, size=result.size, pages=result.page_count,
                         agency_name=result.agency_name, signer=result.signer,
                         signed_at=result.signed_at.isoformat() if result.signed_at else None,
                         drawings=drawings, tools=result.tools, puid=result.puid)
    except BaseException:
        with contextlib.suppress(OSError):
            result.path.unlink()
        raise
    return result

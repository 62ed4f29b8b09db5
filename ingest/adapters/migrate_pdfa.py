"""PDF → PDF/A-2b with Ghostscript's pdfwrite.

Not ocrmypdf: ocrmypdf 17 refuses ``--skip-text`` with Ghostscript 10.0.0 (Debian 12's), whose
pdfwrite regression can corrupt existing text layers in OCR output, and ``--force-ocr`` would
rasterise the agency's text. Ghostscript alone keeps the text. It exits 0 even on an
encrypted or truncated PDF (writing an empty document), so the source is opened with pikepdf
first and the output is checked to hold as many pages as the source.
"""

from __future__ import annotations

import subprocess
from functools import cache
from pathlib import Path

import pikepdf

from ingest.adapters.migrate import ToolRun, refused
from preservation.catalog.vocab import MigrationTarget
from preservation.errors import Unavailable

GS = "gs"
OPTIONS = ("-dPDFA=2", "-dBATCH", "-dNOPAUSE", "-dNOOUTERSAVE", "-dSAFER", "-dPDFSTOPONERROR",
           "-sColorConversionStrategy=RGB", "-dPDFACompatibilityPolicy=1", "-sDEVICE=pdfwrite")


@cache
def ghostscript_version() -> str:
    try:
        out = subprocess.run([GS, "--version"], capture_output=True, text=True, timeout=30,
                             check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise Unavailable("MIG004", tool="Ghostscript", reason=str(exc)[:200]) from None
    return out.stdout.strip()


def _pages(path: Path, name: str, *, source: bool) -> int:
    target = MigrationTarget.PDFA_2B
    try:
        with pikepdf.open(path) as pdf:
            if pdf.is_encrypted and source:
                raise refused(name, target, "tệp PDF được mã hóa; PDF/A không cho phép mã hóa",
                              "the PDF is encrypted; PDF/A forbids encryption")
            return len(pdf.pages)
    except pikepdf.PasswordError:
        raise refused(name, target, "tệp PDF được bảo vệ bằng mật khẩu",
                      "the PDF is protected by a password") from None
    except pikepdf.PdfError as exc:
        what = ("không đọc được tệp PDF gốc" if source else "Ghostscript tạo ra tệp PDF hỏng",
                "the source PDF cannot be read" if source else "Ghostscript wrote a broken PDF")
        raise refused(name, target, f"{what[0]} (chi tiết kỹ thuật: {str(exc)[:200]})",
                      f"{what[1]} ({str(exc)[:200]})") from None


class GhostscriptPdfa:
    target = MigrationTarget.PDFA_2B
    extension = ".pdf"

    def __init__(self, *, timeout: float) -> None:
        self.timeout = timeout

    def convert(self, source: Path, out: Path, *, name: str) -> ToolRun:
        pages = _pages(source, name, source=True)
        version = ghostscript_version()
        try:
            run = subprocess.run([GS, "-q", *OPTIONS, "-o", str(out), str(source)],
                                 capture_output=True, text=True, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            raise refused(name, self.target, f"Ghostscript chạy quá {self.timeout:g} giây",
                          f"Ghostscript ran longer than {self.timeout:g} s") from None
        except OSError as exc:
            raise Unavailable("MIG004", tool="Ghostscript", reason=str(exc)[:200]) from None
        said = " ".join((run.stderr or run.stdout or "").split())[-300:]
        if run.returncode != 0 or not out.is_file():
            raise refused(name, self.target,
                          f"Ghostscript dừng với mã {run.returncode} (chi tiết kỹ thuật: {said})",
                          f"Ghostscript stopped with exit code {run.returncode}: {said}")
        written = _pages(out, name, source=False)
        if written != pages:
            raise refused(name, self.target,
                          f"bản PDF/A có {written} trang, bản gốc có {pages} trang",
                          f"the PDF/A has {written} pages, the original {pages}")
        return ToolRun("Ghostscript", version, " ".join(OPTIONS))

"""Page images → two-layer PDF/A-2b: img2pdf (lossless: JPEG kept as is, PNG/TIFF as Flate) then
ocrmypdf with Tesseract ``vie`` (invisible text layer), checked by siegfried and pdftotext.

ocrmypdf runs as a child process: a crash or a hang of the OCR engine cannot take the worker
with it, and it can be stopped after a timeout. Tesseract runs with ``OMP_THREAD_LIMIT=1`` and
one process per core: OpenMP threads make a page about 7× slower on a 2-core machine
(measured 2026-12-07, research/toolchain.md §7). ocrmypdf warns "lots of diacritics - possibly
poor OCR" on any Vietnamese page; that warning is false for ``vie`` and is not reported.
Every failure here is the archive's own (its tools, its disk): ``Unavailable``, never the
caller's rejection.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

from ingest.digitise.images import PageImage
from preservation.errors import Unavailable

PDFA_2B = "fmt/477"  # PRONOM: Acrobat PDF/A - Portable Document Format 2b (476 is 2a, 478 2u)
OCR_LANGUAGE = "vie"
_SPECULATIVE_OK = "Speculative PDF/A conversion succeeded"


@dataclass(frozen=True, slots=True)
class OcrRun:
    ghostscript_used: bool  # False when ocrmypdf's speculative PDF/A path sufficed
    log: str  # ocrmypdf's own messages (kept for a failure's detail)


def _run_version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unavailable("DIG030", tool=command[0], reason=str(exc)) from None
    out = (done.stdout or done.stderr).strip().splitlines()
    if done.returncode != 0 or not out:
        raise Unavailable("DIG030", tool=command[0], reason=f"exit {done.returncode}")
    return out[0].strip()


@cache
def tool_versions() -> dict[str, str]:
    """Versions of every tool the conversion may use; raises DIG030 for one that is missing
    (tesseract without the ``vie`` data included)."""
    for tool in ("tesseract", "pdftotext"):
        if shutil.which(tool) is None:
            raise Unavailable("DIG030", tool=tool, reason="not on PATH")
    langs = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True,
                           timeout=30, check=False).stdout.split()
    if OCR_LANGUAGE not in langs:
        raise Unavailable("DIG030", tool=f"tesseract ({OCR_LANGUAGE})",
                          reason="no vie.traineddata (tesseract-ocr-vie)")
    versions = {"tesseract": _run_version(["tesseract", "--version"]).removeprefix("tesseract ")}
    for dist in ("ocrmypdf", "img2pdf", "pyHanko"):
        try:
            versions[dist.lower()] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            raise Unavailable("DIG030", tool=dist, reason="Python package not installed") from None
    if shutil.which("gs"):
        versions["ghostscript"] = _run_version(["gs", "--version"])
    return versions


def assemble(pages: Sequence[PageImage], out: Path) -> None:
    """One lossless image PDF, page size from each image's resolution.

    img2pdf holds the compressed data of every page in memory until it writes (measured
    2026-12-07: 40 A4 300 dpi JPEGs of 5 MB, peak RSS 256 MB; joining one-page PDFs with
    pikepdf instead peaked the same and took 2.7× as long), so memory grows with the
    document's size on disk, not with its pixels."""
    import img2pdf

    try:
        with out.open("wb") as f:
            img2pdf.convert([str(p.path) for p in pages], outputstream=f,
                            rotation=img2pdf.Rotation.ifvalid)
    except OSError as exc:
        raise Unavailable("DIG033", folder=str(out.parent), reason=exc.strerror or str(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - the pages passed our checks: img2pdf's failure is ours
        raise Unavailable("DIG031", reason=f"img2pdf: {type(exc).__name__}: {exc}") from exc


_DISK_FULL = re.compile(r"\[Errno (?:28|122)\] (?:No space left on device|Disk quota exceeded)")


def ocr_to_pdfa(source: Path, out: Path, *, jobs: int, page_timeout: int, pages: int,
                timeout: float | None = None) -> OcrRun:
    """ocrmypdf -l vie --output-type pdfa-2, no image optimisation (the images stay as given).

    It runs in a session of its own with its temporary files in ``out``'s folder: on a timeout
    the whole group (ocrmypdf, its workers, their Tesseracts) is killed, and whatever they
    wrote goes with the caller's work folder."""
    command = [sys.executable, "-m", "ocrmypdf", "-l", OCR_LANGUAGE, "--output-type", "pdfa-2",
               "--jobs", str(max(1, jobs)), "--optimize", "0",
               "--tesseract-timeout", str(page_timeout), str(source), str(out)]
    env = {**os.environ, "OMP_THREAD_LIMIT": "1", "TMPDIR": str(out.parent)}
    if timeout is None:
        timeout = page_timeout * pages / max(1, jobs) + 120
    try:
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, env=env, start_new_session=True)
    except OSError as exc:
        raise Unavailable("DIG030", tool="ocrmypdf", reason=str(exc)) from None
    try:
        _stdout, log = child.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop(child, out)
        raise Unavailable("DIG035", seconds=int(timeout)) from None
    except BaseException:  # interrupted (Ctrl-C, a worker's shutdown): no OCR left running
        _stop(child, out)
        raise
    log = log or ""
    done = child
    if done.returncode != 0:
        last = [line for line in log.strip().splitlines() if line.strip()][-3:]
        detail = " | ".join(last) or "no message"
        if done.returncode == 3:  # ocrmypdf: MissingDependencyError
            raise Unavailable("DIG030", tool="ocrmypdf/tesseract", reason=detail)
        full = _DISK_FULL.search(log)
        if full is not None:  # its temporary files and output are in our work folder
            # was DIG031 "the OCR and PDF/A conversion failed", sending the operator to the tool
            raise Unavailable("DIG033", folder=str(out.parent), reason=full.group(0))
        raise Unavailable("DIG031", reason=f"ocrmypdf exit {done.returncode}: {detail}")
    return OcrRun(ghostscript_used=_SPECULATIVE_OK not in log, log=log)


def page_texts(pdf: Path) -> list[str]:
    """The text layer, page by page, as poppler's pdftotext reads it."""
    try:
        done = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                              timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise Unavailable("DIG030", tool="pdftotext", reason=str(exc)) from None
    if done.returncode != 0:
        raise Unavailable("DIG031", reason="pdftotext: " + done.stderr.decode(errors="replace"))
    text = unicodedata.normalize("NFC", done.stdout.decode("utf-8", errors="replace"))
    pages = text.split("\f")
    return pages[:-1] if pages and pages[-1].strip() == "" else pages


def _stop(child: subprocess.Popen[str], out: Path) -> None:
    """Kill ocrmypdf's whole group and remove what it had written of ``out``: killed while
    writing it (seen on a fast machine within a 1 s limit), it leaves a partial PDF."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child.pid, signal.SIGKILL)
    child.communicate()
    with contextlib.suppress(OSError):
        out.unlink(missing_ok=True)


def unsigned_page_texts(pdf: Path, work: Path) -> list[str]:
    """The text layer of a signed digitised PDF/A as ``page_texts`` read it before signing.

    The signature is an incremental update whose only page content is its visible stamp, a
    widget annotation (the agency's name and the signing time) that pdftotext reads with the
    page: a copy without the signature fields' widgets gives back the OCR layer alone. The
    copy is written in ``work`` and removed."""
    import pikepdf

    copy = work / f"{pdf.stem}.unsigned.pdf"
    try:
        with pikepdf.open(pdf) as doc:
            for page in doc.pages:
                annots = page.obj.get("/Annots")
                if annots is None:
                    continue
                kept = [a for a in annots if not _signature_widget(a)]
                if len(kept) != len(annots):
                    page.obj.Annots = pikepdf.Array(kept)
            doc.save(copy)
    except (pikepdf.PdfError, OSError) as exc:
        raise Unavailable("DIG031", reason=f"pikepdf: {exc}"[:300]) from None
    try:
        return page_texts(copy)
    finally:
        with contextlib.suppress(OSError):
            copy.unlink()


def _signature_widget(annot: object) -> bool:
    """A widget of a signature field (``/FT /Sig`` on it or on its parent field)."""
    get = getattr(annot, "get", None)
    if get is None or get("/Subtype") != "/Widget":
        return False
    parent = get("/Parent")
    return bool(get("/FT") == "/Sig" or (parent is not None and parent.get("/FT") == "/Sig"))


def identify(pdf: Path) -> str:
    """The PRONOM id siegfried gives the file ("" when none)."""
    from ingest.adapters.formats import PygfriedIdentifier

    return PygfriedIdentifier().identify(pdf).puid or ""


def verify_pdfa(pdf: Path, expected_pages: int) -> list[str]:
    """Raises DIG032 unless siegfried says PDF/A-2b and the text layer has every page;
    returns the text of each page."""
    puid = identify(pdf)
    texts = page_texts(pdf)
    if puid != PDFA_2B or len(texts) != expected_pages:
        raise Unavailable("DIG032", puid=f"{puid or '?'}, {len(texts)}/{expected_pages} pages")
    return texts

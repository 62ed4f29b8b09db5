"""Scans → signed two-layer PDF/A with the real tools: img2pdf, ocrmypdf + Tesseract vie,
siegfried, pyHanko, poppler. One 3-page document is made once for the module (OCR costs about
1.3 s a page on an idle core) and every property is checked on it."""

from __future__ import annotations

import datetime as dt
import errno
import re
import subprocess
import unicodedata
from pathlib import Path

import pikepdf
import pytest
from rapidfuzz.distance import Levenshtein

from ingest.adapters.signatures import PdfSignatureVerifier
from ingest.digitise import make_pdf, pdfa
from ingest.digitise import pdf as pdf_module
from ingest.digitise.images import PageLimits
from preservation.errors import Conflict, Unavailable, ValidationFailed
from preservation.signing import ArchiveSigner, init_keys
from tests.support.pages import render_page

AGENCY = "Trung tâm Lưu trữ lịch sử tỉnh Đắk Lắk"
SIGNED_AT = dt.datetime(2026, 12, 7, 5, 30, 15, tzinfo=dt.UTC)
ISO = "2026-12-07T12:30:15+07:00"


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def cer(reference: str, found: str) -> float:
    ref, hyp = _norm(reference), _norm(found)
    return Levenshtein.distance(ref, hyp) / len(ref)


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> ArchiveSigner:
    return init_keys(tmp_path_factory.mktemp("keys"), "Lưu trữ lịch sử tỉnh Đắk Lắk", "DL")


@pytest.fixture(scope="module")
def made(tmp_path_factory, archive):
    folder = tmp_path_factory.mktemp("scans")
    pages, texts = [], []
    for n, dpi in ((1, 200), (2, 300), (3, 200)):
        path = folder / f"hs-0001_{n:02}.png"
        texts.append(render_page(path, n, dpi=dpi))
        pages.append(path)
    out = folder / "hs-0001.pdf"
    result = make_pdf(pages, out, agency_name=AGENCY, signer=archive, signed_at=SIGNED_AT,
                      jobs=2)
    return result, texts


def pdftotext(path: Path, *args: str) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", *args, str(path), "-"],
                          capture_output=True, check=True).stdout.decode()


def test_the_output_is_pdf_a_2b_for_siegfried_and_stays_pdf_1_7(made):
    result, _texts = made
    assert result.puid == "fmt/477" and pdfa.identify(result.path) == "fmt/477"
    with pikepdf.open(result.path) as pdf:
        assert pdf.pdf_version <= "1.7"
        assert str(pdf.Root.get("/Version", "/1.7")) <= "/1.7"
        assert pdf.open_metadata().pdfa_status == "2B"
        assert len(pdf.pages) == 3


def test_the_signature_is_trusted_by_the_archive_root_and_covers_the_whole_file(made, archive):
    result, _texts = made
    checked = PdfSignatureVerifier([archive.certificate]).verify(result.path)
    assert len(checked.checks) == 1 and not checked.problems
    check = checked.checks[0]
    assert check.intact and check.valid and check.trusted
    assert check.coverage == "ENTIRE_FILE" and check.covers_entire_file
    assert check.signing_time == SIGNED_AT


def test_the_signature_is_an_incremental_update_of_the_pdf_a(made):
    data = made[0].path.read_bytes()
    assert data.count(b"%%EOF") >= 2  # the PDF/A revision, then the signed one appended
    first_end = data.index(b"%%EOF") + len(b"%%EOF")
    assert b"/ByteRange" not in data[:first_end]


def test_the_text_layer_holds_the_vietnamese_text_below_2_percent_cer(made):
    result, texts = made
    layer = pdftotext(result.path).split("\f")
    for n, (reference, found) in enumerate(zip(texts, layer, strict=False), start=1):
        found = found.replace(AGENCY, "").replace(ISO, "")  # the stamp on page 1
        assert cer(reference, found) < 0.02, (n, found)
    assert [cer(r, t) < 0.02 for r, t in zip(texts, result.page_texts, strict=True)] == [True] * 3


def test_the_stamp_shows_name_and_time_at_the_top_right_of_page_one_only(made):
    result, _texts = made
    bbox = pdftotext(result.path, "-bbox")
    pages = bbox.split("<page ")[1:]
    first = pages[0]
    width, height = (float(v) for v in re.search(r'width="([\d.]+)" height="([\d.]+)"',
                                                  first).groups())
    words = re.findall(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" '
                       r'yMax="([\d.]+)">([^<]*)</word>', first)
    found = {text: tuple(map(float, box)) for *box, text in words}
    for text in (AGENCY, ISO):
        x0, y0, x1, y1 = found[text]
        assert x0 > width / 2 and x1 <= width and y1 < height * 0.1, (text, found[text])
        assert 9 <= y1 - y0 <= 16  # 10 pt text (poppler's box adds ascent and descent)
    assert all(AGENCY not in p and ISO not in p for p in pages[1:])


def test_the_stamp_font_is_liberation_serif_embedded_as_a_subset(made):
    fonts = subprocess.run(["pdffonts", str(made[0].path)], capture_output=True, text=True,
                           check=True).stdout
    line = next(ln for ln in fonts.splitlines() if "LiberationSerif" in ln)
    assert re.search(r"\+LiberationSerif\S* .* yes yes yes", line), line


def test_the_result_records_tools_times_and_digest(made):
    result, _texts = made
    import hashlib

    assert result.sha256 == hashlib.sha256(result.path.read_bytes()).hexdigest()
    assert result.page_count == 3 and result.signed and result.signed_at.isoformat() == ISO
    assert {"tesseract", "ocrmypdf", "img2pdf", "pyhanko"} <= set(result.tools)
    assert result.tools["tesseract"].startswith("5.")
    agents = {a.name.split()[0]: a for a in result.software_agents()}
    assert agents["Tesseract"].note == "-l vie" and agents["pyHanko"].agent_type == "software"
    assert result.times.ocr > 0 and result.times.sign > 0 and result.times.total >= (
        result.times.ocr + result.times.sign)
    assert result.warnings == ()
    leftovers = [p.name for p in result.path.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


@pytest.fixture
def one_page(tmp_path) -> Path:
    path = tmp_path / "scan.png"
    render_page(path, 1, paragraphs=["Lưu trữ"])
    return path


def test_a_refused_page_leaves_no_file(tmp_path, archive):
    low = tmp_path / "low.png"
    render_page(low, 1, dpi=150)
    with pytest.raises(ValidationFailed) as info:
        make_pdf([low], tmp_path / "out.pdf", agency_name=AGENCY, signer=archive)
    assert [i.code for i in info.value.report.issues] == ["DIG006"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["low.png"]


def test_an_agency_name_the_font_cannot_show_is_refused_before_any_ocr(one_page, archive):
    with pytest.raises(ValidationFailed) as info:
        make_pdf([one_page], one_page.parent / "o.pdf", agency_name="档案馆", signer=archive)
    assert [i.code for i in info.value.report.issues] == ["DIG015"]


def test_a_missing_stamp_font_is_the_archives_fault_found_before_any_ocr(one_page, archive):
    with pytest.raises(Unavailable) as info:
        make_pdf([one_page], one_page.parent / "o.pdf", agency_name=AGENCY, signer=archive,
                 font=one_page.parent / "TimesNewRoman.ttf")
    assert info.value.code == "DIG030" and "TimesNewRoman.ttf" in info.value.message("vi")
    assert sorted(p.name for p in one_page.parent.iterdir()) == ["scan.png"]


def test_an_existing_output_is_never_overwritten(one_page, archive):
    out = one_page.parent / "exists.pdf"
    out.write_bytes(b"keep me")
    with pytest.raises(Conflict) as info:
        make_pdf([one_page], out, agency_name=AGENCY, signer=archive)
    assert info.value.code == "DIG016" and out.read_bytes() == b"keep me"


def test_a_missing_output_folder_is_refused(one_page, archive):
    with pytest.raises(ValidationFailed) as info:
        make_pdf([one_page], one_page.parent / "no" / "o.pdf", agency_name=AGENCY,
                 signer=archive)
    assert [i.code for i in info.value.report.issues] == ["DIG017"]


def test_tesseract_missing_is_the_archives_fault_and_leaves_nothing(one_page, archive,
                                                                    monkeypatch, tmp_path):
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    pdfa.tool_versions.cache_clear()
    try:
        with pytest.raises(Unavailable) as info:
            make_pdf([one_page], one_page.parent / "o.pdf", agency_name=AGENCY, signer=archive)
    finally:
        pdfa.tool_versions.cache_clear()
    assert info.value.code == "DIG030" and info.value.transient
    assert "tesseract" in info.value.message("en")
    assert sorted(p.name for p in one_page.parent.iterdir()) == ["bin", "scan.png"]


def test_ocrmypdf_failing_without_the_vie_data_is_the_archives_fault(one_page, archive,
                                                                     monkeypatch, tmp_path):
    pdfa.tool_versions()  # found with the real data; then the data goes away under ocrmypdf
    no_data = tmp_path / "tessdata"
    no_data.mkdir()
    monkeypatch.setenv("TESSDATA_PREFIX", str(no_data))
    with pytest.raises(Unavailable) as info:
        make_pdf([one_page], one_page.parent / "o.pdf", agency_name=AGENCY, signer=archive)
    assert info.value.code in {"DIG030", "DIG031"}
    assert sorted(p.name for p in one_page.parent.iterdir()) == ["scan.png", "tessdata"]


def test_a_full_disk_while_writing_leaves_no_partial_file(one_page, archive, monkeypatch):
    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pdf_module.os, "fsync", full)
    with pytest.raises(Unavailable) as info:
        make_pdf([one_page], one_page.parent / "o.pdf", agency_name=AGENCY, signer=archive,
                 limits=PageLimits())
    assert info.value.code == "DIG033"
    assert "No space left" in info.value.message("en")
    assert sorted(p.name for p in one_page.parent.iterdir()) == ["scan.png"]


def test_a_signing_key_that_does_not_match_its_certificate_publishes_nothing(one_page, archive):
    from cryptography.hazmat.primitives.asymmetric import ec

    wrong = ArchiveSigner(ec.generate_private_key(ec.SECP256R1()), archive.certificate)
    with pytest.raises(Unavailable) as info:
        make_pdf([one_page], one_page.parent / "o.pdf", agency_name=AGENCY, signer=wrong)
    assert info.value.code == "DIG036" and "valid=False" in info.value.message("en")
    assert sorted(p.name for p in one_page.parent.iterdir()) == ["scan.png"]


def _processes_naming(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and text.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_ocr_past_its_time_is_stopped_with_every_child_process(one_page, tmp_path):
    from ingest.digitise.images import check_pages

    work = tmp_path / "work"
    work.mkdir()
    pdfa.assemble(check_pages([one_page], PageLimits()), work / "images.pdf")
    out = work / "ocr-timeout-probe.pdf"
    with pytest.raises(Unavailable) as info:
        pdfa.ocr_to_pdfa(work / "images.pdf", out, jobs=1, page_timeout=60, pages=1,
                         timeout=1)  # ocrmypdf alone takes longer to start and read a page
    assert info.value.code == "DIG035" and info.value.transient
    # ocrmypdf names ``out``; its workers and Tesseract name their files in TMPDIR (``work``)
    assert _processes_naming(str(work)) == [] and not out.exists()

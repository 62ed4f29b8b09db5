"""Done when (#16): a paper hồ sơ of two documents (two and three pages of rendered Vietnamese
text) digitised end to end with the real tools — each document one signed two-layer PDF/A that
siegfried identifies as PDF/A-2, whose signature pyHanko validates against the archive's own
certificate and which covers the whole file, whose text layer reads the printed text back
(CER < 2 %), stored in every location as an AIP_hoso (confidenceLevel 02, paperFileCode) with
PREMIS digitization events, and found by a word of its body through the search API and CLI."""

from __future__ import annotations

import re
import subprocess
import unicodedata
from pathlib import Path

import sqlalchemy as sa
from rapidfuzz.distance import Levenshtein

from access_api.app import create_app
from access_api.services import digitisation as service
from access_api.services.base import Identity, ServiceContext, UserRole
from access_api.services.search import reindex
from ingest.digitise.importer import DIGITIZATION, Options
from preservation.catalog.models import (
    AuditEntry,
    Bitstream,
    Document,
    DocumentOcrText,
    Package,
    PremisEvent,
    RecordFile,
    StoredCopy,
)
from preservation.metadata.identifiers import arc_file_code_of
from preservation.signing import load_signer
from tests.support.cli import as_json, cli_env, run
from tests.support.digitised import FILE_CODE, PAPER_CODE, TEXTS, make_folder
from tests.support.sips import FOND

ARC = arc_file_code_of("TTLTNA", FILE_CODE)  # the hồ sơ's code in the AIP (arcFileCode)
ARCHIVIST = Identity("luu-tru-vien", frozenset({UserRole.ARCHIVIST}))
OPTIONS = Options(file_code=FILE_CODE, fond_code=FOND, operator="Nguyễn Thị Số Hóa",
                  scanner="Fujitsu fi-7160 số máy A1")


def _words(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


def page_texts(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                         check=True).stdout.decode()
    pages = out.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


STAMP_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+07:00")


def without_stamp(text: str, agency: str) -> str:
    """The page's text without the visible signature (agency name, signing time), which
    pdftotext reads from the first page of the signed file beside the OCR layer."""
    assert len(STAMP_TIME.findall(text)) <= 1
    return STAMP_TIME.sub(" ", text).replace(agency, " ", 1)


def cer(truth: str, read: str) -> float:
    truth, read = _words(truth), _words(read)
    return Levenshtein.distance(truth, read) / len(truth)


def check_signature(pdf: Path, root) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    from ingest.adapters.signatures import to_asn1

    with pdf.open("rb") as f:
        reader = PdfFileReader(f)
        assert len(reader.embedded_signatures) == 1
        status = validate_pdf_signature(
            reader.embedded_signatures[0],
            ValidationContext(trust_roots=[to_asn1(root)], allow_fetching=False))
        assert status.intact and status.valid and status.trusted, status.pretty_print_details()
        assert status.coverage is SignatureCoverageLevel.ENTIRE_FILE


def test_a_paper_hoso_digitised_end_to_end(khoso, tmp_path):
    folder = make_folder(tmp_path / "quet", FILE_CODE)
    ctx = ServiceContext(khoso.settings, khoso.catalog)
    done = service.run_now(ctx, ARCHIVIST, folder, OPTIONS)
    assert done.error is None, done.error
    outcome = done.outcome
    assert outcome is not None and outcome.accepted, outcome.to_dict()

    names = [f"{FILE_CODE}.1.pdf", f"{FILE_CODE}.2.pdf"]
    with khoso.catalog.session() as s:
        pkg = s.scalar(sa.select(Package).where(Package.objid == outcome.objid))
        rf = s.get_one(RecordFile, pkg.record_file_id)
        assert (rf.arc_file_code, rf.confidence_level, rf.paper_file_code) == (
            ARC, "02", PAPER_CODE)
        docs = s.scalars(sa.select(Document).where(Document.package_id == pkg.id)
                         .order_by(Document.doc_ordinal)).all()
        assert [d.confidence_level for d in docs] == ["02", "02"]
        assert [d.number_of_page for d in docs] == [2, 3]
        pdfs = s.scalars(sa.select(Bitstream.path).where(
            Bitstream.package_id == pkg.id, Bitstream.path.like("%.pdf"))).all()
        assert sorted(Path(p).name for p in pdfs) == names
        assert {c.location for c in s.scalars(sa.select(StoredCopy).where(
            StoredCopy.package_id == pkg.id))} == {"replica1", "replica2"}
        events = s.scalars(sa.select(PremisEvent).where(
            PremisEvent.package_id == pkg.id, PremisEvent.event_type == DIGITIZATION)).all()
        assert len(events) == 2 and {e.outcome for e in events} == {"success"}
        assert all(e.bitstream_id is not None for e in events)
        agents = {(a.agent_type, a.name) for e in events for a in e.agents}
        assert ("person", OPTIONS.operator) in agents
        assert ("hardware", OPTIONS.scanner) in agents
        assert any(t == "software" and n.startswith("tesseract ") for t, n in agents)
        ocr = {d.doc_ordinal: t for d, t in s.execute(
            sa.select(Document, DocumentOcrText.text).join(
                DocumentOcrText, DocumentOcrText.document_id == Document.id))}
        assert set(ocr) == {1, 2}  # the OCR layer itself, read before signing
        for ordinal, pages in ((1, TEXTS[0]), (2, TEXTS[1])):
            assert cer("\f".join(pages), ocr[ordinal]) < 0.02, ocr[ordinal]
        assert s.scalar(sa.select(sa.func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "digitisation.start")) == 1

    root = load_signer(Path(khoso.settings.keys_dir)).certificate
    from pygfried import identify

    for replica in ("replica1", "replica2"):
        stored = sorted(khoso.replica(replica).rglob(f"{FILE_CODE}.*.pdf"))
        assert [p.name for p in stored] == names
        premis = next(khoso.replica(replica).rglob("PREMIS_rep1.xml")).read_text("utf-8")
        assert premis.count(">imaging<") == 2 and premis.count("digitization (số hóa)") == 2
        assert OPTIONS.scanner in premis
    for pdf, pages in zip(stored, TEXTS, strict=True):
        assert identify(str(pdf)) == "fmt/477"  # siegfried: PDF/A-2b
        check_signature(pdf, root)
        read = page_texts(pdf)
        assert len(read) == len(pages)
        assert STAMP_TIME.search(read[0]) and khoso.settings.archive_name in read[0]
        read[0] = without_stamp(read[0], khoso.settings.archive_name)
        for truth, text in zip(pages, read, strict=True):
            assert cer(truth, text) < 0.02, (truth, text)

    # found by words that are only in the pages' text, not in any metadata
    sheet = (folder / "hoso.csv").read_text("utf-8").casefold()
    assert "phương án" not in sheet and "tổ chức chính quyền" not in sheet
    assert "thường trực" not in sheet
    client = create_app(khoso.settings, khoso.catalog).test_client()
    body = client.get("/api/v1/search", query_string={"q": "phuong an sap xep"}).get_json()
    assert [h["docCode"] for h in body["hits"]] == [f"{ARC}.0000002"]
    body = client.get("/api/v1/search", query_string={"q": "Ban Tổ chức chính quyền"}).get_json()
    assert [h["docCode"] for h in body["hits"]] == [f"{ARC}.0000001"]
    # a whole reindex reads the OCR text again from the catalog (document_ocr_text)
    reindex(ctx, Identity.system("tester"))
    body = client.get("/api/v1/search", query_string={"q": "phuong an sap xep"}).get_json()
    assert [h["docCode"] for h in body["hits"]] == [f"{ARC}.0000002"]
    result = run(cli_env(khoso), "search", "query", "thuong", "truc", "--json")
    assert result.exit_code == 0, result.output
    assert [h["docCode"] for h in as_json(result)["hits"]] == [f"{ARC}.0000002"]

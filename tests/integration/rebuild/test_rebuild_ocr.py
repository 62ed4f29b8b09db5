"""A catalog rebuilt from storage restores the OCR text of digitised documents
(``document_ocr_text``) from what the AIP keeps of it, the text layer of each signed PDF/A,
and indexes it: after ``khoso catalog rebuild`` into an empty catalog, search finds a
digitised document by a word that is only in its pages' text."""

from __future__ import annotations

import sqlalchemy as sa
from click.testing import CliRunner

from access_api.app import create_app
from access_api.cli import main
from access_api.services import digitisation as service
from access_api.services.base import Identity, ServiceContext, UserRole
from ingest.digitise.importer import Options
from preservation.catalog.models import Document, DocumentOcrText
from preservation.metadata.identifiers import arc_file_code_of
from tests.support.cli import cli_env
from tests.support.digitised import FILE_CODE, make_folder
from tests.support.sips import FOND

ARC = arc_file_code_of("TTLTNA", FILE_CODE)
ARCHIVIST = Identity("luu-tru-vien", frozenset({UserRole.ARCHIVIST}))


def ocr_rows(catalog) -> dict[str, tuple[int, str, str]]:
    with catalog.session() as s:
        return {code: (pages, engine, text) for code, pages, engine, text in s.execute(
            sa.select(Document.doc_code, DocumentOcrText.pages, DocumentOcrText.engine,
                      DocumentOcrText.text)
            .join(DocumentOcrText, DocumentOcrText.document_id == Document.id))}


def test_rebuild_restores_the_ocr_text_and_search_finds_it(khoso, target, tmp_path):
    done = service.run_now(ServiceContext(khoso.settings, khoso.catalog), ARCHIVIST,
                           make_folder(tmp_path / "quet", FILE_CODE),
                           Options(file_code=FILE_CODE, fond_code=FOND))
    assert done.error is None and done.outcome is not None and done.outcome.accepted, done
    before = ocr_rows(khoso.catalog)
    assert len(before) == 2

    env = {**cli_env(khoso), "KHOSO_DATABASE_URL": target.url}
    result = CliRunner().invoke(main, ["--lang", "en", "catalog", "rebuild", "--json"], env=env,
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output

    assert ocr_rows(target) == before, "the same text, page count and engine as at ingest"
    client = create_app(khoso.settings.__class__(**{**vars(khoso.settings),
                                                    "database_url": target.url}),
                        target).test_client()
    # words only in the pages' text (tests.support.digitised.TEXTS), never in the metadata
    body = client.get("/api/v1/search", query_string={"q": "phuong an sap xep"}).get_json()
    assert [h["docCode"] for h in body["hits"]] == [f"{ARC}.0000002"], body
    body = client.get("/api/v1/search", query_string={"q": "Ban Tổ chức chính quyền"}).get_json()
    assert [h["docCode"] for h in body["hits"]] == [f"{ARC}.0000001"], body


def test_without_a_text_reader_each_digitised_document_is_a_warning(khoso, target, tmp_path):
    """``rebuild_catalog`` given no OCR reader restores the documents without their text and
    says so per PDF (RBD090), instead of leaving the text out silently."""
    from storage.locations import open_storage
    from storage.rebuild import rebuild_catalog

    done = service.run_now(ServiceContext(khoso.settings, khoso.catalog), ARCHIVIST,
                           make_folder(tmp_path / "quet", FILE_CODE),
                           Options(file_code=FILE_CODE, fond_code=FOND))
    assert done.outcome is not None and done.outcome.accepted, done
    storages = [open_storage(loc) for loc in khoso.settings.storage_locations]
    report = rebuild_catalog(target, storages, archive_code=khoso.settings.archive_code)
    warned = [p for p in report.to_dict()["problems"] if p["code"] == "RBD090"]
    assert sorted(p["params"]["file"].rsplit("/", 1)[-1] for p in warned) == [
        f"{FILE_CODE}.1.pdf", f"{FILE_CODE}.2.pdf"], report.to_dict()["problems"]
    assert all(p["severity"] == "warning" for p in warned)
    assert report.ocr_texts == 0 and ocr_rows(target) == {}
    with target.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Document)) == 2

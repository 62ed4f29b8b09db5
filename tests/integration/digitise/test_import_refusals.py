"""A digitisation that cannot be made into an AIP is refused with codes a person can act on,
and leaves nothing stored: no AIP, no document, no OCR text, nothing in any location. The
archive's own faults (the OCR tools) leave the job queued for a retry, not refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from access_api.services import digitisation as service
from access_api.services.base import Identity, ServiceContext, UserRole
from access_api.services.wiring import build_services
from ingest.digitise import importer
from ingest.digitise.importer import Options
from ingest.jobs import run_job
from preservation.catalog.models import Document, DocumentOcrText, Job, Package
from preservation.catalog.vocab import JobStatus, PackageKind
from preservation.errors import Conflict, Unavailable, ValidationFailed
from tests.support.digitised import FILE_CODE, make_folder, render_page, rows, write_sheet
from tests.support.sheets import FILE_CODE as HELD_CODE
from tests.support.sips import FOND, make_sip

ARCHIVIST = Identity("luu-tru-vien", frozenset({UserRole.ARCHIVIST}))
SMALL = [["Trang một của văn bản"], ["Trang hai", "Trang ba"]]


def options(code: str = FILE_CODE, **changes) -> Options:
    return Options(**{"file_code": code, "fond_code": FOND, "operator": "Nguyễn Văn A",
                      **changes})


def nothing_stored(khoso) -> None:
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Package).where(
            Package.kind == PackageKind.AIP)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(Document)) == 0
        assert s.scalar(sa.select(sa.func.count()).select_from(DocumentOcrText)) == 0
    for replica in ("replica1", "replica2"):  # the audit log and the rejection record only
        stored = [p.relative_to(khoso.replica(replica)).parts for p in
                  khoso.replica(replica).rglob("*") if p.is_file()]
        assert all(parts[1].startswith("_") for parts in stored), stored


def refused(khoso, folder: Path, opts: Options | None = None):
    done = service.run_now(ServiceContext(khoso.settings, khoso.catalog), ARCHIVIST, folder,
                           opts or options())
    assert done.error is None, done.error
    assert done.outcome is not None and not done.outcome.accepted
    assert done.outcome.failed_step == "digitise"
    with khoso.catalog.session() as s:
        assert s.get_one(Job, done.job_id).status == JobStatus.FAILED
    return {(i.code, i.path) for i in done.outcome.report.errors}


def test_a_refused_page_refuses_the_hoso_before_any_ocr(khoso, tmp_path, monkeypatch):
    folder = make_folder(tmp_path / "quet", texts=SMALL)
    render_page(folder / "tai-lieu-2" / "002.tif", "Trang hai", dpi=100)  # under 200 dpi
    render_page(folder / "tai-lieu-1" / "001.png", "Trang một", mode="L")  # greyscale
    calls = []
    real = importer.production_digitiser

    def counting(settings):
        digitiser = real(settings)

        class Counting:
            check = digitiser.check

            def __call__(self, pages, out):
                calls.append(out)
                return digitiser(pages, out)
        return Counting()

    monkeypatch.setattr(importer, "production_digitiser", counting)
    found = refused(khoso, folder)
    assert {("DIG115", "tai-lieu-1"), ("DIG115", "tai-lieu-2"), ("DIG007", "tai-lieu-1/001.png"),
            ("DIG006", "tai-lieu-2/002.tif")} <= found
    assert calls == []  # every page checked first: no OCR spent on a hồ sơ that is refused
    nothing_stored(khoso)


def test_folder_problems_are_refused_with_their_codes(khoso, tmp_path):
    folder = make_folder(tmp_path / "quet", texts=SMALL)
    for page in (folder / "tai-lieu-1").iterdir():
        page.unlink()
    (folder / "thua").mkdir()
    assert refused(khoso, folder) >= {("DIG106", "tai-lieu-1"), ("DIG108", "thua")}
    nothing_stored(khoso)
    (folder / "hoso.csv").unlink()
    assert ("DIG100", "") in refused(khoso, folder)
    nothing_stored(khoso)


def test_a_hoso_already_held_is_refused_before_and_inside_the_job(khoso, tmp_path):
    assert khoso.ingest(make_sip(tmp_path / "sip")).accepted
    folder = make_folder(tmp_path / "quet", HELD_CODE, texts=SMALL)
    ctx = ServiceContext(khoso.settings, khoso.catalog)
    with pytest.raises(Conflict) as caught:
        service.check(ctx, options(HELD_CODE))
    assert caught.value.code == "DIG112"
    # held by the time the job runs (queued before the other ingest registered)
    job_id = service._create(ctx, ARCHIVIST, folder, options(HELD_CODE), staged=False,
                             lease=60.0)
    outcome = run_job(khoso.settings, khoso.catalog, job_id,
                      services=build_services(khoso.settings))
    assert outcome is not None and not outcome.accepted
    assert "DIG112" in {i.code for i in outcome.report.errors}
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Package).where(
            Package.kind == PackageKind.AIP)) == 1


def test_bad_codes_and_an_unknown_fonds_are_refused_at_once(khoso, tmp_path):
    ctx = ServiceContext(khoso.settings, khoso.catalog)
    folder = make_folder(tmp_path / "quet", texts=SMALL)
    for opts, code in ((options("khong-phai-ma"), "DIG103"),
                       (options(paper_file_code="khong"), "DIG109"),
                       (options(fond_code="P999"), "DIG113")):
        with pytest.raises(ValidationFailed) as caught:
            service.run_now(ctx, ARCHIVIST, folder, opts)
        assert caught.value.code == code
    with khoso.catalog.session() as s:
        assert s.scalar(sa.select(sa.func.count()).select_from(Job)) == 0


def test_the_sheet_naming_another_hoso_or_no_paper_code(khoso, tmp_path):
    folder = make_folder(tmp_path / "quet", texts=SMALL, paper=None)
    assert {c for c, _ in refused(khoso, folder)} == {"DIG109"}
    write_sheet(folder / "hoso.csv", rows("H49.64.33.2001.777", 2))
    assert {c for c, _ in refused(khoso, folder)} == {"DIG104"}
    nothing_stored(khoso)


def test_the_ocr_tools_failing_is_the_archives_fault_and_retried(khoso, tmp_path,
                                                                  monkeypatch):
    folder = make_folder(tmp_path / "quet", texts=SMALL)

    class Broken:
        def check(self, pages):
            return None

        def __call__(self, pages, out):
            raise Unavailable("DIG030", tool="tesseract", reason="not on PATH")

    monkeypatch.setattr(importer, "production_digitiser", lambda settings: Broken())
    done = service.run_now(ServiceContext(khoso.settings, khoso.catalog), ARCHIVIST, folder,
                           options())
    assert done.requeued and done.error is not None and done.error.code == "DIG030"
    with khoso.catalog.session() as s:
        assert s.get_one(Job, done.job_id).status == JobStatus.QUEUED
    nothing_stored(khoso)

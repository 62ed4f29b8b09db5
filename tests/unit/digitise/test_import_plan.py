"""The digitisation folder, checked before a page is read: every problem with its code, the
pages of each document in natural order, nothing outside the folder followed."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from ingest.digitise.importer import Options, _scans_root, document_name, plan_folder
from preservation.issues import Report
from tests.support.digitised import FILE_CODE, PAPER_CODE, make_folder, rows, write_sheet

OPTIONS = Options(file_code=FILE_CODE, fond_code="P623", operator="Nguyễn Văn A")
SMALL = [["Trang một"], ["Trang hai", "Trang ba"]]


def codes(plan) -> set[str]:
    return {i.code for i in plan.report.errors}


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_folder(tmp_path / "scan", texts=SMALL)


def test_a_good_folder_plans_each_document_with_its_pages_in_order(folder: Path) -> None:
    (folder / "tai-lieu-2" / "010.png").write_bytes((folder / "tai-lieu-1" / "001.png").read_bytes())
    (folder / "tai-lieu-2" / "009.png").write_bytes((folder / "tai-lieu-1" / "001.png").read_bytes())
    plan = plan_folder(folder, OPTIONS)
    assert plan.report.ok, plan.report.to_dict()
    assert [d.ordinal for d in plan.documents] == [1, 2]
    assert [p.name for p in plan.documents[1].pages] == ["001.tif", "002.jpg", "009.png",
                                                          "010.png"]
    assert plan.hoso is not None
    assert plan.hoso["confidenceLevel"] == "02" and plan.hoso["paperFileCode"] == PAPER_CODE
    assert document_name(FILE_CODE, 2) == f"{FILE_CODE}.2.pdf"


def test_the_paper_code_given_wins_over_the_sheet_and_is_checked(folder: Path) -> None:
    plan = plan_folder(folder, Options(FILE_CODE, "P623", paper_file_code="TTLTNA.K9.7"))
    assert plan.hoso is not None and plan.hoso["paperFileCode"] == "TTLTNA.K9.7"
    assert codes(plan_folder(folder, Options(FILE_CODE, "P623",
                                             paper_file_code="nodots"))) == {"DIG109"}


@pytest.mark.parametrize("paper", [None, "no-dots"])
def test_a_digitised_hoso_needs_a_paper_file_code(tmp_path: Path, paper: str | None) -> None:
    folder = make_folder(tmp_path / "scan", texts=SMALL, paper=paper)
    assert codes(plan_folder(folder, OPTIONS)) == {"DIG109"}


def test_no_sheet_and_two_sheets_are_refused(folder: Path) -> None:
    (folder / "hoso.csv").rename(folder / "hoso.json.bak")
    assert "DIG100" in codes(plan_folder(folder, OPTIONS))
    (folder / "hoso.json.bak").rename(folder / "hoso.csv")
    (folder / "khac.json").write_text("[]", encoding="utf-8")
    assert codes(plan_folder(folder, OPTIONS)) == {"DIG101"}


def test_sheet_without_one_hoso_row_is_refused(folder: Path) -> None:
    write_sheet(folder / "hoso.csv", rows(count=2)[1:])
    assert codes(plan_folder(folder, OPTIONS)) == {"DIG102"}


def test_malformed_code_and_a_sheet_naming_another_hoso(folder: Path) -> None:
    assert "DIG103" in codes(plan_folder(folder, Options("khong-phai-ma", "P623")))
    other = Options("H49.64.33.2001.999", "P623")
    assert codes(plan_folder(folder, other)) == {"DIG104"}


def test_document_folders_missing_outside_or_linked_are_refused(folder: Path,
                                                                tmp_path: Path) -> None:
    table = rows(count=2)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "001.png").write_bytes((folder / "tai-lieu-1" / "001.png").read_bytes())
    for name in ("khong-co", "../outside", "", "lien-ket"):
        table[2]["file"] = name
        write_sheet(folder / "hoso.csv", table)
        if name == "lien-ket":
            os.symlink(outside, folder / "lien-ket")
        found = plan_folder(folder, OPTIONS)
        assert "DIG105" in codes(found), name
        assert all(d.folder != "../outside" for d in found.documents)


def test_empty_folder_non_image_and_stray_entries(folder: Path) -> None:
    for page in (folder / "tai-lieu-1").iterdir():
        page.unlink()
    (folder / "tai-lieu-2" / "ghi-chu.txt").write_text("x", encoding="utf-8")
    (folder / "thua").mkdir()
    (folder / "README.md").write_text("x", encoding="utf-8")
    plan = plan_folder(folder, OPTIONS)
    paths = {(i.code, i.path) for i in plan.report.errors}
    assert paths == {("DIG106", "tai-lieu-1"), ("DIG107", "tai-lieu-2/ghi-chu.txt"),
                     ("DIG108", "thua"), ("DIG107", "README.md")}


def test_confidence_level_other_than_digitised_and_no_documents(folder: Path) -> None:
    table = rows(count=2)
    table[0]["confidenceLevel"] = "01"
    write_sheet(folder / "hoso.csv", table)
    assert codes(plan_folder(folder, OPTIONS)) == {"DIG110"}
    write_sheet(folder / "hoso.csv", rows(count=0))
    assert codes(plan_folder(folder, OPTIONS)) == {"DIG111", "DIG108"}


def test_an_unreadable_sheet_says_why(folder: Path) -> None:
    (folder / "hoso.csv").write_bytes(b"PK\x03\x04 not a csv")
    assert codes(plan_folder(folder, OPTIONS)) & {"SHEET004", "SIP010"}


def test_a_zip_is_unpacked_safely_and_its_top_folder_looked_through(folder: Path,
                                                                     tmp_path: Path) -> None:
    archive = tmp_path / "scan.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                z.write(path, f"scan/{path.relative_to(folder).as_posix()}")
    report = Report()
    root = _scans_root(archive, tmp_path / "work", report)
    assert report.ok and root is not None and root.name == "scan"
    assert plan_folder(root, OPTIONS).report.ok


def test_a_hostile_zip_is_refused_and_writes_nothing_outside(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("../../escaped.txt", "x")
        z.writestr("hoso.csv", "kind\nhoso\n")
    report = Report()
    assert _scans_root(archive, tmp_path / "work", report) is None
    assert {i.code for i in report.errors} == {"PKG004"}  # a path leaving the folder
    assert not (tmp_path / "work" / "scans").exists()
    assert not (tmp_path / "escaped.txt").exists() and not (tmp_path.parent / "escaped.txt").exists()
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    report = Report()
    assert _scans_root(junk, tmp_path / "work2", report) is None
    assert {i.code for i in report.errors} == {"PKG001"}  # not an archive at all
    report = Report()
    assert _scans_root(tmp_path / "absent", tmp_path / "work3", report) is None
    assert {i.code for i in report.errors} == {"DIG116"}


def test_a_refusal_is_reported_relative_to_the_folder_and_a_tool_failure_is_retried(
        tmp_path: Path) -> None:
    from ingest.digitise.importer import Digitisation, PlannedDocument
    from preservation.errors import KhosoError, Unavailable, ValidationFailed
    from preservation.issues import Issue

    root = tmp_path / "scan"
    page = root / "tai-lieu-1" / "001.png"
    doc = PlannedDocument(3, 1, {}, "tai-lieu-1", (page,))

    def refuse() -> None:
        raise ValidationFailed(Report([Issue("DIG006", str(page), {
            "file": str(page), "dpi": "100 x 100", "min_dpi": 200})]), "DIG018")

    report = Report()
    assert Digitisation._guard(doc, root, report, refuse) is None
    assert [(i.code, i.path) for i in report.errors] == [("DIG115", "tai-lieu-1"),
                                                        ("DIG006", "tai-lieu-1/001.png")]
    assert report.errors[1].params["file"] == "tai-lieu-1/001.png"  # not the archive's disk

    def broken() -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(Unavailable) as caught:
        Digitisation._guard(doc, root, Report(), broken)
    assert caught.value.code == "DIG114" and caught.value.transient

    def down() -> None:
        raise Unavailable("DIG030", tool="tesseract", reason="missing")

    with pytest.raises(KhosoError) as again:
        Digitisation._guard(doc, root, Report(), down)
    assert again.value.code == "DIG030"


def test_the_whole_hoso_as_one_pdf_takes_the_pages_at_the_top(tmp_path: Path) -> None:
    from ingest.digitise.importer import WHOLE
    from tests.support.digitised import render_page

    folder = tmp_path / "scan"
    table = rows(count=1)
    table[1]["file"] = WHOLE
    folder.mkdir()
    write_sheet(folder / "hoso.csv", table)
    for name in ("10.png", "2.png", "1.png"):
        render_page(folder / name, "Trang")
    plan = plan_folder(folder, OPTIONS)
    assert plan.report.ok, plan.report.to_dict()
    assert [p.name for p in plan.documents[0].pages] == ["1.png", "2.png", "10.png"]
    assert document_name(FILE_CODE, 1, whole=True) == f"{FILE_CODE}.pdf"
    (folder / "ghi-chu.txt").write_text("x", encoding="utf-8")
    (folder / "thua").mkdir()
    assert {(i.code, i.path) for i in plan_folder(folder, OPTIONS).report.errors} == {
        ("DIG107", "ghi-chu.txt"), ("DIG108", "thua")}
    table = rows(count=2)
    table[1]["file"] = WHOLE  # "." with other documents: a folder is needed
    write_sheet(folder / "hoso.csv", table)
    assert "DIG105" in codes(plan_folder(folder, OPTIONS))

"""The sheet as operators save it: encodings and delimiters Excel writes, Vietnamese column labels,
values given by name, hostile files refused with a code that says how to save them."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from ingest.sip import validate_sip
from ingest.sip_build import SipBuild, build_sip, try_build_sip
from ingest.sip_sheet import columns, write_template
from preservation.errors import ValidationFailed
from preservation.issues import Severity
from preservation.metadata.codelists import CodeList, codelist, field_specs
from tests.support.sheets import FILE_CODE, make_source, rows, write_csv
from tests.support.sheets import columns as table_columns

AGENCY: dict[str, Any] = dict(organ_id="000.00.64.H49", agency_name="Sở Nội vụ tỉnh Nghệ An",
                              fond_code="P623")
TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def csv_text(table: list[dict[str, str]], delimiter: str = ",") -> str:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, table_columns(table), delimiter=delimiter,
                            lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(table)
    return buffer.getvalue()


def excel_1258(text: str) -> bytes:
    """What Excel's plain "CSV" writes on a Vietnamese Windows: Windows-1258, the vowel with its
    circumflex, breve or horn precomposed and the tone mark as a separate combining byte."""
    out = []
    for ch in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", ch)
        tones = "".join(p for p in parts if p in TONES)
        out.append(unicodedata.normalize("NFC", "".join(p for p in parts if p not in TONES))
                   + tones)
    return "".join(out).encode("cp1258")


def build(tmp_path: Path, name: str, data: bytes) -> SipBuild:
    src = make_source(tmp_path / "src")
    sheet = tmp_path / name
    sheet.write_bytes(data)
    return try_build_sip(src, sheet, tmp_path / "bag", **AGENCY)


def title_of(out: Path) -> str:
    result = validate_sip(out / "data")
    assert result.ead is not None
    return str(result.ead.values["title"])


@pytest.mark.parametrize(("name", "data"), [
    ("utf8.csv", csv_text(rows()).encode("utf-8")),
    ("bom.csv", csv_text(rows()).encode("utf-8-sig")),
    ("semicolon.csv", csv_text(rows(), ";").encode("utf-8-sig")),
    ("excel-sep.csv", ("sep=;\r\n" + csv_text(rows(), ";")).encode("utf-8")),
    ("unicode-text.txt", csv_text(rows(), "\t").encode("utf-16")),  # Excel "Unicode Text"
    ("utf16-be.csv", b"\xfe\xff" + csv_text(rows()).encode("utf-16-be")),
    ("nfd.csv", unicodedata.normalize("NFD", csv_text(rows())).encode("utf-8")),
])
def test_encodings_and_delimiters_excel_writes_are_read(tmp_path: Path, name: str,
                                                        data: bytes) -> None:
    result = build(tmp_path, name, data)
    assert result.report.issues == [] and result.out is not None
    assert title_of(result.out) == rows()[0]["title"]


def test_windows_1258_with_combining_tones_is_read_with_a_warning(tmp_path: Path) -> None:
    data = excel_1258(csv_text(rows(), ";"))
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = build(tmp_path, "excel.csv", data)
    assert [(i.code, i.severity) for i in result.report.issues] == [
        ("SHEET005", Severity.WARNING)]
    assert result.out is not None
    assert title_of(result.out) == rows()[0]["title"]  # NFC again, diacritics intact


@pytest.mark.parametrize(("name", "data", "code"), [
    ("empty.csv", b"", "SHEET001"),
    ("bom-only.csv", b"\xef\xbb\xbf\r\n", "SHEET001"),
    ("blank-header.csv", b",,\r\nhoso,,\r\n", "SHEET001"),
    ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "SHEET003"),
    ("latin-junk.csv", bytes(range(0x80, 0x100)) * 3, "SHEET002"),
    ("broken-utf16.csv", b"\xff\xfe" + b"k\x00\x00\xd8", "SHEET002"),
])
def test_unreadable_bytes_are_refused_with_how_to_save(tmp_path: Path, name: str, data: bytes,
                                                       code: str) -> None:
    result = build(tmp_path, name, data)
    assert result.out is None
    [issue] = result.report.issues
    assert issue.code == code and issue.severity is Severity.ERROR
    if code != "SHEET001":
        assert "CSV UTF-8 (Comma delimited)" in issue.message("vi")
        assert "CSV UTF-8 (Comma delimited)" in issue.message("en")


def test_a_workbook_renamed_to_csv_says_to_rename_it(tmp_path: Path) -> None:
    from tests.support.sheets import write_xlsx

    workbook = write_xlsx(tmp_path / "real.xlsx", rows()).read_bytes()
    result = build(tmp_path, "renamed.csv", workbook)
    [issue] = result.report.issues
    assert issue.code == "SHEET004" and ".xlsx" in issue.message("vi")


def test_vietnamese_labels_and_names_build_the_same_package(tmp_path: Path) -> None:
    labels = {c.key: c.label for c in columns()}
    table = rows()
    table[0].update(maintenance="Vĩnh viễn", mode="cong khai", confidenceLevel="Gốc điện tử",
                    language="Tiếng Việt", riskRecovery="Không")
    table[1].update(kind="Văn bản", typeName="Quyết định", language="Tiếng Việt; tieng anh",
                    maintenance="01 - Vĩnh viễn")
    table[2].update(kind="Phim, ảnh", typePic="ảnh")
    relabelled = [{labels.get(k, k): v for k, v in r.items()} for r in table]
    assert "Mã hồ sơ" in relabelled[0] and "Loại dòng" in relabelled[0]
    result = build(tmp_path, "labels.csv", csv_text(relabelled).encode("utf-8-sig"))
    assert result.report.issues == [] and result.out is not None
    sip = validate_sip(result.out / "data")
    assert sip.ead is not None and sip.ead.values["maintenance"] == "01"
    assert sip.ead.values["confidenceLevel"] == "01" and sip.ead.values["mode"] == "01"
    [decision] = [d.ead_record for d in sip.documents
                  if d.ead_record is not None and d.ead_record.kind == "doc"]
    assert decision.values["typeName"] == "02"
    assert decision.values["language"] == ("01", "02")


def test_unknown_name_names_row_column_and_accepted_values(tmp_path: Path) -> None:
    table = rows()
    table[1]["typeName"] = "Quyết nghị"
    result = build(tmp_path, "s.csv", csv_text(table).encode())
    [issue] = result.report.issues  # not also "required typeName missing"
    assert issue.code == "SHEET010"
    assert (issue.params["row"], issue.params["column"]) == (3, "typeName")
    assert "02 (Quyết định)" in issue.message("vi") and "Quyết nghị" in issue.message("en")


def test_unknown_code_is_reported_with_its_row_too(tmp_path: Path) -> None:
    table = rows()
    table[0]["maintenance"] = "99"
    result = build(tmp_path, "s.csv", csv_text(table).encode())
    assert [(i.code, i.params["row"]) for i in result.report.issues] == [("SHEET010", 2)]


def test_a_label_two_elements_share_is_refused_once(tmp_path: Path) -> None:
    table = rows()
    table[2]["Tác giả"] = "Nguyễn Văn A"
    result = build(tmp_path, "s.csv", csv_text(table).encode())
    [issue] = result.report.issues
    assert issue.code == "SHEET006"
    assert issue.params["candidates"] == "photographer, recorder"


def test_a_column_given_twice_is_refused(tmp_path: Path) -> None:
    table = [{**r, "Tiêu đề hồ sơ": r.get("title", "")} for r in rows()]
    result = build(tmp_path, "s.csv", csv_text(table).encode())
    assert [(i.code, i.params["field"]) for i in result.report.issues] == [("SHEET007", "title")]


def test_ambiguous_name_without_diacritics_is_not_guessed() -> None:
    """The TT 05 lists have no such pair today; a list that had one must not pick either."""
    languages = CodeList("language", "Ngôn ngữ", "Language",
                         {"05": {"vi": "Tiếng Hán", "en": "Classical Chinese"},
                          "12": {"vi": "Tiếng Hàn", "en": "Korean"}})
    assert languages.resolve("tieng han").ambiguous == ("05", "12")
    assert languages.resolve("tieng han").code is None
    assert languages.resolve("Tiếng Hàn").code == "12"
    assert languages.resolve("KOREAN").code == "12"
    assert languages.resolve("12 - Tiếng Hán").code is None  # code and name disagree


def test_ambiguous_value_in_a_sheet_lists_the_matches(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import ingest.sip_build as sip_build

    real = codelist("typePic")
    clash = CodeList("typePic", real.vi, real.en,
                     {**real.entries, "03": {"vi": "Ánh", "en": "Other photo"}})
    monkeypatch.setattr(sip_build, "codelist",
                        lambda name: clash if name == "typePic" else codelist(name))
    table = rows()
    table[2]["typePic"] = "anh"
    result = build(tmp_path, "s.csv", csv_text(table).encode())
    [issue] = result.report.issues
    assert issue.code == "SHEET011" and "02 (Ảnh)" in issue.message("vi")


def test_json_sheet_accepts_labels_too(tmp_path: Path) -> None:
    table = rows()
    table[0] = {("Tiêu đề hồ sơ" if k == "title" else k): v for k, v in table[0].items()}
    result = build(tmp_path, "s.json", json.dumps(table, ensure_ascii=False).encode())
    assert result.report.issues == [] and result.out is not None


def test_warnings_do_not_stop_the_build(tmp_path: Path) -> None:
    src = make_source(tmp_path / "src")
    (src / "ghi-chu.txt").write_text("không thuộc gói", encoding="utf-8")
    result = try_build_sip(src, write_csv(tmp_path / "s.csv", rows()), tmp_path / "bag",
                           **AGENCY)
    assert result.out is not None and result.report.ok
    assert [(i.code, i.severity) for i in result.report.issues] == [("SIP016", Severity.WARNING)]


# -- the template ---------------------------------------------------------------------------

def every_element() -> set[str]:
    return {s.name for kind in ("hoso", "tailieu", "doc", "pic", "media")
            for s in field_specs("SIP", kind)}


@pytest.mark.parametrize("content", ["hoso", "tailieu"])
@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_the_template_builds_as_written(tmp_path: Path, suffix: str, content: str) -> None:
    template = tmp_path / f"mau{suffix}"
    write_template(template, content)
    src = tmp_path / "src"
    src.mkdir()
    for name in ("qd-125.pdf", "anh-1.jpg", "ghi-am.mp3"):
        (src / name).write_bytes(b"%PDF-1.4\n%%EOF\n" if name.endswith(".pdf") else b"x")
    result = try_build_sip(src, template, tmp_path / "bag", **AGENCY)
    # a SIP_tailieu docId (batch code + ordinal) is longer than TT 05's 25: accepted, warned
    expected = {"ID006"} if content == "tailieu" else set()
    assert result.report.codes() == expected and result.out is not None
    sip = validate_sip(result.out / "data")
    assert sip.content == content and len(sip.documents) == 3


def test_the_csv_template_has_every_column_label_and_requirement(tmp_path: Path) -> None:
    template = tmp_path / "mau.csv"
    write_template(template)
    data = template.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel opens it as UTF-8
    header, notes, *examples = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert set(header) == every_element() | {"kind", "file"}
    described = dict(zip(header, notes, strict=True))
    assert described["kind"].startswith("#")
    assert described["fileCode"].startswith("Mã hồ sơ — bắt buộc")
    assert described["keyword"] == "Từ khóa — không bắt buộc"
    assert described["photographer"].startswith("Tác giả (phim, ảnh)")
    assert described["source"].startswith("Nguồn gốc — bắt buộc")
    assert "01 (Vĩnh viễn)" in described["maintenance"]
    assert [e[0] for e in examples] == ["hoso", "doc", "pic", "media"]


def test_a_filled_xlsx_template_builds(tmp_path: Path) -> None:
    import openpyxl

    template = tmp_path / "mau.xlsx"
    write_template(template)
    book = openpyxl.load_workbook(template)
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert sheet.cell(1, header.index("maintenance") + 1).comment is not None
    assert {"Hướng dẫn", "Danh mục mã"} <= set(book.sheetnames)
    picks = {str(header[next(iter(v.sqref.ranges)).min_col - 1]): v.formula1
             for v in sheet.data_validations.dataValidation}
    assert picks["maintenance"] == "'Danh mục mã'!$E$2:$E$8"
    assert "language" not in picks  # several values: typed, not picked
    assert book["Danh mục mã"]["E2"].value == "01 - Vĩnh viễn"
    sheet.delete_rows(3, sheet.max_row)  # the operator replaces the examples with the real rows
    for row in rows():
        sheet.append([row.get(str(h), None) for h in header])
    sheet.cell(4, header.index("typeName") + 1).value = "03 - Chỉ thị"  # picked from the list
    book.save(template)
    result = try_build_sip(make_source(tmp_path / "src"), template, tmp_path / "bag", **AGENCY)
    assert result.report.issues == [] and result.out is not None
    sip = validate_sip(result.out / "data")
    assert sip.ead is not None and sip.ead.values["fileCode"] == FILE_CODE
    assert [d.ead_record.values["typeName"] for d in sip.documents
            if d.ead_record is not None and d.ead_record.kind == "doc"] == ["03"]


def test_build_sip_still_raises_with_the_whole_report(tmp_path: Path) -> None:
    src = make_source(tmp_path / "src")
    sheet = tmp_path / "s.csv"
    sheet.write_bytes(b"")
    with pytest.raises(ValidationFailed) as info:
        build_sip(src, sheet, tmp_path / "bag", **AGENCY)
    assert info.value.report.codes() == {"SHEET001"}


def test_the_readme_documents_every_column_with_its_label() -> None:
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### SIP metadata sheet", 1)[1].split("\n### ", 1)[0]
    for column in columns():
        assert f"| `{column.key}` | {column.label} | {column.requirement()} |" in section, column.key


@pytest.mark.parametrize(("name", "data", "code"), [
    ("old-excel.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "SHEET008"),
    ("calc.ods", b"PK\x03\x04", "SHEET008"),
    ("text.xlsx", b"kind,file\r\nhoso,\r\n", "SHEET009"),
])
def test_a_sheet_khoso_cannot_read_says_how_to_save_it(tmp_path: Path, name: str, data: bytes,
                                                       code: str) -> None:
    result = build(tmp_path, name, data)
    [issue] = result.report.issues
    assert issue.code == code and "Excel Workbook (*.xlsx)" in issue.message("vi")


def test_a_sheet_without_kind_or_file_says_so_once(tmp_path: Path) -> None:
    no_kind = [{k: v for k, v in r.items() if k != "kind"} for r in rows()]
    result = build(tmp_path / "a", "s.csv", csv_text(no_kind).encode())
    assert [(i.code, i.params.get("column")) for i in result.report.errors] == [
        ("SIP011", "kind")]
    no_file = [{k: v for k, v in r.items() if k != "file"} for r in rows()]
    result = build(tmp_path / "b", "s.csv", csv_text(no_file).encode())
    assert [(i.code, i.params.get("column")) for i in result.report.errors] == [
        ("SIP011", "file")]

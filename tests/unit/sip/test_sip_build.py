"""build_sip: CSV, XLSX and JSON sheets give a bag that passes bag, profile and SIP checks."""

from __future__ import annotations

from pathlib import Path

import pytest

import ingest.sip_build as sip_build
from ingest.bag import validate_bag
from ingest.profile import validate_profile
from ingest.sip import validate_sip
from ingest.sip_build import build_sip
from preservation.errors import ValidationFailed
from profiles import load_profile
from tests.support.sheets import WRITERS, make_source, rows, write_csv

AGENCY = dict(organ_id="000.00.64.H49", agency_name="Sở Nội vụ tỉnh Nghệ An", fond_code="P623")


@pytest.mark.parametrize("content", ["hoso", "tailieu"])
@pytest.mark.parametrize("fmt", sorted(WRITERS))
def test_built_sip_is_valid(tmp_path: Path, fmt: str, content: str) -> None:
    src = make_source(tmp_path / "src")
    sheet = WRITERS[fmt](tmp_path / f"sheet.{fmt}", rows(content))
    out = build_sip(src, sheet, tmp_path / "bag", **AGENCY, submission_agreement="NL.2026.01")
    bag = validate_bag(out)
    assert bag.report.issues == []
    assert validate_profile(bag, load_profile("sip-tt05")).issues == []
    assert bag.info_value("Package-Type") == f"SIP_{content}"
    digests = {p: f.digests["sha256"] for p, f in bag.files.items()}
    result = validate_sip(out / "data", known_digests=digests)
    assert result.report.errors == []
    assert result.content == content
    assert bag.info_value("External-Identifier") == result.objid
    assert result.submission_agreement == "NL.2026.01"
    assert len(result.documents) == 3
    assert sorted(len(d.files) for d in result.documents) == [1, 1, 2]
    assert result.ead is not None and result.ead.values["title"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bag", f"sheet.{fmt}", "src"]


def _fail(tmp_path: Path, table: list[dict[str, str]], **kwargs) -> set[str]:
    src = make_source(tmp_path / "src")
    sheet = write_csv(tmp_path / "sheet.csv", table)
    with pytest.raises(ValidationFailed) as info:
        build_sip(src, sheet, tmp_path / "bag", **AGENCY, **kwargs)
    assert info.value.code == "SIP009"
    assert not (tmp_path / "bag").exists()
    return info.value.report.codes()


def test_missing_required_column_is_reported_once_not_once_per_row(tmp_path: Path) -> None:
    code = rows()[0]["fileCode"]
    second = {**rows()[1], "file": "qd-126.pdf", "docId": f"{code}.4", "docCode": f"{code}.0000004"}
    table = [{k: v for k, v in r.items() if k not in ("title", "subject")}
             for r in [*rows(), second]]
    src = make_source(tmp_path / "src")
    (src / "qd-126.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    with pytest.raises(ValidationFailed) as info:
        build_sip(src, write_csv(tmp_path / "s.csv", table), tmp_path / "bag", **AGENCY)
    assert sorted((i.code, i.params.get("column")) for i in info.value.report.issues) == [
        ("SIP011", "subject"), ("SIP011", "title")]


def test_unknown_file(tmp_path: Path) -> None:
    table = rows()
    table[1]["file"] = "khong-co.pdf"
    assert _fail(tmp_path, table) == {"SIP012", "SIP016"}


def test_file_outside_source_folder(tmp_path: Path) -> None:
    table = rows()
    table[1]["file"] = "../sheet.csv"
    assert _fail(tmp_path, table) == {"SIP012", "SIP016"}


def test_invalid_date_names_row_and_column(tmp_path: Path) -> None:
    table = rows()
    table[1]["issuedDate"] = "31/02/2001"
    src = make_source(tmp_path / "src")
    with pytest.raises(ValidationFailed) as info:
        build_sip(src, write_csv(tmp_path / "s.csv", table), tmp_path / "bag", **AGENCY)
    [issue] = info.value.report.issues
    assert issue.code == "SIP013"
    assert (issue.params["row"], issue.params["column"]) == (3, "issuedDate")


def test_unknown_kind_and_two_package_rows(tmp_path: Path) -> None:
    table = rows()
    table.append({**table[0]})
    table[1]["kind"] = "video"
    assert _fail(tmp_path, table) == {"SIP014", "SIP015", "SIP016", "SIP018"}


def test_unreadable_sheet(tmp_path: Path) -> None:
    src = make_source(tmp_path / "src")
    sheet = tmp_path / "sheet.json"
    sheet.write_text("{not json", encoding="utf-8")
    with pytest.raises(ValidationFailed) as info:
        build_sip(src, sheet, tmp_path / "bag", **AGENCY)
    assert info.value.report.codes() == {"SIP010"}


def test_existing_output_is_not_touched(tmp_path: Path) -> None:
    (tmp_path / "bag").mkdir()
    src = make_source(tmp_path / "src")
    with pytest.raises(ValidationFailed) as info:
        build_sip(src, write_csv(tmp_path / "s.csv", rows()), tmp_path / "bag", **AGENCY)
    assert info.value.report.codes() == {"SIP017"}


def test_failure_mid_build_leaves_nothing(tmp_path: Path, monkeypatch) -> None:
    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(sip_build, "write_root_mets", boom)
    src = make_source(tmp_path / "src")
    sheet = write_csv(tmp_path / "s.csv", rows())
    with pytest.raises(OSError, match="disk full"):
        build_sip(src, sheet, tmp_path / "bag", **AGENCY)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv", "src"]

"""``khoso sip build``, ``sip template`` and ``codes`` as an operator meets them (Click's runner;
no catalog needed: a sheet becomes a bag on the operator's own machine)."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from access_api.cli import main
from preservation.metadata.codelists import codelist_names
from tests.support.sheets import make_source, rows, write_csv


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"KHOSO_DATA_DIR": str(tmp_path / "data"), "KHOSO_CLAMD_MANAGED": "false"}


def run(env: dict[str, str], *args: str) -> Result:
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def build(env: dict[str, str], tmp_path: Path, sheet: Path, *extra: str) -> Result:
    return run(env, "sip", "build", str(tmp_path / "src"), "--metadata", str(sheet),
               "--out", str(tmp_path / "bag"), "--organ-id", "H49.64.33",
               "--agency-name", "UBND huyện", "--fond", "P623", *extra)


def test_help_documents_the_sheet(env: dict[str, str]) -> None:
    out = run(env, "sip", "build", "--help").output
    for words in ("kind", "hoso", "tailieu", "Vĩnh viễn", "DD/MM/YYYY", "Windows-1258",
                  "khoso sip template", "khoso codes", "#"):
        assert words in out, words


def test_warnings_are_told_apart_and_do_not_fail(env: dict[str, str], tmp_path: Path) -> None:
    src = make_source(tmp_path / "src")
    (src / "thua.txt").write_text("x", encoding="utf-8")
    result = build(env, tmp_path, write_csv(tmp_path / "s.csv", rows()))
    assert result.exit_code == 0, result.output
    assert "[cảnh báo] SIP016" in result.output
    assert "lỗi: 0, cảnh báo: 1, thông tin: 0" in result.output
    assert (tmp_path / "bag" / "bagit.txt").is_file()


def test_errors_exit_1_with_severity_per_line_and_counts(env: dict[str, str], tmp_path: Path) -> None:
    make_source(tmp_path / "src")
    table = [{k: v for k, v in r.items() if k != "subject"} for r in rows()]
    table[1]["typeName"] = "Quyết nghị"
    result = build(env, tmp_path, write_csv(tmp_path / "s.csv", table), "--json")
    assert result.exit_code == 1
    out = json.loads(result.output)
    assert out["ok"] is False and out["out"] is None
    assert out["counts"] == {"error": 2, "warning": 0, "info": 0}
    assert sorted(i["code"] for i in out["issues"]) == ["SHEET010", "SIP011"]
    plain = build(env, tmp_path, write_csv(tmp_path / "s.csv", table))
    lines = plain.output.splitlines()
    assert plain.exit_code == 1 and not (tmp_path / "bag").exists()
    assert sum(line.startswith("[lỗi] ") for line in lines) == 2
    assert lines[-1] == "Không tạo gói (lỗi: 2, cảnh báo: 0, thông tin: 0)"
    english = run(env, "--lang", "en", "sip", "build", str(tmp_path / "src"), "--metadata",
                  str(tmp_path / "s.csv"), "--out", str(tmp_path / "bag"), "--organ-id", "H",
                  "--agency-name", "A", "--fond", "P")
    assert "[error] SHEET010" in english.output and "Accepted values: 01 (" in english.output
    assert english.output.splitlines()[-1] == "No package built (errors: 2, warnings: 0, info: 0)"


def test_template_then_build(env: dict[str, str], tmp_path: Path) -> None:
    for name in ("mau.xlsx", "mau.csv"):
        result = run(env, "sip", "template", str(tmp_path / name))
        assert result.exit_code == 0, result.output
    src = tmp_path / "src"
    src.mkdir()
    for name in ("qd-125.pdf", "anh-1.jpg", "ghi-am.mp3"):
        (src / name).write_bytes(b"%PDF-1.4\n%%EOF\n")
    built = build(env, tmp_path, tmp_path / "mau.xlsx")
    assert built.exit_code == 0, built.output
    assert "(lỗi: 0, cảnh báo: 0, thông tin: 0)" in built.output


def test_template_refuses_to_overwrite_or_guess_the_format(env: dict[str, str], tmp_path: Path) -> None:
    target = tmp_path / "mau.csv"
    assert run(env, "sip", "template", str(target)).exit_code == 0
    again = run(env, "sip", "template", str(target))
    assert again.exit_code == 1 and "SHEET021" in again.output and "--force" in again.output
    assert run(env, "sip", "template", str(target), "--force").exit_code == 0
    odd = run(env, "sip", "template", str(tmp_path / "mau.ods"))
    assert odd.exit_code == 1 and "SHEET020" in odd.output and not (tmp_path / "mau.ods").exists()


def test_codes_prints_every_list_with_meanings(env: dict[str, str]) -> None:
    result = run(env, "codes")
    assert result.exit_code == 0
    for name in codelist_names():
        assert any(line.startswith(f"{name} — ") for line in result.output.splitlines()), name
    assert "  01  Vĩnh viễn" in result.output and "  02  Quyết định" in result.output


def test_codes_one_list_by_name_or_label_and_json(env: dict[str, str]) -> None:
    by_label = run(env, "codes", "tên loại tài liệu")
    assert by_label.exit_code == 0 and by_label.output.startswith("typeName — Tên loại tài liệu")
    assert "cột: typeName" in by_label.output
    data = json.loads(run(env, "--lang", "en", "codes", "maintenance", "--json").output)
    assert [d["name"] for d in data] == ["maintenance"]
    assert data[0]["codes"][0] == {"code": "01", "vi": "Vĩnh viễn", "en": "Permanent"}
    english = run(env, "--lang", "en", "codes", "mode").output
    assert "  01  Open" in english and "columns: mode" in english


def test_codes_unknown_list_exits_1_naming_the_known_ones(env: dict[str, str]) -> None:
    result = run(env, "codes", "khong-co")
    assert result.exit_code == 1
    assert "CODE001" in result.output and "maintenance" in result.output

"""``khoso report list`` and ``khoso report NAME`` end to end: the file is written whole or not
at all, bad input gets its code and the exit code, ``report register`` still works."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from access_api.cli import main
from preservation.catalog.models import AuditEntry
from tests.support.cli import cli_env
from tests.support.reports import build_world, pdf_text, xlsx_rows
from tests.support.sips import FOND, make_sip

pytestmark = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def run(khoso, *args):
    return CliRunner().invoke(main, list(args), env=cli_env(khoso), catch_exceptions=False)


def test_list_names_every_report_with_its_vietnamese_title(khoso):
    out = run(khoso, "report", "list")
    assert out.exit_code == 0
    assert "muc_luc_ho_so" in out.output and "Mục lục hồ sơ  (--fonds …)" in out.output
    assert "bien_ban_xu_ly_su_co" in out.output and "Biên bản xử lý sự cố" in out.output
    english = run(khoso, "--lang", "en", "report", "muc_luc_ho_so", "--help")
    assert "List of files" in english.output and "--fonds" in english.output


def test_writes_the_file_and_records_who(khoso, tmp_path):
    world = build_world(khoso)
    out = tmp_path / "muc-luc.xlsx"
    done = run(khoso, "report", "muc_luc_ho_so", "--fonds", FOND, "--out", str(out))
    assert done.exit_code == 0, done.output
    assert "(3 dòng)" in done.output
    labels = ["STT", "Số ký hiệu hồ sơ"]
    assert [r[1] for r in xlsx_rows(out.read_bytes(), labels)][-1] == world.file_code
    pdf = tmp_path / "van-ban"
    done = run(khoso, "report", "muc_luc_van_ban", "--hoso", world.arc_file_code,
               "--format", "pdf", "--out", str(pdf))
    assert done.exit_code == 0, done.output
    page = pdf_text(pdf.read_bytes(), tmp_path)
    assert "MỤC LỤC VĂN BẢN" in page and "Quyết định số 1" in page and "Ảnh buổi lễ 2" in page
    with khoso.catalog.session() as s:
        actors = s.scalars(sa.select(AuditEntry.actor)
                           .where(AuditEntry.action == "report.generated")).all()
    assert actors == ["cli", "cli"]
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".part")]


@pytest.mark.parametrize(("args", "code", "exit_code"), [
    (("khong_co", "--out", "x.pdf"), "RPT001", 2),
    (("muc_luc_ho_so", "--out", "x.pdf"), "RPT010", 1),
    (("muc_luc_ho_so", "--fonds", "KHONG", "--out", "x.pdf"), "RPT006", 2),
    (("muc_luc_van_ban", "--hoso", "KHONG", "--out", "x.pdf"), "RPT007", 2),
    (("danh_muc_co_thoi_han", "--from", "31/12/2024", "--out", "x.pdf"), "RPT010", 1),
    (("danh_muc_co_thoi_han", "--from", "2024-12-31", "--to", "2024-01-01", "--out", "x.csv"),
     "RPT010", 1),
    (("muc_luc_ho_so", "--fonds", FOND, "--out", "x.docx"), "RPT009", 2),
    (("muc_luc_ho_so", "--fonds", FOND, "--out", "khong-co-thu-muc/x.pdf"), "RPT011", 2),
    (("muc_luc_ho_so", "--fonds", FOND, "--out", "."), "RPT009", 2),
    (("muc_luc_ho_so", "--fonds", FOND, "--format", "pdf", "--out", "."), "RPT011", 2),
])
def test_bad_input_has_its_code_and_leaves_no_file(khoso, tmp_path, monkeypatch, args, code,
                                                    exit_code):
    monkeypatch.chdir(tmp_path)
    before = set(os.listdir(tmp_path))
    done = run(khoso, "report", *args)
    assert done.exit_code == exit_code, done.output
    assert f"[{code}]" in done.output and "Traceback" not in done.output
    assert set(os.listdir(tmp_path)) == before


def test_an_existing_file_is_replaced_only_when_the_report_is_complete(khoso, tmp_path):
    assert khoso.ingest(make_sip(khoso.tmp / "sip")).accepted
    out = tmp_path / "danh-muc.csv"
    out.write_bytes(b"old")
    failed = run(khoso, "report", "danh_muc_vinh_vien", "--fonds", "KHONG", "--out", str(out))
    assert failed.exit_code == 2 and out.read_bytes() == b"old"
    done = run(khoso, "report", "danh_muc_vinh_vien", "--out", str(out))
    assert done.exit_code == 0 and out.read_bytes().startswith(b"\xef\xbb\xbfSTT,")


def test_a_folder_that_is_a_file(khoso, tmp_path):
    (tmp_path / "tep").write_bytes(b"not a folder")
    done = run(khoso, "report", "danh_muc_vinh_vien", "--out", str(tmp_path / "tep" / "x.pdf"))
    assert done.exit_code == 2 and "[RPT011]" in done.output and "NotADirectoryError" in done.output
    assert (tmp_path / "tep").read_bytes() == b"not a folder"


def test_register_subcommand_still_works(khoso):
    assert khoso.ingest(make_sip(khoso.tmp / "sip")).accepted
    out = run(khoso, "report", "register", "nhat_ky_sao_luu", "--format", "json")
    assert out.exit_code == 0 and '"register": "nhat_ky_sao_luu"' in out.output

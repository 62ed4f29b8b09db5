"""The administration, AIP, integrity and ingest commands speak one language per line:
Vietnamese by default, English with ``--lang en``, ``--help`` included (issue #13, §4; Click's
runner, real catalog on both databases)."""

import pytest

from tests.support.cli import initialised, instance_env, run


@pytest.fixture
def env(tmp_path, db_url):
    return initialised(instance_env(tmp_path / "data", db_url))


@pytest.mark.parametrize(("args", "vi", "en"), [
    (("audit",), "Kiểm tra tính toàn vẹn các bản sao", "Fixity audit of the copies"),
    (("agency", "add"), "Thư điện tử liên hệ.", "Contact e-mail."),
    (("aip", "update-metadata"), "Lý do sửa.", "Reason for the change."),
    (("catalog", "rebuild"), "Băm lại mọi đối tượng.", "Re-hash every object."),
    (("ingest",), "Chạy ngay trong tiến trình này", "Run here, in this process"),
])
def test_help_is_vietnamese_by_default_and_english_with_lang_en(env, args, vi, en):
    default = run(env, *args, "--help").output
    assert vi in default and "Tùy chọn:" in default
    assert en not in default and "Options" not in default and "JSON output" not in default
    english = run(env, "--lang", "en", *args, "--help").output
    assert en in english and "Options:" in english
    assert vi not in english and "Tùy chọn" not in english and "In dạng" not in english


def test_an_added_agency_is_told_in_the_chosen_language(env):
    vi = run(env, "agency", "add", "000.00.00.H41", "UBND tỉnh Nghệ An")
    assert vi.output == "Đã thêm cơ quan: 000.00.00.H41\n"
    en = run(env, "--lang", "en", "agency", "add", "000.00.00.H42", "UBND tỉnh Hà Tĩnh")
    assert en.output == "Agency added: 000.00.00.H42\n"


def test_the_audit_summary_is_one_language(env):
    vi = run(env, "audit", "--all")
    assert vi.exit_code == 0, vi.output
    assert vi.output.startswith("Đã kiểm tra 0 bản sao: tốt 0, hỏng 0, chưa kiểm tra được 0, "
                                "đối tượng đã sửa 0, nguy cấp 0")
    assert "checked" not in vi.output and "/" not in vi.output
    en = run(env, "--lang", "en", "audit", "--all").output
    assert en.startswith("Checked 0 copies: ok 0, bad 0, not checked 0, objects repaired 0, "
                         "critical 0")
    assert "Đã" not in en and "/" not in en


def test_an_unknown_aip_is_named_in_words_of_the_language(env):
    vi = run(env, "audit", "--aip", "KHONG.CO.1")
    assert vi.exit_code == 2
    assert vi.output.strip() == "Lỗi [GEN002]: Không tìm thấy gói: KHONG.CO.1."
    en = run(env, "--lang", "en", "audit", "--aip", "KHONG.CO.1")
    assert en.output.strip() == "Error [GEN002]: Package not found: KHONG.CO.1."


def test_a_register_written_to_a_file_is_told_in_the_chosen_language(env, tmp_path):
    out = tmp_path / "so.csv"
    vi = run(env, "report", "register", "nhat_ky_sao_luu", "--out", str(out))
    assert vi.exit_code == 0, vi.output
    assert vi.output == f"Đã ghi: {out} (0 dòng)\n"
    en = run(env, "--lang", "en", "report", "register", "nhat_ky_sao_luu", "--out", str(out))
    assert en.output == f"Written: {out} (0 rows)\n"


def test_ingest_of_a_missing_path_is_refused_in_the_chosen_language(env, tmp_path):
    missing = tmp_path / "khong-co"
    vi = run(env, "ingest", str(missing))
    assert vi.exit_code == 2
    assert f"không tìm thấy: {missing}" in vi.output and "not found" not in vi.output
    en = run(env, "--lang", "en", "ingest", str(missing))
    assert f"not found: {missing}" in en.output and "không tìm thấy" not in en.output


def test_a_rejected_ingest_is_told_in_the_chosen_language(env, tmp_path, clamd_address):
    folder = tmp_path / "tai-lieu"
    folder.mkdir()
    (folder / "quyet-dinh.pdf").write_bytes(b"%PDF-1.4\n%%EOF\n")
    env = {**env, "KHOSO_CLAMD": clamd_address}
    vi = run(env, "ingest", "--wait", str(folder))
    assert vi.exit_code == 1, vi.output
    assert "Bị từ chối ở bước " in vi.output and "; lưu giữ tại: " in vi.output
    assert "  [BAG001] lỗi " in vi.output
    assert "Rejected" not in vi.output and "] error " not in vi.output
    en = run(env, "--lang", "en", "ingest", "--wait", str(folder))
    assert en.exit_code == 1, en.output
    assert "Rejected at step " in en.output and "; quarantine: " in en.output
    assert "  [BAG001] error " in en.output and "Bị từ chối" not in en.output

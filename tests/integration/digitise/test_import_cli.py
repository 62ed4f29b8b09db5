"""``khoso digitise import FOLDER --hoso CODE``: stored (exit 0) with the AIP's OBJID, refused
(exit 1) with the codes, in Vietnamese and English."""

from __future__ import annotations

import json

from tests.support.cli import cli_env, run
from tests.support.digitised import FILE_CODE, make_folder
from tests.support.sips import FOND

SMALL = [["Công văn đề nghị tiếp nhận hồ sơ"], ["Phiếu chuyển giao tài liệu"]]


def test_import_waits_and_stores_then_refuses_the_same_hoso(khoso, tmp_path):
    folder = make_folder(tmp_path / "quet", texts=SMALL)
    env = cli_env(khoso)
    done = run(env, "digitise", "import", str(folder), "--hoso", FILE_CODE, "--fond", FOND,
               "--scanner", "Epson DS-70000", "--wait", "--json")
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert result["accepted"] and result["objid"]
    again = run(env, "--lang", "en", "digitise", "import", str(folder), "--hoso", FILE_CODE,
                "--fond", FOND, "--wait")
    assert again.exit_code != 0
    assert "DIG112" in again.output and "already in the archive" in again.output


def test_a_refused_folder_exits_1_with_its_codes(khoso, tmp_path):
    folder = make_folder(tmp_path / "quet", texts=SMALL)
    for page in (folder / "tai-lieu-2").iterdir():
        page.unlink()
    done = run(cli_env(khoso), "digitise", "import", str(folder), "--hoso", FILE_CODE,
               "--fond", FOND, "--wait")
    assert done.exit_code == 1
    assert "[DIG106]" in done.output and "tai-lieu-2" in done.output
    assert "không có ảnh trang nào" in done.output
    missing = run(cli_env(khoso), "digitise", "import", str(tmp_path / "khong-co"),
                  "--hoso", FILE_CODE, "--fond", FOND)
    assert missing.exit_code == 2 and "khong-co" in missing.output


def test_help_in_english(khoso):
    shown = run(cli_env(khoso), "--lang", "en", "digitise", "import", "--help")
    assert shown.exit_code == 0
    assert "Digitise a paper hồ sơ into an AIP_hoso" in shown.output
    assert "The scanner used" in shown.output

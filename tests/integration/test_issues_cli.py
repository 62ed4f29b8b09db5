"""``khoso issues [CODE]`` end to end through Click's runner: code, severity, clause, message."""

from __future__ import annotations

import json

from click.testing import CliRunner, Result

from access_api.cli import main
from preservation.issues import issue_catalog


def run(*args: str, lang: str = "vi") -> Result:
    return CliRunner().invoke(main, list(args), env={"KHOSO_LANGUAGE": lang},
                              catch_exceptions=False)


def test_without_code_every_code_is_listed_with_its_severity_clause_and_message() -> None:
    out = run("issues")
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0].split() == ["Mã", "Mức", "độ", "Căn", "cứ", "Thông", "báo"]
    assert len(lines) == 1 + len(issue_catalog())
    bag001 = next(line for line in lines if line.startswith("BAG001 "))
    assert "lỗi" in bag001 and "RFC 8493 §2.1.1" in bag001
    assert issue_catalog()["BAG001"].vi in bag001


def test_one_code_shows_severity_clause_and_the_message_in_the_chosen_language() -> None:
    d = issue_catalog()["METS003"]
    vi = run("issues", "METS003")
    assert vi.exit_code == 0, vi.output
    assert vi.output.splitlines() == [
        "Mã:        METS003", "Mức độ:    lỗi", "Căn cứ:    E-ARK CSIP CSIP9",
        f"Thông báo: {d.vi}"]
    en = run("--lang", "en", "issues", "mets003")  # case does not matter
    assert en.exit_code == 0, en.output
    assert en.output.splitlines() == [
        "Code:     METS003", "Severity: error", "Clause:   E-ARK CSIP CSIP9",
        f"Message:  {d.en}"]
    assert d.vi not in en.output


def test_the_settings_language_is_the_default() -> None:
    out = run("issues", "AUD004", lang="en")
    assert "Severity: info" in out.output and "Clause:   TT 05/2025/TT-BNV Điều 26 khoản 2" in out.output


def test_a_prefix_lists_that_family_in_order() -> None:
    out = run("--lang", "en", "issues", "SIG")
    assert out.exit_code == 0, out.output
    codes = [line.split()[0] for line in out.output.splitlines()[1:]]
    assert codes == sorted((c for c in issue_catalog() if c.startswith("SIG")),
                           key=lambda c: int(c[3:]))
    assert codes[-1] == "SIG100" and "warning" in out.output.splitlines()[-1]


def test_json_gives_both_languages() -> None:
    one = json.loads(run("issues", "PKG011", "--json").output)
    d = issue_catalog()["PKG011"]
    assert one == {"code": "PKG011", "severity": "error", "clause": "khoso: an toàn giải nén",
                   "vi": d.vi, "en": d.en}
    family = json.loads(run("issues", "CAT", "--json").output)
    assert [e["code"] for e in family] == [f"CAT00{n}" for n in range(1, 10)]
    assert all(e["clause"] for e in family)


def test_an_unknown_code_exits_1_with_a_clear_message() -> None:
    out = CliRunner().invoke(main, ["issues", "XYZ9"],
                                             env={"KHOSO_LANGUAGE": "vi"})
    assert out.exit_code == 1
    assert out.stdout == ""
    assert out.stderr.strip() == ("[ISS001] Không có mã lỗi nào trùng với hoặc bắt đầu bằng «XYZ9». "
                                  "Chạy «khoso issues» để xem mọi mã lỗi.")
    en = CliRunner().invoke(main, ["--lang", "en", "issues", "XYZ9"])
    assert en.exit_code == 1 and "No issue code is or starts with 'XYZ9'" in en.stderr

"""Messages of the command line: gettext catalogs, one language per line, ``--lang`` for help too."""

import gettext
import io
import string
from pathlib import Path

import click
import pytest
from babel.messages.extract import extract_from_file
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from click.testing import CliRunner

from access_api import i18n
from access_api.cli import main
from access_api.cli.base import help_msgid

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "access_api" / "locale" / "en" / "LC_MESSAGES" / "khoso.po"
CLICK_PO = ROOT / "access_api" / "locale" / "vi" / "LC_MESSAGES" / "click.po"
# Command modules whose help texts are Vietnamese msgids; the integrator adds each module here
# as it moves onto access_api.i18n.
SWEPT = {"access_api.cli.admin", "access_api.cli.aip", "access_api.cli.base",
         "access_api.cli.codes", "access_api.cli.digitise", "access_api.cli.digitise_plan",
         "access_api.cli.disposal", "access_api.cli.integrity", "access_api.cli.issues",
         "access_api.cli.jobs", "access_api.cli.migrate", "access_api.cli.reports",
         "access_api.cli.repository", "access_api.cli.runtime", "access_api.cli.search",
         "access_api.cli.submission", "access_api.cli.transfer", "access_api.cli.users"}


def _swept(callback) -> bool:
    return (callback.__module__ in SWEPT
            or f"{callback.__module__}.{callback.__name__}" in SWEPT)


def _catalog(po=PO):
    with po.open("rb") as f:
        return read_po(f)


def _translated():
    return {m.id: m.string for m in _catalog() if m.id and m.string and not m.fuzzy}


@pytest.mark.parametrize("po", [PO, CLICK_PO], ids=["khoso", "click"])
def test_the_committed_mo_is_the_compiled_po(po):
    """Compared as messages, not bytes: the header names the Babel version that compiled it."""
    compiled = io.BytesIO()
    write_mo(compiled, _catalog(po))
    compiled.seek(0)
    with po.with_suffix(".mo").open("rb") as committed:
        have = gettext.GNUTranslations(committed)._catalog  # type: ignore[attr-defined]
    want = gettext.GNUTranslations(compiled)._catalog  # type: ignore[attr-defined]
    drop = {""}  # the header
    assert {k: v for k, v in have.items() if k not in drop} == {
        k: v for k, v in want.items() if k not in drop}, (
        f"run: pybabel compile -D {po.stem} -d access_api/locale")


def test_every_message_marked_in_the_cli_has_an_english_translation():
    english = _translated()
    used = {(path.name, lineno, msgid)
            for path in sorted((ROOT / "access_api" / "cli").glob("*.py"))
            for lineno, msgid, _comments, _context in extract_from_file(
                "python", str(path), keywords={"_": None, "N_": None})}
    assert used, "the extractor found nothing: the keywords changed?"
    assert [u for u in used if u[2] not in english] == []


def _help_texts(command: click.Command):
    """Every help text ``--help`` shows for ``command`` and below, in swept modules."""
    callback = command.callback
    if callback is not None and _swept(callback):
        for text in (command.help, command.short_help):
            if text:
                yield command.name, help_msgid(text)
        for param in command.params:
            if isinstance(param, click.Option) and param.help:
                yield f"{command.name} {param.opts[0]}", help_msgid(param.help)
    for sub in getattr(command, "commands", {}).values():
        yield from _help_texts(sub)


def test_every_help_text_of_a_swept_module_has_an_english_translation():
    english = _translated()
    texts = list(_help_texts(main))
    assert any(name == "main" for name, _text in texts)
    assert [t for t in texts if t[1] not in english] == []


def test_gettext_follows_the_chosen_language_and_vietnamese_needs_no_catalog():
    assert i18n.gettext("(không có dữ liệu)", "en") == "(no rows)"
    assert i18n.gettext("(không có dữ liệu)", "vi") == "(không có dữ liệu)"
    assert i18n.gettext("một câu chưa dịch", "en") == "một câu chưa dịch"


def run(*args, env=None):
    return CliRunner().invoke(main, list(args), env=env or {}, catch_exceptions=False)


def test_help_is_vietnamese_by_default_and_english_with_lang_en():
    vi = run("--help").output
    assert "Cách dùng:" in vi and "Tùy chọn:" in vi and "Lệnh:" in vi
    assert "Ngôn ngữ của thông báo và trợ giúp" in vi and "Usage" not in vi and "Options" not in vi
    en = run("--lang", "en", "--help").output
    assert "Usage:" in en and "Options:" in en and "Commands:" in en
    assert "Language of messages and help" in en and "Show this message and exit." in en
    assert "Cách dùng" not in en and "Ngôn ngữ" not in en


@pytest.mark.parametrize("args", [("--lang", "en", "agency", "add", "--help"),
                                  ("--lang", "en", "db", "upgrade", "--help")])
def test_lang_switches_the_help_of_a_subcommand(args, tmp_path):
    out = run(*args, env={"KHOSO_DATA_DIR": str(tmp_path)}).output
    assert out.startswith("Usage: ") and "\nOptions:\n" in out and "Show this message" in out
    vi = run(*args[2:], env={"KHOSO_DATA_DIR": str(tmp_path)}).output
    assert vi.startswith("Cách dùng: ") and "\nTùy chọn:\n" in vi and "Hiện trợ giúp" in vi


def test_the_settings_language_is_the_default_of_help(tmp_path):
    env = {"KHOSO_DATA_DIR": str(tmp_path), "KHOSO_LANGUAGE": "en"}
    assert run("--help", env=env).output.startswith("Usage: ")
    assert run("agency", "add", "--help", env=env).output.startswith("Usage: ")
    assert run("--lang", "vi", "--help", env=env).output.startswith("Cách dùng: ")


def test_an_error_is_printed_in_the_chosen_language_only(tmp_path):
    env = {"KHOSO_DATA_DIR": str(tmp_path), "KHOSO_PORT": "eighty"}
    vi = run("fonds", "list", env=env)
    assert vi.exit_code == 2
    assert vi.output.startswith("Lỗi [CFG002]: Giá trị không hợp lệ cho KHOSO_PORT=eighty")
    assert "Error" not in vi.output and "Invalid" not in vi.output and " / " not in vi.output
    en = run("--lang", "en", "fonds", "list", env=env)
    assert en.exit_code == 2
    assert en.output.startswith("Error [CFG002]: Invalid value for KHOSO_PORT=eighty")
    assert "Lỗi" not in en.output and "Giá trị" not in en.output


def _fields(text):
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("po", [PO, CLICK_PO], ids=["khoso", "click"])
def test_a_translation_uses_only_the_placeholders_its_caller_fills(po):
    """A placeholder the msgid lacks would raise KeyError when the message is formatted."""
    for m in _catalog(po):
        if not m.id:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        for msgid, msgstr in zip(ids, strings, strict=True):
            assert _fields(msgstr) <= _fields(msgid), (msgid, msgstr)


def test_clicks_own_messages_follow_the_language(tmp_path):
    env = {"KHOSO_DATA_DIR": str(tmp_path)}
    vi = run("agency", "add", env=env)
    assert vi.exit_code == 2
    assert "Lỗi: Thiếu tham số 'ORGAN_ID'." in vi.output and "Cách dùng:" in vi.output
    assert "để được trợ giúp" in vi.output and "Missing" not in vi.output
    en = run("--lang", "en", "agency", "add", env=env)
    assert "Error: Missing argument 'ORGAN_ID'." in en.output and "Try '" in en.output
    assert "Thiếu" not in en.output
    assert "Error: No such option '--nope'." in run(
        "audit", "--nope", env={**env, "KHOSO_LANGUAGE": "en"}).output
    bad = run("--lang", "xx", "--help", env=env).output
    assert "Lỗi: Giá trị không hợp lệ cho '--lang': 'xx' không phải một trong 'vi', 'en'." in bad
    assert "Lỗi: Tùy chọn '--status' cần một giá trị." in run(
        "fonds", "add", "P1", "Phông", "--status", env=env).output


@pytest.mark.parametrize(("args", "vi_text", "en_text"), [
    (("sip", "build"), "Tạo túi SIP theo TT 05 từ thư mục tệp", "Build a TT 05 SIP bag from"),
    (("sip", "template"), "Ghi đè tệp đã có.", "Overwrite an existing file."),
    (("bag", "validate"), "hợp lệ nhưng chưa đầy đủ", "valid but incomplete"),
    (("job", "show"), "Kết quả và báo cáo của một công việc", "A job's outcome and report"),
    (("serve",), "Mặc định KHOSO_HOST.", "Default: KHOSO_HOST."),
    (("health",), "Chỉ trả mã thoát", "Exit code only"),
    (("codes",), "In các danh mục mã TT 05", "Print the TT 05 code lists"),
    (("issues",), "Mã lỗi: mức độ, căn cứ", "Issue codes: severity, clause"),
])
def test_the_help_of_a_swept_command_is_in_one_language(args, vi_text, en_text, tmp_path):
    env = {"KHOSO_DATA_DIR": str(tmp_path)}
    vi = run(*args, "--help", env=env).output
    assert vi_text in vi and en_text not in vi
    en = run("--lang", "en", *args, "--help", env=env).output
    assert en_text in en and vi_text not in en


def test_the_output_of_a_swept_command_is_in_one_language(tmp_path):
    env = {"KHOSO_DATA_DIR": str(tmp_path)}
    vi = run("sip", "template", str(tmp_path / "mau.csv"), env=env)
    assert vi.exit_code == 0 and vi.output == f"Đã tạo mẫu bảng kê: {tmp_path / 'mau.csv'}\n"
    en = run("--lang", "en", "sip", "template", str(tmp_path / "mau.xlsx"), env=env)
    assert en.exit_code == 0 and en.output == f"Sheet template written: {tmp_path / 'mau.xlsx'}\n"
    vi = run("codes", "mode", env=env).output.splitlines()
    en = run("--lang", "en", "codes", "mode", env=env).output.splitlines()
    assert vi[1] == "  cột: mode" and en[1] == "  columns: mode"
    (tmp_path / "neither").mkdir()
    vi = run("bag", "validate", str(tmp_path / "neither"), env=env)
    assert vi.output.splitlines()[-1] == (
        f"{tmp_path / 'neither'}: không nhận ra: không hợp lệ (0 tệp, 0 byte)")
    assert vi.output.startswith("[BAG001] lỗi: ")
    en = run("--lang", "en", "bag", "validate", str(tmp_path / "neither"), env=env)
    assert en.output.splitlines()[-1] == (
        f"{tmp_path / 'neither'}: not recognised: invalid (0 files, 0 bytes)")
    assert en.output.startswith("[BAG001] error: ")

"""Vietnamese messages carry no English words and no Python exception text (issue #13, §4)."""

import ast
import json
import re
from pathlib import Path

import pytest

from preservation.errors import ConfigError, Conflict, NotFound
from preservation.issues import Issue, Noun, Text, issue_catalog
from preservation.metadata.identifiers import is_organ_id
from preservation.settings import load_settings

ROOT = Path(__file__).resolve().parents[2]

# English words that have a plain Vietnamese equivalent; technical names (BagIt, METS, clamd,
# Object Lock, bag-info.txt…) are not words of the sentence and stay.
ENGLISH = ["Agency", "Fonds", "User", "Job", "Package", "not found", "already exists", "invalid",
           "error", "failed", "expected", "must be", "required", "unknown", "missing"]
# What Python, the OS or a library says when it fails.
PYTHON = ["invalid literal", "Traceback", "Errno", "object has no attribute", "NoneType",
          "No such file", "Permission denied", "unexpected keyword", "could not convert"]
# Codes whose {reason}/{detail} is Vietnamese by construction: callers pass a bilingual
# ``Text`` (or, for FMT005, a separate ``reason_en``; RBD039 quotes another issue's message).
SAID_IN_VIETNAMESE = {"CFG002", "GEN004", "FMT005", "RBD039"}
MARK = "chi tiết kỹ thuật: "


def _outside_placeholders(template: str) -> str:
    return re.sub(r"\{[^}]*\}", "", template)


@pytest.mark.parametrize("code", sorted(issue_catalog()))
def test_a_vietnamese_message_has_no_english_word_nor_python_error(code):
    vi = issue_catalog()[code].vi
    text = _outside_placeholders(vi)
    found = [w for w in ENGLISH if re.search(rf"\b{re.escape(w)}\b", text)]
    found += [w for w in PYTHON if w.lower() in text.lower()]
    assert not found, f"{code}: {vi}"
    assert "gói tin" not in vi, f"{code}: say «gói» (package), not «gói tin»"


@pytest.mark.parametrize("code", sorted(issue_catalog()))
def test_technical_text_in_a_vietnamese_message_is_marked_as_such(code):
    """``{reason}``/``{detail}`` receive what an exception, the OS or a library said (English):
    the Vietnamese message shows it as a marked technical detail, not as its own words."""
    vi = issue_catalog()[code].vi
    if code in SAID_IN_VIETNAMESE:
        return
    for name in re.findall(r"\{(reason|detail)\}", vi):
        assert f"{MARK}{{{name}}}" in vi, f"{code}: {vi}"


def test_the_english_word_scan_catches_what_it_should():
    assert re.search(r"\bAgency\b", _outside_placeholders("Không tìm thấy Agency: {key}."))
    assert not re.search(r"\bAgency\b", _outside_placeholders("Không tìm thấy {what}: {key}."))


@pytest.mark.parametrize(("error", "vi", "en"), [
    (NotFound("GEN002", what=Noun.AGENCY, key="H49.64.33"),
     "Không tìm thấy cơ quan: H49.64.33.", "Agency not found: H49.64.33."),
    (NotFound("GEN002", what=Noun.USER, key="lan"),
     "Không tìm thấy tài khoản: lan.", "User not found: lan."),
    (NotFound("GEN002", what=Noun.JOB, key="j1"), "Không tìm thấy công việc: j1.", "Job not found: j1."),
    (NotFound("GEN002", what=Noun.AIP, key="urn:uuid:1"),
     "Không tìm thấy gói lưu trữ (AIP): urn:uuid:1.", "AIP not found: urn:uuid:1."),
    (Conflict("GEN003", what=Noun.FONDS, key="P623"), "Đã tồn tại phông: P623.",
     "Fonds already exists: P623."),
])
def test_the_thing_not_found_is_named_in_each_language(error, vi, en):
    assert (error.message("vi"), error.message("en")) == (vi, en)


def test_a_bilingual_parameter_is_rendered_in_the_language_of_the_message():
    issue = Issue("GEN004", "limit", {"name": "limit", "reason": Text("số nguyên", "an integer")})
    assert issue.message("vi") == "Tham số không hợp lệ limit: số nguyên."
    assert issue.message("en") == "Invalid parameter limit: an integer."
    assert issue.to_dict()["params"]["reason"] == "số nguyên"


def _what_literals(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            for kw in node.keywords:
                if kw.arg == "what" and isinstance(kw.value, ast.Constant):
                    yield f"{path.relative_to(ROOT)}:{node.lineno}"


def test_no_caller_names_the_missing_thing_with_an_english_string():
    """``what=`` takes a ``Noun``, whose label is Vietnamese or English with the message."""
    found = [hit for package in ("preservation", "ingest", "storage", "access_api")
             for path in sorted((ROOT / package).rglob("*.py")) for hit in _what_literals(path)]
    assert found == []


@pytest.mark.parametrize(("name", "value", "vi"), [
    ("KHOSO_PORT", "eighty", "cần một số nguyên dương"),
    ("KHOSO_PORT", "-1", "cần một số nguyên dương"),
    ("KHOSO_CLAMD_TIMEOUT", "soon", "cần một số dương"),
    ("KHOSO_REJECT_NOT_SCANNED", "maybe", "cần true hoặc false"),
    ("KHOSO_ARCHIVE_KIND", "tam_thoi", "phải là một trong hien_hanh, lich_su"),
    ("KHOSO_DATABASE_URL", "mysql://x", "cần dạng sqlite:///"),
    ("KHOSO_STORAGE_LOCATIONS", "a=file:///x,a=file:///y", "tên vị trí «a» dùng hai lần"),
    ("KHOSO_AUDIT_PERIOD_DAYS", "2000", "ba năm"),
])
def test_a_bad_setting_is_explained_in_vietnamese(name, value, vi):
    with pytest.raises(ConfigError) as err:
        load_settings({name: value})
    message = err.value.message("vi")
    assert vi in message and name in message
    assert not [w for w in PYTHON + ["expected", "must", "used twice"] if w in message], message
    assert "invalid literal" not in err.value.message("en")


@pytest.mark.parametrize("value", ["000.00.00.G09", "000.00.18.G12", "000.01.32.H41",
                                   "H49.64.33", "H49.64.33.001", "0101234567", "0101234567-001"])
def test_agency_identifiers_of_the_qd_20_2020_forms_are_accepted(value):
    assert is_organ_id(value)


@pytest.mark.parametrize("value", ["", "../etc", "G09", "ABC", "000.00.00.g09", "00.00.00.G09",
                                   "000.00.00.G9", "000.00.00.GG9", "000.0.00.G09", "H49.64",
                                   "000.00.00.G09 ", "0101234567-1", "010123456", "UBND-NA"])
def test_other_agency_identifiers_are_refused(value):
    assert not is_organ_id(value)


def test_issue_json_files_keep_one_entry_per_line_where_they_had_it():
    """The JSON edits changed values only: a one-line file stays one entry per line."""
    for path in sorted((ROOT / "preservation" / "data" / "issues").glob("*.json")):
        lines = path.read_text(encoding="utf-8").splitlines()
        entries = json.loads("\n".join(lines))
        if len(lines) == len(entries) + 2:
            assert all(line.startswith('  "') for line in lines[1:-1]), path.name

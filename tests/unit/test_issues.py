import json
import re
from pathlib import Path

import pytest

from preservation.issues import Issue, Report, Severity, issue_catalog, outcome_of

ROOT = Path(__file__).parents[2]


def test_messages_are_bilingual_and_render():
    issue = Issue("CFG002", "KHOSO_PORT", {"name": "KHOSO_PORT", "value": "x", "reason": "int"})
    assert issue.message("vi").startswith("Giá trị không hợp lệ")
    assert issue.message("en").startswith("Invalid value")
    assert issue.to_dict()["severity"] == "error"


def test_a_file_message_names_the_issue_path_when_no_file_is_given():
    """The read pass reports BAG019 with the path only; the message used to print '?'."""
    issue = Issue("BAG019", "data/Hồ sơ.pdf", {"algorithm": "sha256", "expected": "ab",
                                               "found": "cd", "manifest": "manifest-sha256.txt"})
    assert "«data/Hồ sơ.pdf»" in issue.message("vi") and "'data/Hồ sơ.pdf'" in issue.message("en")
    assert "?" not in issue.message("en")


def test_undeclared_code_is_a_bug():
    with pytest.raises(KeyError):
        Issue("NOPE999")


def test_report_collects_and_judges():
    r = Report()
    assert r.ok
    r.add("GEN004", "q", name="q", reason="x")
    assert not r.ok and r.codes() == {"GEN004"}


def test_codes_are_declared_once_with_both_languages():
    seen: dict[str, str] = {}
    for f in (ROOT / "preservation" / "data" / "issues").glob("*.json"):
        for code, spec in json.loads(f.read_text(encoding="utf-8")).items():
            assert re.fullmatch(r"[A-Z]{2,5}\d{3}[a-z]?", code), code
            assert code not in seen, f"{code} in {f.name} and {seen.get(code)}"
            seen[code] = f.name
            assert spec["vi"].strip() and spec["en"].strip()
            Severity(spec["severity"])
    assert set(seen) == set(issue_catalog())


@pytest.mark.parametrize(("codes", "outcome"), [
    ((), "success"),
    (("SIG001",), "success"),  # info never lowers an outcome
    (("SIG001", "FMT005"), "warning"),
    (("FMT005", "CFG002", "SIG001"), "failure"),
])
def test_one_outcome_rule_for_every_check(codes, outcome):
    """Steps, PREMIS events and signature verdicts all derive their outcome with outcome_of."""
    issues = [Issue(c) for c in codes]
    assert outcome_of(issues).value == outcome
    report = Report()
    report.extend(issues)
    assert report.outcome.value == outcome

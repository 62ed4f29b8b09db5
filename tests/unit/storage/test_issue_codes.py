"""Every STO code is declared, renders in both languages, and is raised somewhere in ``storage``."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import storage
from preservation.issues import Issue, Severity, issue_catalog


def _declared() -> dict[str, dict[str, str]]:
    path = resources.files("preservation") / "data" / "issues" / "storage.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _used() -> set[str]:
    source = "".join(p.read_text() for p in Path(storage.__file__).parent.glob("*.py"))
    return set(re.findall(r'"(STO\d{3})"', source))


def test_declared_codes_are_exactly_the_used_ones() -> None:
    assert set(_declared()) == _used()


def test_codes_render_in_vietnamese_and_english() -> None:
    params = {"key": "a/b", "location": "replica1", "expected": "1", "actual": "2", "until": "2030",
              "operation": "put", "reason": "x", "reason_vi": "lý do", "reason_en": "why",
              "start": 1, "end": 0, "value": "v"}
    for code in _declared():
        issue = Issue(code, "a/b", params)
        assert issue.severity is Severity.ERROR and code in issue_catalog()
        vi, en = issue.message("vi"), issue.message("en")
        assert "{" not in vi and "{" not in en and vi != en
        assert re.search(r"[ăâđêôơưàảãạáằẳẵặắầẩẫậấèẻẽẹéềểễệếìỉĩịíòỏõọóồổỗộốờởỡợớùủũụúừửữựứỳỷỹỵý]", vi.lower()), code


def test_both_languages_use_the_same_parameters() -> None:
    for code, spec in _declared().items():
        vi = set(re.findall(r"{(\w+)}", spec["vi"])) - {"reason_vi"}
        en = set(re.findall(r"{(\w+)}", spec["en"])) - {"reason_en"}
        assert vi == en, code

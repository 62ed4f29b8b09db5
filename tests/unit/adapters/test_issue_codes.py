from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import preservation
from ingest.adapters.clamd import ScanResult, ScanStatus
from preservation.issues import Issue, issue_catalog

CODES = json.loads((Path(preservation.__file__).parent / "data/issues/adapters.json").read_text("utf-8"))
SOURCES = "\n".join(p.read_text("utf-8") for p in
                    (Path(__file__).parents[3] / "ingest/adapters").glob("*.py"))


@pytest.mark.parametrize("code", sorted(CODES))
def test_code_declared_with_vietnamese_first(code):
    d = issue_catalog()[code]
    assert re.fullmatch(r"(AV|FMT|SIG)\d{3}", code)
    assert re.search(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệịỉĩọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", d.vi), d.vi
    assert Issue(code, "x").message("vi") and Issue(code, "x").message("en")


@pytest.mark.parametrize("code", sorted(c for c in CODES if not c.startswith("AV")))
def test_code_is_used_by_an_adapter(code):
    assert f'"{code}"' in SOURCES


@pytest.mark.parametrize("result,codes", [
    (ScanResult(ScanStatus.CLEAN), []),
    (ScanResult(ScanStatus.INFECTED, "Test.EICAR"), ["AV001"]),
    (ScanResult(ScanStatus.NOT_SCANNED, detail="clamd not reachable"), ["AV002"]),
    (ScanResult(ScanStatus.NOT_SCANNED, detail="clamd: INSTREAM size limit exceeded. ERROR"), ["AV003"]),
])
def test_scan_result_issues(result, codes):
    issues = result.issues("data/a.pdf")
    assert [i.code for i in issues] == codes
    assert all(i.path == "data/a.pdf" for i in issues)
    if codes == ["AV001"]:
        assert "Test.EICAR" in issues[0].message("vi")

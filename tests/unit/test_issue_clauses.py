"""Every issue code names the clause it enforces (issue #13 §3), in one of the accepted shapes,
and a cited article, appendix, section or requirement id exists in the text it cites."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest

from preservation.issues import CLAUSE_FORM, KhosoPolicy, issue_catalog

# RFC 8493 sections khoso cites: 2 Structure, 2.1.1 bagit.txt, 2.1.2 data/, 2.1.3 payload
# manifest, 2.2.1 tag manifest, 2.2.2 bag-info.txt, 2.2.3 fetch.txt, 2.2.4 other tag files,
# 2.4 checksum algorithms, 3 complete and valid bags, 5.1/5.2/5.4 security considerations.
RFC_8493_SECTIONS = {"2", "2.1.1", "2.1.2", "2.1.3", "2.2.1", "2.2.2", "2.2.3", "2.2.4", "2.4",
                     "3", "5.1", "5.2", "5.4"}
# E-ARK CSIP 2.0.4: METS requirements CSIP1-CSIP119 (there is no CSIP87), folder structure
# requirements CSIPSTR1-CSIPSTR16.
CSIP_IDS = {f"CSIP{n}" for n in range(1, 120) if n != 87} | {f"CSIPSTR{n}" for n in range(1, 17)}
ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7, "VIII": 8}


def _citations(clause: str) -> list[str]:
    return clause.split("; ")


def _clauses() -> dict[str, str]:
    return {code: d.clause for code, d in issue_catalog().items()}


def test_every_code_in_every_file_has_a_clause_placed_after_its_severity() -> None:
    folder = resources.files("preservation") / "data" / "issues"
    for entry in folder.iterdir():
        if entry.name.endswith(".json"):
            for code, spec in json.loads(entry.read_text(encoding="utf-8")).items():
                assert list(spec)[:2] == ["severity", "clause"], (entry.name, code)


@pytest.mark.parametrize("code", sorted(issue_catalog()))
def test_the_clause_has_an_accepted_form(code: str) -> None:
    clause = issue_catalog()[code].clause
    assert clause.strip(), f"{code} names no clause"
    assert CLAUSE_FORM.fullmatch(clause), f"{code}: {clause!r} is not an accepted citation"


def test_the_loader_exposes_the_clause() -> None:
    assert issue_catalog()["BAG001"].clause == "RFC 8493 §2.1.1"
    assert issue_catalog()["METS003"].clause == "E-ARK CSIP CSIP9"
    assert issue_catalog()["PKG011"].clause == "khoso: an toàn giải nén"


@pytest.mark.parametrize("clause", [
    "", "Điều 10", "TT 05 Điều 10", "RFC 8493 2.1.1", "RFC 8493 §", "khoso: tùy ý",
    "khoso:an toàn giải nén", "E-ARK CSIP 60", "TT 05/2025/TT-BNV Điều 10;",
    "RFC 8493 §2.1.1;RFC 8493 §3", "METS 1.12 (mets.xsd", "NĐ 30/2020/NĐ-CP",
])
def test_invented_or_loose_shapes_are_refused(clause: str) -> None:
    assert not CLAUSE_FORM.fullmatch(clause)


def test_cited_places_exist_in_the_cited_text() -> None:
    """TT 05/2025 has 52 articles and appendices I–VII; RFC 8493 and CSIP ids as listed above."""
    for code, clause in _clauses().items():
        for citation in _citations(clause):
            if m := re.match(r"TT 05/2025/TT-BNV Điều (\d+)", citation):
                assert 1 <= int(m.group(1)) <= 52, (code, citation)
            if m := re.match(r"TT 05/2025/TT-BNV Phụ lục ([IVX]+)(?:–([IVX]+))?", citation):
                assert all(ROMAN.get(n or "I", 99) <= 7 for n in m.groups()), (code, citation)
            if m := re.match(r"TT 05/2025/TT-BNV Chương ([IVX]+)", citation):
                assert ROMAN.get(m.group(1), 99) <= 8, (code, citation)
            if citation.startswith("RFC 8493 "):
                sections = set(re.findall(r"§([\d.]+)", citation))
                assert sections <= RFC_8493_SECTIONS, (code, citation)
            if m := re.fullmatch(r"E-ARK CSIP (CSIP\w+)", citation):
                assert m.group(1) in CSIP_IDS, (code, citation)


def test_khoso_policies_are_cited_and_only_known_ones() -> None:
    cited = {c.removeprefix("khoso: ") for clause in _clauses().values()
             for c in _citations(clause) if c.startswith("khoso: ")}
    assert cited == {p.value for p in KhosoPolicy}

"""``case.json`` is believed whole or not at all: each refusal names the field and why."""

from __future__ import annotations

import json
from typing import Any

import pytest

from storage.disposal_file import FORMAT, MAX_BYTES, CaseFileError, parse_case_file

CASE = "0b6c1f3e-2a4d-4c8e-9f1a-3d5e7b9c1a2f"
SHA = "ab" * 32
DECISION = {"number": "12/QĐ-SNV", "date": "2026-12-07", "sha256": SHA, "signer": "GĐ, Sở",
            "decided_by": "quan-tri", "decided_at": "2026-12-07T08:00:00+00:00",
            "deadline": "2026-12-22T08:00:00+00:00",
            "key": f"TTLTNA/_disposal/{CASE}/quyet-dinh-{SHA[:16]}.pdf"}
CODE = "TTLTNA.H49.64.33.2001.170"


def document(**changes: Any) -> dict[str, Any]:
    stone = {"code": CODE, "file_code": CODE, "fond_code": "P623", "objid": "AIP.X",
             "title": "Hồ sơ", "maintenance": "06", "retention_years": 10,
             "start_date": "01/01/2001", "end_date": "31/12/2001",
             "documents": [{"docId": "1", "docCode": f"{CODE}.0000001",
                            "arcDocCode": f"{CODE}.0000001"}],
             "files": [{"version": 1, "path": "data/x.pdf", "sha256": SHA, "size": 3}],
             "locations": {"replica1": 30}, "decision": DECISION, "executed_by": "luu-tru",
             "executed_at": "2026-12-07T09:00:00+00:00"}
    doc = {"format": FORMAT, "archive": "TTLTNA",
           "case": {"id": CASE, "title": "Hủy", "explanation": "Hết hạn", "proposer": "a",
                    "created_at": "2026-12-01T00:00:00+00:00"},
           "list": [{"code": CODE, "added_by": "a", "added_at": "2026-12-01T00:00:00+00:00"}],
           "council": [{"username": "hd", "opinion": "agree", "comment": None,
                        "opinion_at": "2026-12-02T00:00:00+00:00"}],
           "decisions": [DECISION], "tombstones": [stone],
           "rows": [{"record_file": {"file_code": CODE, "arc_file_code": CODE, "title": "Hồ sơ",
                                     "mode": "01", "start_date": "01/01/2001",
                                     "end_date": "31/12/2001"},
                     "documents": [], "packages": [{"objid": "AIP.X", "version": 1}]}],
           "events": [], "locations": ["replica1"], "executed_by": "luu-tru",
           "executed_at": "2026-12-07T09:00:00+00:00"}
    doc.update(changes)
    return doc


def parse(doc: Any, case: str = CASE) -> Any:
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    return parse_case_file(data, "TTLTNA", case)


def test_a_good_file_reads_with_its_rows_and_items():
    parsed = parse(document())
    (rec,) = parsed.records
    assert rec.code == CODE and rec.tombstone["arc_file_code"] == CODE
    assert rec.rows is not None and rec.added_by == "a"
    assert parsed.council[0].opinion == "agree" and parsed.format == FORMAT


def test_the_first_format_has_no_rows():
    doc = document()
    del doc["format"], doc["rows"]
    (rec,) = parse(doc).records
    assert rec.rows is None and parse(doc).format == 1


@pytest.mark.parametrize(("doc", "case", "field"), [
    (b"x" * (MAX_BYTES + 1), CASE, "case.json"),
    (b"{", CASE, "case.json"),
    (document(), "../../etc", "folder"),
    (document(format=3), CASE, "format"),
    (document(archive="KHAC"), CASE, "archive"),
    (document(decisions=[]), CASE, "decisions"),
    (document(locations=[""]), CASE, "locations"),
    (document(council=[{"username": "hd", "opinion": "maybe"}]), CASE, "council[0].opinion"),
    (document(rows=[]), CASE, "rows"),
    (document(executed_at="hôm qua"), CASE, "executed_at"),
])
def test_a_bad_file_is_refused_naming_the_field(doc, case, field):
    with pytest.raises(CaseFileError) as refused:
        parse(doc, case)
    assert refused.value.field == field


def test_a_hoso_named_twice_is_refused():
    doc = document()
    doc["tombstones"] *= 2
    doc["rows"] *= 2
    with pytest.raises(CaseFileError) as refused:
        parse(doc)
    assert refused.value.field == "tombstones"

from __future__ import annotations

import pytest

from preservation.metadata.codelists import PACKAGES, kinds
from preservation.metadata.dates import TTDate
from preservation.metadata.rules import check_document_in_file, check_rules, check_total_doc
from tests.support.ead_samples import ARC_FILE, FILE, sample

TABLES = [(p, k) for p in PACKAGES for k in kinds(p)]


@pytest.mark.parametrize(("package", "kind"), TABLES)
def test_good_records_have_no_issue(package: str, kind: str) -> None:
    assert check_rules(sample(package, kind)).codes() == set()
    assert check_rules(sample(package, kind), destination="hien_hanh").codes() == set()


@pytest.mark.parametrize(
    ("package", "kind", "changes", "code"),
    [
        ("SIP", "hoso", {"paperFileCode": None}, "EAD020"),
        ("AIP", "hoso", {"paperFileCode": None}, "EAD020"),
        ("SIP", "hoso", {"numberOfPaper": None}, "EAD023"),
        ("SIP", "hoso", {"riskRecoveryStatus": None}, "EAD021"),
        ("SIP", "pic", {"riskRecovery": True}, "EAD021"),
        ("SIP", "doc", {"process": None}, "EAD022"),
        ("AIP", "doc", {"process": None, "confidenceLevel": "03"}, "EAD022"),
        ("SIP", "hoso", {"startDate": TTDate(2002, 1, 1)}, "DATE005"),
        ("AIP", "hoso", {"startDate": TTDate(2002)}, "DATE005"),
        ("SIP", "hoso", {"fileCode": "H49.64.33.160"}, "ID001"),
        ("SIP", "hoso", {"paperFileCode": "TTLTNA.160"}, "ID002"),
        ("SIP", "doc", {"docCode": f"{FILE}.01"}, "ID003"),
        ("SIP", "doc", {"docId": f"{FILE}.01"}, "ID004"),
        ("SIP", "doc", {"docId": f"{FILE}.2"}, "EAD027"),
        ("SIP", "tailieu", {"fileCode": "000.00.00.H41.2021.1.1"}, "ID007"),
        ("AIP", "doc", {"docOrdinal": 2}, "EAD028"),
        ("AIP", "doc", {"docCode": "TTLTNA.H49.64.33.2001.161.0000001"}, "EAD024"),
    ],
)
def test_each_rule_has_its_code(package: str, kind: str, changes: dict, code: str) -> None:
    assert check_rules(sample(package, kind, **changes)).codes() == {code}


def test_rules_skip_when_condition_false() -> None:
    assert check_rules(sample("SIP", "hoso", confidenceLevel="01", paperFileCode=None,
                              numberOfPaper=None)).codes() == set()
    assert check_rules(sample("SIP", "doc", confidenceLevel="02", process=None)).codes() == set()
    assert check_rules(sample("SIP", "hoso", riskRecovery=False, riskRecoveryStatus=None)).codes() == set()
    # text documents only: pic has no process element
    assert check_rules(sample("SIP", "pic", confidenceLevel="01")).codes() == set()


def test_only_permanent_goes_to_historical_archive() -> None:
    assert check_rules(sample("SIP", "hoso"), destination="lich_su").codes() == set()
    assert check_rules(sample("SIP", "hoso", maintenance="06"), destination="lich_su").codes() == {"RET003"}
    assert check_rules(sample("SIP", "pic", maintenance="02"), destination="lich_su").codes() == {"RET003"}
    assert check_rules(sample("SIP", "hoso", maintenance="06"), destination="hien_hanh").codes() == set()
    assert check_rules(sample("SIP", "hoso"), destination="kho").codes() == {"RET005"}


def test_document_in_file() -> None:
    sip_file = sample("SIP", "hoso")
    assert check_document_in_file(sip_file, sample("SIP", "doc")).codes() == set()
    assert check_document_in_file(sip_file, sample("SIP", "pic")).codes() == set()
    other = "H49.64.33.2001.161"
    doc = sample("SIP", "doc", docCode=f"{other}.0000001")
    assert check_document_in_file(sip_file, doc).codes() == {"EAD024"}
    doc = sample("SIP", "doc", docId=f"{other}.1")
    assert check_document_in_file(sip_file, doc).codes() == {"EAD025"}
    aip_file = sample("AIP", "hoso")
    assert check_document_in_file(aip_file, sample("AIP", "doc")).codes() == set()
    assert check_document_in_file(aip_file, sample("AIP", "media")).codes() == set()
    moved = sample("AIP", "doc", arcFileCode=f"{ARC_FILE}9", docCode=f"{ARC_FILE}9.0000001")
    report = check_document_in_file(aip_file, moved)
    assert report.codes() == {"EAD024"} and len(report) == 2


def test_total_doc() -> None:
    assert check_total_doc(sample("SIP", "hoso"), 137).codes() == set()
    assert check_total_doc(sample("SIP", "hoso"), 136).codes() == {"EAD026"}

from __future__ import annotations

import pytest

from preservation.errors import KhosoError
from preservation.metadata import xsdgen
from preservation.metadata.codelists import PACKAGES, codelist, codelist_names, field_specs, kinds


def test_retention_codes_and_years() -> None:
    cl = codelist("maintenance")
    assert cl.codes == ("01", "02", "03", "04", "05", "06", "07")
    years = {c: cl.attr(c, "years") for c in cl.codes}
    assert years == {"01": None, "02": 70, "03": 50, "04": 30, "05": 20, "06": 10, "07": None}
    assert cl.label("01") == "Vĩnh viễn" and cl.label("01", "en") == "Permanent"
    assert "08" not in cl and "01" in cl


@pytest.mark.parametrize(
    ("name", "count"),
    [("language", 11), ("typeName", 32), ("mode", 3), ("feeObjectType", 10), ("recordStatus", 5)],
)
def test_codelist_sizes(name: str, count: int) -> None:
    assert len(codelist(name).codes) == count


def test_every_codelist_has_both_labels() -> None:
    for name in codelist_names():
        cl = codelist(name)
        for code in cl.codes:
            assert cl.label(code, "vi") and cl.label(code, "en")


@pytest.mark.parametrize(
    ("package", "kind", "count", "first"),
    [
        ("SIP", "hoso", 18, "fileCode"),
        ("AIP", "hoso", 18, "arcFileCode"),
        ("SIP", "doc", 21, "docId"),
        ("AIP", "doc", 19, "arcFileCode"),
        ("DIP", "doc", 20, "docId"),
        ("SIP", "tailieu", 5, "fileCode"),
        ("AIP", "tailieu", 4, "arcFileCode"),
        ("DIP", "request", 7, "requestID"),
        ("SIP", "pic", 18, "docCode"),
        ("DIP", "media", 19, "arcDocCode"),
    ],
)
def test_field_tables(package: str, kind: str, count: int, first: str) -> None:
    specs = field_specs(package, kind)
    assert len(specs) == count
    assert specs[0].name == first
    assert len({s.name for s in specs}) == count


def test_hoso_order_matches_tt05_skeleton() -> None:
    names = [s.name for s in field_specs("SIP", "hoso")]
    assert names == [
        "fileCode", "title", "maintenance", "mode", "language", "startDate", "endDate", "keyword",
        "totalDoc", "numberOfPaper", "numberOfPage", "format", "inforSign", "confidenceLevel",
        "paperFileCode", "riskRecovery", "riskRecoveryStatus", "description",
    ]


def test_specs_reference_existing_codelists() -> None:
    for package in PACKAGES:
        for kind in kinds(package):
            for spec in field_specs(package, kind):
                assert (spec.codelist is not None) == (spec.type in ("code", "boolean"))
                if spec.codelist:
                    assert spec.codelist in codelist_names()


def test_unknown_table_raises() -> None:
    with pytest.raises(KhosoError) as info:
        field_specs("DIP", "hoso")
    assert info.value.code == "EAD013"


def test_committed_xsds_equal_fresh_generation() -> None:
    assert xsdgen.stale() == []
    assert xsdgen.main(["--check"]) == 0


def test_check_detects_drift(tmp_path) -> None:
    assert "sip/EAD.xsd" in xsdgen.stale(tmp_path)

"""Issue #12 METS details: one note on the root CREATOR agent (CSIP15), OTHERMDTYPE on every EAD
mdRef (written by ingest and ``khoso sip build``, read back), documentation and other metadata
listed in the root and rep1 METS, schema-valid."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from lxml import etree

from ingest.sip import validate_sip
from ingest.sip_build import build_sip
from preservation.packaging.mets import write_rep_mets, write_root_mets
from preservation.packaging.read import read_mets
from preservation.packaging.validate import validate_mets
from tests.support.mets import document, entry, rep_kwargs, root_kwargs
from tests.support.sheets import make_source, rows, write_csv

NS = {"m": "http://www.loc.gov/METS/", "csip": "https://DILCIS.eu/XML/METS/CSIPExtensionMETS"}
REP1 = "representations/rep1/"


def _root(package_type: str = "AIP", **extra) -> bytes:
    out = io.BytesIO()
    write_root_mets(out, **{**root_kwargs(package_type, "hoso"), **extra})
    return out.getvalue()


def _rep(package_type: str = "AIP", **extra) -> bytes:
    out = io.BytesIO()
    write_rep_mets(out, **rep_kwargs(package_type, "hoso", [document(i) for i in range(3)]),
                   **extra)
    return out.getvalue()


@pytest.mark.parametrize("package_type", ["SIP", "AIP", "DIP"])
def test_root_creator_agent_carries_one_note(package_type: str) -> None:
    tree = etree.fromstring(_root(package_type))
    notes = tree.xpath("m:metsHdr/m:agent[@ROLE='CREATOR']/m:note", namespaces=NS)
    assert [(n.get(f"{{{NS['csip']}}}NOTETYPE"), n.text) for n in notes] == [
        ("SOFTWARE VERSION", "0.1.0")]
    # the fonds code stays where validate_sip reads it: the rep1 METS CREATOR agent
    rep, _ = read_mets(_rep(package_type), rep=True)
    assert ("IDENTIFICATIONCODE", "P623") in rep.agents[0].notes


def test_ead_mdrefs_name_their_tt05_schema() -> None:
    root_bytes, rep_bytes = _root(), _rep()
    assert etree.fromstring(root_bytes).xpath(
        "m:dmdSec/m:mdRef/@OTHERMDTYPE", namespaces=NS) == ["EAD"]
    assert etree.fromstring(rep_bytes).xpath(
        "m:dmdSec/m:mdRef/@OTHERMDTYPE", namespaces=NS) == ["EAD_doc"] * 3
    root, _ = read_mets(root_bytes)
    rep, _ = read_mets(rep_bytes, rep=True)
    assert root.ead is not None and (root.ead.mdtype, root.ead.other_mdtype) == ("OTHER", "EAD")
    assert {(d.ead.mdtype, d.ead.other_mdtype) for d in rep.documents if d.ead} == {
        ("OTHER", "EAD_doc")}


@pytest.mark.parametrize("package_type", ["SIP", "AIP"])
def test_documentation_and_other_metadata_are_listed_and_valid(package_type: str) -> None:
    other = entry("metadata/other/danh-muc.csv", 950, "text/csv")
    rep_doc = entry(f"{REP1}documentation/ghi-chu.txt", 951, "text/plain")
    rep_other = entry(f"{REP1}metadata/other/ky-thuat.xml", 952)
    root_bytes = _root(package_type, other_metadata=[other])
    rep_bytes = _rep(package_type, documentation=[rep_doc], other_metadata=[rep_other])
    assert validate_mets(root_bytes).issues == []
    assert validate_mets(rep_bytes).issues == []
    root, report = read_mets(root_bytes)
    assert report.issues == []
    assert [f.path for f in root.other.values()] == ["metadata/other/danh-muc.csv"]
    assert [f.path for f in root.files_in("Documentation")] == ["documentation/UserManual.pdf"]
    assert root.premis is None or root.premis.path == "metadata/preservation/PREMIS.xml"
    tree = etree.fromstring(root_bytes)
    (meta,) = tree.xpath("//m:div[@LABEL='Metadata']", namespaces=NS)
    assert set(root.other) <= set(meta.get("ADMID").split())
    rep, report = read_mets(rep_bytes, rep=True)
    assert report.issues == []
    assert [f.path for f in rep.files_in("Documentation")] == [rep_doc.path]
    assert [f.path for f in rep.other.values()] == [rep_other.path]
    assert len(rep.documents) == 3  # the Documentation div is not a document
    rep_tree = etree.fromstring(rep_bytes)
    assert rep_tree.xpath("//m:div[@LABEL='Documentation']/m:fptr/@FILEID", namespaces=NS) == [
        rep_doc.id]


def test_sip_build_writes_othermdtype(tmp_path: Path) -> None:
    src = make_source(tmp_path / "src")
    sheet = write_csv(tmp_path / "sheet.csv", rows("hoso"))
    out = build_sip(src, sheet, tmp_path / "bag", organ_id="000.00.64.H49",
                    agency_name="Sở Nội vụ tỉnh Nghệ An", fond_code="P623")
    root = etree.parse(str(out / "data/METS.xml"))
    rep = etree.parse(str(out / f"data/{REP1}METS.xml"))
    assert root.xpath("//m:dmdSec/m:mdRef/@OTHERMDTYPE", namespaces=NS) == ["EAD"]
    kinds = rep.xpath("//m:dmdSec/m:mdRef/@OTHERMDTYPE", namespaces=NS)
    assert kinds and set(kinds) <= {"EAD_doc", "EAD_pic", "EAD_media"}
    assert len(root.xpath("//m:metsHdr/m:agent/m:note", namespaces=NS)) == 1
    assert validate_sip(out / "data").report.errors == []

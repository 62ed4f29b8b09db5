"""validate_sip on hostile and broken packages: each gives exactly its expected codes."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from lxml import etree

from ingest.sip import validate_sip
from ingest.sip_build import build_sip
from preservation.packaging.mets import METS_NS, XLINK_NS
from tests.support.sheets import make_source, rows, write_csv

M = {"m": METS_NS}
HREF = f"{{{XLINK_NS}}}href"
REP = "representations/rep1/"
PDF = f"{REP}data/qd-125.pdf"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("sip")
    src = make_source(base / "src")
    return build_sip(src, write_csv(base / "s.csv", rows()), base / "bag", organ_id="000.00.64.H49",
                     agency_name="Sở Nội vụ tỉnh Nghệ An", fond_code="P623") / "data"


@pytest.fixture
def sip(built: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(built, tmp_path / "data"))


def _edit_mets(data: Path, rel: str, change: Callable[[etree._Element], None]) -> None:
    """Change a METS file, then refresh its SIZE/CHECKSUM in the root METS (rep1 METS only)."""
    tree = etree.parse(str(data / rel))
    change(tree.getroot())
    tree.write(str(data / rel), xml_declaration=True, encoding="UTF-8")
    if rel != "METS.xml":
        _refresh(data, rel)


def _refresh(data: Path, rel: str) -> None:
    """After ``rel`` changed on purpose, make the METS that lists it agree again."""
    owner, href = ("METS.xml", rel) if not rel.startswith(REP) or rel == f"{REP}METS.xml" \
        else (f"{REP}METS.xml", rel[len(REP):])
    content = (data / rel).read_bytes()

    def fix(root: etree._Element) -> None:
        for el in root.iter(f"{{{METS_NS}}}FLocat", f"{{{METS_NS}}}mdRef"):
            if el.get(HREF) == href:
                target = el if el.tag.endswith("mdRef") else el.getparent()
                target.set("SIZE", str(len(content)))
                target.set("CHECKSUM", hashlib.sha256(content).hexdigest().upper())

    _edit_mets(data, owner, fix)


def _root_ead_ref(root: etree._Element) -> etree._Element:
    return root.find("m:dmdSec/m:mdRef", M)


def test_built_sip_is_clean(sip: Path) -> None:
    assert validate_sip(sip).report.codes() == set()


def test_doctype_xxe_in_root_mets(sip: Path) -> None:
    text = (sip / "METS.xml").read_bytes().replace(
        b"?>", b'?>\n<!DOCTYPE mets [<!ENTITY x SYSTEM "file:///etc/passwd">]>', 1)
    (sip / "METS.xml").write_bytes(text)
    assert validate_sip(sip).report.codes() == {"XML002"}


def test_checksum_lies(sip: Path) -> None:
    _edit_mets(sip, "METS.xml", lambda r: _root_ead_ref(r).set("CHECKSUM", "AB" * 32))
    assert validate_sip(sip).report.codes() == {"METS007"}


def test_size_lies(sip: Path) -> None:
    _edit_mets(sip, "METS.xml", lambda r: _root_ead_ref(r).set("SIZE", "1"))
    assert validate_sip(sip).report.codes() == {"METS006"}


def test_changed_data_file(sip: Path) -> None:
    data = bytearray((sip / PDF).read_bytes())
    data[0] ^= 1
    (sip / PDF).write_bytes(bytes(data))
    assert validate_sip(sip).report.codes() == {"METS007"}


def test_known_digest_is_trusted_instead_of_rehashing(sip: Path) -> None:
    report = validate_sip(sip, known_digests={f"data/{PDF}": "00" * 32}).report
    assert report.codes() == {"METS007"}


def test_missing_package_ead(sip: Path) -> None:
    (sip / "metadata/descriptive/EAD.xml").unlink()
    assert validate_sip(sip).report.codes() == {"SIP001", "METS005"}


def test_document_ead_breaks_a_rule(sip: Path) -> None:
    [ead] = (sip / REP / "metadata/descriptive").glob("EAD_doc_*.xml")
    text = ead.read_text(encoding="utf-8").replace("<confidenceLevel/>",
                                                   "<confidenceLevel>03</confidenceLevel>")
    ead.write_text(text, encoding="utf-8")
    _refresh(sip, ead.relative_to(sip).as_posix())
    assert validate_sip(sip).report.codes() == {"EAD022"}


@pytest.mark.parametrize("href", ["../../etc/passwd", "/etc/passwd", "file:///etc/passwd"])
def test_unsafe_href(sip: Path, href: str) -> None:
    def change(root: etree._Element) -> None:
        for flocat in root.iter(f"{{{METS_NS}}}FLocat"):
            if flocat.get(HREF) == "data/qd-125.pdf":
                flocat.set(HREF, href)

    _edit_mets(sip, f"{REP}METS.xml", change)
    assert validate_sip(sip).report.codes() == {"METS004", "METS009"}


def test_file_in_data_not_in_mets(sip: Path) -> None:
    (sip / REP / "data/extra.pdf").write_bytes(b"%PDF extra")
    assert validate_sip(sip).report.codes() == {"METS009"}


def test_mets_entry_without_file(sip: Path) -> None:
    (sip / PDF).unlink()
    assert validate_sip(sip).report.codes() == {"METS005"}


def test_schema_invalid_rep_mets(sip: Path) -> None:
    _edit_mets(sip, f"{REP}METS.xml", lambda r: r.find("m:fileSec", M).set("BOGUS", "1"))
    assert validate_sip(sip).report.codes() == {"METS001"}


def test_wrong_package_type(sip: Path) -> None:
    csip = "{https://DILCIS.eu/XML/METS/CSIPExtensionMETS}OAISPACKAGETYPE"
    _edit_mets(sip, "METS.xml", lambda r: r.find("m:metsHdr", M).set(csip, "AIP"))
    assert validate_sip(sip).report.codes() == {"METS003"}


def test_missing_data_dir(tmp_path: Path) -> None:
    assert validate_sip(tmp_path / "nope").report.codes() == {"SIP003"}


def test_empty_folder_lists_every_required_item(tmp_path: Path) -> None:
    result = validate_sip(tmp_path)
    assert result.report.codes() == {"SIP001"}
    assert len(result.report.issues) == 6


EAD = "metadata/descriptive/EAD.xml"


@pytest.mark.parametrize("spoil, code", [
    (lambda b: b.replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"', 1)
     if b'encoding="UTF-8"' in b else b"<?xml version='1.0' encoding='ISO-8859-1'?>" + b,
     "XML004"),
    (lambda b: b.replace(b"<fileCode>", b'<fileCode x="' + b"A" * (11 << 20) + b'">', 1),
     "XML001"),
], ids=["latin-1-declared", "huge-attribute"])
def test_a_package_ead_that_cannot_be_parsed_says_why(sip: Path, spoil, code: str) -> None:
    # The XML's own issue (what is wrong, on which line, how to fix it) is reported, not only
    # "cannot tell SIP_hoso from SIP_tailieu (XML004)", which names a code and no remedy.
    (sip / EAD).write_bytes(spoil((sip / EAD).read_bytes()))
    _refresh(sip, EAD)
    report = validate_sip(sip).report
    assert code in report.codes() and "SIP005" in report.codes()
    [issue] = [i for i in report.errors if i.code == code]
    assert issue.path == EAD


def test_an_io_error_reading_the_package_ead_is_not_the_submitter_s_fault(sip: Path,
                                                                          monkeypatch) -> None:
    # The staged EAD.xml failing to read (EIO on the archive's disk) must reach the pipeline,
    # which retries it as a staging error, rather than reject the SIP as SIP005.
    import errno

    import ingest.sip

    real = ingest.sip.parse_xml

    def eio(source, **kw):
        if isinstance(source, Path) and source.as_posix().endswith(EAD):
            raise OSError(errno.EIO, "Input/output error", str(source))
        return real(source, **kw)

    monkeypatch.setattr(ingest.sip, "parse_xml", eio)
    with pytest.raises(OSError) as raised:
        validate_sip(sip)
    assert raised.value.errno == errno.EIO


def test_an_io_error_reading_a_document_ead_is_not_passed_over(sip: Path, monkeypatch) -> None:
    # A document's EAD that fails to read was skipped without a word (its document then had
    # no metadata record); the error must reach the pipeline, which decides whose fault it is.
    import errno

    [ead] = (sip / REP / "metadata/descriptive").glob("EAD_doc_*.xml")
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == ead.name:
            raise OSError(errno.EIO, "Input/output error", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    with pytest.raises(OSError) as raised:
        validate_sip(sip)
    assert raised.value.errno == errno.EIO


def test_a_package_ead_in_a_namespace_is_told_as_such(sip: Path) -> None:
    # <simpledc xmlns="…"> was reported as "cannot tell SIP_hoso from SIP_tailieu (no
    # startDate…)", although startDate is there: the namespace is what is wrong (EAD014).
    text = (sip / EAD).read_bytes().replace(b"<simpledc>", b'<simpledc xmlns="urn:x">', 1)
    (sip / EAD).write_bytes(text)
    _refresh(sip, EAD)
    report = validate_sip(sip).report
    assert "EAD014" in report.codes() and "SIP005" not in report.codes()

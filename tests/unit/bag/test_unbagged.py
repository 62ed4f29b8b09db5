"""``ingest.unbagged``: a TT 05 SIP tree without BagIt read as a bag whose manifest is its METS."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from lxml import etree

from ingest.sip_build import build_sip
from ingest.unbagged import SubmissionForm, detect, read_unbagged
from preservation.packaging.mets import METS_NS, XLINK_NS
from tests.support.sheets import make_source, rows, write_csv

REP_METS = "representations/rep1/METS.xml"
PDF = "representations/rep1/data/qd-125.pdf"
HREF = f"{{{XLINK_NS}}}href"


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("sip")
    src = make_source(base / "src")
    return build_sip(src, write_csv(base / "s.csv", rows()), base / "bag", organ_id="000.00.64.H49",
                     agency_name="Sở Nội vụ tỉnh Nghệ An", fond_code="P623") / "data"


@pytest.fixture
def tree(built: Path, tmp_path: Path) -> Path:
    """A fresh copy of the SIP tree alone: no bagit.txt, no manifests."""
    return Path(shutil.copytree(built, tmp_path / "vendor"))


def issues(tree: Path, **kw) -> list[tuple[str, str]]:
    return sorted((i.code, i.path) for i in read_unbagged(tree, **kw).bag.report)


def edit_rep_mets(tree: Path, change) -> None:
    """Change the rep1 METS, then make the root METS's SIZE/CHECKSUM of it agree again."""
    path = tree / REP_METS
    doc = etree.parse(str(path))
    change(doc.getroot())
    doc.write(str(path), xml_declaration=True, encoding="UTF-8")
    data = path.read_bytes()
    root = etree.parse(str(tree / "METS.xml"))
    for flocat in root.getroot().iter(f"{{{METS_NS}}}FLocat"):
        if flocat.get(HREF) == REP_METS:
            flocat.getparent().set("SIZE", str(len(data)))
            flocat.getparent().set("CHECKSUM", hashlib.sha256(data).hexdigest().upper())
    root.write(str(tree / "METS.xml"), xml_declaration=True, encoding="UTF-8")


def file_entry(root: etree._Element, href: str) -> etree._Element:
    return next(f.getparent() for f in root.iter(f"{{{METS_NS}}}FLocat") if f.get(HREF) == href)


def test_detect_tells_the_two_forms_apart(tree: Path, tmp_path: Path):
    assert detect(tree) is SubmissionForm.UNBAGGED
    (tree / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    assert detect(tree) is SubmissionForm.BAGIT  # a bagit.txt always means "read it as a bag"
    assert detect(tmp_path / "nothing-here") is None
    assert SubmissionForm.UNBAGGED.label("vi") == "gói TT 05 không có BagIt"
    assert SubmissionForm.UNBAGGED.label("en") == "TT 05 package without BagIt"


def test_a_sip_tree_reads_as_a_bag_whose_manifest_is_its_mets(tree: Path):
    package = read_unbagged(tree, verify=True)
    bag = package.bag
    assert [(i.code, i.severity.value) for i in bag.report] == [("BAG113", "info")]
    on_disk = sorted(p.relative_to(tree).as_posix() for p in tree.rglob("*") if p.is_file())
    assert sorted(bag.files) == [f"data/{p}" for p in on_disk]  # paths as in a bag's payload
    listed = bag.entries[(False, "sha256")]
    assert set(listed) == {f"data/{p}" for p in on_disk} - {"data/METS.xml"}
    pdf = hashlib.sha256((tree / PDF).read_bytes()).hexdigest()
    assert listed[f"data/{PDF}"] == pdf and bag.files[f"data/{PDF}"].digests == {"sha256": pdf}
    assert bag.verified and bag.manifests == ("sha256",) and bag.version is None
    assert package.mets_sha256 == hashlib.sha256((tree / "METS.xml").read_bytes()).hexdigest()


def test_without_verify_nothing_is_hashed(tree: Path):
    bag = read_unbagged(tree).bag
    assert not bag.verified and all(not f.digests for f in bag.files.values())


def test_a_tampered_file_is_found_when_verifying(tree: Path):
    data = bytearray((tree / PDF).read_bytes())
    data[0] ^= 0x01
    (tree / PDF).write_bytes(bytes(data))
    assert issues(tree, verify=True) == [("BAG113", "METS.xml"), ("METS007", PDF)]
    assert issues(tree) == [("BAG113", "METS.xml")]  # ingest compares in its read pass


def test_an_unlisted_file_is_refused_by_name(tree: Path):
    (tree / "representations/rep1/data/extra.pdf").write_bytes(b"%PDF-1.4 extra")
    (tree / "ghi-chu.txt").write_bytes(b"notes")
    assert issues(tree) == [("BAG113", "METS.xml"), ("BAG115", "ghi-chu.txt"),
                            ("BAG115", "representations/rep1/data/extra.pdf")]


def test_a_listed_file_that_is_missing_is_refused(tree: Path):
    (tree / PDF).unlink()
    found = read_unbagged(tree).bag.report
    assert [(i.code, i.path, i.params["href"]) for i in found.errors] == [
        ("METS005", REP_METS, "data/qd-125.pdf")]


def test_a_missing_rep1_mets_is_missing_from_the_root_mets_and_its_files_are_unlisted(tree: Path):
    (tree / REP_METS).unlink()
    codes = {c for c, _ in issues(tree)}
    assert codes == {"BAG113", "METS005", "BAG115"}


@pytest.mark.parametrize("attributes, algorithm", [
    ({"CHECKSUMTYPE": None, "CHECKSUM": None}, None),
    ({"CHECKSUMTYPE": "MD5", "CHECKSUM": "0" * 32}, "MD5")])
def test_a_file_without_a_sha256_checksum_is_refused(tree: Path, attributes, algorithm):
    def change(root):
        entry = file_entry(root, "data/qd-125.pdf")
        for name, value in attributes.items():
            entry.attrib.pop(name, None) if value is None else entry.set(name, value)

    edit_rep_mets(tree, change)
    found = read_unbagged(tree).bag.report
    assert [(i.code, i.params["href"], i.params["algorithm"]) for i in found.errors] == [
        ("METS008", "data/qd-125.pdf", algorithm)]


def test_a_size_that_disagrees_is_refused(tree: Path):
    edit_rep_mets(tree, lambda root: file_entry(root, "data/qd-125.pdf").set("SIZE", "1"))
    found = read_unbagged(tree).bag.report
    assert [(i.code, i.params["declared"]) for i in found.errors] == [("METS006", 1)]


def test_one_file_with_two_checksums_is_refused(tree: Path):
    def change(root):
        entry = file_entry(root, "data/qd-125.pdf")
        twin = etree.fromstring(etree.tostring(entry))
        twin.set("ID", "ID-TWIN")
        twin.set("CHECKSUM", "A" * 64)
        entry.addnext(twin)

    edit_rep_mets(tree, change)
    found = read_unbagged(tree).bag.report
    assert [(i.code, i.path) for i in found.errors] == [("BAG116", PDF)]


def test_an_href_that_leaves_the_package_is_refused(tree: Path):
    def change(root):
        file_entry(root, "data/qd-125.pdf").find(f"{{{METS_NS}}}FLocat").set(HREF, "../../x.pdf")

    edit_rep_mets(tree, change)
    codes = sorted(c for c, _ in issues(tree))
    assert codes == ["BAG113", "BAG115", "METS004"]  # the PDF itself is now listed nowhere


def test_an_unreadable_mets_is_refused_without_calling_every_file_unlisted(tree: Path):
    (tree / "METS.xml").write_bytes(b"<mets")
    assert issues(tree) == [("BAG113", "METS.xml"), ("XML001", "METS.xml")]


def test_links_are_refused(tree: Path):
    os.symlink("/etc/passwd", tree / "representations/rep1/data/link.pdf")
    assert ("BAG025", "representations/rep1/data/link.pdf") in issues(tree)

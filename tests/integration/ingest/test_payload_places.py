"""Issue #12: nothing accepted is ever lost. Every payload file of an accepted SIP is in the AIP
in its TT 05 / E-ARK CSIP place, listed in its METS, described in PREMIS and registered; a file
with no such place refuses the SIP with its name. File names written on macOS (NFD) match
the METS that names them in NFC; the AIP holds the NFC name and PREMIS the name as received."""

from __future__ import annotations

import hashlib
import re
import shutil
import unicodedata
from pathlib import Path

import pytest
import sqlalchemy as sa
from lxml import etree

from ingest.sip_build import build_sip
from preservation.catalog.models import Bitstream, Package, PremisEvent
from preservation.packaging.read import read_mets
from preservation.packaging.validate import validate_mets, validate_premis
from tests.support.hostile import (
    EXTRAS,
    assert_rejected,
    edit_rep1_mets,
    files_in,
    remanifest,
    retag,
    tar_bag,
    with_extras,
)
from tests.support.khoso import Khoso
from tests.support.pki import minimal_pdf
from tests.support.sheets import HOSO, write_csv
from tests.support.sips import FOND, ORGAN, document_rows, make_sip, png

PREFIX = "TTLTNA/P623/TTLTNA.H49.64.33.2001.160/v1/"
REP1 = "representations/rep1/"
PREMIS_NS = "{http://www.loc.gov/premis/v3}"



def submit(khoso: Khoso, bag: Path, kind: str) -> Path:
    """The bag as a folder, or as a tar archive (whose files the AIP build moves, not copies)."""
    if kind == "dir":
        return bag
    return tar_bag(bag, khoso.tmp / "sip.tar")


@pytest.mark.parametrize("kind", ["dir", "tar"])
def test_documentation_and_other_metadata_are_kept_listed_and_registered(khoso, kind):
    bag = with_extras(make_sip(khoso.tmp / "sip"), EXTRAS)
    outcome = khoso.ingest(submit(khoso, bag, kind))
    assert outcome.accepted, outcome.report.to_dict()
    stored = files_in(khoso.replica("replica1"))
    assert stored == files_in(khoso.replica("replica2"))
    aip = khoso.replica("replica1") / PREFIX
    manifest = (aip / "manifest-sha256.txt").read_text(encoding="utf-8")
    for rel, data in EXTRAS.items():
        assert f"{PREFIX}data/{rel}" in stored, rel
        assert (aip / "data" / rel).read_bytes() == data
        assert f"  data/{rel}\n" in manifest

    root_bytes = (aip / "data/METS.xml").read_bytes()
    rep_bytes = (aip / f"data/{REP1}METS.xml").read_bytes()
    assert validate_mets(root_bytes).ok and validate_mets(rep_bytes).ok
    root, _ = read_mets(root_bytes)
    rep, _ = read_mets(rep_bytes, rep=True)
    assert sorted(f.path for f in root.files_in("Documentation")) == [
        "documentation/Hướng dẫn sử dụng.pdf", "documentation/empty.txt"]
    assert [f.path for f in rep.files_in("Documentation")] == [f"{REP1}documentation/ghi-chu.txt"]
    assert [f.path for f in root.other.values()] == ["metadata/other/danh-muc.csv"]
    assert [f.path for f in rep.other.values()] == [f"{REP1}metadata/other/ky-thuat.xml"]
    empty = next(f for f in root.files_in("Documentation") if f.path.endswith("empty.txt"))
    assert empty.size == 0
    # the structMap lists the documentation (div Documentation, fptr to each file)
    tree = etree.fromstring(root_bytes)
    ns = {"m": "http://www.loc.gov/METS/"}
    fptrs = tree.xpath("//m:structMap//m:div[@LABEL='Documentation']/m:fptr/@FILEID", namespaces=ns)
    assert sorted(fptrs) == sorted(f.id for f in root.files_in("Documentation"))

    premis = etree.fromstring((aip / "data/metadata/preservation/PREMIS.xml").read_bytes())
    assert validate_premis(etree.tostring(premis)).ok
    objects = premis.findall(f"{PREMIS_NS}object")
    names = {o.findtext(f"{PREMIS_NS}objectIdentifier/{PREMIS_NS}objectIdentifierValue")
             for o in objects}
    assert {"documentation/empty.txt", "metadata/other/danh-muc.csv"} <= names

    with khoso.catalog.session() as s:
        pkg = s.scalar(sa.select(Package).where(Package.kind == "AIP"))
        bits = {b.path: b for b in s.scalars(sa.select(Bitstream).where(
            Bitstream.package_id == pkg.id))}
        assert len(bits) == len(files_in(aip))
        for rel, data in EXTRAS.items():
            assert bits[f"data/{rel}"].size == len(data)
        # identified like content (not held to the TT 05 format policy, which is for records)
        assert bits["data/documentation/Hướng dẫn sử dụng.pdf"].puid.startswith("fmt/")
        # their virus checks are kept, about the file the AIP holds
        checked = {e.object_identifier: e.bitstream_id for e in s.scalars(sa.select(
            PremisEvent).where(PremisEvent.package_id == pkg.id,
                               PremisEvent.event_type == "virus check"))}
        for rel in EXTRAS:
            assert checked[rel] == bits[f"data/{rel}"].id, rel


@pytest.mark.parametrize("rel", [
    "thu-ngo.pdf",  # directly under data/
    "metadata/descriptive/ghi-chu.txt",
    f"{REP1}metadata/descriptive/EAD_doc_khong-ai-tro-toi.xml",
    "metadata/preservation/PREMIS.xml",
    "ghi-chu/tep.txt",
])
def test_a_file_with_no_place_in_the_aip_refuses_the_sip_with_its_name(khoso, rel):
    bag = with_extras(make_sip(khoso.tmp / "sip"), {rel: b""})
    outcome = khoso.ingest(bag)
    assert_rejected(khoso, outcome, {"SIP060"}, "validate_sip")
    assert [i.path for i in outcome.report if i.code == "SIP060"] == [rel]


NAME = "Quyết định số 1.pdf"


def vietnamese_sip(folder: Path) -> Path:
    """A SIP whose first document's file is ``NAME`` (NFC in its METS and on disk)."""
    src = folder / "src"
    src.mkdir(parents=True)
    rows = document_rows(2)
    rows[0]["file"] = unicodedata.normalize("NFC", NAME)
    for row in rows:
        (src / row["file"]).write_bytes(minimal_pdf(row.get("subject", row["file"]))
                                        if row["file"].endswith(".pdf") else png())
    sheet = write_csv(folder / "sheet.csv", [dict(HOSO, totalDoc="2"), *rows])
    return build_sip(src, sheet, folder / "bag", organ_id=ORGAN, agency_name="UBND huyện Nghi Lộc",
                     fond_code=FOND)


@pytest.mark.parametrize(("kind", "manifest"), [("dir", "NFD"), ("tar", "NFD"), ("dir", "NFC")])
def test_a_name_stored_in_nfd_matches_its_nfc_mets_reference(khoso, kind, manifest):
    nfc, nfd = (unicodedata.normalize(form, NAME) for form in ("NFC", "NFD"))
    assert nfc != nfd
    bag = vietnamese_sip(khoso.tmp / "sip")
    data = bag / "data" / REP1 / "data"
    # macOS writes the decomposed name; the METS still names it composed
    shutil.move(data / nfc, data / nfd)
    remanifest(bag)  # the manifest lists the name as it is on disk (NFD)...
    if manifest == "NFC":  # ...or as the agency's software wrote it before the copy
        for path in bag.glob("manifest-*.txt"):
            path.write_text(unicodedata.normalize("NFC", path.read_text("utf-8")), "utf-8")
        retag(bag)
    assert nfc in (bag / "data" / REP1 / "METS.xml").read_text(encoding="utf-8")
    outcome = khoso.ingest(submit(khoso, bag, kind))
    assert outcome.accepted, outcome.report.to_dict()
    assert not {"METS005", "METS009"} & outcome.report.codes()
    stored = files_in(khoso.replica("replica1"))
    assert f"{PREFIX}data/{REP1}data/{nfc}" in stored
    assert not any(nfd in p for p in stored)
    aip = khoso.replica("replica1") / PREFIX
    assert (aip / "data" / REP1 / "data" / nfc).read_bytes().startswith(b"%PDF")
    premis = etree.fromstring(
        (aip / f"data/{REP1}metadata/preservation/PREMIS_rep1.xml").read_bytes())
    obj = next(o for o in premis.findall(f"{PREMIS_NS}object") if o.findtext(
        f"{PREMIS_NS}objectIdentifier/{PREMIS_NS}objectIdentifierValue") == f"{REP1}data/{nfc}")
    assert obj.findtext(f"{PREMIS_NS}originalName") == nfd
    with khoso.catalog.session() as s:
        paths = set(s.scalars(sa.select(Bitstream.path)))
        assert f"data/{REP1}data/{nfc}" in paths
        events = set(s.scalars(sa.select(PremisEvent.event_type).where(
            PremisEvent.object_identifier == f"{REP1}data/{nfc}")))
        assert {"virus check", "format identification"} <= events


def test_a_data_file_no_document_links_is_still_listed_in_the_aip_mets(khoso):
    bag = make_sip(khoso.tmp / "sip")
    pdf = minimal_pdf("Phụ lục")
    (bag / "data" / REP1 / "data" / "phu-luc.pdf").write_bytes(pdf)
    sha = hashlib.sha256(pdf).hexdigest().upper()
    loose = (f'<file ID="ID-PHU-LUC" MIMETYPE="application/pdf" SIZE="{len(pdf)}" '
             f'CREATED="2026-06-12T11:45:37.690+07:00" CHECKSUMTYPE="SHA-256" CHECKSUM="{sha}">'
             '<FLocat LOCTYPE="URL" xlink:type="simple" xlink:href="data/phu-luc.pdf"/></file>')

    def add(text: str) -> str:  # in the Data group and div, in no MetadataLink div
        text = re.sub(r'(<fileGrp [^>]*USE="Data"[^>]*>)', lambda m: m[1] + loose, text, count=1)
        return re.sub(r'(<div [^>]*LABEL="Data"[^>]*>)',
                      lambda m: m[1] + '<fptr FILEID="ID-PHU-LUC"/>', text, count=1)

    edit_rep1_mets(bag, add)
    outcome = khoso.ingest(bag)
    assert outcome.accepted, outcome.report.to_dict()
    assert "METS016" in outcome.report.codes()  # warned, and kept
    aip = khoso.replica("replica1") / PREFIX
    rep_bytes = (aip / f"data/{REP1}METS.xml").read_bytes()
    assert validate_mets(rep_bytes).ok
    rep, _ = read_mets(rep_bytes, rep=True)
    listed = {f.path: f for f in rep.files_in("Data")}
    assert f"{REP1}data/phu-luc.pdf" in listed
    assert listed[f"{REP1}data/phu-luc.pdf"].checksum == sha.lower()
    assert listed[f"{REP1}data/phu-luc.pdf"].id in rep.data_div
    assert (aip / f"data/{REP1}data/phu-luc.pdf").read_bytes() == pdf

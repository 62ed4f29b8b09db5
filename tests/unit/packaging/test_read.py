"""Liberal METS reading: vendor variants accepted (METS012), hostile XML refused."""

from __future__ import annotations

import pytest

from preservation.errors import KhosoError
from preservation.packaging.read import read_mets, resolve_href
from preservation.packaging.validate import validate_mets

VENDOR_REP = b"""<?xml version="1.0" encoding="utf-8"?>
<mets xmlns="http://www.loc.gov/METS/" xmlns:xlink="http://www.w3.org/1999/xlink"
      xmlns:csip="https://DILCIS.eu/XML/METS/CSIPExtensionMETS" OBJID="rep1" TYPE="Mixed"
      csip:OAISPACKAGETYPE="SIP">
  <metsHdr CREATEDATE="2024-01-01T00:00:00.000+07:00">
    <agent ROLE="CREATOR" TYPE="INDIVIDUAL"><name>nguyenvana</name></agent>
  </metsHdr>
  <dmdSec ID="uuid-D1" CREATED="2024-01-01T00:00:00.000+07:00" STATUS="CURRENT">
    <mdRef LOCTYPE="URL" MDTYPE="DC" MDTYPEVERSION="1.0.0" MIMETYPE="application/xml"
           xlink:type="simple" xlink:href="metadata/descriptive/EAD_DOC_H49.64.33.2001.160.1.xml"
           SIZE="10" CHECKSUMTYPE="SHA-256" CHECKSUM="abcdef"/>
  </dmdSec>
  <fileSec>
    <fileGrp USE="Data">
      <file ID="ID-F1" MIMETYPE="application/pdf" SIZE="5" CHECKSUMTYPE="SHA-256" CHECKSUM="ABCD">
        <FLocat LOCTYPE="URL" xlink:type="simple" xlink:href="data/H49.64.33.2001.160.1.pdf"/>
      </file>
    </fileGrp>
    <fileGrp USER="Holeyfile">
      <file ID="ID-F2" MIMETYPE="text/plain" SIZE="5" CHECKSUMTYPE="SHA-256" CHECKSUM="ABCE">
        <FLocat LOCTYPE="URL" xlink:type="simple" xlink:href="./data/x.pdf.fetch.txt"/>
      </file>
    </fileGrp>
  </fileSec>
  <structMap TYPE="PHYSICAL" LABEL="CSIP">
    <div LABEL="rep1" TYPE="ORIGINAL">
      <div LABEL="Data"><fptr FILEID="ID-F1"/></div>
      <div LABEL="MetadataLink">
        <div LABEL="MetadataLink/File" DMDID="uuid-D1"><fptr FILEID="ID-F1"/></div>
        <div LABEL="MetadataLink/Holey" DMDID="uuid-D1"><fptr FILEID="ID-F2"/></div>
      </div>
    </div>
  </structMap>
</mets>"""


def test_vendor_variants_are_read_and_noted() -> None:
    doc, report = read_mets(VENDOR_REP, rep=True)
    assert report.codes() == {"METS012"} and report.ok
    variants = {i.params["variant"] for i in report}
    assert variants == {"OAISPACKAGETYPE on <mets>", "MDTYPE DC", "MDTYPEVERSION 1.0.0",
                        "MIMETYPE application/xml", "lower-case CHECKSUM",
                        "fileGrp/@USER instead of @USE"}
    assert (doc.objid, doc.package_type) == ("rep1", "SIP")
    first = doc.documents[0]
    assert first.ead is not None
    assert first.ead.path == ("representations/rep1/metadata/descriptive/"
                              "EAD_DOC_H49.64.33.2001.160.1.xml")
    assert first.files[0].checksum == "abcd"
    assert doc.documents[1].files[0].path == "representations/rep1/data/x.pdf.fetch.txt"
    assert doc.documents[1].files[0].group == "Holeyfile"


def test_unknown_ids_are_reported() -> None:
    data = VENDOR_REP.replace(b'DMDID="uuid-D1"><fptr FILEID="ID-F1"/>',
                              b'DMDID="uuid-NOPE"><fptr FILEID="ID-NOPE"/>')
    _, report = read_mets(data, rep=True)
    assert {i.params.get("ref") for i in report if i.code == "METS011"} == {"uuid-NOPE", "ID-NOPE"}


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE mets [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<mets xmlns="http://www.loc.gov/METS/"><metsHdr><agent><name>&xxe;</name></agent></metsHdr></mets>"""


def test_doctype_and_xxe_are_refused() -> None:
    with pytest.raises(KhosoError) as info:
        read_mets(XXE)
    assert info.value.code == "XML002"
    assert validate_mets(XXE).codes() == {"XML002"}


def test_malformed_and_foreign_roots() -> None:
    with pytest.raises(KhosoError) as info:
        read_mets(b"<mets xmlns='http://www.loc.gov/METS/'><metsHdr></mets>")
    assert info.value.code == "XML001"
    _, report = read_mets(b"<simpledc/>")
    assert report.codes() == {"METS002"}


@pytest.mark.parametrize(("href", "expected"), [
    ("data/a.pdf", "representations/rep1/data/a.pdf"),
    ("./data//a%20b.pdf", "representations/rep1/data/a b.pdf"),
    ("../../etc/passwd", None), ("data/..%2F..%2Fx", None), ("/etc/passwd", None),
    ("file:///etc/passwd", None), ("http://x/a.pdf", None), ("C:\\x.pdf", None), ("", None),
])
def test_resolve_href(href: str, expected: str | None) -> None:
    path, reason = resolve_href(href, "representations/rep1/")
    assert path == expected and (reason is None) == (expected is not None)

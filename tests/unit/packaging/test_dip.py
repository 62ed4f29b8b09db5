"""The DIP format (``preservation.packaging.dip``): what ``write_dip`` + ``zip_dip`` make is what
``check_dip`` accepts (METS 1.12 + CSIP, the DIP EAD XSDs, every file's size and SHA-256), and a
DIP altered after the fact is caught with a code."""

from __future__ import annotations

import datetime as dt
import hashlib
import zipfile

import pytest

from access_api.services.access_requests import working_days_after
from preservation.errors import ValidationFailed
from preservation.metadata.ead import EadRecord
from preservation.packaging.dip.package import (
    DipDocument,
    check_dip,
    data_name,
    folder_name,
    write_dip,
    zip_dip,
)
from tests.support.ead_samples import sample

OBJID = "uuid-7D0D1987-0F1C-47A7-8FD6-CC5C7DE4064F"
FILES = {"qd-125.pdf": b"%PDF-1.4 quyet dinh\n", "anh-1.jpg": b"\xff\xd8\xff anh",
         "ghi-am.mp3": b"ID3 ghi am"}


def _dip(tmp_path, **override):
    root = tmp_path / "build" / folder_name(OBJID)
    data = root / "representations/rep1/data"
    data.mkdir(parents=True)
    for name, content in FILES.items():
        (data / name).write_bytes(content)

    def files(name):
        return ((name, hashlib.sha256(FILES[name]).hexdigest()),)

    docs = [DipDocument(sample("DIP", "doc"), files("qd-125.pdf")),
            DipDocument(sample("DIP", "pic"), files("anh-1.jpg")),
            DipDocument(sample("DIP", "media"), files("ghi-am.mp3"))]
    kwargs = {"objid": OBJID, "created": dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC),
              "request": sample("DIP", "request"), "documents": docs,
              "software_name": "khoso", "software_version": "test",
              "archive_name": "Trung tâm Lưu trữ tỉnh", "fond_code": "P623", **override}
    write_dip(root, **kwargs)
    target = tmp_path / "dip.zip"
    size, digest = zip_dip(root, target, folder_name(OBJID))
    assert size == target.stat().st_size
    assert digest == hashlib.sha256(target.read_bytes()).hexdigest()
    return target


def test_a_written_dip_reads_back_valid(tmp_path):
    contents = check_dip(_dip(tmp_path))
    assert contents.report.errors == [], [i.to_dict() for i in contents.report.errors]
    assert contents.objid == OBJID and contents.folder == OBJID
    assert contents.request is not None and contents.request.values["requestID"] == "YC.2025.000123"
    assert sorted(d.kind for d in contents.documents) == ["doc", "media", "pic"]
    assert {"METS.xml", "metadata/descriptive/EAD.xml", "representations/rep1/METS.xml",
            "schemas/mets1_12.xsd", "schemas/EAD_doc.xsd", "schemas/codelists.xsd",
            "representations/rep1/metadata/descriptive/EAD_doc_qd-125.xml",
            "representations/rep1/data/ghi-am.mp3"} <= set(contents.files)


def _rewrite(path, target, change):
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            data = change(info.filename, src.read(info.filename))
            if data is not None:
                dst.writestr(info.filename, data)
    return target


@pytest.mark.parametrize(("change", "code"), [
    (lambda n, d: d + b"x" if n.endswith("qd-125.pdf") else d, "DIP012"),
    (lambda n, d: None if n.endswith("anh-1.jpg") else d, "DIP011"),
    (lambda n, d: None if n.endswith("rep1/METS.xml") else d, "DIP011"),
    (lambda n, d: d.replace(b"<purpose>02</purpose>", b"<purpose>09</purpose>")
     if n.endswith("descriptive/EAD.xml") else d, "XML005"),
    (lambda n, d: d.replace(b'OAISPACKAGETYPE="DIP"', b'OAISPACKAGETYPE="XIP"')
     if n.endswith(f"{OBJID}/METS.xml") else d, "METS001"),
])
def test_an_altered_dip_is_caught(tmp_path, change, code):
    good = _dip(tmp_path)
    bad = _rewrite(good, tmp_path / "bad.zip", change)
    assert bad.read_bytes() != good.read_bytes()
    assert code in {i.code for i in check_dip(bad).report.errors}


def test_what_is_not_a_dip(tmp_path):
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK not a zip")
    assert [i.code for i in check_dip(junk).report.errors] == ["DIP013"]
    two_tops = tmp_path / "two.zip"
    with zipfile.ZipFile(two_tops, "w") as zf:
        zf.writestr("a/METS.xml", b"<x/>")
        zf.writestr("../b/METS.xml", b"<x/>")
    assert [i.code for i in check_dip(two_tops).report.errors] == ["DIP013"]


def test_a_record_that_does_not_fit_its_dip_table_is_refused(tmp_path):
    bad = EadRecord("DIP", "request", {"requestID": "YC.1", "purpose": "09"})
    with pytest.raises(ValidationFailed) as err:
        _dip(tmp_path, request=bad)
    assert err.value.code == "EAD015"
    with pytest.raises(ValueError):
        _dip(tmp_path / "x", request=sample("AIP", "doc"))


def test_two_files_of_one_name_are_kept_apart():
    taken: set[str] = set()
    assert data_name("a.pdf", taken, "TTLTNA.X.0000001") == "a.pdf"
    assert data_name("a.pdf", taken, "TTLTNA.X.0000002") == "TTLTNA.X.0000002_a.pdf"
    assert data_name("a.pdf", taken, "TTLTNA.X.0000002") == "TTLTNA.X.0000002_2_a.pdf"


@pytest.mark.parametrize(("start", "due"), [
    (dt.date(2026, 12, 7), dt.date(2026, 12, 15)),  # Monday → the Tuesday after next
    (dt.date(2026, 12, 11), dt.date(2026, 12, 21)),  # Friday → Monday week
    (dt.date(2026, 12, 12), dt.date(2026, 12, 21)),  # Saturday
])
def test_six_working_days(start, due):
    assert working_days_after(start, 6) == due


def test_a_zip_that_cannot_be_finished_leaves_nothing(tmp_path, monkeypatch):
    root = tmp_path / "pkg"
    (root / "data").mkdir(parents=True)
    (root / "data" / "a.pdf").write_bytes(b"%PDF")

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(zipfile.ZipFile, "write", full)
    with pytest.raises(OSError):
        zip_dip(root, tmp_path / "out" / "dip.zip", "pkg")
    assert list((tmp_path / "out").iterdir()) == []

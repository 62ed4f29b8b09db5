"""Root and rep1 METS: schema-valid for every package, round-trip, streaming memory."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from preservation.packaging.mets import write_rep_mets, write_root_mets
from preservation.packaging.model import DocumentEntry, FileEntry, timestamp
from preservation.packaging.read import read_mets
from preservation.packaging.validate import validate_mets
from tests.support.mets import WHEN, document, entry, rep_kwargs, rep_mets, root_kwargs, root_mets

ROOT = Path(__file__).resolve().parents[3]
PACKAGES = [(p, c) for p in ("SIP", "AIP", "DIP") for c in ("hoso", "tailieu")]


@pytest.mark.parametrize(("package_type", "content"), PACKAGES)
def test_root_and_rep_mets_validate(package_type: str, content: str) -> None:
    assert validate_mets(root_mets(package_type, content)).issues == []
    assert validate_mets(rep_mets(package_type, content)).issues == []


@pytest.mark.parametrize(("package_type", "content"), PACKAGES)
def test_root_round_trip(package_type: str, content: str) -> None:
    kwargs = root_kwargs(package_type, content)
    doc, report = read_mets(root_mets(package_type, content))
    assert report.issues == []
    assert (doc.objid, doc.package_type, doc.label) == (kwargs["objid"], package_type,
                                                        kwargs["label"])
    assert doc.type == {"hoso": "Mixed", "tailieu": "Collection"}[content] or package_type == "DIP"
    ead = doc.ead
    assert ead is not None and ead.path == kwargs["ead"].path
    assert (ead.size, ead.checksum, ead.checksum_type) == (kwargs["ead"].size,
                                                           kwargs["ead"].sha256, "SHA-256")
    assert [f.path for f in doc.files_in("Schemas")] == [e.path for e in kwargs["schemas"]]
    assert [f.path for f in doc.files_in("Documentation")] == ["documentation/UserManual.pdf"]
    assert doc.mptrs == ["representations/rep1/METS.xml"]
    assert doc.agents[0].name == "khoso"
    assert ("SOFTWARE VERSION", "0.1.0") in doc.agents[0].notes
    assert doc.agreement() == ("NL.BNV.2026.01" if package_type == "SIP" else None)
    assert (doc.premis is not None) == (package_type == "AIP")


@pytest.mark.parametrize(("package_type", "content"), PACKAGES)
def test_rep_round_trip(package_type: str, content: str) -> None:
    written = [document(i) for i in range(5)]
    doc, report = read_mets(rep_mets(package_type, content, written), rep=True)
    assert report.issues == []
    assert len(doc.documents) == 5
    for original, read in zip(written, doc.documents, strict=True):
        assert read.dmd_id == original.dmd_id
        assert read.ead is not None and read.ead.path == original.ead.path
        assert read.ead.checksum == original.ead.sha256
        assert [(f.id, f.path, f.size, f.checksum, f.mime) for f in read.files] == [
            (f.id, f.path, f.size, f.sha256, f.mime) for f in original.files]
        assert (read.adm_id is not None) == (package_type == "AIP")


def test_rep1_div_type_and_csip_markers() -> None:
    assert b'LABEL="rep1" TYPE="ORIGINAL"' in rep_mets("SIP", "hoso")
    assert b'LABEL="rep1" TYPE="NORMALIZED"' in rep_mets("AIP", "hoso")
    root = root_mets("AIP", "hoso")
    assert b'PROFILE="http://www.ra.ee/METS/v01/IP.xml"' in root
    assert b'csip:OAISPACKAGETYPE="AIP"' in root and b"Z\"" not in root
    assert f'CHECKSUM="{900:064X}"'.encode() in root


def test_holey_documents_go_to_their_own_group_and_div() -> None:
    holey = DocumentEntry(entry("representations/rep1/metadata/descriptive/EAD_doc_h.xml", 50),
                          (entry("representations/rep1/data/h.pdf.fetch.txt", 51, "text/plain"),))
    data = rep_mets("SIP", "hoso", [document(0), holey])
    assert validate_mets(data).issues == []
    assert b'USE="Holeyfile"' in data and b'LABEL="MetadataLink/Holey"' in data
    doc, _ = read_mets(data, rep=True)
    assert doc.documents[1].files[0].group == "Holeyfile"


def test_timestamp_is_ict_with_milliseconds() -> None:
    assert timestamp(dt.datetime(2026, 6, 12, 11, 45, 37, 690123)) == "2026-06-12T11:45:37.690+07:00"
    utc = dt.datetime(2026, 6, 12, 4, 45, 37, 5000, tzinfo=dt.UTC)
    assert timestamp(utc) == "2026-06-12T11:45:37.005+07:00"


def test_file_entry_keeps_lowercase_digest() -> None:
    assert FileEntry("a", 1, "AB" * 32, "x", WHEN).sha256 == "ab" * 32


@pytest.mark.parametrize("override", [{"package_type": "XIP"}, {"content": "mixed"},
                                      {"premis": None}])
def test_root_writer_refuses_bad_arguments(override: dict) -> None:
    with pytest.raises(ValueError):
        write_root_mets(io.BytesIO(), **{**root_kwargs("AIP", "hoso"), **override})


def test_rep_writer_refuses_aip_without_premis_and_paths_outside_rep1() -> None:
    kwargs = rep_kwargs("AIP", "hoso", [document(0)])
    with pytest.raises(ValueError, match="PREMIS_rep1"):
        write_rep_mets(io.BytesIO(), **{**kwargs, "premis": None})
    outside = DocumentEntry(entry("metadata/descriptive/EAD_doc_x.xml"), ())
    with pytest.raises(ValueError, match="not inside"):
        write_rep_mets(io.BytesIO(), **rep_kwargs("SIP", "hoso", [outside]))


def test_100k_documents_stream_in_bounded_memory(tmp_path) -> None:
    """A fresh interpreter writes 100,000 documents (5 passes over a lazy sequence); its peak
    RSS may grow by well under 100 MB, although the METS itself is ~100 MB."""
    target = tmp_path / "METS.xml"
    code = ("import json, sys; from tests.support.mets import write_lazy_rep_mets; "
            "print(json.dumps(write_lazy_rep_mets(sys.argv[1], 100_000)))")
    out = subprocess.run([sys.executable, "-c", code, str(target)], cwd=ROOT, capture_output=True,
                         text=True, timeout=600, check=True)
    figures = json.loads(out.stdout)
    assert figures["rss_growth_kib"] < 100 * 1024, figures
    assert figures["seconds"] < 120, figures
    assert target.stat().st_size > 50_000_000
    doc, report = read_mets(target, rep=True)
    assert report.issues == [] and len(doc.documents) == 100_000
    assert doc.documents[-1].files[0].path.endswith(".99999.pdf")

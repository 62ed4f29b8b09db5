from __future__ import annotations

import io
import json
import struct
import tempfile
import zipfile
import zlib

import pytest

from ingest.adapters.fakes import FakeIdentifier
from ingest.adapters.format_policy import DEFAULT_POLICY, FormatPolicy
from ingest.adapters.formats import (
    FidoIdentifier,
    FormatIdentification,
    PygfriedIdentifier,
    make_identifier,
)
from preservation.errors import ConfigError
from tests.support.pki import minimal_pdf


def png_bytes() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
            + chunk(b"IEND", b""))


def docx_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>')
        z.writestr("word/document.xml", '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Xin chào</w:t></w:r></w:p></w:body></w:document>')
    return buf.getvalue()


SAMPLES = {
    "van-ban.pdf": minimal_pdf(),
    "anh.png": png_bytes(),
    "ghi-chu.txt": "Biên bản họp ngày 22/11/2026\n".encode(),
    "to-trinh.docx": docx_bytes(),
    "rong.pdf": b"",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("formats")
    for name, data in SAMPLES.items():
        (folder / name).write_bytes(data)
    return folder


@pytest.fixture(scope="module")
def policy() -> FormatPolicy:
    return FormatPolicy.load()


@pytest.fixture(scope="module", params=["siegfried", "fido"])
def identifier(request):
    if request.param == "fido":
        pytest.importorskip("fido", reason="opf-fido not installed")
    return make_identifier(request.param)


EXPECTED = {"van-ban.pdf": "fmt/276", "anh.png": "fmt/11", "ghi-chu.txt": "x-fmt/111",
            "to-trinh.docx": "fmt/412"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_identifies_common_formats(identifier, corpus, name):
    ident = identifier.identify(corpus / name)
    assert ident.puid == EXPECTED[name], ident
    assert ident.known and not ident.error and ident.tool in ("siegfried", "fido")
    assert ident.tool_version and ident.signature_file


def test_empty_and_missing_files_are_results_not_exceptions(identifier, corpus, policy):
    empty = identifier.identify(corpus / "rong.pdf")
    assert empty.empty and not empty.known
    assert [i.code for i in policy.check(empty)] == ["FMT002"]
    missing = identifier.identify(corpus / "khong-co.pdf")
    assert not missing.known and missing.error
    assert [i.code for i in policy.check(missing)] == ["FMT001"]


def test_identify_many_keeps_order(corpus):
    names = ["to-trinh.docx", "khong-co.txt", "anh.png", "rong.pdf", "van-ban.pdf"]
    results = PygfriedIdentifier().identify_many([corpus / n for n in names], workers=2)
    assert [r.path for r in results] == [str(corpus / n) for n in names]
    assert [r.puid for r in results] == ["fmt/412", None, "fmt/11", None, "fmt/276"]
    assert PygfriedIdentifier().identify_many([]) == []


def test_siegfried_tool_details(corpus):
    ident = PygfriedIdentifier().identify(corpus / "anh.png")
    assert ident.tool == "siegfried" and ident.tool_version.count(".") == 2
    assert "DROID_SignatureFile" in ident.signature_file
    assert ident.mime == "image/png" and ident.format_name == "Portable Network Graphics"
    assert "siegfried" in ident.event_detail()


def test_unknown_format(corpus, policy):
    path = corpus / "blob.qqq"
    path.write_bytes(bytes(range(256)) * 4)
    ident = PygfriedIdentifier().identify(path)
    assert ident.puid is None and not ident.error
    assert [i.code for i in policy.check(ident)] == ["FMT003"]


@pytest.fixture(scope="module")
def large(tmp_path_factory):
    """Files above a small windowing threshold: a padded PDF, a docx with a big stored part, a blob."""
    folder = tmp_path_factory.mktemp("large")
    pdf = minimal_pdf()
    first = pdf.index(b"\n") + 1
    (folder / "lon.pdf").write_bytes(pdf[:first] + b"%" + b"x" * 300_000 + b"\n" + pdf[first:])
    buf = io.BytesIO(docx_bytes())
    with zipfile.ZipFile(buf, "a", compression=zipfile.ZIP_STORED) as z:
        z.writestr("word/media/image1.bin", bytes(range(256)) * 1200)
    (folder / "lon.docx").write_bytes(buf.getvalue())
    (folder / "lon.qqq").write_bytes(bytes(range(256)) * 1200)
    return folder


def test_large_files_are_identified_from_their_ends(large, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the window copies go
    windowed = PygfriedIdentifier(window=4096, windowed_min=64 * 1024)
    names = [large / n for n in ("lon.pdf", "lon.docx", "lon.qqq", "khong-co.pdf")]
    got = windowed.identify_many(names)
    whole = PygfriedIdentifier().identify_many(names)
    assert [g.path for g in got] == [str(n) for n in names]
    assert [g.puid for g in got] == [w.puid for w in whole]
    pdf, docx, blob, missing = got
    assert pdf.puid and pdf.puid.startswith("fmt/") and "first and last 4096 bytes" in pdf.basis
    # ZIP container: the windows only say "ZIP", so the whole file is read and finds the docx
    assert docx.puid == "fmt/412" and "container" in docx.basis and "first and last" not in docx.basis
    assert blob.puid is None and "first and last" not in blob.basis  # nothing matched: read whole
    assert missing.error and not missing.known
    assert not list(tmp_path.glob("khoso-sf-*"))  # window copies removed


def test_make_identifier_rejects_unknown_name():
    with pytest.raises(ConfigError):
        make_identifier("droid")


# Policy


def ident(puid, name="X", mime="", basis="byte match", warning="") -> FormatIdentification:
    return FormatIdentification("f", puid, name, "", mime, basis, warning)


def test_policy_file_is_consistent():
    data = json.loads(DEFAULT_POLICY.read_text(encoding="utf-8"))
    assert data["notes"]
    assert {f["kind"] for f in data["formats"]} == {"DOC", "OTHER", "PIC", "MEDIA"}
    for f in data["formats"]:
        assert f["decision"] in ("accept", "warn")
        assert f["decision"] == "accept" or (f["reason"] and f["reason_en"]), f["name"]
        assert f["mime"] and f["extensions"]


@pytest.mark.parametrize("puid", ["fmt/95", "fmt/354", "fmt/476", "fmt/477", "fmt/478", "fmt/479",
                                  "fmt/480", "fmt/481"])
def test_pdfa_accepted(policy, puid):
    assert policy.check(ident(puid, "PDF/A"), "vb.pdf") == []
    assert policy.rule_for(puid).kind == "DOC"


@pytest.mark.parametrize("puid", ["fmt/17", "fmt/18", "fmt/19", "fmt/20", "fmt/276"])
def test_plain_pdf_warned(policy, puid):
    (issue,) = policy.check(ident(puid, "PDF"), "vb.pdf")
    assert issue.code == "FMT005" and issue.severity.value == "warning"
    assert "PDF/A hai lớp" in issue.message("vi") and "PDF/A" in issue.message("en")


def test_not_allowed_format(policy):
    (issue,) = policy.check(ident("x-fmt/263", "ZIP Format"), "a.zip")
    assert issue.code == "FMT004" and issue.severity.value == "error"
    assert "x-fmt/263" in issue.message("vi")


def test_extension_and_mime_mismatch_warn(policy):
    issues = policy.check(ident("fmt/11", "PNG"), "anh.jpg", declared_mime="image/jpeg")
    assert [i.code for i in issues] == ["FMT006", "FMT007"]
    assert policy.check(ident("fmt/11", "PNG"), "ANH.PNG", declared_mime="image/png; q=1") == []


def test_extension_only_match_warns(policy):
    issues = policy.check(ident("x-fmt/18", "CSV", basis="extension match csv",
                                warning="match on extension only"), "bang.csv")
    assert [i.code for i in issues] == ["FMT008"]


def test_policy_rejects_duplicates_and_bad_decisions(tmp_path):
    bad = {"formats": [{"kind": "DOC", "name": "a", "decision": "accept", "puids": ["fmt/1"]},
                       {"kind": "DOC", "name": "b", "decision": "accept", "puids": ["fmt/1"]}]}
    (tmp_path / "p.json").write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="twice"):
        FormatPolicy.load(tmp_path / "p.json")
    bad["formats"] = [{"kind": "DOC", "name": "a", "decision": "maybe", "puids": ["fmt/1"]}]
    (tmp_path / "p.json").write_text(json.dumps(bad))
    with pytest.raises(ValueError, match="decision"):
        FormatPolicy.load(tmp_path / "p.json")


def test_fake_identifier(tmp_path, policy):
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    (tmp_path / "e.txt").write_bytes(b"")
    fake = FakeIdentifier()
    a, e, m = fake.identify_many([tmp_path / "a.pdf", tmp_path / "e.txt", tmp_path / "m.png"])
    assert a.puid == "fmt/477" and policy.check(a) == []
    assert e.empty and m.error


def test_fido_is_selectable():
    pytest.importorskip("fido", reason="opf-fido not installed")
    assert isinstance(make_identifier("fido"), FidoIdentifier)

"""ZIPs as Windows tools make them, end to end on the real catalog, clamd and replicas.

Tools without UTF-8 support write every folder as an entry of its own marked by the MS-DOS
directory attribute alone (no "/"), and names in the machine's code page (Vietnamese Windows:
cp1258, what it cannot write as "?") with the real name in the Info-ZIP Unicode Path extra field.
Such a SIP is read as it was meant; what cannot be read without losing bytes is refused.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

from ingest.sip_build import build_sip
from tests.support.hostile import reject_case, with_extras
from tests.support.khoso import Khoso
from tests.support.pki import minimal_pdf
from tests.support.sheets import HOSO, write_csv
from tests.support.sips import FOND, ORGAN, document_rows, make_sip, png
from tests.support.winzip import explorer_zip

DOS_DIRECTORY, DOS_ARCHIVE = 0x10, 0x20


def _entry(name: str, attr: int, header: bytes) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system, info.external_attr = 0, attr  # MS-DOS / NTFS
    if header != name.encode():
        body = b"\x01" + zlib.crc32(header).to_bytes(4, "little") + name.encode()
        info.extra = (0x7075).to_bytes(2, "little") + len(body).to_bytes(2, "little") + body
    return info


def windows_zip(bag: Path, dest: Path, extra: list[tuple[zipfile.ZipInfo, bytes]] = (), *,
                backslash: bool = False) -> Path:
    """``bag`` under a top folder as such a tool writes it (placeholders of the header's length
    are written first, then patched to the code-page bytes zipfile would not write); with
    ``backslash``, folders are separated by '\\' as .NET Framework before 4.6.1 wrote them."""
    members = [(p, f"bag/{p.relative_to(bag).as_posix()}") for p in sorted(bag.rglob("*"))]
    patches: list[tuple[bytes, bytes]] = []
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for index, (path, name) in enumerate([(bag, "bag"), *members]):
            name = name.replace("/", "\\") if backslash else name
            header = name.encode("cp1258", "replace")
            placeholder = name if name.isascii() else f"{index:06d}".ljust(len(header), "@")
            if placeholder != name:
                patches.append((placeholder.encode(), header))
            info = _entry(name, DOS_DIRECTORY if path.is_dir() else DOS_ARCHIVE, header)
            info.filename = info.orig_filename = placeholder
            zf.writestr(info, b"" if path.is_dir() else path.read_bytes())
        for info, data in extra:
            zf.writestr(info, data)
    data = buf.getvalue()
    for placeholder, header in patches:
        assert data.count(placeholder) == 2  # local header and central directory
        data = data.replace(placeholder, header)
    dest.write_bytes(data)
    return dest


def vietnamese_sip(folder: Path) -> Path:
    """A SIP whose documents have Vietnamese names (NFC), as an agency names them."""
    src = folder / "src"
    src.mkdir(parents=True)
    rows = document_rows(2)
    for row, name in zip(rows, ["Công văn số 12 về việc điều chỉnh.pdf", "Ảnh hiện trường.png"],
                         strict=True):
        row["file"] = name
        (src / name).write_bytes(minimal_pdf(name) if name.endswith(".pdf") else png())
    sheet = write_csv(folder / "sheet.csv", [dict(HOSO, totalDoc="2"), *rows])
    return build_sip(src, sheet, folder / "bag", organ_id=ORGAN,
                     agency_name="UBND huyện Nghi Lộc", fond_code=FOND)


def _stored(khoso: Khoso) -> set[str]:
    return {p.name for p in khoso.replica("replica1").rglob("*") if p.is_file()}


def test_a_windows_zip_with_code_page_names_and_bare_folder_entries_is_accepted(khoso: Khoso):
    bag = vietnamese_sip(khoso.tmp / "win")
    names = {p.name for p in bag.rglob("*") if not p.name.isascii()}
    assert names, "the SIP must hold Vietnamese names for this test to mean anything"
    archive = windows_zip(bag, khoso.tmp / "win.zip")
    with zipfile.ZipFile(archive) as zf:  # what the tool wrote: no "/", no UTF-8 flag
        assert not any(i.filename.endswith("/") or i.flag_bits & 0x800 for i in zf.infolist())
        assert any("?" in i.filename for i in zf.infolist())
    outcome = khoso.ingest(archive)
    assert outcome.accepted, outcome.report.to_dict()
    assert "PKG201" in outcome.report.codes()
    assert names <= _stored(khoso)


def test_a_zip_folder_entry_holding_data_is_refused(khoso: Khoso):
    bag = make_sip(khoso.tmp / "hidden")
    archive = windows_zip(bag, khoso.tmp / "hidden.zip",
                          [(_entry("bag/data/documentation", DOS_DIRECTORY,
                                   b"bag/data/documentation"), b"bytes a folder cannot hold")])
    outcome = reject_case(khoso, archive, {"PKG202"}, "unpack_safely")
    assert [i.path for i in outcome.report if i.code == "PKG202"] == ["bag/data/documentation"]


def test_a_name_with_a_bidi_override_is_kept_exactly_and_warned(khoso: Khoso):
    spoofed = "Biên bản \u202efdp.exe"  # shown as "Biên bản exe.pdf"
    bag = with_extras(make_sip(khoso.tmp / "bidi"), {f"documentation/{spoofed}": b"MZ"})
    outcome = khoso.ingest(windows_zip(bag, khoso.tmp / "bidi.zip"))
    assert outcome.accepted, outcome.report.to_dict()
    warned = [i for i in outcome.report if i.code == "PKG203"]
    assert [i.params["chars"] for i in warned] == ["U+202E"]
    assert "\\u202efdp.exe" in warned[0].message("vi") and "\u202e" not in warned[0].message("vi")
    assert spoofed in _stored(khoso)


def test_a_zip_from_old_dotnet_with_backslash_separators_is_accepted(khoso: Khoso):
    bag = vietnamese_sip(khoso.tmp / "dotnet")
    archive = windows_zip(bag, khoso.tmp / "dotnet.zip", backslash=True)
    with zipfile.ZipFile(archive) as zf:
        assert all("/" not in i.filename for i in zf.infolist())
    outcome = khoso.ingest(archive)
    assert outcome.accepted, outcome.report.to_dict()
    assert {"PKG201", "PKG204"} <= outcome.report.codes()
    assert {p.name for p in bag.rglob("*") if p.is_file() and p.suffix == ".pdf"} <= _stored(khoso)


def test_a_vietnamese_windows_explorer_zip_is_accepted(khoso: Khoso):
    """Explorer on a Vietnamese system writes names in cp1258, with no UTF-8 flag and no
    Unicode Path field: read in that code page because the bag's manifest confirms every name."""
    bag = vietnamese_sip(khoso.tmp / "explorer")
    archive = khoso.tmp / "explorer.zip"
    archive.write_bytes(explorer_zip(bag))
    outcome = khoso.ingest(archive)
    assert outcome.accepted, outcome.report.to_dict()
    assert "PKG205" in outcome.report.codes()
    assert {p.name for p in bag.rglob("*") if p.is_file() and p.suffix == ".pdf"} <= _stored(khoso)

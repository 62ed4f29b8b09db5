"""Builders for test archives and bags, made at test time (no binary fixtures in the repository)."""

from __future__ import annotations

import io
import os
import stat
import tarfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

import bagit

from ingest.unpack import UnpackResult
from profiles import load_profile

SIP_ID = load_profile("sip-tt05")["BagIt-Profile-Info"]["BagIt-Profile-Identifier"]
SIP_INFO = {
    "BagIt-Profile-Identifier": SIP_ID,
    "Source-Organization": "Bộ Nội vụ",
    "Ma-Dinh-Danh-Co-Quan": "000.00.00.G09",
    "Package-Type": "SIP_hoso",
    "External-Identifier": "uuid-7D0D1987-0F1C-47A7-8FD6-CC5C7DE4064F",
}
SIP_FILES = {
    "METS.xml": b"<mets/>",
    "metadata/descriptive/EAD.xml": b"<ead/>",
    "representations/rep1/data/Hồ sơ.pdf": b"%PDF-1.4 test",
}


def make_bag(root: Path, files: dict[str, bytes], *, algs: Iterable[str] = ("sha256",),
             info: dict[str, str] | None = None) -> Path:
    """A real bag made by bagit-python (``files`` are payload paths relative to data/)."""
    for rel, data in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    bagit.make_bag(str(root), dict(info or {}), checksums=list(algs))
    return root


def make_sip(root: Path, **info: str) -> Path:
    return make_bag(root, SIP_FILES, info={**SIP_INFO, **info})


def zip_bytes(members: Iterable[tuple[str | zipfile.ZipInfo, bytes]], *,
              compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def zip_symlink(name: str, target: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def tar_bytes(members: Iterable[tarfile.TarInfo | tuple[str, bytes]], *, gz: bool = False) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w", format=tarfile.GNU_FORMAT,
                      encoding="utf-8", errors="surrogateescape") as tf:
        for m in members:
            if isinstance(m, tarfile.TarInfo):
                tf.addfile(m)
            else:
                info = tarfile.TarInfo(m[0])
                info.size = len(m[1])
                tf.addfile(info, io.BytesIO(m[1]))
    return buf.getvalue()


def tar_special(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info


def patch_all(data: bytes, old: bytes, new: bytes) -> bytes:
    assert len(old) == len(new) and old in data
    return data.replace(old, new)


def snapshot(root: Path) -> dict[str, int]:
    """Every path under ``root`` with its size, to prove nothing was written or left behind."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            out[str(full.relative_to(root))] = full.lstat().st_size if full.is_file() else -1
    return out


def assert_refused(result: UnpackResult, codes: set[str], before: dict[str, int], tmp: Path,
                   dest: Path) -> None:
    assert result.report.codes() == codes, [i.to_dict() for i in result.report]
    assert not result.ok and result.root is None and result.files == ()
    assert not dest.exists()
    assert snapshot(tmp) == before


def gnu_sparse_member(name: str, real_size: int, data: bytes = b"x" * 512) -> bytes:
    """A GNU sparse member (type 'S', old GNU header) that stores only ``data`` at the end of a
    ``real_size``-byte file: tarfile extracts the holes as zeros, so a few hundred bytes in the
    archive become ``real_size`` bytes on disk. ``tarfile`` cannot write one, so the header is
    made by hand (GNU tar's layout: sparse map at 386, isextended at 482, realsize at 483)."""
    def octal(value: int, width: int) -> bytes:
        return b"%0*o\0" % (width - 1, value)

    header = bytearray(512)
    header[0:len(name.encode())] = name.encode()
    header[100:108] = octal(0o644, 8)
    header[108:116] = octal(0, 8)
    header[116:124] = octal(0, 8)
    header[124:136] = octal(len(data), 12)  # bytes stored in the archive
    header[136:148] = octal(0, 12)
    header[156:157] = b"S"
    header[257:265] = b"ustar  \0"  # old GNU magic and version
    header[386:398] = octal(real_size - len(data), 12)  # one segment: the data, at the end
    header[398:410] = octal(len(data), 12)
    header[483:495] = octal(real_size, 12)
    header[148:156] = b" " * 8
    header[148:156] = b"%06o\0 " % sum(header)
    return bytes(header) + data + b"\0" * (-len(data) % 512)


def tar_with_raw(members: Iterable[tuple[str, bytes]], raw: bytes, *, gz: bool = False) -> bytes:
    """``tar_bytes(members)`` with ``raw`` header+data blocks added before the end marker."""
    import gzip

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name, content in members:
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tf.addfile(info, io.BytesIO(content))
        body = buf.getvalue()[:tf.offset]  # before the end-of-archive blocks
    data = body + raw + b"\0" * 1024
    data += b"\0" * (-len(data) % 10240)
    return gzip.compress(data) if gz else data

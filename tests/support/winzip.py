"""ZIPs as Windows tools write them, for the tests of what khoso reads liberally."""

from __future__ import annotations

import unicodedata
import zipfile
from pathlib import Path

from tests.support.bags import patch_all, zip_bytes


def zip_entry(name: str, attr: int, system: int = 0) -> zipfile.ZipInfo:
    """An entry as Windows tools write it: made on MS-DOS/NTFS (0), attributes in the low byte."""
    info = zipfile.ZipInfo(name)
    info.create_system, info.external_attr = system, attr
    return info


_TONES = "\u0300\u0301\u0303\u0309\u0323"  # the five Vietnamese tone marks


def cp1258(name: str) -> bytes:
    """``name`` as Windows writes it in code page 1258: a letter the page lacks precomposed is
    its base letter (with its vowel mark) then the tone mark as a combining character."""
    out = b""
    for ch in name:
        try:
            out += ch.encode("cp1258")
        except UnicodeEncodeError:
            marks = unicodedata.normalize("NFD", ch)
            base = unicodedata.normalize("NFC", "".join(c for c in marks if c not in _TONES))
            out += (base + "".join(c for c in marks if c in _TONES)).encode("cp1258")
    return out


def explorer_zip(bag: Path, top: str = "bag") -> bytes:
    """``bag`` as Windows Explorer on a Vietnamese system zips it: names in cp1258, no UTF-8
    flag, no Unicode Path field, made on MS-DOS/NTFS."""
    members, patches = [], []
    for index, path in enumerate(sorted(bag.rglob("*"))):
        name = f"{top}/{path.relative_to(bag).as_posix()}" + ("/" if path.is_dir() else "")
        raw = cp1258(name)
        placeholder = name if name.isascii() else f"{index:06d}".ljust(len(raw), "@")
        if placeholder != name:
            patches.append((placeholder.encode(), raw))
        members.append((zip_entry(placeholder, 0x10 if path.is_dir() else 0x20),
                        b"" if path.is_dir() else path.read_bytes()))
    data = zip_bytes(members)
    for placeholder, raw in patches:
        data = patch_all(data, placeholder, raw)
    return data

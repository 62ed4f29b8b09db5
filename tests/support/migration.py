"""Format migration as its tests drive it: an AIP ingested with chosen content, the
migration service called as a worker's job would, and the files of a stored version."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pikepdf
from PIL import Image

from access_api.services.base import Identity, ServiceContext, UserRole, build_storages
from tests.support.khoso import Khoso
from tests.support.pki import minimal_pdf
from tests.support.sips import make_sip

OFFICER = Identity("officer-1", frozenset({UserRole.PRESERVATION_OFFICER}))
PDF = "data/representations/rep1/data/tai-lieu-1.pdf"
PIC = "data/representations/rep1/data/tai-lieu-2.png"
PDFA = "data/representations/rep1/data/tai-lieu-1.pdfa-2b.pdf"
TIFF = "data/representations/rep1/data/tai-lieu-2.tiff.tif"


def context(khoso: Khoso) -> ServiceContext:
    return ServiceContext(khoso.settings, khoso.catalog, build_storages(khoso.settings))


def gif87a(tmp: Path) -> bytes:
    """A small GIF 87a (PRONOM fmt/3, which the policy warns about and migrates to TIFF)."""
    Image.new("RGB", (24, 12), (200, 30, 30)).save(tmp / "g.gif")
    data = (tmp / "g.gif").read_bytes()
    assert data[:6] == b"GIF87a"
    return data


def encrypted_pdf(tmp: Path) -> bytes:
    (tmp / "plain.pdf").write_bytes(minimal_pdf("Quyết định mật"))
    with pikepdf.open(tmp / "plain.pdf") as pdf:
        pdf.save(tmp / "enc.pdf", encryption=pikepdf.Encryption(user="mat-khau", owner="o"))
    return (tmp / "enc.pdf").read_bytes()


def ingest(khoso: Khoso, folder: str = "sip", file_code: str | None = None,
           **contents: bytes) -> tuple[str, Path]:
    """An AIP of two documents (tai-lieu-1.pdf, tai-lieu-2.png unless ``contents`` says else);
    returns its OBJID and its entity folder relative to a replica."""
    outcome = khoso.ingest(make_sip(khoso.tmp / folder, contents=contents or None,
                                    file_code=file_code))
    assert outcome.accepted, outcome.report
    (v1,) = [p for p in khoso.replica("replica1").glob("TTLTNA/*/*/v1")
             if outcome.objid.split(":")[-1] in (p / "data/METS.xml").read_text()]
    return outcome.objid, v1.parent.relative_to(khoso.replica("replica1"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()

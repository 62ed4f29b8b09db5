"""New AIP versions as the version tests make and inspect them: a metadata change through
``new_metadata_version`` with the replicas of a test's khoso, the files a version holds or
fetches, a re-audit of every copy."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from urllib.parse import unquote

from access_api.services import build_storages
from preservation.packaging.aip.new_version import new_metadata_version
from preservation.signing import load_signer
from storage.audit import run_audit
from storage.replication import replicate
from tests.support.khoso import Khoso
from tests.support.sips import make_sip

REPLICAS = ("replica1", "replica2")
EAD = "data/metadata/descriptive/EAD.xml"
DOC_EAD = "data/representations/rep1/metadata/descriptive/EAD_doc_tai-lieu-1.xml"
PIC_EAD = "data/representations/rep1/metadata/descriptive/EAD_pic_tai-lieu-2.xml"
TAGS = {"bagit.txt", "bag-info.txt", "manifest-sha256.txt", "fetch.txt",
        "tagmanifest-sha256.txt", "tagmanifest-sha256.txt.p7s"}
METS = {"data/METS.xml", "data/representations/rep1/METS.xml"}


def update(khoso: Khoso, objid: str, *, package_ead: bytes | None = None,
           document_eads: dict[str, bytes] | None = None, reason: str = "Sửa tiêu đề hồ sơ",
           replicate_with=replicate):
    storages = build_storages(khoso.settings)

    def read(key: str) -> bytes:
        with storages["replica1"].open(key) as f:
            return f.read()

    return new_metadata_version(
        khoso.settings, khoso.catalog, objid=objid, package_ead=package_ead,
        document_eads=document_eads or {}, reason=reason, actor="tester",
        replicate=lambda objects, progress=None: replicate_with(
            objects, list(storages.values()), progress=progress),
        signer=load_signer(Path(khoso.settings.keys_dir)), read=read)


def ingest(khoso: Khoso) -> tuple[str, Path]:
    outcome = khoso.ingest(make_sip(khoso.tmp / "sip"))
    assert outcome.accepted, outcome.report
    (v1,) = khoso.replica("replica1").glob("TTLTNA/*/*/v1")
    return outcome.objid, v1.parent.relative_to(khoso.replica("replica1"))


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for p in sorted(root.rglob("*")) if p.is_file()}


def retitle(ead: bytes, title: str) -> bytes:
    return re.sub(rb"<title>[^<]*</title>", f"<title>{title}</title>".encode(), ead)


def logical(version_dir: Path) -> dict[str, Path]:
    """Every manifest entry of a (holey) bag resolved to the file that holds it, checked."""
    manifest = dict(reversed(line.split("  ", 1)) for line in
                    (version_dir / "manifest-sha256.txt").read_text().splitlines())
    fetched = {}
    for line in (version_dir / "fetch.txt").read_text().splitlines():
        url, size, path = line.split(" ", 2)
        fetched[path] = (version_dir / unquote(url)).resolve()
        assert fetched[path].stat().st_size == int(size)
    out = {}
    for path, digest in manifest.items():
        here = version_dir / path
        assert here.is_file() != (path in fetched), path  # held here xor fetched
        out[path] = here if here.is_file() else fetched[path]
        assert hashlib.sha256(out[path].read_bytes()).hexdigest() == digest, path
    return out


def audit_all(khoso: Khoso, copies: int) -> None:
    report = run_audit(khoso.catalog, build_storages(khoso.settings), due_only=False)
    assert (report.copies_checked, report.ok, report.bad) == (copies, copies, 0), report.problems
    assert (report.foreign_files, report.history_unrestored) == (0, 0), report.problems

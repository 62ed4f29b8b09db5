"""Hostile submissions made from a valid bag: bag surgery that keeps everything else
consistent (manifests, Payload-Oxum, tag manifests, the root METS's entry for the rep1 METS),
archives built by hand with ``zipfile``/``tarfile`` (members ordinary tools refuse to write),
the common verdict of a rejection (nothing stored, nothing registered but the rejected-SIP
record, report.json in quarantine, the next SIP still ingests), and documentation and other
metadata added beside the content."""

from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
import time
import uuid
import zipfile
from collections.abc import Iterable
from pathlib import Path

import sqlalchemy as sa

from preservation.catalog.models import Bitstream, Document, Package, RecordFile, StoredCopy
from tests.support.khoso import Khoso
from tests.support.pki import minimal_pdf
from tests.support.sips import make_sip

REP1 = "data/representations/rep1"
REP1_METS = f"{REP1}/METS.xml"
PDF = f"{REP1}/data/tai-lieu-1.pdf"
PNG = f"{REP1}/data/tai-lieu-2.png"
HO_SO = "Hồ sơ.pdf"


# --- bag surgery ----------------------------------------------------------------------------

def digest_of(path: Path, algorithm: str) -> str:
    return hashlib.new(algorithm, path.read_bytes()).hexdigest()


def files_of(bag: Path, *, payload: bool) -> list[str]:
    rels = sorted(p.relative_to(bag).as_posix() for p in bag.rglob("*") if p.is_file())
    return [r for r in rels if r.startswith("data/") == payload]


def algorithms_of(bag: Path, prefix: str) -> list[str]:
    return [m[1] for p in sorted(bag.iterdir())
            if (m := re.fullmatch(rf"{prefix}-(\w+)\.txt", p.name))]


def write_payload_manifests(bag: Path) -> None:
    """Rewrite every ``manifest-<alg>.txt`` from the payload as it now is."""
    for alg in algorithms_of(bag, "manifest"):
        lines = [f"{digest_of(bag / rel, alg)}  {rel}\n" for rel in files_of(bag, payload=True)]
        (bag / f"manifest-{alg}.txt").write_text("".join(lines), encoding="utf-8")


def set_oxum(bag: Path, value: str | None = None) -> None:
    """Set Payload-Oxum to ``value``, or to the true ``bytes.count`` of data/."""
    if value is None:
        payload = [bag / rel for rel in files_of(bag, payload=True)]
        value = f"{sum(p.stat().st_size for p in payload)}.{len(payload)}"
    info = bag / "bag-info.txt"
    text = re.sub(r"(?m)^Payload-Oxum: .*$", f"Payload-Oxum: {value}",
                  info.read_text(encoding="utf-8"))
    info.write_text(text, encoding="utf-8")


def retag(bag: Path) -> None:
    """Rewrite every ``tagmanifest-<alg>.txt`` so the tag files (edited or added) verify."""
    for alg in algorithms_of(bag, "tagmanifest"):
        tags = [r for r in files_of(bag, payload=False) if not r.startswith("tagmanifest-")]
        lines = [f"{digest_of(bag / rel, alg)}  {rel}\n" for rel in tags]
        (bag / f"tagmanifest-{alg}.txt").write_text("".join(lines), encoding="utf-8")


def remanifest(bag: Path) -> Path:
    """Make the bag valid again after its payload was edited: manifests, Oxum, tag manifests."""
    write_payload_manifests(bag)
    set_oxum(bag)
    retag(bag)
    return bag


def edit_rep1_mets(bag: Path, edit) -> Path:
    """Apply ``edit`` (str -> str) to the rep1 METS, then make everything around it agree again
    (the root METS's SIZE/CHECKSUM of the rep1 METS, the bag manifests): only the METS is hostile."""
    mets = bag / REP1_METS
    before = mets.read_text(encoding="utf-8")
    old_size, old_sha = mets.stat().st_size, digest_of(mets, "sha256").upper()
    after = edit(before)
    assert after != before, "the edit changed nothing"
    mets.write_text(after, encoding="utf-8")
    new_size, new_sha = mets.stat().st_size, digest_of(mets, "sha256").upper()

    def refresh(entry: re.Match) -> str:
        return (entry[0].replace(f'SIZE="{old_size}"', f'SIZE="{new_size}"')
                .replace(f'CHECKSUM="{old_sha}"', f'CHECKSUM="{new_sha}"'))

    root = bag / "data" / "METS.xml"
    text, count = re.subn(rf'<file [^>]*CHECKSUM="{old_sha}"[^>]*>', refresh,
                          root.read_text(encoding="utf-8"))
    assert count == 1, "the root METS should list the rep1 METS once"
    root.write_text(text, encoding="utf-8")
    return remanifest(bag)


def with_doctype(doctype: str, reference: str):
    """An edit that puts ``doctype`` after the XML declaration and ``reference`` in a text node."""
    def edit(text: str) -> str:
        decl, rest = text.split("?>", 1)
        rest = rest.replace("<note csip:NOTETYPE=\"IDENTIFICATIONCODE\">P623</note>",
                            f"<note csip:NOTETYPE=\"IDENTIFICATIONCODE\">P623{reference}</note>")
        return f"{decl}?>\n{doctype}\n{rest.lstrip()}"
    return edit


# --- serialisation ------------------------------------------------------------------------

def bag_members(bag: Path) -> Iterable[tuple[str, Path]]:
    for path in sorted(bag.rglob("*")):
        if path.is_file():
            yield f"bag/{path.relative_to(bag).as_posix()}", path


def zip_bag(bag: Path, dest: Path, extra: Iterable[tuple[str | zipfile.ZipInfo, bytes]] = ()) -> Path:
    """The bag under a top folder ``bag/``, plus hand-made ``extra`` members (name, bytes)."""
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, path in bag_members(bag):
            zf.write(path, name)
        for name, data in extra:
            zf.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)
    return dest


def tar_bag(bag: Path, dest: Path, extra: Iterable[tuple[tarfile.TarInfo, bytes | None]] = (),
            *, fmt: int = tarfile.PAX_FORMAT, mode: str = "w") -> Path:
    """The bag under ``bag/`` plus hand-made ``extra`` members; names may hold raw bytes
    (surrogate escapes) since the archive is written with ``errors="surrogateescape"``."""
    with tarfile.open(dest, mode, format=fmt, encoding="utf-8",
                      errors="surrogateescape") as tf:
        for name, path in bag_members(bag):
            tf.add(path, arcname=name)
        for info, data in extra:
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return dest


def tar_file(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
    return info, data


def tar_link(name: str, target: str, kind: bytes) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, target, 0o777
    return info, None


# --- the common verdict -----------------------------------------------------------------------

def files_in(folder: Path) -> list[str]:
    """AIP objects in a replica folder; catalog sidecars (``_fonds.json``, ``_events/``…) aside."""
    paths = (p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    return sorted(rel for rel in paths if not any(s.startswith("_") for s in rel.split("/")))


def assert_rejected(khoso: Khoso, outcome, codes: set[str], step: str) -> None:
    """(a) rejected with ``codes`` at ``step``; (b) no replica holds anything; (c) the catalog
    holds only the rejected-SIP record; (d) quarantine holds report.json with the codes."""
    found = outcome.report.codes()
    assert not outcome.accepted, outcome.report.to_dict()
    assert codes <= found, f"expected {sorted(codes)}, got {sorted(found)}"
    assert outcome.failed_step == step, (outcome.failed_step, sorted(found))
    assert files_in(khoso.replica("replica1")) == [] == files_in(khoso.replica("replica2"))
    with khoso.catalog.session() as s:
        packages = [(p.kind, p.status) for p in s.scalars(sa.select(Package))]
        assert packages == [("SIP", "rejected")]
        for model in (RecordFile, Document, Bitstream, StoredCopy):
            assert s.scalar(sa.select(sa.func.count()).select_from(model)) == 0, model.__name__
    report = outcome.quarantine / "report.json"
    assert report.is_file()
    saved = json.loads(report.read_text(encoding="utf-8"))
    assert codes <= {i["code"] for i in saved["issues"]}


def assert_still_ingests(khoso: Khoso) -> None:
    """(e) the next, valid SIP is accepted by the same service."""
    outcome = khoso.ingest(make_sip(khoso.tmp / f"after-{uuid.uuid4().hex[:8]}"))
    assert outcome.accepted, outcome.report.to_dict()
    assert files_in(khoso.replica("replica1"))


def reject_case(khoso: Khoso, source: Path, codes: set[str], step: str):
    outcome = khoso.ingest(source)
    assert_rejected(khoso, outcome, codes, step)
    assert_still_ingests(khoso)
    return outcome


# --- payload beside the content ------------------------------------------------------------

SIP_REP1 = "representations/rep1/"  # SIP-relative
# SIP path -> bytes; each is kept at the same place in the AIP
EXTRAS = {
    "documentation/Hướng dẫn sử dụng.pdf": minimal_pdf("Hướng dẫn"),
    "documentation/empty.txt": b"",  # 0 bytes: kept, never dropped
    "metadata/other/danh-muc.csv": "Số;Tên\n1;Quyết định\n".encode(),
    f"{SIP_REP1}documentation/ghi-chu.txt": b"Ghi chu cua bieu dien rep1\n",
    f"{SIP_REP1}metadata/other/ky-thuat.xml": b"<?xml version='1.0'?><kt>scan 300dpi</kt>\n",
}


def with_extras(bag: Path, extras: dict[str, bytes]) -> Path:
    for rel, data in extras.items():
        path = bag / "data" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return remanifest(bag)

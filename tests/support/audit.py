"""Fake AIPs for the fixity audit: only what the audit looks at, catalog rows (Package, one
Bitstream per bag file, one StoredCopy per location) and the objects written with ``put`` under
each copy's key prefix."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from dataclasses import dataclass

import sqlalchemy as sa

from preservation.catalog.db import Catalog
from preservation.catalog.models import Bitstream, Package, StoredCopy
from storage.protocol import Storage

LONG_AGO = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def bag_files(objid: str, payload: int = 300_000) -> dict[str, bytes]:
    """The objects of one small AIP bag, tag files included (every one is a Bitstream)."""
    pdf = bytes((i * 7 + len(objid)) % 251 for i in range(payload))
    files = {
        "bagit.txt": b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
        "bag-info.txt": f"External-Identifier: {objid}\n".encode(),
        "data/METS.xml": f'<mets OBJID="{objid}"/>'.encode(),
        "data/metadata/preservation/PREMIS.xml": b"<premis/>" * 50,
        "data/representations/rep1/data/van-ban.pdf": pdf,
    }
    files["manifest-sha256.txt"] = "".join(
        f"{sha(v)}  {k}\n" for k, v in files.items() if k.startswith("data/")).encode()
    files["tagmanifest-sha256.txt"] = "".join(
        f"{sha(v)}  {k}\n" for k, v in files.items() if not k.startswith("data/")).encode()
    return files


@dataclass
class Aip:
    package_id: int
    objid: str
    prefix: str
    files: dict[str, bytes]

    def key(self, path: str) -> str:
        return f"{self.prefix}/{path}"


def make_aip(catalog: Catalog, storages: dict[str, Storage], objid: str, *,
             last_check_at: dt.datetime | None = LONG_AGO, payload: int = 300_000) -> Aip:
    """Write the objects to every location and register the package, as ingest would."""
    files = bag_files(objid, payload)
    prefix = f"KHOSO/P623/{objid}/v1"
    for storage in storages.values():
        for path, data in files.items():
            storage.put(f"{prefix}/{path}", io.BytesIO(data), expected_sha256=sha(data), size=len(data))
    with catalog.session() as s:
        pkg = Package(objid=objid, kind="AIP", status="active", version=1, label=objid,
                      total_size=sum(map(len, files.values())), file_count=len(files))
        s.add(pkg)
        s.flush()
        s.execute(sa.insert(Bitstream), [{"package_id": pkg.id, "path": p, "size": len(d), "sha256": sha(d)}
                                         for p, d in files.items()])
        for name in storages:
            s.add(StoredCopy(package_id=pkg.id, location=name, key=prefix,
                             sha256=sha(files["tagmanifest-sha256.txt"]), size=pkg.total_size,
                             last_check_at=last_check_at, last_check_result="ok",
                             last_check_detail="verified when written"))
        package_id = pkg.id
    return Aip(package_id, objid, prefix, files)


def copies(catalog: Catalog, package_id: int) -> dict[str, StoredCopy]:
    with catalog.session() as s:
        return {c.location: c for c in s.scalars(sa.select(StoredCopy).where(
            StoredCopy.package_id == package_id))}

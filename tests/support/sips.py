"""Valid SIP bags with real PDF and PNG content, built from a metadata sheet as an agency
would (``ingest.sip_build``), and big PDFs that are slow to scan."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

from ingest.sip_build import build_sip
from tests.support.pki import minimal_pdf
from tests.support.sheets import FILE_CODE, HOSO, write_csv

FOND = "P623"
ORGAN = "H49.64.33"


def png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                             0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def document_rows(count: int = 2, file_code: str = FILE_CODE) -> list[dict[str, str]]:
    rows = []
    for i in range(1, count + 1):
        pdf = i % 2 == 1
        row = {"kind": "doc" if pdf else "pic", "file": f"tai-lieu-{i}.{'pdf' if pdf else 'png'}",
               "docCode": f"{file_code}.{i:07d}", "maintenance": "01", "mode": "01",
               "riskRecovery": "0"}
        if pdf:
            row.update({"docId": f"{file_code}.{i}", "typeName": "02", "codeNumber": str(i),
                        "codeNotation": "QĐ-UBND", "issuedDate": "15/03/2001",
                        "organName": "UBND huyện Nghi Lộc", "subject": f"Quyết định số {i}",
                        "language": "01", "numberOfPage": "1"})
        else:
            row.update({"typePic": "02", "imageTitle": f"Ảnh buổi lễ {i}"})
        rows.append(row)
    return rows


def make_sip(folder: Path, *, count: int = 2, contents: dict[str, bytes] | None = None,
             hoso: dict[str, str] | None = None, file_code: str | None = None) -> Path:
    """A valid SIP_hoso bag with ``count`` documents (PDF and PNG alternating); ``file_code``
    gives the hồ sơ a code of its own (codes are unique in a catalog)."""
    if file_code is not None:
        hoso = {**(hoso or {}), "fileCode": file_code}
    src = folder / "src"
    src.mkdir(parents=True)
    rows = document_rows(count, (hoso or {}).get("fileCode", FILE_CODE))
    for row in rows:
        name = row["file"]
        data = (contents or {}).get(name)
        if data is None:
            data = minimal_pdf(row.get("subject", name)) if name.endswith(".pdf") else png()
        (src / name).write_bytes(data)
    if hoso:  # document rows carry the file's retention too
        rows = [dict(r, **{k: v for k, v in hoso.items() if k in ("maintenance",)}) for r in rows]
    sheet = write_csv(folder / "sheet.csv", [dict(HOSO, totalDoc=str(count), **(hoso or {})),
                                             *rows])
    return build_sip(src, sheet, folder / "bag", organ_id=ORGAN, agency_name="UBND huyện Nghi Lộc",
                     fond_code=FOND)


def big_pdf(size: int) -> bytes:
    """A well-formed PDF whose one stream holds ``size`` random bytes (slow to scan, PRONOM PDF)."""
    import os

    body = os.urandom(size)
    parts = [b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"]
    offsets = []
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
               b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream"]
    for number, obj in enumerate(objects, 1):
        offsets.append(sum(map(len, parts)))
        parts.append(b"%d 0 obj\n" % number + obj + b"\nendobj\n")
    xref = sum(map(len, parts))
    parts.append(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    parts += [b"%010d 00000 n \n" % o for o in offsets]
    parts.append(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
                 % (len(objects) + 1, xref))
    return b"".join(parts)
